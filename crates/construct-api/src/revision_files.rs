//! Bodies kept as one file per revision (skill markdown, workflow YAML), registered as the revision's
//! artifact and read back only from inside the artifact roots.
//!
//! Files live at `<first artifact root>/<dir>/<slug>/<revision>.<ext>`, written atomically. A revision never
//! shares a file with another (upstream pointed every skill revision at one mutable file), and a body is
//! never read from a location outside the roots, whatever the artifact in Kumiho says.

use std::path::{Path, PathBuf};

use construct_core::ApiError;
use construct_kumiho::model::{Item, Metadata, Revision};

use crate::ApiState;
use crate::artifact_body::{confine, location_path};

/// Where `GET /api/artifact-body` and revision bodies may be read from.
pub fn artifact_roots(state: &ApiState) -> Vec<PathBuf> {
    match &state.config().kumiho.artifact_roots {
        roots if roots.is_empty() => vec![state.data_dir.join("artifacts")],
        roots => roots.clone(),
    }
}

fn file_uri(path: &Path) -> String {
    url::Url::from_file_path(path)
        .map(|u| u.to_string())
        .unwrap_or_else(|()| format!("file://{}", path.display()))
}

/// One kind of revision body.
pub struct RevisionFiles {
    /// Directory under the artifact root.
    pub dir: &'static str,
    /// The artifact's name.
    pub artifact: &'static str,
    /// File extension.
    pub ext: &'static str,
    /// Metadata key older data kept the body in.
    pub legacy_key: &'static str,
}

impl RevisionFiles {
    /// The directory of an item's bodies.
    pub fn item_dir(&self, state: &ApiState, slug: &str) -> PathBuf {
        artifact_roots(state)[0].join(self.dir).join(slug)
    }

    async fn write(
        &self,
        state: &ApiState,
        slug: &str,
        number: i32,
        content: &str,
    ) -> std::io::Result<PathBuf> {
        let dir = self.item_dir(state, slug);
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(format!("{number}.{}", self.ext));
        let partial = dir.join(format!(".{number}.{}.partial", self.ext));
        tokio::fs::write(&partial, content).await?;
        tokio::fs::rename(&partial, &path).await?;
        Ok(path)
    }

    /// A new revision of `item` with `metadata` and `content` as its own file, then `published`.
    pub async fn publish(
        &self,
        state: &ApiState,
        item: &Item,
        metadata: &Metadata,
        content: &str,
    ) -> Result<Revision, ApiError> {
        let kumiho = &*state.kumiho;
        let revision = kumiho.create_revision(&item.kref, metadata).await?;
        let path = self.write(state, &item.item_name, revision.number, content).await.map_err(|error| {
            tracing::error!(%error, dir = self.dir, "cannot write a revision body");
            ApiError::internal()
        })?;
        kumiho.create_artifact(&revision.kref, self.artifact, &file_uri(&path), &Metadata::new()).await?;
        kumiho.tag_revision(&revision.kref, "published").await?;
        Ok(kumiho.revision_by_kref(&revision.kref).await?)
    }

    /// A revision's body: its file when that lies inside the artifact roots, else the artifact's or the
    /// revision's legacy metadata, else empty.
    pub async fn read(&self, state: &ApiState, revision: &Revision) -> Result<String, ApiError> {
        let artifact = match state.kumiho.artifact(&revision.kref, self.artifact).await {
            Ok(artifact) => Some(artifact),
            Err(error) if error.is_not_found() => None,
            Err(error) => return Err(error.into()),
        };
        if let Some(artifact) = &artifact {
            if let Ok(path) = location_path(&artifact.location) {
                match confine(&path, &artifact_roots(state)) {
                    Ok(path) => {
                        return tokio::fs::read_to_string(&path).await.map_err(|error| {
                            tracing::warn!(%error, "cannot read a revision body");
                            ApiError::internal()
                        });
                    }
                    Err(_) => {
                        tracing::warn!(location = %artifact.location, "body outside the artifact roots; not read")
                    }
                }
            }
            if let Some(content) = artifact.metadata.get(self.legacy_key) {
                return Ok(content.clone());
            }
        }
        Ok(revision.metadata.get(self.legacy_key).cloned().unwrap_or_default())
    }

    /// Creates item `slug` of `kind` in `/<project>/<space>` (creating those if needed) with its first,
    /// published revision. A failure after the item exists removes the item and its files: nothing
    /// half-made stays. `what` names the thing in the 409 (`A skill`).
    pub async fn create(
        &self,
        state: &ApiState,
        (project, space, kind, what): (&str, &str, &str, &'static str),
        slug: &str,
        metadata: &Metadata,
        content: &str,
    ) -> Result<(Item, Revision), ApiError> {
        let kumiho = &*state.kumiho;
        crate::graph::ensure_space(kumiho, project, space).await?;
        let item = kumiho
            .create_item(&format!("/{project}/{space}"), slug, kind, &Metadata::new())
            .await
            .map_err(crate::graph::taken(what, slug))?;
        match self.publish(state, &item, metadata, content).await {
            Ok(revision) => {
                state.kumiho_cache.invalidate();
                Ok((item, revision))
            }
            Err(error) => {
                self.remove(state, slug).await;
                if let Err(undo) = kumiho.delete_item(&item.kref).await {
                    tracing::warn!(error = %undo, kref = %item.kref, "cannot undo a partial create");
                }
                Err(error)
            }
        }
    }

    /// Removes an item's bodies (after the item is deleted).
    pub async fn remove(&self, state: &ApiState, slug: &str) {
        if let Err(error) = tokio::fs::remove_dir_all(self.item_dir(state, slug)).await
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(%error, dir = self.dir, "cannot remove a deleted item's files");
        }
    }

    /// A new published revision, with `content` as its body, of the item `raw_kref` names (of `kind`).
    pub async fn update_item(
        &self,
        state: &ApiState,
        raw_kref: &str,
        kind: &str,
        metadata: &Metadata,
        content: &str,
    ) -> Result<(Item, Revision), ApiError> {
        let kref = crate::graph::item_kref(raw_kref, kind)?;
        let item = state.kumiho.get_item(&kref).await?;
        let revision = self.publish(state, &item, metadata, content).await?;
        state.kumiho_cache.invalidate();
        Ok((item, revision))
    }

    /// Deletes the item `raw_kref` names (of `kind`) and its bodies (upstream left the files behind).
    pub async fn delete_item(&self, state: &ApiState, raw_kref: &str, kind: &str) -> Result<(), ApiError> {
        let kref = crate::graph::item_kref(raw_kref, kind)?;
        let item = state.kumiho.get_item(&kref).await?;
        state.kumiho.delete_item(&item.kref).await?;
        self.remove(state, &item.item_name).await;
        state.kumiho_cache.invalidate();
        Ok(())
    }

    /// Deprecates (or restores) the item `raw_kref` names; the item, its published (else latest) revision
    /// and that revision's body.
    pub async fn deprecate_item(
        &self,
        state: &ApiState,
        raw_kref: &str,
        kind: &str,
        deprecated: bool,
    ) -> Result<(Item, Option<Revision>, String), ApiError> {
        let kref = crate::graph::item_kref(raw_kref, kind)?;
        let item = state.kumiho.deprecate_item(&kref, deprecated).await?;
        let revision = crate::graph::one_published_or_latest(&*state.kumiho, &item.kref).await?;
        let body = match &revision {
            Some(revision) => self.read(state, revision).await?,
            None => String::new(),
        };
        state.kumiho_cache.invalidate();
        Ok((item, revision, body))
    }
}
