//! Content encryption (RFC 7518 5): A256GCM both ways, A128CBC-HS256 for opening only (clients
//! may encrypt their assertions with it; nothing Tessera encrypts uses it).

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::cipher::{DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey, AES_128};
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::{constant_time, hmac, iv::FixedLength, rand};

/// The content encryption algorithms (JWE `enc`) this crate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentEncryption {
    /// AES-256 in GCM (RFC 7518 5.3).
    A256Gcm,
    /// AES-128-CBC with HMAC-SHA-256, the tag truncated to 128 bits (RFC 7518 5.2.3).
    A128CbcHs256,
}

/// Every content encryption key here is 256 bits (A128CBC-HS256: MAC key then AES key).
pub(crate) const CEK_LEN: usize = 32;
const GCM_IV_LEN: usize = 12;
const CBC_IV_LEN: usize = 16;
const TAG_LEN: usize = 16;

impl ContentEncryption {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentEncryption::A256Gcm => "A256GCM",
            ContentEncryption::A128CbcHs256 => "A128CBC-HS256",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [ContentEncryption::A256Gcm, ContentEncryption::A128CbcHs256]
            .into_iter()
            .find(|enc| enc.as_str() == name)
    }

    fn iv_len(self) -> usize {
        match self {
            ContentEncryption::A256Gcm => GCM_IV_LEN,
            ContentEncryption::A128CbcHs256 => CBC_IV_LEN,
        }
    }

    /// Authenticates and decrypts. `aad` is the encoded protected header; the lengths of the
    /// IV and the tag are checked before any key is used.
    pub(crate) fn open(
        self,
        cek: &[u8],
        aad: &[u8],
        iv: &[u8],
        mut ciphertext: Vec<u8>,
        tag: &[u8],
    ) -> Result<Vec<u8>, Unspecified> {
        if cek.len() != CEK_LEN || iv.len() != self.iv_len() || tag.len() != TAG_LEN {
            return Err(Unspecified);
        }
        match self {
            ContentEncryption::A256Gcm => {
                let key = gcm_key(cek)?;
                let nonce = Nonce::try_assume_unique_for_key(iv)?;
                let len = key
                    .open_in_place_separate_tag(nonce, Aad::from(aad), tag, &mut ciphertext)?
                    .len();
                ciphertext.truncate(len);
                Ok(ciphertext)
            }
            ContentEncryption::A128CbcHs256 => {
                let (mac_key, enc_key) = cek.split_at(CEK_LEN / 2);
                // RFC 7518 5.2.2.2: the tag first (MAC-then-decrypt), compared in constant time.
                let al = (aad.len() as u64 * 8).to_be_bytes();
                let mut mac = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, mac_key));
                for part in [aad, iv, &ciphertext, &al] {
                    mac.update(part);
                }
                let expected = mac.sign();
                constant_time::verify_slices_are_equal(&expected.as_ref()[..TAG_LEN], tag)?;
                let key =
                    PaddedBlockDecryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_128, enc_key)?)?;
                let iv: [u8; CBC_IV_LEN] = iv.try_into().map_err(|_| Unspecified)?;
                let context = DecryptionContext::Iv128(FixedLength::from(iv));
                let len = key.decrypt(&mut ciphertext, context)?.len();
                ciphertext.truncate(len);
                Ok(ciphertext)
            }
        }
    }
}

fn gcm_key(cek: &[u8]) -> Result<LessSafeKey, Unspecified> {
    Ok(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, cek)?))
}

/// A256GCM under `cek` with a fresh random IV: (IV, ciphertext, tag).
pub(crate) fn seal_a256gcm(
    cek: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<([u8; GCM_IV_LEN], Vec<u8>, aead::Tag), Unspecified> {
    let key = gcm_key(cek)?;
    let mut iv = [0u8; GCM_IV_LEN];
    rand::fill(&mut iv)?;
    let mut in_out = plaintext.to_vec();
    let tag = key.seal_in_place_separate_tag(
        Nonce::assume_unique_for_key(iv),
        Aad::from(aad),
        &mut in_out,
    )?;
    Ok((iv, in_out, tag))
}
