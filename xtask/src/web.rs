//! `cargo xtask web [--check]`: builds the dashboard (`web-dashboard/`) with its locked dependencies into
//! `web-dashboard/dist`, which is committed and embedded in the binary. With `--check`, runs its unit tests
//! (Vitest), builds into a scratch directory instead and fails when the committed `dist` differs (the
//! sources changed without a rebuild) or when the first load is over its size budget. The build is
//! reproducible (content-hashed names, no timestamps), so any difference is real.
//!
//! `cargo xtask web-e2e`: the browser end-to-end test (`web-dashboard/e2e/`): Debian's Chromium, driven by
//! playwright-core, against the real gateway binary; screenshots of every view land in
//! `target/dashboard-e2e/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::ci::workspace_root;

fn npm(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("$ npm {} (in {})", args.join(" "), dir.display());
    let status = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .status()
        .context("running npm (is Node.js installed?)")?;
    if !status.success() {
        bail!("`npm {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Every file under `root`, by relative path, with its bytes.
fn files(root: &Path) -> anyhow::Result<BTreeMap<PathBuf, Vec<u8>>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(root)?.to_owned();
                found.insert(relative, std::fs::read(&path)?);
            }
        }
    }
    Ok(found)
}

/// Builds the dashboard, or checks the committed build.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => bail!("usage: cargo xtask web [--check]"),
    };
    let dir = workspace_root().join("web-dashboard");
    npm(&dir, &["ci", "--no-audit", "--no-fund"])?;
    if !check {
        npm(&dir, &["run", "build"])?;
        eprintln!("xtask web: built {}; commit it", dir.join("dist").display());
        return Ok(());
    }
    npm(&dir, &["test"])?;
    let scratch = tempfile::tempdir()?;
    let out = scratch.path().join("dist");
    npm(&dir, &["run", "build", "--", "--outDir", out.to_str().context("scratch path")?])?;
    let (built, committed) = (files(&out)?, files(&dir.join("dist"))?);
    if built != committed {
        let names = |m: &BTreeMap<PathBuf, Vec<u8>>| {
            m.keys().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        };
        bail!(
            "web-dashboard/dist is stale: the sources build to [{}] but [{}] is committed; run `cargo xtask web` and commit",
            names(&built),
            names(&committed)
        );
    }
    eprintln!("xtask web: the committed dashboard matches its sources");
    let status = Command::new("node").arg("scripts/budget.mjs").arg(&out).current_dir(&dir).status()?;
    if !status.success() {
        bail!("the dashboard's first load is over its size budget");
    }
    Ok(())
}

/// The Chromium the end-to-end test drives (`CHROMIUM`, else Debian's).
fn chromium() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !path.exists() {
        bail!("{} is missing: install Debian's chromium package (or set CHROMIUM)", path.display());
    }
    Ok(path)
}

/// Builds the gateway binary (embedding the committed dashboard) and runs the browser test against it.
pub fn e2e() -> anyhow::Result<()> {
    let chromium = chromium()?;
    crate::ci::cargo(&["build", "--locked", "-p", "construct-gateway-bin"])?;
    let root = workspace_root();
    let target = crate::ci::target_dir();
    let binary = target.join("debug").join("construct-gateway");
    let out = target.join("dashboard-e2e");
    let dir = root.join("web-dashboard");
    if !dir.join("node_modules").exists() {
        npm(&dir, &["ci", "--no-audit", "--no-fund"])?;
    }
    eprintln!("$ npm run e2e (in {})", dir.display());
    let status = Command::new("npm")
        .args(["run", "e2e"])
        .current_dir(&dir)
        .env("CONSTRUCT_GATEWAY_BIN", &binary)
        .env("CONSTRUCT_E2E_OUT", &out)
        .env("CHROMIUM", &chromium)
        .status()
        .context("running npm")?;
    if !status.success() {
        bail!("the dashboard's end-to-end test failed ({status}); screenshots in {}", out.display());
    }
    eprintln!("xtask web-e2e: passed; screenshots in {}", out.display());
    Ok(())
}
