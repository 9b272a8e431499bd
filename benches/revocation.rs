//! Memory and speed of the revocation state, in one run:
//! - status lists sized for 25,000 tokens/s and 15-minute windows (22.5 M indices a window):
//!   the bitstring raw and compressed at 0 %, 0.1 % and 1 % revoked, and the time to render one
//!   list (snapshot, ZLIB, base64url);
//! - 1,000,000 revoked access tokens in the memory backend's lists: resident memory per
//!   revocation, and revocations and lookups per second of one thread;
//! - 1,000,000 revoked refresh-token families on the memory denylist: the same figures.
//!
//! Rates are per second of the thread's own CPU time (CLOCK_THREAD_CPUTIME_ID), so a busy
//! machine that takes the core away does not lower them; wall-clock rates are printed beside.

use std::time::Instant;
use tessera::revocation::status_list::{encode, Layout, MemoryStatusLists, StatusRef};
use tessera::revocation::MemoryStore;

const TOKENS_PER_WINDOW: u64 = 25_000 * 900;
const REVOCATIONS: usize = 1_000_000;

/// The CPU time this thread has used, in seconds.
fn thread_cpu() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

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

/// A deterministic, random-looking index in `0..n` (splitmix64): revoked tokens are scattered
/// over a list, the case that compresses worst.
fn spread(i: u64, n: u64) -> u64 {
    let mut z = i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % n
}

fn layout(list_size: u32) -> Layout {
    Layout {
        window_secs: 900,
        list_size,
        retention_secs: 1020,
    }
}

fn sizing() {
    let list_size = 1u32 << 22;
    let lists = TOKENS_PER_WINDOW.div_ceil(u64::from(list_size));
    let raw = (list_size / 8) as usize;
    println!(
        "status lists: a window of {TOKENS_PER_WINDOW} indices (25k tokens/s, 15 min) is {lists} lists of {list_size} indices, {raw} bytes raw each ({} bytes a window)",
        raw as u64 * lists
    );
    for percent in [0.0, 0.1, 1.0] {
        let mut bitstring = vec![0u8; raw];
        let revoked = (f64::from(list_size) * percent / 100.0) as u64;
        for i in 0..revoked {
            let idx = spread(i, u64::from(list_size));
            bitstring[(idx / 8) as usize] |= 1 << (idx % 8);
        }
        let started = Instant::now();
        let rounds = 5;
        let mut lst = String::new();
        for _ in 0..rounds {
            lst = encode(&bitstring);
        }
        let render = started.elapsed() / rounds;
        println!(
            "status lists: {percent}% revoked: {} bytes compressed per list (lst {} chars), {} bytes a window, {:.1} ms to compress one list",
            lst.len() * 3 / 4,
            lst.len(),
            (lst.len() * 3 / 4) as u64 * lists,
            render.as_secs_f64() * 1000.0
        );
    }
    // A whole render as the endpoint does it: the memory backend's snapshot, then ZLIB.
    let store = MemoryStatusLists::new(layout(list_size), 1);
    let tokens: Vec<StatusRef> = (0..u64::from(list_size))
        .map(|_| store.allocate(0))
        .collect();
    let revoked = tokens.len() / 100;
    for i in 0..revoked as u64 {
        store.revoke(&tokens[spread(i, tokens.len() as u64) as usize], 1);
    }
    let started = Instant::now();
    let snapshot = store.snapshot(&tokens[0].list);
    let lst = encode(&snapshot.bitstring);
    println!(
        "status lists: one render of a list with {} revoked (memory snapshot + ZLIB + base64url): {:.1} ms, {} bytes",
        revoked,
        started.elapsed().as_secs_f64() * 1000.0,
        lst.len()
    );
}

fn memory_backend() {
    // 1M revocations spread over one 22.5M-index window: the lists of the window hold them.
    let layout = layout(1 << 22);
    let store = MemoryStatusLists::new(layout, 1);
    let tokens: Vec<StatusRef> = (0..TOKENS_PER_WINDOW).map(|_| store.allocate(0)).collect();
    let chosen: Vec<StatusRef> = (0..REVOCATIONS as u64)
        .map(|i| tokens[spread(i, TOKENS_PER_WINDOW) as usize])
        .collect();
    drop(tokens);
    let before = rss_bytes();
    let started = Instant::now();
    for token in &chosen {
        store.revoke(token, 1);
    }
    let revoke_time = started.elapsed();
    let after = rss_bytes();
    let started = Instant::now();
    let mut found = 0;
    for token in &chosen {
        found += store.is_revoked(token) as usize;
    }
    let lookup_time = started.elapsed();
    // A few chosen twice: the spread is random, not a permutation.
    assert_eq!(found, REVOCATIONS);
    println!(
        "status lists (memory): {REVOCATIONS} revoked access tokens in a {TOKENS_PER_WINDOW}-token window: {:.1} MiB resident, {:.2} bytes per revocation, {:.0} revocations/s, {:.0} lookups/s (one thread)",
        (after - before) as f64 / (1024.0 * 1024.0),
        (after - before) as f64 / REVOCATIONS as f64,
        REVOCATIONS as f64 / revoke_time.as_secs_f64(),
        REVOCATIONS as f64 / lookup_time.as_secs_f64(),
    );
    println!(
        "status lists (Redis): one bitmap a list, as long as its highest revoked index: at most {} bytes a list, {} bytes a window, whatever the number revoked",
        layout.list_bytes(),
        layout.list_bytes() as u64 * TOKENS_PER_WINDOW.div_ceil(u64::from(layout.list_size))
    );
}

fn families() {
    let now = 1_800_000_000;
    // Family ids as Tessera makes them: 22 base64url characters (128 bits), with its prefix.
    let ids: Vec<String> = (0..REVOCATIONS as u64)
        .map(|i| {
            use base64::Engine;
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&i.to_be_bytes());
            bytes[8..].copy_from_slice(&(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_be_bytes());
            format!(
                "family:{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
            )
        })
        .collect();
    let store = MemoryStore::new(REVOCATIONS as u64 + 1, 1);
    let before = rss_bytes();
    let (started, cpu) = (Instant::now(), thread_cpu());
    for (i, id) in ids.iter().enumerate() {
        store.revoke(id, now + 900 + (i % 600) as i64, now).unwrap();
    }
    let (revoke_time, revoke_cpu) = (started.elapsed(), thread_cpu() - cpu);
    let after = rss_bytes();
    let (started, cpu) = (Instant::now(), thread_cpu());
    let mut found = 0;
    for id in &ids {
        found += store.is_revoked(id, now + 1) as usize;
    }
    let (lookup_time, lookup_cpu) = (started.elapsed(), thread_cpu() - cpu);
    assert_eq!(found, REVOCATIONS);
    println!(
        "denylist (memory): {REVOCATIONS} revoked refresh-token families: {:.1} MiB resident, {} bytes per entry, {:.0} revocations/s, {:.0} lookups/s per CPU second of one thread (wall clock: {:.0} and {:.0})",
        (after - before) as f64 / (1024.0 * 1024.0),
        (after - before) / REVOCATIONS as u64,
        REVOCATIONS as f64 / revoke_cpu,
        REVOCATIONS as f64 / lookup_cpu,
        REVOCATIONS as f64 / revoke_time.as_secs_f64(),
        REVOCATIONS as f64 / lookup_time.as_secs_f64(),
    );
}

fn main() {
    sizing();
    memory_backend();
    families();
}
