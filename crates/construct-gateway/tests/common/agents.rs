//! Stand-in agents for route tests.

use std::sync::Arc;

use async_trait::async_trait;
use construct_agent::{Agent, AgentError, TurnEvent, TurnRequest};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

/// Answers with how much history it saw and what was said.
pub struct Recorder;

#[async_trait]
impl Agent for Recorder {
    fn model(&self) -> &str {
        "test-model"
    }
    async fn run_turn(
        &self,
        request: TurnRequest,
        events: mpsc::Sender<TurnEvent>,
        _: CancellationToken,
    ) -> Result<String, AgentError> {
        let _ = events.send(TurnEvent::Chunk { content: "ignored".into() }).await;
        Ok(format!("{} prior; you said {}", request.history.len(), request.input))
    }
}

/// Always fails like a broken provider.
pub struct Broken;

#[async_trait]
impl Agent for Broken {
    fn model(&self) -> &str {
        "broken"
    }
    async fn run_turn(
        &self,
        _: TurnRequest,
        _: mpsc::Sender<TurnEvent>,
        _: CancellationToken,
    ) -> Result<String, AgentError> {
        Err(AgentError::Provider { status: Some(500), message: "upstream exploded".into() })
    }
}

/// Never answers: signals `started`, then waits to be cancelled.
#[derive(Default)]
pub struct Stall {
    pub started: Arc<Notify>,
}

#[async_trait]
impl Agent for Stall {
    fn model(&self) -> &str {
        "stall"
    }
    async fn run_turn(
        &self,
        _: TurnRequest,
        _: mpsc::Sender<TurnEvent>,
        cancel: CancellationToken,
    ) -> Result<String, AgentError> {
        self.started.notify_one();
        cancel.cancelled().await;
        Err(AgentError::Other("cancelled".into()))
    }
}
