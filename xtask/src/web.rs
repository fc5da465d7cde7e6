//! `cargo xtask web [--check]`: builds the dashboard (`web-dashboard/`) with its locked dependencies into
//! `web-dashboard/dist`, which is committed and embedded in the binary. With `--check`, builds into a
//! scratch directory instead and fails when the committed `dist` differs: the dashboard's sources changed
//! without a rebuild. The build is reproducible (content-hashed names, no timestamps), so any difference is
//! real.

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
    Ok(())
}
