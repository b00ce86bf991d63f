//! `integrations`: the service and its operator commands (API.md section 5).

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use integrations_domain::{AccountName, KeyId, KeyService, Scope, Scopes};
use integrations_server::app::{
    access_service, checked_vault, load_key_ring_with, open_store, Application,
};
use integrations_server::{telemetry, Settings};
use integrations_vault::{EnvelopeVault, KeyRing};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "integrations",
    version,
    about = "The Integration API: keeps third-party credentials safe and proves that they work.",
    after_help = "Examples:\n  integrations serve\n  integrations api-key create --account acme\n  INTEGRATIONS__DATABASE__URL=postgres://app@db/integrations integrations migrate"
)]
struct Cli {
    /// Folder holding default.toml and $INTEGRATIONS_ENV.toml.
    #[arg(
        long,
        env = "INTEGRATIONS_CONFIG_DIR",
        default_value = "config",
        global = true
    )]
    config_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API (creates the database, a master key and the first API key when there are
    /// none).
    #[command(
        after_help = "Example:\n  integrations serve\n  INTEGRATIONS__SERVER__BIND=0.0.0.0:8080 integrations serve"
    )]
    Serve,
    /// Apply the database migrations and exit.
    #[command(
        after_help = "Example:\n  INTEGRATIONS__DATABASE__URL=postgres://app@db/integrations integrations migrate"
    )]
    Migrate,
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Master-key rotation: generate a key, rewrap data keys, show what each key protects.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the effective configuration after every layer, secrets redacted.
    #[command(after_help = "Example:\n  INTEGRATIONS_ENV=production integrations config")]
    Config,
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Print a new API key of account NAME (created if missing) as the only line on stdout.
    #[command(
        after_help = "Example:\n  integrations api-key create --account acme --scope manage --scope use --label \"CI deploys\"\n  integrations api-key create --account acme --scope reveal --label worker"
    )]
    Create {
        #[arg(long)]
        account: String,
        /// manage, use or reveal; repeat for several (default: manage and use).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A note for `api-key list` (at most 200 characters).
        // A label may begin with `-` (`--label "-nightly"`): the word after `--label` is it.
        #[arg(long, allow_hyphen_values = true)]
        label: Option<String>,
    },
    /// One line per key that still works: `keyId account scopes createdAt lastUsedAt label`.
    #[command(
        after_help = "Example:\n  integrations api-key list --account acme\n  integrations api-key list --revoked"
    )]
    List {
        #[arg(long)]
        account: Option<String>,
        /// List the revoked keys instead.
        #[arg(long)]
        revoked: bool,
    },
    /// Revoke a key by its id: it answers 401 from then on (every replica within 5 seconds).
    #[command(after_help = "Example:\n  integrations api-key revoke Xy3_k9Qa")]
    Revoke {
        /// The key id shown by `api-key list` (8 characters).
        // A key id may begin with `-` (base64url): it is the argument, not an option.
        #[arg(allow_hyphen_values = true)]
        key_id: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a new master key line `<id>:<base64>`; with --out, add it to that key file as
    /// the active key instead (created with mode 0600 when absent).
    #[command(
        after_help = "Example:\n  integrations keys generate --out data/master.key\n  integrations keys generate"
    )]
    Generate {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-wrap every data key under the active master key (no credential is decrypted);
    /// safe to run while the service serves, to interrupt and to run again.
    #[command(after_help = "Example:\n  integrations keys rewrap --batch 1000")]
    Rewrap {
        /// Integrations per transaction.
        #[arg(long, default_value_t = 500)]
        batch: u32,
    },
    /// How many integrations each master key protects.
    #[command(after_help = "Example:\n  integrations keys status")]
    Status,
}

// mimalloc instead of glibc's malloc: a masked list page allocates and frees a few hundred
// small strings, and glibc's allocator (with its fastbin consolidation) was ~15 % of the
// server's CPU under the list benchmark (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(&cli.config_dir).context("loading configuration")?;
    telemetry::init(&settings.logging);
    match cli.command {
        Command::Serve => serve(&settings).await,
        Command::Migrate => {
            open_store(&settings).await.context("migrating")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::ApiKey(command) => api_key(&settings, command).await,
        Command::Keys(command) => keys(&settings, command).await,
        Command::Config => {
            print(&settings.to_redacted_toml()?)?;
            Ok(())
        }
    }
}

/// Writes `text` and a newline to stdout (what a command prints; logs go to stderr).
fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = Application::build(settings)
        .await
        .context("starting the service")?;
    if let Some(key) = &app.first_api_key {
        // stdout, never the log: shown exactly once.
        print(&format!(
            "Created the first API key (account \"default\"); it is shown only once:\n{}",
            key.expose()
        ))?;
    }
    app.run_until_stopped().await.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

async fn api_key(settings: &Settings, command: ApiKeyCommand) -> anyhow::Result<()> {
    let store = Arc::new(open_store(settings).await.context("opening the database")?);
    let access = access_service(settings, store);
    match command {
        ApiKeyCommand::Create {
            account,
            scopes,
            label,
        } => {
            let account = AccountName::parse(&account).map_err(anyhow::Error::msg)?;
            let scopes = if scopes.is_empty() {
                Scopes::DEFAULT
            } else {
                Scopes::of(
                    scopes
                        .iter()
                        .map(|s| s.parse::<Scope>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(anyhow::Error::msg)?,
                )
            };
            let label = label
                .map(|l| integrations_domain::access::parse_key_label(&l))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let (key, _) = access
                .create_key(&account, scopes, label)
                .await
                .context("creating the API key")?;
            print(key.expose())
        }
        ApiKeyCommand::List { account, revoked } => {
            let account = account
                .map(|a| AccountName::parse(&a))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let keys = access
                .list(account.as_ref())
                .await
                .context("listing keys")?;
            for k in keys.iter().filter(|k| k.revoked_at.is_some() == revoked) {
                print(&format!(
                    "{} {} {} {} {} {}",
                    k.key_id,
                    k.account_name,
                    k.scopes,
                    integrations_api_timestamp(k.created_at),
                    k.last_used_at
                        .map(integrations_api_timestamp)
                        .unwrap_or_else(|| "-".to_owned()),
                    k.label.as_deref().unwrap_or("")
                ))?;
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { key_id } => {
            let key_id = KeyId::parse(&key_id).map_err(anyhow::Error::msg)?;
            match access.revoke(&key_id).await {
                Ok(()) => print(&format!("revoked {key_id}")),
                Err(integrations_domain::ServiceError::NotFound) => {
                    bail!("no API key has the id {key_id} (see `integrations api-key list`)")
                }
                Err(e) => Err(e).context("revoking the key"),
            }
        }
    }
}

/// RFC 3339 UTC with milliseconds, as the API shows times.
fn integrations_api_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

async fn keys(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate { out: Some(path) } => {
            let id = KeyRing::add_key_to_file(&path)
                .with_context(|| format!("adding a key to {}", path.display()))?;
            print(&format!(
                "added master key {id} to {} as the active key; restart the replicas with this file, then run `integrations keys rewrap`",
                path.display()
            ))
        }
        KeysCommand::Generate { out: None } => {
            // The next id of the configured ring, when there is one.
            let next = configured_ring(settings)
                .ok()
                .and_then(|r| r.ids().last().copied())
                .map_or(1, |id| id.saturating_add(1));
            let line = KeyRing::generate_line(next)?;
            print(&line)
        }
        KeysCommand::Rewrap { batch } => {
            let store = Arc::new(open_store(settings).await.context("opening the database")?);
            let ring = load_key_ring_with(settings, &store, false)
                .await
                .context("loading the master keys")?;
            let active = ring.active_id();
            let vault = checked_vault(&store, ring).await?;
            let keys = KeyService::new(store, vault);
            let bar = progress_bar();
            let started = std::time::Instant::now();
            let report = keys
                .rewrap(batch, |p| {
                    bar.set_length(p.total);
                    bar.set_position(p.rewrapped + p.failed);
                })
                .await
                .context("rewrapping")?;
            bar.finish_and_clear();
            for (id, e) in &report.failed {
                eprintln!("integration {id} could not be rewrapped: {e}");
            }
            let secs = started.elapsed().as_secs_f64();
            print(&format!(
                "rewrapped {} integration(s) under master key {active} in {secs:.1} s; {} failed",
                report.rewrapped,
                report.failed.len()
            ))?;
            if !report.failed.is_empty() {
                bail!("{} integration(s) were not rewrapped", report.failed.len());
            }
            Ok(())
        }
        KeysCommand::Status => {
            let store = Arc::new(open_store(settings).await.context("opening the database")?);
            let ring = load_key_ring_with(settings, &store, false).await;
            let ids: Vec<u32> = ring.as_ref().map(KeyRing::ids).unwrap_or_default();
            let vault = match ring {
                Ok(r) => Arc::new(EnvelopeVault::new(r)),
                Err(e) => {
                    eprintln!("the configured key ring could not be loaded: {e}");
                    Arc::new(EnvelopeVault::new(KeyRing::generate()?))
                }
            };
            let keys = KeyService::new(store, vault);
            for k in keys.status(&ids).await.context("reading key status")? {
                let role = match (k.in_ring, k.active && !ids.is_empty()) {
                    (true, true) => "in the ring, active",
                    (true, false) => "in the ring, decrypt-only",
                    (false, _) if k.integrations > 0 => "MISSING from the ring (still in use)",
                    (false, _) => "not in the ring (unused: may stay out)",
                };
                print(&format!(
                    "key {}: {} integration(s); {role}",
                    k.kek_id, k.integrations
                ))?;
            }
            Ok(())
        }
    }
}

/// The key ring of the settings, without touching the database or any file.
fn configured_ring(settings: &Settings) -> anyhow::Result<KeyRing> {
    Ok(match &settings.vault.master_key {
        Some(inline) => KeyRing::from_text(inline)?,
        None => KeyRing::load_file(
            &settings.vault.master_key_file,
            settings.vault.allow_insecure_key_file,
        )?,
    })
}

/// A progress bar on a terminal (stderr), nothing otherwise.
fn progress_bar() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} rewrapping [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}
