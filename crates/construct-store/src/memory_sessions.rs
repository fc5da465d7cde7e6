//! Chat sessions in memory: the semantics of the SQLite sessions, bounded in sessions (the least recently
//! active is forgotten first) and in messages kept per session (`message_count` still counts them all).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use construct_core::devices::StoreError;
use construct_core::history::{HistoryMessage, SessionHistory};
use construct_core::sessions::{SessionInfo, SessionStore, TurnState, channel_of};
use time::OffsetDateTime;

struct Entry {
    info: SessionInfo,
    messages: VecDeque<HistoryMessage>,
    /// Logical time of last use, for eviction.
    used: u64,
}

#[derive(Default)]
struct State {
    sessions: HashMap<String, Entry>,
    clock: u64,
}

/// See the module documentation.
pub struct MemorySessions {
    per_session: usize,
    max_sessions: usize,
    state: Mutex<State>,
}

impl MemorySessions {
    /// Keeps the last `per_session` messages of at most `max_sessions` sessions.
    pub fn new(per_session: usize, max_sessions: usize) -> Self {
        Self { per_session: per_session.max(1), max_sessions: max_sessions.max(1), state: Mutex::default() }
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Unavailable("sessions poisoned".into()))
    }
}

impl Default for MemorySessions {
    fn default() -> Self {
        Self::new(1_000, 10_000)
    }
}

impl State {
    /// The session, created (evicting the least recently used if full) when absent.
    fn entry(&mut self, key: &str, max_sessions: usize) -> &mut Entry {
        self.clock += 1;
        let now = self.clock;
        if !self.sessions.contains_key(key) && self.sessions.len() >= max_sessions {
            let oldest = self.sessions.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.sessions.remove(&oldest);
            }
        }
        let entry = self.sessions.entry(key.to_owned()).or_insert_with(|| {
            let at = OffsetDateTime::now_utc();
            Entry {
                info: SessionInfo {
                    key: key.to_owned(),
                    channel: channel_of(key).to_owned(),
                    name: None,
                    created_at: at,
                    last_activity: at,
                    message_count: 0,
                    state: TurnState::Idle,
                    turn_id: None,
                    turn_started_at: None,
                },
                messages: VecDeque::new(),
                used: now,
            }
        });
        entry.used = now;
        entry
    }
}

#[async_trait]
impl SessionHistory for MemorySessions {
    async fn load(&self, session: &str, limit: usize) -> Result<Vec<HistoryMessage>, StoreError> {
        let state = self.lock()?;
        Ok(state.sessions.get(session).map_or_else(Vec::new, |e| {
            e.messages.iter().skip(e.messages.len().saturating_sub(limit)).cloned().collect()
        }))
    }

    async fn append(&self, session: &str, messages: Vec<HistoryMessage>) -> Result<(), StoreError> {
        let mut state = self.lock()?;
        let entry = state.entry(session, self.max_sessions);
        entry.info.message_count += messages.len() as u64;
        entry.info.last_activity = OffsetDateTime::now_utc();
        entry.messages.extend(messages);
        while entry.messages.len() > self.per_session {
            entry.messages.pop_front();
        }
        Ok(())
    }
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn open(&self, key: &str, name: Option<&str>) -> Result<SessionInfo, StoreError> {
        let mut state = self.lock()?;
        let entry = state.entry(key, self.max_sessions);
        if let Some(name) = name {
            entry.info.name = Some(name.to_owned());
        }
        Ok(entry.info.clone())
    }

    async fn get(&self, key: &str) -> Result<Option<SessionInfo>, StoreError> {
        Ok(self.lock()?.sessions.get(key).map(|e| e.info.clone()))
    }

    async fn list(&self, channel: Option<&str>) -> Result<Vec<SessionInfo>, StoreError> {
        let state = self.lock()?;
        let mut found: Vec<SessionInfo> = state
            .sessions
            .values()
            .filter(|e| channel.is_none_or(|c| e.info.channel == c))
            .map(|e| e.info.clone())
            .collect();
        found.sort_by(|a, b| b.last_activity.cmp(&a.last_activity).then_with(|| a.key.cmp(&b.key)));
        Ok(found)
    }

    async fn rename(&self, key: &str, name: &str) -> Result<bool, StoreError> {
        Ok(self.lock()?.sessions.get_mut(key).map(|e| e.info.name = Some(name.to_owned())).is_some())
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.lock()?.sessions.remove(key).is_some())
    }

    async fn set_state(&self, key: &str, state: TurnState, turn_id: Option<&str>) -> Result<(), StoreError> {
        let mut sessions = self.lock()?;
        let info = &mut sessions.entry(key, self.max_sessions).info;
        info.state = state;
        match state {
            TurnState::Running => {
                info.turn_id = turn_id.map(str::to_owned);
                info.turn_started_at = Some(OffsetDateTime::now_utc());
            }
            TurnState::Idle => {
                info.turn_id = None;
                info.turn_started_at = None;
            }
            TurnState::Error => {
                if let Some(id) = turn_id {
                    info.turn_id = Some(id.to_owned());
                }
            }
        }
        Ok(())
    }

    async fn prune(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let mut state = self.lock()?;
        let before = state.sessions.len();
        state.sessions.retain(|_, e| e.info.last_activity >= cutoff || e.info.state == TurnState::Running);
        Ok((before - state.sessions.len()) as u64)
    }
}
