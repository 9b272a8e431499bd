//! The soak test with faults, a test binary of its own so that it runs alone: three
//! `tessera serve` replicas and a Redis without persistence under steady, bounded load on
//! loopback for about twenty seconds, while Redis is killed and started again empty (its data
//! lost) and the signing key is rotated with SIGHUP.
//!
//! What must hold: no 5xx but the documented 503 `temporarily_unavailable` while Redis is
//! down; no request failed by the rotation; afterwards, no token whose revocation was answered
//! 200 is accepted by any replica, the data loss notwithstanding.

// The shared harness; this binary uses part of it.
#[allow(dead_code, unused_imports)]
#[path = "api/harness/mod.rs"]
mod harness;

use harness::*;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WORKERS: usize = 4;
/// Pause between two requests of a worker: steady, bounded load.
const PACE: Duration = Duration::from_millis(10);
const KILL_AT: Duration = Duration::from_secs(4);
const RESTART_AT: Duration = Duration::from_secs(7);
const ROTATE_AT: Duration = Duration::from_secs(10);
const STOP_AT: Duration = Duration::from_secs(16);
/// Requests begun this long after Redis is back may still have met the outage.
const GRACE: Duration = Duration::from_secs(1);
const UNAVAILABLE: &str = "the revocation state is unavailable; try again later";

#[derive(Debug, Clone)]
struct Outcome {
    what: &'static str,
    started: Duration,
    /// When its answer came: a request in flight when Redis is killed may fail with it.
    finished: Duration,
    status: u16,
    body: Value,
}

#[derive(Default)]
struct Record {
    outcomes: Vec<Outcome>,
    /// Tokens whose revocation was answered 200.
    revoked: Vec<String>,
    /// Tokens never revoked, with when they were issued.
    kept: Vec<(String, Duration)>,
}

fn kid_of(token: &str) -> String {
    let header = jsonwebtoken::decode_header(token).unwrap();
    header.kid.unwrap()
}

async fn introspect(client: &reqwest::Client, base: &str, token: &str) -> Answer {
    post_form(
        client,
        &format!("{base}/oauth2/introspect"),
        Some(RESOURCE_SERVER),
        &[("token", token)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_survive_a_redis_data_loss_and_a_key_rotation_under_load() {
    let dir = tempfile::TempDir::new().unwrap();
    let redis_dir = tempfile::TempDir::new().unwrap();
    let port = free_port();
    let redis = Redis::start_forgetful(redis_dir.path(), port);
    let config = process_config(
        dir.path(),
        TestConfig::new()
            .revocation(RevocationConfig::redis(
                &format!("redis://127.0.0.1:{port}/"),
                "soak",
            ))
            .raw("keys.publish_ahead", "2s")
            .raw("keys.jwks_max_age", "1s"),
    );
    let replicas: Vec<ServerProcess> = (0..3).map(|_| ServerProcess::start(&config)).collect();
    let bases: Arc<Vec<String>> = Arc::new(replicas.iter().map(|r| r.address.clone()).collect());
    let record = Arc::new(Mutex::new(Record::default()));
    let started = Instant::now();

    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let (bases, record) = (bases.clone(), record.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut round = 0usize;
                while started.elapsed() < STOP_AT {
                    round += 1;
                    let base = &bases[(worker + round) % bases.len()];
                    let at = started.elapsed();
                    let issued = post_form(
                        &client,
                        &format!("{base}/oauth2/token"),
                        Some(("keyed", KEYED_SECRET)),
                        &[("grant_type", "client_credentials")],
                    )
                    .await;
                    let token = issued.json["access_token"].as_str().map(str::to_owned);
                    let mut outcomes = vec![Outcome {
                        what: "token",
                        started: at,
                        finished: started.elapsed(),
                        status: issued.status,
                        body: issued.json,
                    }];
                    if let Some(token) = token {
                        // Every third token is revoked, on another replica than its issuer.
                        let other = &bases[(worker + round + 1) % bases.len()];
                        if round % 3 == 0 {
                            let at = started.elapsed();
                            let answer = post_form(
                                &client,
                                &format!("{other}/oauth2/revoke"),
                                Some(("keyed", KEYED_SECRET)),
                                &[("token", &token)],
                            )
                            .await;
                            if answer.status == 200 {
                                record.lock().unwrap().revoked.push(token.clone());
                            } else {
                                record.lock().unwrap().kept.push((token.clone(), at));
                            }
                            outcomes.push(Outcome {
                                what: "revoke",
                                started: at,
                                finished: started.elapsed(),
                                status: answer.status,
                                body: answer.json,
                            });
                        } else {
                            record.lock().unwrap().kept.push((token.clone(), at));
                        }
                        let at = started.elapsed();
                        let answer = introspect(&client, other, &token).await;
                        outcomes.push(Outcome {
                            what: "introspect",
                            started: at,
                            finished: started.elapsed(),
                            status: answer.status,
                            body: answer.json,
                        });
                    }
                    record.lock().unwrap().outcomes.extend(outcomes);
                    tokio::time::sleep(PACE).await;
                }
            })
        })
        .collect();

    // The faults, on schedule.
    tokio::time::sleep(KILL_AT).await;
    redis.kill();
    tokio::time::sleep(RESTART_AT - KILL_AT).await;
    let redis = Redis::start_forgetful(redis_dir.path(), port);
    let restarted = started.elapsed();
    tokio::time::sleep(ROTATE_AT.saturating_sub(started.elapsed())).await;
    let rotate = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["keys", "rotate", "--activate-in", "2s", "--config"])
        .arg(&config)
        .env_remove("TESSERA_CONFIG")
        .output()
        .unwrap();
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    let rotated = started.elapsed();
    for replica in &replicas {
        replica.signal(libc::SIGHUP);
    }
    for worker in workers {
        worker.await.unwrap();
    }
    for replica in &replicas {
        replica.wait_for_log(
            "SIGHUP: configuration and keys reloaded",
            Duration::from_secs(5),
        );
        replica.wait_for_log("set again the revocations", Duration::from_secs(5));
    }

    let record = std::mem::take(&mut *record.lock().unwrap());
    let outage = KILL_AT..restarted + GRACE;
    let mut by_kind: std::collections::BTreeMap<(&str, u16), usize> = Default::default();
    for outcome in &record.outcomes {
        *by_kind.entry((outcome.what, outcome.status)).or_default() += 1;
        match outcome.status {
            200 => {}
            503 => {
                assert!(
                    outcome.finished >= outage.start && outcome.started < outage.end,
                    "a 503 outside the outage: {outcome:?}"
                );
                assert_eq!(
                    outcome.body["error"], "temporarily_unavailable",
                    "{outcome:?}"
                );
                assert_eq!(
                    outcome.body["error_description"], UNAVAILABLE,
                    "{outcome:?}"
                );
            }
            _ => panic!("an answer that is neither 200 nor the documented 503: {outcome:?}"),
        }
        if outcome.started >= rotated {
            assert_eq!(
                outcome.status, 200,
                "a request failed by the rotation: {outcome:?}"
            );
        }
    }

    // Afterwards: every revoked token is refused by every replica, every kept one accepted.
    let client = reqwest::Client::new();
    for token in &record.revoked {
        for base in bases.iter() {
            let answer = introspect(&client, base, token).await;
            assert_eq!(answer.status, 200, "{}", answer.json);
            assert_eq!(
                answer.json,
                serde_json::json!({"active": false}),
                "a revoked token is accepted by {base}"
            );
        }
    }
    let issued_before_rotation: Vec<_> = record
        .kept
        .iter()
        .filter(|(_, at)| *at < rotated)
        .take(20)
        .collect();
    for (token, _) in &issued_before_rotation {
        for base in bases.iter() {
            assert_eq!(introspect(&client, base, token).await.json["active"], true);
        }
    }
    // The new key signs by now; the old one still verifies its tokens.
    let fresh = post_form(
        &client,
        &format!("{}/oauth2/token", bases[0]),
        Some(("keyed", KEYED_SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(fresh.status, 200);
    let old_kid = kid_of(&issued_before_rotation[0].0);
    assert_ne!(
        kid_of(fresh.str("access_token")),
        old_kid,
        "the rotated key signs"
    );

    let unavailable: usize = record
        .outcomes
        .iter()
        .filter(|outcome| outcome.status == 503)
        .count();
    eprintln!(
        "soak: {} requests in {:.1} s on 3 replicas ({WORKERS} workers): {by_kind:?}; \
         503 during the outage: {unavailable}; revoked {} tokens, all refused by all replicas \
         after Redis lost its data; rotation at {:.1} s failed no request",
        record.outcomes.len(),
        STOP_AT.as_secs_f64(),
        record.revoked.len(),
        rotated.as_secs_f64(),
    );
    assert!(record.revoked.len() >= 10, "the load revoked tokens");
    for replica in replicas {
        assert!(replica.stop().success());
    }
    redis.stop();
}
