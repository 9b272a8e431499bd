//! The `tessera` command: serve, keys, client, config.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tessera::clock::{Clock, SystemClock};
use tessera::keys::{self, KeyPurpose, KeySpec, KeyState};
use tessera::settings::{Settings, DEFAULT_CONFIG_PATH};
use tessera::startup::Application;

#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about = "A stateless OAuth 2.0 / OpenID-style token issuer"
)]
struct Cli {
    /// The configuration file.
    #[arg(long, global = true, env = "TESSERA_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the issuer.
    Serve,
    /// Manage the keys folder.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Client registration helpers.
    #[command(subcommand)]
    Client(ClientCommand),
    /// User registration helpers.
    #[command(subcommand)]
    User(UserCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Read a password from standard input (one line) and print its `password_hash` line.
    PasswordHash,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a key: a signing key (ES256, ES384, RS256, PS256, EdDSA), an encryption key
    /// (RSA-OAEP-256, ECDH-ES+A256KW) or a secret key (dir).
    Generate {
        #[arg(long)]
        alg: KeySpec,
        /// For a signing key: sign only after this delay (published at once).
        #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
        activate_in: Duration,
    },
    /// List the keys and their state.
    List,
    /// Add a signing key for the configured algorithm that signs after the publish-ahead delay.
    Rotate {
        /// Overrides `[keys] publish_ahead`.
        #[arg(long, value_parser = humantime::parse_duration)]
        activate_in: Option<Duration>,
    },
    /// Delete signing keys that are no longer published.
    Prune,
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Print a fresh 256-bit client secret and its `client_secret_hash` line (the keyed
    /// `hmac-sha256` format: as safe as argon2 for a random 256-bit secret, and cheap to check).
    Secret,
    /// Read a secret someone chose from standard input and print its argon2id
    /// `client_secret_hash` line (a chosen secret may be guessable: it gets the slow hash).
    SecretHash,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration; exit status 2 when it has problems.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve => serve(&cli.config),
        Command::Keys(command) => keys_command(&cli.config, command),
        Command::Client(ClientCommand::Secret) => {
            client_secret();
            Ok(ExitCode::SUCCESS)
        }
        Command::Client(ClientCommand::SecretHash) => hash_stdin("secret", "client_secret_hash"),
        Command::User(UserCommand::PasswordHash) => hash_stdin("password", "password_hash"),
        Command::Config(ConfigCommand::Check) => config_check(&cli.config),
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        ExitCode::FAILURE
    })
}

/// Loads the configuration, or prints every problem and gives exit status 2.
fn settings(path: &Path) -> Result<Settings, ExitCode> {
    Settings::load(path).map_err(|err| {
        eprintln!("{}: invalid configuration", path.display());
        for problem in &err.problems {
            eprintln!("  {}: {}", problem.path, problem.message);
        }
        ExitCode::from(2)
    })
}

fn serve(config: &Path) -> anyhow::Result<ExitCode> {
    let settings = match settings(config) {
        Ok(settings) => settings,
        Err(code) => return Ok(code),
    };
    tessera::telemetry::init(&settings.log);
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings, Arc::new(SystemClock))?;
        let state = app.state();
        // SIGHUP: re-read the keys folder without dropping a request.
        actix_web::rt::spawn(async move {
            let Ok(mut hangups) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                tracing::error!("cannot listen for SIGHUP: key reloads need a restart");
                return;
            };
            while hangups.recv().await.is_some() {
                match state.reload_keys() {
                    Ok(()) => tracing::info!("SIGHUP: keys reloaded"),
                    Err(err) => tracing::error!(error = %err, "SIGHUP: keys not reloaded, the current keys stay"),
                }
            }
        });
        app.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn keys_command(config: &Path, command: KeysCommand) -> anyhow::Result<ExitCode> {
    let settings = match settings(config) {
        Ok(settings) => settings,
        Err(code) => return Ok(code),
    };
    let dir = &settings.keys_dir;
    let now = SystemClock.now();
    let alg = settings.tokens.signing_alg;
    match command {
        KeysCommand::Generate { alg, activate_in } => {
            let key = keys::generate(dir, alg, now, now + activate_in.as_secs() as i64)?;
            println!(
                "created {} key {} in {}",
                key.purpose.describe(),
                key.kid,
                key.path.display()
            );
        }
        KeysCommand::Rotate { activate_in } => {
            let delay = activate_in.unwrap_or(settings.keys.publish_ahead);
            let key = keys::rotate(dir, alg, now, delay)?;
            println!(
                "created {alg} signing key {}: published now, signs from {} (in {});",
                key.kid,
                time(key.activates_at),
                humantime::format_duration(delay)
            );
            println!("send SIGHUP to a running server to publish it (kill -HUP <pid>)");
        }
        KeysCommand::List => list_keys(&settings, now)?,
        KeysCommand::Prune => {
            for key in keys::prunable(dir, alg, now, settings.token_retention)? {
                keys::remove(&key)?;
                println!("removed expired signing key {}", key.kid);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| unix.to_string())
}

fn list_keys(settings: &Settings, now: i64) -> anyhow::Result<()> {
    let keys = keys::stored_states(
        &settings.keys_dir,
        settings.tokens.signing_alg,
        now,
        settings.token_retention,
    )?;
    if keys.is_empty() {
        println!(
            "no keys in {} (`tessera serve` creates development keys)",
            settings.keys_dir.display()
        );
        return Ok(());
    }
    println!(
        "{:<44}  {:<26}  {:<20}  {:<34}",
        "KID", "PURPOSE", "CREATED", "STATE"
    );
    for (key, state) in keys {
        let state = match state {
            None if key.purpose == KeyPurpose::Secret => "private (never published)".to_owned(),
            None => "published".to_owned(),
            Some(KeyState::Pending { activates_at }) => {
                format!("published, signs from {}", time(activates_at))
            }
            Some(KeyState::Active) => "published, signing".to_owned(),
            Some(KeyState::Standby) => "published, not signing (other alg)".to_owned(),
            Some(KeyState::Retired { published_until }) => {
                format!("retired, published until {}", time(published_until))
            }
            Some(KeyState::Expired) => "expired, not published".to_owned(),
        };
        println!(
            "{:<44}  {:<26}  {:<20}  {}",
            key.kid,
            key.purpose.describe(),
            time(key.created_at),
            state
        );
    }
    Ok(())
}

fn client_secret() {
    use aws_lc_rs::rand::SecureRandom;
    use base64::Engine;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = tessera::oauth::credentials::hash_generated_secret(&secret);
    println!("# The client secret, shown this once: give it to the client, keep no copy.");
    println!("client_secret = \"{secret}\"");
    println!("# For the client's [[clients]] entry in the configuration:");
    println!("client_secret_hash = \"{hash}\"");
}

/// The argon2id hash of the first line of standard input (a `what`), as the `field = "..."` line.
fn hash_stdin(what: &str, field: &str) -> anyhow::Result<ExitCode> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .with_context(|| format!("reading the {what} from standard input"))?;
    let secret = line.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        eprintln!("error: an empty {what}");
        return Ok(ExitCode::from(2));
    }
    let hash = tessera::oauth::credentials::hash_secret(secret);
    println!("{field} = \"{hash}\"");
    Ok(ExitCode::SUCCESS)
}

fn config_check(config: &Path) -> anyhow::Result<ExitCode> {
    let settings = match settings(config) {
        Ok(settings) => settings,
        Err(code) => return Ok(code),
    };
    let key_problem = match keys::load_all(&settings.keys_dir) {
        Err(err) => Some(err),
        Ok(stored) if stored.is_empty() => {
            println!(
                "note: {} holds no keys; `tessera serve` will create development keys there",
                settings.keys_dir.display()
            );
            None
        }
        Ok(_) => keys::KeyRing::load(&settings.keys_dir, settings.tokens.signing_alg).err(),
    };
    if let Some(err) = key_problem {
        eprintln!("{}: invalid configuration", config.display());
        eprintln!("  keys_dir: {err}");
        return Ok(ExitCode::from(2));
    }
    println!(
        "{}: OK (issuer {}, {} clients, signing {})",
        config.display(),
        settings.issuer,
        settings.clients.len(),
        settings.tokens.signing_alg
    );
    Ok(ExitCode::SUCCESS)
}
