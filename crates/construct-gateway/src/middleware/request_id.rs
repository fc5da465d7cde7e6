//! `X-Request-Id`: accepted from the client when well-formed, generated otherwise, echoed on the response.
//!
//! A client-supplied id ends up in logs, so it is accepted only when it is short and made of safe
//! characters (letters, digits, `-`, `_`, `.`, `:`); anything else is replaced by a fresh UUID rather than
//! trusted.

use axum::extract::Request;
use http::HeaderName;
use tower::ServiceBuilder;
use tower::layer::util::Stack;
use tower::util::MapRequestLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// The header name.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied id accepted.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client-supplied id is safe to keep.
pub fn is_acceptable(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn drop_unacceptable(mut req: Request) -> Request {
    let ids = req.headers().get_all(&REQUEST_ID_HEADER);
    let mut iter = ids.iter();
    let keep = matches!((iter.next(), iter.next()), (Some(v), None) if is_acceptable(v.as_bytes()));
    if !keep {
        req.headers_mut().remove(&REQUEST_ID_HEADER);
    }
    req
}

/// The layered type [`layer`] returns.
pub type RequestIdLayer = Stack<
    PropagateRequestIdLayer,
    Stack<
        SetRequestIdLayer<MakeRequestUuid>,
        Stack<MapRequestLayer<fn(Request) -> Request>, tower::layer::util::Identity>,
    >,
>;

/// Validate, set and propagate the request id.
pub fn layer() -> RequestIdLayer {
    ServiceBuilder::new()
        .layer(MapRequestLayer::new(drop_unacceptable as fn(Request) -> Request))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptable_ids() {
        assert!(is_acceptable(b"abc-123_x.y:z"));
        assert!(is_acceptable(&[b'a'; MAX_REQUEST_ID_LEN]));
        assert!(!is_acceptable(&[b'a'; MAX_REQUEST_ID_LEN + 1]));
        assert!(!is_acceptable(b""));
        assert!(!is_acceptable(b"evil\"id"));
        assert!(!is_acceptable(b"has space"));
    }
}
