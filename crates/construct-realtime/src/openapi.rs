//! This crate's part of the gateway's OpenAPI 3.1 document: [`ApiDoc`] lists every REST route of
//! [`route_groups`](crate::route_groups) (the sessions API, the event streams, the canvas and the nodes)
//! with its parameters, bodies, answers and errors.
//!
//! The operations are the `#[utoipa::path]` attributes on the handlers, next to the code they describe;
//! request bodies and query strings are the handlers' own types (`ToSchema`, `IntoParams`); answers built
//! with `json!` are mirrored by the types of [`schemas`]. Every error is the shared
//! [`ErrorBody`](construct_core::openapi::ErrorBody) envelope. The WebSocket routes (`/ws/...`) are not
//! REST and are described in docs/api.md only. Nothing here changes what a handler does.

pub mod schemas;

use construct_core::openapi::Common;

/// This crate's routes, as an OpenAPI document part.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        crate::sessions_api::list,
        crate::sessions_api::running,
        crate::sessions_api::messages,
        crate::sessions_api::session_state,
        crate::sessions_api::rename,
        crate::sessions_api::delete,
        crate::sessions_api::push_message,
        crate::sessions_api::push_turn,
        crate::sse::events,
        crate::sse::daemon_logs,
        crate::canvas::list,
        crate::canvas::get,
        crate::canvas::history,
        crate::canvas::view,
        crate::canvas::render,
        crate::canvas::clear,
        crate::nodes::list,
        crate::nodes::invoke,
    ),
    components(schemas(construct_core::openapi::ErrorBody)),
    modifiers(&Common),
    tags(
        (name = "sessions", description = "The dashboard's chat sessions: the REST companions of `WS /ws/chat`."),
        (name = "events", description = "The event bus and the gateway's own log lines, as Server-Sent Events."),
        (name = "canvas", description = "The live canvas: agent-rendered frames and their history."),
        (name = "nodes", description = "Remote capability providers connected over `WS /ws/nodes` (unless `[nodes] enabled = false`)."),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;
    use utoipa::OpenApi;

    use super::ApiDoc;

    #[test]
    fn every_rest_route_is_described_with_enveloped_errors_and_its_security() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let mut described = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for (method, path, operation) in construct_core::openapi::operations(&doc) {
            let here = format!("{method} {path}");
            described.insert(here.clone());
            let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(ids.insert(id), "{here}: operationId repeated");
            let names: BTreeSet<&str> = operation["security"]
                .as_array()
                .expect("security is explicit")
                .iter()
                .flat_map(|r| r.as_object().into_iter().flat_map(|r| r.keys()))
                .map(String::as_str)
                .collect();
            assert_eq!(
                names,
                BTreeSet::from([construct_core::openapi::BEARER, construct_core::openapi::SESSION_COOKIE]),
                "{here}"
            );
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.keys().any(|s| s.starts_with('2')), "{here}: no 2xx");
            for status in ["401", "403", "429"] {
                assert!(responses.contains_key(status), "{here}: scoped, yet no {status}");
            }
            for (status, response) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{here} {status}");
                let description = response["description"].as_str().unwrap_or_default();
                assert!(description.contains('`'), "{here} {status}: the description names no code");
            }
        }
        let expected: BTreeSet<String> = [
            "get /api/sessions",
            "get /api/sessions/running",
            "get /api/sessions/{id}/messages",
            "post /api/sessions/{id}/messages",
            "get /api/sessions/{id}/state",
            "put /api/sessions/{id}",
            "delete /api/sessions/{id}",
            "post /api/sessions/{id}/turns",
            "get /api/events",
            "get /api/daemon/logs",
            "get /api/canvas",
            "get /api/canvas/{id}",
            "post /api/canvas/{id}",
            "delete /api/canvas/{id}",
            "get /api/canvas/{id}/history",
            "get /api/canvas/{id}/view",
            "get /api/nodes",
            "post /api/nodes/{id}/invoke",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(described, expected);
    }

    #[test]
    fn the_event_streams_document_their_resume_point() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        for path in ["/api/events", "/api/daemon/logs"] {
            let operation = &doc["paths"][path]["get"];
            assert!(operation["responses"]["200"]["content"]["text/event-stream"].is_object(), "{path}");
            let params: Vec<(&str, &str)> = operation["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .map(|p| (p["name"].as_str().unwrap_or_default(), p["in"].as_str().unwrap_or_default()))
                .collect();
            assert!(params.contains(&("Last-Event-ID", "header")), "{path}: {params:?}");
            assert!(params.contains(&("last_event_id", "query")), "{path}: {params:?}");
            let bad = operation["responses"]["400"]["description"].as_str().unwrap_or_default();
            assert!(bad.contains("`INVALID_LAST_EVENT_ID`"), "{path}");
        }
    }

    #[test]
    fn every_ref_resolves() {
        let doc: Value = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        assert_eq!(construct_core::openapi::dangling_refs(&doc), Vec::<String>::new());
    }

    /// The pattern at `pointer` in the document, compiled (JSON Schema patterns are unanchored searches).
    fn pattern(pointer: &str) -> regex::Regex {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        let pattern =
            doc.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("no pattern at {pointer}"));
        regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{pointer}: {e}"))
    }

    /// Strings on both sides of every rule of the handlers' checks: blanks, Unicode spaces (trimmed) and
    /// control characters (not trimmed unless they are also spaces), at the edges and inside.
    const SAMPLES: [&str; 16] = [
        "a",
        " a ",
        "\ta\n",
        "",
        "   ",
        "a\u{1}b",
        "\u{85}a",
        "a\u{85}b",
        "é",
        "\u{3000}x\u{3000}",
        "\u{1c}a",
        "a b",
        "\u{a0}",
        "x\u{2028}",
        "\u{7f}",
        "🙂",
    ];

    #[test]
    fn the_documented_patterns_accept_what_the_handlers_accept() {
        let name = pattern("/components/schemas/Rename/properties/name/pattern");
        for sample in SAMPLES.iter().map(|s| s.to_string()).chain([
            "x".repeat(200),
            "x".repeat(201),
            format!(" {} ", "y".repeat(200)),
        ]) {
            let documented = name.is_match(&sample);
            assert_eq!(
                documented,
                crate::sessions_api::checked_name(&sample).is_ok(),
                "session name {sample:?}"
            );
        }
        for schema in ["PushMessage", "PushTurn"] {
            let content = pattern(&format!("/components/schemas/{schema}/properties/content/pattern"));
            for sample in SAMPLES {
                let documented = content.is_match(sample);
                assert_eq!(
                    documented,
                    crate::sessions_api::checked_content(sample).is_ok(),
                    "{schema} {sample:?}"
                );
            }
        }
    }
}
