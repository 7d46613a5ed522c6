//! Opt-in test against a real Vault or OpenBao: `HELIOSDB_LIVE_KMS=1`,
//! `VAULT_ADDR`, `VAULT_TOKEN` and `HELIOSDB_LIVE_VAULT_KEY` (a transit key
//! you may use; `HELIOSDB_LIVE_VAULT_MOUNT` if not at `transit/`). Skipped,
//! and says so, otherwise.

use heliosdb_keys::{KeySource, KmsSpec, SecretKey};
use heliosdb_kms_vault::VaultTransitSource;

#[tokio::test]
async fn live_vault_transit() {
    let key = std::env::var("HELIOSDB_LIVE_VAULT_KEY").ok();
    let (true, Some(key)) = (
        std::env::var("HELIOSDB_LIVE_KMS").as_deref() == Ok("1"),
        key,
    ) else {
        println!(
            "skipped: set HELIOSDB_LIVE_KMS=1, VAULT_ADDR, VAULT_TOKEN and HELIOSDB_LIVE_VAULT_KEY \
             to run against a real Vault or OpenBao"
        );
        return;
    };
    let mut options = std::collections::BTreeMap::new();
    if let Ok(m) = std::env::var("HELIOSDB_LIVE_VAULT_MOUNT") {
        options.insert("mount".to_string(), m);
    }
    let src = VaultTransitSource::new(&KmsSpec::new("vault", key, options)).unwrap();
    let header = src.new_header().await.unwrap();
    let k = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &k, b"live").await.unwrap();
    let back = src.unwrap(&header, &blob, b"live").await.unwrap();
    assert_eq!(back.expose_secret(), k.expose_secret());
    assert!(src.unwrap(&header, &blob, b"other").await.is_err());
}
