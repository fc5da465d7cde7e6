//! `HttpKumiho`: the client of a Kumiho server (`[kumiho] api_url` + `/api/v1`, `X-Kumiho-Token`).
//!
//! 5 s to connect, 20 s in all, no retries. The endpoint and token can be replaced while the gateway runs
//! ([`HttpKumiho::set_endpoint`]); upstream froze them in a lazily built singleton, so configuration
//! changes were ignored. Errors carry Kumiho's message, never the token.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Client, Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::api::{KumihoApi, KumihoError, KumihoResult};
use crate::model::{
    Artifact, BatchRevisions, BundleMembers, Direction, Edge, Item, ItemQuery, Metadata, Project, Revision,
    SearchQuery, SearchResult, Space,
};
use crate::router::TOKEN_HEADER;

#[derive(Clone)]
struct Endpoint {
    base: String,
    token: String,
}

/// See the module documentation. Cheap to clone.
#[derive(Clone)]
pub struct HttpKumiho {
    http: Client,
    endpoint: Arc<RwLock<Endpoint>>,
}

impl std::fmt::Debug for HttpKumiho {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpKumiho").field("base", &self.base()).finish_non_exhaustive()
    }
}

fn base_of(api_url: &str) -> String {
    format!("{}/api/v1", api_url.trim().trim_end_matches('/'))
}

impl HttpKumiho {
    /// A client for the Kumiho at `api_url` presenting `token`.
    pub fn new(api_url: &str, token: &str) -> KumihoResult<Self> {
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .pool_max_idle_per_host(32)
            .build()
            .map_err(|e| KumihoError::Unreachable(format!("cannot build the HTTP client: {e}")))?;
        let endpoint = Endpoint { base: base_of(api_url), token: token.to_owned() };
        Ok(Self { http, endpoint: Arc::new(RwLock::new(endpoint)) })
    }

    /// Points the client at another Kumiho (or presents another token) from the next call on.
    pub fn set_endpoint(&self, api_url: &str, token: &str) {
        if let Ok(mut endpoint) = self.endpoint.write() {
            *endpoint = Endpoint { base: base_of(api_url), token: token.to_owned() };
        }
    }

    /// The API base, `…/api/v1`.
    pub fn base(&self) -> String {
        self.endpoint.read().map(|e| e.base.clone()).unwrap_or_default()
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let endpoint = self
            .endpoint
            .read()
            .map(|e| e.clone())
            .unwrap_or(Endpoint { base: String::new(), token: String::new() });
        self.http.request(method, format!("{}{path}", endpoint.base)).header(TOKEN_HEADER, endpoint.token)
    }

    async fn send(&self, request: RequestBuilder) -> KumihoResult<Vec<u8>> {
        let response =
            request.send().await.map_err(|e| KumihoError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        let bytes =
            response.bytes().await.map_err(|e| KumihoError::Unreachable(e.without_url().to_string()))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        // Kumiho's message: the `error` (or FastAPI's `detail`) field, else the raw text, bounded.
        let body = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| {
                v.get("error").or_else(|| v.get("detail")).and_then(Value::as_str).map(str::to_owned)
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(500).collect());
        Err(KumihoError::Api { status: status.as_u16(), body })
    }

    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> KumihoResult<T> {
        let body = self.send(request).await?;
        serde_json::from_slice(&body).map_err(|e| KumihoError::Decode(e.to_string()))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> KumihoResult<T> {
        self.call(self.request(Method::GET, path).query(query)).await
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> KumihoResult<T> {
        self.call(self.request(Method::POST, path).json(body)).await
    }

    async fn effect(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> KumihoResult<()> {
        let mut request = self.request(method, path).query(query);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await.map(drop)
    }
}

/// Metadata is omitted when empty (spec §1.3).
fn with_metadata(mut body: Value, metadata: &Metadata) -> Value {
    if !metadata.is_empty() {
        body["metadata"] = json!(metadata);
    }
    body
}

fn s(value: &str) -> String {
    value.to_owned()
}

#[async_trait]
impl KumihoApi for HttpKumiho {
    async fn create_project(&self, name: &str, description: Option<&str>) -> KumihoResult<Project> {
        let mut body = json!({ "name": name });
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        self.post("/projects", &body).await
    }

    async fn list_projects(&self) -> KumihoResult<Vec<Project>> {
        self.get("/projects", &[]).await
    }

    async fn create_space(&self, parent_path: &str, name: &str) -> KumihoResult<Space> {
        self.post("/spaces", &json!({ "parent_path": parent_path, "name": name })).await
    }

    async fn list_spaces(&self, parent_path: &str, recursive: bool) -> KumihoResult<Vec<Space>> {
        self.get("/spaces", &[("parent_path", s(parent_path)), ("recursive", recursive.to_string())]).await
    }

    async fn list_items(&self, query: &ItemQuery) -> KumihoResult<Vec<Item>> {
        let mut params = vec![
            ("space_path", query.space_path.clone()),
            ("include_deprecated", query.include_deprecated.to_string()),
        ];
        if let Some(filter) = &query.name_filter {
            params.push(("name_filter", filter.clone()));
        }
        if let Some(limit) = query.limit {
            params.push(("limit", limit.to_string()));
        }
        if let Some(offset) = query.offset {
            params.push(("offset", offset.to_string()));
        }
        self.get("/items", &params).await
    }

    async fn create_item(
        &self,
        space: &str,
        name: &str,
        kind: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Item> {
        let body = with_metadata(json!({ "space_path": space, "item_name": name, "kind": kind }), metadata);
        self.post("/items", &body).await
    }

    async fn get_item(&self, kref: &str) -> KumihoResult<Item> {
        self.get("/items/by-kref", &[("kref", s(kref))]).await
    }

    async fn deprecate_item(&self, kref: &str, deprecated: bool) -> KumihoResult<Item> {
        let request = self
            .request(Method::POST, "/items/deprecate")
            .query(&[("kref", s(kref)), ("deprecated", deprecated.to_string())]);
        self.call(request).await
    }

    async fn delete_item(&self, kref: &str) -> KumihoResult<()> {
        self.effect(Method::DELETE, "/items/by-kref", &[("kref", s(kref)), ("force", s("true"))], None).await
    }

    async fn search(&self, query: &SearchQuery) -> KumihoResult<Vec<SearchResult>> {
        let mut params = vec![
            ("query", query.query.clone()),
            ("include_deprecated", query.include_deprecated.to_string()),
        ];
        if let Some(context) = &query.context {
            params.push(("context", context.clone()));
        }
        params.push(("kind", query.kind.clone().unwrap_or_default()));
        self.get("/items/fulltext-search", &params).await
    }

    async fn create_revision(&self, item_kref: &str, metadata: &Metadata) -> KumihoResult<Revision> {
        self.post("/revisions", &with_metadata(json!({ "item_kref": item_kref }), metadata)).await
    }

    async fn tag_revision(&self, revision_kref: &str, tag: &str) -> KumihoResult<()> {
        self.effect(
            Method::POST,
            "/revisions/tags",
            &[("kref", s(revision_kref))],
            Some(json!({ "tag": tag })),
        )
        .await
    }

    async fn revision_by_tag(&self, item_kref: &str, tag: &str) -> KumihoResult<Revision> {
        self.get("/revisions/by-kref", &[("kref", s(item_kref)), ("t", s(tag))]).await
    }

    async fn revision_by_kref(&self, kref: &str) -> KumihoResult<Revision> {
        self.get("/revisions/by-kref", &[("kref", s(kref))]).await
    }

    async fn latest_revision(&self, item_kref: &str) -> KumihoResult<Revision> {
        self.get("/revisions/latest", &[("item_kref", s(item_kref))]).await
    }

    async fn list_revisions(&self, item_kref: &str) -> KumihoResult<Vec<Revision>> {
        self.get("/revisions", &[("item_kref", s(item_kref))]).await
    }

    async fn batch_revisions(
        &self,
        item_krefs: &[String],
        tag: &str,
        allow_partial: bool,
    ) -> KumihoResult<BatchRevisions> {
        self.post(
            "/revisions/batch",
            &json!({ "item_krefs": item_krefs, "tag": tag, "allow_partial": allow_partial }),
        )
        .await
    }

    async fn create_bundle(
        &self,
        space_path: &str,
        bundle_name: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Item> {
        let body = with_metadata(json!({ "space_path": space_path, "bundle_name": bundle_name }), metadata);
        self.post("/bundles", &body).await
    }

    async fn get_bundle(&self, kref: &str) -> KumihoResult<Item> {
        self.get("/bundles/by-kref", &[("kref", s(kref))]).await
    }

    async fn delete_bundle(&self, kref: &str) -> KumihoResult<()> {
        self.effect(Method::DELETE, "/bundles/by-kref", &[("kref", s(kref)), ("force", s("true"))], None)
            .await
    }

    async fn add_bundle_member(
        &self,
        bundle_kref: &str,
        item_kref: &str,
        metadata: &Metadata,
    ) -> KumihoResult<()> {
        let body = with_metadata(json!({ "bundle_kref": bundle_kref, "item_kref": item_kref }), metadata);
        self.effect(Method::POST, "/bundles/members/add", &[], Some(body)).await
    }

    async fn remove_bundle_member(&self, bundle_kref: &str, item_kref: &str) -> KumihoResult<()> {
        let body = json!({ "bundle_kref": bundle_kref, "item_kref": item_kref });
        self.effect(Method::POST, "/bundles/members/remove", &[], Some(body)).await
    }

    async fn bundle_members(&self, bundle_kref: &str) -> KumihoResult<BundleMembers> {
        self.get("/bundles/members", &[("bundle_kref", s(bundle_kref))]).await
    }

    async fn create_edge(
        &self,
        source: &str,
        target: &str,
        edge_type: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Edge> {
        let body =
            json!({ "source_revision_kref": source, "target_revision_kref": target, "edge_type": edge_type });
        self.post("/edges", &with_metadata(body, metadata)).await
    }

    async fn list_edges(
        &self,
        revision_kref: &str,
        edge_type: Option<&str>,
        direction: Direction,
    ) -> KumihoResult<Vec<Edge>> {
        let mut params = vec![("kref", s(revision_kref)), ("direction", direction.code().to_string())];
        if let Some(edge_type) = edge_type {
            params.push(("edge_type", s(edge_type)));
        }
        self.get("/edges", &params).await
    }

    async fn delete_edge(&self, source: &str, target: &str, edge_type: &str) -> KumihoResult<()> {
        let params = [("source_kref", s(source)), ("target_kref", s(target)), ("edge_type", s(edge_type))];
        self.effect(Method::DELETE, "/edges", &params, None).await
    }

    async fn create_artifact(
        &self,
        revision_kref: &str,
        name: &str,
        location: &str,
        metadata: &Metadata,
    ) -> KumihoResult<Artifact> {
        let body = json!({ "revision_kref": revision_kref, "name": name, "location": location });
        self.post("/artifacts", &with_metadata(body, metadata)).await
    }

    async fn list_artifacts(&self, revision_kref: &str) -> KumihoResult<Vec<Artifact>> {
        self.get("/artifacts", &[("revision_kref", s(revision_kref))]).await
    }

    async fn artifact(&self, revision_kref: &str, name: &str) -> KumihoResult<Artifact> {
        self.get("/artifacts/by-kref", &[("revision_kref", s(revision_kref)), ("name", s(name))]).await
    }
}
