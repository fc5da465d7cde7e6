//! The shape of a turn: what goes in, what streams out, how it fails.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
}

/// One message of a session's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl Message {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into() }
    }
}

impl From<&construct_core::history::HistoryMessage> for Message {
    /// A stored message; events pushed into a session are context, like system messages; unknown roles are
    /// taken as the user's.
    fn from(stored: &construct_core::history::HistoryMessage) -> Self {
        let role = match stored.role.as_str() {
            "system" | "event" => Role::System,
            "assistant" => Role::Assistant,
            _ => Role::User,
        };
        Self::new(role, stored.content.clone())
    }
}

/// A turn's input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TurnRequest {
    /// Earlier messages of the session, oldest first.
    pub history: Vec<Message>,
    /// The new user input.
    pub input: String,
}

/// What a turn streams while it runs. Serialised with a `type` tag, as clients receive it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TurnEvent {
    /// A piece of the answer.
    Chunk {
        /// The text.
        content: String,
    },
    /// A piece of the model's visible reasoning.
    Thinking {
        /// The text.
        content: String,
    },
    /// The model asked for a tool.
    ToolCall {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments (JSON).
        args: serde_json::Value,
    },
    /// A tool answered.
    ToolResult {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
        /// What it returned.
        output: String,
        /// Whether it succeeded.
        ok: bool,
    },
    /// Progress the client may show.
    Status {
        /// Phase name (`connecting`, `streaming`, `retrying`, ...).
        phase: String,
        /// Human detail.
        detail: String,
    },
    /// Tokens used by the turn.
    Usage {
        /// Prompt tokens.
        input: u64,
        /// Completion tokens.
        output: u64,
    },
}

/// Why a turn failed. Messages never contain credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// The provider refused the credentials (401/403).
    #[error("the provider rejected the credentials: {0}")]
    Auth(String),
    /// The provider failed or answered something unusable.
    #[error("provider error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Provider {
        /// HTTP status, when there was one.
        status: Option<u16>,
        /// What went wrong.
        message: String,
    },
    /// The provider kept answering 429.
    #[error("the provider is rate limiting requests")]
    RateLimited {
        /// Seconds it asked to wait, if it said.
        retry_after: Option<u64>,
    },
    /// The turn took longer than `timeout_secs`.
    #[error("the turn timed out")]
    Timeout,
    /// The turn was cancelled.
    #[error("the turn was cancelled")]
    Cancelled,
    /// Anything else (misconfiguration, a closed event channel).
    #[error("{0}")]
    Other(String),
}

impl AgentError {
    /// The snake_case kind, for clients: `auth`, `provider`, `rate_limited`, `timeout`, `cancelled`, `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            AgentError::Auth(_) => "auth",
            AgentError::Provider { .. } => "provider",
            AgentError::RateLimited { .. } => "rate_limited",
            AgentError::Timeout => "timeout",
            AgentError::Cancelled => "cancelled",
            AgentError::Other(_) => "other",
        }
    }
}

/// A language-model agent.
#[async_trait]
pub trait Agent: Send + Sync {
    /// The model name, for responses such as `{"response", "model"}`.
    fn model(&self) -> &str;

    /// Runs one turn, streaming events into `events` (a bounded channel: a slow reader slows the turn, it
    /// never grows memory) and stopping with [`AgentError::Cancelled`] when `cancel` fires. Returns the
    /// full answer.
    async fn run_turn(
        &self,
        request: TurnRequest,
        events: mpsc::Sender<TurnEvent>,
        cancel: CancellationToken,
    ) -> Result<String, AgentError>;
}

/// Sends `event`, failing the turn when the receiver is gone (nobody is listening any more).
pub(crate) async fn emit(events: &mpsc::Sender<TurnEvent>, event: TurnEvent) -> Result<(), AgentError> {
    events.send(event).await.map_err(|_| AgentError::Other("the turn's event receiver was dropped".into()))
}
