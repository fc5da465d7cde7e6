//! Every parser survives arbitrary JSON, and the signature checks survive arbitrary headers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use construct_webhooks::parse::{self, Allowlist};
use construct_webhooks::signature;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9 +._/-]{0,12}".prop_map(Value::String),
        // Keys the parsers look for, so the search reaches deep into plausible shapes.
        prop::sample::select(vec![
            "entry",
            "changes",
            "messages",
            "text",
            "Create",
            "Note",
            "message.received",
            "users/a",
            "bots/b",
            "*"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        let keys = prop::sample::select(vec![
            "entry",
            "changes",
            "value",
            "messages",
            "from",
            "id",
            "text",
            "body",
            "type",
            "event_type",
            "data",
            "parts",
            "message",
            "actor",
            "object",
            "content",
            "target",
            "waId",
            "fromMe",
            "chat_id",
            "sender_handle",
            "direction",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys, inner), 0..5).prop_map(|pairs| Value::Object(
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>()
            )),
        ]
    })
}

proptest! {
    #[test]
    fn parsers_never_panic(payload in json()) {
        let everyone = Allowlist::new(&["*".to_owned()]);
        for message in parse::whatsapp(&payload, &everyone)
            .into_iter()
            .chain(parse::wati(&payload, &everyone))
            .chain(parse::linq(&payload, &everyone))
            .chain(parse::nextcloud_talk(&payload, &everyone))
        {
            prop_assert!(!message.text.trim().is_empty());
            prop_assert!(!message.sender.is_empty());
        }
    }

    #[test]
    fn signature_checks_never_panic(header in ".{0,80}", body in prop::collection::vec(any::<u8>(), 0..64), ts in ".{0,12}") {
        let _ = signature::verify_whatsapp_signature("secret", &body, &header);
        let _ = signature::check_linq("secret", &ts, &header, &body, 1_800_000_000);
        let _ = signature::check_nextcloud("secret", &ts, &header, &body);
        let _ = signature::SecretHash::of("secret").check(&header);
    }
}
