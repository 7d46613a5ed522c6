//! Opt-in test against a real Azure Key Vault: `HELIOSDB_LIVE_KMS=1`,
//! `AZURE_KEYVAULT_URL` (`https://<vault>.vault.azure.net`),
//! `HELIOSDB_LIVE_AZURE_KEY` (the name of an RSA key you may use for
//! wrapKey/unwrapKey) and credentials the default chain finds (Azure CLI
//! login, `AZURE_CLIENT_ID`/`AZURE_TENANT_ID`/`AZURE_CLIENT_SECRET`, workload
//! or managed identity). Skipped, and says so, otherwise. A second test
//! does the same for a Managed HSM `oct-HSM` key (`HELIOSDB_LIVE_AZURE_HSM_KEY`).

use heliosdb_keys::{KeySource, KmsSpec, SecretKey};
use heliosdb_kms_azure::AzureKeyVaultSource;

#[tokio::test]
async fn live_key_vault() {
    let (true, Ok(vault), Ok(key)) = (
        std::env::var("HELIOSDB_LIVE_KMS").as_deref() == Ok("1"),
        std::env::var("AZURE_KEYVAULT_URL"),
        std::env::var("HELIOSDB_LIVE_AZURE_KEY"),
    ) else {
        println!(
            "skipped: set HELIOSDB_LIVE_KMS=1, AZURE_KEYVAULT_URL, HELIOSDB_LIVE_AZURE_KEY and \
             Azure credentials to run against a real Key Vault"
        );
        return;
    };
    let src = AzureKeyVaultSource::new(&KmsSpec::new(
        "azure",
        key,
        [("vault_url".to_string(), vault)].into(),
    ))
    .unwrap();
    let header = src.new_header().await.unwrap();
    assert!(header.kms.as_ref().unwrap().key_version.is_some());
    let k = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &k, b"live").await.unwrap();
    let back = src.unwrap(&header, &blob, b"live").await.unwrap();
    assert_eq!(back.expose_secret(), k.expose_secret());
    assert!(src.unwrap(&header, &blob, b"other").await.is_err());
}

/// Opt-in, against a real Managed HSM: `HELIOSDB_LIVE_KMS=1` and
/// `HELIOSDB_LIVE_AZURE_HSM_KEY` = the full URL of an `oct-HSM` key
/// (`https://<hsm>.managedhsm.azure.net/keys/<name>`) the credentials may
/// use with *Managed HSM Crypto User*. Checks what the local server assumes:
/// A256GCM round trip, and a wrong AAD refused as a wrong key (the HSM's
/// answer to a tag that does not verify).
#[tokio::test]
async fn live_managed_hsm_oct_key() {
    use heliosdb_keys::{Error, KmsErrorKind};
    let (true, Ok(key)) = (
        std::env::var("HELIOSDB_LIVE_KMS").as_deref() == Ok("1"),
        std::env::var("HELIOSDB_LIVE_AZURE_HSM_KEY"),
    ) else {
        println!(
            "skipped: set HELIOSDB_LIVE_KMS=1, HELIOSDB_LIVE_AZURE_HSM_KEY and Azure credentials \
             to run against a real Managed HSM"
        );
        return;
    };
    let src = AzureKeyVaultSource::new(&KmsSpec::new("azure", key, Default::default())).unwrap();
    let header = src.new_header().await.unwrap();
    let kms = header.kms.as_ref().unwrap();
    assert_eq!(
        kms.options.get("algorithm").map(String::as_str),
        Some("A256GCM")
    );
    let k = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &k, b"live").await.unwrap();
    let back = src.unwrap(&header, &blob, b"live").await.unwrap();
    assert_eq!(back.expose_secret(), k.expose_secret());
    let err = src.unwrap(&header, &blob, b"other").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Kms {
                kind: KmsErrorKind::WrongKey,
                ..
            }
        ),
        "{err}"
    );
}
