//! The resource servers of docs/resource-servers.md in Python and Node, run as the page prints
//! them: each program is cut out of the page (the fenced block after its
//! `<!-- tested: FILE -->` marker), written to a folder of its own and started as a process
//! against a `TestApp`, on an ephemeral port it reports on its first line.

use super::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// The repository's root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The fenced block that follows `marker` (a whole line) in the page at `path` (from the root).
pub fn fenced_block_after(path: &str, marker: &str) -> String {
    let page = std::fs::read_to_string(root().join(path)).unwrap();
    let after = page
        .split_once(&format!("\n{marker}\n"))
        .unwrap_or_else(|| panic!("no {marker} in {path}"))
        .1;
    let (fence, rest) = after.split_once('\n').expect("a fenced block follows");
    assert!(fence.starts_with("```"), "{marker} is followed by {fence}");
    let end = rest.find("\n```\n").expect("the block is closed");
    rest[..=end].to_owned()
}

/// Every fenced block after a `<!-- excerpt: FILE -->` marker in the page at `path`, with FILE.
pub fn excerpts(path: &str) -> Vec<(String, String)> {
    let page = std::fs::read_to_string(root().join(path)).unwrap();
    page.lines()
        .filter_map(|line| line.strip_prefix("<!-- excerpt: "))
        .filter_map(|rest| rest.strip_suffix(" -->"))
        .map(|file| {
            let marker = format!("<!-- excerpt: {file} -->");
            (file.to_owned(), fenced_block_after(path, &marker))
        })
        .collect()
}

/// A documented resource server in a language of its own.
#[derive(Debug, Clone, Copy)]
pub enum DocumentedServer {
    Python,
    Node,
}

impl DocumentedServer {
    fn file_name(self) -> &'static str {
        match self {
            DocumentedServer::Python => "resource_server.py",
            DocumentedServer::Node => "resource_server.mjs",
        }
    }

    fn command(self, dir: &Path) -> Command {
        match self {
            DocumentedServer::Python => {
                let mut command = Command::new("python3");
                command.arg(dir.join(self.file_name()));
                command
            }
            DocumentedServer::Node => {
                // The page says: next to a node_modules folder with jose (.ci/run installs it
                // in tests/resource-servers with `npm ci`).
                let modules = root().join("tests/resource-servers/node_modules");
                assert!(
                    modules.join("jose").is_dir(),
                    "no jose in {}: run `npm ci` there (.ci/run does)",
                    modules.display()
                );
                std::os::unix::fs::symlink(&modules, dir.join("node_modules")).unwrap();
                let mut command = Command::new("node");
                command.arg(dir.join(self.file_name()));
                command
            }
        }
    }
}

/// One documented server, running; stopped when dropped.
pub struct ScriptServer {
    child: Child,
    pub url: String,
    stderr: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl ScriptServer {
    /// Cuts `server` out of docs/resource-servers.md and starts it for `issuer`'s tokens.
    pub async fn start(server: DocumentedServer, issuer: &TestApp) -> ScriptServer {
        let dir = tempfile::TempDir::new().unwrap();
        let program = fenced_block_after(
            "docs/resource-servers.md",
            &format!("<!-- tested: {} -->", server.file_name()),
        );
        std::fs::write(dir.path().join(server.file_name()), program).unwrap();
        let mut child = server
            .command(dir.path())
            .env("API_ISSUER", &issuer.issuer)
            .env("API_LISTEN", "127.0.0.1:0")
            .env_remove("API_AUDIENCE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("{server:?} does not start: {err}"));
        // Drain stderr so the program never blocks on it; keep it for failure messages.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(&mut pipe).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        // The program fetches discovery and keys from the app before it listens.
        let first_line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .unwrap()
        .unwrap();
        let url = first_line
            .trim()
            .strip_prefix("listening on ")
            .map(str::to_owned);
        let mut started = ScriptServer {
            child,
            url: String::new(),
            stderr,
            _dir: dir,
        };
        match url {
            Some(url) => started.url = url,
            None => {
                let _ = started.child.wait();
                panic!(
                    "{server:?} did not start: {first_line}\n{}",
                    started.stderr()
                );
            }
        }
        started
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `GET /reports` with these `Authorization` header values.
    pub async fn get_reports(&self, authorization: &[String]) -> Answer {
        let mut request = reqwest::Client::new().get(format!("{}/reports", self.url));
        for value in authorization {
            request = request.header("authorization", value);
        }
        Answer::from(request.send().await.unwrap()).await
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
