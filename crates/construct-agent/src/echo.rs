//! The echo agent: streams the user's words back, word by word.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::turn::{Agent, AgentError, TurnEvent, TurnRequest, emit};

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct EchoAgent;

impl EchoAgent {
    /// The echo agent.
    pub fn new() -> Self {
        Self
    }
}

impl EchoAgent {
    /// An echo agent that pauses `delay` between words, so a demo (or a test) can watch a turn stream
    /// and cancel it.
    pub fn paced(delay: Duration) -> PacedEcho {
        PacedEcho { delay }
    }
}

/// [`EchoAgent`] with a pause between words; see [`EchoAgent::paced`].
#[derive(Debug, Clone, Copy)]
pub struct PacedEcho {
    delay: Duration,
}

/// Streams `request`'s words back, pausing `delay` after each one (or yielding, without a delay).
async fn echo(
    request: TurnRequest,
    events: mpsc::Sender<TurnEvent>,
    cancel: CancellationToken,
    delay: Option<Duration>,
) -> Result<String, AgentError> {
    let mut answer = String::with_capacity(request.input.len());
    for (i, word) in request.input.split_whitespace().enumerate() {
        if cancel.is_cancelled() {
            return Err(AgentError::Cancelled);
        }
        let piece = if i == 0 { word.to_owned() } else { format!(" {word}") };
        answer.push_str(&piece);
        emit(&events, TurnEvent::Chunk { content: piece }).await?;
        match delay {
            Some(delay) => tokio::select! {
                () = cancel.cancelled() => return Err(AgentError::Cancelled),
                () = tokio::time::sleep(delay) => {}
            },
            // Let a cancellation or another task in between words, as a real stream would.
            None => tokio::task::yield_now().await,
        }
    }
    let words = answer.split_whitespace().count() as u64;
    emit(&events, TurnEvent::Usage { input: words, output: words }).await?;
    Ok(answer)
}

#[async_trait]
impl Agent for EchoAgent {
    fn model(&self) -> &str {
        "echo"
    }

    async fn run_turn(
        &self,
        request: TurnRequest,
        events: mpsc::Sender<TurnEvent>,
        cancel: CancellationToken,
    ) -> Result<String, AgentError> {
        echo(request, events, cancel, None).await
    }
}

#[async_trait]
impl Agent for PacedEcho {
    fn model(&self) -> &str {
        "echo"
    }

    async fn run_turn(
        &self,
        request: TurnRequest,
        events: mpsc::Sender<TurnEvent>,
        cancel: CancellationToken,
    ) -> Result<String, AgentError> {
        echo(request, events, cancel, Some(self.delay)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_paced_echo_streams_at_its_pace_and_stops_at_once_when_cancelled() {
        let (tx, mut rx) = mpsc::channel(16);
        let cancel = CancellationToken::new();
        let agent = EchoAgent::paced(Duration::from_secs(1));
        let request = TurnRequest { history: vec![], input: "one two three".into() };
        let started = tokio::time::Instant::now();
        let turn = tokio::spawn({
            let cancel = cancel.clone();
            async move { agent.run_turn(request, tx, cancel).await }
        });
        assert!(matches!(rx.recv().await, Some(TurnEvent::Chunk { content }) if content == "one"));
        assert!(matches!(rx.recv().await, Some(TurnEvent::Chunk { content }) if content == " two"));
        assert_eq!(started.elapsed(), Duration::from_secs(1), "a second between words");
        cancel.cancel();
        assert!(matches!(turn.await.unwrap(), Err(AgentError::Cancelled)));
        assert_eq!(started.elapsed(), Duration::from_secs(1), "cancelled during the pause, not after it");
        assert!(rx.recv().await.is_none(), "nothing after the cancellation");
    }

    #[tokio::test]
    async fn echoes_word_by_word() {
        let (tx, mut rx) = mpsc::channel(16);
        let request = TurnRequest { history: vec![], input: "  hello   brave world ".into() };
        let answer = EchoAgent.run_turn(request, tx, CancellationToken::new()).await.unwrap();
        assert_eq!(answer, "hello brave world");
        let mut chunks = Vec::new();
        while let Some(event) = rx.recv().await {
            if let TurnEvent::Chunk { content } = event {
                chunks.push(content);
            }
        }
        assert_eq!(chunks, ["hello", " brave", " world"]);
    }

    #[tokio::test]
    async fn honours_cancellation() {
        let (tx, _rx) = mpsc::channel(16);
        let cancel = CancellationToken::new();
        cancel.cancel();
        let result =
            EchoAgent.run_turn(TurnRequest { history: vec![], input: "a b".into() }, tx, cancel).await;
        assert_eq!(result, Err(AgentError::Cancelled));
    }
}
