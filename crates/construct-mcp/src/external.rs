//! External MCP servers (`[[mcp.servers]]`): listing them, and testing one the way a client would use it
//! (connect, initialize, list tools) within a time limit, with the official rmcp client. HTTP (Streamable
//! HTTP) always; stdio (a local command) only with `[mcp] allow_stdio = true`, since it runs a program.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue};
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde::Deserialize;

/// Longest a test may take.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(10);

/// How to reach a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Streamable HTTP at `url`.
    #[default]
    Http,
    /// A local command speaking MCP on stdin/stdout.
    Stdio,
}

/// What to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Streamable HTTP.
    Http {
        /// The endpoint.
        url: String,
        /// Headers for every request.
        headers: BTreeMap<String, String>,
    },
    /// A local command.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Extra environment.
        env: BTreeMap<String, String>,
    },
}

/// The outcome of a test.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    /// The tools the server lists, or why it could not be used.
    pub tools: Result<Vec<String>, String>,
    /// How long it took.
    pub latency: Duration,
}

async fn list_tools<T, E, A>(transport: T) -> Result<Vec<String>, String>
where
    T: rmcp::transport::IntoTransport<rmcp::RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let client = ().serve(transport).await.map_err(|e| format!("initialize failed: {e}"))?;
    let tools = client.list_all_tools().await.map_err(|e| format!("tools/list failed: {e}"));
    let _ = client.cancel().await;
    Ok(tools?.into_iter().map(|t| t.name.to_string()).collect())
}

fn http_config(
    url: &str,
    headers: &BTreeMap<String, String>,
) -> Result<StreamableHttpClientTransportConfig, String> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    let mut custom = HashMap::new();
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("authorization") {
            let token =
                value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).unwrap_or(value);
            config = config.auth_header(token.to_owned());
            continue;
        }
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))?;
        let value = HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
        custom.insert(name, value);
    }
    Ok(config.custom_headers(custom))
}

/// Connects to `target`, initializes, and lists its tools, all within `timeout` (at most [`MAX_TIMEOUT`]).
pub async fn probe(target: &Target, timeout: Duration) -> Probed {
    let started = Instant::now();
    let timeout = timeout.min(MAX_TIMEOUT);
    let work = async {
        match target {
            Target::Http { url, headers } => {
                list_tools(StreamableHttpClientTransport::from_config(http_config(url, headers)?)).await
            }
            Target::Stdio { command, args, env } => {
                let mut program = tokio::process::Command::new(command);
                program.args(args).envs(env).kill_on_drop(true);
                let child = rmcp::transport::TokioChildProcess::new(program)
                    .map_err(|e| format!("cannot start {command:?}: {e}"))?;
                list_tools(child).await
            }
        }
    };
    let tools = match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("timed out after {}s", timeout.as_secs_f64())),
    };
    Probed { tools, latency: started.elapsed() }
}
