//! `[tls]`: the optional mutual-TLS listener (RFC 8705).

use super::problems::Problems;
use super::values::parse_address;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawTls {
    listen: Option<String>,
    cert_file: Option<String>,
    key_file: Option<String>,
    client_ca_file: Option<String>,
    base_url: Option<String>,
}

/// The optional mutual-TLS listener.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsSettings {
    pub listen: SocketAddr,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// CA of `tls_client_auth` client certificates.
    pub client_ca_file: Option<PathBuf>,
    /// Where clients reach the TLS listener: the base of the `mtls_endpoint_aliases`.
    pub base_url: String,
}

impl RawTls {
    pub(super) fn validate(&self, problems: &mut Problems, base_dir: &Path) -> Option<TlsSettings> {
        let listen = problems.check(
            "listen",
            parse_address(
                self.listen.as_deref().unwrap_or("127.0.0.1:8443"),
                "127.0.0.1:8443",
            ),
        );
        if self.cert_file.is_none() || self.key_file.is_none() {
            problems.push("", "cert_file and key_file are required");
        }
        let mut file = |field: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|file| existing_file(problems, field, base_dir, file))
        };
        let cert_file = file("cert_file", &self.cert_file);
        let key_file = file("key_file", &self.key_file);
        let client_ca_file = file("client_ca_file", &self.client_ca_file);
        let (listen, cert_file, key_file) = (listen?, cert_file??, key_file??);
        let client_ca_file = match client_ca_file {
            None => None,
            Some(found) => Some(found?),
        };
        Some(TlsSettings {
            base_url: self
                .base_url
                .clone()
                .unwrap_or_else(|| format!("https://{listen}"))
                .trim_end_matches('/')
                .to_owned(),
            listen,
            cert_file,
            key_file,
            client_ca_file,
        })
    }
}

fn existing_file(
    problems: &mut Problems,
    field: &str,
    base_dir: &Path,
    file: &str,
) -> Option<PathBuf> {
    let path = base_dir.join(file);
    if !path.is_file() {
        problems.push(field, format!("{} does not exist", path.display()));
        return None;
    }
    Some(path)
}
