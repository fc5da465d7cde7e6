//! `LocalKumiho`: the embedded Kumiho, in SQLite (`kumiho.db` under the data directory), with the semantics
//! the gateway relies on: sequential revision numbers, the implicit `latest`, tags that move, 409 on
//! duplicate projects, spaces and items, soft deprecation, hard deletion that takes revisions, tags,
//! artifacts, edges and memberships with it, bundles whose every membership change is a revision, edges by
//! direction and type, full-text search (FTS5), and batch lookups with `allow_partial`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::{KumihoApi, KumihoError, KumihoResult};
use crate::kref::{Kref, KrefError, space_path};
use crate::model::{
    Artifact, BatchRevisions, BundleMember, BundleMembers, Direction, Edge, Item, ItemQuery, Metadata,
    Project, Revision, SearchQuery, SearchResult, Space,
};

/// The file name under the data directory.
pub const DB_FILE: &str = "kumiho.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY, description TEXT, deprecated INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spaces (
    path TEXT PRIMARY KEY, name TEXT NOT NULL, parent_path TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS spaces_parent ON spaces (parent_path);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY, kref TEXT NOT NULL UNIQUE, space_path TEXT NOT NULL, item_name TEXT NOT NULL,
    kind TEXT NOT NULL, deprecated INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, metadata TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS items_space ON items (space_path, item_name);
CREATE TABLE IF NOT EXISTS revisions (
    id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    number INTEGER NOT NULL, metadata TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (item_id, number));
CREATE TABLE IF NOT EXISTS tags (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE, tag TEXT NOT NULL,
    revision_id INTEGER NOT NULL REFERENCES revisions (id) ON DELETE CASCADE, PRIMARY KEY (item_id, tag));
CREATE TABLE IF NOT EXISTS artifacts (
    revision_id INTEGER NOT NULL REFERENCES revisions (id) ON DELETE CASCADE, name TEXT NOT NULL,
    location TEXT NOT NULL, metadata TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (revision_id, name));
CREATE TABLE IF NOT EXISTS edges (
    source_revision INTEGER NOT NULL REFERENCES revisions (id) ON DELETE CASCADE,
    target_revision INTEGER NOT NULL REFERENCES revisions (id) ON DELETE CASCADE,
    edge_type TEXT NOT NULL, metadata TEXT, created_at TEXT NOT NULL,
    PRIMARY KEY (source_revision, target_revision, edge_type));
CREATE INDEX IF NOT EXISTS edges_target ON edges (target_revision);
CREATE TABLE IF NOT EXISTS bundle_members (
    bundle_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    added_at TEXT NOT NULL, added_in_revision INTEGER, PRIMARY KEY (bundle_id, member_id));
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5 (name, kind, body, tokenize = 'unicode61');
";

/// See the module documentation. Cheap to clone.
#[derive(Clone)]
pub struct LocalKumiho {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for LocalKumiho {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKumiho").finish_non_exhaustive()
    }
}

fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}

fn sql(error: rusqlite::Error) -> KumihoError {
    KumihoError::Unreachable(format!("embedded store: {error}"))
}

fn bad_kref(error: KrefError) -> KumihoError {
    KumihoError::invalid(error.to_string())
}

fn to_json(metadata: &Metadata) -> String {
    serde_json::to_string(metadata).unwrap_or_else(|_| "{}".to_owned())
}

fn from_json(raw: &str) -> Metadata {
    serde_json::from_str(raw).unwrap_or_default()
}

fn name_ok(name: &str, what: &str) -> KumihoResult<()> {
    let valid = !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 256
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '&' | '#' | '='));
    if valid { Ok(()) } else { Err(KumihoError::invalid(format!("invalid {what} {name:?}"))) }
}

const ITEM_COLUMNS: &str = "id, kref, item_name, kind, deprecated, created_at, metadata";

fn item_from_row(row: &Row<'_>) -> rusqlite::Result<(i64, Item)> {
    let (item_name, kind): (String, String) = (row.get(2)?, row.get(3)?);
    Ok((
        row.get(0)?,
        Item {
            kref: row.get(1)?,
            name: format!("{item_name}.{kind}"),
            item_name,
            kind,
            deprecated: row.get::<_, i64>(4)? != 0,
            created_at: row.get(5)?,
            metadata: from_json(&row.get::<_, String>(6)?),
        },
    ))
}

/// An item by kref (any revision/tag part ignored).
fn item(c: &Connection, kref: &str) -> KumihoResult<(i64, Item)> {
    let parsed = Kref::parse(kref).map_err(bad_kref)?;
    let key = parsed.item().to_string();
    c.query_row(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE kref = ?1"), params![key], item_from_row)
        .optional()
        .map_err(sql)?
        .ok_or_else(|| KumihoError::not_found(format!("item {key} not found")))
}

struct RevisionRow {
    id: i64,
    revision: Revision,
}

fn revision_from(
    c: &Connection,
    item_id: i64,
    item_kref: &str,
    row: (i64, i32, String, String),
) -> KumihoResult<RevisionRow> {
    let (id, number, metadata, created_at) = row;
    let max: i32 = c
        .query_row("SELECT MAX(number) FROM revisions WHERE item_id = ?1", params![item_id], |r| r.get(0))
        .map_err(sql)?;
    let mut stmt =
        c.prepare_cached("SELECT tag FROM tags WHERE revision_id = ?1 ORDER BY tag").map_err(sql)?;
    let mut tags: Vec<String> =
        stmt.query_map(params![id], |r| r.get(0)).map_err(sql)?.collect::<Result<_, _>>().map_err(sql)?;
    let latest = number == max;
    if latest {
        tags.insert(0, "latest".to_owned());
    }
    Ok(RevisionRow {
        id,
        revision: Revision {
            kref: format!("{item_kref}?r={number}"),
            item_kref: item_kref.to_owned(),
            number,
            latest,
            tags,
            metadata: from_json(&metadata),
            deprecated: false,
            created_at: Some(created_at),
        },
    })
}

fn revision_where(
    c: &Connection,
    item_id: i64,
    item_kref: &str,
    clause: &str,
    arg: &dyn rusqlite::ToSql,
) -> KumihoResult<Option<RevisionRow>> {
    let row = c
        .query_row(
            &format!(
                "SELECT id, number, metadata, created_at FROM revisions WHERE item_id = ?1 AND {clause}"
            ),
            params![item_id, arg],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(sql)?;
    row.map(|row| revision_from(c, item_id, item_kref, row)).transpose()
}

/// The revision a kref names: `?r=N`, `?t=tag` (`latest` included), or the newest when neither is given.
fn revision(c: &Connection, kref: &str) -> KumihoResult<RevisionRow> {
    let parsed = Kref::parse(kref).map_err(bad_kref)?;
    let (item_id, item) = item(c, kref)?;
    let found = match (&parsed.revision, parsed.tag.as_deref()) {
        (Some(number), _) => revision_where(c, item_id, &item.kref, "number = ?2", &i64::from(*number))?,
        (None, Some(tag)) => tagged(c, item_id, &item.kref, tag)?,
        (None, None) => tagged(c, item_id, &item.kref, "latest")?,
    };
    found.ok_or_else(|| KumihoError::not_found(format!("no such revision: {kref}")))
}

fn tagged(c: &Connection, item_id: i64, item_kref: &str, tag: &str) -> KumihoResult<Option<RevisionRow>> {
    if tag == "latest" {
        return revision_where(
            c,
            item_id,
            item_kref,
            "number = (SELECT MAX(number) FROM revisions WHERE item_id = ?1) AND ?2 IS NOT NULL",
            &1,
        );
    }
    revision_where(
        c,
        item_id,
        item_kref,
        "id = (SELECT revision_id FROM tags WHERE item_id = ?1 AND tag = ?2)",
        &tag,
    )
}

fn space_exists(c: &Connection, path: &str) -> KumihoResult<bool> {
    let segments = space_path(path).map_err(bad_kref)?;
    if segments.len() == 1 {
        return c
            .query_row("SELECT 1 FROM projects WHERE name = ?1", params![segments[0]], |_| Ok(()))
            .optional()
            .map(|f| f.is_some())
            .map_err(sql);
    }
    c.query_row("SELECT 1 FROM spaces WHERE path = ?1", params![format!("/{}", segments.join("/"))], |_| {
        Ok(())
    })
    .optional()
    .map(|f| f.is_some())
    .map_err(sql)
}

fn canonical_space(path: &str) -> KumihoResult<String> {
    Ok(format!("/{}", space_path(path).map_err(bad_kref)?.join("/")))
}

/// Rewrites an item's search document: its name, kind, and the values of its metadata and latest revision.
fn index(c: &Connection, item_id: i64) -> KumihoResult<()> {
    let (name, kind, metadata): (String, String, String) = c
        .query_row("SELECT item_name, kind, metadata FROM items WHERE id = ?1", params![item_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(sql)?;
    let latest: Option<String> = c
        .query_row(
            "SELECT metadata FROM revisions WHERE item_id = ?1 ORDER BY number DESC LIMIT 1",
            params![item_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    let mut body: Vec<String> = from_json(&metadata).into_values().collect();
    body.extend(latest.map(|m| from_json(&m).into_values().collect::<Vec<_>>()).unwrap_or_default());
    c.execute("DELETE FROM items_fts WHERE rowid = ?1", params![item_id]).map_err(sql)?;
    c.execute(
        "INSERT INTO items_fts (rowid, name, kind, body) VALUES (?1, ?2, ?3, ?4)",
        params![item_id, name, kind, body.join("\n")],
    )
    .map_err(sql)?;
    Ok(())
}

fn edge_from_row(row: &Row<'_>) -> rusqlite::Result<Edge> {
    let metadata: Option<String> = row.get(3)?;
    Ok(Edge {
        source_kref: format!("{}?r={}", row.get::<_, String>(0)?, row.get::<_, i32>(1)?),
        target_kref: format!("{}?r={}", row.get::<_, String>(5)?, row.get::<_, i32>(6)?),
        edge_type: row.get(2)?,
        metadata: metadata.map(|m| from_json(&m)),
        created_at: row.get(4)?,
    })
}

const EDGE_SELECT: &str =
    "SELECT si.kref, sr.number, e.edge_type, e.metadata, e.created_at, ti.kref, tr.number
     FROM edges e
     JOIN revisions sr ON sr.id = e.source_revision JOIN items si ON si.id = sr.item_id
     JOIN revisions tr ON tr.id = e.target_revision JOIN items ti ON ti.id = tr.item_id";

fn artifact_from(revision_kref: &str, item_kref: &str, row: &Row<'_>) -> rusqlite::Result<Artifact> {
    let name: String = row.get(0)?;
    Ok(Artifact {
        kref: format!("{revision_kref}&a={name}"),
        name,
        location: row.get(1)?,
        revision_kref: revision_kref.to_owned(),
        item_kref: Some(item_kref.to_owned()),
        deprecated: false,
        created_at: row.get(3)?,
        metadata: from_json(&row.get::<_, String>(2)?),
    })
}

/// FTS5 query from free text: each word quoted (so no query syntax is possible) and prefix-matched.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

impl LocalKumiho {
    /// Opens (creating if needed) `kumiho.db` in `data_dir`.
    pub fn open_in(data_dir: &Path) -> Result<Self, KumihoError> {
        Self::open(&data_dir.join(DB_FILE))
    }

    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, KumihoError> {
        let conn = Connection::open(path).map_err(sql)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
        )
        .map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// An in-memory store (tests).
    pub fn in_memory() -> Result<Self, KumihoError> {
        let conn = Connection::open_in_memory().map_err(sql)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;").map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    async fn run<T, F>(&self, f: F) -> KumihoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> KumihoResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut conn =
                conn.lock().map_err(|_| KumihoError::Unreachable("embedded store poisoned".into()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| KumihoError::Unreachable(format!("embedded store task failed: {e}")))?
    }

    /// Runs `f` in one immediate transaction, committed only when it succeeds.
    async fn write<T, F>(&self, f: F) -> KumihoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> KumihoResult<T> + Send + 'static,
    {
        self.run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sql)?;
            let out = f(&tx)?;
            tx.commit().map_err(sql)?;
            Ok(out)
        })
        .await
    }
}

fn create_item_in(
    c: &Connection,
    space: &str,
    name: &str,
    kind: &str,
    metadata: &Metadata,
) -> KumihoResult<Item> {
    name_ok(name, "item name")?;
    name_ok(kind, "kind")?;
    let space = canonical_space(space)?;
    if space_path(&space).map_err(bad_kref)?.len() < 2 {
        return Err(KumihoError::invalid("items live in a space below the project"));
    }
    if !space_exists(c, &space)? {
        return Err(KumihoError::not_found(format!("space {space} not found")));
    }
    let kref = format!("kref:/{space}/{name}.{kind}");
    Kref::parse(&kref).map_err(bad_kref)?;
    let inserted = c.execute(
        "INSERT INTO items (kref, space_path, item_name, kind, created_at, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (kref) DO NOTHING",
        params![kref, space, name, kind, now(), to_json(metadata)],
    )
    .map_err(sql)?;
    if inserted == 0 {
        return Err(KumihoError::conflict(format!("item {kref} already exists")));
    }
    let id = c.last_insert_rowid();
    index(c, id)?;
    item(c, &kref).map(|(_, item)| item)
}

fn new_revision(
    c: &Connection,
    item_id: i64,
    item_kref: &str,
    metadata: &Metadata,
) -> KumihoResult<Revision> {
    let next: i32 = c
        .query_row(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM revisions WHERE item_id = ?1",
            params![item_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    c.execute(
        "INSERT INTO revisions (item_id, number, metadata, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![item_id, next, to_json(metadata), now()],
    )
    .map_err(sql)?;
    index(c, item_id)?;
    revision_where(c, item_id, item_kref, "number = ?2", &next)?
        .map(|r| r.revision)
        .ok_or_else(|| KumihoError::Unreachable("revision vanished".into()))
}

fn bundle(c: &Connection, kref: &str) -> KumihoResult<(i64, Item)> {
    let (id, item) = item(c, kref)?;
    if item.kind != "bundle" {
        return Err(KumihoError::not_found(format!("{} is not a bundle", item.kref)));
    }
    Ok((id, item))
}

#[async_trait]
impl KumihoApi for LocalKumiho {
    async fn create_project(&self, name: &str, description: Option<&str>) -> KumihoResult<Project> {
        let (name, description) = (name.to_owned(), description.map(str::to_owned));
        self.write(move |c| {
            name_ok(&name, "project name")?;
            let created_at = now();
            let inserted = c
                .execute(
                    "INSERT INTO projects (name, description, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
                    params![name, description, created_at],
                )
                .map_err(sql)?;
            if inserted == 0 {
                return Err(KumihoError::conflict(format!("project {name} already exists")));
            }
            Ok(Project { name, description, deprecated: false, created_at: Some(created_at) })
        })
        .await
    }

    async fn list_projects(&self) -> KumihoResult<Vec<Project>> {
        self.run(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT name, description, deprecated, created_at FROM projects ORDER BY name",
                )
                .map_err(sql)?;
            stmt.query_map([], |r| {
                Ok(Project {
                    name: r.get(0)?,
                    description: r.get(1)?,
                    deprecated: r.get::<_, i64>(2)? != 0,
                    created_at: r.get(3)?,
                })
            })
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)
        })
        .await
    }

    async fn create_space(&self, parent_path: &str, name: &str) -> KumihoResult<Space> {
        let (parent, name) = (parent_path.to_owned(), name.to_owned());
        self.write(move |c| {
            name_ok(&name, "space name")?;
            let parent = canonical_space(&parent)?;
            if !space_exists(c, &parent)? {
                return Err(KumihoError::not_found(format!("space {parent} not found")));
            }
            let path = format!("{parent}/{name}");
            let created_at = now();
            let inserted = c
                .execute(
                    "INSERT INTO spaces (path, name, parent_path, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (path) DO NOTHING",
                    params![path, name, parent, created_at],
                )
                .map_err(sql)?;
            if inserted == 0 {
                return Err(KumihoError::conflict(format!("space {path} already exists")));
            }
            Ok(Space { path, name, parent_path: Some(parent), created_at: Some(created_at) })
        })
        .await
    }

    async fn list_spaces(&self, parent_path: &str, recursive: bool) -> KumihoResult<Vec<Space>> {
        let parent = parent_path.to_owned();
        self.run(move |c| {
            let parent = canonical_space(&parent)?;
            if !space_exists(c, &parent)? {
                return Err(KumihoError::not_found(format!("space {parent} not found")));
            }
            let query = if recursive {
                "SELECT path, name, parent_path, created_at FROM spaces
                 WHERE substr(path, 1, length(?1) + 1) = ?1 || '/' ORDER BY path"
            } else {
                "SELECT path, name, parent_path, created_at FROM spaces WHERE parent_path = ?1 ORDER BY path"
            };
            let mut stmt = c.prepare_cached(query).map_err(sql)?;
            stmt.query_map(params![parent], |r| {
                Ok(Space { path: r.get(0)?, name: r.get(1)?, parent_path: r.get(2)?, created_at: r.get(3)? })
            })
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)
        })
        .await
    }

    async fn list_items(&self, query: &ItemQuery) -> KumihoResult<Vec<Item>> {
        let query = query.clone();
        self.run(move |c| {
            let space = canonical_space(&query.space_path)?;
            if !space_exists(c, &space)? {
                return Err(KumihoError::not_found(format!("space {space} not found")));
            }
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {ITEM_COLUMNS} FROM items WHERE space_path = ?1
                       AND (?2 IS NULL OR instr(item_name, ?2) > 0) AND (?3 OR deprecated = 0)
                     ORDER BY item_name, kind LIMIT ?4 OFFSET ?5"
                ))
                .map_err(sql)?;
            let limit = query.limit.map_or(-1, i64::from);
            let offset = i64::from(query.offset.unwrap_or(0));
            stmt.query_map(params![space, query.name_filter, query.include_deprecated, limit, offset], |r| {
                item_from_row(r).map(|(_, item)| item)
            })
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)
        })
        .await
    }

    async fn create_item(
        &self,
        space: &str,
        name: &str,
        kind: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Item> {
        let (space, name, kind, metadata) =
            (space.to_owned(), name.to_owned(), kind.to_owned(), metadata.clone());
        self.write(move |c| create_item_in(c, &space, &name, &kind, &metadata)).await
    }

    async fn get_item(&self, kref: &str) -> KumihoResult<Item> {
        let kref = kref.to_owned();
        self.run(move |c| item(c, &kref).map(|(_, item)| item)).await
    }

    async fn deprecate_item(&self, kref: &str, deprecated: bool) -> KumihoResult<Item> {
        let kref = kref.to_owned();
        self.write(move |c| {
            let (id, _) = item(c, &kref)?;
            c.execute("UPDATE items SET deprecated = ?2 WHERE id = ?1", params![id, deprecated])
                .map_err(sql)?;
            item(c, &kref).map(|(_, item)| item)
        })
        .await
    }

    async fn delete_item(&self, kref: &str) -> KumihoResult<()> {
        let kref = kref.to_owned();
        self.write(move |c| {
            let (id, _) = item(c, &kref)?;
            // Revisions, tags, artifacts, edges and memberships go with it (foreign keys cascade).
            c.execute("DELETE FROM items WHERE id = ?1", params![id]).map_err(sql)?;
            c.execute("DELETE FROM items_fts WHERE rowid = ?1", params![id]).map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn search(&self, query: &SearchQuery) -> KumihoResult<Vec<SearchResult>> {
        let query = query.clone();
        self.run(move |c| {
            let Some(fts) = fts_query(&query.query) else { return Ok(Vec::new()) };
            let context = query.context.filter(|p| !p.is_empty()).map(|p| format!("kref://{p}/"));
            let kind = query.kind.filter(|k| !k.is_empty());
            let mut stmt = c
                .prepare_cached(
                    "SELECT i.id, i.kref, i.item_name, i.kind, i.deprecated, i.created_at, i.metadata, -bm25(items_fts)
                     FROM items_fts JOIN items i ON i.id = items_fts.rowid
                     WHERE items_fts MATCH ?1
                       AND (?2 IS NULL OR substr(i.kref, 1, length(?2)) = ?2)
                       AND (?3 IS NULL OR i.kind = ?3) AND (?4 OR i.deprecated = 0)
                     ORDER BY bm25(items_fts), i.kref LIMIT 100",
                )
                .map_err(sql)?;
            stmt.query_map(params![fts, context, kind, query.include_deprecated], |r| {
                Ok(SearchResult { item: item_from_row(r)?.1, score: r.get(7)? })
            })
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)
        })
        .await
    }

    async fn create_revision(&self, item_kref: &str, metadata: &Metadata) -> KumihoResult<Revision> {
        let (kref, metadata) = (item_kref.to_owned(), metadata.clone());
        self.write(move |c| {
            let (id, item) = item(c, &kref)?;
            new_revision(c, id, &item.kref, &metadata)
        })
        .await
    }

    async fn tag_revision(&self, revision_kref: &str, tag: &str) -> KumihoResult<()> {
        let (kref, tag) = (revision_kref.to_owned(), tag.to_owned());
        self.write(move |c| {
            name_ok(&tag, "tag")?;
            if tag == "latest" {
                return Err(KumihoError::invalid("`latest` always names the newest revision"));
            }
            let target = revision(c, &kref)?;
            let (item_id, _) = item(c, &kref)?;
            c.execute(
                "INSERT INTO tags (item_id, tag, revision_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT (item_id, tag) DO UPDATE SET revision_id = excluded.revision_id",
                params![item_id, tag, target.id],
            )
            .map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn revision_by_tag(&self, item_kref: &str, tag: &str) -> KumihoResult<Revision> {
        let (kref, tag) = (item_kref.to_owned(), tag.to_owned());
        self.run(move |c| {
            let (id, item) = item(c, &kref)?;
            tagged(c, id, &item.kref, &tag)?
                .map(|r| r.revision)
                .ok_or_else(|| KumihoError::not_found(format!("{} has no revision tagged {tag}", item.kref)))
        })
        .await
    }

    async fn revision_by_kref(&self, kref: &str) -> KumihoResult<Revision> {
        let kref = kref.to_owned();
        self.run(move |c| revision(c, &kref).map(|r| r.revision)).await
    }

    async fn latest_revision(&self, item_kref: &str) -> KumihoResult<Revision> {
        self.revision_by_tag(item_kref, "latest").await
    }

    async fn list_revisions(&self, item_kref: &str) -> KumihoResult<Vec<Revision>> {
        let kref = item_kref.to_owned();
        self.run(move |c| {
            let (id, item) = item(c, &kref)?;
            let mut stmt = c
                .prepare_cached("SELECT id, number, metadata, created_at FROM revisions WHERE item_id = ?1 ORDER BY number")
                .map_err(sql)?;
            let rows: Vec<(i64, i32, String, String)> = stmt
                .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?;
            rows.into_iter().map(|row| revision_from(c, id, &item.kref, row).map(|r| r.revision)).collect()
        })
        .await
    }

    async fn batch_revisions(
        &self,
        item_krefs: &[String],
        tag: &str,
        allow_partial: bool,
    ) -> KumihoResult<BatchRevisions> {
        let (krefs, tag) = (item_krefs.to_vec(), tag.to_owned());
        self.run(move |c| {
            let mut found =
                BatchRevisions { requested_count: krefs.len() as i32, ..BatchRevisions::default() };
            for kref in &krefs {
                let hit = match item(c, kref) {
                    Ok((id, item)) => tagged(c, id, &item.kref, &tag)?,
                    Err(error) if error.is_not_found() => None,
                    Err(error) => return Err(error),
                };
                match hit {
                    Some(row) => found.revisions.push(row.revision),
                    None if allow_partial => found.not_found.push(kref.clone()),
                    None => return Err(KumihoError::not_found(format!("no {tag} revision of {kref}"))),
                }
            }
            found.found_count = found.revisions.len() as i32;
            Ok(found)
        })
        .await
    }

    async fn create_bundle(
        &self,
        space_path: &str,
        bundle_name: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Item> {
        self.create_item(space_path, bundle_name, "bundle", metadata).await
    }

    async fn get_bundle(&self, kref: &str) -> KumihoResult<Item> {
        let kref = kref.to_owned();
        self.run(move |c| bundle(c, &kref).map(|(_, item)| item)).await
    }

    async fn delete_bundle(&self, kref: &str) -> KumihoResult<()> {
        let kref = kref.to_owned();
        self.write(move |c| {
            let (id, _) = bundle(c, &kref)?;
            c.execute("DELETE FROM items WHERE id = ?1", params![id]).map_err(sql)?;
            c.execute("DELETE FROM items_fts WHERE rowid = ?1", params![id]).map_err(sql)?;
            Ok(())
        })
        .await
    }

    async fn add_bundle_member(
        &self,
        bundle_kref: &str,
        item_kref: &str,
        metadata: &Metadata,
    ) -> KumihoResult<()> {
        let (bundle_kref, member_kref, metadata) =
            (bundle_kref.to_owned(), item_kref.to_owned(), metadata.clone());
        self.write(move |c| {
            let (bundle_id, bundle_item) = bundle(c, &bundle_kref)?;
            let (member_id, member) = item(c, &member_kref)?;
            let mut record = metadata.clone();
            record.insert("action".into(), "add".into());
            record.insert("member".into(), member.kref.clone());
            let revision = new_revision(c, bundle_id, &bundle_item.kref, &record)?;
            let inserted = c
                .execute(
                    "INSERT INTO bundle_members (bundle_id, member_id, added_at, added_in_revision) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT DO NOTHING",
                    params![bundle_id, member_id, now(), revision.number],
                )
                .map_err(sql)?;
            if inserted == 0 {
                return Err(KumihoError::conflict(format!("{} is already in {}", member.kref, bundle_item.kref)));
            }
            Ok(())
        })
        .await
    }

    async fn remove_bundle_member(&self, bundle_kref: &str, item_kref: &str) -> KumihoResult<()> {
        let (bundle_kref, member_kref) = (bundle_kref.to_owned(), item_kref.to_owned());
        self.write(move |c| {
            let (bundle_id, bundle_item) = bundle(c, &bundle_kref)?;
            let (member_id, member) = item(c, &member_kref)?;
            let removed = c
                .execute(
                    "DELETE FROM bundle_members WHERE bundle_id = ?1 AND member_id = ?2",
                    params![bundle_id, member_id],
                )
                .map_err(sql)?;
            if removed == 0 {
                return Err(KumihoError::not_found(format!(
                    "{} is not in {}",
                    member.kref, bundle_item.kref
                )));
            }
            let record = Metadata::from([("action".into(), "remove".into()), ("member".into(), member.kref)]);
            new_revision(c, bundle_id, &bundle_item.kref, &record).map(drop)
        })
        .await
    }

    async fn bundle_members(&self, bundle_kref: &str) -> KumihoResult<BundleMembers> {
        let kref = bundle_kref.to_owned();
        self.run(move |c| {
            let (bundle_id, _) = bundle(c, &kref)?;
            let mut stmt = c
                .prepare_cached(
                    "SELECT i.kref, m.added_at, m.added_in_revision FROM bundle_members m JOIN items i ON i.id = m.member_id
                     WHERE m.bundle_id = ?1 ORDER BY m.added_at, i.kref",
                )
                .map_err(sql)?;
            let members: Vec<BundleMember> = stmt
                .query_map(params![bundle_id], |r| {
                    Ok(BundleMember { item_kref: r.get(0)?, added_at: r.get(1)?, added_by: None, added_in_revision: r.get(2)? })
                })
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?;
            Ok(BundleMembers { total_count: Some(members.len() as i32), members })
        })
        .await
    }

    async fn create_edge(
        &self,
        source: &str,
        target: &str,
        edge_type: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Edge> {
        let (source, target, edge_type, metadata) =
            (source.to_owned(), target.to_owned(), edge_type.to_owned(), metadata.clone());
        self.write(move |c| {
            if edge_type.is_empty() || !edge_type.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
                return Err(KumihoError::invalid(format!("invalid edge type {edge_type:?}")));
            }
            let (from, to) = (revision(c, &source)?, revision(c, &target)?);
            let inserted = c
                .execute(
                    "INSERT INTO edges (source_revision, target_revision, edge_type, metadata, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    params![from.id, to.id, edge_type, (!metadata.is_empty()).then(|| to_json(&metadata)), now()],
                )
                .map_err(sql)?;
            if inserted == 0 {
                return Err(KumihoError::conflict("this edge already exists"));
            }
            c.query_row(
                &format!("{EDGE_SELECT} WHERE e.source_revision = ?1 AND e.target_revision = ?2 AND e.edge_type = ?3"),
                params![from.id, to.id, edge_type],
                edge_from_row,
            )
            .map_err(sql)
        })
        .await
    }

    async fn list_edges(
        &self,
        revision_kref: &str,
        edge_type: Option<&str>,
        direction: Direction,
    ) -> KumihoResult<Vec<Edge>> {
        let (kref, edge_type) =
            (revision_kref.to_owned(), edge_type.filter(|t| !t.is_empty()).map(str::to_owned));
        self.run(move |c| {
            let rev = revision(c, &kref)?;
            let side = match direction {
                Direction::Outgoing => "e.source_revision = ?1",
                Direction::Incoming => "e.target_revision = ?1",
                Direction::Both => "(e.source_revision = ?1 OR e.target_revision = ?1)",
            };
            let mut stmt = c
                .prepare_cached(&format!(
                    "{EDGE_SELECT} WHERE {side} AND (?2 IS NULL OR e.edge_type = ?2) ORDER BY e.created_at, si.kref, ti.kref"
                ))
                .map_err(sql)?;
            stmt.query_map(params![rev.id, edge_type], edge_from_row).map_err(sql)?.collect::<Result<_, _>>().map_err(sql)
        })
        .await
    }

    async fn delete_edge(&self, source: &str, target: &str, edge_type: &str) -> KumihoResult<()> {
        let (source, target, edge_type) = (source.to_owned(), target.to_owned(), edge_type.to_owned());
        self.write(move |c| {
            let (from, to) = (revision(c, &source)?, revision(c, &target)?);
            let removed = c
                .execute(
                    "DELETE FROM edges WHERE source_revision = ?1 AND target_revision = ?2 AND edge_type = ?3",
                    params![from.id, to.id, edge_type],
                )
                .map_err(sql)?;
            if removed == 0 {
                return Err(KumihoError::not_found("no such edge"));
            }
            Ok(())
        })
        .await
    }

    async fn create_artifact(
        &self,
        revision_kref: &str,
        name: &str,
        location: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Artifact> {
        let (kref, name, location, metadata) =
            (revision_kref.to_owned(), name.to_owned(), location.to_owned(), metadata.clone());
        self.write(move |c| {
            name_ok(&name, "artifact name")?;
            if location.trim().is_empty() {
                return Err(KumihoError::invalid("an artifact needs a location"));
            }
            let rev = revision(c, &kref)?;
            let inserted = c
                .execute(
                    "INSERT INTO artifacts (revision_id, name, location, metadata, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                    params![rev.id, name, location, to_json(&metadata), now()],
                )
                .map_err(sql)?;
            if inserted == 0 {
                return Err(KumihoError::conflict(format!("artifact {name} already exists on {}", rev.revision.kref)));
            }
            c.query_row(
                "SELECT name, location, metadata, created_at FROM artifacts WHERE revision_id = ?1 AND name = ?2",
                params![rev.id, name],
                |r| artifact_from(&rev.revision.kref, &rev.revision.item_kref, r),
            )
            .map_err(sql)
        })
        .await
    }

    async fn list_artifacts(&self, revision_kref: &str) -> KumihoResult<Vec<Artifact>> {
        let kref = revision_kref.to_owned();
        self.run(move |c| {
            let rev = revision(c, &kref)?;
            let mut stmt = c
                .prepare_cached("SELECT name, location, metadata, created_at FROM artifacts WHERE revision_id = ?1 ORDER BY name")
                .map_err(sql)?;
            stmt.query_map(params![rev.id], |r| artifact_from(&rev.revision.kref, &rev.revision.item_kref, r))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)
        })
        .await
    }

    async fn artifact(&self, revision_kref: &str, name: &str) -> KumihoResult<Artifact> {
        let (kref, name) = (revision_kref.to_owned(), name.to_owned());
        self.run(move |c| {
            let rev = revision(c, &kref)?;
            c.query_row(
                "SELECT name, location, metadata, created_at FROM artifacts WHERE revision_id = ?1 AND name = ?2",
                params![rev.id, name],
                |r| artifact_from(&rev.revision.kref, &rev.revision.item_kref, r),
            )
            .optional()
            .map_err(sql)?
            .ok_or_else(|| KumihoError::not_found(format!("artifact {name} not found on {}", rev.revision.kref)))
        })
        .await
    }
}
