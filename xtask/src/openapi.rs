//! `cargo xtask openapi [--check]`: writes the gateway's OpenAPI document to `docs/api/openapi.json`, or with
//! `--check` fails when the committed copy differs from what the code describes.

use anyhow::bail;

use crate::ci::workspace_root;

/// Writes or checks `docs/api/openapi.json`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => bail!("usage: cargo xtask openapi [--check]"),
    };
    let path = workspace_root().join("docs").join("api").join("openapi.json");
    let document = construct_gateway::openapi::document_json();
    if check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != document {
            let line = committed
                .lines()
                .zip(document.lines())
                .position(|(a, b)| a != b)
                .map_or_else(|| committed.lines().count().min(document.lines().count()) + 1, |i| i + 1);
            bail!(
                "docs/api/openapi.json is stale (first difference at line {line}); run `cargo xtask openapi` and commit"
            );
        }
        eprintln!("xtask openapi: docs/api/openapi.json matches the code");
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().unwrap_or(&path))?;
    std::fs::write(&path, document)?;
    eprintln!("xtask openapi: wrote {}", path.display());
    Ok(())
}
