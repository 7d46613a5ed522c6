//! Managed HSM `oct-HSM` keys: AES-256-GCM `encrypt`/`decrypt` with native
//! AAD, through the real `azure_security_keyvault_keys` client against the
//! local server in `common`, which answers the Managed HSM challenge
//! (`resource="https://managedhsm.azure.net"`), serves `A256GCM` on `oct-HSM`
//! keys only and RSA-OAEP on RSA keys only, and verifies the GCM tag over
//! the AAD on decrypt.

mod common;

use common::kind_of;

use std::sync::Arc;

use common::{FakeVault, Role, ScopedToken, MANAGED_HSM_RESOURCE, TOKEN};
use heliosdb_core::config::KeySource as KeySourceConfig;
use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::{conformance, KekHeader, KeySource, KmsErrorKind, KmsSpec, SecretKey};
use heliosdb_kms_azure::{
    AzureKeyVaultExt, AzureKeyVaultSource, BLOB_FORMAT_A256GCM, BLOB_FORMAT_V1,
};

const HSM_SCOPE: &str = "https://managedhsm.azure.net/.default";

fn spec(key: &str, vault: &FakeVault) -> KmsSpec {
    common::vault_spec(key, vault, 2, &[])
}

fn with_token(name: &str, vault: &FakeVault, token: &str) -> AzureKeyVaultSource {
    AzureKeyVaultSource::with_credential(
        &spec(name, vault),
        Arc::new(ScopedToken {
            token: token.to_string(),
            scope: HSM_SCOPE.to_string(),
        }),
    )
    .unwrap()
}

fn source(name: &str, vault: &FakeVault) -> AzureKeyVaultSource {
    with_token(name, vault, TOKEN)
}

/// A local Managed HSM.
fn hsm() -> FakeVault {
    let vault = FakeVault::start();
    vault.set_challenge_resource(MANAGED_HSM_RESOURCE);
    vault
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_suite_passes_with_oct_hsm_keys() {
    let vault = hsm();
    vault.create_oct_key("a");
    vault.create_oct_key("b");
    conformance::run(
        &source("a", &vault),
        &source("b", &vault),
        &[TOKEN.as_bytes()],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oct_hsm_slots_record_a256gcm_and_seal_with_encrypt() {
    let vault = hsm();
    vault.create_oct_key("k");
    let src = source("k", &vault);
    let header = src.new_header().await.unwrap();
    let kms = header.kms.as_ref().unwrap();
    assert_eq!(
        kms.options.get("algorithm").map(String::as_str),
        Some("A256GCM")
    );
    assert_eq!(
        kms.key_version.as_deref(),
        Some(vault.versions("k")[0].as_str())
    );
    // The slot survives its JSON round trip (the keyring's form).
    let json = serde_json::to_string(&header).unwrap();
    let header: KekHeader = serde_json::from_str(&json).unwrap();

    let key = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &key, b"db-1/slot-0").await.unwrap();
    assert_eq!(blob[0], BLOB_FORMAT_A256GCM);
    assert_eq!(blob.len(), 1 + 12 + 16 + 32, "format, iv, tag, ciphertext");
    assert_eq!((vault.count("encrypt"), vault.count("wrapkey")), (1, 0));
    let back = src.unwrap(&header, &blob, b"db-1/slot-0").await.unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
    assert_eq!((vault.count("decrypt"), vault.count("unwrapkey")), (1, 0));
    // Two wraps of one key differ: the HSM draws a fresh IV each time.
    let again = src.wrap(&header, &key, b"db-1/slot-0").await.unwrap();
    assert_ne!(again[1..13], blob[1..13]);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_aad_tampering_and_other_keys_are_refused_by_the_hsm() {
    let vault = hsm();
    vault.create_oct_key("right");
    vault.create_oct_key("other");
    let (r, o) = (source("right", &vault), source("other", &vault));
    let header = r.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let blob = r.wrap(&header, &key, b"aad").await.unwrap();

    // A different AAD: the HSM's tag check fails (400 BadParameter).
    let before = vault.count("decrypt");
    let err = r.unwrap(&header, &blob, b"other aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("BadParameter") && msg.contains("Decrypt of key 'right'"),
        "{msg}"
    );
    assert_eq!(vault.count("decrypt"), before + 1, "the HSM decided");

    // Any flipped bit of iv, tag or ciphertext.
    for at in [1, 12, 13, 28, 29, 60] {
        let mut bad = blob.clone();
        bad[at] ^= 0x01;
        let err = r.unwrap(&header, &bad, b"aad").await.unwrap_err();
        assert_eq!(
            kind_of(&err),
            Some(KmsErrorKind::WrongKey),
            "byte {at}: {err}"
        );
    }
    // Truncated or extended: refused without a request.
    let before = vault.count("decrypt");
    for bad in [
        &blob[..blob.len() - 1],
        &[&blob[..], &[0u8][..]].concat()[..],
    ] {
        let err = r.unwrap(&header, bad, b"aad").await.unwrap_err();
        assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    }
    assert_eq!(vault.count("decrypt"), before);

    // A blob another oct-HSM key made, presented under this key's slot.
    let o_header = o.new_header().await.unwrap();
    let o_blob = o.wrap(&o_header, &key, b"aad").await.unwrap();
    let err = r.unwrap(&header, &o_blob, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    // And the other key does not claim this slot at all.
    assert!(!o.matches(&header).await.unwrap());

    // An RSA-format blob (which anyone with an RSA public key could make)
    // under the AES-GCM slot: refused before any request.
    let mut forged = vec![BLOB_FORMAT_V1];
    forged.extend_from_slice(&[7u8; 256]);
    let before = vault.count("requests");
    let err = r.unwrap(&header, &forged, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert!(err.to_string().contains("A256Gcm"), "{err}");
    assert_eq!(vault.count("requests"), before);
    // Nothing printed carries the token or key bytes.
    for s in [err.to_string(), format!("{err:?}"), format!("{r:?}")] {
        assert!(!s.contains(TOKEN), "{s}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_refuses_an_algorithm_the_key_type_does_not_have() {
    let vault = hsm();
    vault.create_oct_key("aes");
    vault.create_key("rsa");
    let aes = source("aes", &vault);
    let rsa = source("rsa", &vault);
    let aes_header = aes.new_header().await.unwrap();
    let rsa_header = rsa.new_header().await.unwrap();
    assert!(rsa_header.kms.as_ref().unwrap().options.is_empty());
    let key = SecretKey::generate().unwrap();

    // A slot claiming A256GCM for the RSA key: Key Vault refuses A256GCM on
    // an RSA key (400 BadParameter on Encrypt: an invalid request).
    let mut lying = rsa_header.clone();
    lying
        .kms
        .as_mut()
        .unwrap()
        .options
        .insert("algorithm".into(), "A256GCM".into());
    let err = rsa.wrap(&lying, &key, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::InvalidRequest), "{err}");
    assert!(
        err.to_string()
            .contains("Invalid algorithm 'A256GCM' for key type RSA"),
        "{err}"
    );
    // A slot without an algorithm (RSA-OAEP) for the oct-HSM key: the HSM
    // refuses RSA-OAEP-256 on an AES key.
    let mut old_style = aes_header.clone();
    old_style.kms.as_mut().unwrap().options.clear();
    let err = aes.wrap(&old_style, &key, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::InvalidRequest), "{err}");
    assert!(err.to_string().contains("oct-HSM"), "{err}");
    // An algorithm this version does not know: refused, no request.
    let mut unknown = aes_header.clone();
    unknown
        .kms
        .as_mut()
        .unwrap()
        .options
        .insert("algorithm".into(), "A128KW".into());
    let before = vault.count("requests");
    let err = aes.wrap(&unknown, &key, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert!(err.to_string().contains("A128KW"), "{err}");
    assert_eq!(vault.count("requests"), before);

    // An AES-GCM blob under an RSA slot: refused without a request.
    let gcm_blob = aes.wrap(&aes_header, &key, b"aad").await.unwrap();
    let before = vault.count("requests");
    let err = rsa
        .unwrap(&rsa_header, &gcm_blob, b"aad")
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert_eq!(vault.count("requests"), before);

    // RSA keys in the HSM keep working with RSA-OAEP-256 (slots as before).
    let blob = rsa.wrap(&rsa_header, &key, b"aad").await.unwrap();
    assert_eq!(blob[0], BLOB_FORMAT_V1);
    let back = rsa.unwrap(&rsa_header, &blob, b"aad").await.unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());

    // An oct-HSM key whose operations exclude decrypt is refused at new_header.
    vault.create_oct_key("encrypt-only");
    vault.describe_as("encrypt-only", "oct-HSM", &["encrypt"]);
    let err = source("encrypt-only", &vault)
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");
    assert!(err.to_string().contains("does not permit decrypt"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_are_pinned_and_roles_are_enforced() {
    let vault = hsm();
    vault.create_oct_key("pinned");
    let src = source("pinned", &vault);
    let h1 = src.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let b1 = src.wrap(&h1, &key, b"aad").await.unwrap();
    let v2 = vault.rotate("pinned");
    let h2 = src.new_header().await.unwrap();
    assert_eq!(
        h2.kms.as_ref().unwrap().key_version.as_deref(),
        Some(v2.as_str())
    );
    // The old slot opens with its own version; the new version cannot
    // open the old blob.
    assert_eq!(
        src.unwrap(&h1, &b1, b"aad").await.unwrap().expose_secret(),
        key.expose_secret()
    );
    let err = src.unwrap(&h2, &b1, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::WrongKey), "{err}");

    // "Managed HSM Crypto Service Encryption User" may get, wrap and
    // unwrap but not encrypt/decrypt: A256GCM needs "Managed HSM Crypto User".
    vault.assign_role("svc-enc", Role::ServiceEncryptionUser);
    let token = vault.issue_token("svc-enc", MANAGED_HSM_RESOURCE);
    let limited = with_token("pinned", &vault, &token);
    let err = limited.wrap(&h1, &key, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(
        err.to_string()
            .contains("does not have keys encrypt permission"),
        "{err}"
    );
    let err = limited.unwrap(&h1, &b1, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    vault.assign_role("crypto-user", Role::CryptoUser);
    let token = vault.issue_token("crypto-user", MANAGED_HSM_RESOURCE);
    let user = with_token("pinned", &vault, &token);
    assert!(user.unwrap(&h1, &b1, b"aad").await.is_ok());
    // A token for another audience (Key Vault's) is refused by the HSM.
    let token = vault.issue_token("crypto-user", "https://vault.azure.net");
    let err = with_token("pinned", &vault, &token)
        .unwrap(&h1, &b1, b"aad")
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");

    // A disabled version: key unusable, as for RSA keys.
    vault.disable_version("pinned", 1);
    let err = src.unwrap(&h1, &b1, b"aad").await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::KeyUnusable), "{err}");
}

#[test]
fn an_engine_on_an_oct_hsm_key_opens_with_one_decrypt() {
    let vault = hsm();
    vault.create_oct_key("engine");
    let dir = tempfile::tempdir().unwrap();
    const VAR: &str = "HELIOSDB_AZURE_HSM_TEST_TOKEN";
    std::env::set_var(VAR, TOKEN);
    let toml = format!(
        "[encryption]\nenabled = true\n\
         key_source = {{ Kms = {{ provider = \"azure\", key_id = \"engine\" }} }}\n\n\
         [encryption.kms]\nvault_url = \"{}\"\nca_file = \"{}\"\n\
         access_token_env = \"{VAR}\"\nverify_challenge_resource = \"false\"\n",
        vault.url(),
        vault.ca_file().display()
    );
    let file = dir.path().join("heliosdb.toml");
    std::fs::write(&file, toml).unwrap();
    let config = Config::from_file(&file).unwrap();
    assert!(matches!(
        config.encryption.key_source,
        KeySourceConfig::Kms { .. }
    ));
    let path = dir.path().join("db");
    let storage = StorageEngine::open(&path, &config).unwrap();
    storage.put(b"k", b"v").unwrap();
    drop(storage);
    assert_eq!(vault.count("encrypt"), 1);
    let decrypts = vault.count("decrypt");
    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(storage.get(b"k").unwrap().unwrap(), b"v");
    assert_eq!(vault.count("decrypt"), decrypts + 1, "one decrypt at open");
    assert_eq!(vault.count("wrapkey") + vault.count("unwrapkey"), 0);
}
