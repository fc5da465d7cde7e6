//! `<data-dir>/mcp.json`: how local tools (coding agents, the CLI) find the running gateway's MCP server.
//! Written atomically with mode 0600 when the server starts, removed when it stops.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The file's name in the data directory.
pub const FILE: &str = "mcp.json";
/// How long [`discover`] waits for the server's health answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// What the file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// `http://127.0.0.1:<port>/mcp`.
    pub url: String,
    /// The gateway's process id.
    pub pid: u32,
    /// When the server started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// The gateway's version.
    pub version: String,
}

/// Why no live server was discovered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoverError {
    /// No file (no gateway has its MCP server running with this data directory).
    #[error("discovery file missing")]
    Missing,
    /// The file is not what a gateway writes.
    #[error("discovery file unreadable: {0}")]
    Malformed(String),
    /// The process that wrote it is gone.
    #[error("the gateway that wrote the discovery file (pid {0}) is not running")]
    Stale(u32),
    /// The process runs but the URL does not answer.
    #[error("health check failed: {0}")]
    Unhealthy(String),
}

/// The file's path under `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Writes the file atomically, mode 0600.
pub fn write(data_dir: &Path, record: &Discovery) -> std::io::Result<()> {
    let body = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
    construct_core::fsutil::write_private_atomically(&path(data_dir), &body)
}

/// Removes the file if it is still `record` (another gateway may have replaced it since).
pub fn remove(data_dir: &Path, record: &Discovery) {
    let file = path(data_dir);
    let ours = std::fs::read(&file)
        .ok()
        .and_then(|b| serde_json::from_slice::<Discovery>(&b).ok())
        .is_some_and(|d| &d == record);
    if ours && let Err(error) = std::fs::remove_file(&file) {
        tracing::warn!(%error, "cannot remove the MCP discovery file");
    }
}

/// Reads the file without checking anything.
pub fn read(data_dir: &Path) -> Result<Discovery, DiscoverError> {
    let bytes = match std::fs::read(path(data_dir)) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(DiscoverError::Missing),
        Err(error) => return Err(DiscoverError::Malformed(error.to_string())),
    };
    serde_json::from_slice(&bytes).map_err(|e| DiscoverError::Malformed(e.to_string()))
}

fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") { Path::new("/proc").join(pid.to_string()).exists() } else { true }
}

/// The server named in `data_dir`'s discovery file, if its process is alive and its health URL answers;
/// the health answer too.
pub async fn discover(
    data_dir: &Path,
    http: &reqwest::Client,
) -> Result<(Discovery, serde_json::Value), DiscoverError> {
    let found = read(data_dir)?;
    if !alive(found.pid) {
        return Err(DiscoverError::Stale(found.pid));
    }
    let health = health_url(&found.url);
    let answer = http
        .get(&health)
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
        .map_err(|e| DiscoverError::Unhealthy(e.without_url().to_string()))?;
    if !answer.status().is_success() {
        return Err(DiscoverError::Unhealthy(format!("answered {}", answer.status())));
    }
    let body = answer.json().await.map_err(|e| DiscoverError::Unhealthy(e.without_url().to_string()))?;
    Ok((found, body))
}

/// The listener's base URL of an MCP URL `…/mcp` (`http://127.0.0.1:<port>`).
pub fn base_url(mcp_url: &str) -> &str {
    let trimmed = mcp_url.trim_end_matches('/');
    trimmed.strip_suffix("/mcp").unwrap_or(trimmed)
}

/// `…/health` of an MCP URL `…/mcp`.
pub fn health_url(mcp_url: &str) -> String {
    format!("{}/health", base_url(mcp_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_round_trips_privately_and_only_its_writer_removes_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(dir.path()), Err(DiscoverError::Missing));
        let record = Discovery {
            url: "http://127.0.0.1:9/mcp".into(),
            pid: 1,
            started_at: OffsetDateTime::UNIX_EPOCH,
            version: "0".into(),
        };
        write(dir.path(), &record).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(dir.path()), Ok(record.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                std::fs::metadata(path(dir.path())).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
            assert_eq!(mode, 0o600);
        }
        let other = Discovery { pid: 2, ..record.clone() };
        remove(dir.path(), &other);
        assert!(path(dir.path()).exists(), "another writer's record is left alone");
        remove(dir.path(), &record);
        assert!(!path(dir.path()).exists());
        assert_eq!(health_url("http://127.0.0.1:9/mcp/"), "http://127.0.0.1:9/health");
    }
}
