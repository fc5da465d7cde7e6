//! The gateway's own log, kept in memory for `GET /api/daemon/logs`.
//!
//! [`LogCapture`] is a `tracing` layer: every event that passes the subscriber's filter becomes one line
//! (`LEVEL target: message key=value ...`) on a bounded in-memory bus, with ids, replay and lag notices
//! like every other event stream. Upstream tailed a log file (and stalled for good on invalid UTF-8, split
//! partial lines, and leaked a task per disconnected client); here nothing touches the disk.

use std::fmt::Write as _;
use std::sync::Arc;

use construct_store::MemoryEventBus;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

/// Lines kept for replay.
pub const LOG_RING: usize = 2_000;

/// The capturing layer; clone the bus it feeds into the gateway with [`crate::GatewayBuilder::daemon_logs`].
pub struct LogCapture {
    bus: Arc<MemoryEventBus>,
}

impl LogCapture {
    /// A layer and the bus it writes to.
    pub fn new() -> (Self, Arc<MemoryEventBus>) {
        let bus = Arc::new(MemoryEventBus::new(LOG_RING, 4_096));
        (Self { bus: Arc::clone(&bus) }, bus)
    }
}

#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for LogCapture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut line = Line::default();
        event.record(&mut line);
        let text = format!("{} {}: {}{}", meta.level(), meta.target(), line.message, line.fields);
        let payload = json!({"line": text, "level": meta.level().as_str(), "target": meta.target()});
        // A full or poisoned ring loses a line, never the event that was being logged.
        let _ = self.bus.publish_now("log", payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use construct_core::events::{Delivery, EventBus};
    use futures_util::StreamExt;
    use tracing_subscriber::layer::SubscriberExt;

    #[tokio::test]
    async fn events_become_lines_on_the_bus() {
        let (layer, bus) = LogCapture::new();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(port = 8080, who = "me", "listening failed");
            tracing::info!("second");
        });
        let got: Vec<Delivery> = bus.subscribe(Some(0)).take(2).collect().await;
        let Delivery::Event(first) = &got[0] else { panic!("{got:?}") };
        assert_eq!(first.kind, "log");
        let line = first.payload["line"].as_str().unwrap();
        assert!(line.starts_with("WARN "), "{line}");
        assert!(line.ends_with(r#"listening failed port=8080 who="me""#), "{line}");
        assert_eq!(first.payload["level"], "WARN");
    }
}
