//! Redis servers of the test's own, on free loopback ports: a single server (persistent, or
//! losing its data on restart), one speaking only TLS, and a 3-node Redis Cluster made with
//! `redis-server --cluster-enabled yes` and `redis-cli --cluster create`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn binary(name: &str) -> PathBuf {
    [format!("/usr/bin/{name}"), format!("/usr/local/bin/{name}")]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{name} is not installed (.ci/run installs redis-server)"))
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One redis-server process.
pub struct Redis {
    child: Child,
    pub port: u16,
}

impl Redis {
    fn spawn(port: u16, dir: &Path, extra: &[&str]) -> Redis {
        let child = Command::new(binary("redis-server"))
            .args(["--bind", "127.0.0.1", "--save", "", "--dir"])
            .arg(dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port);
        Redis { child, port }
    }

    /// Persisting to an append-only file in `dir`, so a restart keeps its data.
    pub fn start(dir: &Path, port: u16) -> Redis {
        let port_text = port.to_string();
        Redis::spawn(
            port,
            dir,
            &[
                "--port",
                &port_text,
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ],
        )
    }

    /// Persistent, and asking clients for `password`.
    pub fn start_with_password(dir: &Path, port: u16, password: &str) -> Redis {
        let port_text = port.to_string();
        Redis::spawn(
            port,
            dir,
            &[
                "--port",
                &port_text,
                "--appendonly",
                "yes",
                "--requirepass",
                password,
            ],
        )
    }

    /// Keeping nothing on disk: a restart starts empty, as after losing its data.
    #[allow(dead_code)] // the soak test's (tests/soak.rs), not the API suite's
    pub fn start_forgetful(dir: &Path, port: u16) -> Redis {
        let port_text = port.to_string();
        Redis::spawn(port, dir, &["--port", &port_text, "--appendonly", "no"])
    }

    /// Speaking only TLS on `port`, with `cert` and `key` (PEM files in `dir`).
    pub fn start_tls(dir: &Path, port: u16, cert: &Path, key: &Path) -> Redis {
        let port_text = port.to_string();
        let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
        Redis::spawn(
            port,
            dir,
            &[
                "--port",
                "0",
                "--tls-port",
                &port_text,
                "--tls-cert-file",
                cert,
                "--tls-key-file",
                key,
                "--tls-auth-clients",
                "no",
            ],
        )
    }

    /// SIGTERM, and wait.
    pub fn stop(mut self) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().unwrap();
    }

    /// SIGKILL: a crash, nothing flushed.
    #[allow(dead_code)] // the soak test's
    pub fn kill(mut self) {
        let _ = self.child.kill();
        self.child.wait().unwrap();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A Redis Cluster of three masters (no replicas), each node in a folder of `dir`.
pub struct RedisCluster {
    nodes: Vec<Redis>,
}

impl RedisCluster {
    pub fn start(dir: &Path) -> RedisCluster {
        let nodes: Vec<Redis> = (0..3)
            .map(|index| {
                let port = super::free_port();
                let node_dir = dir.join(format!("node-{index}"));
                std::fs::create_dir_all(&node_dir).unwrap();
                let port_text = port.to_string();
                Redis::spawn(
                    port,
                    &node_dir,
                    &[
                        "--port",
                        &port_text,
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--appendonly",
                        "no",
                    ],
                )
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect();
        let created = Command::new(binary("redis-cli"))
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            created.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        let cluster = RedisCluster { nodes };
        // Every node must see every slot served before clients use it.
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &cluster.nodes {
            loop {
                let info = Command::new(binary("redis-cli"))
                    .args(["-p", &node.port.to_string(), "cluster", "info"])
                    .output()
                    .unwrap();
                if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                    break;
                }
                assert!(Instant::now() < deadline, "the cluster did not come up");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        cluster
    }

    /// The nodes' URLs, for `[revocation] cluster_nodes`.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|node| format!("redis://127.0.0.1:{}", node.port))
            .collect()
    }

    /// The keys each node holds (`DBSIZE`).
    pub fn keys_per_node(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .map(|node| {
                let out = Command::new(binary("redis-cli"))
                    .args(["-p", &node.port.to_string(), "dbsize"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
            })
            .collect()
    }
}
