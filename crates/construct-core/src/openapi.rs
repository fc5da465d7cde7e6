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
