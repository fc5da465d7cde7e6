//! `construct-gateway`: the command that runs Construct Gateway.
//!
//! A thin shell over the `construct-gateway` library: parse the command line, load and validate the
//! configuration, set up logging, print the banner, serve until a signal arrives. Every decision about
//! *how* to serve lives in the library, so embedders get the same behaviour.

mod banner;
mod cli;

use std::process::ExitCode;

use clap::Parser;
use construct_core::config::{ConfigSources, EnvVars, LoadedConfig, ensure_data_dir, load};
use construct_gateway::{Gateway, shutdown_signal};

use crate::cli::{Cli, Command, ConfigCommand, LogFormat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.global),
        Command::Config { command: ConfigCommand::Check } => config_check(&cli.global),
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

fn serve(global: &cli::GlobalArgs) -> anyhow::Result<()> {
    let loaded = load_config(global)?;
    ensure_data_dir(&loaded.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let config_file = loaded.config_file.clone();
        let gateway = Gateway::builder(loaded).build()?;
        let listener = gateway.bind().await?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "listening");
        let paired = gateway.state().devices.device_count().await.map(|n| n > 0).unwrap_or(false);
        banner::print(&banner::Banner {
            addr,
            prefix: gateway.state().config.gateway.prefix(),
            data_dir: &gateway.data_dir(),
            config_file: config_file.as_deref(),
            require_pairing: gateway.state().config.gateway.require_pairing,
            paired,
        });
        gateway.serve(listener, shutdown_signal()).await?;
        tracing::info!("stopped");
        anyhow::Ok(())
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

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}
