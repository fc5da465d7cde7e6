//! One contract for every `DeviceStore`: run against the memory store and a real SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use construct_core::devices::{DeviceStore, NewDevice, PairingCode, TokenHash};
use construct_core::principal::{Scope, Scopes};
use construct_store::{CachedDeviceStore, MemoryStore, SqliteStore};
use time::{Duration, OffsetDateTime};

fn now() -> OffsetDateTime {
    // Whole seconds: the SQLite store keeps second precision.
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

fn code(digits: &str, scopes: Option<Scopes>) -> PairingCode {
    PairingCode { code: digits.into(), expires_at: now() + Duration::minutes(10), scopes }
}

fn new_device(name: &str) -> NewDevice {
    NewDevice {
        name: Some(name.into()),
        device_type: Some("cli".into()),
        ip_address: Some("127.0.0.1".into()),
        expires_at: None,
    }
}

async fn contract(store: &dyn DeviceStore) {
    assert_eq!(store.device_count().await.unwrap(), 0);
    assert_eq!(store.pairing_code(now()).await.unwrap(), None);

    // A wrong code changes nothing; no code at all pairs nothing.
    assert!(
        store
            .redeem_pairing_code("123456", now(), new_device("a"), &TokenHash([1; 32]))
            .await
            .unwrap()
            .is_none()
    );
    store.set_pairing_code(&code("123456", None)).await.unwrap();
    assert!(
        store
            .redeem_pairing_code("654321", now(), new_device("a"), &TokenHash([1; 32]))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.pairing_code(now()).await.unwrap().map(|c| c.code), Some("123456".into()));

    // The right code pairs once, and the first device is an admin.
    let first = store
        .redeem_pairing_code("123456", now(), new_device("laptop"), &TokenHash([1; 32]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.scopes, Scopes::FIRST_DEVICE);
    assert_eq!(first.name.as_deref(), Some("laptop"));
    assert_eq!(store.pairing_code(now()).await.unwrap(), None, "a code is single use");
    assert!(
        store
            .redeem_pairing_code("123456", now(), new_device("b"), &TokenHash([2; 32]))
            .await
            .unwrap()
            .is_none()
    );

    // Later devices get read and chat, or what the code carries.
    store.set_pairing_code(&code("111111", None)).await.unwrap();
    let second = store
        .redeem_pairing_code("111111", now(), new_device("phone"), &TokenHash([2; 32]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.scopes, Scopes::DEFAULT_DEVICE);
    store.set_pairing_code(&code("222222", Some(Scopes::of([Scope::Read, Scope::Terminal])))).await.unwrap();
    let third = store
        .redeem_pairing_code("222222", now(), new_device("ops"), &TokenHash([3; 32]))
        .await
        .unwrap()
        .unwrap();
    assert!(third.scopes.contains(Scope::Terminal) && !third.scopes.contains(Scope::Chat));

    // Expired codes are neither shown nor accepted.
    store.set_pairing_code(&PairingCode { expires_at: now(), ..code("333333", None) }).await.unwrap();
    assert_eq!(store.pairing_code(now()).await.unwrap(), None);
    assert!(
        store
            .redeem_pairing_code("333333", now(), new_device("x"), &TokenHash([4; 32]))
            .await
            .unwrap()
            .is_none()
    );
    store.set_pairing_code(&code("444444", None)).await.unwrap();
    store.clear_pairing_code().await.unwrap();
    assert_eq!(store.pairing_code(now()).await.unwrap(), None);

    // Lookup by token hash, listing, touch.
    assert_eq!(
        store.device_by_token(&TokenHash([2; 32])).await.unwrap().map(|d| d.id),
        Some(second.id.clone())
    );
    assert_eq!(store.device_by_token(&TokenHash([9; 32])).await.unwrap(), None);
    let later = now() + Duration::minutes(5);
    store.touch_device(&second.id, later, Some("10.0.0.7")).await.unwrap();
    let seen = store.device_by_token(&TokenHash([2; 32])).await.unwrap().unwrap();
    assert_eq!((seen.last_seen, seen.ip_address.as_deref()), (Some(later), Some("10.0.0.7")));
    let ids: Vec<String> = store.list_devices().await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&first.id) && ids.contains(&second.id) && ids.contains(&third.id));

    // Rotation kills the old token at once; revocation kills the device.
    let rotated = store.rotate_token(&second.id, &TokenHash([5; 32])).await.unwrap().unwrap();
    assert_eq!(rotated.id, second.id);
    assert_eq!(store.device_by_token(&TokenHash([2; 32])).await.unwrap(), None);
    assert_eq!(
        store.device_by_token(&TokenHash([5; 32])).await.unwrap().map(|d| d.id),
        Some(second.id.clone())
    );
    assert_eq!(store.rotate_token("no-such-device", &TokenHash([6; 32])).await.unwrap(), None);
    assert!(store.revoke_device(&second.id).await.unwrap());
    assert!(!store.revoke_device(&second.id).await.unwrap());
    assert_eq!(store.device_by_token(&TokenHash([5; 32])).await.unwrap(), None);
    assert_eq!(store.device_count().await.unwrap(), 2);
}

#[tokio::test]
async fn memory_store_meets_the_contract() {
    contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn sqlite_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(&SqliteStore::open_in(dir.path()).unwrap()).await;
}

#[tokio::test]
async fn cached_sqlite_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(&CachedDeviceStore::new(SqliteStore::open_in(dir.path()).unwrap())).await;
}

#[tokio::test]
async fn the_cache_sees_another_process_revoke_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let gateway_side = SqliteStore::open_in(dir.path()).unwrap();
    gateway_side.watch_external_changes(std::time::Duration::from_millis(50));
    let cached = CachedDeviceStore::new(gateway_side);
    cached.set_pairing_code(&code("246810", None)).await.unwrap();
    let device = cached
        .redeem_pairing_code("246810", now(), new_device("d"), &TokenHash([3; 32]))
        .await
        .unwrap()
        .unwrap();
    assert!(cached.device_by_token(&TokenHash([3; 32])).await.unwrap().is_some());
    assert!(cached.device_by_token(&TokenHash([3; 32])).await.unwrap().is_some(), "served from the cache");

    // A second connection (as the CLI would open) revokes the device.
    let cli_side = SqliteStore::open_in(dir.path()).unwrap();
    assert!(cli_side.revoke_device(&device.id).await.unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while cached.device_by_token(&TokenHash([3; 32])).await.unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "the cache never noticed the external revocation");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(cached.device_count().await.unwrap(), 0);
}

#[tokio::test]
async fn sqlite_survives_reopen_and_keeps_only_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let token_hash = TokenHash([7; 32]);
    {
        let store = SqliteStore::open_in(dir.path()).unwrap();
        store.set_pairing_code(&code("987654", None)).await.unwrap();
        store.redeem_pairing_code("987654", now(), new_device("keep"), &token_hash).await.unwrap().unwrap();
    }
    let reopened = SqliteStore::open_in(dir.path()).unwrap();
    let device = reopened.device_by_token(&token_hash).await.unwrap().unwrap();
    assert_eq!(device.name.as_deref(), Some("keep"));
    // The file holds the hash, as given, and nothing else that identifies the token.
    let raw = rusqlite::Connection::open(reopened.path()).unwrap();
    let stored: Vec<u8> = raw.query_row("SELECT token_hash FROM devices", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, token_hash.0.to_vec());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(reopened.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_redemptions_of_one_code_pair_one_device() {
    let dir = tempfile::tempdir().unwrap();
    // Separate connections to one file, as separate processes would have: only the database's own locking
    // (BEGIN IMMEDIATE) stands between them.
    let stores: Vec<_> =
        (0..4).map(|_| std::sync::Arc::new(SqliteStore::open_in(dir.path()).unwrap())).collect();
    let store = std::sync::Arc::clone(&stores[0]);
    store.set_pairing_code(&code("555555", None)).await.unwrap();
    let attempts = (0..8u8).map(|i| {
        let store = std::sync::Arc::clone(&stores[usize::from(i) % stores.len()]);
        tokio::spawn(async move {
            store
                .redeem_pairing_code("555555", now(), new_device("racer"), &TokenHash([i; 32]))
                .await
                .unwrap()
                .is_some()
        })
    });
    let mut winners = 0;
    for attempt in attempts {
        winners += usize::from(attempt.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(store.device_count().await.unwrap(), 1);
}

#[tokio::test]
async fn a_corrupt_row_is_reported_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).unwrap();
    store.set_pairing_code(&code("121212", None)).await.unwrap();
    store.redeem_pairing_code("121212", now(), new_device("x"), &TokenHash([8; 32])).await.unwrap().unwrap();
    let raw = rusqlite::Connection::open(store.path()).unwrap();
    raw.execute("UPDATE devices SET scopes = 'root'", []).unwrap();
    let err = store.list_devices().await.unwrap_err();
    assert!(matches!(err, construct_core::devices::StoreError::Corrupt(_)), "{err}");
}
