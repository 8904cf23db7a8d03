//! The `chat-server` binary: serve (default) or print a development token.

use std::time::Duration;

use anyhow::Context as _;
use bootstrap::{App, Settings, WEBSOCKET_PATH, shutdown_signal, telemetry};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "chat-server",
    version,
    about = "STOMP-over-WebSocket chat server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Print an access token signed with the configured secret, for development.
    Token {
        /// The user id (the token's `id` claim).
        #[arg(long)]
        user: u64,
        /// The display name (the token's `name` claim).
        #[arg(long)]
        name: Option<String>,
        /// Hours until the token expires.
        #[arg(long, default_value_t = 24)]
        ttl_hours: u64,
    },
    /// Print the real-service features this binary was built with (`kafka mongo redis s3`).
    #[command(hide = true)]
    Features,
    /// Number the seed's messages in MongoDB (per room, in time order), so history pages
    /// over them; safe to re-run and to resume.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Token {
            user,
            name,
            ttl_hours,
        } => {
            anyhow::ensure!(user > 0, "--user must be a positive number");
            let token = adapter_jwt::JwtIssuer::new(&settings.jwt)?.issue(
                user,
                name.as_deref(),
                Duration::from_secs(ttl_hours * 3600),
            )?;
            println!("{token}");
            Ok(())
        }
        Command::Features => {
            println!("{}", bootstrap::wiring::BUILT_IN_FEATURES.join(" "));
            Ok(())
        }
        Command::Migrate => {
            telemetry::init(settings.log.format);
            println!("{}", bootstrap::migrate::run(&settings).await?);
            Ok(())
        }
        Command::Serve => {
            telemetry::init(settings.log.format);
            let app = App::build(settings).await.context("failed to start")?;
            let adapters = app
                .adapters_in_use()
                .iter()
                .map(|(port, adapter)| format!("{port}={adapter}"))
                .collect::<Vec<_>>()
                .join(", ");
            if app.keeps_data_in_memory() {
                tracing::warn!(
                    %adapters,
                    "embedded mode: messages, sessions and presence are kept in this process's memory only and are lost on restart"
                );
            } else {
                tracing::info!(%adapters, "cluster mode: real services configured");
            }
            let addr = app.local_addr();
            // A line of its own, never reworded: the test harness learns the port from it
            // (and then polls /readyz).
            tracing::info!("listening on http://{addr}");
            tracing::info!("STOMP over WebSocket at ws://{addr}{WEBSOCKET_PATH}");
            app.run_until(shutdown_signal()).await
        }
    }
}
