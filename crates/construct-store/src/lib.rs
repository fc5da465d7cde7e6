//! # construct-store
//!
//! Implementations of the state traits of `construct-core`:
//! - [`SqliteStore`]: the embedded default, one SQLite file under the data directory, in WAL mode with
//!   `synchronous=FULL` (a token returned to a client is on disk first), versioned migrations, and every
//!   query run on tokio's blocking pool so the async workers never wait on disk;
//! - [`MemoryStore`]: the same semantics in memory, for unit tests and throwaway gateways;
//! - [`audit`]: the audit log's hash chain, with [`MemoryAuditLog`] (SQLite implements it too);
//! - [`SqliteWorkQueue`]: durable webhook work, deduplicated by provider message id, serialised per session
//!   ([`MemoryWorkQueue`] for tests);
//! - [`MemoryIdempotency`] and [`SqliteIdempotency`]: idempotency keys and stored responses, bounded and
//!   TTL'd;
//! - chat sessions ([`construct_core::sessions::SessionStore`], which includes the conversation history):
//!   in SQLite, and [`MemorySessions`], bounded;
//! - human approvals ([`construct_core::approvals::ApprovalStore`]) in SQLite and [`MemoryApprovals`];
//! - model usage ([`construct_core::usage::UsageStore`]) in SQLite and [`MemoryUsage`];
//! - canvas frames ([`construct_core::canvas::CanvasStore`]) in SQLite and [`MemoryCanvas`];
//! - [`MemoryEventBus`]: the in-process event bus (replay ring plus bounded broadcast);
//! - [`CachedDeviceStore`]: a read-through cache for the per-request lookups, invalidated by the store's
//!   revision.
//!
//! Both pass one contract suite (`tests/contract.rs`). A Redis implementation for replicas will join them.
//!
//! Invariants: no HTTP types, no knowledge of routes or handlers; nothing here decides policy (who may
//! pair, which scopes) beyond what the trait documents.

mod approvals;
pub mod audit;
mod cached;
mod canvas;
mod events;
mod idempotency;
mod memory;
mod memory_queue;
mod memory_sessions;
mod sqlite;
mod sqlite_idempotency;
mod sqlite_queue;
mod sqlite_sessions;
mod usage;

pub use approvals::MemoryApprovals;
pub use audit::MemoryAuditLog;
pub use cached::CachedDeviceStore;
pub use canvas::MemoryCanvas;
pub use events::MemoryEventBus;
pub use idempotency::MemoryIdempotency;
pub use memory::MemoryStore;
pub use memory_queue::MemoryWorkQueue;
pub use memory_sessions::MemorySessions;
pub use sqlite::{SqliteStore, StoreOpenError};
pub use sqlite_idempotency::SqliteIdempotency;
pub use sqlite_queue::SqliteWorkQueue;
pub use usage::MemoryUsage;
