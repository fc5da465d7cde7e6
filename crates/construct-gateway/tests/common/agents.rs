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

/// Answers after `delay`, counting how many turns run at once (the most ever seen is in `max_seen`).
pub struct Slow {
    pub delay: std::time::Duration,
    pub running: std::sync::atomic::AtomicUsize,
    pub max_seen: std::sync::atomic::AtomicUsize,
}

impl Slow {
    pub fn new(delay: std::time::Duration) -> Self {
        Self { delay, running: Default::default(), max_seen: Default::default() }
    }
}

#[async_trait]
impl Agent for Slow {
    fn model(&self) -> &str {
        "slow"
    }
    async fn run_turn(
        &self,
        request: TurnRequest,
        _: mpsc::Sender<TurnEvent>,
        _: CancellationToken,
    ) -> Result<String, AgentError> {
        use std::sync::atomic::Ordering;
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_seen.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(format!("{} prior; you said {}", request.history.len(), request.input))
    }
}

/// Streams `chunks` numbered chunks as fast as it can, then a tool call and its result, then answers.
pub struct Chatty {
    pub chunks: usize,
}

#[async_trait]
impl Agent for Chatty {
    fn model(&self) -> &str {
        "chatty"
    }
    async fn run_turn(
        &self,
        _: TurnRequest,
        events: mpsc::Sender<TurnEvent>,
        _: CancellationToken,
    ) -> Result<String, AgentError> {
        let _ = events.send(TurnEvent::Thinking { content: "hmm".into() }).await;
        for n in 0..self.chunks {
            let _ = events.send(TurnEvent::Chunk { content: format!("{n:0100}") }).await;
        }
        let args = serde_json::json!({"q": 1});
        let _ = events.send(TurnEvent::ToolCall { id: "c1".into(), name: "search".into(), args }).await;
        let result =
            TurnEvent::ToolResult { id: "c1".into(), name: "search".into(), output: "ok".into(), ok: true };
        let _ = events.send(result).await;
        Ok("final".into())
    }
}
