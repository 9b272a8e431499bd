//! `tessera serve` as a process of its own, for what only a process shows: signals, logs,
//! several replicas sharing a keys folder.

use super::*;
use std::path::{Path, PathBuf};

/// A loopback port that was free a moment ago, for servers that must be told their port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `tessera serve` process, the address it logged, and its log.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub address: String,
    /// The "listening" event: what the server says is on.
    pub started: serde_json::Value,
    /// Every JSON log event after it, as it arrives.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl ServerProcess {
    /// Starts the binary on `config` (which must log JSON at info) and waits for "listening".
    pub fn start(config: &Path) -> ServerProcess {
        Self::start_with_env(config, &[])
    }

    /// Like `start`, with `env` set for the server.
    pub fn start_with_env(config: &Path, env: &[(&str, &str)]) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["serve", "--config"])
            .arg(config)
            .env_remove("TESSERA_CONFIG")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let started = loop {
            let line = lines
                .next()
                .expect("the server logs before exiting")
                .unwrap();
            assert!(!line.contains(REPORTS_SECRET) && !line.contains(OTHER_SECRET));
            let event: serde_json::Value = serde_json::from_str(&line).unwrap();
            if event["message"] == "listening" {
                break event;
            }
        };
        let address = started["address"].as_str().unwrap().to_owned();
        // Keep draining the log so the server never blocks on a full pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str(&line) {
                    kept.lock().unwrap().push(event);
                }
            }
        });
        ServerProcess {
            child,
            address,
            started,
            log,
        }
    }

    /// Waits up to 10 seconds for a log event whose message contains `text`, and returns it.
    pub fn wait_for_log(&self, text: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let found = self
                .log
                .lock()
                .unwrap()
                .iter()
                .find(|event| event["message"].as_str().is_some_and(|m| m.contains(text)))
                .cloned();
            if let Some(event) = found {
                return event;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no log event with {text:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Every log event so far must keep secrets out.
    pub fn assert_log_has_no_secret(&self) {
        for event in self.log.lock().unwrap().iter() {
            let line = event.to_string();
            assert!(!line.contains(REPORTS_SECRET) && !line.contains(OTHER_SECRET));
        }
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on a child process id we own.
        let rc = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(rc, 0);
    }

    /// SIGTERM, then the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.signal(libc::SIGTERM);
        self.child.wait().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

/// Writes `config` into `dir` for a `ServerProcess`, with the JSON logs at info it reads.
pub fn process_config(dir: &Path, config: TestConfig) -> PathBuf {
    config
        .log(LogConfig {
            level: Some("info".to_owned()),
            format: Some("json".to_owned()),
        })
        .write_in(dir)
}
