//! [`Metered`]: an [`Agent`] that records each turn's token usage, whoever asked for the turn (chat,
//! webhooks, channels), so `GET /api/cost` sees all of it.

use std::sync::Arc;

use async_trait::async_trait;
use construct_core::metrics::Metrics;
use construct_core::usage::{UsageRecord, UsageStore};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{Agent, AgentError, TurnEvent, TurnRequest};

/// Wraps an agent; forwards every event unchanged and records the turn's usage after it ends.
pub struct Metered {
    inner: Arc<dyn Agent>,
    usage: Arc<dyn UsageStore>,
    input_price: f64,
    output_price: f64,
    metrics: Option<Arc<Metrics>>,
}

impl Metered {
    /// Also records every turn's duration, outcome and tokens in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// `inner`, recording into `usage` at these prices (US dollars per million tokens).
    pub fn new(
        inner: Arc<dyn Agent>,
        usage: Arc<dyn UsageStore>,
        input_price: f64,
        output_price: f64,
    ) -> Self {
        Self { inner, usage, input_price, output_price, metrics: None }
    }
}

#[async_trait]
impl Agent for Metered {
    fn model(&self) -> &str {
        self.inner.model()
    }

    async fn run_turn(
        &self,
        request: TurnRequest,
        events: mpsc::Sender<TurnEvent>,
        cancel: CancellationToken,
    ) -> Result<String, AgentError> {
        // Same bound as the caller's channel, so back-pressure is unchanged. When the caller stops
        // listening, the forwarder returns and drops `rx`, and the inner turn fails as it would have.
        let (tx, mut rx) = mpsc::channel(events.max_capacity());
        let forward = async move {
            let mut used: Option<(u64, u64)> = None;
            while let Some(event) = rx.recv().await {
                if let TurnEvent::Usage { input, output } = event {
                    let (i, o) = used.unwrap_or((0, 0));
                    used = Some((i.saturating_add(input), o.saturating_add(output)));
                }
                if events.send(event).await.is_err() {
                    break;
                }
            }
            used
        };
        let started = std::time::Instant::now();
        let (result, used) = tokio::join!(self.inner.run_turn(request, tx, cancel), forward);
        if let Some(metrics) = &self.metrics {
            let outcome = match &result {
                Ok(_) => "ok",
                Err(AgentError::Cancelled) => "cancelled",
                Err(_) => "error",
            };
            metrics.turn(self.model(), outcome, started.elapsed());
            if let Some((input, output)) = used {
                metrics.tokens(self.model(), input, output);
            }
        }
        // A turn that reached the model counts, even when it failed later; one that reported nothing and
        // failed never reached it.
        if used.is_some() || result.is_ok() {
            let (input, output) = used.unwrap_or((0, 0));
            let record =
                UsageRecord::priced(self.model(), input, output, self.input_price, self.output_price);
            if let Err(error) = self.usage.record(record).await {
                tracing::warn!(%error, "cannot record model usage");
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use construct_core::devices::StoreError;
    use construct_core::usage::CostSummary;
    use time::OffsetDateTime;

    use super::*;
    use crate::EchoAgent;

    #[derive(Default)]
    struct Recorded(Mutex<Vec<UsageRecord>>);

    #[async_trait]
    impl UsageStore for Recorded {
        async fn record(&self, record: UsageRecord) -> Result<(), StoreError> {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(record);
            Ok(())
        }
        async fn summary(&self, _: OffsetDateTime, _: OffsetDateTime) -> Result<CostSummary, StoreError> {
            Ok(CostSummary::default())
        }
    }

    fn request(input: &str) -> TurnRequest {
        TurnRequest { history: Vec::new(), input: input.to_owned() }
    }

    #[tokio::test]
    async fn events_pass_unchanged_and_the_usage_is_priced() {
        let usage = Arc::new(Recorded::default());
        let agent = Metered::new(Arc::new(EchoAgent::new()), usage.clone(), 1_000_000.0, 2_000_000.0);
        let (tx, mut rx) = mpsc::channel(4);
        let (answer, seen) =
            tokio::join!(agent.run_turn(request("one two"), tx, CancellationToken::new()), async {
                let mut seen = Vec::new();
                while let Some(event) = rx.recv().await {
                    seen.push(event);
                }
                seen
            });
        assert_eq!(answer.as_deref().ok(), Some("one two"));
        assert!(seen.contains(&TurnEvent::Usage { input: 2, output: 2 }), "{seen:?}");
        let records = usage.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        assert_eq!(records.len(), 1);
        assert_eq!(
            (records[0].model.as_str(), records[0].input_tokens, records[0].output_tokens),
            ("echo", 2, 2)
        );
        assert!((records[0].cost_usd - 6.0).abs() < 1e-9);
    }

    #[tokio::test]
    async fn a_caller_that_stops_listening_still_stops_the_turn() {
        let usage = Arc::new(Recorded::default());
        let agent = Metered::new(Arc::new(EchoAgent::new()), usage, 0.0, 0.0);
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let result = agent.run_turn(request("a b c d e f"), tx, CancellationToken::new()).await;
        assert!(matches!(result, Err(AgentError::Other(_))), "{result:?}");
    }
}
