//! Human approvals a workflow run is waiting for: registered by the operator through
//! `POST /api/channel-events`, listed for the dashboard, and claimed exactly once when someone decides.
//!
//! Kept in the store (upstream kept them in process memory and lost them on restart), bounded in number,
//! and expiring.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::devices::StoreError;

/// Pending approvals kept at most.
pub const MAX_PENDING: usize = 1_000;
/// How long an approval waits before it expires, by default.
pub const DEFAULT_TTL: time::Duration = time::Duration::hours(24);

/// An approval a run is waiting for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The run.
    pub run_id: String,
    /// The step waiting.
    pub step_id: String,
    /// The workflow's name.
    pub workflow: String,
    /// Words that approve, in chat channels.
    pub approve_keywords: Vec<String>,
    /// Words that reject.
    pub reject_keywords: Vec<String>,
    /// What the person is asked.
    pub message: String,
    /// When it was registered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it stops waiting.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// What `register` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// Stored (replacing an earlier request for the same run).
    Stored,
    /// [`MAX_PENDING`] approvals are waiting already.
    Full,
}

/// Where approvals wait.
#[async_trait]
pub trait ApprovalStore: Send + Sync {
    /// Stores an approval request; a run has at most one.
    async fn register(&self, approval: Approval) -> Result<Registered, StoreError>;

    /// Approvals still waiting at `now`, oldest first.
    async fn pending(&self, now: OffsetDateTime) -> Result<Vec<Approval>, StoreError>;

    /// Takes the run's approval if it is still waiting: exactly one caller gets it.
    async fn claim(&self, run_id: &str, now: OffsetDateTime) -> Result<Option<Approval>, StoreError>;
}

/// Stores `approval` and, when stored, announces it on `events` as `human_approval_request {run_id,
/// step_id, workflow_name, title, message}`. The one way approvals are requested: the channel-events route
/// and the MCP tool both come here.
pub async fn request_approval(
    store: &dyn ApprovalStore,
    events: &dyn crate::events::EventBus,
    approval: Approval,
    title: &str,
) -> Result<Registered, StoreError> {
    let announcement = serde_json::json!({
        "run_id": approval.run_id,
        "step_id": approval.step_id,
        "workflow_name": approval.workflow,
        "title": title,
        "message": approval.message,
    });
    let registered = store.register(approval).await?;
    if registered == Registered::Stored
        && let Err(error) = events.publish("human_approval_request", announcement).await
    {
        tracing::warn!(%error, "cannot announce an approval request");
    }
    Ok(registered)
}
