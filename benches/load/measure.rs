//! One run of a scenario: C connections for T seconds from one generator thread, the server's
//! CPU and peak RSS sampled from /proc, the latency percentiles, and the summary line.

use super::request::{connect, drive, send, Template};
use super::server::Target;
use super::{Scenario, Shape};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// CPU seconds (user + system) from a /proc stat line.
pub fn cpu_seconds(stat: &str) -> f64 {
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// The CPU seconds process `pid` has used.
pub fn process_cpu(pid: u32) -> f64 {
    cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap())
}

/// The resident memory of process `pid` now, in MiB.
pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Samples the RSS of `pid` every 50 ms until told to stop; answers the largest it saw.
pub fn sample_rss(
    pid: u32,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        let mut peak: f64 = 0.0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            peak = peak.max(rss_mib(pid));
            std::thread::sleep(Duration::from_millis(50));
        }
        peak.max(rss_mib(pid))
    })
}

pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index] as f64 / 1000.0
}

pub fn run(scenario: Scenario, target: &Target, connections: usize, seconds: u64) {
    let template = Template::new(target, scenario.shape);
    let server_pid = target.local.as_ref().map(|local| local.child.id());
    let idle_rss = server_pid.map(rss_mib);
    let (results, elapsed, server_cpu, peak_rss) = std::thread::Builder::new()
        .name("loadgen".into())
        .spawn({
            let host = target.host.clone();
            move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let mut senders = Vec::with_capacity(connections);
                    for _ in 0..connections {
                        let mut sender = connect(&host).await;
                        // Warm-up: the first request of a secret pays argon2 once.
                        assert!(send(&mut sender, &template).await, "warm-up request failed");
                        senders.push(sender);
                    }
                    let cpu_before = server_pid.map(process_cpu);
                    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
                    let sampler = server_pid.map(|pid| sample_rss(pid, stop.clone()));
                    let started = Instant::now();
                    let until = started + Duration::from_secs(seconds);
                    let tasks: Vec<_> = senders
                        .into_iter()
                        .map(|sender| tokio::spawn(drive(sender, template.clone(), until)))
                        .collect();
                    let mut results = Vec::new();
                    for task in tasks {
                        results.push(task.await.unwrap());
                    }
                    let elapsed = started.elapsed();
                    let server_cpu = server_pid
                        .zip(cpu_before)
                        .map(|(pid, before)| process_cpu(pid) - before);
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    let peak_rss = sampler.map(|sampler| sampler.join().unwrap());
                    (results, elapsed, server_cpu, peak_rss)
                })
            }
        })
        .unwrap()
        .join()
        .unwrap();

    let mut latencies: Vec<u32> = results
        .iter()
        .flat_map(|r| r.latencies_us.iter().copied())
        .collect();
    let errors: u64 = results.iter().map(|r| r.errors).sum();
    latencies.sort_unstable();
    let tokens = latencies.len() as f64;
    let rate = tokens / elapsed.as_secs_f64();
    let (cpu, rss) = match (server_cpu, peak_rss, idle_rss) {
        (Some(cpu), Some(peak), Some(idle)) => (
            format!("{:.1} µs", cpu / tokens.max(1.0) * 1e6),
            format!("{peak:.1} MiB (idle {idle:.1} MiB)"),
        ),
        _ => ("n/a (remote)".into(), "n/a (remote)".into()),
    };
    let unit = match scenario.shape {
        Shape::Introspect => "introspections/s",
        Shape::Revoke => "revocations/s",
        Shape::Refresh => "refreshes/s",
        Shape::DevicePending => "polls/s",
        _ => "tokens/s",
    };
    let repeats = target
        .pool
        .as_ref()
        .filter(|_| {
            matches!(
                scenario.shape,
                Shape::Revoke
                    | Shape::Refresh
                    | Shape::PrivateKeyJwt
                    | Shape::EncryptedAssertion
                    | Shape::DeviceApproved
                    | Shape::DpopBasic
            )
        })
        .map(|pool| format!(", {} with a spent token", pool.repeats()))
        .unwrap_or_default();
    println!(
        "load: {}: {:.0} {unit}{repeats}, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms, errors {}, server CPU/request {}, server peak RSS {} ({} connections, {} s)",
        scenario.name,
        rate,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        percentile(&latencies, 1.0),
        errors,
        cpu,
        rss,
        connections,
        seconds,
    );
}
