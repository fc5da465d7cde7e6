//! # construct-kumiho
//!
//! Kumiho, the graph memory behind agents, skills, teams and workflows:
//! - [`model`]: the wire types (items, revisions, artifacts, edges, spaces, bundles);
//! - [`kref`]: one parser and formatter for `kref://project/space/name.kind?r=N&t=tag&a=artifact`, and
//!   `slugify`;
//! - [`api`]: the [`KumihoApi`] trait (every call the gateway makes) and its errors, with their mapping to
//!   HTTP statuses;
//! - [`HttpKumiho`]: a Kumiho server's client; [`LocalKumiho`]: the embedded default, in SQLite;
//! - [`router`]: the `/api/v1` REST contract served over any `KumihoApi`.
//!
//! Invariants: both implementations pass one contract suite (`tests/contract.rs`), run directly and
//! through HTTP; krefs are parsed in one place only.

pub mod api;
pub mod http;
pub mod kref;
pub mod local;
pub mod model;
pub mod router;

pub use api::{KumihoApi, KumihoError, KumihoResult};
pub use http::HttpKumiho;
pub use kref::{Kref, KrefError, slugify};
pub use local::LocalKumiho;
