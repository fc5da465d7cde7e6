//! Coding agents in the terminal: `GET /ws/terminal?tool=claude|codex|opencode|gemini` runs that CLI instead
//! of a shell, connected to this gateway's MCP server.
//!
//! A fresh MCP session is minted for the caller; its URL and token go into the tool's own MCP
//! configuration, written with mode 0600 into a private (0700) temporary directory that is removed when the
//! terminal ends. The token never appears on a command line (visible to every user through `ps`): Claude Code
//! reads it from its `--mcp-config` file, opencode from the file `OPENCODE_CONFIG` names, Gemini CLI from the
//! system settings file `GEMINI_CLI_SYSTEM_SETTINGS_PATH` names, and Codex, whose configuration is found
//! under its own home, from the environment variable its `-c` override names.

use std::path::{Path, PathBuf};

use construct_core::mcp::McpGrant;
use serde_json::json;

/// The tools that can be launched.
pub const TOOLS: [&str; 4] = ["claude", "codex", "opencode", "gemini"];
/// The MCP server's name in each tool's configuration.
pub const SERVER_NAME: &str = "construct";
/// The variable Codex reads the token from.
pub const TOKEN_VAR: &str = "CONSTRUCT_MCP_TOKEN";

/// A directory only this user can enter, removed (with what is in it) when dropped.
#[derive(Debug)]
pub struct PrivateDir(PathBuf);

impl PrivateDir {
    /// A new directory under the system's temporary directory.
    pub fn new() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("construct-mcp-{}", uuid::Uuid::new_v4().simple()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path)?;
        Ok(Self(path))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `name` in it with mode 0600.
    pub fn write(&self, name: &str, contents: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.0.join(name);
        construct_core::fsutil::write_private_atomically(&path, contents)?;
        Ok(path)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(%error, dir = %self.0.display(), "cannot remove a coding tool's private directory");
        }
    }
}

/// How to start a tool: program, arguments, extra environment, and the directory its configuration is in.
#[derive(Debug)]
pub struct Launch {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables added to the terminal's environment.
    pub env: Vec<(String, String)>,
    /// Removed when the launch is dropped.
    pub dir: PrivateDir,
}

/// The launch of `tool` (one of [`TOOLS`]) as `program`, connected by `grant`.
pub fn launch(tool: &str, program: &str, grant: &McpGrant) -> std::io::Result<Launch> {
    let dir = PrivateDir::new()?;
    let bearer = format!("Bearer {}", grant.token);
    let (args, env) = match tool {
        "claude" => {
            let config = json!({"mcpServers": {SERVER_NAME: {"type": "http", "url": grant.url, "headers": {"Authorization": bearer}}}});
            let file = dir.write("claude-mcp.json", config.to_string().as_bytes())?;
            (vec!["--mcp-config".to_owned(), file.display().to_string()], Vec::new())
        }
        "opencode" => {
            let config = json!({
                "$schema": "https://opencode.ai/config.json",
                "mcp": {SERVER_NAME: {"type": "remote", "url": grant.url, "enabled": true, "headers": {"Authorization": bearer}}},
            });
            let file = dir.write("opencode.json", config.to_string().as_bytes())?;
            (Vec::new(), vec![("OPENCODE_CONFIG".to_owned(), file.display().to_string())])
        }
        "gemini" => {
            let config = json!({"mcpServers": {SERVER_NAME: {"httpUrl": grant.url, "headers": {"Authorization": bearer}}}});
            let file = dir.write("gemini-settings.json", config.to_string().as_bytes())?;
            (Vec::new(), vec![("GEMINI_CLI_SYSTEM_SETTINGS_PATH".to_owned(), file.display().to_string())])
        }
        "codex" => {
            // The same settings as a file, for the record; Codex itself takes them as overrides.
            let toml = format!(
                "[mcp_servers.{SERVER_NAME}]\nurl = {:?}\nbearer_token_env_var = {TOKEN_VAR:?}\n",
                grant.url
            );
            dir.write("codex-config.toml", toml.as_bytes())?;
            let args = vec![
                "-c".to_owned(),
                format!("mcp_servers.{SERVER_NAME}.url={:?}", grant.url),
                "-c".to_owned(),
                format!("mcp_servers.{SERVER_NAME}.bearer_token_env_var={TOKEN_VAR:?}"),
            ];
            (args, vec![(TOKEN_VAR.to_owned(), grant.token.clone())])
        }
        other => return Err(std::io::Error::other(format!("unknown coding tool {other}"))),
    };
    Ok(Launch { program: program.to_owned(), args, env, dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> McpGrant {
        McpGrant { url: "http://127.0.0.1:9/mcp".into(), token: "mcp_secret".into(), session_id: "s".into() }
    }

    #[test]
    fn each_tool_gets_its_configuration_privately_and_never_the_token_in_argv() {
        for tool in TOOLS {
            let launch = launch(tool, tool, &grant()).unwrap_or_else(|e| panic!("{tool}: {e}"));
            assert!(!launch.args.iter().any(|a| a.contains("mcp_secret")), "{tool}: token in argv");
            let dir = launch.dir.path().to_owned();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode =
                    |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
                assert_eq!(mode(&dir), 0o700, "{tool}");
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    assert_eq!(mode(&entry.path()), 0o600, "{tool}: {}", entry.path().display());
                }
            }
            drop(launch);
            assert!(!dir.exists(), "{tool}: the directory goes with the launch");
        }
        assert!(launch("vim", "vim", &grant()).is_err());
    }
}
