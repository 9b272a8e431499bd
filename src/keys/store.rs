//! The keys folder: one JWK file per key, private ones mode 0600, and a `.gitignore` so the
//! folder is never committed. Besides the JWK members, each file records when the key was made
//! (`created_at`) and from when it may sign (`activates_at`), both Unix seconds.

use crate::clock::UnixTime;
use crate::jose::{thumbprint, Jwk, KeyError, KeyManagementAlg, SigningAlg};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const EXTENSION: &str = "jwk";
const CREATED_AT: &str = "created_at";
const ACTIVATES_AT: &str = "activates_at";

/// What a key is for, read from its `use` and `alg` members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Signs tokens; published.
    Signing(SigningAlg),
    /// Clients encrypt to it; published with `use: enc`.
    Encryption(KeyManagementAlg),
    /// Symmetric key for tokens the issuer encrypts to itself; never published.
    Secret,
}

impl KeyPurpose {
    fn file_prefix(self) -> &'static str {
        match self {
            KeyPurpose::Signing(_) => "sig",
            KeyPurpose::Encryption(_) => "enc",
            KeyPurpose::Secret => "secret",
        }
    }

    pub fn describe(self) -> String {
        match self {
            KeyPurpose::Signing(alg) => format!("signing {alg}"),
            KeyPurpose::Encryption(alg) => format!("encryption {alg}"),
            KeyPurpose::Secret => "secret dir/A256GCM".to_owned(),
        }
    }
}

/// One key as stored on disk.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub jwk: Jwk,
    pub kid: String,
    pub purpose: KeyPurpose,
    pub created_at: UnixTime,
    pub activates_at: UnixTime,
    pub path: PathBuf,
}

fn io_error(path: &Path, err: std::io::Error) -> KeyError {
    KeyError::new(format!("{}: {err}", path.display()))
}

/// Reads every `*.jwk` file of `dir`, sorted by activation time (then creation, then kid).
pub fn load_all(dir: &Path) -> Result<Vec<StoredKey>, KeyError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(io_error(dir, err)),
    };
    let mut keys = Vec::new();
    for entry in entries {
        let path = entry.map_err(|err| io_error(dir, err))?.path();
        if path.extension().and_then(|ext| ext.to_str()) == Some(EXTENSION) {
            keys.push(read_key(&path)?);
        }
    }
    keys.sort_by(|a, b| {
        (a.activates_at, a.created_at, &a.kid).cmp(&(b.activates_at, b.created_at, &b.kid))
    });
    Ok(keys)
}

fn read_key(path: &Path) -> Result<StoredKey, KeyError> {
    let bytes = fs::read(path).map_err(|err| io_error(path, err))?;
    let in_file = |message: String| KeyError::new(format!("{}: {message}", path.display()));
    let jwk = Jwk::from_bytes(&bytes).map_err(|err| in_file(format!("not a JWK: {err}")))?;
    let purpose = purpose_of(&jwk).map_err(in_file)?;
    let kid = thumbprint(&jwk).map_err(|err| in_file(err.0))?;
    if jwk.key_id() != Some(kid.as_str()) {
        return Err(in_file(format!(
            "kid must be the key's RFC 7638 thumbprint ({kid})"
        )));
    }
    let time = |name: &str| -> Result<UnixTime, KeyError> {
        match jwk.parameter(name) {
            None => Ok(0),
            Some(value) => value
                .as_i64()
                .ok_or_else(|| in_file(format!("{name} must be Unix seconds"))),
        }
    };
    Ok(StoredKey {
        created_at: time(CREATED_AT)?,
        activates_at: time(ACTIVATES_AT)?,
        kid,
        purpose,
        path: path.to_owned(),
        jwk,
    })
}

fn purpose_of(jwk: &Jwk) -> Result<KeyPurpose, String> {
    let alg = jwk.algorithm().ok_or("the key has no alg")?;
    match (jwk.key_use(), jwk.key_type()) {
        (Some("sig"), _) => Ok(KeyPurpose::Signing(alg.parse()?)),
        (Some("enc"), "oct") if alg == "dir" => Ok(KeyPurpose::Secret),
        (Some("enc"), _) => Ok(KeyPurpose::Encryption(alg.parse()?)),
        _ => Err("the key's use must be sig or enc".to_owned()),
    }
}

/// Creates the keys folder (mode 0700) with a `.gitignore` that keeps every key out of git. A
/// folder that others may read (the shipped `keys/`, as git checks it out) is closed to them
/// before a key is written into it.
pub fn ensure_dir(dir: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|err| io_error(dir, err))?;
    let mode = fs::metadata(dir)
        .map_err(|err| io_error(dir, err))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|err| io_error(dir, err))?;
    }
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        fs::write(&ignore, "# Private keys: never commit them.\n*\n")
            .map_err(|err| io_error(&ignore, err))?;
    }
    Ok(())
}

/// Writes a freshly generated key (mode 0600), atomically: a reload never sees half a file.
/// A new key as it is stored: its kid (the RFC 7638 thumbprint) and times set, not yet written.
pub fn prepare(
    mut jwk: Jwk,
    created_at: UnixTime,
    activates_at: UnixTime,
) -> Result<StoredKey, KeyError> {
    let purpose = purpose_of(&jwk).map_err(KeyError::new)?;
    let kid = thumbprint(&jwk)?;
    jwk.set_key_id(kid.clone());
    jwk.set_parameter(CREATED_AT, Some(created_at.into()))
        .map_err(|err| KeyError::new(err.to_string()))?;
    jwk.set_parameter(ACTIVATES_AT, Some(activates_at.into()))
        .map_err(|err| KeyError::new(err.to_string()))?;
    Ok(StoredKey {
        jwk,
        kid,
        purpose,
        created_at,
        activates_at,
        path: PathBuf::new(),
    })
}

pub fn write_new(
    dir: &Path,
    jwk: Jwk,
    created_at: UnixTime,
    activates_at: UnixTime,
) -> Result<StoredKey, KeyError> {
    ensure_dir(dir)?;
    let StoredKey {
        jwk, kid, purpose, ..
    } = prepare(jwk, created_at, activates_at)?;
    let path = dir.join(format!("{}-{kid}.{EXTENSION}", purpose.file_prefix()));
    let partial = dir.join(format!(".{}-{kid}.partial", purpose.file_prefix()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|err| io_error(&partial, err))?;
    file.write_all(jwk.to_string().as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|err| io_error(&partial, err))?;
    fs::rename(&partial, &path).map_err(|err| io_error(&path, err))?;
    Ok(StoredKey {
        jwk,
        kid,
        purpose,
        created_at,
        activates_at,
        path,
    })
}
