//! The echo agent: streams the user's words back, word by word.

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
        let mut answer = String::with_capacity(request.input.len());
        for (i, word) in request.input.split_whitespace().enumerate() {
            if cancel.is_cancelled() {
                return Err(AgentError::Cancelled);
            }
            let piece = if i == 0 { word.to_owned() } else { format!(" {word}") };
            answer.push_str(&piece);
            emit(&events, TurnEvent::Chunk { content: piece }).await?;
            // Let a cancellation or another task in between words, as a real stream would.
            tokio::task::yield_now().await;
        }
        let words = answer.split_whitespace().count() as u64;
        emit(&events, TurnEvent::Usage { input: words, output: words }).await?;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
