//! The Status List itself (Token Status List draft, section 4): a ZLIB/DEFLATE-compressed byte
//! array holding `bits` (1, 2, 4 or 8) per token. The status of index `i` is the `bits` bits at
//! bit offset `(i * bits) % 8` of byte `(i * bits) / 8`, counted from the least significant bit.

use crate::error::Limit;
use crate::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::io::Read;

/// Status Type values (draft section 7.1).
pub const VALID: u8 = 0x00;
pub const INVALID: u8 = 0x01;
pub const SUSPENDED: u8 = 0x02;

/// A decompressed status list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

impl StatusList {
    /// Decodes the `lst` member (base64url of the compressed bytes) of a list with `bits` per
    /// token. Decompression stops at `max_len` bytes: a list inflating past it is refused (a
    /// few kilobytes of zeros can inflate to gigabytes).
    ///
    /// ```
    /// use tessera_verifier::StatusList;
    /// // The draft's 1-bit example: statuses 1,0,0,1,1,1,0,1, 1,1,0,0,0,1,0,1 (0xB9 0xA3).
    /// let list = StatusList::decode(1, "eNrbuRgAAhcBXQ", 1 << 20)?;
    /// assert_eq!(list.get(0), Some(1));
    /// assert_eq!(list.get(1), Some(0));
    /// assert_eq!(list.get(15), Some(1));
    /// assert_eq!(list.get(16), None);
    /// # Ok::<(), tessera_verifier::Error>(())
    /// ```
    pub fn decode(bits: u8, lst: &str, max_len: usize) -> Result<Self, Error> {
        if !matches!(bits, 1 | 2 | 4 | 8) {
            return Err(Error::Malformed(
                "a status list has 1, 2, 4 or 8 bits per token",
            ));
        }
        let compressed = URL_SAFE_NO_PAD
            .decode(lst)
            .map_err(|_| Error::Malformed("the status list is not base64url"))?;
        let mut bytes = Vec::new();
        flate2::read::ZlibDecoder::new(compressed.as_slice())
            .take(max_len as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| Error::Malformed("the status list is not ZLIB data"))?;
        if bytes.len() > max_len {
            return Err(Error::TooLarge(Limit::StatusList));
        }
        Ok(Self { bits, bytes })
    }

    /// Builds a list from its uncompressed bytes.
    pub fn from_bytes(bits: u8, bytes: Vec<u8>) -> Result<Self, Error> {
        if !matches!(bits, 1 | 2 | 4 | 8) {
            return Err(Error::Malformed(
                "a status list has 1, 2, 4 or 8 bits per token",
            ));
        }
        Ok(Self { bits, bytes })
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// How many tokens the list holds statuses for.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8 / u64::from(self.bits)
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The status of token `index`, `None` past the end of the list.
    pub fn get(&self, index: u64) -> Option<u8> {
        let bits = u64::from(self.bits);
        let position = index.checked_mul(bits)?;
        let byte = *self.bytes.get(usize::try_from(position / 8).ok()?)?;
        let shift = (position % 8) as u8;
        let mask = if self.bits == 8 {
            0xFF
        } else {
            (1u8 << self.bits) - 1
        };
        Some((byte >> shift) & mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_bit_lists_read_as_the_draft_example() {
        // Draft section 10.1: 12 statuses 1,2,0,3, 0,1,0,1, 1,2,3,3 in bytes 0xC9 0x44 0xF9.
        let list = StatusList::from_bytes(2, vec![0xC9, 0x44, 0xF9]).unwrap();
        let statuses: Vec<u8> = (0..12).map(|i| list.get(i).unwrap()).collect();
        assert_eq!(statuses, [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]);
        assert_eq!(list.len(), 12);
        assert_eq!(list.get(12), None);
    }

    #[test]
    fn four_and_eight_bit_lists_read_whole_nibbles_and_bytes() {
        let list = StatusList::from_bytes(4, vec![0x21, 0xF0]).unwrap();
        assert_eq!(
            (list.get(0), list.get(1), list.get(2), list.get(3)),
            (Some(1), Some(2), Some(0), Some(15))
        );
        let list = StatusList::from_bytes(8, vec![0, 1, 2, 0xFE]).unwrap();
        assert_eq!(list.get(3), Some(0xFE));
        assert_eq!(list.get(u64::MAX), None);
    }

    #[test]
    fn bad_lists_are_refused() {
        assert!(StatusList::decode(3, "eNrbuRgAAhcBXQ", 100).is_err());
        assert!(StatusList::decode(1, "not base64!", 100).is_err());
        assert!(StatusList::decode(1, "AAAA", 100).is_err());
        assert_eq!(
            StatusList::decode(1, "eNrbuRgAAhcBXQ", 1),
            Err(Error::TooLarge(Limit::StatusList))
        );
    }
}
