//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Construct Gateway: the secure HTTP/WebSocket door to a Construct agent.
#[derive(Debug, Parser)]
#[command(name = "construct-gateway", version, about)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options that every command accepts, before or after the command name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: $CONSTRUCT_CONFIG, else ~/.construct/gateway.toml if it exists).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Data directory (default: $CONSTRUCT_DATA_DIR, else ~/.construct/gateway).
    #[arg(long, global = true, value_name = "PATH")]
    pub data_dir: Option<PathBuf>,
    /// Host to bind: an IP address or `localhost` (overrides [gateway] host).
    #[arg(long, global = true)]
    pub host: Option<String>,
    /// Port to bind; 0 picks a free one (overrides [gateway] port).
    #[arg(long, global = true)]
    pub port: Option<u16>,
    /// Log format on stderr. The level comes from RUST_LOG (default info).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Pretty,
    /// One JSON object per event.
    Json,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (the default).
    Serve,
    /// Show the active pairing code of the running gateway (asks it over loopback).
    PairCode {
        /// Replace the active code with a new one.
        #[arg(long)]
        new: bool,
    },
    /// Check the configuration and surroundings for security and health problems; the exit status is 0
    /// when all is well, 1 with warnings, 2 with errors.
    Doctor,
    /// Inspect the configuration.
    Config {
        /// What to do with it.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Issue, list and revoke device tokens without pairing (for containers and CI). Works while the
    /// gateway runs; it notices within a second.
    Token {
        /// What to do.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The embedded Kumiho store.
    Kumiho {
        /// What to do with it.
        #[command(subcommand)]
        command: KumihoCommand,
    },
    /// Print the shell completion script for SHELL on stdout (e.g. `construct-gateway completions bash >
    /// /etc/bash_completion.d/construct-gateway`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout: `construct-gateway man | man -l -`.
    Man,
}

/// `kumiho` subcommands.
#[derive(Debug, Subcommand)]
pub enum KumihoCommand {
    /// Serve the embedded store's Kumiho REST API alone (`/api/v1`), so several gateways on this host can
    /// share it (`[kumiho] mode = "remote"`, `api_url = "http://127.0.0.1:PORT"`). Binds loopback unless
    /// `--host` says otherwise and `[gateway] allow_public_bind` allows it.
    Serve {
        /// Token clients must send in `X-Kumiho-Token` (default: `[kumiho] service_token`, else
        /// $KUMIHO_SERVICE_TOKEN; none: no token required on loopback).
        #[arg(long)]
        token: Option<String>,
    },
}

/// `token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a device and print its token once, on stdout.
    Create {
        /// The device's name.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: read, chat, admin, terminal.
        #[arg(long)]
        scopes: String,
        /// Days until the token stops working (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// One device per line: id, name, scopes, last seen, expiry (tab-separated).
    List,
    /// Revoke a device (its token stops working at once).
    Revoke {
        /// The device id.
        id: String,
    },
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective values (secrets masked); exit 1 if invalid.
    Check,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default_and_flags_go_anywhere() {
        let cli = Cli::try_parse_from(["construct-gateway", "--port", "0"]).expect("parse");
        assert!(cli.command.is_none());
        assert_eq!(cli.global.port, Some(0));
        let cli = Cli::try_parse_from(["construct-gateway", "serve", "--host", "localhost"]).expect("parse");
        assert!(matches!(cli.command, Some(Command::Serve)));
        assert_eq!(cli.global.host.as_deref(), Some("localhost"));
        let cli = Cli::try_parse_from(["construct-gateway", "config", "check", "--log-format", "json"])
            .expect("parse");
        assert_eq!(cli.global.log_format, LogFormat::Json);
        assert!(Cli::try_parse_from(["construct-gateway", "--port", "70000"]).is_err());
        let cli =
            Cli::try_parse_from(["construct-gateway", "kumiho", "serve", "--port", "9000", "--token", "t"])
                .expect("parse");
        assert!(matches!(
            cli.command,
            Some(Command::Kumiho { command: KumihoCommand::Serve { token: Some(_) } })
        ));
    }
}
