//! The OpenAPI 3.1 document: the gateway's own routes, merged with every route crate's part.
//!
//! `GET /api/openapi.json` (read) serves it; `cargo xtask openapi` commits it as `docs/api/openapi.json`
//! and CI fails when that copy is stale; `tests/openapi.rs` fails when a mounted REST route (any method
//! the router answers) is missing from it.

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use construct_core::openapi::Common;
use http::header;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;

/// `GET /health`'s body.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes the JSON the handler writes.
pub struct HealthBody {
    /// Always `ok`.
    status: String,
    /// The gateway's version.
    version: String,
    /// Whether protected routes need a paired device's token.
    require_pairing: bool,
    /// Whether a device is paired.
    paired: bool,
}

/// `GET /readyz`'s body when ready (a 503 carries the error envelope plus the same `checks`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ReadyBody {
    /// `ready`.
    status: String,
    /// Each check by name: `ok`, `failed`, or `draining` for `shutdown`.
    checks: std::collections::BTreeMap<String, String>,
}

/// The gateway crate's own routes.
#[derive(OpenApi)]
#[openapi(
    paths(
        crate::routes::health::health,
        crate::routes::health::readyz,
        crate::routes::metrics::metrics,
        serve,
    ),
    components(schemas(HealthBody, ReadyBody)),
    modifiers(&Common),
    tags(
        (name = "probes", description = "Liveness and readiness, for load balancers and orchestrators."),
        (name = "metrics", description = "Prometheus metrics."),
        (name = "meta", description = "This document."),
    )
)]
struct GatewayDoc;

/// The whole document, as committed in `docs/api/openapi.json`.
pub fn document() -> Document {
    let mut doc = construct_core::openapi::base(env!("CARGO_PKG_VERSION"));
    doc.merge(GatewayDoc::openapi());
    doc.merge(construct_api::ApiDoc::openapi());
    doc.merge(construct_realtime::ApiDoc::openapi());
    doc.merge(construct_mcp::ApiDoc::openapi());
    doc.merge(construct_webhooks::ApiDoc::openapi());
    doc
}

/// The document as pretty JSON with a final newline (the committed form).
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
    text.push('\n');
    text
}

/// `GET /api/openapi.json`: rendered once; a gateway under a path prefix names it as its server.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The OpenAPI 3.1 document.", body = Object),
    )
)]
pub(crate) async fn serve(State(prefix): State<Arc<str>>) -> Response {
    static RENDERED: OnceLock<String> = OnceLock::new();
    let body = if prefix.is_empty() {
        RENDERED.get_or_init(document_json).clone()
    } else {
        let mut doc = document();
        doc.servers = Some(vec![utoipa::openapi::server::Server::new(prefix.to_string())]);
        doc.to_pretty_json().unwrap_or_default()
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
