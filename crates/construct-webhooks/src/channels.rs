//! The messaging channels' routes: `/whatsapp`, `/wati`, `/linq`, `/nextcloud-talk` and `/webhook/gmail`.
//!
//! Each route is mounted always and answers 404 `CHANNEL_NOT_CONFIGURED` while its channel is off (so the
//! route table does not depend on configuration). A delivery is verified on the raw bytes first (401
//! `INVALID_SIGNATURE`), parsed second (400 `INVALID_JSON`), then its messages are queued and the provider is
//! answered at once with `{"status":"ok","accepted":n}`: the agent runs later, in the workers
//! ([`crate::worker`]), never inside the provider's request timeout (upstream ran whole agent turns inline,
//! so slow turns made Meta retry and answer twice). A full queue answers 503 `OVERLOADED` with `Retry-After`
//! so the provider retries; messages are deduplicated by provider id, so a retry never yields two replies.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use bytes::Bytes;
use construct_core::config::ChannelsConfig;
use construct_core::extract::{Json, Query, from_json_slice};
use construct_core::queue::{Enqueued, WorkQueue};
use construct_core::routes::{Access, RateClass, RouteGroup};
use construct_core::secret::Secret;
use construct_core::{ApiError, ErrorCode};
use http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::conversation::Conversations;
use crate::generic::INVALID_SIGNATURE;
use crate::parse::{self, Allowlist, Channel, InboundMessage, WatiVerifyQuery, WhatsAppVerifyQuery};
use crate::signature::{SecretHash, SignatureError, check_linq, check_nextcloud, check_whatsapp};
use construct_core::metrics::Metrics;

/// 404 for a channel route whose channel is off.
pub const CHANNEL_NOT_CONFIGURED: ErrorCode = ErrorCode::new("CHANNEL_NOT_CONFIGURED");
/// 503 when the work queue is full; `Retry-After` says when to come back.
pub const OVERLOADED: ErrorCode = ErrorCode::new("OVERLOADED");
/// 403 for a verification handshake with the wrong token or mode.
pub const VERIFICATION_FAILED: ErrorCode = ErrorCode::new("VERIFICATION_FAILED");
/// 400 for a handshake without a challenge to echo.
pub const MISSING_CHALLENGE: ErrorCode = ErrorCode::new("MISSING_CHALLENGE");
/// 400 for a Gmail push that is not a Pub/Sub envelope carrying a Gmail notification.
pub const INVALID_ENVELOPE: ErrorCode = ErrorCode::new("INVALID_ENVELOPE");

/// Seconds a provider is asked to wait when the queue is full.
pub const OVERLOADED_RETRY_AFTER_SECS: u64 = 30;
/// The Gmail push route's body limit (Pub/Sub envelopes are small; upstream's 1 MiB check was dead code).
pub const GMAIL_BODY_LIMIT: usize = 1024 * 1024;

struct WhatsApp {
    verify_token: SecretHash,
    app_secret: Secret,
    allow: Allowlist,
}

struct Wati {
    verify_token: SecretHash,
    secret: SecretHash,
    allow: Allowlist,
}

struct Linq {
    signing_secret: Secret,
    allow: Allowlist,
}

struct Nextcloud {
    secret: Secret,
    allow: Allowlist,
}

/// What the channel routes share.
#[derive(Clone)]
pub struct ChannelsState(Arc<Shared>);

struct Shared {
    whatsapp: Option<WhatsApp>,
    wati: Option<Wati>,
    linq: Option<Linq>,
    nextcloud: Option<Nextcloud>,
    gmail: Option<SecretHash>,
    queue: Arc<dyn WorkQueue>,
    conversations: Arc<Conversations>,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

impl ChannelsState {
    /// State for the configured channels. `wake` is notified for every queued message (the workers wait on
    /// it); delivery outcomes are counted in `metrics`.
    pub fn new(
        config: &ChannelsConfig,
        queue: Arc<dyn WorkQueue>,
        conversations: Arc<Conversations>,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self(Arc::new(Shared {
            whatsapp: config.whatsapp.as_ref().map(|c| WhatsApp {
                verify_token: SecretHash::of(c.verify_token.expose()),
                app_secret: c.app_secret.clone(),
                allow: Allowlist::new(&c.allowed_numbers),
            }),
            wati: config.wati.as_ref().map(|c| Wati {
                verify_token: SecretHash::of(c.verify_token.expose()),
                secret: SecretHash::of(c.webhook_secret.expose()),
                allow: Allowlist::new(&c.allowed_numbers),
            }),
            linq: config.linq.as_ref().map(|c| Linq {
                signing_secret: c.signing_secret.clone(),
                allow: Allowlist::new(&c.allowed_senders),
            }),
            nextcloud: config.nextcloud_talk.as_ref().map(|c| Nextcloud {
                secret: c.webhook_secret.clone(),
                allow: Allowlist::new(&c.allowed_users),
            }),
            gmail: config
                .gmail_push
                .as_ref()
                .filter(|g| g.enabled)
                .map(|g| SecretHash::of(g.webhook_secret.expose())),
            queue,
            conversations,
            wake,
            metrics,
        }))
    }
}

/// The channel route groups: the chat channels, and Gmail push with its own body limit. All public (each
/// delivery proves itself with its signature or secret) and rate-limited as webhooks.
pub fn route_groups(state: ChannelsState) -> Vec<RouteGroup> {
    vec![
        RouteGroup::new("channels", Access::Webhook)
            .rate_class(Some(RateClass::Webhook))
            .idempotent(false)
            .route("/whatsapp", get(whatsapp_verify).post(whatsapp))
            .route("/wati", get(wati_verify).post(wati))
            .route("/linq", post(linq))
            .route("/nextcloud-talk", post(nextcloud_talk))
            .with_state(state.clone()),
        RouteGroup::new("gmail-push", Access::Webhook)
            .rate_class(Some(RateClass::Webhook))
            .idempotent(false)
            .body_limit(GMAIL_BODY_LIMIT)
            .route("/webhook/gmail", post(gmail))
            .with_state(state),
    ]
}

fn not_configured(channel: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        CHANNEL_NOT_CONFIGURED,
        format!("The {channel} channel is not configured"),
    )
}

fn refused(metrics: &Metrics, channel: &str, reason: SignatureError) -> ApiError {
    tracing::warn!(channel, ?reason, "webhook delivery refused");
    metrics.webhook(channel, "invalid_signature", 1);
    ApiError::new(StatusCode::UNAUTHORIZED, INVALID_SIGNATURE, "Invalid signature")
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn verification_failed() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, VERIFICATION_FAILED, "Verification failed")
}

/// Echoes `challenge` as text, as the providers' handshakes expect.
fn echo(challenge: Option<String>) -> Result<Response, ApiError> {
    let challenge = challenge
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, MISSING_CHALLENGE, "Missing hub.challenge"))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], challenge).into_response())
}

impl Shared {
    /// Queues `messages` and answers the provider. Stops at the first refusal of a full queue: what was
    /// queued before it stays queued, and the provider's retry is deduplicated down to the rest.
    async fn accept(&self, channel: Channel, messages: Vec<InboundMessage>) -> Result<Json<Value>, ApiError> {
        let (mut accepted, mut duplicates) = (0u64, 0u64);
        let mut overloaded = false;
        for message in &messages {
            let payload = serde_json::to_value(message).map_err(|_| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::INTERNAL_ERROR, "Cannot queue")
            })?;
            let result = self
                .queue
                .enqueue(channel.as_str(), message.provider_id.as_deref(), &message.session_id(), payload)
                .await
                .map_err(|error| {
                    tracing::error!(%error, "cannot queue a webhook delivery");
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        ErrorCode::STORE_UNAVAILABLE,
                        "Work queue unavailable",
                    )
                    .with_retry_after(OVERLOADED_RETRY_AFTER_SECS)
                })?;
            match result {
                Enqueued::Accepted(_) => {
                    accepted += 1;
                    self.wake.notify_one();
                }
                Enqueued::Duplicate => duplicates += 1,
                Enqueued::Full => {
                    overloaded = true;
                    break;
                }
            }
        }
        for (outcome, count) in
            [("accepted", accepted), ("duplicate", duplicates), ("overloaded", u64::from(overloaded))]
        {
            if count > 0 {
                self.metrics.webhook(channel.as_str(), outcome, count);
            }
        }
        let event = json!({
            "channel": channel.as_str(),
            "messages": messages.len(),
            "accepted": accepted,
            "duplicates": duplicates,
            "overloaded": overloaded,
        });
        self.conversations.publish("webhook_received", event).await;
        if overloaded {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                OVERLOADED,
                "Too much work queued; retry later",
            )
            .with_retry_after(OVERLOADED_RETRY_AFTER_SECS));
        }
        Ok(Json(json!({"status": "ok", "accepted": accepted})))
    }
}

#[utoipa::path(
    get,
    path = "/whatsapp",
    tag = "channels",
    operation_id = "verify_whatsapp_webhook",
    summary = "Answer WhatsApp Cloud's verification handshake",
    params(WhatsAppVerifyQuery),
    security(()),
    responses(
        (status = 200, description = "The handshake passed: `hub.challenge`, echoed as `text/plain`.", content_type = "text/plain", body = String),
        (status = 400, description = "`MISSING_CHALLENGE`: no `hub.challenge` to echo; `INVALID_QUERY`: a malformed query string.", body = construct_core::openapi::ErrorBody),
        (status = 403, description = "`VERIFICATION_FAILED`: `hub.mode` is not `subscribe`, or `hub.verify_token` is not the configured `verify_token` (compared in constant time).", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CHANNEL_NOT_CONFIGURED`: the WhatsApp channel is off.", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the webhook rate limit (`webhook_rate_limit_per_minute` per client address); see `Retry-After`.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(crate) async fn whatsapp_verify(
    State(state): State<ChannelsState>,
    Query(query): Query<WhatsAppVerifyQuery>,
) -> Result<Response, ApiError> {
    let c = state.0.whatsapp.as_ref().ok_or_else(|| not_configured("whatsapp"))?;
    let token_ok = c.verify_token.check(query.verify_token.as_deref().unwrap_or("")).is_ok();
    if query.mode.as_deref() != Some("subscribe") || !token_ok {
        return Err(verification_failed());
    }
    echo(query.challenge)
}

#[utoipa::path(
    post,
    path = "/whatsapp",
    tag = "channels",
    operation_id = "receive_whatsapp_delivery",
    summary = "Receive a WhatsApp Cloud delivery",
    params(
        ("X-Hub-Signature-256" = String, Header, description = "`sha256=<hex HMAC-SHA256(app_secret, raw body)>`: the prefix is case-sensitive and the MAC exactly 32 bytes."),
    ),
    request_body(content = Object, content_type = "application/json", description = "WhatsApp Cloud's webhook payload: the text messages of `entry[].changes[].value.messages[]` are queued (the wamid is kept for threading the reply)."),
    security(()),
    responses(
        (status = 200, description = "`{\"status\":\"ok\",\"accepted\":n}`: the delivery is verified and its messages that pass the allowlist and self/bot filters are queued; `n` counts those newly queued (a retry of a delivery already seen is acknowledged with 0 and never answered twice).", body = crate::openapi::schemas::ChannelAccepted),
        (status = 400, description = "`INVALID_JSON`: the verified body is not JSON.", body = construct_core::openapi::ErrorBody),
        (status = 401, description = "`INVALID_SIGNATURE`: `X-Hub-Signature-256` is missing, malformed, truncated or wrong.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CHANNEL_NOT_CONFIGURED`: the WhatsApp channel is off.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over the route's limit (64 KiB).", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the webhook rate limit (`webhook_rate_limit_per_minute` per client address); see `Retry-After`.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`OVERLOADED`: the work queue is full; the provider should retry after `Retry-After` (30 s); what was queued before stays queued and the retry is deduplicated down to the rest. `STORE_UNAVAILABLE`: the work queue cannot be reached.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(crate) async fn whatsapp(
    State(state): State<ChannelsState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let c = state.0.whatsapp.as_ref().ok_or_else(|| not_configured("whatsapp"))?;
    check_whatsapp(c.app_secret.expose(), &body, header_str(&headers, "x-hub-signature-256"))
        .map_err(|reason| refused(&state.0.metrics, "whatsapp", reason))?;
    let payload: Value = from_json_slice(&body)?;
    state.0.accept(Channel::WhatsApp, parse::whatsapp(&payload, &c.allow)).await
}

#[utoipa::path(
    get,
    path = "/wati",
    tag = "channels",
    operation_id = "verify_wati_webhook",
    summary = "Answer WATI's verification handshake",
    params(WatiVerifyQuery),
    security(()),
    responses(
        (status = 200, description = "The handshake passed: `hub.challenge`, echoed as `text/plain`.", content_type = "text/plain", body = String),
        (status = 400, description = "`MISSING_CHALLENGE`: no `hub.challenge` to echo; `INVALID_QUERY`: a malformed query string.", body = construct_core::openapi::ErrorBody),
        (status = 403, description = "`VERIFICATION_FAILED`: `hub.verify_token` is not the configured `verify_token` (compared in constant time).", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CHANNEL_NOT_CONFIGURED`: the WATI channel is off.", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the webhook rate limit (`webhook_rate_limit_per_minute` per client address); see `Retry-After`.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(crate) async fn wati_verify(
    State(state): State<ChannelsState>,
    Query(query): Query<WatiVerifyQuery>,
) -> Result<Response, ApiError> {
    let c = state.0.wati.as_ref().ok_or_else(|| not_configured("wati"))?;
    // Upstream echoed any challenge to anyone; the configured token is required here.
    if c.verify_token.check(query.verify_token.as_deref().unwrap_or("")).is_err() {
        return Err(verification_failed());
    }
    echo(query.challenge)
}

/// The `token` value of a raw query string, percent-decoded.
fn query_token(query: Option<&str>) -> Option<String> {
    url_pairs(query?).find(|(k, _)| k == "token").map(|(_, v)| v)
}

fn url_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    reqwest::Url::parse(&format!("http://q/?{query}"))
        .map(|u| u.query_pairs().into_owned().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
}

#[utoipa::path(
    post,
    path = "/wati",
    tag = "channels",
    operation_id = "receive_wati_delivery",
    summary = "Receive a WATI delivery",
    params(
        ("X-Wati-Secret" = Option<String>, Header, nullable = false, description = "The configured `webhook_secret` (constant time); when absent, the `token` query value is checked instead."),
        ("token" = Option<String>, Query, nullable = false, description = "The configured `webhook_secret`, for a WATI that cannot send headers; ignored when `X-Wati-Secret` is sent."),
    ),
    request_body(content = Object, content_type = "application/json", description = "WATI's webhook payload: text from `text`, `message.text` or `message.body`; the account's own messages are skipped."),
    security(()),
    responses(
        (status = 200, description = "`{\"status\":\"ok\",\"accepted\":n}`: the delivery is verified and its messages that pass the allowlist and self/bot filters are queued; `n` counts those newly queued (a retry of a delivery already seen is acknowledged with 0 and never answered twice).", body = crate::openapi::schemas::ChannelAccepted),
        (status = 400, description = "`INVALID_JSON`: the verified body is not JSON.", body = construct_core::openapi::ErrorBody),
        (status = 401, description = "`INVALID_SIGNATURE`: neither `X-Wati-Secret` nor `token` is the configured `webhook_secret`.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CHANNEL_NOT_CONFIGURED`: the WATI channel is off.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over the route's limit (64 KiB).", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the webhook rate limit (`webhook_rate_limit_per_minute` per client address); see `Retry-After`.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`OVERLOADED`: the work queue is full; the provider should retry after `Retry-After` (30 s); what was queued before stays queued and the retry is deduplicated down to the rest. `STORE_UNAVAILABLE`: the work queue cannot be reached.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(crate) async fn wati(
    State(state): State<ChannelsState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let c = state.0.wati.as_ref().ok_or_else(|| not_configured("wati"))?;
    let presented = match headers.get("x-wati-secret") {
        Some(value) => value.to_str().unwrap_or("").to_owned(),
        None => query_token(query.as_deref()).unwrap_or_default(),
    };
    c.secret.check(&presented).map_err(|reason| refused(&state.0.metrics, "wati", reason))?;
    let payload: Value = from_json_slice(&body)?;
    state.0.accept(Channel::Wati, parse::wati(&payload, &c.allow)).await
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[utoipa::path(
    post,
    path = "/linq",
    tag = "channels",
    operation_id = "receive_linq_delivery",
    summary = "Receive a Linq delivery",
    params(
        ("X-Webhook-Timestamp" = String, Header, description = "Unix seconds; within 300 s of the gateway's clock."),
        ("X-Webhook-Signature" = String, Header, description = "hex HMAC-SHA256(signing_secret, `\"{timestamp}.{body}\"`), optionally prefixed `sha256=`."),
    ),
    request_body(content = Object, content_type = "application/json", description = "Linq's webhook event: `message.received` events from others are queued, their text parts joined."),
    security(()),
    responses(
        (status = 200, description = "`{\"status\":\"ok\",\"accepted\":n}`: the delivery is verified and its messages that pass the allowlist and self/bot filters are queued; `n` counts those newly queued (a retry of a delivery already seen is acknowledged with 0 and never answered twice).", body = crate::openapi::schemas::ChannelAccepted),
        (status = 400, description = "`INVALID_JSON`: the verified body is not JSON.", body = construct_core::openapi::ErrorBody),
        (status = 401, description = "`INVALID_SIGNATURE`: `X-Webhook-Timestamp` is missing or more than 300 s away, or `X-Webhook-Signature` is missing, malformed or wrong.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CHANNEL_NOT_CONFIGURED`: the Linq channel is off.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over the route's limit (64 KiB).", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the webhook rate limit (`webhook_rate_limit_per_minute` per client address); see `Retry-After`.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`OVERLOADED`: the work queue is full; the provider should retry after `Retry-After` (30 s); what was queued before stays queued and the retry is deduplicated down to the rest. `STORE_UNAVAILABLE`: the work queue cannot be reached.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(crate) async fn linq(
    State(state): State<ChannelsState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let c = state.0.linq.as_ref().ok_or_else(|| not_configured("linq"))?;
    check_linq(
        c.signing_secret.expose(),
        header_str(&headers, "x-webhook-timestamp"),
        header_str(&headers, "x-webhook-signature"),
        &body,
        unix_now(),
    )
    .map_err(|reason| refused(&state.0.metrics, "linq", reason))?;
    let payload: Value = from_json_slice(&body)?;
    state.0.accept(Channel::Linq, parse::linq(&payload, &c.allow)).await
}

#[utoipa::path(
    post,
    path = "/nextcloud-talk",
    tag = "channels",
    operation_id = "receive_nextcloud_talk_delivery",
    summary = "Receive a Nextcloud Talk bot delivery",
    params(
        ("X-Nextcloud-Talk-Random" = String, Header, description = "The random string the signature covers."),
        ("X-Nextcloud-Talk-Signature" = String, Header, description = "hex HMAC-SHA256(webhook_secret, random + raw body)."),
    ),
    request_body(content = Object, content_type = "application/json", description = "Nextcloud Talk's bot payload: an ActivityStreams `Create`/`Note`, or a legacy `message`; bots and applications are skipped."),
    security(()),
    responses(
        (status = 200, description = "`{\"status\":\"ok\",\"accepted\":n}`: the delivery is verified and its messages that pass the allowlist and self/bot filters are queued; `n` counts those newly queued (a retry of a delivery already seen is acknowledged with 0 and never answered twice).", body = crate::openapi::schemas::ChannelAccepted),
        (status = 400, description = "`INVALID_JSON`: the verified body is not JSON.", body = construct_core::openapi::ErrorBody),
        (status = 401, description = "`INVALID_SIGNATURE`: `X-Nextcloud-Talk-Random` or `X-Nextcloud-Talk-Signature` is missing, or the signature is malformed or wrong.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CHANNEL_NOT_CONFIGURED`: the Nextcloud Talk channel is off.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over the route's limit (64 KiB).", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the webhook rate limit (`webhook_rate_limit_per_minute` per client address); see `Retry-After`.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`OVERLOADED`: the work queue is full; the provider should retry after `Retry-After` (30 s); what was queued before stays queued and the retry is deduplicated down to the rest. `STORE_UNAVAILABLE`: the work queue cannot be reached.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(crate) async fn nextcloud_talk(
    State(state): State<ChannelsState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let c = state.0.nextcloud.as_ref().ok_or_else(|| not_configured("nextcloud_talk"))?;
    check_nextcloud(
        c.secret.expose(),
        header_str(&headers, "x-nextcloud-talk-random"),
        header_str(&headers, "x-nextcloud-talk-signature"),
        &body,
    )
    .map_err(|reason| refused(&state.0.metrics, "nextcloud_talk", reason))?;
    let payload: Value = from_json_slice(&body)?;
    state.0.accept(Channel::NextcloudTalk, parse::nextcloud_talk(&payload, &c.allow)).await
}

/// What a Gmail push notification says, from the Pub/Sub envelope's base64 `message.data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GmailNotification {
    /// The mailbox that changed.
    pub email_address: String,
    /// Its new history id.
    pub history_id: u64,
    /// Pub/Sub's message id, when present.
    pub message_id: Option<String>,
}

/// Decodes a Pub/Sub push envelope `{"message": {"data": <base64 JSON>, "messageId"?}, "subscription"?}`.
pub fn gmail_notification(envelope: &Value) -> Option<GmailNotification> {
    let message = &envelope["message"];
    let data = message["data"].as_str()?.trim();
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let decoded = engines.iter().find_map(|engine| engine.decode(data).ok())?;
    let inner: Value = serde_json::from_slice(&decoded).ok()?;
    let email_address = inner["emailAddress"].as_str().map(str::trim).filter(|s| !s.is_empty())?;
    let history_id = match &inner["historyId"] {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some(GmailNotification {
        email_address: email_address.to_owned(),
        history_id,
        message_id: message["messageId"]
            .as_str()
            .or_else(|| message["message_id"].as_str())
            .map(str::to_owned),
    })
}

#[utoipa::path(
    post,
    path = "/webhook/gmail",
    tag = "channels",
    operation_id = "receive_gmail_push",
    summary = "Receive a Gmail push notification",
    params(
        ("Authorization" = String, Header, description = "`Bearer <webhook_secret>` of `[channels_config.gmail_push]`, as the Pub/Sub push subscription sends it; a shared secret, not a gateway token."),
    ),
    request_body(content = Object, content_type = "application/json", description = "A Pub/Sub push envelope `{message: {data: <base64 JSON {emailAddress, historyId}>, messageId?}, subscription?}`."),
    security(()),
    responses(
        (status = 200, description = "`{\"status\":\"ok\"}`: a `gmail_notification` event `{email_address, history_id, message_id}` was published.", body = crate::openapi::schemas::GmailAccepted),
        (status = 400, description = "`INVALID_JSON`: the verified body is not JSON; `INVALID_ENVELOPE`: not a Pub/Sub envelope whose base64 `message.data` is JSON with `emailAddress` and `historyId`.", body = construct_core::openapi::ErrorBody),
        (status = 401, description = "`INVALID_SIGNATURE`: `Authorization` is not `Bearer <webhook_secret>` (constant time).", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CHANNEL_NOT_CONFIGURED`: the Gmail push channel is off.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 1 MiB.", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: the webhook rate limit (`webhook_rate_limit_per_minute` per client address); see `Retry-After`.", body = construct_core::openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
pub(crate) async fn gmail(
    State(state): State<ChannelsState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let secret = state.0.gmail.as_ref().ok_or_else(|| not_configured("gmail_push"))?;
    let presented = header_str(&headers, "authorization");
    let token = presented.strip_prefix("Bearer ").or_else(|| presented.strip_prefix("bearer ")).unwrap_or("");
    secret.check(token).map_err(|reason| refused(&state.0.metrics, "gmail_push", reason))?;
    let envelope: Value = from_json_slice(&body)?;
    let notification = gmail_notification(&envelope).ok_or_else(|| {
        ApiError::new(StatusCode::BAD_REQUEST, INVALID_ENVELOPE, "Invalid Pub/Sub envelope")
    })?;
    let event = json!({
        "email_address": notification.email_address,
        "history_id": notification.history_id,
        "message_id": notification.message_id,
    });
    state.0.conversations.publish("gmail_notification", event).await;
    Ok(Json(json!({"status": "ok"})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    #[test]
    fn gmail_envelopes() {
        let data = STANDARD.encode(br#"{"emailAddress":"me@example.com","historyId":9876}"#);
        let envelope = json!({"message": {"data": data, "messageId": "m-1"}, "subscription": "s"});
        assert_eq!(
            gmail_notification(&envelope),
            Some(GmailNotification {
                email_address: "me@example.com".into(),
                history_id: 9876,
                message_id: Some("m-1".into())
            })
        );
        let data = URL_SAFE_NO_PAD.encode(br#"{"emailAddress":"me@example.com","historyId":"12"}"#);
        assert_eq!(gmail_notification(&json!({"message": {"data": data}})).unwrap().history_id, 12);
        for bad in [
            json!({}),
            json!({"message": {"data": "%%%"}}),
            json!({"message": {"data": STANDARD.encode(b"not json")}}),
            json!({"message": {"data": STANDARD.encode(br#"{"historyId":1}"#)}}),
            json!({"message": {"data": STANDARD.encode(br#"{"emailAddress":"a@b","historyId":-1}"#)}}),
        ] {
            assert_eq!(gmail_notification(&bad), None, "{bad}");
        }
    }

    #[test]
    fn the_wati_token_comes_from_the_query_decoded() {
        assert_eq!(query_token(Some("a=1&token=s%20x")).as_deref(), Some("s x"));
        assert_eq!(query_token(Some("tokens=1")), None);
        assert_eq!(query_token(None), None);
    }
}
