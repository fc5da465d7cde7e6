//! One agent turn on behalf of a channel: the session's history in, the answer out, the events published,
//! the exchange recorded. The generic webhook and the channel workers both run turns through here, so they
//! report the same events and keep history the same way.

use std::sync::Arc;

use construct_agent::{Agent, AgentError, Message, TurnRequest};
use construct_core::devices::StoreError;
use construct_core::events::EventBus;
use construct_core::history::{HistoryMessage, SessionHistory};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Messages of history sent with each turn.
pub const HISTORY_LIMIT: usize = 50;

/// Why a turn produced no answer.
#[derive(Debug, thiserror::Error)]
pub enum TurnFailure {
    /// The session's history could not be read.
    #[error("session history unavailable: {0}")]
    History(StoreError),
    /// The agent failed.
    #[error(transparent)]
    Agent(AgentError),
}

impl TurnFailure {
    /// A short label for events and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            TurnFailure::History(_) => "history",
            TurnFailure::Agent(error) => error.kind(),
        }
    }
}

/// The agent, where its conversations live, and where its activity is reported.
pub struct Conversations {
    /// Runs turns.
    pub agent: Arc<dyn Agent>,
    /// Where `webhook_received`, `agent_start`, `agent_end` and `error` go.
    pub events: Arc<dyn EventBus>,
    /// Conversations by session id.
    pub history: Arc<dyn SessionHistory>,
}

impl Conversations {
    /// Publishes an event; a bus failure is logged, never fatal to the caller.
    pub async fn publish(&self, kind: &str, payload: Value) {
        if let Err(error) = self.events.publish(kind, payload).await {
            tracing::warn!(%error, kind, "cannot publish event");
        }
    }

    /// Runs one turn for `channel`: with `session`'s recent history when there is a session, recording the
    /// exchange in it when the turn succeeds. Publishes `agent_start`, `agent_end`, and `error` on failure.
    /// Dropping the future, or cancelling `cancel`, stops the turn.
    pub async fn answer(
        &self,
        channel: &str,
        session: Option<&str>,
        input: &str,
        cancel: CancellationToken,
    ) -> Result<String, TurnFailure> {
        let history = match session {
            Some(id) => self.history.load(id, HISTORY_LIMIT).await.map_err(TurnFailure::History),
            None => Ok(Vec::new()),
        };
        let history = match history {
            Ok(history) => history,
            Err(failure) => {
                self.publish("error", json!({"component": channel, "kind": failure.kind()})).await;
                return Err(failure);
            }
        };
        let model = self.agent.model().to_owned();
        self.publish("agent_start", json!({"channel": channel, "model": model, "session_id": session})).await;
        let request =
            TurnRequest { history: history.iter().map(Message::from).collect(), input: input.to_owned() };
        let _cancel_on_drop = cancel.clone().drop_guard();
        let (events, mut stream) = mpsc::channel(64);
        let (result, ()) = tokio::join!(self.agent.run_turn(request, events, cancel), async {
            // Channels answer with the final text only; the streamed pieces are not needed.
            while stream.recv().await.is_some() {}
        });
        self.publish("agent_end", json!({"channel": channel, "ok": result.is_ok(), "session_id": session}))
            .await;
        match result {
            Ok(answer) => {
                if let Some(id) = session {
                    let turn = vec![
                        HistoryMessage { role: "user".into(), content: input.to_owned() },
                        HistoryMessage { role: "assistant".into(), content: answer.clone() },
                    ];
                    if let Err(error) = self.history.append(id, turn).await {
                        tracing::warn!(%error, "cannot record session history");
                    }
                }
                Ok(answer)
            }
            Err(error) => {
                tracing::warn!(%error, channel, "turn failed");
                self.publish("error", json!({"component": channel, "kind": error.kind()})).await;
                Err(TurnFailure::Agent(error))
            }
        }
    }
}
