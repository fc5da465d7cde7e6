//! This crate's part of the gateway's OpenAPI 3.1 document: [`ApiDoc`] lists every REST route of
//! [`route_groups`](crate::route_groups) (`/api/mcp/*`) with its parameters, bodies, answers and errors.
//!
//! The operations are the `#[utoipa::path]` attributes on the handlers in [`routes`](crate::routes);
//! request bodies are the handlers' own types (`ToSchema`); answers built with `json!` are mirrored by the
//! types of [`schemas`]. Every error is the shared [`ErrorBody`](construct_core::openapi::ErrorBody)
//! envelope. `WS /ws/mcp/events` is not REST and is described in docs/api.md only; the MCP listener itself
//! (`/mcp` on loopback) is not part of the gateway's document. Nothing here changes what a handler does.

pub mod schemas;

use construct_core::openapi::Common;

/// This crate's routes, as an OpenAPI document part.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        crate::routes::discovery,
        crate::routes::health,
        crate::routes::session,
        crate::routes::session_events,
        crate::routes::call,
        crate::routes::servers,
        crate::routes::test_server,
    ),
    components(schemas(construct_core::openapi::ErrorBody)),
    modifiers(&Common),
    tags(
        (name = "mcp", description = "The gateway's own MCP server (Streamable HTTP on a loopback listener): its status, session tokens, progress streams, in-process tool calls, and the configured external servers."),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::OpenApi;

    use super::ApiDoc;

    #[test]
    fn every_route_is_described_scoped_with_enveloped_errors_naming_codes() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let mut described = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("operations") {
                let here = format!("{method} {path}");
                assert_eq!(operation["tags"][0], "mcp", "{here}");
                assert_eq!(operation["security"].as_array().map(Vec::len), Some(2), "{here}");
                let responses = operation["responses"].as_object().expect("responses");
                for status in ["200", "401", "403", "429"] {
                    assert!(responses.contains_key(status), "{here}: no {status}");
                }
                for (status, response) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/ErrorBody", "{here} {status}");
                    let description = response["description"].as_str().unwrap_or_default();
                    assert!(description.contains('`'), "{here} {status}: the description names no code");
                }
                described.insert(here);
            }
        }
        let expected: BTreeSet<String> = [
            "get /api/mcp/discovery",
            "get /api/mcp/health",
            "get /api/mcp/servers",
            "get /api/mcp/session/{id}/events",
            "post /api/mcp/call",
            "post /api/mcp/servers/test",
            "post /api/mcp/session",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(described, expected);
        let events = &doc["paths"]["/api/mcp/session/{id}/events"]["get"]["responses"]["200"];
        assert!(events["content"]["text/event-stream"].is_object());
        assert_eq!(construct_core::openapi::dangling_refs(&doc), Vec::<String>::new());
    }
}
