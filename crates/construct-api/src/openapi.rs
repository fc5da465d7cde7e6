//! This crate's part of the gateway's OpenAPI 3.1 document: [`ApiDoc`] lists every REST route of
//! [`route_groups`](crate::route_groups) with its parameters, bodies, answers and errors.
//!
//! The operations are the `#[utoipa::path]` attributes on the handlers, next to the code they describe;
//! request bodies and query strings are the handlers' own types (`ToSchema`, `IntoParams`); answers built
//! with `json!` are mirrored by the types of [`schemas`]. Every error is the shared
//! [`ErrorBody`](construct_core::openapi::ErrorBody) envelope. The gateway merges this part into the
//! document built on [`construct_core::openapi::base`]; nothing here changes what a handler does.

pub mod schemas;

use construct_core::openapi::Common;
use utoipa::Modify;
use utoipa::openapi::OpenApi;

/// The answers of every operation that reads or writes Kumiho (and so can meet it refusing or down),
/// listed once: `responses(..., crate::openapi::KumihoFailures)`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Describes answers `ApiError` writes; never built.
pub(crate) enum KumihoFailures {
    /// Kumiho refused the gateway's credentials or answered badly.
    #[response(
        status = 502,
        description = "`KUMIHO_BAD_GATEWAY`: Kumiho refused the gateway's credentials or answered badly."
    )]
    BadGateway(construct_core::openapi::ErrorBody),
    /// Kumiho, or the store behind the credential check, cannot be reached.
    #[response(
        status = 503,
        description = "`KUMIHO_UNAVAILABLE`: Kumiho cannot be reached; `STORE_UNAVAILABLE`: the gateway's store cannot be reached to check the credential."
    )]
    Unavailable(construct_core::openapi::ErrorBody),
}

/// The 404 of an operation on a Kumiho item that does not exist.
#[derive(utoipa::IntoResponses)]
#[response(status = 404, description = "`NOT_FOUND`: no such item in Kumiho.")]
#[allow(dead_code)] // Describes an answer `ApiError` writes; never built.
pub(crate) struct KumihoNotFound(construct_core::openapi::ErrorBody);

/// This crate's routes, as an OpenAPI document part.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        crate::pairing::pair_legacy,
        crate::pairing::pair_json,
        crate::pairing::initial_code,
        crate::pairing::current_code,
        crate::pairing::new_code,
        crate::pairing::initiate,
        crate::session_auth::login,
        crate::session_auth::session,
        crate::session_auth::logout,
        crate::devices::list,
        crate::devices::revoke,
        crate::devices::rotate,
        crate::status::status,
        crate::audit::list,
        crate::audit::verify,
        crate::system::config,
        crate::system::channels,
        crate::system::health,
        crate::system::cost,
        crate::system::put_config,
        crate::catalog::tools,
        crate::catalog::integrations,
        crate::catalog::integration_settings,
        crate::catalog::cli_tools,
        crate::doctor::doctor,
        crate::approvals::channel_event,
        crate::approvals::list,
        crate::approvals::approve,
        crate::kumiho_proxy::proxy,
        crate::artifact_body::artifact_body,
        crate::memory_graph::graph,
        crate::agents::list,
        crate::agents::create,
        crate::agents::update,
        crate::agents::deprecate,
        crate::agents::delete,
        crate::skills::list,
        crate::skills::get,
        crate::skills::create,
        crate::skills::update,
        crate::skills::deprecate,
        crate::skills::delete,
        crate::teams::list,
        crate::teams::get,
        crate::teams::create,
        crate::teams::update,
        crate::teams::delete,
        crate::teams::deprecate,
        crate::clawhub::search,
        crate::clawhub::trending,
        crate::clawhub::skill,
        crate::clawhub::install,
        crate::workflows::list,
        crate::workflows::revision,
        crate::workflows::create,
        crate::workflows::update,
        crate::workflows::deprecate,
        crate::workflows::delete,
        crate::workflow_runs::list,
        crate::workflow_runs::get,
        crate::workflow_runs::delete,
        crate::workflow_runs::run,
        crate::workflow_runs::retry,
        crate::workflow_runs::dashboard,
        crate::workflow_runs::agent_activity,
    ),
    components(schemas(
        construct_core::openapi::ErrorBody,
        crate::graph::AgentKref,
        crate::graph::SkillKref,
        crate::graph::TeamKref,
        crate::graph::WorkflowKref,
        crate::graph::WorkflowRevisionKref,
        crate::kumiho_proxy::KumihoPath,
    )),
    modifiers(&Common, &DistinctOperationIds),
    tags(
        (name = "pairing", description = "Pairing devices with one-time codes; the loopback-only code routes."),
        (name = "session", description = "The dashboard's browser session (an HttpOnly cookie holding a device token)."),
        (name = "devices", description = "Paired devices and their tokens (admin)."),
        (name = "status", description = "What the gateway is and how it is configured."),
        (name = "audit", description = "The hash-chained security log (admin)."),
        (name = "system", description = "Configuration, channels, component health and model cost."),
        (name = "catalog", description = "What this gateway offers: tools, integrations, command-line tools."),
        (name = "doctor", description = "A security and health check-up (admin)."),
        (name = "approvals", description = "Channel events and the human approvals workflow runs wait for."),
        (name = "kumiho", description = "Read-only access to the graph memory and the artifact files it points at."),
        (name = "memory", description = "The memory graph view."),
        (name = "agents", description = "Agents in the harness project's agent pool."),
        (name = "skills", description = "Skills, each revision with its own SKILL.md body."),
        (name = "teams", description = "Teams of agents and the typed edges between them."),
        (name = "clawhub", description = "The ClawHub skill registry, proxied."),
        (name = "workflows", description = "Workflow definitions (YAML, validated on save)."),
        (name = "workflow-runs", description = "Run requests for the external workflow operator, and the runs it persists."),
    )
)]
pub struct ApiDoc;

/// Gives each operation its own `operationId`, as OpenAPI requires: a handler mounted for two methods
/// (`GET` and `POST /api/doctor`) is described once, so its second operation gets `_<method>` appended.
#[derive(Debug, Clone, Copy)]
struct DistinctOperationIds;

impl Modify for DistinctOperationIds {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let mut seen = std::collections::BTreeSet::new();
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                if let Some(id) = operation.operation_id.as_mut()
                    && !seen.insert(id.clone())
                {
                    id.push('_');
                    id.push_str(method);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;
    use utoipa::OpenApi;

    use super::ApiDoc;
    use construct_core::openapi::operations;

    fn document() -> Value {
        serde_json::to_value(ApiDoc::openapi()).expect("the document serialises")
    }

    #[test]
    fn every_route_of_the_crate_is_described() {
        let doc = document();
        let described: BTreeSet<String> =
            operations(&doc).into_iter().map(|(method, path, _)| format!("{method} {path}")).collect();
        let expected: BTreeSet<String> = [
            "post /pair",
            "post /api/pair",
            "post /api/auth/login",
            "get /pair/code",
            "get /admin/paircode",
            "post /admin/paircode/new",
            "get /api/auth/session",
            "post /api/auth/logout",
            "post /api/pairing/initiate",
            "get /api/devices",
            "delete /api/devices/{id}",
            "post /api/devices/{id}/token/rotate",
            "get /api/status",
            "get /api/audit",
            "get /api/audit/verify",
            "get /api/kumiho/{path}",
            "get /api/artifact-body",
            "get /api/agents",
            "get /api/skills",
            "get /api/skills/{kref}",
            "get /api/teams",
            "get /api/memory/graph",
            "get /api/channels",
            "get /api/health",
            "get /api/cost",
            "get /api/tools",
            "get /api/integrations",
            "get /api/integrations/settings",
            "get /api/cli-tools",
            "get /api/approvals",
            "get /api/workflows",
            "get /api/workflows/revisions/{kref}",
            "get /api/workflows/runs",
            "get /api/workflows/runs/{run_id}",
            "get /api/workflows/dashboard",
            "get /api/workflows/agent-activity/{agent_id}",
            "get /api/teams/{kref}",
            "get /api/clawhub/search",
            "get /api/clawhub/trending",
            "get /api/clawhub/skills/{slug}",
            "post /api/agents",
            "post /api/agents/deprecate",
            "put /api/agents/{kref}",
            "delete /api/agents/{kref}",
            "get /api/config",
            "get /api/doctor",
            "post /api/doctor",
            "post /api/channel-events",
            "post /api/workflows/runs/{run_id}/approve",
            "post /api/teams",
            "post /api/teams/deprecate",
            "put /api/teams/{kref}",
            "delete /api/teams/{kref}",
            "put /api/config",
            "post /api/workflows",
            "post /api/workflows/deprecate",
            "post /api/workflows/run/{name}",
            "delete /api/workflows/runs/{run_id}",
            "post /api/workflows/runs/{run_id}/retry",
            "put /api/workflows/{kref}",
            "delete /api/workflows/{kref}",
            "post /api/skills",
            "post /api/skills/deprecate",
            "post /api/clawhub/install/{slug}",
            "put /api/skills/{kref}",
            "delete /api/skills/{kref}",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(described, expected);
    }

    #[test]
    fn every_operation_has_a_success_its_auth_errors_and_enveloped_errors() {
        let doc = document();
        let mut ids = BTreeSet::new();
        for (method, path, operation) in operations(&doc) {
            let here = format!("{method} {path}");
            let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(ids.insert(id), "{here}: operationId repeated");
            assert!(operation["tags"].as_array().is_some_and(|t| t.len() == 1), "{here}: one tag");
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.keys().any(|status| status.starts_with('2')), "{here}: no 2xx");
            let security = operation["security"].as_array().expect("security is explicit");
            let public =
                security.iter().all(|requirement| requirement.as_object().is_some_and(|r| r.is_empty()));
            if public {
                assert!(!responses.contains_key("401"), "{here}: public, yet 401");
            } else {
                let names: BTreeSet<&str> = security
                    .iter()
                    .flat_map(|r| r.as_object().into_iter().flat_map(|r| r.keys()))
                    .map(String::as_str)
                    .collect();
                assert_eq!(
                    names,
                    BTreeSet::from([
                        construct_core::openapi::BEARER,
                        construct_core::openapi::SESSION_COOKIE
                    ]),
                    "{here}"
                );
                for status in ["401", "403", "429"] {
                    assert!(responses.contains_key(status), "{here}: scoped, yet no {status}");
                }
            }
            for (status, response) in
                responses.iter().filter(|(s, _)| s.starts_with('4') || s.starts_with('5'))
            {
                if status == "416" {
                    continue; // The file service's empty answer, not the envelope.
                }
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{here} {status}: not the envelope");
                let description = response["description"].as_str().unwrap_or_default();
                assert!(description.contains('`'), "{here} {status}: the description names no code");
            }
        }
    }

    #[test]
    fn every_ref_resolves_and_every_path_parameter_is_declared_once() {
        let doc = document();
        assert!(doc.to_string().contains("\"$ref\""));
        assert_eq!(construct_core::openapi::dangling_refs(&doc), Vec::<String>::new());
        for (method, path, operation) in operations(&doc) {
            let in_template: Vec<&str> =
                path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
            let declared: Vec<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap_or_default())
                .collect();
            assert_eq!(declared, in_template, "{method} {path}: path parameters");
        }
    }

    fn patterns(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("pattern", Value::String(pattern)) => out.push(pattern.clone()),
                        _ => patterns(inner, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| patterns(item, out)),
            _ => {}
        }
    }

    /// Schemathesis generates from each pattern with Python's `re` and judges with an ECMA-262 engine,
    /// while the server trims with Rust's idea of whitespace: patterns are anchored, free of lookarounds,
    /// and spell whitespace out instead of using `\s`/`\S` (which ECMA-262 reads differently).
    #[test]
    fn patterns_are_anchored_generable_and_agree_with_the_server_on_whitespace() {
        let mut found = Vec::new();
        patterns(&document(), &mut found);
        assert!(found.len() > 20, "{found:?}");
        for pattern in found {
            assert!(pattern.starts_with('^') && pattern.ends_with('$'), "unanchored: {pattern}");
            assert!(!["(?=", "(?!", "(?<"].iter().any(|l| pattern.contains(l)), "lookaround: {pattern}");
            let bare = pattern.replace(r"[\s\S]", "");
            assert!(!bare.contains(r"\s") && !bare.contains(r"\S"), "\\s or \\S: {pattern}");
            if pattern.contains(r"\u3000") {
                assert!(
                    pattern.contains(crate::graph::WHITESPACE) || pattern.contains(r"\x00-\x20\x7F-\xA0"),
                    "{pattern}"
                );
            }
        }
    }

    #[test]
    fn the_document_carries_the_shared_security_schemes() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes[construct_core::openapi::BEARER]["scheme"], "bearer");
        assert_eq!(schemes[construct_core::openapi::SESSION_COOKIE]["name"], "construct_session");
    }
}
