//! `construct-gateway`: the command that runs Construct Gateway.
//!
//! A thin shell over the `construct-gateway` library: parse the command line, load and validate the
//! configuration, set up logging, and hand over to `run_gateway_with`, printing the banner once the
//! socket is bound. Every decision about *how* to serve lives in the library, so embedders get the same
//! behaviour.

mod banner;
mod cli;
mod kumiho_serve;
mod pair_code;
mod token;

use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, Parser};
use construct_core::config::{ConfigSources, EnvVars, LoadedConfig, load};
use construct_core::events::EventBus;
use construct_gateway::logs::LogCapture;

use crate::cli::{Cli, Command, ConfigCommand, KumihoCommand, LogFormat, TokenCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Completions and the manual need no configuration, no logging, nothing but the command line itself.
    match &cli.command {
        Some(Command::Completions { shell }) => return print_completions(*shell),
        Some(Command::Man) => return print_manual(),
        _ => {}
    }
    let logs = init_tracing(cli.global.log_format);
    route_panics_to_tracing();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Doctor = command {
        return match load_config(&cli.global).and_then(|loaded| doctor(&loaded)) {
            Ok(code) => ExitCode::from(code),
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(2)
            }
        };
    }
    let result = match command {
        Command::Doctor | Command::Completions { .. } | Command::Man => Ok(()),
        Command::Serve => serve(&cli.global, logs),
        Command::Config { command: ConfigCommand::Check } => config_check(&cli.global),
        Command::PairCode { new } => load_config(&cli.global).and_then(|loaded| pair_code::run(&loaded, new)),
        Command::Token { command } => load_config(&cli.global).and_then(|loaded| match command {
            TokenCommand::Create { name, scopes, expires_days } => {
                token::create(&loaded, &name, &scopes, expires_days)
            }
            TokenCommand::List => token::list(&loaded),
            TokenCommand::Revoke { id } => token::revoke(&loaded, &id),
        }),
        Command::Kumiho { command: KumihoCommand::Serve { token } } => {
            load_config(&cli.global).and_then(|loaded| kumiho_serve::run(&loaded, token))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(global: &cli::GlobalArgs) -> anyhow::Result<LoadedConfig> {
    let sources = ConfigSources {
        config_file: global.config.clone(),
        data_dir: global.data_dir.clone(),
        host: global.host.clone(),
        port: global.port,
        env: EnvVars::from_process(),
    };
    let loaded = load(&sources)?;
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    Ok(loaded)
}

fn serve(global: &cli::GlobalArgs, logs: Arc<dyn EventBus>) -> anyhow::Result<()> {
    let loaded = load_config(global)?;
    let config_file = loaded.config_file.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(construct_gateway::run_gateway_logged(loaded, Some(logs), |listening| {
        banner::print(&banner::Banner { listening, config_file: config_file.as_deref() });
    }))?;
    tracing::info!("stopped");
    Ok(())
}

/// Prints the check-up, one finding per line; returns the exit status (0 ok, 1 warnings, 2 errors).
fn doctor(loaded: &LoadedConfig) -> anyhow::Result<u8> {
    use construct_api::doctor::Severity;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    construct_core::config::ensure_data_dir(&loaded.data_dir)?;
    let kumiho = construct_gateway::open_kumiho(loaded)?;
    let report = runtime.block_on(construct_api::doctor::diagnose(
        &loaded.config,
        &loaded.data_dir,
        &*kumiho.api(),
        &construct_api::outbound_client(),
        None,
    ));
    for finding in &report.findings {
        let tag = match finding.severity {
            Severity::Ok => "ok",
            Severity::Warn => "WARN",
            Severity::Error => "ERROR",
        };
        println!("[{tag}] {}: {}", finding.category, finding.message);
        if let Some(fix) = &finding.fix {
            println!("        fix: {fix}");
        }
    }
    let summary = report.to_json()["summary"].clone();
    println!("{} ok, {} warnings, {} errors", summary["ok"], summary["warnings"], summary["errors"]);
    Ok(match report.worst() {
        Severity::Ok => 0,
        Severity::Warn => 1,
        Severity::Error => 2,
    })
}

fn config_check(global: &cli::GlobalArgs) -> anyhow::Result<()> {
    let loaded = load_config(global)?;
    let file = loaded
        .config_file
        .as_ref()
        .map_or_else(|| "(none: defaults)".to_owned(), |p| p.display().to_string());
    println!("# configuration is valid");
    println!("# config file: {file}");
    println!("# data dir:    {}", loaded.data_dir.display());
    for warning in &loaded.warnings {
        println!("# warning: {warning}");
    }
    print!("{}", toml::to_string_pretty(&loaded.config)?);
    Ok(())
}

/// Logs to stderr, and into the in-memory ring `GET /api/daemon/logs` serves; returns the ring.
fn init_tracing(format: LogFormat) -> Arc<dyn EventBus> {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (capture, logs) = LogCapture::new();
    let registry = tracing_subscriber::registry().with(filter).with(capture);
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match format {
        LogFormat::Json => registry.with(stderr.json()).init(),
        LogFormat::Pretty => registry.with(stderr).init(),
    }
    logs
}

/// Panics go through tracing (one structured line, JSON when asked for) instead of the default hook's
/// free-form stderr text. Handler panics are already caught and logged by the gateway; this covers the rest.
fn route_panics_to_tracing() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("(non-string panic payload)");
        tracing::error!(panic = payload, %location, "panic");
    }));
}

/// `completions SHELL`: the completion script, generated from the command line's own definition.
fn print_completions(shell: clap_complete::Shell) -> ExitCode {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "construct-gateway", &mut std::io::stdout());
    ExitCode::SUCCESS
}

/// `man`: the manual page (options, and the subcommands with what each does).
fn print_manual() -> ExitCode {
    let mut page = Vec::new();
    let rendered = clap_mangen::Man::new(Cli::command()).render(&mut page);
    match rendered.and_then(|()| std::io::Write::write_all(&mut std::io::stdout(), &page)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
