//! A small incremental decoder for the `data:` events of a Server-Sent Events stream, as OpenAI-compatible
//! providers send them. Bytes arrive in arbitrary pieces; complete events come out.

/// Longest line accepted; a provider sending more without a newline is broken or hostile.
const MAX_LINE: usize = 1 << 20;

/// Accumulates bytes and yields the data of each complete event.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    line: Vec<u8>,
    data: Vec<String>,
}

impl SseDecoder {
    /// Feeds bytes; returns the events completed by them, or an error for an overlong line.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>, String> {
        let mut events = Vec::new();
        for &byte in bytes {
            if byte != b'\n' {
                self.line.push(byte);
                if self.line.len() > MAX_LINE {
                    return Err("an event stream line exceeded 1 MiB".into());
                }
                continue;
            }
            let line = std::mem::take(&mut self.line);
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            if line.is_empty() {
                if !self.data.is_empty() {
                    events.push(std::mem::take(&mut self.data).join("\n"));
                }
            } else if let Some(value) = line.strip_prefix(b"data:") {
                let value = value.strip_prefix(b" ").unwrap_or(value);
                self.data.push(String::from_utf8_lossy(value).into_owned());
            }
            // Comments (`:`), `event:`, `id:` and `retry:` lines carry nothing we use.
        }
        Ok(events)
    }

    /// Whatever complete-but-unterminated event remains when the stream ends.
    pub(crate) fn finish(&mut self) -> Option<String> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            if let Some(value) = line.strip_prefix(b"data:") {
                let value = value.strip_prefix(b" ").unwrap_or(value);
                self.data.push(String::from_utf8_lossy(value).into_owned());
            }
        }
        (!self.data.is_empty()).then(|| std::mem::take(&mut self.data).join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_across_arbitrary_splits() {
        let stream =
            b"data: {\"a\":1}\r\n\r\n: keep-alive\n\nevent: x\ndata: two\ndata: lines\n\ndata: [DONE]\n\n";
        for split in 1..stream.len() {
            let mut decoder = SseDecoder::default();
            let mut events = decoder.push(&stream[..split]).unwrap();
            events.extend(decoder.push(&stream[split..]).unwrap());
            assert_eq!(events, ["{\"a\":1}", "two\nlines", "[DONE]"], "split at {split}");
        }
    }

    #[test]
    fn unterminated_last_event_and_overlong_lines() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.push(b"data: tail").unwrap().is_empty());
        assert_eq!(decoder.finish().as_deref(), Some("tail"));
        let mut decoder = SseDecoder::default();
        assert!(decoder.push(&vec![b'x'; MAX_LINE + 1]).is_err());
    }
}
