//! `cargo xtask api-fuzz [--max-examples N] [--seed N] [--max-time S] [-- ARGS]`: schemathesis against the real gateway.
//!
//! The debug binary runs on a loopback port with the echo provider, an admin bootstrap token
//! (`bootstrap_token_mode = "always"`) and the ClawHub routes pointed at a fake registry that speaks ClawHub's
//! API, so every operation in `docs/api/openapi.json` can answer for itself. Schemathesis (pinned in
//! `xtask/api-fuzz/requirements.txt`, installed into `target/api-fuzz/venv` once) then sends the document's
//! examples and generated requests, valid and invalid, with every check on: no 5xx, every status, content
//! type, header and body as documented, schema-valid input accepted and invalid input refused, and the
//! credentials honoured. The run fails on any finding, and also if the gateway logged a panic.
//!
//! The seed is fixed, so CI sends the same requests every time; pass `--seed` (or a larger
//! `--max-examples`/`--max-time`) to explore. Reports land in `target/api-fuzz/report`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use axum::extract::{Path as UrlPath, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::bench::{free_port, wait_until_listening};
use crate::ci::{target_dir, workspace_root};

/// The admin token the fuzzed gateway accepts (`CONSTRUCT_BOOTSTRAP_TOKEN`; only its hash is kept).
const TOKEN: &str = "api-fuzz-bootstrap-token-0123456789abcdef";

struct Options {
    max_examples: u32,
    seed: u64,
    max_time: Option<u32>,
    /// Everything after `--`, handed to schemathesis as is (say, `--include-path-regex '^/api/sessions'`).
    extra: Vec<String>,
}

fn options(args: &[String]) -> anyhow::Result<Options> {
    let mut options = Options { max_examples: 12, seed: 20_261_127, max_time: None, extra: Vec::new() };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--" {
            options.extra = args.cloned().collect();
            break;
        }
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--max-examples" => options.max_examples = value.parse().context("--max-examples")?,
            "--seed" => options.seed = value.parse().context("--seed")?,
            "--max-time" => options.max_time = Some(value.parse().context("--max-time")?),
            _ => bail!(
                "usage: cargo xtask api-fuzz [--max-examples N] [--seed N] [--max-time SECONDS] [-- SCHEMATHESIS ARGS]"
            ),
        }
    }
    Ok(options)
}

/// The venv with the pinned schemathesis, (re)installed when the requirements change.
fn schemathesis() -> anyhow::Result<PathBuf> {
    let requirements = workspace_root().join("xtask").join("api-fuzz").join("requirements.txt");
    let pinned = std::fs::read_to_string(&requirements).context("reading xtask/api-fuzz/requirements.txt")?;
    let venv = target_dir().join("api-fuzz").join("venv");
    let stamp = venv.join("requirements.installed");
    let binary = venv.join("bin").join("schemathesis");
    if binary.exists() && std::fs::read_to_string(&stamp).is_ok_and(|installed| installed == pinned) {
        return Ok(binary);
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    eprintln!("$ {python} -m venv {} && pip install -r {}", venv.display(), requirements.display());
    let _ = std::fs::remove_dir_all(&venv);
    let status = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .with_context(|| format!("running {python} (is Python 3 with venv installed?)"))?;
    if !status.success() {
        bail!("`{python} -m venv` failed ({status})");
    }
    let status = Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "--no-deps", "-r"])
        .arg(&requirements)
        .status()
        .context("running pip")?;
    if !status.success() {
        bail!("installing schemathesis failed ({status})");
    }
    std::fs::write(&stamp, pinned)?;
    Ok(binary)
}

/// A registry answering ClawHub's `api/v1` routes for any well-formed slug, as the real one does for a
/// published skill: search and trending lists, the detail document and its `SKILL.md`.
fn fake_clawhub() -> anyhow::Result<SocketAddr> {
    async fn search(Query(q): Query<HashMap<String, String>>) -> Response {
        let results =
            json!([{"slug": "pdf-tools", "displayName": "PDF Tools", "summary": "Read PDFs", "score": 0.9}]);
        axum::Json(json!({"results": results, "q": q.get("q")})).into_response()
    }
    async fn list() -> Response {
        axum::Json(json!({"items": [{"slug": "pdf-tools", "displayName": "PDF Tools"}], "nextCursor": null}))
            .into_response()
    }
    async fn detail(UrlPath(slug): UrlPath<String>) -> Response {
        axum::Json(json!({
            "slug": slug,
            "displayName": "PDF Tools",
            "description": "Read PDFs",
            "latestVersion": {"version": "1.0.0"},
        }))
        .into_response()
    }
    async fn file(UrlPath(slug): UrlPath<String>) -> Response {
        ([("content-type", "text/markdown")], format!("# {slug}\n\nRead and split PDFs.\n")).into_response()
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/api/v1/search", get(search))
        .route("/api/v1/skills", get(list))
        .route("/api/v1/skills/{slug}", get(detail))
        .route("/api/v1/skills/{slug}/file", get(file));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        if let Ok(runtime) = runtime {
            runtime.block_on(async move {
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    let _ = axum::serve(listener, app).await;
                }
            });
        }
    });
    Ok(addr)
}

/// Every channel configured (replies go to the discard port on loopback, where nothing listens), so each
/// webhook route checks its signature instead of answering `CHANNEL_NOT_CONFIGURED`.
const CHANNELS: &str = r#"[channels_config.webhook]
secret = "fuzz-webhook-secret"

[channels_config.whatsapp]
access_token = "fuzz-access-token"
phone_number_id = "123456789012345"
verify_token = "fuzz-verify-token"
app_secret = "fuzz-app-secret"
allowed_numbers = ["*"]
api_base_url = "http://127.0.0.1:9"

[channels_config.wati]
api_url = "http://127.0.0.1:9"
api_token = "fuzz-api-token"
allowed_numbers = ["*"]
verify_token = "fuzz-verify-token"
webhook_secret = "fuzz-webhook-secret"

[channels_config.linq]
api_token = "fuzz-api-token"
signing_secret = "fuzz-signing-secret"
allowed_senders = ["*"]
api_base_url = "http://127.0.0.1:9"

[channels_config.nextcloud_talk]
base_url = "http://127.0.0.1:9"
webhook_secret = "fuzz-webhook-secret"
allowed_users = ["*"]

[channels_config.gmail_push]
enabled = true
webhook_secret = "fuzz-webhook-secret"
"#;

/// The gateway under test, killed when dropped.
struct Gateway {
    child: std::process::Child,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_gateway(
    binary: &Path,
    scratch: &Path,
    clawhub: SocketAddr,
) -> anyhow::Result<(Gateway, SocketAddr)> {
    let port = free_port()?;
    let config = scratch.join("gateway.toml");
    // Rate limits and lockouts out of reach: the fuzzer is one client sending thousands of requests, many
    // with wrong credentials on purpose, and a 429 would hide what the route itself answers.
    std::fs::write(
        &config,
        format!(
            "[gateway]\nhost = \"127.0.0.1\"\nport = {port}\nbootstrap_token_mode = \"always\"\n\
             max_failed_token_attempts = 1000000\n\
             pair_rate_limit_per_minute = 0\nwebhook_rate_limit_per_minute = 0\napi_rate_limit_per_minute = 0\n\n\
             [gateway.pairing]\nmax_failed_attempts = 1000000\nglobal_failure_budget = 1000000\n\n\
             [provider]\nkind = \"echo\"\n\n\
             [clawhub]\napi_url = \"http://{clawhub}\"\n\n{CHANNELS}"
        ),
    )?;
    let log = scratch.join("gateway.log");
    let out = std::fs::File::create(&log)?;
    let child = Command::new(binary)
        .env_clear()
        .env("HOME", scratch)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("CONSTRUCT_BOOTSTRAP_TOKEN", TOKEN)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(scratch.join("data"))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .context("starting construct-gateway")?;
    let gateway = Gateway { child };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_until_listening(addr)?;
    Ok((gateway, addr))
}

/// Builds the gateway, starts it and runs schemathesis against it.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let options = options(args)?;
    let schemathesis = schemathesis()?;
    crate::ci::cargo(&["build", "--locked", "-p", "construct-gateway-bin"])?;
    let binary = target_dir().join("debug").join("construct-gateway");
    let scratch = tempfile::tempdir()?;
    let clawhub = fake_clawhub()?;
    let (gateway, addr) = start_gateway(&binary, scratch.path(), clawhub)?;
    let work = target_dir().join("api-fuzz");
    let report = work.join("report");
    let _ = std::fs::remove_dir_all(&report);
    // Hypothesis keeps examples between runs, which would make a run depend on the ones before it; with
    // them gone, the seed alone decides what is sent.
    for cache in [".hypothesis", ".schemathesis"] {
        let _ = std::fs::remove_dir_all(work.join(cache));
    }
    let settings = workspace_root().join("xtask").join("api-fuzz");
    // Two passes: everything but `PUT /api/config`, then that alone, since a configuration it manages to
    // save (an empty table, say) changes the gateway every later request would meet.
    // Extra arguments (filters, say) go to the first pass only: filters would widen the second.
    let passes: [(&str, &[&str], &[String]); 2] = [
        ("every operation but PUT /api/config", &["--exclude-operation-id", "put_config"], &options.extra),
        ("PUT /api/config", &["--include-operation-id", "put_config"], &[]),
    ];
    let mut failed = Vec::new();
    for (name, filter, extra) in passes {
        let mut command = Command::new(&schemathesis);
        command
            .current_dir(&work)
            .arg("--config-file")
            .arg(settings.join("schemathesis.toml"))
            .arg("run")
            .arg(workspace_root().join("docs").join("api").join("openapi.json"))
            .args(["--url", &format!("http://{addr}")])
            .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
            // Every check is on in schemathesis.toml, where the per-operation exceptions also live (a
            // `--checks` flag here would override them).
            .args(["--workers", "1"])
            .args(["--max-examples", &options.max_examples.to_string()])
            .args(["--seed", &options.seed.to_string()])
            .args(["--request-timeout", "30", "--report", "junit,har", "--report-dir"])
            .arg(&report)
            .args(filter)
            .env("PYTHONPATH", &settings)
            .env("NO_COLOR", "1");
        if let Some(seconds) = options.max_time {
            command.args(["--max-time", &seconds.to_string()]);
        }
        command.args(extra);
        eprintln!("$ schemathesis run docs/api/openapi.json --seed {} ({name})", options.seed);
        let status = command.status().context("running schemathesis")?;
        if !status.success() {
            failed.push(name);
        }
    }
    drop(gateway);
    let log = std::fs::read_to_string(scratch.path().join("gateway.log")).unwrap_or_default();
    let _ = std::fs::copy(scratch.path().join("gateway.log"), report.join("gateway.log"));
    if let Some(line) = log.lines().find(|line| line.contains("panicked")) {
        bail!("the gateway panicked during the fuzz run: {line}");
    }
    if !failed.is_empty() {
        bail!(
            "schemathesis found problems in: {}; reports and the gateway's log in {}",
            failed.join(", "),
            report.display()
        );
    }
    eprintln!("xtask api-fuzz: no findings; reports in {}", report.display());
    Ok(())
}
