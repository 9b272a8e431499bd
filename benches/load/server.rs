//! The server of a scenario, in its own process (this bench binary again, in server mode), so
//! what the generator costs is not counted; the tokens it mints before a run; or a running
//! server at `TESSERA_BENCH_URL`.

use super::local_server::{serve_in_process, Pool};
use super::{Shape, TokenPool, LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, SCENARIOS};
use std::sync::Arc;

/// Where the load goes.
pub struct Target {
    pub host: String,
    pub path: String,
    pub client_id: String,
    pub client_secret: String,
    pub local: Option<LocalServer>,
    pub pool: Option<Arc<TokenPool>>,
}

/// The server of a scenario, in its own process, so what the generator costs is not counted.
pub struct LocalServer {
    pub child: std::process::Child,
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Set in the server process: which scenario it serves, and where it writes its port and pool.
pub const CHILD_SCENARIO: &str = "TESSERA_BENCH_CHILD";
pub const CHILD_POOL_FILE: &str = "TESSERA_BENCH_POOL_FILE";

/// The server process's life: serve scenario `index`, hand the port and pool over, then serve
/// until killed.
pub fn serve_child(index: usize) -> ! {
    let scenario = SCENARIOS[index];
    let (port, tokens, _dir) = serve_in_process(scenario.alg, pool_of(scenario.shape), None);
    let path = std::env::var(CHILD_POOL_FILE).expect("the pool file");
    let mut text = format!("{port}\n");
    for token in &tokens {
        text.push_str(token);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    drop(tokens);
    // The pool is the generator's now: give its memory back so the server's RSS is its own.
    // SAFETY: malloc_trim has no preconditions.
    unsafe { libc::malloc_trim(0) };
    println!("ready");
    loop {
        std::thread::park();
    }
}

/// The tokens a scenario's server mints before its run.
pub fn pool_of(shape: Shape) -> Pool {
    match shape {
        Shape::Revoke => Pool::AccessTokens(200_000),
        Shape::Introspect => Pool::AccessTokens(1),
        Shape::Refresh => Pool::RefreshTokens(150_000),
        Shape::PrivateKeyJwt => Pool::Assertions {
            count: 150_000,
            encrypted: false,
        },
        Shape::EncryptedAssertion => Pool::Assertions {
            count: 60_000,
            encrypted: true,
        },
        Shape::DevicePending => Pool::DeviceCodes {
            count: 20_000,
            approved: false,
        },
        Shape::DeviceApproved => Pool::DeviceCodes {
            count: 120_000,
            approved: true,
        },
        Shape::DpopBasic => Pool::DpopProofs(150_000),
        _ => Pool::Empty,
    }
}

/// Starts the server of scenario `index` in a child process and takes its pool.
pub fn start_local(index: usize) -> Target {
    use std::io::BufRead;
    let dir = tempfile::TempDir::new().unwrap();
    let pool_file = dir.path().join("pool");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD_SCENARIO, index.to_string())
        .env(CHILD_POOL_FILE, &pool_file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server process starts");
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready", "the server process is ready");
    let text = std::fs::read_to_string(&pool_file).unwrap();
    let mut lines = text.lines();
    let port: u16 = lines.next().unwrap().parse().unwrap();
    let tokens: Vec<String> = lines.map(str::to_owned).collect();
    Target {
        host: format!("127.0.0.1:{port}"),
        path: "/oauth2/token".into(),
        client_id: LOCAL_CLIENT_ID.into(),
        client_secret: LOCAL_CLIENT_SECRET.into(),
        local: Some(LocalServer { child }),
        pool: (!tokens.is_empty()).then(|| {
            Arc::new(TokenPool {
                tokens,
                next: std::sync::atomic::AtomicUsize::new(0),
            })
        }),
    }
}

pub fn remote(url: &str) -> Target {
    let url = url::Url::parse(url).expect("TESSERA_BENCH_URL is a URL");
    assert_eq!(url.scheme(), "http", "the load generator speaks plain HTTP");
    let host = format!(
        "{}:{}",
        url.host_str().expect("a host"),
        url.port_or_known_default().unwrap()
    );
    let path = match url.path() {
        "/" | "" => "/oauth2/token".to_owned(),
        path => path.to_owned(),
    };
    Target {
        host,
        path,
        client_id: std::env::var("TESSERA_BENCH_CLIENT_ID").expect("TESSERA_BENCH_CLIENT_ID"),
        client_secret: std::env::var("TESSERA_BENCH_CLIENT_SECRET")
            .expect("TESSERA_BENCH_CLIENT_SECRET"),
        local: None,
        pool: None,
    }
}
