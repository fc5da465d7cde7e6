//! In-process conversation history: bounded in sessions and in messages per session.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use construct_core::devices::StoreError;
use construct_core::history::{HistoryMessage, SessionHistory};

/// Sessions by id, each with the logical time it was last used; plus the clock.
type Sessions = (HashMap<String, (u64, VecDeque<HistoryMessage>)>, u64);

/// Keeps the last `per_session` messages of at most `max_sessions` sessions; past that, the session used
/// least recently is forgotten first.
pub struct MemoryHistory {
    per_session: usize,
    max_sessions: usize,
    state: Mutex<Sessions>,
}

impl MemoryHistory {
    /// A history with these bounds.
    pub fn new(per_session: usize, max_sessions: usize) -> Self {
        Self {
            per_session: per_session.max(1),
            max_sessions: max_sessions.max(1),
            state: Mutex::new((HashMap::new(), 0)),
        }
    }
}

impl Default for MemoryHistory {
    fn default() -> Self {
        Self::new(100, 10_000)
    }
}

#[async_trait]
impl SessionHistory for MemoryHistory {
    async fn load(&self, session: &str, limit: usize) -> Result<Vec<HistoryMessage>, StoreError> {
        let state = self.state.lock().map_err(|_| StoreError::Unavailable("history poisoned".into()))?;
        Ok(state.0.get(session).map_or_else(Vec::new, |(_, messages)| {
            messages.iter().skip(messages.len().saturating_sub(limit)).cloned().collect()
        }))
    }

    async fn append(&self, session: &str, messages: Vec<HistoryMessage>) -> Result<(), StoreError> {
        let mut guard = self.state.lock().map_err(|_| StoreError::Unavailable("history poisoned".into()))?;
        let (sessions, clock) = &mut *guard;
        *clock += 1;
        let now = *clock;
        if !sessions.contains_key(session) && sessions.len() >= self.max_sessions {
            let oldest = sessions.iter().min_by_key(|(_, (used, _))| *used).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                sessions.remove(&oldest);
            }
        }
        let (used, stored) = sessions.entry(session.to_owned()).or_default();
        *used = now;
        stored.extend(messages);
        while stored.len() > self.per_session {
            stored.pop_front();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(content: &str) -> HistoryMessage {
        HistoryMessage { role: "user".into(), content: content.into() }
    }

    #[tokio::test]
    async fn bounded_in_both_directions() {
        let history = MemoryHistory::new(3, 2);
        history.append("a", vec![msg("1"), msg("2"), msg("3"), msg("4")]).await.unwrap();
        let loaded: Vec<String> =
            history.load("a", 10).await.unwrap().into_iter().map(|m| m.content).collect();
        assert_eq!(loaded, ["2", "3", "4"]);
        assert_eq!(history.load("a", 1).await.unwrap()[0].content, "4");
        history.append("b", vec![msg("b")]).await.unwrap();
        history.append("a", vec![msg("5")]).await.unwrap();
        history.append("c", vec![msg("c")]).await.unwrap();
        assert!(history.load("b", 10).await.unwrap().is_empty(), "least recently used session dropped");
        assert_eq!(history.load("a", 10).await.unwrap().len(), 3);
        assert!(history.load("nobody", 10).await.unwrap().is_empty());
    }
}
