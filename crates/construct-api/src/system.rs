//! Dashboard system routes: `GET /api/config` and `PUT /api/config` (admin), `GET /api/cost`, `GET /api/channels` and `GET /api/health` (read).
//!
//! The configuration is printed with every secret masked. Masking is decided by type, not by a list of
//! names: every secret field of the configuration is a `Secret`, which cannot serialise its value
//! (upstream masked a hand-kept list and missed a dozen keys). Channels and health report what this
//! gateway actually knows; nothing is invented.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use construct_auth::Caller;
use construct_core::audit::{AuditEvent, AuditKind, record};
use construct_core::config::Config;
use construct_core::extract::Json;
use construct_core::secret::MASK;
use construct_core::{ApiError, ErrorCode};
use http::StatusCode;
use serde_json::{Value, json};

use crate::ApiState;

#[utoipa::path(
    get,
    path = "/api/config",
    tag = "system",
    operation_id = "get_config",
    summary = "The effective configuration, secrets masked",
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "The configuration as TOML, every secret printed as `********`.", body = crate::openapi::schemas::ConfigText),
    )
)]
pub(crate) async fn config(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let content = toml::to_string_pretty(&*state.config()).map_err(|error| {
        tracing::error!(%error, "cannot print the configuration");
        ApiError::internal()
    })?;
    Ok(Json(json!({"format": "toml", "content": content})))
}

#[utoipa::path(
    get,
    path = "/api/channels",
    tag = "system",
    operation_id = "list_channels",
    summary = "The messaging channels and whether each is on",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "Every channel.", body = crate::openapi::schemas::ChannelList),
    )
)]
pub(crate) async fn channels(State(state): State<ApiState>) -> Json<Value> {
    let c = &state.config().channels_config;
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

#[utoipa::path(
    get,
    path = "/api/health",
    tag = "system",
    operation_id = "component_health",
    summary = "The health of the store and Kumiho",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "Each component's state (a failing component is reported here, not as an error status).", body = crate::openapi::schemas::HealthAnswer),
    )
)]
pub(crate) async fn health(State(state): State<ApiState>) -> Json<Value> {
    let store = match state.devices.device_count().await {
        Ok(_) => json!({"status": "ok", "backend": state.devices.backend()}),
        Err(error) => {
            json!({"status": "error", "backend": state.devices.backend(), "last_error": error.to_string()})
        }
    };
    let kumiho = match tokio::time::timeout(Duration::from_secs(5), state.kumiho.list_projects()).await {
        Ok(Ok(_)) => json!({"status": "ok", "mode": state.config().kumiho.mode}),
        Ok(Err(error)) => {
            json!({"status": "error", "mode": state.config().kumiho.mode, "last_error": error.to_string()})
        }
        Err(_) => {
            json!({"status": "error", "mode": state.config().kumiho.mode, "last_error": "timed out after 5 s"})
        }
    };
    Json(json!({"health": {
        "uptime_seconds": state.started.elapsed().as_secs(),
        "components": {"store": store, "kumiho": kumiho},
    }}))
}

/// `GET /api/cost` (read; upstream served it to anyone): `{"cost": CostSummary}`, where session figures
/// cover this gateway process and daily/monthly ones the current UTC day and month.
#[utoipa::path(
    get,
    path = "/api/cost",
    tag = "system",
    operation_id = "cost",
    summary = "Model usage and its cost",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "Usage for this process, the UTC day and the UTC month.", body = crate::openapi::schemas::CostAnswer),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (for this route's data, or to check the credential).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn cost(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let now = time::OffsetDateTime::now_utc();
    let session_start = now - state.started.elapsed();
    let summary = state.usage.summary(session_start, now).await.map_err(crate::store_unavailable)?;
    Ok(Json(json!({"cost": summary})))
}

/// 400 for a `PUT /api/config` body that is not TOML (or not UTF-8).
pub const INVALID_TOML: ErrorCode = ErrorCode::new("INVALID_TOML");
/// 422 for TOML the gateway would refuse to start with; `key` names the culprit.
pub const INVALID_CONFIG: ErrorCode = ErrorCode::new("INVALID_CONFIG");
/// 409 when the gateway has no configuration file it may write.
pub const CONFIG_NOT_WRITABLE: ErrorCode = ErrorCode::new("CONFIG_NOT_WRITABLE");
/// The body limit of `PUT /api/config` (upstream meant 1 MiB and enforced 64 KiB).
pub const CONFIG_BODY_LIMIT: usize = 1024 * 1024;

/// Replaces every masked secret of `submitted` with the value the file holds at the same place, or removes
/// it when the file holds none (the value then comes from where it came from before: the environment or
/// the default). Returns how many were replaced or removed, or the first masked place that cannot be
/// restored (inside an array the file does not match).
fn restore_masked(
    submitted: &mut toml::Table,
    file: Option<&toml::Table>,
    path: &str,
) -> Result<usize, String> {
    let mut touched = 0;
    let keys: Vec<String> = submitted.keys().cloned().collect();
    for key in keys {
        let here = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        let current = file.and_then(|f| f.get(&key));
        let Some(value) = submitted.get_mut(&key) else { continue };
        match value {
            toml::Value::String(text) if text == MASK => {
                touched += 1;
                match current {
                    Some(previous) => *value = previous.clone(),
                    None => {
                        submitted.remove(&key);
                    }
                }
            }
            toml::Value::Table(table) => {
                touched += restore_masked(table, current.and_then(toml::Value::as_table), &here)?
            }
            toml::Value::Array(items) => {
                let previous = current.and_then(toml::Value::as_array);
                for (i, item) in items.iter_mut().enumerate() {
                    let counterpart = previous.and_then(|p| p.get(i));
                    match item {
                        toml::Value::String(text) if text == MASK => match counterpart {
                            Some(previous) => {
                                *item = previous.clone();
                                touched += 1;
                            }
                            None => return Err(format!("{here}[{i}]")),
                        },
                        toml::Value::Table(table) => {
                            touched += restore_masked(
                                table,
                                counterpart.and_then(toml::Value::as_table),
                                &format!("{here}[{i}]"),
                            )?;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(touched)
}

/// Whether `table` sets anything: a value other than a table, or a table that does. A file of comments and
/// empty tables would save as "every default", which is never what an editor meant to send.
fn holds_a_setting(table: &toml::Table) -> bool {
    table.values().any(|value| match value {
        toml::Value::Table(inner) => holds_a_setting(inner),
        _ => true,
    })
}

/// The sections of `old` and `new` that differ, each with whether this process applies it at once.
/// `kumiho` is live unless its mode changes; a remote endpoint is re-pointed when the client allows it.
fn changes(old: &Config, new: &Config, remote_client: bool) -> Vec<(&'static str, bool)> {
    let endpoint_same =
        old.kumiho.api_url == new.kumiho.api_url && old.kumiho.service_token == new.kumiho.service_token;
    let kumiho_live = old.kumiho.mode == new.kumiho.mode
        && (endpoint_same || old.kumiho.mode == construct_core::config::KumihoMode::Local || remote_client);
    [
        ("gateway", old.gateway != new.gateway, false),
        ("provider", old.provider != new.provider, false),
        ("channels_config", old.channels_config != new.channels_config, false),
        ("nodes", old.nodes != new.nodes, false),
        ("terminal", old.terminal != new.terminal, false),
        ("kumiho", old.kumiho != new.kumiho, kumiho_live),
        ("workflows", old.workflows != new.workflows, true),
        ("clawhub", old.clawhub != new.clawhub, true),
    ]
    .into_iter()
    .filter(|(_, changed, _)| *changed)
    .map(|(name, _, live)| (name, live))
    .collect()
}

/// `PUT /api/config` (admin): the new configuration file as TOML. Masked secrets keep their values; the
/// result is checked exactly as the next start would load it (the environment and flags still on top),
/// written atomically, audited, and the sections this process can change while it runs (`kumiho` but its
/// mode, including a remote server's URL and token; `workflows`, `clawhub`) take effect at once; the answer lists the rest under
/// `restart_required`.
#[utoipa::path(
    put,
    path = "/api/config",
    tag = "system",
    operation_id = "put_config",
    summary = "Replace the configuration file",
    request_body(content = String, content_type = "application/toml", description = "The new configuration file as TOML (any content type is accepted). A value printed as `********` keeps the value the file holds there."),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "Written; `applied` took effect at once, `restart_required` at the next start.", body = crate::openapi::schemas::ConfigSaved),
        (status = 400, description = "`INVALID_TOML`: the body is not UTF-8 TOML; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`CONFIG_NOT_WRITABLE`: the gateway has no configuration file to write, or the file on disk is not TOML; `IDEMPOTENCY_IN_PROGRESS`: a request with the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over 1 MiB.", body = construct_core::openapi::ErrorBody),
        (status = 422, description = "`INVALID_CONFIG`: a value the gateway would refuse (`key` names it), unknown keys (`unknown` lists them), a masked value inside an array the file does not match, or a configuration with no settings at all (empty, or only comments and empty tables: it would reset every setting); `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn put_config(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, INVALID_TOML, "The configuration must be UTF-8 TOML")
    })?;
    let mut submitted: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        ApiError::new(StatusCode::BAD_REQUEST, INVALID_TOML, format!("Invalid TOML: {}", e.message()))
    })?;
    let Some(path) = construct_core::config::config_file_to_write(&state.loaded) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            CONFIG_NOT_WRITABLE,
            "This gateway has no configuration file to write; start it with --config",
        ));
    };
    if !holds_a_setting(&submitted) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_CONFIG,
            "The configuration is empty (no settings, only comments or empty tables): an empty file would \
             reset every setting to its default",
        ));
    }
    let _writing = state.config_write.lock().await;
    let on_disk = match tokio::fs::read_to_string(&path).await {
        Ok(text) => Some(text.parse::<toml::Table>().map_err(|e| {
            tracing::warn!(error = %e.message(), path = %path.display(), "the configuration file on disk is not TOML");
            ApiError::new(StatusCode::CONFLICT, CONFIG_NOT_WRITABLE, "The configuration file on disk is not valid TOML")
        })?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "cannot read the configuration file");
            return Err(ApiError::internal());
        }
    };
    let restored = restore_masked(&mut submitted, on_disk.as_ref(), "").map_err(|place| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_CONFIG,
            format!("The masked value at {place} has nothing to restore"),
        )
        .with_detail("key", json!(place))
    })?;
    let contents = if restored == 0 {
        text.to_owned()
    } else {
        toml::to_string_pretty(&submitted).map_err(|error| {
            tracing::error!(%error, "cannot print the configuration");
            ApiError::internal()
        })?
    };
    let checked = construct_core::config::load_with_contents(&state.loaded.sources, &path, &contents)
        .map_err(|error| {
            let key = match &error {
                construct_core::config::ConfigError::Invalid { key, .. } => json!(key),
                _ => Value::Null,
            };
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, INVALID_CONFIG, error.to_string())
                .with_detail("key", key)
        })?;
    let unknown: Vec<&String> =
        checked.warnings.iter().filter(|w| w.starts_with("unknown configuration key")).collect();
    if !unknown.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            INVALID_CONFIG,
            "The configuration has unknown keys",
        )
        .with_detail("unknown", json!(unknown)));
    }
    let target = path.clone();
    let bytes = contents.into_bytes();
    tokio::task::spawn_blocking(move || construct_core::fsutil::write_private_atomically(&target, &bytes))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|error| {
            tracing::error!(%error, path = %path.display(), "cannot write the configuration file");
            ApiError::internal()
        })?;

    let old = state.config();
    let changed = changes(&old, &checked.config, state.remote_kumiho.is_some());
    let mut running = (*old).clone();
    let (mut applied, mut restart_required) = (Vec::new(), Vec::new());
    for (section, live) in &changed {
        if !live {
            restart_required.push(*section);
            continue;
        }
        applied.push(*section);
        match *section {
            "kumiho" => {
                let k = &checked.config.kumiho;
                if let Some(client) = &state.remote_kumiho {
                    let token = k.service_token.as_ref().map(|t| t.expose()).unwrap_or_default();
                    client.set_endpoint(&k.api_url, token);
                }
                running.kumiho = k.clone();
            }
            "workflows" => running.workflows = checked.config.workflows.clone(),
            "clawhub" => running.clawhub = checked.config.clawhub.clone(),
            _ => {}
        }
    }
    state.live_config.set(running);
    state.kumiho_cache.invalidate();
    tracing::info!(path = %path.display(), ?applied, ?restart_required, "configuration changed through the API");
    let detail =
        json!({"path": path.display().to_string(), "applied": applied, "restart_required": restart_required});
    record(
        &*state.audit,
        AuditEvent::new(AuditKind::ConfigChanged).actor(caller.id()).detail(detail.clone()),
    )
    .await;
    state.publish("config_changed", json!({"applied": applied, "restart_required": restart_required})).await;
    Ok(Json(json!({
        "status": "ok",
        "path": path.display().to_string(),
        "applied": applied,
        "restart_required": restart_required,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_configuration_holds_no_setting() {
        for empty in ["", "\n  \n", "# only a comment\n", "[gateway]\n", "[gateway]\n[kumiho.remote]\n"] {
            let table: toml::Table = empty.parse().unwrap();
            assert!(!holds_a_setting(&table), "{empty:?}");
        }
        for set in ["port = 1\n", "[gateway]\nport = 1\n", "[a.b]\nc = []\n", "[[nodes]]\n"] {
            let table: toml::Table = set.parse().unwrap();
            assert!(holds_a_setting(&table), "{set:?}");
        }
    }
}
