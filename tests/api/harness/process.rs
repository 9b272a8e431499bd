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
    /// Every line it logged so far.
    logs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
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
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let started = loop {
            let line = lines
                .next()
                .expect("the server logs before exiting")
                .unwrap();
            assert!(!line.contains(REPORTS_SECRET) && !line.contains(OTHER_SECRET));
            let event: serde_json::Value = serde_json::from_str(&line).unwrap();
            logs.lock().unwrap().push(line);
            if event["message"] == "listening" {
                break event;
            }
        };
        let address = started["address"].as_str().unwrap().to_owned();
        // Keep draining the log so the server never blocks on a full pipe.
        let kept = logs.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        ServerProcess {
            child,
            address,
            started,
            logs,
        }
    }

    /// The log lines (JSON) so far.
    pub fn logs(&self) -> Vec<serde_json::Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The first log event whose message contains `needle`, waiting up to `timeout` for it.
    pub fn wait_for_log(&self, needle: &str, timeout: std::time::Duration) -> serde_json::Value {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let found = self.logs().into_iter().find(|event| {
                event["message"]
                    .as_str()
                    .is_some_and(|message| message.contains(needle))
            });
            if let Some(event) = found {
                return event;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no log line with {needle:?} in {:#?}",
                self.logs()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Every line logged so far keeps secrets out.
    pub fn assert_log_has_no_secret(&self) {
        for line in self.logs.lock().unwrap().iter() {
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

/// A test that fails midway leaves no server behind.
impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
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
