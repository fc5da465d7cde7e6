//! `construct-gateway token create|list|revoke`: device tokens for places with nobody to type a pairing code
//! (containers, CI). Whoever can write the data directory is the operator: the device goes straight into
//! the store, the token is printed once and kept only as its hash. A running gateway notices the change
//! within a second (it watches the store), so a new token works and a revoked one stops on its next request.

use anyhow::{Context, bail};
use construct_core::LoadedConfig;
use construct_core::audit::{AuditEvent, AuditKind, AuditLog, record};
use construct_core::config::ensure_data_dir;
use construct_core::devices::{Device, DeviceStore};
use construct_core::principal::Scopes;
use construct_store::SqliteStore;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Longest token lifetime, in days.
pub const MAX_EXPIRES_DAYS: u32 = 3650;

fn open(loaded: &LoadedConfig) -> anyhow::Result<(SqliteStore, tokio::runtime::Runtime)> {
    ensure_data_dir(&loaded.data_dir)?;
    let store = SqliteStore::open_in(&loaded.data_dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    Ok((store, runtime))
}

/// The checked arguments of `create`.
pub fn parse_create(name: &str, scopes: &str, expires_days: Option<u32>) -> anyhow::Result<(String, Scopes)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        bail!("--name must be 1 to 100 printable characters");
    }
    let scopes = Scopes::parse_list(scopes).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
    if scopes.is_empty() {
        bail!("--scopes must name at least one of read, chat, admin, terminal");
    }
    if let Some(days) = expires_days
        && !(1..=MAX_EXPIRES_DAYS).contains(&days)
    {
        bail!("--expires-days must be between 1 and {MAX_EXPIRES_DAYS}");
    }
    Ok((name.to_owned(), scopes))
}

/// Creates the device and prints its token on stdout (and what was created on stderr).
pub fn create(
    loaded: &LoadedConfig,
    name: &str,
    scopes: &str,
    expires_days: Option<u32>,
) -> anyhow::Result<()> {
    let (name, scopes) = parse_create(name, scopes, expires_days)?;
    let (store, runtime) = open(loaded)?;
    let issued = construct_auth::token::issue_token(&ring::rand::SystemRandom::new())
        .map_err(|_| anyhow::anyhow!("the system's random source is unavailable"))?;
    let now = OffsetDateTime::now_utc();
    let device = Device {
        id: uuid::Uuid::new_v4().to_string(),
        name: Some(name),
        device_type: Some("cli-token".to_owned()),
        scopes,
        paired_at: now,
        last_seen: None,
        ip_address: None,
        expires_at: expires_days.map(|days| now + time::Duration::days(i64::from(days))),
    };
    runtime.block_on(async {
        store.create_device(&device, &issued.hash).await.context("cannot write the device")?;
        let detail =
            serde_json::json!({"device_id": device.id, "name": device.name, "scopes": device.scopes});
        let event = AuditEvent::new(AuditKind::TokenCreated).actor("local-operator").detail(detail);
        record(&store as &dyn AuditLog, event).await;
        anyhow::Ok(())
    })?;
    eprintln!(
        "created device {} ({}) with scopes {}",
        device.id,
        device.name.as_deref().unwrap_or(""),
        scopes.to_list()
    );
    println!("{}", issued.token);
    Ok(())
}

fn when(at: Option<OffsetDateTime>) -> String {
    at.and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_else(|| "-".to_owned())
}

/// Prints one device per line.
pub fn list(loaded: &LoadedConfig) -> anyhow::Result<()> {
    let (store, runtime) = open(loaded)?;
    let devices = runtime.block_on(store.list_devices())?;
    for device in devices {
        let name = device.name.as_deref().unwrap_or("-").replace(['\t', '\n'], " ");
        println!(
            "{}\t{name}\t{}\t{}\t{}",
            device.id,
            device.scopes.to_list(),
            when(device.last_seen),
            when(device.expires_at)
        );
    }
    Ok(())
}

/// Revokes device `id`.
pub fn revoke(loaded: &LoadedConfig, id: &str) -> anyhow::Result<()> {
    let (store, runtime) = open(loaded)?;
    let revoked = runtime.block_on(async {
        let revoked = store.revoke_device(id).await?;
        if revoked {
            let event = AuditEvent::new(AuditKind::DeviceRevoked)
                .actor("local-operator")
                .detail(serde_json::json!({"device_id": id}));
            record(&store as &dyn AuditLog, event).await;
        }
        anyhow::Ok(revoked)
    })?;
    if !revoked {
        bail!("no device {id}");
    }
    eprintln!("revoked device {id}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked() {
        assert!(parse_create("ci", "read,chat", Some(30)).is_ok());
        for (name, scopes, days) in [
            ("", "read", None),
            ("ci", "", None),
            ("ci", "read,root", None),
            ("ci", "read", Some(0)),
            ("ci", "read", Some(MAX_EXPIRES_DAYS + 1)),
            ("bad\u{7}name", "read", None),
        ] {
            assert!(parse_create(name, scopes, days).is_err(), "{name:?} {scopes:?} {days:?}");
        }
    }
}
