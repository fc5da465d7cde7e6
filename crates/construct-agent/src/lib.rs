//! # construct-agent
//!
//! The one interface through which chat, webhooks and scheduled jobs talk to a language model:
//! [`Agent::run_turn`] takes the session history and the user's input, streams [`TurnEvent`]s (text chunks,
//! thinking, tool calls and results, status, token usage) into a bounded channel, honours a cancellation
//! token, and returns the final text or a typed [`AgentError`].
//!
//! Providers:
//! - [`OpenAiAgent`]: any OpenAI-compatible `/chat/completions` endpoint, streaming (SSE) with a
//!   non-streaming fallback, retries with backoff before the first streamed byte;
//! - [`EchoAgent`]: streams the user's words back, for demos and tests.
//!
//! [`from_config`] builds the one `[provider]` asks for; [`Metered`] wraps any agent to record its usage.
//!
//! Invariants: no routes, no sockets accepted; an API key never appears in an error message or a log line.

mod echo;
mod metered;
mod openai;
mod sse;
mod turn;

use std::sync::Arc;

pub use echo::{EchoAgent, PacedEcho};
pub use metered::Metered;
pub use openai::OpenAiAgent;
pub use turn::{Agent, AgentError, Message, Role, TurnEvent, TurnRequest};

use construct_core::config::{ProviderConfig, ProviderKind};

/// The agent `[provider]` configures.
pub fn from_config(config: &ProviderConfig) -> Result<Arc<dyn Agent>, AgentError> {
    Ok(match config.kind {
        ProviderKind::Echo if config.echo_delay_ms > 0 => {
            Arc::new(EchoAgent::paced(std::time::Duration::from_millis(config.echo_delay_ms)))
        }
        ProviderKind::Echo => Arc::new(EchoAgent::new()),
        ProviderKind::Openai => Arc::new(OpenAiAgent::new(config)?),
    })
}
