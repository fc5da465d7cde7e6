//! This crate's part of the gateway's OpenAPI 3.1 document: [`ApiDoc`] lists the generic `POST /webhook`
//! and every channel route with its parameters, bodies, answers and errors.
//!
//! The operations are the `#[utoipa::path]` attributes on the handlers in [`generic`](crate::generic) and
//! [`channels`](crate::channels); the generic body and the handshakes' query strings are the handlers' own
//! types (`ToSchema`, `IntoParams`); answers built with `json!` are mirrored by the types of [`schemas`].
//! The channel routes are public (security `[{}]`): each delivery proves itself with the signature headers
//! its operation lists, checked on the raw bytes before anything is parsed. Every error is the shared
//! [`ErrorBody`](construct_core::openapi::ErrorBody) envelope. Nothing here changes what a handler does.

pub mod schemas;

use construct_core::openapi::Common;

/// This crate's routes, as an OpenAPI document part.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        crate::generic::generic,
        crate::channels::whatsapp_verify,
        crate::channels::whatsapp,
        crate::channels::wati_verify,
        crate::channels::wati,
        crate::channels::linq,
        crate::channels::nextcloud_talk,
        crate::channels::gmail,
    ),
    components(schemas(construct_core::openapi::ErrorBody)),
    modifiers(&Common),
    tags(
        (name = "webhook", description = "The generic webhook: a prompt in, the agent's answer out, synchronously."),
        (name = "channels", description = "Messaging channels' deliveries: public, verified per delivery on the raw bytes, queued and acknowledged at once; the workers answer through the channel's API. Each answers 404 `CHANNEL_NOT_CONFIGURED` while its channel is off."),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::OpenApi;

    use super::ApiDoc;

    fn names(operation: &serde_json::Value, place: &str) -> BTreeSet<String> {
        operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == place)
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn every_route_is_described_with_enveloped_errors_naming_codes() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let mut described = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("operations") {
                let here = format!("{method} {path}");
                let public = operation["security"] == serde_json::json!([{}]);
                assert_eq!(public, path != "/webhook", "{here}: security");
                let responses = operation["responses"].as_object().expect("responses");
                assert!(responses.contains_key("200") && responses.contains_key("429"), "{here}");
                if public {
                    let off = responses["404"]["description"].as_str().unwrap_or_default();
                    assert!(off.contains("`CHANNEL_NOT_CONFIGURED`"), "{here}");
                }
                for (status, response) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/ErrorBody", "{here} {status}");
                    let description = response["description"].as_str().unwrap_or_default();
                    assert!(description.contains('`'), "{here} {status}: the description names no code");
                }
                described.insert(here);
            }
        }
        let expected: BTreeSet<String> = [
            "post /webhook",
            "get /whatsapp",
            "post /whatsapp",
            "get /wati",
            "post /wati",
            "post /linq",
            "post /nextcloud-talk",
            "post /webhook/gmail",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(described, expected);
    }

    #[test]
    fn each_channel_names_what_it_verifies() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let op = |path: &str, method: &str| doc["paths"][path][method].clone();
        let set = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        assert_eq!(names(&op("/whatsapp", "post"), "header"), set(&["X-Hub-Signature-256"]));
        assert_eq!(names(&op("/wati", "post"), "header"), set(&["X-Wati-Secret"]));
        assert_eq!(names(&op("/wati", "post"), "query"), set(&["token"]));
        assert_eq!(
            names(&op("/linq", "post"), "header"),
            set(&["X-Webhook-Signature", "X-Webhook-Timestamp"])
        );
        assert_eq!(
            names(&op("/nextcloud-talk", "post"), "header"),
            set(&["X-Nextcloud-Talk-Random", "X-Nextcloud-Talk-Signature"])
        );
        assert_eq!(names(&op("/webhook/gmail", "post"), "header"), set(&["Authorization"]));
        assert_eq!(
            names(&op("/whatsapp", "get"), "query"),
            set(&["hub.challenge", "hub.mode", "hub.verify_token"])
        );
        assert_eq!(names(&op("/wati", "get"), "query"), set(&["hub.challenge", "hub.verify_token"]));
        for path in ["/whatsapp", "/wati"] {
            assert!(op(path, "get")["responses"]["200"]["content"]["text/plain"].is_object(), "{path}");
        }
    }
}
