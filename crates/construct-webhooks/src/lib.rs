//! # construct-webhooks
//!
//! The messaging channels' way in: WhatsApp Cloud, WATI, Linq, Nextcloud Talk, Gmail push and the generic
//! `/webhook`. So far it serves [`generic`] (`POST /webhook`: a prompt in, the agent's answer out) and holds
//! the two pure layers every channel route stands on:
//! - [`signature`]: verification of each provider's signature or shared secret, on the raw body bytes, in
//!   constant time (including the public [`verify_whatsapp_signature`]);
//! - [`parse`]: each provider's payload turned into [`parse::InboundMessage`]s, with allowlists and
//!   self/bot filters applied, and never a panic on arbitrary JSON.
//!
//! Invariants: signatures are checked before any parsing; no secret is ever logged or echoed.

pub mod generic;
pub mod parse;
pub mod signature;

pub use generic::{WebhookShared, WebhookState, route_groups};
pub use parse::{InboundMessage, WatiVerifyQuery, WebhookBody, WhatsAppVerifyQuery};
pub use signature::verify_whatsapp_signature;
