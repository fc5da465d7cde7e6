//! A security and health check-up of a gateway's configuration and surroundings: `construct-gateway doctor`
//! and `GET /api/doctor` (admin). Each finding has a severity (`ok`, `warn`, `error`), a category, what was
//! found and, when something is wrong, how to fix it. The command's exit status is the worst severity.

use std::path::Path;
use std::time::Duration;

use construct_core::config::{Config, KumihoMode, ProviderKind};
use construct_kumiho::KumihoApi;
use http::HeaderMap;
use serde::Serialize;
use serde_json::{Value, json};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = DoctorSeverity)]
pub enum Severity {
    /// Fine.
    Ok,
    /// Worth a look.
    Warn,
    /// Fix it.
    Error,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = DoctorFinding)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// What area (`bind`, `tls`, `pairing`, `terminal`, `channels`, `proxy`, `data_dir`, `kumiho`,
    /// `provider`).
    #[schema(value_type = String)]
    pub category: &'static str,
    /// What was found.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub fix: Option<String>,
}

/// Every finding of one check-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// In the order checked.
    pub findings: Vec<Finding>,
}

impl Report {
    fn push(
        &mut self,
        severity: Severity,
        category: &'static str,
        message: impl Into<String>,
        fix: Option<&str>,
    ) {
        self.findings.push(Finding {
            severity,
            category,
            message: message.into(),
            fix: fix.map(str::to_owned),
        });
    }

    /// The worst severity found.
    pub fn worst(&self) -> Severity {
        self.findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Ok)
    }

    /// `{results, summary: {ok, warnings, errors}}`.
    pub fn to_json(&self) -> Value {
        let count = |s: Severity| self.findings.iter().filter(|f| f.severity == s).count();
        json!({
            "results": self.findings,
            "summary": {"ok": count(Severity::Ok), "warnings": count(Severity::Warn), "errors": count(Severity::Error)},
        })
    }
}

fn configuration(config: &Config, report: &mut Report) {
    let g = &config.gateway;
    let public = g.is_public_bind();
    if public {
        report.push(
            Severity::Warn,
            "bind",
            format!("{} is reachable from other machines", g.host),
            Some("bind 127.0.0.1 unless other machines must reach the gateway directly"),
        );
    } else {
        report.push(Severity::Ok, "bind", format!("bound to loopback ({})", g.host), None);
    }
    match (public, g.tls.enabled, g.trusted_proxies.is_empty()) {
        (true, false, true) => report.push(
            Severity::Error,
            "tls",
            "plain HTTP on a public bind: tokens cross the network in clear",
            Some("enable [gateway.tls], or serve behind a TLS-terminating proxy listed in trusted_proxies"),
        ),
        (true, false, false) => report.push(
            Severity::Warn,
            "tls",
            "plain HTTP on a public bind, assuming the trusted proxy terminates TLS",
            Some("enable [gateway.tls] if clients can reach the gateway without the proxy"),
        ),
        (_, true, _) => report.push(Severity::Ok, "tls", format!("TLS on ({})", g.tls.posture()), None),
        (false, false, _) => report.push(Severity::Ok, "tls", "plain HTTP on loopback", None),
    }
    if g.require_pairing {
        report.push(Severity::Ok, "pairing", "pairing is required", None);
    } else {
        report.push(
            Severity::Warn,
            "pairing",
            "pairing is off: every direct local request acts as the operator",
            Some("set [gateway] require_pairing = true"),
        );
    }
    let p = &g.pairing;
    let mut weak = Vec::new();
    if p.code_ttl_secs > 3_600 {
        weak.push(format!("codes live {} s (more than an hour)", p.code_ttl_secs));
    }
    if p.max_failed_attempts > 10 {
        weak.push(format!("{} wrong codes allowed before a lockout", p.max_failed_attempts));
    }
    if p.lockout_secs < 60 {
        weak.push(format!("lockouts last only {} s", p.lockout_secs));
    }
    if weak.is_empty() {
        report.push(Severity::Ok, "pairing", "pairing limits are strict", None);
    } else {
        report.push(
            Severity::Warn,
            "pairing",
            weak.join("; "),
            Some(
                "keep [gateway.pairing] code_ttl_secs <= 3600, max_failed_attempts <= 10, lockout_secs >= 60",
            ),
        );
    }
    match (config.terminal.enabled, public) {
        (true, true) => report.push(
            Severity::Error,
            "terminal",
            "a shell is served on a public bind",
            Some("turn [terminal] off, or bind loopback and reach it through a tunnel"),
        ),
        (true, false) => report.push(Severity::Ok, "terminal", "the terminal is on, loopback only", None),
        (false, _) => report.push(Severity::Ok, "terminal", "the terminal is off", None),
    }
    let c = &config.channels_config;
    let open: Vec<&str> = [
        (c.whatsapp.as_ref().is_some_and(|w| w.allowed_numbers.is_empty()), "whatsapp (allowed_numbers)"),
        (c.wati.as_ref().is_some_and(|w| w.allowed_numbers.is_empty()), "wati (allowed_numbers)"),
        (c.linq.as_ref().is_some_and(|l| l.allowed_senders.is_empty()), "linq (allowed_senders)"),
        (
            c.nextcloud_talk.as_ref().is_some_and(|n| n.allowed_users.is_empty()),
            "nextcloud_talk (allowed_users)",
        ),
    ]
    .into_iter()
    .filter_map(|(empty, name)| empty.then_some(name))
    .collect();
    if open.is_empty() {
        report.push(Severity::Ok, "channels", "every configured channel has an allowlist", None);
    } else {
        report.push(
            Severity::Warn,
            "channels",
            format!("anyone can reach the agent through {}", open.join(", ")),
            Some("list who may talk to the agent in each channel's allowlist"),
        );
    }
}

#[cfg(unix)]
fn data_dir(dir: &Path, report: &mut Report) {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(dir) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o002 != 0 {
                report.push(
                    Severity::Error,
                    "data_dir",
                    format!("{} is writable by every user ({mode:o})", dir.display()),
                    Some("chmod 700 the data directory"),
                );
            } else if mode & 0o077 != 0 {
                report.push(
                    Severity::Warn,
                    "data_dir",
                    format!("{} is readable by other users ({mode:o})", dir.display()),
                    Some("chmod 700 the data directory"),
                );
            } else {
                report.push(
                    Severity::Ok,
                    "data_dir",
                    format!("{} is private ({mode:o})", dir.display()),
                    None,
                );
            }
        }
        Err(_) => report.push(
            Severity::Ok,
            "data_dir",
            format!("{} does not exist yet; it is created private", dir.display()),
            None,
        ),
    }
}

#[cfg(not(unix))]
fn data_dir(dir: &Path, report: &mut Report) {
    report.push(Severity::Ok, "data_dir", format!("{} (permissions not checked here)", dir.display()), None);
}

async fn kumiho(config: &Config, kumiho: &dyn KumihoApi, report: &mut Report) {
    let mode = if config.kumiho.mode == KumihoMode::Local { "embedded" } else { "remote" };
    match tokio::time::timeout(Duration::from_secs(5), kumiho.list_projects()).await {
        Ok(Ok(projects)) => report.push(
            Severity::Ok,
            "kumiho",
            format!("{mode} graph memory answers ({} projects)", projects.len()),
            None,
        ),
        Ok(Err(error)) => report.push(
            Severity::Error,
            "kumiho",
            format!("{mode} graph memory failed: {error}"),
            Some("check [kumiho] api_url and service_token"),
        ),
        Err(_) => report.push(
            Severity::Error,
            "kumiho",
            format!("{mode} graph memory did not answer within 5 s"),
            Some("check [kumiho] api_url"),
        ),
    }
}

async fn provider(config: &Config, http: &reqwest::Client, report: &mut Report) {
    let p = &config.provider;
    if p.kind == ProviderKind::Echo {
        report.push(Severity::Ok, "provider", "the echo provider needs no network", None);
        return;
    }
    let url = format!("{}/models", p.base_url.trim_end_matches('/'));
    let mut request = http.get(&url).timeout(Duration::from_secs(3));
    if let Some(key) = p.api_key.as_ref().filter(|k| !k.is_empty()) {
        request = request.bearer_auth(key.expose());
    }
    match request.send().await {
        Ok(answer)
            if answer.status() == http::StatusCode::UNAUTHORIZED
                || answer.status() == http::StatusCode::FORBIDDEN =>
        {
            report.push(
                Severity::Error,
                "provider",
                format!("{} refused the API key ({})", p.base_url, answer.status()),
                Some("check [provider] api_key or CONSTRUCT_PROVIDER_API_KEY"),
            );
        }
        Ok(answer) => report.push(
            Severity::Ok,
            "provider",
            format!("{} answers ({})", p.base_url, answer.status()),
            None,
        ),
        Err(error) => report.push(
            Severity::Error,
            "provider",
            format!("{} is unreachable: {}", p.base_url, error.without_url()),
            Some("start the model server or fix [provider] base_url"),
        ),
    }
}

/// The whole check-up. `forwarded` are the headers of the request asking (`GET /api/doctor`), used to
/// notice a proxy in front of a gateway that trusts none; the command line has none.
pub async fn diagnose(
    config: &Config,
    data: &Path,
    graph: &dyn KumihoApi,
    http: &reqwest::Client,
    forwarded: Option<&HeaderMap>,
) -> Report {
    let mut report = Report::default();
    configuration(config, &mut report);
    if let Some(headers) = forwarded {
        let proxied =
            construct_auth::client::FORWARDING_HEADERS.iter().any(|name| headers.contains_key(*name));
        if proxied && config.gateway.trusted_proxies.is_empty() {
            report.push(Severity::Warn, "proxy", "forwarding headers arrive but no proxy is trusted: rate limits and lockouts count the proxy, not the clients", Some("list the proxy in [gateway] trusted_proxies"));
        } else {
            report.push(Severity::Ok, "proxy", "forwarding headers match the trusted proxies", None);
        }
    }
    data_dir(data, &mut report);
    kumiho(config, graph, &mut report).await;
    provider(config, http, &mut report).await;
    report
}

/// `GET /api/doctor` (admin).
#[utoipa::path(
    method(get, post),
    path = "/api/doctor",
    tag = "doctor",
    operation_id = "doctor",
    summary = "A security and health check-up",
    security(("bearer" = ["admin"]), ("session_cookie" = ["admin"])),
    responses(
        (status = 200, description = "Every finding and the counts by severity.", body = crate::openapi::schemas::DoctorReport),
        (status = 400, description = "`INVALID_IDEMPOTENCY_KEY` (POST only): an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        (status = 409, description = "`IDEMPOTENCY_IN_PROGRESS` (POST only): a request with the same `Idempotency-Key` is still running.", body = construct_core::openapi::ErrorBody),
        (status = 422, description = "`IDEMPOTENCY_KEY_REUSED` (POST only): the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn doctor(
    axum::extract::State(state): axum::extract::State<crate::ApiState>,
    headers: HeaderMap,
) -> construct_core::extract::Json<Value> {
    let config = state.config();
    let report = diagnose(&config, &state.data_dir, &*state.kumiho, &state.outbound, Some(&headers)).await;
    construct_core::extract::Json(report.to_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(config: &Config) -> Vec<(Severity, &'static str)> {
        let mut report = Report::default();
        configuration(config, &mut report);
        report
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Ok)
            .map(|f| (f.severity, f.category))
            .collect()
    }

    #[test]
    fn the_defaults_are_clean() {
        assert_eq!(findings(&Config::default()), []);
    }

    #[test]
    fn risky_settings_are_named() {
        let mut config = Config::default();
        config.gateway.host = "0.0.0.0".into();
        config.gateway.allow_public_bind = true;
        config.terminal.enabled = true;
        config.gateway.pairing.max_failed_attempts = 50;
        config.channels_config.whatsapp = Some(construct_core::config::WhatsAppConfig::default());
        let found = findings(&config);
        for expected in [
            (Severity::Warn, "bind"),
            (Severity::Error, "tls"),
            (Severity::Warn, "pairing"),
            (Severity::Error, "terminal"),
            (Severity::Warn, "channels"),
        ] {
            assert!(found.contains(&expected), "{expected:?} in {found:?}");
        }
        config.gateway.trusted_proxies = vec!["10.0.0.1/32".parse().unwrap_or_else(|_| unreachable!())];
        assert!(findings(&config).contains(&(Severity::Warn, "tls")), "a trusted proxy may terminate TLS");
        let mut off = Config::default();
        off.gateway.require_pairing = false;
        assert_eq!(findings(&off), [(Severity::Warn, "pairing")]);
    }
}
