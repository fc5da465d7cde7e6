//! Provider payloads into messages.
//!
//! Each parser takes the provider's JSON (already signature-checked) and returns the text messages worth
//! answering, after the channel's allowlist and self/bot filters. Parsers never panic, whatever the JSON
//! (property-tested), and never trust a field's type: anything unexpected is skipped.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Body of the generic `POST /webhook`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct WebhookBody {
    /// The user's message; not empty.
    pub message: String,
}

/// Query of WhatsApp's verification handshake (`GET /whatsapp`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WhatsAppVerifyQuery {
    /// Must be `subscribe`.
    #[serde(rename = "hub.mode")]
    #[param(nullable = false)]
    pub mode: Option<String>,
    /// Must equal the configured verify token.
    #[serde(rename = "hub.verify_token")]
    #[param(nullable = false)]
    pub verify_token: Option<String>,
    /// Echoed back on success.
    #[serde(rename = "hub.challenge")]
    #[param(nullable = false)]
    pub challenge: Option<String>,
}

/// Query of WATI's verification handshake (`GET /wati`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WatiVerifyQuery {
    /// Must equal the configured verify token (upstream checked nothing).
    #[serde(rename = "hub.verify_token")]
    #[param(nullable = false)]
    pub verify_token: Option<String>,
    /// Echoed back on success.
    #[serde(rename = "hub.challenge")]
    #[param(nullable = false)]
    pub challenge: Option<String>,
}

/// Which channel a message came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    /// WhatsApp Cloud API.
    #[serde(rename = "whatsapp")]
    WhatsApp,
    /// WATI.
    #[serde(rename = "wati")]
    Wati,
    /// Linq (iMessage, RCS, SMS).
    #[serde(rename = "linq")]
    Linq,
    /// Nextcloud Talk.
    #[serde(rename = "nextcloud_talk")]
    NextcloudTalk,
}

impl Channel {
    /// The name used in session ids, dedupe keys and events.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::WhatsApp => "whatsapp",
            Channel::Wati => "wati",
            Channel::Linq => "linq",
            Channel::NextcloudTalk => "nextcloud_talk",
        }
    }
}

/// One message to answer. Serialised as the work queue's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// Where it came from.
    pub channel: Channel,
    /// The provider's id for the message (WhatsApp's wamid, ...): the key for deduplicating retries.
    pub provider_id: Option<String>,
    /// Who sent it (a `+E164` number, a handle, a user id).
    pub sender: String,
    /// The conversation it belongs to, when the channel has one (a Linq chat, a Talk room).
    pub thread: Option<String>,
    /// The text.
    pub text: String,
    /// Where the reply goes (a number, a chat id, a room token).
    pub reply_target: String,
}

impl InboundMessage {
    /// The chat session the message belongs to: `{channel}_{sender}`, or `{channel}_{thread}_{sender}`.
    pub fn session_id(&self) -> String {
        match &self.thread {
            Some(thread) => format!("{}_{}_{}", self.channel.as_str(), thread, self.sender),
            None => format!("{}_{}", self.channel.as_str(), self.sender),
        }
    }
}

/// Who may talk to a channel: `["*"]` allows everyone, an empty list no one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    everyone: bool,
    entries: BTreeSet<String>,
}

impl Allowlist {
    /// From configuration; phone numbers are normalised to `+digits` so `+1 (555) 010` matches `15550100`.
    pub fn new(entries: &[String]) -> Self {
        Self {
            everyone: entries.iter().any(|e| e.trim() == "*"),
            entries: entries.iter().map(|e| normalize_identity(e)).filter(|e| !e.is_empty()).collect(),
        }
    }

    /// Whether `sender` may talk to the channel.
    pub fn allows(&self, sender: &str) -> bool {
        self.everyone || self.entries.contains(&normalize_identity(sender))
    }
}

/// Phone-number-like identities become `+digits`; anything else is trimmed and lowercased.
pub fn normalize_identity(raw: &str) -> String {
    let raw = raw.trim();
    let looks_like_number = !raw.is_empty()
        && raw.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && raw.chars().any(|c| c.is_ascii_digit());
    if looks_like_number {
        format!("+{}", raw.chars().filter(char::is_ascii_digit).collect::<String>())
    } else {
        raw.to_lowercase()
    }
}

fn text_of(value: &Value) -> Option<&str> {
    value.as_str().map(str::trim).filter(|s| !s.is_empty())
}

fn items(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

fn truthy(value: &Value) -> bool {
    value.as_bool().unwrap_or(false)
}

/// WhatsApp Cloud API: `entry[].changes[].value.messages[]`, text messages only. The wamid is kept (upstream
/// replaced it with a random id, which made provider retries look new).
pub fn whatsapp(payload: &Value, allow: &Allowlist) -> Vec<InboundMessage> {
    let mut out = Vec::new();
    for change in items(&payload["entry"]).flat_map(|entry| items(&entry["changes"])) {
        for message in items(&change["value"]["messages"]) {
            let (Some(from), Some(text)) = (text_of(&message["from"]), text_of(&message["text"]["body"]))
            else {
                continue;
            };
            let sender = normalize_identity(from);
            if !allow.allows(&sender) {
                continue;
            }
            out.push(InboundMessage {
                channel: Channel::WhatsApp,
                provider_id: text_of(&message["id"]).map(str::to_owned),
                reply_target: sender.clone(),
                sender,
                thread: None,
                text: text.to_owned(),
            });
        }
    }
    out
}

/// WATI: one message per payload; text from `text`, `message.text` or `message.body`; the bot's own
/// messages (`fromMe`, `from_me`, `owner`) are skipped.
pub fn wati(payload: &Value, allow: &Allowlist) -> Vec<InboundMessage> {
    if truthy(&payload["fromMe"]) || truthy(&payload["from_me"]) || truthy(&payload["owner"]) {
        return Vec::new();
    }
    let text = text_of(&payload["text"])
        .or_else(|| text_of(&payload["message"]["text"]))
        .or_else(|| text_of(&payload["message"]["body"]));
    let from = text_of(&payload["waId"])
        .or_else(|| text_of(&payload["wa_id"]))
        .or_else(|| text_of(&payload["from"]));
    let (Some(text), Some(from)) = (text, from) else { return Vec::new() };
    let sender = normalize_identity(from);
    if !allow.allows(&sender) {
        return Vec::new();
    }
    let provider_id =
        text_of(&payload["whatsappMessageId"]).or_else(|| text_of(&payload["id"])).map(str::to_owned);
    vec![InboundMessage {
        channel: Channel::Wati,
        provider_id,
        reply_target: sender.clone(),
        sender,
        thread: None,
        text: text.to_owned(),
    }]
}

/// Linq: `message.received` events from others, text parts joined.
pub fn linq(payload: &Value, allow: &Allowlist) -> Vec<InboundMessage> {
    if payload["event_type"].as_str() != Some("message.received") {
        return Vec::new();
    }
    let data = &payload["data"];
    if truthy(&data["is_from_me"])
        || truthy(&data["sender_handle"]["is_me"])
        || data["direction"].as_str() == Some("outbound")
    {
        return Vec::new();
    }
    let Some(from) = text_of(&data["from"]).or_else(|| text_of(&data["sender_handle"]["handle"])) else {
        return Vec::new();
    };
    let sender = normalize_identity(from);
    if !allow.allows(&sender) {
        return Vec::new();
    }
    let parts = if data["message"]["parts"].is_array() { &data["message"]["parts"] } else { &data["parts"] };
    let text: Vec<&str> = items(parts)
        .filter(|p| p["type"].as_str() == Some("text"))
        .filter_map(|p| text_of(&p["value"]))
        .collect();
    if text.is_empty() {
        return Vec::new();
    }
    let chat = text_of(&data["chat_id"]).or_else(|| text_of(&data["chat"]["id"])).map(str::to_owned);
    let provider_id = text_of(&data["message"]["id"]).or_else(|| text_of(&data["id"])).map(str::to_owned);
    vec![InboundMessage {
        channel: Channel::Linq,
        provider_id,
        reply_target: chat.clone().unwrap_or_else(|| sender.clone()),
        sender,
        thread: chat,
        text: text.join("\n"),
    }]
}

/// Nextcloud Talk bot payloads: ActivityStreams `Create`/`Note` (the message text is inside
/// `object.content`, itself JSON with a `message` field), or the legacy `message` form. Other bots and
/// applications are ignored.
pub fn nextcloud_talk(payload: &Value, allow: &Allowlist) -> Vec<InboundMessage> {
    let (actor, text, room, id) = match payload["type"].as_str() {
        Some("Create") if payload["object"]["type"].as_str() == Some("Note") => {
            if payload["actor"]["type"].as_str() == Some("Application") {
                return Vec::new();
            }
            let content = payload["object"]["content"].as_str().unwrap_or_default();
            let message = serde_json::from_str::<Value>(content)
                .ok()
                .and_then(|c| c["message"].as_str().map(str::to_owned))
                .or_else(|| text_of(&payload["object"]["name"]).map(str::to_owned));
            (
                text_of(&payload["actor"]["id"]).map(str::to_owned),
                message,
                text_of(&payload["target"]["id"]).map(str::to_owned),
                payload["object"]["id"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| payload["object"]["id"].as_u64().map(|n| n.to_string())),
            )
        }
        Some("message") => (
            text_of(&payload["message"]["actorId"]).map(str::to_owned),
            text_of(&payload["message"]["message"]).map(str::to_owned),
            text_of(&payload["message"]["token"]).map(str::to_owned),
            payload["message"]["id"].as_u64().map(|n| n.to_string()),
        ),
        _ => return Vec::new(),
    };
    let (Some(actor), Some(text), Some(room)) = (actor, text.filter(|t| !t.trim().is_empty()), room) else {
        return Vec::new();
    };
    if actor.starts_with("bots/") {
        return Vec::new();
    }
    let sender = actor.strip_prefix("users/").unwrap_or(&actor).to_owned();
    if !allow.allows(&sender) {
        return Vec::new();
    }
    vec![InboundMessage {
        channel: Channel::NextcloudTalk,
        provider_id: id,
        sender,
        reply_target: room.clone(),
        thread: Some(room),
        text: text.trim().to_owned(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn everyone() -> Allowlist {
        Allowlist::new(&["*".into()])
    }

    #[test]
    fn allowlists() {
        let list = Allowlist::new(&["+1 (555) 010-0000".into(), "Alice".into()]);
        assert!(list.allows("15550100000"));
        assert!(list.allows("+15550100000"));
        assert!(list.allows("alice"));
        assert!(!list.allows("+15550100001"));
        assert!(!Allowlist::new(&[]).allows("+1"), "empty denies all");
        assert!(everyone().allows("anyone"));
    }

    #[test]
    fn whatsapp_text_messages_keep_the_wamid() {
        let payload = json!({"entry": [{"changes": [{"value": {"messages": [
            {"from": "15550100000", "id": "wamid.ABC", "type": "text", "text": {"body": " hi "}},
            {"from": "15550100000", "id": "wamid.IMG", "type": "image", "image": {}},
            {"from": "19990000000", "id": "wamid.X", "text": {"body": "stranger"}}
        ]}}]}]});
        let list = Allowlist::new(&["+15550100000".into()]);
        let messages = whatsapp(&payload, &list);
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].provider_id.as_deref(), Some("wamid.ABC"));
        assert_eq!((messages[0].sender.as_str(), messages[0].text.as_str()), ("+15550100000", "hi"));
        assert_eq!(messages[0].session_id(), "whatsapp_+15550100000");
        // The queue stores messages as JSON; they come back whole.
        let stored = serde_json::to_value(&messages[0]).unwrap();
        assert_eq!(stored["channel"], "whatsapp");
        assert_eq!(serde_json::from_value::<InboundMessage>(stored).unwrap(), messages[0]);
    }

    #[test]
    fn wati_linq_and_nextcloud_filters() {
        assert_eq!(
            wati(&json!({"waId": "155501", "text": "yo", "id": "w1"}), &everyone())[0].provider_id.as_deref(),
            Some("w1")
        );
        assert!(wati(&json!({"waId": "155501", "text": "me", "fromMe": true}), &everyone()).is_empty());
        assert_eq!(
            wati(&json!({"from": "155501", "message": {"body": "nested"}}), &everyone())[0].text,
            "nested"
        );

        let linq_msg = json!({"event_type": "message.received", "data": {
            "from": "+1 555 0100", "chat_id": "chat-9", "message": {"id": "m1", "parts": [
                {"type": "text", "value": "one"}, {"type": "media", "value": "x.png"}, {"type": "text", "value": "two"}]}}});
        let parsed = &linq(&linq_msg, &everyone())[0];
        assert_eq!((parsed.text.as_str(), parsed.reply_target.as_str()), ("one\ntwo", "chat-9"));
        assert_eq!(parsed.session_id(), "linq_chat-9_+15550100");
        let mut outbound = linq_msg.clone();
        outbound["data"]["direction"] = json!("outbound");
        assert!(linq(&outbound, &everyone()).is_empty());
        assert!(linq(&json!({"event_type": "message.sent", "data": {}}), &everyone()).is_empty());

        let note = json!({"type": "Create", "actor": {"type": "Person", "id": "users/alice"},
            "object": {"type": "Note", "id": "42", "content": "{\"message\":\"hello bot\",\"parameters\":[]}"},
            "target": {"id": "room-token"}});
        let parsed = &nextcloud_talk(&note, &Allowlist::new(&["alice".into()]))[0];
        assert_eq!(
            (parsed.sender.as_str(), parsed.text.as_str(), parsed.reply_target.as_str()),
            ("alice", "hello bot", "room-token")
        );
        let mut from_bot = note.clone();
        from_bot["actor"]["id"] = json!("bots/other");
        assert!(nextcloud_talk(&from_bot, &everyone()).is_empty());
        let mut from_app = note;
        from_app["actor"]["type"] = json!("Application");
        assert!(nextcloud_talk(&from_app, &everyone()).is_empty());
    }
}
