//! The `tessera` command: serve, keys, client, user, token, config.

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
    /// Decode, verify and mint access tokens (debugging and tests).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a token's header and claims as JSON, checking nothing.
    Decode {
        /// The token; read from standard input when left out (keeps it out of shell history).
        token: Option<String>,
    },
    /// Verify an access token against a running issuer, as a resource server does: the
    /// signature with the issuer's JWK Set over HTTP, typ at+jwt, iss, aud, exp, and the
    /// token's status list entry when it carries one. Exit status 1 when it is not valid.
    Verify {
        /// The token; read from standard input when left out.
        token: Option<String>,
        /// The audience to verify for; the token's first `aud` when left out.
        #[arg(long)]
        audience: Option<String>,
        /// Where the issuer is reached, when not at its `issuer` URL (a local port, say).
        #[arg(long)]
        server: Option<String>,
    },
    /// Mint an access token offline with the configured keys and print it.
    Mint {
        /// A client of the configuration.
        #[arg(long)]
        client: String,
        /// A user of the configuration, for a user token; the client's own token otherwise.
        #[arg(long)]
        user: Option<String>,
        /// Space-separated scopes the client may have; its default scopes when left out.
        #[arg(long)]
        scope: Option<String>,
        /// An audience the client may have (repeatable); all of the client's when left out.
        #[arg(long)]
        audience: Vec<String>,
    },
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
        Command::Token(command) => token_command(&cli.config, command),
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
        let config = config.to_owned();
        // SIGHUP: re-read the configuration file and the keys folder without dropping a request.
        actix_web::rt::spawn(async move {
            let Ok(mut hangups) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                tracing::error!(
                    "cannot listen for SIGHUP: configuration and key reloads need a restart"
                );
                return;
            };
            while hangups.recv().await.is_some() {
                reload(&state, &config);
            }
        });
        app.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// One SIGHUP: the whole configuration with its keys, or, when the file is refused, the keys
/// folder alone under the running configuration (a rotation never waits for a fixed file).
fn reload(state: &tessera::state::AppState, config: &Path) {
    use tessera::state::ReloadError;
    match state.reload(Settings::load(config)) {
        Ok(()) => {
            let settings = state.settings();
            tracing::info!(
                clients = settings.clients.len(),
                users = settings.users.len(),
                providers = settings.providers.len(),
                routes = settings.routes.len(),
                "SIGHUP: configuration and keys reloaded"
            );
        }
        Err(err) => {
            let restart = matches!(err, ReloadError::NeedsRestart(_));
            tracing::error!(
                error = %err,
                "SIGHUP: configuration not reloaded, the running one stays{}",
                if restart { " (restart to apply these changes)" } else { "" }
            );
            if matches!(err, ReloadError::Keys(_)) {
                return;
            }
            match state.reload_keys() {
                Ok(()) => tracing::info!("SIGHUP: keys reloaded"),
                Err(err) => {
                    tracing::error!(error = %err, "SIGHUP: keys not reloaded, the current keys stay")
                }
            }
        }
    }
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

/// The token of a `tessera token` command: its argument, else standard input.
fn token_argument(token: Option<String>) -> anyhow::Result<String> {
    match token {
        Some(token) => Ok(token),
        None => {
            let mut token = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut token)
                .context("reading the token from standard input")?;
            Ok(token.trim().to_owned())
        }
    }
}

fn token_command(config: &Path, command: TokenCommand) -> anyhow::Result<ExitCode> {
    use tessera::oauth::inspect::{self, Decoded};
    match command {
        TokenCommand::Decode { token } => {
            let token = token_argument(token)?;
            let decoded = match inspect::decode(&token) {
                Some(Decoded::Signed { header, claims }) => {
                    serde_json::json!({ "header": header, "claims": claims })
                }
                Some(Decoded::Encrypted { header }) => {
                    serde_json::json!({ "header": header, "encrypted": true })
                }
                None => {
                    eprintln!("error: not a compact JWS or JWE");
                    return Ok(ExitCode::from(2));
                }
            };
            println!("{}", serde_json::to_string_pretty(&decoded)?);
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Verify {
            token,
            audience,
            server,
        } => {
            let settings = match settings(config) {
                Ok(settings) => settings,
                Err(code) => return Ok(code),
            };
            let token = token_argument(token)?;
            verify_token(&settings, &token, audience, server)
        }
        TokenCommand::Mint {
            client,
            user,
            scope,
            audience,
        } => {
            let settings = match settings(config) {
                Ok(settings) => settings,
                Err(code) => return Ok(code),
            };
            let keys = keys::KeyRing::load(&settings.keys_dir, settings.tokens.signing_alg)
                .with_context(|| format!("loading keys from {}", settings.keys_dir.display()))?;
            let issuer = tessera::oauth::issuer::Issuer::new(
                Arc::new(settings),
                Arc::new(keys),
                SystemClock.now(),
            );
            let request = tessera::oauth::mint::MintRequest {
                client_id: &client,
                username: user.as_deref(),
                scope: scope.as_deref(),
                audience: &audience,
            };
            // The configured store: with Redis, the token's status entry is the replicas' own;
            // in memory, it is one that no running server has given out.
            let revocations = tessera::revocation::Revocations::new(
                &issuer.settings.revocation,
                issuer.settings.status_list_layout(),
            )
            .map_err(|err| anyhow::anyhow!(err))?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let minted =
                runtime.block_on(tessera::oauth::mint::mint(&issuer, &revocations, &request));
            match minted {
                Ok(minted) => {
                    println!("{}", minted.token);
                    eprintln!("minted for {client}, valid {} s", minted.expires_in);
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => {
                    eprintln!("error: {}: {}", err.code.as_str(), err.description);
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}

fn verify_token(
    settings: &Settings,
    token: &str,
    audience: Option<String>,
    server: Option<String>,
) -> anyhow::Result<ExitCode> {
    use tessera::oauth::inspect::{self, Decoded, VerifyOptions};
    let audience = match (audience, inspect::decode(token)) {
        (Some(audience), _) => audience,
        (None, Some(Decoded::Signed { claims, .. })) => match inspect::first_audience(&claims) {
            Some(audience) => audience,
            None => {
                println!("invalid: the token names no audience");
                return Ok(ExitCode::FAILURE);
            }
        },
        (None, Some(Decoded::Encrypted { .. })) => {
            println!("invalid: an encrypted token: only its recipient can verify it");
            return Ok(ExitCode::FAILURE);
        }
        (None, None) => {
            println!("invalid: not a compact JWS or JWE");
            return Ok(ExitCode::FAILURE);
        }
    };
    let base = server.unwrap_or_else(|| settings.issuer.clone());
    let options = VerifyOptions {
        issuer: settings.issuer.clone(),
        jwks_uri: format!(
            "{}{}",
            base.trim_end_matches('/'),
            tessera::oauth::paths::JWKS
        ),
        audience,
        clock: Arc::new(tessera_verifier::SystemClock),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(inspect::verify(token, options)) {
        Ok(token) => {
            let now = SystemClock.now();
            println!("valid access token");
            println!("  issuer     {}", token.issuer);
            println!("  subject    {}", token.subject);
            println!("  client_id  {}", token.client_id);
            println!("  audience   {}", token.audience.join(" "));
            let scopes: Vec<&str> = token.scopes.iter().map(String::as_str).collect();
            println!("  scope      {}", scopes.join(" "));
            println!(
                "  expires    {} (in {} s)",
                time(token.expires_at),
                token.expires_at - now
            );
            println!(
                "  key        {}",
                token.key_id.as_deref().unwrap_or("(no kid)")
            );
            match &token.status {
                Some(status) => println!(
                    "  status     valid (index {} of {})",
                    status.idx, status.uri
                ),
                None => println!("  status     none (the token carries no status list entry)"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            println!("invalid: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
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
