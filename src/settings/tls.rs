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
#[derive(Debug, Clone)]
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
        )?;
        let (Some(cert_file), Some(key_file)) = (&self.cert_file, &self.key_file) else {
            problems.push("", "cert_file and key_file are required");
            return None;
        };
        let cert_file = existing_file(problems, "cert_file", base_dir, cert_file)?;
        let key_file = existing_file(problems, "key_file", base_dir, key_file)?;
        let client_ca_file = match &self.client_ca_file {
            None => None,
            Some(file) => Some(existing_file(problems, "client_ca_file", base_dir, file)?),
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
