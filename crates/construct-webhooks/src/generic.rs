//! `POST /webhook`: the generic webhook. A prompt in, the agent's answer out, synchronously.
//!
//! Chat scope (the route group's guard), plus `X-Webhook-Secret` when `[channels_config.webhook] secret` is
//! set: checked first, on the raw request, before the body is parsed. `X-Session-Id` keeps a conversation
//! across calls (upstream accepted it and ignored it). The route's timeout is the provider's turn timeout
//! plus a margin, not the global 30 s, and a client that hangs up cancels the turn.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use bytes::Bytes;
use construct_agent::AgentError;
use construct_core::extract::{Json, from_json_slice};
use construct_core::principal::Scope;
use construct_core::routes::{Access, RateClass, RouteGroup};
use construct_core::{ApiError, ErrorCode};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::conversation::{Conversations, TurnFailure};
use crate::parse::WebhookBody;
use crate::signature::SecretHash;

/// 401 for a wrong or missing webhook secret or signature.
pub const INVALID_SIGNATURE: ErrorCode = ErrorCode::new("INVALID_SIGNATURE");
/// 400 for an `X-Session-Id` that is too long or holds unsafe characters.
pub const INVALID_SESSION_ID: ErrorCode = ErrorCode::new("INVALID_SESSION_ID");
/// 502 when the agent failed.
pub const AGENT_ERROR: ErrorCode = ErrorCode::new("AGENT_ERROR");
/// 504 when the agent ran out of time.
pub const AGENT_TIMEOUT: ErrorCode = ErrorCode::new("AGENT_TIMEOUT");

/// Longest accepted session id.
pub const MAX_SESSION_ID_LEN: usize = 128;

/// What the webhook routes share.
#[derive(Clone)]
pub struct WebhookState(Arc<WebhookShared>);

/// The parts of [`WebhookState`].
pub struct WebhookShared {
    /// Runs turns (conversations by `X-Session-Id`) and reports them.
    pub conversations: Arc<Conversations>,
    /// The generic webhook's secret, if configured.
    pub secret: Option<SecretHash>,
    /// The provider's turn timeout.
    pub turn_timeout: Duration,
}

impl WebhookState {
    /// State made of these parts.
    pub fn new(shared: WebhookShared) -> Self {
        Self(Arc::new(shared))
    }
}

/// The webhook route groups.
pub fn route_groups(state: WebhookState) -> Vec<RouteGroup> {
    let timeout = state.0.turn_timeout + Duration::from_secs(5);
    vec![
        RouteGroup::new("webhook", Access::Scope(Scope::Chat))
            .rate_class(Some(RateClass::Webhook))
            .timeout(timeout)
            .route("/webhook", post(generic))
            .with_state(state),
    ]
}

fn invalid_body(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::INVALID_BODY, message.into())
}

/// Parses `{"message": "..."}` from raw bytes: 400 for bad JSON, 422 for the wrong shape or an empty message.
fn parse_body(body: &[u8]) -> Result<String, ApiError> {
    let parsed: WebhookBody = from_json_slice(body)?;
    if parsed.message.trim().is_empty() {
        return Err(invalid_body("message must not be empty"));
    }
    Ok(parsed.message)
}

fn session_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get("x-session-id") else { return Ok(None) };
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            INVALID_SESSION_ID,
            format!("X-Session-Id must be 1-{MAX_SESSION_ID_LEN} characters of A-Z a-z 0-9 . _ : -"),
        )
    };
    let id = raw.to_str().map_err(|_| invalid())?.trim();
    let valid = !id.is_empty()
        && id.len() <= MAX_SESSION_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if valid { Ok(Some(id.to_owned())) } else { Err(invalid()) }
}

#[utoipa::path(
    post,
    path = "/webhook",
    tag = "webhook",
    operation_id = "send_webhook_message",
    summary = "Send a prompt and wait for the agent's answer",
    params(
        ("X-Webhook-Secret" = Option<String>, Header, nullable = false, description = "Required, and compared in constant time, when `[channels_config.webhook] secret` is set."),
        ("X-Session-Id" = Option<String>, Header, nullable = false, description = "Keeps a conversation across calls: 1-128 characters of `A-Za-z0-9._:-`."),
        construct_core::openapi::IdempotencyKey,
    ),
    request_body(content = WebhookBody, content_type = "application/json"),
    security(("bearer" = ["chat"]), ("session_cookie" = ["chat"])),
    responses(
        (status = 200, description = "The agent's answer, after the whole turn.", body = crate::openapi::schemas::WebhookAnswer),
        (status = 400, description = "`INVALID_JSON`: the body is not JSON; `INVALID_SESSION_ID`: `X-Session-Id` is not 1-128 characters of `A-Za-z0-9._:-`; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 401, description = "`UNAUTHORIZED`: no valid bearer token or session cookie; `INVALID_SIGNATURE`: `X-Webhook-Secret` is missing or wrong while `[channels_config.webhook] secret` is set (checked before the body is read).", body = construct_core::openapi::ErrorBody),
        (status = 408, description = "`REQUEST_TIMEOUT`: the turn ran past the provider's `timeout_secs` plus 5 s.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::BodyTooLarge,
        (status = 422, description = "`INVALID_BODY`: a missing, non-string or empty `message`; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the webhook rate limit, the lockout after repeated bad tokens, or the model provider rate limiting; see `Retry-After`.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 502, description = "`AGENT_ERROR`: the agent could not answer; provider details stay in the log.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the session's history, or the credential check).", body = construct_core::openapi::ErrorBody),
        (status = 504, description = "`AGENT_TIMEOUT`: the agent ran out of time.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn generic(
    State(state): State<WebhookState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let state = &*state.0;
    if let Some(secret) = &state.secret {
        let presented = headers.get("x-webhook-secret").and_then(|v| v.to_str().ok()).unwrap_or("");
        secret.check(presented).map_err(|_| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                INVALID_SIGNATURE,
                "Invalid or missing X-Webhook-Secret header",
            )
        })?;
    }
    let message = parse_body(&body)?;
    let session = session_of(&headers)?;
    let conversations = &*state.conversations;
    conversations.publish("webhook_received", json!({"channel": "webhook", "session_id": session})).await;
    // Dropping the handler (the client hung up, or the route timed out) cancels the turn.
    let result =
        conversations.answer("webhook", session.as_deref(), &message, CancellationToken::new()).await;
    match result {
        Ok(answer) => Ok(Json(json!({ "response": answer, "model": conversations.agent.model() }))),
        Err(TurnFailure::History(error)) => {
            tracing::error!(%error, "cannot load session history");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::STORE_UNAVAILABLE,
                "Session history unavailable",
            ))
        }
        Err(TurnFailure::Agent(error)) => Err(match error {
            AgentError::Timeout => {
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, AGENT_TIMEOUT, "The agent took too long")
            }
            AgentError::RateLimited { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RATE_LIMITED,
                "The model provider is rate limiting requests",
            )
            .with_retry_after(retry_after.unwrap_or(30)),
            _ => ApiError::new(StatusCode::BAD_GATEWAY, AGENT_ERROR, "The agent could not answer"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_session_ids() {
        assert_eq!(parse_body(br#"{"message":"hi"}"#).unwrap(), "hi");
        assert_eq!(parse_body(b"{").unwrap_err().code(), ErrorCode::INVALID_JSON);
        assert_eq!(parse_body(br#"{"other":1}"#).unwrap_err().code(), ErrorCode::INVALID_BODY);
        assert_eq!(parse_body(br#"{"message":42}"#).unwrap_err().code(), ErrorCode::INVALID_BODY);
        assert_eq!(parse_body(br#"{"message":"  "}"#).unwrap_err().code(), ErrorCode::INVALID_BODY);
        let mut h = HeaderMap::new();
        assert_eq!(session_of(&h).unwrap(), None);
        h.insert("x-session-id", "chat-1".parse().unwrap());
        assert_eq!(session_of(&h).unwrap().as_deref(), Some("chat-1"));
        for bad in ["a b", "../x", "", &"x".repeat(129)] {
            h.insert("x-session-id", bad.parse().unwrap());
            assert_eq!(session_of(&h).unwrap_err().code(), INVALID_SESSION_ID, "{bad:?}");
        }
    }
}
