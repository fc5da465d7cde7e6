//! What this gateway offers, as the dashboard lists it: `GET /api/tools`, `GET /api/integrations`,
//! `GET /api/integrations/settings` and `GET /api/cli-tools` (read).
//!
//! Honest content only: integrations are the ones this gateway really has, marked `Active` when configured
//! and `Available` when not (nothing is `ComingSoon`); the tool list is empty with `"supported": false`
//! until the gateway serves agent tools; command-line tools are found by scanning `PATH`, and their
//! versions are probed at most once per [`CLI_CACHE`] in the background of one request, each probe bounded
//! by [`PROBE_TIMEOUT`] (upstream spawned every probe inside the handler on every call).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::extract::State;
use construct_core::config::{Config, ProviderKind};
use construct_core::extract::Json;
use serde_json::{Value, json};

use crate::ApiState;

/// How long a discovery of command-line tools is reused.
pub const CLI_CACHE: Duration = Duration::from_secs(600);
/// Longest a `--version` probe may run.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Command-line tools looked for, with their categories.
const CLI_TOOLS: &[(&str, &str)] = &[
    ("git", "VersionControl"),
    ("gh", "VersionControl"),
    ("hg", "VersionControl"),
    ("python3", "Language"),
    ("node", "Language"),
    ("deno", "Language"),
    ("bun", "Language"),
    ("ruby", "Language"),
    ("go", "Language"),
    ("rustc", "Language"),
    ("java", "Language"),
    ("npm", "PackageManager"),
    ("pnpm", "PackageManager"),
    ("yarn", "PackageManager"),
    ("pip3", "PackageManager"),
    ("uv", "PackageManager"),
    ("cargo", "PackageManager"),
    ("brew", "PackageManager"),
    ("docker", "Container"),
    ("podman", "Container"),
    ("kubectl", "Container"),
    ("make", "Build"),
    ("cmake", "Build"),
    ("ninja", "Build"),
    ("gcc", "Build"),
    ("clang", "Build"),
    ("aws", "Cloud"),
    ("gcloud", "Cloud"),
    ("az", "Cloud"),
    ("terraform", "Cloud"),
    ("claude", "AiAgent"),
    ("codex", "AiAgent"),
    ("opencode", "AiAgent"),
    ("gemini", "AiAgent"),
    ("aider", "AiAgent"),
    ("jq", "Productivity"),
    ("rg", "Productivity"),
    ("tmux", "Productivity"),
];

/// A remembered discovery.
#[derive(Default)]
pub struct CliCache(tokio::sync::Mutex<Option<(Instant, Value)>>);

/// `GET /api/tools`: the agent tools this gateway serves. None yet: the MCP server brings them.
#[utoipa::path(
    get,
    path = "/api/tools",
    tag = "catalog",
    operation_id = "list_tools",
    summary = "The agent tools this gateway serves (none yet)",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "An empty list with the reason.", body = crate::openapi::schemas::ToolList),
    )
)]
pub(crate) async fn tools() -> Json<Value> {
    Json(json!({
        "tools": [],
        "supported": false,
        "reason": "this gateway serves no agent tools of its own; the agent's provider runs its tools",
    }))
}

/// One integration: name, what it does, category, and whether the configuration turns it on.
fn integrations_of(config: &Config) -> Vec<(&'static str, String, &'static str, bool)> {
    let channels = &config.channels_config;
    let provider = &config.provider;
    vec![
        ("Webhook", "POST /webhook: prompts from any HTTP client".into(), "Platform", true),
        ("WhatsApp", "WhatsApp Cloud API messages".into(), "Chat", channels.whatsapp.is_some()),
        ("WATI", "WhatsApp through WATI".into(), "Chat", channels.wati.is_some()),
        ("Linq", "iMessage and SMS through Linq".into(), "Chat", channels.linq.is_some()),
        ("Nextcloud Talk", "Nextcloud Talk bot messages".into(), "Chat", channels.nextcloud_talk.is_some()),
        (
            "Gmail",
            "Gmail push notifications".into(),
            "Productivity",
            channels.gmail_push.as_ref().is_some_and(|g| g.enabled),
        ),
        (
            "OpenAI-compatible",
            format!("Any /chat/completions provider (model {})", provider.model),
            "AiModel",
            provider.kind == ProviderKind::Openai,
        ),
        (
            "Echo",
            "Repeats the user's words, for demos and tests".into(),
            "AiModel",
            provider.kind == ProviderKind::Echo,
        ),
        (
            "Kumiho",
            format!(
                "Graph memory ({})",
                if config.kumiho.mode == construct_core::config::KumihoMode::Local {
                    "embedded"
                } else {
                    "remote"
                }
            ),
            "Platform",
            true,
        ),
        ("ClawHub", "Skill registry".into(), "ToolsAutomation", config.clawhub.enabled),
        ("Nodes", "Remote capability providers over WebSocket".into(), "Platform", config.nodes.enabled),
        ("Terminal", "A shell in the dashboard".into(), "ToolsAutomation", config.terminal.enabled),
    ]
}

fn status(active: bool) -> &'static str {
    if active { "Active" } else { "Available" }
}

/// `GET /api/integrations`.
#[utoipa::path(
    get,
    path = "/api/integrations",
    tag = "catalog",
    operation_id = "list_integrations",
    summary = "The integrations this gateway has",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "Every integration, `Active` or `Available`.", body = crate::openapi::schemas::IntegrationList),
    )
)]
pub(crate) async fn integrations(State(state): State<ApiState>) -> Json<Value> {
    let list: Vec<Value> = integrations_of(&state.config())
        .into_iter()
        .map(|(name, description, category, active)| {
            json!({"name": name, "description": description, "category": category, "status": status(active)})
        })
        .collect();
    Json(json!({"integrations": list}))
}

/// `GET /api/integrations/settings`.
#[utoipa::path(
    get,
    path = "/api/integrations/settings",
    tag = "catalog",
    operation_id = "integration_settings",
    summary = "Each integration's setting, by name",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "By integration name.", body = crate::openapi::schemas::IntegrationSettings),
    )
)]
pub(crate) async fn integration_settings(State(state): State<ApiState>) -> Json<Value> {
    let settings: serde_json::Map<String, Value> = integrations_of(&state.config())
        .into_iter()
        .map(|(name, _, category, active)| {
            (name.to_owned(), json!({"enabled": active, "category": category, "status": status(active)}))
        })
        .collect();
    Json(json!({"settings": settings}))
}

/// The executable called `name` in one of `path_dirs`, first match.
fn find_executable(name: &str, path_dirs: &[PathBuf]) -> Option<PathBuf> {
    path_dirs.iter().map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// The first line of `path --version`, or none when it fails or takes longer than [`PROBE_TIMEOUT`].
async fn probe_version(path: &Path) -> Option<String> {
    let child = tokio::process::Command::new(path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PROBE_TIMEOUT, child).await.ok()?.ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(200).collect())
}

async fn discover() -> Value {
    let dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    let found: Vec<(&str, &str, PathBuf)> = {
        let dirs = dirs.clone();
        tokio::task::spawn_blocking(move || {
            CLI_TOOLS
                .iter()
                .filter_map(|(name, category)| {
                    find_executable(name, &dirs).map(|path| (*name, *category, path))
                })
                .collect()
        })
        .await
        .unwrap_or_default()
    };
    let versions = futures_util::future::join_all(found.iter().map(|(_, _, path)| probe_version(path))).await;
    let tools: Vec<Value> = found
        .iter()
        .zip(versions)
        .map(|((name, category, path), version)| {
            json!({"name": name, "path": path.display().to_string(), "version": version, "category": category})
        })
        .collect();
    json!({"cli_tools": tools})
}

/// `GET /api/cli-tools`: found on `PATH`; one discovery at a time, reused for [`CLI_CACHE`].
#[utoipa::path(
    get,
    path = "/api/cli-tools",
    tag = "catalog",
    operation_id = "list_cli_tools",
    summary = "Known command-line tools found on the gateway's PATH",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The tools found, with versions (one discovery reused for 10 minutes).", body = crate::openapi::schemas::CliToolList),
    )
)]
pub(crate) async fn cli_tools(State(state): State<ApiState>) -> Json<Value> {
    let mut cached = state.cli_tools.0.lock().await;
    if let Some((at, value)) = cached.as_ref()
        && at.elapsed() < CLI_CACHE
    {
        return Json(value.clone());
    }
    let value = discover().await;
    *cached = Some((Instant::now(), value.clone()));
    Json(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_executables_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("jq");
        std::fs::write(&tool, "#!/bin/sh\necho jq-1.7\n").unwrap();
        let plain = dir.path().join("rg");
        std::fs::write(&plain, "not executable").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(find_executable("rg", &[dir.path().to_owned()]), None);
        }
        assert_eq!(find_executable("jq", &[dir.path().to_owned()]), Some(tool));
        assert_eq!(find_executable("missing", &[dir.path().to_owned()]), None);
    }

    #[tokio::test]
    async fn a_version_probe_reads_the_first_line_and_gives_up_on_hangs() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, body).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            path
        };
        let good = write("good", "#!/bin/sh\necho\necho 'good 1.2.3'\necho more\n");
        assert_eq!(probe_version(&good).await.as_deref(), Some("good 1.2.3"));
        let hang = write("hang", "#!/bin/sh\nexec sleep 30\n");
        assert_eq!(probe_version(&hang).await, None);
    }
}
