//! What every crate's part of the OpenAPI document shares: the error envelope, the security schemes and
//! their names.
//!
//! Each route crate describes its own routes (`#[utoipa::path]` on the handlers, listed in that crate's
//! `ApiDoc`); the gateway merges the parts into one OpenAPI 3.1 document, serves it at
//! `GET /api/openapi.json` and commits it as `docs/api/openapi.json` (`cargo xtask openapi`). A test in the
//! gateway fails when a mounted REST route is missing from the document.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, OpenApi, OpenApiBuilder};
use utoipa::{Modify, ToSchema};

/// The name of the bearer-token security scheme (`Authorization: Bearer <token>`).
pub const BEARER: &str = "bearer";
/// The name of the dashboard's session-cookie scheme (`construct_session`).
pub const SESSION_COOKIE: &str = "session_cookie";

/// The error envelope every error response carries.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Describes the JSON `ApiError` writes; never built.
pub struct ErrorBody {
    /// A human-readable message; it may change between versions.
    error: String,
    /// The stable, SCREAMING_SNAKE_CASE code clients branch on.
    code: String,
    /// Seconds to wait before retrying, on 429 and some 503 answers (also in `Retry-After`).
    #[schema(nullable = false)]
    retry_after: Option<u64>,
}

/// Adds the security schemes and the error envelope to a document part.
#[derive(Debug, Clone, Copy)]
pub struct Common;

impl Modify for Common {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            SESSION_COOKIE,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("construct_session"))),
        );
        components.schemas.insert("ErrorBody".to_owned(), <ErrorBody as utoipa::PartialSchema>::schema());
        standard_answers(openapi);
    }
}

/// The 401 every authenticated operation can answer.
const UNAUTHORIZED: &str = "`UNAUTHORIZED`: no valid bearer token or session cookie.";
/// The 429 of the API rate limit, which every authenticated operation shares.
const RATE_LIMITED: &str =
    "`RATE_LIMITED`: the API rate limit, or the lockout after repeated bad tokens; see `Retry-After`.";
/// The 503 of the credential check when the device store cannot answer.
const STORE_UNAVAILABLE: &str =
    "`STORE_UNAVAILABLE`: the gateway's store cannot be reached to check the credential.";

/// An error answer in the envelope.
pub fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::content::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// The 403 of a route group that needs `scope` (the role its security requirement names).
fn forbidden(scope: &str) -> String {
    format!(
        "`FORBIDDEN_SCOPE`: the credential lacks the `{scope}` scope; `ORIGIN_NOT_ALLOWED`: a session cookie \
         sent from a foreign origin."
    )
}

/// Gives every operation that takes the bearer scheme the answers the guard gives before any handler
/// runs, unless the operation describes them itself: 401, the API rate limit's 429, the credential
/// check's 503, and, when its
/// security requirement names the scope it needs (`security(("bearer" = ["admin"]), ...)`), the 403 for a
/// credential without it. The handlers' annotations then list only what is particular to them.
fn standard_answers(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let requirements = serde_json::to_value(&operation.security).unwrap_or_default();
            let Some(bearer) = requirements.as_array().and_then(|all| all.iter().find_map(|r| r.get(BEARER)))
            else {
                continue;
            };
            let scope = bearer.as_array().and_then(|roles| roles.first()).and_then(|r| r.as_str());
            let responses = &mut operation.responses.responses;
            responses.entry("401".to_owned()).or_insert_with(|| error_response(UNAUTHORIZED));
            responses.entry("429".to_owned()).or_insert_with(|| error_response(RATE_LIMITED));
            responses.entry("503".to_owned()).or_insert_with(|| error_response(STORE_UNAVAILABLE));
            if let Some(scope) = scope {
                responses.entry("403".to_owned()).or_insert_with(|| error_response(&forbidden(scope)));
            }
        }
    }
}

/// The `Idempotency-Key` header of a route that replays repeated requests (`X-Idempotency-Key` also works).
/// The gateway trims it and refuses an empty one, or one over 255 bytes, with 400 `INVALID_IDEMPOTENCY_KEY`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Describes a header the idempotency layer reads; never built.
pub struct IdempotencyKey {
    /// Replays the stored answer to a repeated request: 1 to 255 visible ASCII characters (spaces and
    /// tabs around them are trimmed).
    #[param(
        rename = "Idempotency-Key",
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r"^[\t ]*[!-~]([\t -~]*[!-~])?[\t ]*$"
    )]
    idempotency_key: Option<String>,
}

/// The 409 of a route behind the idempotency layer, when it has no other 409:
/// `responses(..., construct_core::openapi::IdempotencyInProgress)`.
#[derive(Debug, utoipa::IntoResponses)]
#[response(
    status = 409,
    description = "`IDEMPOTENCY_IN_PROGRESS`: a request with the same `Idempotency-Key` is still running."
)]
#[allow(dead_code)] // Describes an answer the idempotency layer writes; never built.
pub struct IdempotencyInProgress(ErrorBody);

/// The 413 of a route whose body is over its group's limit, when it has nothing more to say.
#[derive(Debug, utoipa::IntoResponses)]
#[response(status = 413, description = "`PAYLOAD_TOO_LARGE`: the body is over the route's limit.")]
#[allow(dead_code)] // Describes an answer the body-limit layer writes; never built.
pub struct BodyTooLarge(ErrorBody);

/// The 415 of a JSON route sent something else.
#[derive(Debug, utoipa::IntoResponses)]
#[response(status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: no `Content-Type: application/json`.")]
#[allow(dead_code)] // Describes an answer the JSON extractor writes; never built.
pub struct NotJson(ErrorBody);

/// The 422 of a route behind the idempotency layer, when it has no other 422.
#[derive(Debug, utoipa::IntoResponses)]
#[response(
    status = 422,
    description = "`IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request."
)]
#[allow(dead_code)] // Describes an answer the idempotency layer writes; never built.
pub struct IdempotencyKeyReused(ErrorBody);

/// One event of a `text/event-stream` answer, as a JSON Schema for its parsed fields (OpenAPI 3.1 has no
/// item schema for streams, and tools such as schemathesis check each event against the media type's
/// schema): `event`, when sent, is one of `events` (any name when empty); `id`, when sent, a decimal event
/// id; `data` a JSON text of the shape `data` gives, as `contentMediaType`/`contentSchema` (validated by
/// JSON Schema 2020-12 tools).
pub fn sse_event(
    description: &str,
    events: &[&str],
    data: serde_json::Value,
) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let mut data_field =
        ObjectBuilder::new().schema_type(Type::String).content_media_type("application/json").build();
    // `contentSchema` is a JSON Schema keyword utoipa does not model; its extensions map is where such
    // keywords go.
    data_field.extensions.get_or_insert_with(Default::default).insert("contentSchema".to_owned(), data);
    let mut event = ObjectBuilder::new().schema_type(Type::String);
    if !events.is_empty() {
        event = event.enum_values(Some(events.iter().copied()));
    }
    ObjectBuilder::new()
        .description(Some(description))
        .property(
            "id",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[0-9]+$"))
                .description(Some("The event id `Last-Event-ID` resumes after.")),
        )
        .property("event", event)
        .property("data", data_field)
        .required("data")
        .into()
}

/// The HTTP methods an operation can sit under in a path item, in the order they are walked.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every operation of a serialized document, as `(method, path, operation)`: what tests of a document
/// part walk.
pub fn operations(doc: &serde_json::Value) -> Vec<(&'static str, &str, &serde_json::Value)> {
    let Some(paths) = doc["paths"].as_object() else { return Vec::new() };
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS.iter().filter_map(move |method| Some((*method, path.as_str(), item.get(*method)?)))
        })
        .collect()
}

/// Every `$ref` in a serialized document that names no schema of its components; empty when all resolve.
pub fn dangling_refs(doc: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, doc: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("$ref", serde_json::Value::String(target)) => {
                            let name = target.strip_prefix("#/components/schemas/");
                            if name.is_none_or(|name| doc["components"]["schemas"].get(name).is_none()) {
                                out.push(target.clone());
                            }
                        }
                        _ => walk(inner, doc, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| walk(item, doc, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, doc, &mut out);
    out
}

/// The document's frame: title, version, license, and the shared components; the route crates' parts are
/// merged into it.
pub fn base(version: &str) -> OpenApi {
    let mut openapi = OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Construct Gateway")
                .version(version)
                .description(Some(
                    "The HTTP API of Construct Gateway. Errors are always the `ErrorBody` envelope; \
                     authenticated routes take a device token as `Authorization: Bearer` (or the dashboard's \
                     session cookie). WebSocket routes are described in docs/api.md.",
                ))
                .license(Some(utoipa::openapi::LicenseBuilder::new().name("MIT OR Apache-2.0").build()))
                .build(),
        )
        .components(Some(ComponentsBuilder::new().build()))
        .build();
    Common.modify(&mut openapi);
    openapi
}

#[cfg(test)]
mod tests {
    use utoipa::Modify;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{OpenApiBuilder, ResponseBuilder};

    use super::*;

    fn operation(security: Option<SecurityRequirement>, with_403: bool) -> PathItem {
        let mut builder = OperationBuilder::new().response("200", ResponseBuilder::new().description("ok"));
        if with_403 {
            builder = builder.response("403", ResponseBuilder::new().description("own words"));
        }
        if let Some(security) = security {
            builder = builder.security(security);
        }
        PathItem::new(HttpMethod::Get, builder.build())
    }

    #[test]
    fn the_guards_answers_are_added_where_they_apply_and_never_over_a_routes_own() {
        let mut doc = OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path("/scoped", operation(Some(SecurityRequirement::new(BEARER, ["admin"])), false))
                    .path("/own", operation(Some(SecurityRequirement::new(BEARER, ["read"])), true))
                    .path(
                        "/no-role",
                        operation(Some(SecurityRequirement::new(BEARER, Vec::<String>::new())), false),
                    )
                    .path("/public", operation(Some(SecurityRequirement::default()), false)),
            )
            .build();
        Common.modify(&mut doc);
        let json = serde_json::to_value(&doc).unwrap_or_default();
        let responses = |path: &str| json["paths"][path]["get"]["responses"].clone();
        let scoped = responses("/scoped");
        assert!(scoped["401"].is_object() && scoped["429"].is_object() && scoped["503"].is_object());
        assert!(scoped["403"]["description"].as_str().is_some_and(|d| d.contains("lacks the `admin` scope")));
        assert_eq!(responses("/own")["403"]["description"], "own words", "a route's own 403 stays");
        let no_role = responses("/no-role");
        assert!(no_role["401"].is_object() && no_role.get("403").is_none(), "no scope named, no 403 guessed");
        let public = responses("/public");
        assert!(
            public.get("401").is_none() && public.get("429").is_none() && public.get("503").is_none(),
            "public routes get nothing"
        );
        assert!(json["components"]["schemas"]["ErrorBody"].is_object());
    }

    #[test]
    fn an_event_stream_schema_describes_one_event_with_its_json_data() {
        let data = serde_json::json!({"type": "object", "required": ["missed"]});
        let named =
            serde_json::to_value(sse_event("one", &["log", "lagged"], data.clone())).unwrap_or_default();
        assert_eq!(named["type"], "object");
        assert_eq!(named["required"], serde_json::json!(["data"]), "only data is always sent");
        assert_eq!(named["properties"]["event"]["enum"], serde_json::json!(["log", "lagged"]));
        assert_eq!(named["properties"]["id"]["pattern"], "^[0-9]+$");
        let field = &named["properties"]["data"];
        assert_eq!(
            (field["type"].as_str(), field["contentMediaType"].as_str()),
            (Some("string"), Some("application/json"))
        );
        assert_eq!(field["contentSchema"], data, "a keyword, not an x- extension");
        let any = serde_json::to_value(sse_event("any", &[], data)).unwrap_or_default();
        assert!(any["properties"]["event"].get("enum").is_none(), "no names: any event name");
    }

    #[test]
    fn the_idempotency_header_is_described_with_the_limits_the_layer_enforces() {
        use utoipa::IntoParams;
        let params = serde_json::to_value(IdempotencyKey::into_params(|| None)).unwrap_or_default();
        let header = &params[0];
        assert_eq!(
            (header["name"].as_str(), header["in"].as_str()),
            (Some("Idempotency-Key"), Some("header"))
        );
        assert_eq!(header["required"], false);
        assert_eq!(
            (header["schema"]["minLength"].as_u64(), header["schema"]["maxLength"].as_u64()),
            (Some(1), Some(255))
        );
    }

    #[test]
    fn operations_are_walked_and_dangling_references_found() {
        let doc = serde_json::json!({
            "paths": {"/a": {"get": {"x": 1}, "post": {"y": {"$ref": "#/components/schemas/Gone"}}, "summary": "s"}},
            "components": {"schemas": {"Here": {"$ref": "#/components/schemas/Here"}}}
        });
        let walked: Vec<(&str, &str)> = operations(&doc).into_iter().map(|(m, p, _)| (m, p)).collect();
        assert_eq!(walked, [("get", "/a"), ("post", "/a")]);
        assert_eq!(dangling_refs(&doc), ["#/components/schemas/Gone"]);
    }
}
