//! IETF Token Status List (draft-ietf-oauth-status-list): the issuer side, with no per-token
//! storage. Lists are time windows: every access token issued in window `w` takes the next index
//! of that window, and the index names its list (`part = index / list_size`). A list is served
//! until the last token that can point into it has expired; revoking a token sets its bit.
//!
//! A list id carries an epoch — random per process for the memory backend, shared through Redis
//! and renewed when Redis lost its data — so indices are never handed out twice for one list.

use crate::clock::UnixTime;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// The status of index `i` is bit `i % 8` of byte `i / 8`, least significant first, one bit a
/// token: 0 valid, 1 revoked (the draft's INVALID).
pub const BITS: u8 = 1;

/// One status list: the epoch of its allocator, its time window, its part within the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListId {
    pub epoch: u32,
    pub window: u64,
    pub part: u32,
}

/// A list id's text, on the stack: every access token's status claim names its list.
pub struct ListIdText {
    bytes: [u8; 40],
    len: usize,
}

impl ListIdText {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("ASCII digits")
    }
}

impl ListId {
    /// `{epoch:08x}-{window}-{part}`, written by hand: the formatting machinery cost more than
    /// the rest of the status claim.
    pub fn text(&self) -> ListIdText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // 8 hex digits, two dashes, at most 20 and 10 decimal digits.
        let mut text = [0u8; 40];
        for (i, byte) in text[..8].iter_mut().enumerate() {
            *byte = HEX[(self.epoch >> (28 - 4 * i)) as usize & 0xf];
        }
        let mut len = 8;
        for number in [self.window, u64::from(self.part)] {
            text[len] = b'-';
            len += 1;
            let digits = number.checked_ilog10().unwrap_or(0) as usize + 1;
            let mut rest = number;
            for byte in text[len..len + digits].iter_mut().rev() {
                *byte = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            len += digits;
        }
        ListIdText { bytes: text, len }
    }
}

impl fmt::Display for ListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl FromStr for ListId {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let mut parts = text.splitn(3, '-');
        let epoch = parts.next().filter(|e| e.len() == 8).ok_or(())?;
        let id = ListId {
            epoch: u32::from_str_radix(epoch, 16).map_err(|_| ())?,
            window: parts.next().ok_or(())?.parse().map_err(|_| ())?,
            part: parts.next().ok_or(())?.parse().map_err(|_| ())?,
        };
        // One spelling per list: "007" or "+7" would name the same list twice.
        (id.text().as_str() == text).then_some(id).ok_or(())
    }
}

/// Where a token's status lives: its list and its index in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRef {
    #[serde(with = "list_id_text")]
    pub list: ListId,
    pub idx: u32,
}

mod list_id_text {
    use super::ListId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &ListId, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(id)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ListId, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| serde::de::Error::custom("not a status list id"))
    }
}

/// How lists are cut: the window length, the indices a list holds, and how long after its
/// window a list is still served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub window_secs: u64,
    pub list_size: u32,
    /// After its window ends, a list is served this long: the longest a token issued in the
    /// window (or from a code made in it) can live.
    pub retention_secs: u64,
}

impl Layout {
    pub fn window_of(&self, now: UnixTime) -> u64 {
        now.max(0) as u64 / self.window_secs
    }

    /// When list `id` stops being served (and its state can be dropped).
    pub fn served_until(&self, window: u64) -> UnixTime {
        ((window + 1) * self.window_secs + self.retention_secs) as UnixTime
    }

    /// Whether `id` names a list this issuer serves at `now` (whatever the epoch).
    pub fn is_served(&self, id: &ListId, now: UnixTime) -> bool {
        id.window <= self.window_of(now) && now < self.served_until(id.window)
    }

    /// The list and index of the `n`th token of a window.
    pub fn locate(&self, epoch: u32, window: u64, n: u64) -> StatusRef {
        let size = u64::from(self.list_size);
        StatusRef {
            list: ListId {
                epoch,
                window,
                part: (n / size) as u32,
            },
            idx: (n % size) as u32,
        }
    }

    /// The lists of a window that has handed out `next` indices.
    pub fn parts(&self, epoch: u32, window: u64, next: u64) -> impl Iterator<Item = ListId> {
        let count = next.div_ceil(u64::from(self.list_size)) as u32;
        (0..count).map(move |part| ListId {
            epoch,
            window,
            part,
        })
    }

    /// Bytes of one list's bitstring.
    pub fn list_bytes(&self) -> usize {
        (self.list_size as usize).div_ceil(8)
    }
}

/// A new epoch: random, never 0 (which stands for "not known yet").
pub fn random_epoch() -> u32 {
    use aws_lc_rs::rand::SecureRandom;
    let mut bytes = [0u8; 4];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    u32::from_be_bytes(bytes).max(1)
}

/// The `lst` member: the bitstring compressed with ZLIB (RFC 1950) and base64url-encoded.
pub fn encode(bitstring: &[u8]) -> String {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(bitstring)
        .and_then(|_| encoder.finish())
        .map(|compressed| URL_SAFE_NO_PAD.encode(compressed))
        .expect("compressing into memory does not fail")
}

/// A list's revoked bits as they stand, and a version that changes with every revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub version: u64,
    /// `Layout::list_bytes` long, bit order as in the draft.
    pub bitstring: Vec<u8>,
}

const PAGE_WORDS: usize = 1024;
const PAGE_BITS: usize = PAGE_WORDS * 64;

/// A list's bits in memory: pages of atomic words, allocated on first revocation in them, so a
/// list nobody revoked from costs nothing and a full one costs its size in bits.
struct PagedBits {
    pages: Box<[OnceLock<Box<[AtomicU64]>>]>,
    version: AtomicU64,
}

impl PagedBits {
    fn new(list_size: u32) -> Self {
        let pages = (list_size as usize).div_ceil(PAGE_BITS);
        Self {
            pages: (0..pages).map(|_| OnceLock::new()).collect(),
            version: AtomicU64::new(0),
        }
    }

    fn set(&self, idx: u32) {
        let idx = idx as usize;
        let Some(page) = self.pages.get(idx / PAGE_BITS) else {
            return;
        };
        let words = page.get_or_init(|| (0..PAGE_WORDS).map(|_| AtomicU64::new(0)).collect());
        let bit = 1u64 << (idx % 64);
        let before = words[(idx % PAGE_BITS) / 64].fetch_or(bit, Ordering::AcqRel);
        if before & bit == 0 {
            self.version.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn get(&self, idx: u32) -> bool {
        let idx = idx as usize;
        self.pages
            .get(idx / PAGE_BITS)
            .and_then(OnceLock::get)
            .is_some_and(|words| {
                words[(idx % PAGE_BITS) / 64].load(Ordering::Acquire) & (1u64 << (idx % 64)) != 0
            })
    }

    fn snapshot(&self, bytes: usize) -> Snapshot {
        let version = self.version.load(Ordering::Acquire);
        let mut bitstring = vec![0u8; bytes];
        for (p, page) in self.pages.iter().enumerate() {
            let Some(words) = page.get() else { continue };
            for (w, word) in words.iter().enumerate() {
                let start = (p * PAGE_BITS + w * 64) / 8;
                let word = word.load(Ordering::Acquire).to_le_bytes();
                let end = (start + 8).min(bytes);
                if start < end {
                    bitstring[start..end].copy_from_slice(&word[..end - start]);
                }
            }
        }
        Snapshot { version, bitstring }
    }
}

/// The memory backend's status lists: one process, its own epoch.
pub struct MemoryStatusLists {
    layout: Layout,
    epoch: u32,
    /// Indices handed out per window (only windows still served).
    next: Mutex<BTreeMap<u64, u64>>,
    /// Lists with at least one revocation.
    lists: RwLock<HashMap<ListId, Arc<PagedBits>>>,
}

impl MemoryStatusLists {
    pub fn new(layout: Layout, epoch: u32) -> Self {
        Self {
            layout,
            epoch,
            next: Mutex::new(BTreeMap::new()),
            lists: RwLock::new(HashMap::new()),
        }
    }

    pub fn allocate(&self, now: UnixTime) -> StatusRef {
        let window = self.layout.window_of(now);
        let mut next = self.next.lock().expect("never poisoned");
        let counter = next.entry(window).or_insert(0);
        let n = *counter;
        *counter += 1;
        if next.len() > 1 {
            let layout = self.layout;
            next.retain(|window, _| now < layout.served_until(*window));
        }
        self.layout.locate(self.epoch, window, n)
    }

    pub fn revoke(&self, status: &StatusRef, now: UnixTime) {
        if !self.layout.is_served(&status.list, now) || status.idx >= self.layout.list_size {
            // Every token in that list has expired already.
            return;
        }
        let existing = self
            .lists
            .read()
            .expect("never poisoned")
            .get(&status.list)
            .cloned();
        let bits = match existing {
            Some(bits) => bits,
            None => {
                let mut lists = self.lists.write().expect("never poisoned");
                let layout = self.layout;
                lists.retain(|id, _| now < layout.served_until(id.window));
                lists
                    .entry(status.list)
                    .or_insert_with(|| Arc::new(PagedBits::new(layout.list_size)))
                    .clone()
            }
        };
        bits.set(status.idx);
    }

    pub fn is_revoked(&self, status: &StatusRef) -> bool {
        self.lists
            .read()
            .expect("never poisoned")
            .get(&status.list)
            .is_some_and(|bits| bits.get(status.idx))
    }

    pub fn snapshot(&self, id: &ListId) -> Snapshot {
        let bits = self.lists.read().expect("never poisoned").get(id).cloned();
        match bits {
            Some(bits) => bits.snapshot(self.layout.list_bytes()),
            None => Snapshot {
                version: 0,
                bitstring: vec![0; self.layout.list_bytes()],
            },
        }
    }

    /// Every list that holds a token still possibly valid at `now`.
    pub fn served_lists(&self, now: UnixTime) -> Vec<ListId> {
        let next = self.next.lock().expect("never poisoned");
        next.iter()
            .filter(|(window, _)| now < self.layout.served_until(**window))
            .flat_map(|(window, next)| self.layout.parts(self.epoch, *window, *next))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            window_secs: 900,
            list_size: 1000,
            retention_secs: 1000,
        }
    }

    #[test]
    fn list_ids_have_one_spelling() {
        let id = ListId {
            epoch: 0xab,
            window: 7,
            part: 2,
        };
        assert_eq!(id.to_string(), "000000ab-7-2");
        assert_eq!("000000ab-7-2".parse(), Ok(id));
        for other in [
            "000000ab-07-2",
            "000000ab-+7-2",
            "ab-7-2",
            "000000ab-7",
            "x",
        ] {
            assert!(other.parse::<ListId>().is_err(), "{other}");
        }
        for (epoch, window, part) in [(0, 0, 0), (u32::MAX, u64::MAX, u32::MAX), (0x1f, 10, 99)] {
            let id = ListId {
                epoch,
                window,
                part,
            };
            assert_eq!(id.to_string(), format!("{epoch:08x}-{window}-{part}"));
            assert_eq!(id.to_string().parse(), Ok(id));
        }
    }

    #[test]
    fn indices_fill_a_list_then_the_next_part_of_the_window() {
        let lists = MemoryStatusLists::new(layout(), 1);
        let first = lists.allocate(900);
        assert_eq!((first.list.window, first.list.part, first.idx), (1, 0, 0));
        for _ in 1..1000 {
            lists.allocate(901);
        }
        let next = lists.allocate(902);
        assert_eq!((next.list.part, next.idx), (1, 0));
        assert_eq!(lists.served_lists(903).len(), 2);
        // The next window starts over.
        assert_eq!(lists.allocate(1800).list.window, 2);
    }

    #[test]
    fn revoked_bits_follow_the_drafts_bit_order() {
        let lists = MemoryStatusLists::new(layout(), 1);
        let tokens: Vec<StatusRef> = (0..12).map(|_| lists.allocate(0)).collect();
        for i in [0, 3, 9] {
            lists.revoke(&tokens[i], 10);
        }
        assert!(lists.is_revoked(&tokens[3]) && !lists.is_revoked(&tokens[4]));
        let snapshot = lists.snapshot(&tokens[0].list);
        assert_eq!(snapshot.bitstring.len(), 125);
        assert_eq!(snapshot.bitstring[0], 0b0000_1001);
        assert_eq!(snapshot.bitstring[1], 0b0000_0010);
        assert_eq!(snapshot.version, 3);
        lists.revoke(&tokens[3], 11);
        assert_eq!(
            lists.snapshot(&tokens[0].list).version,
            3,
            "again: no change"
        );
    }

    #[test]
    fn a_list_past_its_retention_is_neither_served_nor_kept() {
        let lists = MemoryStatusLists::new(layout(), 1);
        let token = lists.allocate(0);
        assert!(layout().is_served(&token.list, 1899));
        assert!(!layout().is_served(&token.list, 1900));
        lists.revoke(&token, 1900);
        assert!(!lists.is_revoked(&token));
        assert!(lists.served_lists(1900).is_empty());
    }
}
