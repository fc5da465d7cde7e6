//! Extractors whose rejections are [`ApiError`] envelopes.
//!
//! axum's own `Json`, `Query` and `Path` reject with plain-text bodies. Handlers use these wrappers
//! instead, so a broken client gets `{"error","code"}` with the precise status: 400 `INVALID_JSON` for a
//! syntax error, 415 `UNSUPPORTED_MEDIA_TYPE` without `Content-Type: application/json`, 422 `INVALID_BODY`
//! for JSON of the wrong shape, 413 `PAYLOAD_TOO_LARGE` past the route's body limit.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// JSON body extractor and response, with envelope rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::INVALID_BODY, e.body_text())
        }
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::INVALID_JSON, e.body_text())
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UNSUPPORTED_MEDIA_TYPE,
            "Expected Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(),
        other => ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BAD_REQUEST, other.body_text()),
    }
}

/// Parses JSON from raw bytes with the same errors as [`Json`]: 400 `INVALID_JSON` for a syntax error or a
/// truncated document, 422 `INVALID_BODY` for JSON of the wrong shape. For handlers that must look at the
/// raw bytes first (to verify a signature, or to accept an empty body).
pub fn from_json_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::INVALID_JSON, format!("Invalid JSON: {e}"))
        } else {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::INVALID_BODY,
                format!("Unexpected JSON: {e}"),
            )
        }
    })
}

/// Query-string extractor with envelope rejections (400 `INVALID_QUERY`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| {
                ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::INVALID_QUERY, rejection.body_text())
            })
    }
}

/// Path-parameter extractor with envelope rejections (400 `INVALID_PATH`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection: PathRejection| match rejection {
                PathRejection::FailedToDeserializePathParams(e) => {
                    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::INVALID_PATH, e.body_text())
                }
                // A route registered without the parameters its handler expects: our bug, not the client's.
                _ => ApiError::internal(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Shape {
        #[allow(dead_code)]
        n: u8,
    }

    #[test]
    fn json_from_slice_errors() {
        assert!(from_json_slice::<Shape>(br#"{"n": 1}"#).is_ok());
        assert_eq!(from_json_slice::<Shape>(b"{").unwrap_err().code(), ErrorCode::INVALID_JSON);
        assert_eq!(from_json_slice::<Shape>(b"").unwrap_err().code(), ErrorCode::INVALID_JSON);
        let wrong = from_json_slice::<Shape>(br#"{"n": 300}"#).unwrap_err();
        assert_eq!(
            (wrong.status(), wrong.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::INVALID_BODY)
        );
    }
}
