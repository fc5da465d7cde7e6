//! # construct-webhooks
//!
//! The messaging channels' way in: WhatsApp Cloud, WATI, Linq, Nextcloud Talk, Gmail push and the generic
//! `/webhook`.
//! - [`generic`]: `POST /webhook`, a prompt in and the agent's answer out, synchronously;
//! - [`channels`]: the channel routes, which verify a delivery, queue its messages and answer at once;
//! - [`worker`]: the workers that run the agent for queued messages and send the replies ([`reply`]);
//! - [`conversation`]: one agent turn with a session's history, as both paths run it;
//! - [`signature`]: each provider's signature or shared secret, checked on the raw body bytes in constant
//!   time (including the public [`verify_whatsapp_signature`]);
//! - [`parse`]: each provider's payload turned into [`parse::InboundMessage`]s, with allowlists and
//!   self/bot filters applied, and never a panic on arbitrary JSON;
//! - [`openapi`]: this crate's part of the gateway's OpenAPI document ([`ApiDoc`]).
//!
//! Invariants: signatures are checked before any parsing; no secret is ever logged or echoed; a delivery
//! acknowledged to a provider is in the work queue.

pub mod channels;
pub mod conversation;
pub mod generic;
pub mod openapi;
pub mod parse;
pub mod reply;
pub mod signature;
pub mod worker;

pub use channels::ChannelsState;
pub use conversation::Conversations;
pub use generic::{WebhookShared, WebhookState};
pub use openapi::ApiDoc;
pub use parse::{InboundMessage, WatiVerifyQuery, WebhookBody, WhatsAppVerifyQuery};
pub use reply::{Replier, RetryPolicy};
pub use signature::verify_whatsapp_signature;
pub use worker::{WorkerPool, WorkerSettings, Workers};
