//! The shapes of the JSON answers the webhook and channel routes build with `json!`, written out for the
//! OpenAPI document.
//!
//! Each type mirrors one answer field for field; none is ever built. When a handler's answer changes, the
//! type here must change with it.

#![allow(dead_code)] // Describes JSON the handlers write; never built.

use serde::Serialize;
use utoipa::ToSchema;

/// `POST /webhook`: the agent's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// The agent's answer.
    response: String,
    /// The model that answered.
    model: String,
}

/// A channel delivery acknowledged: its messages are queued and answered later by the workers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelAccepted {
    /// Always `ok`.
    status: String,
    /// Messages newly queued: a provider's retry of a delivery already seen counts 0.
    accepted: u64,
}

/// `POST /webhook/gmail`: the notification was published.
#[derive(Debug, Serialize, ToSchema)]
pub struct GmailAccepted {
    /// Always `ok`.
    status: String,
}
