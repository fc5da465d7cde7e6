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

/// Gives every operation that takes the bearer scheme the answers the guard gives before any handler
/// runs (401, and the API rate limit's 429), unless the operation describes them itself: the handlers'
/// annotations then list only what is particular to them.
fn standard_answers(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let authenticated = operation.security.as_ref().is_some_and(|requirements| {
                serde_json::to_value(requirements).is_ok_and(|v| {
                    v.as_array().is_some_and(|all| all.iter().any(|r| r.get(BEARER).is_some()))
                })
            });
            if authenticated {
                let responses = &mut operation.responses.responses;
                responses.entry("401".to_owned()).or_insert_with(|| error_response(UNAUTHORIZED));
                responses.entry("429".to_owned()).or_insert_with(|| error_response(RATE_LIMITED));
            }
        }
    }
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
