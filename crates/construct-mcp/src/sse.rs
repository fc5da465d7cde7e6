//! An incremental Server-Sent Events parser for the WebSocket bridge: bytes go in in whatever chunks the
//! network delivers, whole events come out.
//!
//! Lines end with LF or CRLF. A line is decoded only once it is complete, so a character split across
//! chunks arrives whole (upstream decoded each chunk on its own and corrupted them). `data:` lines of one
//! event are joined with `\n` (one leading space after the colon is dropped); `event:` names the event;
//! `id:`, `retry:` and comments (`:`) are ignored; a blank line ends the event; data left when the stream
//! ends is flushed by [`SseParser::finish`]. A line longer than [`MAX_LINE`] is dropped, not buffered.

/// Longest line kept, in bytes.
pub const MAX_LINE: usize = 1024 * 1024;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// Its `event:` name, if it had one.
    pub event: Option<String>,
    /// Its data lines, joined with `\n`.
    pub data: String,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    skipping: bool,
    data: Vec<String>,
    event: Option<String>,
}

impl SseParser {
    /// Takes the next chunk; returns the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(end);
            if !self.skipping {
                self.line.extend_from_slice(head);
            }
            if !self.skipping && self.line.len() <= MAX_LINE {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if let Some(event) = self.line_done(&String::from_utf8_lossy(&line)) {
                    events.push(event);
                }
            }
            self.line.clear();
            self.skipping = false;
            rest = &tail[1..];
        }
        if !self.skipping {
            self.line.extend_from_slice(rest);
            if self.line.len() > MAX_LINE {
                self.line.clear();
                self.skipping = true;
            }
        }
        events
    }

    /// The stream ended: the event still being read, if it has data.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.skipping && !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            let text = String::from_utf8_lossy(&line).trim_end_matches('\r').to_owned();
            if let Some(event) = self.line_done(&text) {
                return Some(event);
            }
        }
        self.dispatch()
    }

    fn line_done(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => self.data.push(value.to_owned()),
            "event" => self.event = Some(value.to_owned()),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if self.data.is_empty() {
            return None;
        }
        Some(SseEvent { event, data: std::mem::take(&mut self.data).join("\n") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = ": keep-alive\r\n\
        data: {\"progress\":1,\"message\":\"déjà 🙂\"}\r\n\r\n\
        id: 7\nretry: 1000\ndata: first\ndata:second\n\n\
        event: lagged\ndata: {\"missed\":3}\n\n\
        data: tail without a blank line";

    fn expected() -> Vec<SseEvent> {
        vec![
            SseEvent { event: None, data: "{\"progress\":1,\"message\":\"déjà 🙂\"}".into() },
            SseEvent { event: None, data: "first\nsecond".into() },
            SseEvent { event: Some("lagged".into()), data: "{\"missed\":3}".into() },
            SseEvent { event: None, data: "tail without a blank line".into() },
        ]
    }

    fn parse_in(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::default();
        let mut events: Vec<SseEvent> = chunks.iter().flat_map(|c| parser.feed(c)).collect();
        events.extend(parser.finish());
        events
    }

    #[test]
    fn every_split_of_the_stream_gives_the_same_events() {
        let bytes = STREAM.as_bytes();
        assert_eq!(parse_in(&[bytes]), expected());
        for cut in 0..=bytes.len() {
            assert_eq!(parse_in(&[&bytes[..cut], &bytes[cut..]]), expected(), "split at {cut}");
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(parse_in(&singles), expected(), "one byte at a time");
    }

    #[test]
    fn an_overlong_line_is_dropped_and_parsing_goes_on() {
        let mut parser = SseParser::default();
        let huge = vec![b'x'; MAX_LINE + 10];
        assert!(parser.feed(b"data: ").is_empty());
        assert!(parser.feed(&huge).is_empty());
        let events = parser.feed(b"\ndata: ok\n\n");
        assert_eq!(events, vec![SseEvent { event: None, data: "ok".into() }]);
    }
}
