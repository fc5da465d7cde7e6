//! `cargo xtask advisories`: `Cargo.lock` against the RustSec advisory database, with `cargo deny`.
//!
//! Where github.com answers, the live database is fetched and used. Where it does not (these build
//! machines), the vendored snapshot in `deny/advisory-db` (see its README: what it holds, how old it is,
//! its known gaps) becomes a local database: a git repository under `target/advisory-db`, where
//! `cargo deny --offline` looks for the default database, and the run says that it used the snapshot.
//! Before trusting a pass, the run proves the database bites: a planted advisory covering the locked
//! `tokio` must fail the same check.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::ci::{cargo, target_dir, workspace_root};

/// The directory `cargo deny` 0.20 derives from the default database URL under its `db-path`.
const DB_DIR: &str = "advisory-db-3157b0e258782691";

/// The live database.
const LIVE: &str = "https://github.com/RustSec/advisory-db";

/// Whether the live database answers within `limit`.
fn live_reachable(limit: Duration) -> bool {
    let child = Command::new("git")
        .args(["ls-remote", "--heads", LIVE])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return false };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// A planted advisory that covers every `tokio` there is: the check must fail with it.
const CANARY: &str = r#"```toml
[advisory]
id = "RUSTSEC-2099-0001"
package = "tokio"
date = "2099-01-01"
title = "Planted by cargo xtask advisories to prove the check fails on a match"

[versions]
patched = [">= 999.0.0"]
```

# Planted advisory

Never committed: written into a scratch copy of the database only.
"#;

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "xtask")
        .env("GIT_AUTHOR_EMAIL", "xtask@localhost")
        .env("GIT_COMMITTER_NAME", "xtask")
        .env("GIT_COMMITTER_EMAIL", "xtask@localhost")
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    if !status.success() {
        bail!("`git {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<usize> {
    let mut copied = 0;
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let path = entry?.path();
        let target = to.join(path.file_name().context("file name")?);
        if path.is_dir() {
            copied += copy_tree(&path, &target)?;
        } else {
            std::fs::copy(&path, &target)?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// Builds the local database under `root` from the snapshot (plus the canary when asked), committed now:
/// cargo-deny's staleness rule would otherwise judge the commit, not the data, whose age is reported here.
fn build_database(root: &Path, with_canary: bool) -> anyhow::Result<usize> {
    let db = root.join(DB_DIR);
    let _ = std::fs::remove_dir_all(&db);
    let count =
        copy_tree(&workspace_root().join("deny").join("advisory-db").join("crates"), &db.join("crates"))?;
    if with_canary {
        std::fs::create_dir_all(db.join("crates").join("tokio"))?;
        std::fs::write(db.join("crates").join("tokio").join("RUSTSEC-2099-0001.md"), CANARY)?;
    }
    git(&db, &["init", "-q"])?;
    git(&db, &["add", "-A"])?;
    git(&db, &["commit", "-q", "-m", "vendored RustSec snapshot"])?;
    Ok(count)
}

/// `deny.toml` with the local database's location.
fn config_for(root: &Path) -> anyhow::Result<PathBuf> {
    let text = std::fs::read_to_string(workspace_root().join("deny.toml")).context("reading deny.toml")?;
    let mut config: toml::Table = text.parse().context("deny.toml")?;
    let advisories = config
        .entry("advisories")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .context("[advisories] is not a table")?;
    advisories.insert("db-path".into(), toml::Value::String(root.display().to_string()));
    let path = root.join("deny.toml");
    std::fs::write(&path, toml::to_string(&config)?)?;
    Ok(path)
}

/// `cargo deny --offline check advisories` against the local database; its success and its output.
fn offline_check(config: &Path) -> anyhow::Result<(bool, String)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["deny", "--offline", "--locked", "--config"])
        .arg(config)
        .args(["check", "advisories"])
        .current_dir(workspace_root())
        .output()
        .context("running cargo deny")?;
    Ok((output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned()))
}

/// The newest `date` among the snapshot's advisories.
fn newest_advisory(dir: &Path) -> anyhow::Result<String> {
    let mut newest = String::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            newest = newest.max(newest_advisory(&path)?);
        } else if let Some(date) = std::fs::read_to_string(&path)?
            .lines()
            .find_map(|line| line.strip_prefix("date = \"").and_then(|rest| rest.strip_suffix('"')))
        {
            newest = newest.max(date.to_owned());
        }
    }
    Ok(newest)
}

/// Checks the advisories, live or against the snapshot.
pub fn run() -> anyhow::Result<()> {
    if live_reachable(Duration::from_secs(20)) {
        return cargo(&["deny", "--locked", "check", "advisories"]);
    }
    let snapshot = workspace_root().join("deny").join("advisory-db").join("crates");
    let newest = newest_advisory(&snapshot)?;
    let root = target_dir().join("advisory-db");
    std::fs::create_dir_all(&root)?;
    let config = config_for(&root)?;

    build_database(&root, true)?;
    let (passed, output) = offline_check(&config)?;
    if passed || !output.contains("RUSTSEC-2099-0001") {
        bail!(
            "the advisory check did not fail on a planted advisory for tokio, so its pass would mean nothing:\n{output}"
        );
    }
    let count = build_database(&root, false)?;
    eprintln!(
        "xtask advisories: {LIVE} cannot be reached; checking against the vendored snapshot \
         (deny/advisory-db: {count} advisories, newest {newest}; see its README for its gaps)"
    );
    let (passed, output) = offline_check(&config)?;
    eprint!("{output}");
    if !passed {
        bail!("Cargo.lock holds a crate version with a RustSec advisory (above)");
    }
    Ok(())
}
