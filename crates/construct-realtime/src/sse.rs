//! `GET /api/events`: the event bus as Server-Sent Events.
//!
//! Every frame carries `id:` (the bus's increasing id), `event:` (the event type) and `data:` (one line of
//! JSON holding `type`, `timestamp` and the event's fields, so upstream clients that read only `data` keep
//! working). A client resumes with `Last-Event-ID` (or `?last_event_id=`, for `EventSource` polyfills that
//! cannot set headers): events after that id are replayed from the bus's ring; when the id is older than
//! the ring, or from before a restart, a `reset` event comes first (refetch state). A subscriber that falls
//! behind gets a `lagged` event with the number missed, never silent loss. A comment line keeps idle
//! connections open through proxies every 15 s.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use construct_core::events::{Delivery, Event, EventBus};
use construct_core::extract::Query;
use construct_core::metrics::ConnectionGuard;
use construct_core::{ApiError, ErrorCode};
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::RealtimeState;

/// Seconds between keep-alive comments.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// 400 for a `Last-Event-ID` that is not an event id.
pub const INVALID_LAST_EVENT_ID: ErrorCode = ErrorCode::new("INVALID_LAST_EVENT_ID");

/// Query of `GET /api/events`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Resume after this event id, for `EventSource` polyfills that cannot set headers (the
    /// `Last-Event-ID` header wins).
    #[param(pattern = "^[0-9]{0,19}$")]
    pub last_event_id: Option<String>,
}

/// The JSON an event's `data:` line carries: its fields plus `type` and `timestamp`.
pub fn event_json(event: &Event) -> Value {
    let timestamp = event.timestamp.format(&Rfc3339).unwrap_or_default();
    let mut data = match &event.payload {
        Value::Object(fields) => Value::Object(fields.clone()),
        other => json!({ "payload": other }),
    };
    data["type"] = json!(event.kind);
    if data.get("timestamp").is_none() {
        data["timestamp"] = json!(timestamp);
    }
    data
}

/// One delivery as an SSE frame.
pub fn sse_frame(delivery: Delivery) -> SseEvent {
    match delivery {
        Delivery::Event(event) => SseEvent::default()
            .id(event.id.to_string())
            .event(event.kind.clone())
            .data(event_json(&event).to_string()),
        Delivery::Lagged { missed } => {
            SseEvent::default().event("lagged").data(json!({"type": "lagged", "missed": missed}).to_string())
        }
        Delivery::Reset { missed } => {
            SseEvent::default().event("reset").data(json!({"type": "reset", "missed": missed}).to_string())
        }
    }
}

/// The resume point from `Last-Event-ID` or `?last_event_id=`.
pub fn resume_point(headers: &HeaderMap, query: Option<&str>) -> Result<Option<u64>, ApiError> {
    // Both are checked, so a malformed one is reported even when the other is given; the header wins, and
    // an empty one (some proxies and clients send it) says nothing.
    let parse = |raw: &str| match raw.trim() {
        "" => Ok(None),
        raw => raw.parse::<u64>().map(Some).map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, INVALID_LAST_EVENT_ID, "Last-Event-ID must be an event id")
        }),
    };
    let from_query = query.map(parse).transpose()?.flatten();
    let from_header = match headers.get("last-event-id") {
        Some(value) => parse(value.to_str().unwrap_or("x"))?,
        None => None,
    };
    Ok(from_header.or(from_query))
}

type SseStream = Sse<
    axum::response::sse::KeepAliveStream<
        futures_util::stream::BoxStream<'static, Result<SseEvent, Infallible>>,
    >,
>;

/// Where a new subscriber starts when it gives no resume point.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Start {
    /// With the next event (live events).
    Live,
    /// With everything the bus still holds (a log tail's first screen).
    Backlog,
}

fn stream_of(
    bus: &dyn EventBus,
    headers: &HeaderMap,
    query: &EventsQuery,
    start: Start,
    counted: ConnectionGuard,
) -> Result<SseStream, ApiError> {
    let after = resume_point(headers, query.last_event_id.as_deref())?;
    let backlog = after.is_none() && start == Start::Backlog;
    let stream = bus
        .subscribe(if backlog { Some(0) } else { after })
        // Starting from the oldest line kept is what a backlog means, not a gap to report.
        .filter(move |delivery| std::future::ready(!(backlog && matches!(delivery, Delivery::Reset { .. }))))
        // The stream owns the count: it ends when the client goes away and the body is dropped.
        .map(move |delivery| {
            let _open = &counted;
            Ok(sse_frame(delivery))
        })
        .boxed();
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

#[utoipa::path(
    get,
    path = "/api/events",
    tag = "events",
    operation_id = "stream_events",
    summary = "Follow the event bus as Server-Sent Events",
    params(
        ("Last-Event-ID" = Option<String>, Header, nullable = false, pattern = "^[0-9]{0,19}$", description = "Resume after this event id: the events the ring still holds after it are replayed first. Wins over `last_event_id`."),
        EventsQuery,
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "A Server-Sent Events stream. Each frame has `id:` (increasing), `event:` (the type) and one `data:` line of JSON with `type`, `timestamp` and the event's fields. Resuming from an id older than the ring of 1024 events, or from before a restart, first gets a `reset` event; a slow reader gets `lagged {missed}`. A keep-alive comment every 15 s.", content_type = "text/event-stream", body = crate::openapi::schemas::BusEvent),
        (status = 400, description = "`INVALID_LAST_EVENT_ID`: `Last-Event-ID` (or `last_event_id`) is not an event id (a non-negative integer); `INVALID_QUERY`: a malformed query string.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn events(
    State(state): State<RealtimeState>,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Result<SseStream, ApiError> {
    let counted = state.0.ws.metrics().open_connection("sse", "/api/events");
    stream_of(&*state.0.events, &headers, &query, Start::Live, counted)
}

/// `GET /api/daemon/logs` (admin): the gateway's own log lines, as `log` events with the same ids, replay
/// and lag rules; a new subscriber first gets the lines the ring still holds.
#[utoipa::path(
    get,
    path = "/api/daemon/logs",
    tag = "events",
    operation_id = "stream_daemon_logs",
    summary = "Follow the gateway's own log lines as Server-Sent Events",
    params(
        ("Last-Event-ID" = Option<String>, Header, nullable = false, pattern = "^[0-9]{0,19}$", description = "Resume after this event id: the events the ring still holds after it are replayed first. Wins over `last_event_id`."),
        EventsQuery,
    ),
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "A Server-Sent Events stream of `log` events (`data:` is `{type, line, level, target, timestamp}`) from a ring of 2000 lines, with the same ids, replay and `lagged` notices as `/api/events`; without a resume point, the lines the ring holds come first. A keep-alive comment every 15 s.", content_type = "text/event-stream", body = crate::openapi::schemas::LogEvent),
        (status = 400, description = "`INVALID_LAST_EVENT_ID`: `Last-Event-ID` (or `last_event_id`) is not an event id (a non-negative integer); `INVALID_QUERY`: a malformed query string.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn daemon_logs(
    State(state): State<RealtimeState>,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Result<SseStream, ApiError> {
    let counted = state.0.ws.metrics().open_connection("sse", "/api/daemon/logs");
    stream_of(&*state.0.logs, &headers, &query, Start::Backlog, counted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    #[test]
    fn data_lines_carry_type_and_timestamp() {
        let event = Event {
            id: 7,
            kind: "agent_end".into(),
            payload: json!({"ok": true}),
            timestamp: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            event_json(&event),
            json!({"ok": true, "type": "agent_end", "timestamp": "1970-01-01T00:00:00Z"})
        );
        let scalar = Event { payload: json!(3), ..event };
        assert_eq!(event_json(&scalar)["payload"], 3);
    }

    #[test]
    fn resume_points() {
        let mut h = HeaderMap::new();
        assert_eq!(resume_point(&h, None).unwrap(), None);
        assert_eq!(resume_point(&h, Some("12")).unwrap(), Some(12));
        h.insert("last-event-id", "40".parse().unwrap());
        assert_eq!(resume_point(&h, Some("12")).unwrap(), Some(40), "the header wins");
        assert_eq!(
            resume_point(&h, Some("x")).unwrap_err().code(),
            INVALID_LAST_EVENT_ID,
            "a malformed query is refused even when the header is good"
        );
        h.insert("last-event-id", "forty".parse().unwrap());
        assert_eq!(resume_point(&h, None).unwrap_err().code(), INVALID_LAST_EVENT_ID);
        assert_eq!(resume_point(&HeaderMap::new(), Some("-1")).unwrap_err().code(), INVALID_LAST_EVENT_ID);
        // An empty header is no resume point, so the query is still read (and checked).
        h.insert("last-event-id", "".parse().unwrap());
        assert_eq!(resume_point(&h, Some("12")).unwrap(), Some(12));
        assert_eq!(resume_point(&h, Some("\u{84}")).unwrap_err().code(), INVALID_LAST_EVENT_ID);
        assert_eq!(resume_point(&h, None).unwrap(), None);
    }
}
