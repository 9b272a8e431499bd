//! Memory and speed of the in-memory revocation state: 1,000,000 live revocations (denylist
//! entry plus feed entry each), measured as resident memory before and after, and the time per
//! revocation and per lookup.

use std::time::Instant;
use tessera::revocation::MemoryStore;

const ENTRIES: usize = 1_000_000;

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(0)
        * 1024
}

fn main() {
    let now = 1_800_000_000;
    // Token ids as Tessera makes them: 22 base64url characters (128 bits).
    let ids: Vec<String> = (0..ENTRIES as u64)
        .map(|i| {
            use base64::Engine;
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&i.to_be_bytes());
            bytes[8..].copy_from_slice(&(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_be_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        })
        .collect();
    let store = MemoryStore::new(ENTRIES as u64 + 1, 1);
    let before = rss_bytes();
    let started = Instant::now();
    for (i, id) in ids.iter().enumerate() {
        store.revoke(id, now + 900 + (i % 600) as i64, now).unwrap();
    }
    let revoke_time = started.elapsed();
    let after = rss_bytes();
    let started = Instant::now();
    let mut found = 0;
    for id in &ids {
        found += store.is_revoked(id, now + 1) as usize;
    }
    let lookup_time = started.elapsed();
    assert_eq!(found, ENTRIES);
    assert_eq!(store.live_entries(), ENTRIES as u64);
    println!(
        "denylist: {} live revocations: {:.1} MiB resident, {} bytes per entry (denylist + feed), {:.0} revocations/s, {:.0} lookups/s (one thread)",
        ENTRIES,
        (after - before) as f64 / (1024.0 * 1024.0),
        (after - before) / ENTRIES as u64,
        ENTRIES as f64 / revoke_time.as_secs_f64(),
        ENTRIES as f64 / lookup_time.as_secs_f64(),
    );
}
