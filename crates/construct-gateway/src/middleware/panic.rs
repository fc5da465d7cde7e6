//! A panicking handler becomes a 500 envelope, and the panic message goes to the log, not the client.

use std::any::Any;

use axum::response::{IntoResponse, Response};
use construct_core::ApiError;
use tower_http::catch_panic::CatchPanicLayer;

/// The handler [`layer`] uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct PanicToEnvelope;

impl tower_http::catch_panic::ResponseForPanic for PanicToEnvelope {
    type ResponseBody = axum::body::Body;

    fn response_for_panic(&mut self, payload: Box<dyn Any + Send + 'static>) -> Response {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("(non-string panic payload)");
        tracing::error!(panic = message, "handler panicked");
        ApiError::internal().into_response()
    }
}

/// The catch-panic layer with the envelope response.
pub fn layer() -> CatchPanicLayer<PanicToEnvelope> {
    CatchPanicLayer::custom(PanicToEnvelope)
}
