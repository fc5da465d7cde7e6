//! The shapes of the JSON answers this crate builds with `json!`, written out for the OpenAPI document.
//!
//! Each type mirrors one answer field for field (names, optionality, nesting); none is ever built. A field
//! the handler leaves out when it has nothing to say is `skip_serializing_if` here (not required, never
//! null); a field it always writes, possibly as `null`, is a plain `Option` (required, nullable). When a
//! handler's answer changes, the type here must change with it; the router tests and schemathesis catch
//! a drift.

#![allow(dead_code)] // Describes JSON the handlers write; never built.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::doctor::Finding;
use crate::teams::TeamEdge;
use crate::workflows::Trigger;

/// A scope a credential may carry.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScopeName {
    /// Read-only dashboard and API access.
    Read,
    /// Talk to the agent: chat, webhooks, sessions.
    Chat,
    /// Manage the gateway.
    Admin,
    /// Open a shell on the host.
    Terminal,
}

/// The constant `"ok"`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OkStatus {
    /// Done.
    Ok,
}

/// The constant `"pending"`: a run request waiting for the workflow operator.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunPending {
    /// Recorded, not yet picked up.
    Pending,
}

// ---- pairing and the browser session ----

/// `POST /pair`: the new device and its token (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct LegacyPaired {
    /// Always true.
    paired: bool,
    /// Always true: the device is stored.
    persisted: bool,
    /// The device token (`cgw_…`); use it as `Authorization: Bearer <token>`.
    token: String,
    /// The new device's id.
    device_id: String,
    /// What the device may do.
    scopes: Vec<ScopeName>,
    /// How to use the token.
    message: String,
}

/// `POST /api/pair`: the new device and its token (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct Paired {
    /// The device token (`cgw_…`).
    token: String,
    /// The new device's id.
    device_id: String,
    /// What the device may do.
    scopes: Vec<ScopeName>,
    /// `Pairing successful`.
    message: String,
}

/// `GET /pair/code`: the initial code while no device is paired.
#[derive(Debug, Serialize, ToSchema)]
pub struct InitialCode {
    /// Always true.
    success: bool,
    /// Whether the gateway requires pairing.
    pairing_required: bool,
    /// The active code; null once a device is paired or when none is active.
    pairing_code: Option<String>,
}

/// `GET /admin/paircode` and `POST /admin/paircode/new`: the active pairing code.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminPairCode {
    /// Always true.
    success: bool,
    /// Whether the gateway requires pairing.
    pairing_required: bool,
    /// The active code; null when none is active (never null after `new`).
    pairing_code: Option<String>,
    /// When the code expires (RFC 3339); null with no code.
    expires_at: Option<String>,
    /// What to do with it.
    message: String,
}

/// `POST /api/auth/login`: the browser is paired; the token is only in the `Set-Cookie` header.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedIn {
    /// Always true.
    paired: bool,
    /// The browser's device id.
    device_id: String,
    /// What the session may do.
    scopes: Vec<ScopeName>,
}

/// What kind of principal a session is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKindName {
    /// A paired device (a browser session included): signing out revokes it.
    Device,
    /// Pairing is off: the loopback operator; nothing to sign out of.
    LocalOperator,
    /// A machine credential.
    Machine,
    /// A user named by a trusted proxy.
    ProxyUser,
    /// A mapped client certificate.
    Certificate,
}

/// `GET /api/auth/session`: who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    /// Always true (a signed-out caller gets 401).
    authenticated: bool,
    /// The principal's id.
    principal: String,
    /// The device's (or machine's, or certificate's) name, or null.
    name: Option<String>,
    /// What kind of principal it is.
    kind: PrincipalKindName,
    /// What it may do.
    scopes: Vec<ScopeName>,
}

/// `POST /api/auth/logout`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedOut {
    /// Always true; the cookie is cleared.
    signed_out: bool,
    /// Whether a device was revoked (only a device principal can be).
    revoked: bool,
}

// ---- devices ----

/// A paired device (never its token).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    /// Stable id (a UUID).
    id: String,
    /// Name given when pairing.
    name: Option<String>,
    /// Kind given when pairing (`browser`, `cli`, `legacy-pair`, …).
    device_type: Option<String>,
    /// What the device may do.
    scopes: Vec<ScopeName>,
    /// When it paired (RFC 3339).
    paired_at: String,
    /// When its token was last used (RFC 3339, kept to within a minute).
    last_seen: Option<String>,
    /// The client address it last used.
    ip_address: Option<String>,
    /// When its token stops working (RFC 3339), if ever.
    expires_at: Option<String>,
}

/// `GET /api/devices`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceList {
    /// How many devices.
    count: u64,
    /// Every paired device.
    devices: Vec<DeviceView>,
}

/// `DELETE /api/devices/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceRevoked {
    /// `Device revoked`.
    message: String,
    /// The revoked device.
    device_id: String,
}

/// `POST /api/devices/{id}/token/rotate`: the new token (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenRotated {
    /// The device.
    device_id: String,
    /// Its new token; the old one stopped working.
    token: String,
    /// What happened.
    message: String,
}

// ---- audit ----

/// One entry of the hash-chained audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Position in the chain, from 1.
    id: u64,
    /// When it was recorded (RFC 3339).
    at: String,
    /// What happened (`pair_success`, `device_revoked`, `config_changed`, …).
    event_type: String,
    /// Who did it.
    actor: Option<String>,
    /// The client involved.
    client: Option<String>,
    /// Details, depending on the event type.
    detail: serde_json::Value,
    /// Hex SHA-256 of the previous entry (64 zeros for the first).
    prev_hash: String,
    /// Hex SHA-256 of `prev_hash` and this entry.
    hash: String,
}

/// `GET /api/audit`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// How many entries are returned.
    count: u64,
    /// Newest first.
    entries: Vec<AuditEntryView>,
}

/// `GET /api/audit/verify`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerification {
    /// Whether every entry fits the chain.
    valid: bool,
    /// How many entries were checked.
    entries: u64,
    /// The first entry that does not fit, or null.
    first_invalid: Option<u64>,
}

// ---- system ----

/// The constant `"toml"`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConfigFormat {
    /// TOML.
    Toml,
}

/// `GET /api/config`: the effective configuration, secrets printed as `********`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigText {
    /// Always `toml`.
    format: ConfigFormat,
    /// The configuration file's text.
    content: String,
}

/// `PUT /api/config`: the file was written.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigSaved {
    /// Always `ok`.
    status: OkStatus,
    /// The file written.
    path: String,
    /// Changed sections applied at once (`kumiho`, `workflows`, `clawhub`).
    applied: Vec<String>,
    /// Changed sections that take effect at the next start.
    restart_required: Vec<String>,
}

/// Whether a channel is on.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelStatus {
    /// Configured.
    Active,
    /// Not configured.
    Inactive,
}

/// One messaging channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelView {
    /// `webhook`, `whatsapp`, `wati`, `linq`, `nextcloud_talk`, `gmail_push`.
    name: String,
    /// The channel type (the same as `name`).
    #[serde(rename = "type")]
    kind: String,
    /// Whether the configuration turns it on.
    enabled: bool,
    /// `active` when enabled.
    status: ChannelStatus,
}

/// `GET /api/channels`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList {
    /// Every channel the gateway has.
    channels: Vec<ChannelView>,
}

/// A component's health.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ComponentStatus {
    /// Answering.
    Ok,
    /// Failing; see `last_error`.
    Error,
}

/// The store's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreHealth {
    /// `ok` or `error`.
    status: ComponentStatus,
    /// The store backend (`sqlite`, `memory`, …).
    backend: String,
    /// Why it failed, only on `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_error: Option<String>,
}

/// Kumiho's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct KumihoHealth {
    /// `ok` or `error` (also after 5 s without an answer).
    status: ComponentStatus,
    /// `local` or `remote`.
    mode: String,
    /// Why it failed, only on `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_error: Option<String>,
}

/// The components `GET /api/health` checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthComponents {
    /// The gateway's store.
    store: StoreHealth,
    /// The graph memory.
    kumiho: KumihoHealth,
}

/// The body of `GET /api/health`'s `health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentHealth {
    /// Seconds since the gateway started.
    uptime_seconds: u64,
    /// Each component's state.
    components: HealthComponents,
}

/// `GET /api/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthAnswer {
    /// The report.
    health: ComponentHealth,
}

/// One model's usage, since the gateway started.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelCostView {
    /// The model.
    model: String,
    /// US dollars.
    cost_usd: f64,
    /// Prompt tokens.
    input_tokens: u64,
    /// Completion tokens.
    output_tokens: u64,
    /// Both.
    total_tokens: u64,
    /// Turns.
    request_count: u64,
}

/// Model usage and its cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct CostSummaryView {
    /// US dollars since the gateway started.
    session_cost_usd: f64,
    /// US dollars since 00:00 UTC.
    daily_cost_usd: f64,
    /// US dollars since the 1st of the month, UTC.
    monthly_cost_usd: f64,
    /// Tokens since the gateway started.
    total_tokens: u64,
    /// Turns since the gateway started.
    request_count: u64,
    /// Per model, since the gateway started.
    by_model: BTreeMap<String, ModelCostView>,
}

/// `GET /api/cost`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CostAnswer {
    /// The summary.
    cost: CostSummaryView,
}

// ---- catalog ----

/// `GET /api/tools`: no agent tools are served yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolList {
    /// Always empty for now.
    #[schema(value_type = Vec<Object>)]
    tools: Vec<serde_json::Value>,
    /// Always false for now.
    supported: bool,
    /// Why the list is empty.
    reason: String,
}

/// Whether an integration is turned on.
#[derive(Debug, Serialize, ToSchema)]
pub enum IntegrationStatus {
    /// The configuration turns it on.
    Active,
    /// The gateway has it, but it is off.
    Available,
}

/// One integration the gateway has.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationView {
    /// `Webhook`, `WhatsApp`, `Kumiho`, …
    name: String,
    /// What it does.
    description: String,
    /// `Platform`, `Chat`, `Productivity`, `AiModel`, `ToolsAutomation`.
    category: String,
    /// `Active` or `Available`.
    status: IntegrationStatus,
}

/// `GET /api/integrations`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationList {
    /// Every integration.
    integrations: Vec<IntegrationView>,
}

/// One integration's setting.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationSetting {
    /// Whether the configuration turns it on.
    enabled: bool,
    /// Its category.
    category: String,
    /// `Active` or `Available`.
    status: IntegrationStatus,
}

/// `GET /api/integrations/settings`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationSettings {
    /// By integration name.
    settings: BTreeMap<String, IntegrationSetting>,
}

/// A command-line tool found on the gateway's `PATH`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CliToolView {
    /// Its name (`git`, `node`, …).
    name: String,
    /// Where it was found.
    path: String,
    /// The first line of `--version`, or null.
    version: Option<String>,
    /// `VersionControl`, `Language`, `PackageManager`, `Container`, `Build`, `Cloud`, `AiAgent`,
    /// `Productivity`.
    category: String,
}

/// `GET /api/cli-tools`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CliToolList {
    /// The tools found.
    cli_tools: Vec<CliToolView>,
}

// ---- doctor ----

/// How many findings of each severity.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoctorSummary {
    /// `ok` findings.
    ok: u64,
    /// `warn` findings.
    warnings: u64,
    /// `error` findings.
    errors: u64,
}

/// `GET /api/doctor`, `POST /api/doctor`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoctorReport {
    /// Findings, in the order checked.
    results: Vec<Finding>,
    /// Counts by severity.
    summary: DoctorSummary,
}

// ---- approvals ----

/// `POST /api/channel-events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelEventAccepted {
    /// Always true.
    ok: bool,
}

/// An approval a workflow run is waiting for.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    /// The run.
    run_id: String,
    /// The step waiting.
    step_id: String,
    /// The workflow's name.
    workflow: String,
    /// Words that approve, in chat channels.
    approve_keywords: Vec<String>,
    /// Words that reject.
    reject_keywords: Vec<String>,
    /// What the person is asked.
    message: String,
    /// When it was registered (RFC 3339).
    created_at: String,
    /// When it stops waiting (RFC 3339).
    expires_at: String,
}

/// `GET /api/approvals`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalList {
    /// Waiting approvals.
    approvals: Vec<ApprovalView>,
    /// How many.
    count: u64,
}

/// `POST /api/workflows/runs/{run_id}/approve`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalDecided {
    /// Always `ok`.
    status: OkStatus,
    /// `Workflow approved` or `Workflow rejected`.
    message: String,
    /// The run.
    run_id: String,
    /// The decision.
    approved: bool,
}

// ---- memory graph ----

/// An item of the memory graph.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphNode {
    /// The item's kref without `kref://`.
    id: String,
    /// The item name.
    name: String,
    /// The item kind.
    kind: String,
    /// The space path (without the item).
    space: String,
    /// RFC 3339, or null when Kumiho does not say.
    created_at: Option<String>,
    /// The published (else latest) revision, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    revision_kref: Option<String>,
    /// The revision's `title` metadata, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    title: Option<String>,
    /// The revision's `summary` metadata, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    summary: Option<String>,
}

/// An edge between two shown nodes.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphEdge {
    /// The source node's `id`.
    source: String,
    /// The target node's `id`.
    target: String,
    /// `REPORTS_TO`, `DEPENDS_ON`, …
    edge_type: String,
    /// The edge's metadata, when it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    metadata: Option<BTreeMap<String, String>>,
}

/// Counts over everything found before truncation.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphStats {
    /// Items found.
    total_items: u64,
    /// Edges returned.
    total_edges: u64,
    /// Items found, by kind.
    kinds: BTreeMap<String, u64>,
}

/// `GET /api/memory/graph`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemoryGraph {
    /// At most `limit` items.
    nodes: Vec<GraphNode>,
    /// Edges between the shown nodes.
    edges: Vec<GraphEdge>,
    /// The project's space paths.
    spaces: Vec<String>,
    /// Counts.
    stats: GraphStats,
}

// ---- agents, skills, teams ----

/// An agent, from its published (else latest) revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    /// The item kref.
    kref: String,
    /// The display name.
    name: String,
    /// Always `agent`.
    kind: String,
    /// Soft-deleted.
    deprecated: bool,
    /// RFC 3339, or null.
    created_at: Option<String>,
    /// Who the agent is.
    identity: String,
    /// How it behaves.
    soul: String,
    /// What it knows.
    expertise: Vec<String>,
    /// Empty when unset.
    tone: String,
    /// Empty when unset.
    role: String,
    /// Empty when unset.
    agent_type: String,
    /// Empty when unset.
    model: String,
    /// Empty when unset.
    system_hint: String,
    /// The revision number shown, or null without a revision.
    revision: Option<i32>,
}

/// `GET /api/agents`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentPage {
    /// This page.
    agents: Vec<AgentView>,
    /// Agents in the pool (or search hits).
    total_count: u64,
    /// The page.
    page: u32,
    /// Its size.
    per_page: u32,
}

/// One agent.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentEnvelope {
    /// The agent.
    agent: AgentView,
}

/// A skill.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillView {
    /// The item kref.
    kref: String,
    /// The item name.
    name: String,
    /// The item name.
    item_name: String,
    /// Soft-deleted.
    deprecated: bool,
    /// RFC 3339, or null.
    created_at: Option<String>,
    /// What it does.
    description: String,
    /// The `SKILL.md` body; in lists, a 200-character preview of the description.
    content: String,
    /// Its domain.
    domain: String,
    /// Its tags.
    tags: Vec<String>,
    /// The revision shown (0 without one).
    revision_number: i32,
}

/// `GET /api/skills`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillPage {
    /// This page.
    skills: Vec<SkillView>,
    /// Skills (or search hits).
    total_count: u64,
    /// The page.
    page: u32,
    /// Its size.
    per_page: u32,
}

/// One skill.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillEnvelope {
    /// The skill.
    skill: SkillView,
}

/// A team in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamSummary {
    /// The bundle kref.
    kref: String,
    /// The display name.
    name: String,
    /// Empty when unset.
    description: String,
    /// Soft-deleted.
    deprecated: bool,
    /// RFC 3339, or null.
    created_at: Option<String>,
    /// How many members.
    member_count: u64,
    /// The members' item names.
    member_names: Vec<String>,
    /// How many edges.
    edge_count: u64,
}

/// A member of a team, with its agent's fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMember {
    /// The agent's item kref.
    kref: String,
    /// The agent's item name.
    name: String,
    /// Empty when unset.
    display_name: String,
    /// Empty when unset.
    role: String,
    /// Empty when unset.
    agent_type: String,
    /// Empty when unset.
    identity: String,
    /// The agent's expertise.
    expertise: Vec<String>,
}

/// A team with its members and edges.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDetail {
    /// The bundle kref.
    kref: String,
    /// The display name.
    name: String,
    /// Empty when unset.
    description: String,
    /// Soft-deleted.
    deprecated: bool,
    /// RFC 3339, or null.
    created_at: Option<String>,
    /// How many members.
    member_count: u64,
    /// The members' item names.
    member_names: Vec<String>,
    /// How many edges.
    edge_count: u64,
    /// The members.
    members: Vec<TeamMember>,
    /// The team's own graph.
    edges: Vec<TeamEdge>,
}

/// `GET /api/teams`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamPage {
    /// This page.
    teams: Vec<TeamSummary>,
    /// Teams.
    total_count: u64,
    /// The page.
    page: u32,
    /// Its size.
    per_page: u32,
}

/// One team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamEnvelope {
    /// The team.
    team: TeamDetail,
}

/// `{"success": true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuccessAnswer {
    /// Always true.
    success: bool,
}

// ---- ClawHub ----

/// `POST /api/clawhub/install/{slug}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClawHubInstalled {
    /// Always true.
    installed: bool,
    /// The registry slug (also the skill's item name).
    slug: String,
    /// The registry's display name.
    name: String,
    /// The new skill's kref.
    kref: String,
    /// The skill's description.
    description: String,
}

// ---- workflows ----

/// The constant `"custom"`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowSource {
    /// Saved through this API.
    Custom,
}

/// A workflow definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowView {
    /// The item kref.
    kref: String,
    /// The display name.
    name: String,
    /// The item name (slug).
    item_name: String,
    /// Soft-deleted.
    deprecated: bool,
    /// RFC 3339, or null.
    created_at: Option<String>,
    /// Empty when unset.
    description: String,
    /// The YAML.
    definition: String,
    /// The revision number as text (empty without a revision).
    version: String,
    /// Its tags.
    tags: Vec<String>,
    /// How many steps.
    steps: u64,
    /// The revision shown (0 without one).
    revision_number: i32,
    /// Always `custom`.
    source: WorkflowSource,
    /// Its triggers, when it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    triggers: Option<Vec<Trigger>>,
}

/// `GET /api/workflows`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowPage {
    /// This page.
    workflows: Vec<WorkflowView>,
    /// Workflows (or search hits).
    total_count: u64,
    /// The page.
    page: u32,
    /// Its size.
    per_page: u32,
}

/// One workflow.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowEnvelope {
    /// The workflow.
    workflow: WorkflowView,
}

/// A run the workflow operator persisted. Every field is a string, empty when unknown.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunSummary {
    /// The run item's kref.
    kref: String,
    /// The run id.
    run_id: String,
    /// The workflow it runs.
    workflow_name: String,
    /// `pending`, `running`, `paused`, `completed`, `failed`, `cancelled`, … as the operator wrote it.
    status: String,
    /// RFC 3339.
    started_at: String,
    /// RFC 3339.
    completed_at: String,
    /// A count, as text.
    steps_completed: String,
    /// A count, as text.
    steps_total: String,
    /// Why it failed.
    error: String,
    /// The workflow item, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    workflow_item_kref: Option<String>,
    /// The definition revision the run pinned, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    workflow_revision_kref: Option<String>,
}

/// One turn of a step's discussion.
#[derive(Debug, Serialize, ToSchema)]
pub struct TranscriptEntry {
    /// Who spoke.
    speaker: String,
    /// What was said.
    content: String,
    /// The round.
    round: u64,
}

/// The approval part of a step's output.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepOutputData {
    /// Whether the step waits for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    awaiting_approval: Option<bool>,
    /// What the person is asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    approval_message: Option<String>,
    /// Words that approve.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    approve_keywords: Option<Vec<String>>,
    /// Words that reject.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    reject_keywords: Option<Vec<String>>,
}

/// One step of a run; optional fields are left out when the operator wrote none.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunStep {
    /// The step id.
    step_id: String,
    /// As the operator wrote it; `unknown` when missing.
    status: String,
    /// The agent that ran it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    agent_id: Option<String>,
    /// The agent's type.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    agent_type: Option<String>,
    /// The agent's role.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    role: Option<String>,
    /// The template used.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    template_name: Option<String>,
    /// The start of its output.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    output_preview: Option<String>,
    /// Where its output was saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    artifact_path: Option<String>,
    /// Skills used (never empty when present).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    skills: Option<Vec<String>>,
    /// The discussion (never empty when present).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    transcript: Option<Vec<TranscriptEntry>>,
    /// The approval fields of its output, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    output_data: Option<StepOutputData>,
}

/// A run with its steps: the summary's fields, plus `steps`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    summary: RunSummary,
    /// In the pinned definition's order, else by id.
    steps: Vec<RunStep>,
}

/// `GET /api/workflows/runs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunPage {
    /// Runs on this page.
    count: u64,
    /// Newest first.
    runs: Vec<RunSummary>,
    /// Runs in all.
    total_count: u64,
    /// The page.
    page: u32,
    /// Its size.
    per_page: u32,
}

/// `GET /api/workflows/runs/{run_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunEnvelope {
    /// The run.
    run: RunDetail,
}

/// `POST /api/workflows/run/{name}`: the request is recorded for the operator.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunRequested {
    /// The new run's id.
    run_id: String,
    /// The workflow's item name.
    workflow: String,
    /// Always `pending`.
    status: RunPending,
    /// The run request's kref.
    kref: String,
}

/// `POST /api/workflows/runs/{run_id}/retry`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetryRequested {
    /// The run retried.
    run_id: String,
    /// Always `pending`.
    status: RunPending,
    /// Always true.
    retry: bool,
    /// The run request's kref.
    kref: String,
}

/// The workflow overview.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowDashboard {
    /// Workflows in all.
    definitions_count: u64,
    /// The first 100.
    definitions: Vec<WorkflowView>,
    /// Runs `running` or `paused`, over every run.
    active_runs: u64,
    /// The five newest runs.
    recent_runs: Vec<RunSummary>,
    /// Runs in all.
    total_runs: u64,
}

/// `GET /api/workflows/dashboard`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardEnvelope {
    /// The overview.
    dashboard: WorkflowDashboard,
}

/// The constant `"summary"`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SummaryView {
    /// The summary view.
    Summary,
}

/// Token use and cost over the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityUsage {
    /// Prompt tokens.
    input_tokens: u64,
    /// Completion tokens.
    output_tokens: u64,
    /// US dollars.
    total_cost_usd: f64,
}

/// The `summary` view of an agent's run log.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivitySummary {
    /// The agent.
    agent_id: String,
    /// Always `summary`.
    view: SummaryView,
    /// The first entry's `title`, as written (null when absent).
    title: serde_json::Value,
    /// The first entry's `agent_type`, as written (null when absent).
    agent_type: serde_json::Value,
    /// Entries read.
    total_events: u64,
    /// `tool_call` entries.
    tool_call_count: u64,
    /// Error entries.
    error_count: u64,
    /// The last message (at most 5000 characters), or null.
    last_message: Option<String>,
    /// The last 20 tool-call entries, as logged.
    #[schema(value_type = Vec<Object>)]
    recent_tools: Vec<serde_json::Value>,
    /// Token use and cost.
    usage: ActivityUsage,
}

/// A list view (`tool_calls`, `messages`, `errors`, `full`) of an agent's run log.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityEntries {
    /// The agent.
    agent_id: String,
    /// The view asked for.
    view: String,
    /// Entries returned.
    total: u64,
    /// Log entries as written, newest first, at most `limit`.
    #[schema(value_type = Vec<Object>)]
    entries: Vec<serde_json::Value>,
}

/// The bytes of a file, of the type its name suggests.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(Vec<u8>);

/// `GET /api/workflows/agent-activity/{agent_id}`: the summary, or a list view.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum AgentActivity {
    /// `view=summary` (the default).
    Summary(ActivitySummary),
    /// Any other view.
    Entries(ActivityEntries),
}
