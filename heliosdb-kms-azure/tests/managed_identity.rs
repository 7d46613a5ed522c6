//! Managed identity through the SDK's `ManagedIdentityCredential`, against
//! the local App Service identity endpoint (`IDENTITY_ENDPOINT` and
//! `IDENTITY_HEADER`, the variables the SDK reads; the VM IMDS address is
//! fixed in the SDK, the request it sends is the same). The endpoint issues
//! tokens to the system-assigned identity or to the user-assigned identity
//! named by `client_id`; only the user-assigned one holds a role on the vault.
//!
//! One test in this file: it sets process environment variables.

mod common;

use common::kind_of;

use common::{FakeVault, Role};
use heliosdb_keys::{KeySource, KmsErrorKind, KmsSpec, SecretKey};
use heliosdb_kms_azure::AzureKeyVaultSource;

const UAMI: &str = "1b7ac3f0-0000-4000-8000-0000000a11ce";
const SYSTEM: &str = "system-assigned-principal";

fn spec(vault: &FakeVault, extra: &[(&str, &str)]) -> KmsSpec {
    let mut options = vec![("credential", "managed_identity")];
    options.extend_from_slice(extra);
    common::vault_spec("k", vault, 1, &options)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_assigned_identity_is_chosen_by_client_id() {
    let vault = FakeVault::start();
    vault.create_key("k");
    let secret = vault.with_directory(|d| {
        d.identities.insert(UAMI.to_string());
        d.system_identity = Some(SYSTEM.to_string());
        d.identity_header.clone()
    });
    vault.assign_role(UAMI, Role::CryptoUser);
    std::env::set_var("IDENTITY_ENDPOINT", format!("{}/msi/token", vault.url()));
    std::env::set_var("IDENTITY_HEADER", &secret);

    // The user-assigned identity: a token for Key Vault's resource, once.
    let src = AzureKeyVaultSource::new(&spec(&vault, &[("client_id", UAMI)])).unwrap();
    let header = src.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &key, b"aad").await.unwrap();
    let back = src.unwrap(&header, &blob, b"aad").await.unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
    assert_eq!(vault.count("msi"), 1);

    // Without client_id the system-assigned identity signs in, and it has
    // no role on the vault: 403, so client_id really chose the identity.
    let err = AzureKeyVaultSource::new(&spec(&vault, &[]))
        .unwrap()
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains("Forbidden"), "{err}");
    assert_eq!(vault.count("msi"), 2);

    // An identity not assigned to this resource: the endpoint's 400, named.
    let err = AzureKeyVaultSource::new(&spec(
        &vault,
        &[("client_id", "00000000-0000-0000-0000-0000000000ff")],
    ))
    .unwrap()
    .new_header()
    .await
    .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(
        err.to_string()
            .contains("requested identity has not been assigned"),
        "{err}"
    );
    assert_eq!(vault.count("msi_refused"), 1);

    // The wrong identity header: refused, and the secret is not printed.
    std::env::set_var("IDENTITY_HEADER", "not-the-header");
    let src = AzureKeyVaultSource::new(&spec(&vault, &[("client_id", UAMI)])).unwrap();
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert_eq!(vault.count("msi_refused"), 2);
    for s in [err.to_string(), format!("{err:?}"), format!("{src:?}")] {
        assert!(!s.contains(&secret) && !s.contains("entra-token"), "{s}");
    }

    // tenant_id does not apply to managed identity: refused at parse.
    let err = AzureKeyVaultSource::new(&spec(&vault, &[("tenant_id", "t")])).unwrap_err();
    assert!(err.to_string().contains("does not apply"), "{err}");
}
