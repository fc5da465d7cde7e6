//! The live canvas: named surfaces the agent (or a client) renders HTML, SVG, Markdown or text onto, with a
//! short history. Frames are kept in the store; live viewers learn of new frames through the event bus
//! (`canvas_updated`), so any gateway sharing the bus can serve them.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::devices::StoreError;

/// Frames of history kept per canvas.
pub const MAX_HISTORY: usize = 50;
/// Canvases that may hold content at once.
pub const MAX_CANVASES: usize = 100;
/// Largest frame content, in bytes.
pub const MAX_CONTENT_BYTES: usize = 256 * 1024;
/// Content types a frame may have.
pub const CONTENT_TYPES: [&str; 4] = ["html", "svg", "markdown", "text"];
/// Longest canvas id.
pub const MAX_CANVAS_ID_LEN: usize = 128;

/// Whether `id` is a valid canvas id: 1 to 128 characters of `A-Z a-z 0-9 _ - .`, not `.` or `..`.
pub fn valid_canvas_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_CANVAS_ID_LEN
        && id != "."
        && id != ".."
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// One rendered frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanvasFrame {
    /// Unique id.
    pub frame_id: String,
    /// `html`, `svg`, `markdown`, `text`, or `clear` (sent to viewers when a canvas is cleared).
    pub content_type: String,
    /// The content.
    pub content: String,
    /// When it was rendered.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

impl CanvasFrame {
    /// A new frame, stamped now.
    pub fn new(content_type: &str, content: &str) -> Self {
        Self {
            frame_id: uuid::Uuid::new_v4().to_string(),
            content_type: content_type.to_owned(),
            content: content.to_owned(),
            timestamp: OffsetDateTime::now_utc(),
        }
    }
}

/// Canvas frames and history.
#[async_trait]
pub trait CanvasStore: Send + Sync {
    /// Makes `frame` the canvas's current frame and appends it to its history (keeping the last
    /// [`MAX_HISTORY`]). `false`, and nothing stored, when the canvas is new and [`MAX_CANVASES`] already
    /// hold content.
    async fn render(&self, canvas_id: &str, frame: &CanvasFrame) -> Result<bool, StoreError>;

    /// The current frame.
    async fn current(&self, canvas_id: &str) -> Result<Option<CanvasFrame>, StoreError>;

    /// The history, oldest first.
    async fn history(&self, canvas_id: &str) -> Result<Vec<CanvasFrame>, StoreError>;

    /// Canvases holding content, by id.
    async fn list(&self) -> Result<Vec<String>, StoreError>;

    /// Removes a canvas and its history; `false` when it held nothing.
    async fn clear(&self, canvas_id: &str) -> Result<bool, StoreError>;
}

/// The bus event announcing a new frame (or a `clear`).
pub const CANVAS_UPDATED: &str = "canvas_updated";

/// Why a frame was not rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The id is outside `[A-Za-z0-9_.-]{1,128}`.
    #[error("Canvas ids are 1-128 characters of A-Z a-z 0-9 _ - .")]
    InvalidId,
    /// The content type is not one of [`CONTENT_TYPES`].
    #[error("Invalid content_type '{0}'. Allowed: html, svg, markdown, text")]
    InvalidContentType(String),
    /// The content is over [`MAX_CONTENT_BYTES`].
    #[error("Content exceeds maximum size of {MAX_CONTENT_BYTES} bytes")]
    TooLarge,
    /// [`MAX_CANVASES`] canvases hold content already.
    #[error("Maximum canvas count reached. Clear unused canvases first.")]
    TooManyCanvases,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Renders a frame onto `canvas_id` and announces it on `events` (`canvas_updated {canvas_id, frame}`), which
/// is how live viewers on any gateway sharing the bus see it. The one way frames are rendered: the REST API
/// and the MCP tools both come here.
pub async fn render_frame(
    store: &dyn CanvasStore,
    events: &dyn crate::events::EventBus,
    canvas_id: &str,
    content_type: &str,
    content: &str,
) -> Result<CanvasFrame, RenderError> {
    if !valid_canvas_id(canvas_id) {
        return Err(RenderError::InvalidId);
    }
    if !CONTENT_TYPES.contains(&content_type) {
        return Err(RenderError::InvalidContentType(content_type.chars().take(40).collect()));
    }
    if content.len() > MAX_CONTENT_BYTES {
        return Err(RenderError::TooLarge);
    }
    let frame = CanvasFrame::new(content_type, content);
    if !store.render(canvas_id, &frame).await? {
        return Err(RenderError::TooManyCanvases);
    }
    announce(events, canvas_id, &frame).await;
    Ok(frame)
}

/// Clears `canvas_id` and, when it held content, announces a `clear` frame; whether it held content.
pub async fn clear_canvas(
    store: &dyn CanvasStore,
    events: &dyn crate::events::EventBus,
    canvas_id: &str,
) -> Result<bool, RenderError> {
    if !valid_canvas_id(canvas_id) {
        return Err(RenderError::InvalidId);
    }
    let cleared = store.clear(canvas_id).await?;
    if cleared {
        announce(events, canvas_id, &CanvasFrame::new("clear", "")).await;
    }
    Ok(cleared)
}

async fn announce(events: &dyn crate::events::EventBus, canvas_id: &str, frame: &CanvasFrame) {
    let payload = serde_json::json!({"canvas_id": canvas_id, "frame": frame});
    if let Err(error) = events.publish(CANVAS_UPDATED, payload).await {
        tracing::warn!(%error, "cannot announce a canvas frame");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canvas_ids() {
        for good in ["default", "a.b-c_9", &"x".repeat(128)] {
            assert!(valid_canvas_id(good), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "ü", &"x".repeat(129)] {
            assert!(!valid_canvas_id(bad), "{bad:?}");
        }
    }
}
