//! `integrations serve | migrate | api-key create --account NAME`

use anyhow::Context;
use clap::{Parser, Subcommand};
use integrations_server::app::{create_api_key, open_store, Application};
use integrations_server::{telemetry, Settings};
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "integrations", version, about = "The Integration API")]
struct Cli {
    /// Folder holding default.toml and $INTEGRATIONS_ENV.toml.
    #[arg(long, env = "INTEGRATIONS_CONFIG_DIR", default_value = "config")]
    config_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API.
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Manage API keys.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Print a new API key of account NAME (created if missing) as the only line on stdout.
    Create {
        #[arg(long)]
        account: String,
    },
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(&cli.config_dir).context("loading configuration")?;
    telemetry::init(&settings.log);
    match cli.command {
        Command::Serve => {
            let app = Application::build(&settings)
                .await
                .context("starting the service")?;
            if let Some(key) = &app.first_api_key {
                // stdout, never the log: shown exactly once.
                let mut out = std::io::stdout().lock();
                writeln!(
                    out,
                    "Created the first API key (account \"default\"); it is shown only once:\n{}",
                    key.expose()
                )?;
                out.flush()?;
            }
            app.run_until_stopped().await.context("serving")?;
            tracing::info!("stopped");
        }
        Command::Migrate => {
            open_store(&settings).await.context("migrating")?;
            tracing::info!("migrations applied");
        }
        Command::ApiKey {
            command: ApiKeyCommand::Create { account },
        } => {
            let store = open_store(&settings)
                .await
                .context("opening the database")?;
            let key = create_api_key(&store, &account)
                .await
                .context("creating the API key")?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", key.expose())?;
            out.flush()?;
        }
    }
    Ok(())
}
