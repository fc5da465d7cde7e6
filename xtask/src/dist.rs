//! `cargo xtask dist`: the release tarball.
//!
//! `dist/construct-gateway-<version>-<target>.tar.gz` holds, under one top directory: the release binary
//! (with the committed dashboard embedded, checked against its sources first), README, the licenses and a
//! list of the third-party crates inside with theirs, an example configuration with every key documented,
//! a systemd unit, shell completions and a man page (both printed by the binary itself). `dist/SHA256SUMS`
//! lists the checksum of every tarball in `dist/`.
//!
//! Reproducible: the same sources and toolchain give the same bytes. The binary is built in its own target
//! directory with the checkout and cargo paths remapped, so where the tree lives does not leak into it;
//! the archive has its entries sorted, owners and permissions normalised, every time stamp set to the
//! last commit's, and a gzip header without name or time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::ci::workspace_root;

/// One file of the archive: its path under the top directory, its bytes, its mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub bytes: Vec<u8>,
    pub mode: u32,
}

impl Entry {
    fn file(path: &str, bytes: Vec<u8>) -> Self {
        Entry { path: path.to_owned(), bytes, mode: 0o644 }
    }
}

/// A `.tar.gz` of `entries` under `top/`, byte-for-byte the same for the same entries in any order:
/// sorted paths, owner root (0:0, no names), modes as given, every time `mtime`, and a gzip header
/// without a file name or time.
pub fn pack(top: &str, entries: &[Entry], mtime: u64) -> anyhow::Result<Vec<u8>> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0].path == pair[1].path) {
        bail!("two archive entries are both {}", pair[0].path);
    }
    let gzip = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
    let mut archive = tar::Builder::new(gzip);
    archive.mode(tar::HeaderMode::Deterministic);
    let mut directories = std::collections::BTreeSet::new();
    for entry in sorted {
        // Parent directories first, once each, so the archive unpacks with sane permissions.
        let mut parent = String::new();
        for part in entry.path.split('/').collect::<Vec<_>>().split_last().map_or(&[][..], |(_, dirs)| dirs) {
            parent = if parent.is_empty() { (*part).to_owned() } else { format!("{parent}/{part}") };
            if directories.insert(parent.clone()) {
                let mut header = header(tar::EntryType::Directory, 0o755, 0, mtime);
                archive.append_data(&mut header, format!("{top}/{parent}/"), std::io::empty())?;
            }
        }
        let mut header = header(tar::EntryType::Regular, entry.mode, entry.bytes.len() as u64, mtime);
        archive.append_data(&mut header, format!("{top}/{}", entry.path), entry.bytes.as_slice())?;
    }
    let gzip = archive.into_inner()?;
    Ok(gzip.finish()?)
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// `SHA256SUMS` lines (`<hex>  <name>`, sorted by name) for `files`.
pub fn sha256sums(files: &[(String, Vec<u8>)]) -> String {
    let mut lines: Vec<String> =
        files.iter().map(|(name, bytes)| format!("{}  {name}", hex::encode(Sha256::digest(bytes)))).collect();
    lines.sort_by(|a, b| a[66..].cmp(&b[66..]));
    lines.into_iter().map(|line| line + "\n").collect()
}

/// The third-party crates linked into `package` (normal dependencies, on `target`), one line each:
/// name, version, license expression, repository.
pub fn third_party_licenses(metadata: &serde_json::Value, package: &str) -> anyhow::Result<String> {
    let packages = metadata["packages"].as_array().context("cargo metadata: no packages")?;
    let by_id: std::collections::HashMap<&str, &serde_json::Value> =
        packages.iter().filter_map(|p| Some((p["id"].as_str()?, p))).collect();
    let root = packages
        .iter()
        .find(|p| p["name"] == package)
        .and_then(|p| p["id"].as_str())
        .with_context(|| format!("cargo metadata: no package {package}"))?;
    let nodes: std::collections::HashMap<&str, &serde_json::Value> = metadata["resolve"]["nodes"]
        .as_array()
        .context("cargo metadata: no resolve graph")?
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        let Some(node) = nodes.get(id) else { continue };
        for dep in node["deps"].as_array().into_iter().flatten() {
            // Only what is linked into the binary: normal dependencies (kind null), not dev or build.
            let linked = dep["dep_kinds"].as_array().into_iter().flatten().any(|k| k["kind"].is_null());
            if let (true, Some(dep_id)) = (linked, dep["pkg"].as_str())
                && seen.insert(dep_id)
            {
                stack.push(dep_id);
            }
        }
    }
    let mut lines = Vec::new();
    for id in seen {
        let Some(p) = by_id.get(id) else { continue };
        // The workspace's own crates are covered by LICENSE-MIT and LICENSE-APACHE.
        if p["source"].is_null() {
            continue;
        }
        lines.push(format!(
            "{} {}\t{}\t{}",
            p["name"].as_str().unwrap_or("?"),
            p["version"].as_str().unwrap_or("?"),
            p["license"].as_str().unwrap_or("(see the crate)"),
            p["repository"].as_str().unwrap_or(""),
        ));
    }
    lines.sort();
    Ok(format!(
        "Third-party crates linked into construct-gateway, with their licenses (SPDX expressions).\n\
         Their license texts are in each crate's source, on crates.io.\n\n{}\n",
        lines.join("\n")
    ))
}

fn output(program: &str, args: &[&str], dir: &Path) -> anyhow::Result<Vec<u8>> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("running {program} {}", args.join(" ")))?;
    if !out.status.success() {
        bail!("`{program} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(out.stdout)
}

fn text(bytes: Vec<u8>) -> anyhow::Result<String> {
    Ok(String::from_utf8(bytes)?.trim().to_owned())
}

/// Steps, shown as a progress bar on a terminal and as plain lines otherwise (CI logs).
struct Progress(ProgressBar);

impl Progress {
    fn new(steps: u64) -> Self {
        let bar = ProgressBar::new(steps);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(bar)
    }

    fn step(&self, message: &str) {
        self.0.inc(1);
        self.0.set_message(message.to_owned());
        if self.0.is_hidden() {
            eprintln!("xtask dist: {message}");
        }
    }

    /// Runs a command whose own output would fight the bar: the bar is suspended while it runs.
    fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        self.0.suspend(f)
    }
}

/// Builds the tarball and `SHA256SUMS` in `dist/`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    if !args.is_empty() {
        bail!("usage: cargo xtask dist");
    }
    let root = workspace_root();
    let progress = Progress::new(6);

    progress.step("checking the embedded dashboard against its sources");
    progress.suspend(|| crate::web::run(&["--check".to_owned()]))?;

    progress.step("building the release binary");
    let version = env!("CARGO_PKG_VERSION");
    let host = text(output("rustc", &["-vV"], &root)?)?;
    let target = host
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .context("rustc -vV names no host")?
        .to_owned();
    let target_dir = root.join("target").join("dist");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let rustflags = format!(
        "--remap-path-prefix={}=/construct-gateway --remap-path-prefix={}=/cargo",
        root.display(),
        cargo_home.display()
    );
    let status = progress.suspend(|| {
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .args(["build", "--release", "--locked", "-p", "construct-gateway-bin"])
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("RUSTFLAGS", &rustflags)
            .env("CARGO_INCREMENTAL", "0")
            .status()
    })?;
    if !status.success() {
        bail!("the release build failed ({status})");
    }
    let binary = target_dir.join("release").join("construct-gateway");

    progress.step("generating completions, the manual and the license list");
    let bin = binary.to_str().context("binary path")?;
    let mut entries = vec![
        Entry { path: "bin/construct-gateway".into(), bytes: std::fs::read(&binary)?, mode: 0o755 },
        Entry::file("share/man/man1/construct-gateway.1", output(bin, &["man"], &root)?),
        Entry::file(
            "share/bash-completion/completions/construct-gateway",
            output(bin, &["completions", "bash"], &root)?,
        ),
        Entry::file(
            "share/zsh/site-functions/_construct-gateway",
            output(bin, &["completions", "zsh"], &root)?,
        ),
        Entry::file(
            "share/fish/vendor_completions.d/construct-gateway.fish",
            output(bin, &["completions", "fish"], &root)?,
        ),
    ];
    let metadata: serde_json::Value = serde_json::from_slice(&output(
        "cargo",
        &["metadata", "--format-version", "1", "--locked", "--filter-platform", &target],
        &root,
    )?)?;
    entries.push(Entry::file(
        "THIRD-PARTY-LICENSES.txt",
        third_party_licenses(&metadata, "construct-gateway-bin")?.into_bytes(),
    ));

    progress.step("collecting the documents");
    for (from, to) in [
        ("README.md", "README.md"),
        ("LICENSE-MIT", "LICENSE-MIT"),
        ("LICENSE-APACHE", "LICENSE-APACHE"),
        ("docs/gateway.example.toml", "gateway.example.toml"),
        ("packaging/construct-gateway.service", "systemd/construct-gateway.service"),
    ] {
        let bytes = std::fs::read(root.join(from)).with_context(|| format!("reading {from}"))?;
        entries.push(Entry::file(to, bytes));
    }

    progress.step("packing");
    // Every time stamp is the last commit's, so a rebuild of the same commit gives the same bytes.
    let mtime: u64 = text(output("git", &["log", "-1", "--format=%ct"], &root)?)?.parse()?;
    let name = format!("construct-gateway-{version}-{target}");
    let tarball = pack(&name, &entries, mtime)?;
    let dist = root.join("dist");
    std::fs::create_dir_all(&dist)?;
    let file = format!("{name}.tar.gz");
    std::fs::write(dist.join(&file), &tarball)?;

    progress.step("writing SHA256SUMS");
    let mut tarballs = Vec::new();
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if name.ends_with(".tar.gz") {
            tarballs.push((name, std::fs::read(&path)?));
        }
    }
    std::fs::File::create(dist.join("SHA256SUMS"))?.write_all(sha256sums(&tarballs).as_bytes())?;
    progress.0.finish_and_clear();
    eprintln!(
        "xtask dist: {} ({:.1} MB), sha256 {}",
        dist.join(&file).display(),
        tarball.len() as f64 / 1e6,
        hex::encode(Sha256::digest(&tarball))
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn entries() -> Vec<Entry> {
        vec![
            Entry { path: "bin/tool".into(), bytes: b"\x7fELF".to_vec(), mode: 0o755 },
            Entry::file("README.md", b"# hi\n".to_vec()),
            Entry::file("share/man/man1/tool.1", b".TH tool 1\n".to_vec()),
        ]
    }

    #[test]
    fn packing_is_deterministic_whatever_the_order() {
        let mut reversed = entries();
        reversed.reverse();
        let one = pack("tool-1.0", &entries(), 1_700_000_000).unwrap();
        let two = pack("tool-1.0", &reversed, 1_700_000_000).unwrap();
        assert_eq!(one, two);
        assert_ne!(one, pack("tool-1.0", &entries(), 1_700_000_001).unwrap(), "the time is the input's");
        assert_eq!(&one[4..8], &[0, 0, 0, 0], "no time in the gzip header");
    }

    #[test]
    fn the_archive_unpacks_to_normalised_files_under_one_directory() {
        let packed = pack("tool-1.0", &entries(), 1_700_000_000).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(packed.as_slice()));
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header().clone();
            let path = entry.path().unwrap().display().to_string();
            assert!(path.starts_with("tool-1.0/"), "{path}");
            assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
            assert_eq!(header.mtime().unwrap(), 1_700_000_000);
            let mut body = Vec::new();
            entry.read_to_end(&mut body).unwrap();
            seen.push((path, header.mode().unwrap(), body));
        }
        let names: Vec<&str> = seen.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "tool-1.0/README.md",
                "tool-1.0/bin/",
                "tool-1.0/bin/tool",
                "tool-1.0/share/",
                "tool-1.0/share/man/",
                "tool-1.0/share/man/man1/",
                "tool-1.0/share/man/man1/tool.1"
            ]
        );
        assert_eq!((seen[2].1, seen[2].2.as_slice()), (0o755, &b"\x7fELF"[..]));
        assert_eq!(seen[0].1, 0o644);
    }

    #[test]
    fn a_path_given_twice_is_refused() {
        let mut twice = entries();
        twice.push(Entry::file("README.md", Vec::new()));
        assert!(pack("t", &twice, 0).is_err());
    }

    #[test]
    fn sums_are_sorted_sha256_lines() {
        let sums = sha256sums(&[("b.tar.gz".into(), b"b".to_vec()), ("a.tar.gz".into(), Vec::new())]);
        assert_eq!(
            sums,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.tar.gz\n\
             3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b.tar.gz\n"
        );
    }

    #[test]
    fn the_license_list_follows_linked_dependencies_only() {
        let metadata = serde_json::json!({
            "packages": [
                {"id": "app", "name": "app", "version": "1.0.0", "license": "MIT", "source": null},
                {"id": "lib", "name": "lib", "version": "2.0.0", "license": "Apache-2.0", "repository": "https://x", "source": "registry"},
                {"id": "deep", "name": "deep", "version": "0.1.0", "license": "ISC", "source": "registry"},
                {"id": "testonly", "name": "testonly", "version": "3.0.0", "license": "GPL-3.0", "source": "registry"},
            ],
            "resolve": {"nodes": [
                {"id": "app", "deps": [
                    {"pkg": "lib", "dep_kinds": [{"kind": null}]},
                    {"pkg": "testonly", "dep_kinds": [{"kind": "dev"}]},
                ]},
                {"id": "lib", "deps": [{"pkg": "deep", "dep_kinds": [{"kind": null}]}]},
                {"id": "deep", "deps": []},
                {"id": "testonly", "deps": []},
            ]}
        });
        let list = third_party_licenses(&metadata, "app").unwrap();
        assert!(
            list.contains("deep 0.1.0\tISC\t\n") && list.contains("lib 2.0.0\tApache-2.0\thttps://x"),
            "{list}"
        );
        assert!(!list.contains("testonly") && !list.contains("app 1.0.0"), "{list}");
    }
}
