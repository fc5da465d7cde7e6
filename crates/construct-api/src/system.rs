//! Dashboard system routes: `GET /api/config` (admin), `GET /api/channels` and `GET /api/health` (read).
//!
//! The configuration is printed with every secret masked. Masking is decided by type, not by a list of
//! names: every secret field of the configuration is a `Secret`, which cannot serialise its value
//! (upstream masked a hand-kept list and missed a dozen keys). Channels and health report what this
//! gateway actually knows; nothing is invented.

use std::time::Duration;

use axum::extract::State;
use construct_core::ApiError;
use construct_core::extract::Json;
use serde_json::{Value, json};

use crate::ApiState;

pub(crate) async fn config(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let content = toml::to_string_pretty(&*state.config).map_err(|error| {
        tracing::error!(%error, "cannot print the configuration");
        ApiError::internal()
    })?;
    Ok(Json(json!({"format": "toml", "content": content})))
}

pub(crate) async fn channels(State(state): State<ApiState>) -> Json<Value> {
    let c = &state.config.channels_config;
    let entry = |name: &str, kind: &str, enabled: bool| json!({"name": name, "type": kind, "enabled": enabled, "status": if enabled { "active" } else { "inactive" }});
    let channels = vec![
        entry("webhook", "webhook", true),
        entry("whatsapp", "whatsapp", c.whatsapp.is_some()),
        entry("wati", "wati", c.wati.is_some()),
        entry("linq", "linq", c.linq.is_some()),
        entry("nextcloud_talk", "nextcloud_talk", c.nextcloud_talk.is_some()),
        entry("gmail_push", "gmail_push", c.gmail_push.as_ref().is_some_and(|g| g.enabled)),
    ];
    Json(json!({ "channels": channels }))
}

pub(crate) async fn health(State(state): State<ApiState>) -> Json<Value> {
    let store = match state.devices.device_count().await {
        Ok(_) => json!({"status": "ok", "backend": state.devices.backend()}),
        Err(error) => {
            json!({"status": "error", "backend": state.devices.backend(), "last_error": error.to_string()})
        }
    };
    let kumiho = match tokio::time::timeout(Duration::from_secs(5), state.kumiho.list_projects()).await {
        Ok(Ok(_)) => json!({"status": "ok", "mode": state.config.kumiho.mode}),
        Ok(Err(error)) => {
            json!({"status": "error", "mode": state.config.kumiho.mode, "last_error": error.to_string()})
        }
        Err(_) => {
            json!({"status": "error", "mode": state.config.kumiho.mode, "last_error": "timed out after 5 s"})
        }
    };
    Json(json!({"health": {
        "uptime_seconds": state.started.elapsed().as_secs(),
        "components": {"store": store, "kumiho": kumiho},
    }}))
}

/// `GET /api/cost` (read; upstream served it to anyone): `{"cost": CostSummary}`, where session figures
/// cover this gateway process and daily/monthly ones the current UTC day and month.
pub(crate) async fn cost(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let now = time::OffsetDateTime::now_utc();
    let session_start = now - state.started.elapsed();
    let summary = state.usage.summary(session_start, now).await.map_err(crate::store_unavailable)?;
    Ok(Json(json!({"cost": summary})))
}
