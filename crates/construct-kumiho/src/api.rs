//! The calls the gateway makes to Kumiho (spec: upstream-rest §1.5), as a trait with two implementations:
//! [`crate::HttpKumiho`] (a Kumiho server) and [`crate::LocalKumiho`] (the embedded store).

use async_trait::async_trait;
use construct_core::{ApiError, ErrorCode};
use http::StatusCode;

use crate::model::{
    Artifact, BatchRevisions, BundleMembers, Direction, Edge, Item, ItemQuery, Metadata, Project, Revision,
    SearchQuery, SearchResult, Space,
};

/// 503 when Kumiho cannot be reached.
pub const KUMIHO_UNAVAILABLE: ErrorCode = ErrorCode::new("KUMIHO_UNAVAILABLE");
/// 502 when Kumiho answered something unusable, or refused the gateway's own credentials.
pub const KUMIHO_BAD_GATEWAY: ErrorCode = ErrorCode::new("KUMIHO_BAD_GATEWAY");

/// Why a Kumiho call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KumihoError {
    /// Transport failure or timeout.
    #[error("Kumiho is unreachable: {0}")]
    Unreachable(String),
    /// Kumiho answered a non-2xx status.
    #[error("Kumiho answered {status}: {body}")]
    Api {
        /// The status.
        status: u16,
        /// Its body (a message; never a credential).
        body: String,
    },
    /// A 2xx whose body did not have the expected shape.
    #[error("unexpected answer from Kumiho: {0}")]
    Decode(String),
}

impl KumihoError {
    /// A 404 with this message.
    pub fn not_found(what: impl Into<String>) -> Self {
        KumihoError::Api { status: 404, body: what.into() }
    }

    /// A 409 with this message.
    pub fn conflict(what: impl Into<String>) -> Self {
        KumihoError::Api { status: 409, body: what.into() }
    }

    /// A 400 with this message.
    pub fn invalid(what: impl Into<String>) -> Self {
        KumihoError::Api { status: 400, body: what.into() }
    }

    /// Whether Kumiho said 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, KumihoError::Api { status: 404, .. })
    }

    /// Whether Kumiho said 409.
    pub fn is_conflict(&self) -> bool {
        matches!(self, KumihoError::Api { status: 409, .. })
    }
}

impl From<KumihoError> for ApiError {
    /// Spec §0: unreachable → 503; Kumiho's 4xx/5xx keep their status except 401/403, which become 502 so a
    /// browser never mistakes the gateway's credentials for its own; an unusable answer → 502.
    fn from(error: KumihoError) -> Self {
        match error {
            KumihoError::Unreachable(why) => {
                tracing::warn!(%why, "Kumiho unreachable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    KUMIHO_UNAVAILABLE,
                    "Kumiho service unavailable",
                )
            }
            KumihoError::Api { status, body } => {
                let status = StatusCode::from_u16(status)
                    .ok()
                    .filter(|s| {
                        (s.is_client_error() || s.is_server_error()) && !matches!(s.as_u16(), 401 | 403)
                    })
                    .unwrap_or(StatusCode::BAD_GATEWAY);
                let code = match status.as_u16() {
                    404 => ErrorCode::NOT_FOUND,
                    409 => ErrorCode::CONFLICT,
                    400 | 422 => ErrorCode::BAD_REQUEST,
                    _ => KUMIHO_BAD_GATEWAY,
                };
                ApiError::new(status, code, format!("Kumiho: {body}"))
            }
            KumihoError::Decode(why) => {
                tracing::warn!(%why, "bad answer from Kumiho");
                ApiError::new(StatusCode::BAD_GATEWAY, KUMIHO_BAD_GATEWAY, "Bad response from Kumiho")
            }
        }
    }
}

/// Result of a Kumiho call.
pub type KumihoResult<T> = Result<T, KumihoError>;

/// Every Kumiho call the gateway makes.
#[async_trait]
pub trait KumihoApi: Send + Sync {
    /// Creates a project (409 if it exists).
    async fn create_project(&self, name: &str, description: Option<&str>) -> KumihoResult<Project>;
    /// Every project.
    async fn list_projects(&self) -> KumihoResult<Vec<Project>>;
    /// Creates `name` under `parent_path` (409 if it exists, 404 without the parent).
    async fn create_space(&self, parent_path: &str, name: &str) -> KumihoResult<Space>;
    /// Spaces under `parent_path`, all levels when `recursive`.
    async fn list_spaces(&self, parent_path: &str, recursive: bool) -> KumihoResult<Vec<Space>>;
    /// Items of a space.
    async fn list_items(&self, query: &ItemQuery) -> KumihoResult<Vec<Item>>;
    /// Creates an item (409 if (space, name, kind) exists).
    async fn create_item(
        &self,
        space_path: &str,
        item_name: &str,
        kind: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Item>;
    /// The item at `kref`, deprecated or not.
    async fn get_item(&self, kref: &str) -> KumihoResult<Item>;
    /// Sets or clears an item's deprecation.
    async fn deprecate_item(&self, kref: &str, deprecated: bool) -> KumihoResult<Item>;
    /// Deletes an item with its revisions, tags, artifacts, edges and memberships.
    async fn delete_item(&self, kref: &str) -> KumihoResult<()>;
    /// Full-text search over item names, kinds and metadata.
    async fn search(&self, query: &SearchQuery) -> KumihoResult<Vec<SearchResult>>;
    /// A new revision; it becomes `latest`.
    async fn create_revision(&self, item_kref: &str, metadata: &Metadata) -> KumihoResult<Revision>;
    /// Moves `tag` onto the revision at `revision_kref`.
    async fn tag_revision(&self, revision_kref: &str, tag: &str) -> KumihoResult<()>;
    /// The revision `tag` points at (`latest` is the newest); 404 when the tag does not exist.
    async fn revision_by_tag(&self, item_kref: &str, tag: &str) -> KumihoResult<Revision>;
    /// The revision named by a kref with `?r=N` (or `?t=tag`).
    async fn revision_by_kref(&self, kref: &str) -> KumihoResult<Revision>;
    /// The newest revision.
    async fn latest_revision(&self, item_kref: &str) -> KumihoResult<Revision>;
    /// Every revision of an item, oldest first.
    async fn list_revisions(&self, item_kref: &str) -> KumihoResult<Vec<Revision>>;
    /// The `tag` revision of each item; missing ones are listed in `not_found` when `allow_partial`,
    /// otherwise the call fails with 404.
    async fn batch_revisions(
        &self,
        item_krefs: &[String],
        tag: &str,
        allow_partial: bool,
    ) -> KumihoResult<BatchRevisions>;
    /// Creates a bundle (an item of kind `bundle`).
    async fn create_bundle(
        &self,
        space_path: &str,
        bundle_name: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Item>;
    /// The bundle at `kref`.
    async fn get_bundle(&self, kref: &str) -> KumihoResult<Item>;
    /// Deletes a bundle.
    async fn delete_bundle(&self, kref: &str) -> KumihoResult<()>;
    /// Adds a member (a new bundle revision).
    async fn add_bundle_member(
        &self,
        bundle_kref: &str,
        item_kref: &str,
        metadata: &Metadata,
    ) -> KumihoResult<()>;
    /// Removes a member (a new bundle revision).
    async fn remove_bundle_member(&self, bundle_kref: &str, item_kref: &str) -> KumihoResult<()>;
    /// The members of a bundle.
    async fn bundle_members(&self, bundle_kref: &str) -> KumihoResult<BundleMembers>;
    /// Creates an edge between two revisions.
    async fn create_edge(
        &self,
        source: &str,
        target: &str,
        edge_type: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Edge>;
    /// Edges of a revision.
    async fn list_edges(
        &self,
        revision_kref: &str,
        edge_type: Option<&str>,
        direction: Direction,
    ) -> KumihoResult<Vec<Edge>>;
    /// Deletes an edge.
    async fn delete_edge(&self, source: &str, target: &str, edge_type: &str) -> KumihoResult<()>;
    /// Attaches an artifact to a revision.
    async fn create_artifact(
        &self,
        revision_kref: &str,
        name: &str,
        location: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Artifact>;
    /// Artifacts of a revision.
    async fn list_artifacts(&self, revision_kref: &str) -> KumihoResult<Vec<Artifact>>;
    /// One artifact of a revision.
    async fn artifact(&self, revision_kref: &str, name: &str) -> KumihoResult<Artifact>;
}
