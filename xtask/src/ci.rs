//! `cargo xtask ci`: formatting, lints, tests (the README's test command), the generated configuration
//! docs' and OpenAPI document's freshness, the dependency policy, the API fuzz run, then the dashboard's
//! build check and its browser test.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The cargo target directory (`CARGO_TARGET_DIR`, else `target/` in the workspace).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// Runs `cargo` with `args` in the workspace root and fails if it fails.
pub fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The CI pipeline.
pub fn run() -> anyhow::Result<()> {
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])?;
    cargo(&["test", "--workspace", "--locked"])?;
    // The configuration reference and example are generated from the config types.
    crate::config_docs::run(&["--check".into()])?;
    // The OpenAPI document is generated from the handlers' annotations.
    crate::openapi::run(&["--check".into()])?;
    // The dependency policy (deny.toml): licenses, bans and sources, then the RustSec advisories (the live
    // database where github.com answers, else the vendored snapshot).
    cargo(&["deny", "--locked", "check", "bans", "licenses", "sources"])?;
    crate::advisories::run()?;
    // The real binary against its own OpenAPI document: no 5xx, every answer as documented.
    crate::api_fuzz::run(&[])?;
    // The embedded dashboard must be what its sources build to, and work in a real browser.
    crate::web::run(&["--check".to_owned()])?;
    crate::web::e2e()?;
    eprintln!("xtask ci: all checks passed");
    Ok(())
}
