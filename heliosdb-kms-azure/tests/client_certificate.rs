//! The client-certificate credential and sovereign-cloud options end to
//! end: the SDK's `ClientAssertionCredential` with our RS256 assertion posts
//! to the local Entra ID (`authority_host` pointed at it), which verifies the
//! assertion's signature with the registered certificate's public key and
//! issues a token for the requested resource; the local vault accepts it only
//! for its own resource and the principal's role.

mod common;

use common::kind_of;

use common::{entra, rsa_certificate, FakeVault, Role, TENANT};
use heliosdb_keys::{KeySource, KmsErrorKind, KmsSpec, SecretKey};
use heliosdb_kms_azure::AzureKeyVaultSource;

const CLIENT: &str = "6f0c1d2e-0000-4000-8000-00000000c1e7";

fn spec(key: &str, vault: &FakeVault, cert: &std::path::Path, extra: &[(&str, &str)]) -> KmsSpec {
    let cert = cert.display().to_string();
    let url = vault.url();
    let mut options = vec![
        ("credential", "client_certificate"),
        ("certificate_file", cert.as_str()),
        ("tenant_id", TENANT),
        ("client_id", CLIENT),
        // The local Entra ID shares the vault's listener.
        ("authority_host", url.as_str()),
    ];
    options.extend_from_slice(extra);
    common::vault_spec(key, vault, 1, &options)
}

fn register(vault: &FakeVault, app: &entra::App) {
    let app = app.clone();
    vault.with_directory(|d| d.apps.insert(CLIENT.to_string(), app));
}

async fn round_trip(src: &AzureKeyVaultSource) {
    let header = src.new_header().await.unwrap();
    let key = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &key, b"aad").await.unwrap();
    let back = src.unwrap(&header, &blob, b"aad").await.unwrap();
    assert_eq!(back.expose_secret(), key.expose_secret());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_signed_assertion_gets_a_token_from_the_authority_host() {
    let dir = tempfile::tempdir().unwrap();
    let vault = FakeVault::start();
    vault.create_key("k");
    vault.create_oct_key("aes");
    for pkcs1 in [false, true] {
        let cert = rsa_certificate(dir.path(), &format!("sp-{pkcs1}"), pkcs1);
        register(&vault, &cert.app);
        vault.assign_role(CLIENT, Role::CryptoUser);
        let tokens = vault.count("token");
        let src = AzureKeyVaultSource::new(&spec("k", &vault, &cert.pem_file, &[])).unwrap();
        round_trip(&src).await;
        assert_eq!(vault.count("token"), tokens + 1, "one token, then cached");
        assert_eq!(vault.count("token_refused"), 0);
        // Neither the PEM nor the private key shows in Debug.
        let debug = format!("{src:?}");
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    }

    // The role decides what the token may do: the service encryption role
    // wraps with RSA but may not encrypt with the oct-HSM key.
    vault.assign_role(CLIENT, Role::ServiceEncryptionUser);
    let cert = rsa_certificate(dir.path(), "sp-limited", false);
    register(&vault, &cert.app);
    round_trip(&AzureKeyVaultSource::new(&spec("k", &vault, &cert.pem_file, &[])).unwrap()).await;
    let aes = AzureKeyVaultSource::new(&spec("aes", &vault, &cert.pem_file, &[])).unwrap();
    let header = aes.new_header().await.unwrap();
    let err = aes
        .wrap(&header, &SecretKey::generate().unwrap(), b"aad")
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_or_bad_certificate_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let vault = FakeVault::start();
    vault.create_key("k");
    vault.assign_role(CLIENT, Role::CryptoUser);
    let registered = rsa_certificate(dir.path(), "registered", false);
    let other = rsa_certificate(dir.path(), "other", false);
    register(&vault, &registered.app);

    // Another certificate: Entra ID does not know its thumbprint.
    let src = AzureKeyVaultSource::new(&spec("k", &vault, &other.pem_file, &[])).unwrap();
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("AADSTS700027") && msg.contains("The key was not found"),
        "{msg}"
    );
    // The registered certificate with another private key: the thumbprint
    // matches, the signature does not verify.
    let cert_pem = std::fs::read_to_string(&registered.pem_file).unwrap();
    let other_pem = std::fs::read_to_string(&other.pem_file).unwrap();
    let cert_part = &cert_pem[..cert_pem.find("-----BEGIN PRIVATE KEY").unwrap()];
    let key_part = &other_pem[other_pem.find("-----BEGIN PRIVATE KEY").unwrap()..];
    let mixed = dir.path().join("mixed.pem");
    std::fs::write(&mixed, format!("{cert_part}{key_part}")).unwrap();
    let src = AzureKeyVaultSource::new(&spec("k", &vault, &mixed, &[])).unwrap();
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("does not verify"), "{msg}");
    // No secret in the message: neither key material nor the assertion.
    let key_b64_line = key_part.lines().nth(1).unwrap();
    for s in [msg.clone(), format!("{err:?}")] {
        assert!(!s.contains(key_b64_line) && !s.contains("eyJ"), "{s}");
    }
    assert_eq!(vault.count("token"), 0);

    // An unknown client id.
    let src = AzureKeyVaultSource::new(&spec(
        "k",
        &vault,
        &registered.pem_file,
        &[("client_id", "00000000-0000-0000-0000-00000000dead")],
    ))
    .unwrap();
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains("AADSTS700016"), "{err}");

    // A certificate with an EC key (rcgen's default): named, no request.
    let ec_key = rcgen::KeyPair::generate().unwrap();
    let ec_cert = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&ec_key)
        .unwrap();
    let ec = dir.path().join("ec.pem");
    std::fs::write(&ec, format!("{}{}", ec_cert.pem(), ec_key.serialize_pem())).unwrap();
    let requests = vault.count("requests");
    let err = AzureKeyVaultSource::new(&spec("k", &vault, &ec, &[]))
        .unwrap()
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains("not RSA"), "{err}");
    assert_eq!(vault.count("requests"), requests);
    // A missing file and a file without a certificate.
    let err = AzureKeyVaultSource::new(&spec("k", &vault, &dir.path().join("absent.pem"), &[]))
        .unwrap()
        .new_header()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot read certificate file"),
        "{err}"
    );
    let keyonly = dir.path().join("keyonly.pem");
    std::fs::write(&keyonly, key_part).unwrap();
    let err = AzureKeyVaultSource::new(&spec("k", &vault, &keyonly, &[]))
        .unwrap()
        .new_header()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("holds no CERTIFICATE"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sovereign_clouds_ask_for_their_own_key_vault_resource() {
    let dir = tempfile::tempdir().unwrap();
    let vault = FakeVault::start();
    vault.create_key("k");
    vault.assign_role(CLIENT, Role::CryptoUser);
    let cert = rsa_certificate(dir.path(), "gov", false);
    register(&vault, &cert.app);
    // A US Government vault and authority: the challenge names the US Gov
    // Key Vault resource, and the authority knows only its cloud's resources.
    const GOV: &str = "https://vault.usgovcloudapi.net";
    vault.set_challenge_resource(GOV);
    vault.with_directory(|d| {
        d.resources = vec![
            GOV.to_string(),
            "https://managedhsm.usgovcloudapi.net".to_string(),
        ]
    });
    let gov = AzureKeyVaultSource::new(&spec("k", &vault, &cert.pem_file, &[("cloud", "usgov")]))
        .unwrap();
    round_trip(&gov).await;
    assert_eq!(vault.count("token"), 1);

    // Configured for the public cloud (the default for a vault outside
    // Azure's domains), the same challenge is refused before any token
    // request: the resource is not the public cloud's Key Vault.
    let public = AzureKeyVaultSource::new(&spec("k", &vault, &cert.pem_file, &[])).unwrap();
    let err = public.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("vault.usgovcloudapi.net") && msg.contains("set option 'cloud'"),
        "{msg}"
    );
    assert_eq!(vault.count("token") + vault.count("token_refused"), 1);

    // A vault answering with another service's resource (possible only
    // with verify_challenge_resource = false) gets no token either.
    vault.set_challenge_resource("https://management.azure.com");
    let err = AzureKeyVaultSource::new(&spec("k", &vault, &cert.pem_file, &[("cloud", "usgov")]))
        .unwrap()
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert_eq!(vault.count("token") + vault.count("token_refused"), 1);
}
