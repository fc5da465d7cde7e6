//! The channel workers: queued deliveries in, the agent's replies out.
//!
//! Each worker claims the oldest ready item whose session has nothing else in flight (the queue guarantees
//! one item per session at a time, in order), runs the agent with that session's history, sends the answer
//! through the channel's API ([`crate::reply`]), and acknowledges the item. A failed turn sends a short
//! apology instead (the `error` event is published by the turn); a reply that cannot be delivered after its
//! retries publishes an `error` event. Items are acknowledged only once handled, so a crash hands them out
//! again when their claim expires.
//!
//! Shutdown: workers stop claiming at once; a turn in progress gets a grace period, then is cancelled and
//! its item released, so the next start answers it. Nothing accepted is lost.

use std::sync::Arc;
use std::time::Duration;

use construct_core::queue::{WorkItem, WorkQueue};
use serde_json::json;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::conversation::Conversations;
use crate::parse::InboundMessage;
use crate::reply::Replier;

/// What a user is told when the agent could not answer.
pub const APOLOGY: &str = "Sorry, I couldn't process your message right now.";

/// How the workers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSettings {
    /// Workers running at once.
    pub workers: usize,
    /// How long a claim lasts before an unacknowledged item is handed out again: longer than a turn plus
    /// the reply's retries.
    pub visibility: Duration,
    /// How often an idle worker looks for delayed items (new items wake it at once).
    pub poll: Duration,
    /// How long a turn in progress may run on after shutdown begins.
    pub grace: Duration,
}

/// The parts the workers use.
pub struct Workers {
    /// Where deliveries wait.
    pub queue: Arc<dyn WorkQueue>,
    /// Runs turns and reports them.
    pub conversations: Arc<Conversations>,
    /// Sends replies.
    pub replier: Arc<Replier>,
    /// Notified when work is queued.
    pub wake: Arc<Notify>,
    /// How they run.
    pub settings: WorkerSettings,
    /// Where reply outcomes are counted.
    pub metrics: Arc<construct_core::metrics::Metrics>,
}

/// Running workers.
pub struct WorkerPool {
    tasks: JoinSet<()>,
}

impl WorkerPool {
    /// Waits for every worker to stop (after `shutdown` was cancelled), aborting any still running after
    /// `limit`.
    pub async fn join(mut self, limit: Duration) {
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(limit, all).await.is_err() {
            tracing::warn!("channel workers did not stop in time; aborting them");
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

enum Outcome {
    Done,
    Released,
}

impl Workers {
    /// Starts the workers; they run until `shutdown` is cancelled.
    pub fn spawn(self: &Arc<Self>, shutdown: CancellationToken) -> WorkerPool {
        let mut tasks = JoinSet::new();
        for n in 0..self.settings.workers.max(1) {
            let workers = Arc::clone(self);
            let shutdown = shutdown.clone();
            tasks.spawn(async move { workers.run(n, shutdown).await });
        }
        WorkerPool { tasks }
    }

    async fn run(&self, worker: usize, shutdown: CancellationToken) {
        tracing::debug!(worker, "channel worker started");
        while !shutdown.is_cancelled() {
            match self.queue.claim(self.settings.visibility).await {
                Ok(Some(item)) => {
                    let id = item.id;
                    let outcome = self.handle(item, &shutdown).await;
                    let settled = match outcome {
                        Outcome::Done => self.queue.ack(id).await,
                        Outcome::Released => self.queue.retry(id, Duration::ZERO).await,
                    };
                    if let Err(error) = settled {
                        // The claim expires and the item comes back: at worst answered twice, never lost.
                        tracing::error!(%error, id, "cannot settle a work item");
                    }
                }
                Ok(None) => {
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(self.settings.poll) => {}
                        () = shutdown.cancelled() => {}
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "cannot claim work");
                    tokio::select! {
                        () = tokio::time::sleep(self.settings.poll) => {}
                        () = shutdown.cancelled() => {}
                    }
                }
            }
        }
        tracing::debug!(worker, "channel worker stopped");
    }

    async fn handle(&self, item: WorkItem, shutdown: &CancellationToken) -> Outcome {
        let message: InboundMessage = match serde_json::from_value(item.payload) {
            Ok(message) => message,
            Err(error) => {
                tracing::error!(%error, id = item.id, "dropping a work item that is not a message");
                return Outcome::Done;
            }
        };
        let channel = message.channel.as_str();
        let turn =
            self.conversations.answer(channel, Some(&item.session), &message.text, CancellationToken::new());
        let grace = async {
            shutdown.cancelled().await;
            tokio::time::sleep(self.settings.grace).await;
        };
        let answer = tokio::select! {
            result = turn => result,
            () = grace => {
                // Dropping the turn cancels it; the item goes back to the queue for the next start.
                tracing::info!(id = item.id, channel, "turn interrupted by shutdown; released for the next start");
                return Outcome::Released;
            }
        };
        let text = match answer {
            Ok(text) => text,
            Err(_) => {
                self.metrics.webhook(channel, "turn_failed", 1);
                APOLOGY.to_owned()
            }
        };
        if text.trim().is_empty() {
            return Outcome::Done;
        }
        if let Err(error) = self.replier.send(&message, &text).await {
            tracing::warn!(%error, channel, "reply not delivered");
            self.metrics.webhook(channel, "reply_failed", 1);
            let event = json!({"component": "channel_reply", "channel": channel, "kind": error.kind()});
            self.conversations.publish("error", event).await;
        } else {
            self.metrics.webhook(channel, "replied", 1);
        }
        Outcome::Done
    }
}
