//! The Kumiho data model as it travels over the wire (spec: upstream-rest §1.4). Optional fields may be
//! absent or null; lists, maps and flags default when absent; unknown fields are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// String metadata, the payload store of items and revisions.
pub type Metadata = BTreeMap<String, String>;

/// A top-level namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Its name (also its root space, `/<name>`).
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Soft-deleted.
    #[serde(default)]
    pub deprecated: bool,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A folder of items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Space {
    /// `/<project>/<space>[/<sub>…]`.
    pub path: String,
    /// The last segment.
    pub name: String,
    /// The parent's path.
    #[serde(default)]
    pub parent_path: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A versioned identity, unique per (space, name, kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// `kref://<project>/<space…>/<item_name>.<kind>`.
    pub kref: String,
    /// Display name, `<item_name>.<kind>`.
    #[serde(default)]
    pub name: String,
    /// The name.
    pub item_name: String,
    /// The kind.
    pub kind: String,
    /// Soft-deleted.
    #[serde(default)]
    pub deprecated: bool,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Set at creation.
    #[serde(default)]
    pub metadata: Metadata,
}

/// An immutable numbered snapshot of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// The item kref plus `?r=N`.
    pub kref: String,
    /// The item's kref.
    pub item_kref: String,
    /// 1, 2, … per item.
    pub number: i32,
    /// Whether it is the newest.
    #[serde(default)]
    pub latest: bool,
    /// Tags pointing at it (`latest` included when it is the newest).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The payload.
    #[serde(default)]
    pub metadata: Metadata,
    /// Soft-deleted.
    #[serde(default)]
    pub deprecated: bool,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A named reference to external storage, attached to a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// The revision kref plus `&a=<name>`.
    pub kref: String,
    /// Its name.
    pub name: String,
    /// A URI or path; Kumiho never holds the bytes.
    pub location: String,
    /// The revision it belongs to.
    pub revision_kref: String,
    /// The item it belongs to.
    #[serde(default)]
    pub item_kref: Option<String>,
    /// Soft-deleted.
    #[serde(default)]
    pub deprecated: bool,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Extra data.
    #[serde(default)]
    pub metadata: Metadata,
}

/// A directed, typed relation between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// Revision kref.
    pub source_kref: String,
    /// Revision kref.
    pub target_kref: String,
    /// `REPORTS_TO`, `DEPENDS_ON`, …
    pub edge_type: String,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Extra data.
    #[serde(default)]
    pub metadata: Option<Metadata>,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The item.
    pub item: Item,
    /// Higher is better.
    #[serde(default)]
    pub score: f64,
}

/// One member of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleMember {
    /// The member item.
    pub item_kref: String,
    /// RFC 3339.
    #[serde(default)]
    pub added_at: Option<String>,
    /// Who added it.
    #[serde(default)]
    pub added_by: Option<String>,
    /// The bundle revision that added it.
    #[serde(default)]
    pub added_in_revision: Option<i32>,
}

/// A bundle's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleMembers {
    /// The members.
    #[serde(default)]
    pub members: Vec<BundleMember>,
    /// How many.
    #[serde(default)]
    pub total_count: Option<i32>,
}

/// The answer to a batch revision lookup.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BatchRevisions {
    /// Revisions found.
    #[serde(default)]
    pub revisions: Vec<Revision>,
    /// Item krefs without a matching revision.
    #[serde(default)]
    pub not_found: Vec<String>,
    /// How many were asked for.
    #[serde(default)]
    pub requested_count: i32,
    /// How many were found.
    #[serde(default)]
    pub found_count: i32,
}

/// Edge direction relative to a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Edges starting at it (0).
    Outgoing,
    /// Edges ending at it (1).
    Incoming,
    /// Both (2).
    #[default]
    Both,
}

impl Direction {
    /// The wire number.
    pub const fn code(self) -> u8 {
        match self {
            Direction::Outgoing => 0,
            Direction::Incoming => 1,
            Direction::Both => 2,
        }
    }

    /// From `0`/`1`/`2` or `out`/`outgoing`/`in`/`incoming`/`both`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "0" | "out" | "outgoing" => Some(Direction::Outgoing),
            "1" | "in" | "incoming" => Some(Direction::Incoming),
            "2" | "both" => Some(Direction::Both),
            _ => None,
        }
    }
}

/// Which items to list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemQuery {
    /// The space.
    pub space_path: String,
    /// Substring the name must contain.
    pub name_filter: Option<String>,
    /// Include soft-deleted items.
    pub include_deprecated: bool,
    /// At most this many.
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

/// A full-text search.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    /// The words.
    pub query: String,
    /// A project name to search within.
    pub context: Option<String>,
    /// Only this kind (empty: any).
    pub kind: Option<String>,
    /// Include soft-deleted items.
    pub include_deprecated: bool,
}
