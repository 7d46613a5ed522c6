//! Service-account impersonation end to end: the real Cloud KMS client and
//! Application Default Credentials (an `authorized_user` file) against a
//! strict local IAM Credentials + OAuth server and the local Cloud KMS
//! server in `common`, which here authenticates every request and applies
//! the caller's own permissions — so a passing test shows which identity
//! reached Cloud KMS.
//!
//! The ADC file is named by GOOGLE_APPLICATION_CREDENTIALS, set once per
//! test process to one shared identity server (nextest runs each test in
//! its own process; under `cargo test` they share it).

mod common;
#[path = "common/iam.rs"]
mod iam;

use std::sync::OnceLock;
use std::time::Duration;

use common::{FakeKms, ROLE_ENCRYPTER_DECRYPTER};
use heliosdb_core::config::KeySource as KeySourceConfig;
use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::{conformance, Error, KeySource, KmsErrorKind, KmsSpec, SecretKey};
use heliosdb_kms_gcp::GcpKmsSource;
use iam::{FakeIam, IamFault};

const ALICE_REFRESH: &str = "alice-refresh-token";

struct Env {
    iam: FakeIam,
    /// The ADC identity: `user:alice@example.com`.
    alice: String,
    _dir: tempfile::TempDir,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let iam = FakeIam::start();
        let alice = iam.add_user("alice@example.com", ALICE_REFRESH);
        let dir = tempfile::tempdir().unwrap();
        let adc = iam.adc_file(dir.path(), ALICE_REFRESH);
        std::env::set_var("GOOGLE_APPLICATION_CREDENTIALS", &adc);
        Env {
            iam,
            alice,
            _dir: dir,
        }
    })
}

fn sa(name: &str) -> String {
    format!("{name}@heliosdb-test.iam.gserviceaccount.com")
}

/// A local Cloud KMS that accepts only live tokens of the identity server.
fn kms() -> FakeKms {
    let kms = FakeKms::start();
    kms.require_tokens(env().iam.verifier());
    kms
}

fn options(
    kms: &FakeKms,
    impersonate: Option<&str>,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut o = vec![
        ("endpoint".to_string(), kms.endpoint()),
        ("insecure_endpoint".to_string(), "true".to_string()),
        ("max_attempts".to_string(), "2".to_string()),
        ("timeout_secs".to_string(), "5".to_string()),
    ];
    if let Some(target) = impersonate {
        o.push(("impersonate_service_account".into(), target.into()));
        o.push(("iam_credentials_endpoint".into(), env().iam.endpoint()));
    }
    o.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    o
}

fn source(
    key: &str,
    kms: &FakeKms,
    impersonate: Option<&str>,
    extra: &[(&str, &str)],
) -> GcpKmsSource {
    GcpKmsSource::new(&KmsSpec::new(
        "gcp",
        key,
        options(kms, impersonate, extra).into_iter().collect(),
    ))
    .unwrap()
}

fn kind_of(err: &Error) -> Option<KmsErrorKind> {
    match err {
        Error::Kms { kind, .. } => Some(*kind),
        _ => None,
    }
}

/// No token the identity server ever issued appears in `text`.
fn assert_no_token(text: &str) {
    assert!(!text.contains("ya29."), "{text}");
    for t in env().iam.issued_tokens() {
        assert!(!text.contains(&t), "{text}");
    }
}

/// A service account that alice may impersonate; returns (email, principal).
fn impersonable(name: &str) -> (String, String) {
    let e = env();
    let email = sa(name);
    let principal = e.iam.add_service_account(&email);
    e.iam.grant_token_creator(&email, &e.alice);
    (email, principal)
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_sees_the_impersonated_service_account_not_the_caller() {
    let e = env();
    let (email, principal) = impersonable("kms-user");
    let kms = kms();
    let a = kms.create_key("ring", "imp-a");
    let b = kms.create_key("ring", "imp-b");
    // The least-privilege role, for the service account only.
    kms.grant_to(&a, &principal, ROLE_ENCRYPTER_DECRYPTER);
    kms.grant_to(&b, &principal, ROLE_ENCRYPTER_DECRYPTER);

    let sa_a = source(&a, &kms, Some(&email), &[]);
    conformance::run(&sa_a, &source(&b, &kms, Some(&email), &[]), &[]).await;
    // A slot records the key only: which service account to call as is
    // the opener's choice.
    let header = sa_a.new_header().await.unwrap();
    assert!(header.kms.as_ref().unwrap().options.is_empty());
    assert_eq!(kms.principals_seen(), std::slice::from_ref(&principal));
    assert_eq!(kms.unauthenticated(), 0);
    assert!(!e.iam.minted(&email).is_empty());
    let debug = format!("{sa_a:?}");
    assert!(debug.contains(&email), "{debug}");
    assert_no_token(&debug);

    // Alice's own token reaches Cloud KMS without impersonation, and the
    // key refuses her: only the service account holds a role on it.
    let direct = source(&a, &kms, None, &[]);
    let err = direct.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains("PERMISSION_DENIED"), "{err}");
    assert!(kms.principals_seen().contains(&e.alice));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_without_token_creator_is_told_to_grant_it() {
    let e = env();
    let email = sa("no-grant");
    let principal = e.iam.add_service_account(&email);
    let kms = kms();
    let key = kms.create_key("ring", "no-grant");
    kms.grant_to(&key, &principal, ROLE_ENCRYPTER_DECRYPTER);

    let err = source(&key, &kms, Some(&email), &[])
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(!err.is_retryable(), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("PERMISSION_DENIED"), "{msg}");
    assert!(
        msg.contains("roles/iam.serviceAccountTokenCreator"),
        "{msg}"
    );
    assert!(msg.contains(&email), "{msg}");
    assert_no_token(&msg);
    // Refused before any request reached Cloud KMS.
    assert_eq!(kms.count("GetCryptoKey") + kms.count("Encrypt"), 0);
    assert!(kms.principals_seen().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_account_without_the_key_role_is_denied_by_kms() {
    let (email, principal) = impersonable("no-key");
    let kms = kms();
    let key = kms.create_key("ring", "no-key");
    let src = source(&key, &kms, Some(&email), &[]);
    let err = src.new_header().await.unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("PERMISSION_DENIED"), "{msg}");
    assert!(
        msg.contains(&format!(
            "grant {email} roles/cloudkms.cryptoKeyEncrypterDecrypter"
        )),
        "{msg}"
    );
    assert_eq!(kms.principals_seen(), [principal]);
    assert_no_token(&msg);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_service_account_is_not_found() {
    let kms = kms();
    let key = kms.create_key("ring", "ghost");
    let err = source(&key, &kms, Some(&sa("ghost")), &[])
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::NotFound), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("Gaia id not found"), "{msg}");
    assert!(msg.contains("check impersonate_service_account"), "{msg}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delegation_chain_is_checked_link_by_link() {
    let e = env();
    let (hop, _) = impersonable("hop");
    let target = sa("chained");
    let target_principal = e.iam.add_service_account(&target);
    let kms = kms();
    let key = kms.create_key("ring", "chained");
    kms.grant_to(&key, &target_principal, ROLE_ENCRYPTER_DECRYPTER);
    let via_hop = [("delegates", hop.as_str())];

    // hop may not yet mint tokens for the target.
    let err = source(&key, &kms, Some(&target), &via_hop)
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
    assert!(err.to_string().contains("along the chain"), "{err}");

    e.iam
        .grant_token_creator(&target, &format!("serviceAccount:{hop}"));
    let src = source(&key, &kms, Some(&target), &via_hop);
    let header = src.new_header().await.unwrap();
    let k = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &k, b"aad").await.unwrap();
    let back = src.unwrap(&header, &blob, b"aad").await.unwrap();
    assert_eq!(back.expose_secret(), k.expose_secret());
    assert_eq!(kms.principals_seen(), [target_principal]);

    // Without the hop, alice alone may not impersonate the target.
    let err = source(&key, &kms, Some(&target), &[])
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::AccessDenied), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_cached_then_minted_again_before_they_expire() {
    let e = env();
    let (email, principal) = impersonable("short-lived");
    let kms = kms();
    let key = kms.create_key("ring", "short-lived");
    kms.grant_to(&key, &principal, ROLE_ENCRYPTER_DECRYPTER);
    // A 6 s token is minted again once 4.5 s have passed (a quarter early).
    let src = source(
        &key,
        &kms,
        Some(&email),
        &[("impersonation_lifetime_secs", "6")],
    );
    let header = src.new_header().await.unwrap();
    let k = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &k, b"aad").await.unwrap();
    for _ in 0..3 {
        src.unwrap(&header, &blob, b"aad").await.unwrap();
    }
    assert_eq!(e.iam.minted(&email), [6], "one token serves every call");

    tokio::time::sleep(Duration::from_millis(4700)).await;
    src.unwrap(&header, &blob, b"aad").await.unwrap();
    assert_eq!(e.iam.minted(&email), [6, 6], "minted again before expiry");
    // Past the first token's expiry: the second one is in use, and Cloud
    // KMS never saw an expired token.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    src.unwrap(&header, &blob, b"aad").await.unwrap();
    assert_eq!(e.iam.minted(&email), [6, 6]);
    assert_eq!(kms.unauthenticated(), 0);
    assert_eq!(kms.principals_seen(), [principal]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_iam_answers_are_clear_errors_without_tokens() {
    let e = env();
    let (email, principal) = impersonable("faulty");
    let kms = kms();
    let key = kms.create_key("ring", "faulty");
    kms.grant_to(&key, &principal, ROLE_ENCRYPTER_DECRYPTER);

    for (fault, says) in [
        (IamFault::NotJson, "is not the expected JSON"),
        (IamFault::NoToken, "has no accessToken"),
        (IamFault::Expired, "had already expired"),
    ] {
        e.iam.inject(&[fault]);
        let err = source(&key, &kms, Some(&email), &[])
            .new_header()
            .await
            .unwrap_err();
        assert_eq!(kind_of(&err), Some(KmsErrorKind::Unavailable), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(says), "{fault:?}: {msg}");
        assert!(msg.contains(&email), "{msg}");
        assert_no_token(&msg);
        assert_no_token(&format!("{err:?}"));
    }
    assert!(kms.principals_seen().is_empty(), "no bad token reached KMS");

    // An outage that outlasts the attempts is unavailable (retryable).
    e.iam
        .inject(&[IamFault::Unavailable, IamFault::Unavailable]);
    let err = source(&key, &kms, Some(&email), &[])
        .new_header()
        .await
        .unwrap_err();
    assert_eq!(kind_of(&err), Some(KmsErrorKind::Unavailable), "{err}");
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("503"), "{err}");
    assert_no_token(&err.to_string());

    // One that does not is ridden out.
    e.iam.inject(&[IamFault::Unavailable]);
    let src = source(&key, &kms, Some(&email), &[]);
    src.new_header().await.unwrap();
    assert_eq!(kms.principals_seen(), [principal]);
}

#[test]
fn the_config_file_options_reach_the_engine() {
    let (email, principal) = impersonable("engine");
    let kms = kms();
    let key = kms.create_key("ring", "engine");
    kms.grant_to(&key, &principal, ROLE_ENCRYPTER_DECRYPTER);
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[encryption]\nenabled = true\n\
         key_source = {{ Kms = {{ provider = \"gcp\", key_id = \"{key}\" }} }}\n\n\
         [encryption.kms]\nendpoint = \"{}\"\ninsecure_endpoint = \"true\"\n\
         impersonate_service_account = \"{email}\"\n\
         iam_credentials_endpoint = \"{}\"\n\
         impersonation_lifetime_secs = \"900\"\n\
         max_attempts = \"2\"\ntimeout_secs = \"5\"\n",
        kms.endpoint(),
        env().iam.endpoint()
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
    let storage = StorageEngine::open(&path, &config).unwrap();
    assert_eq!(storage.get(b"k").unwrap().unwrap(), b"v");
    assert_eq!(kms.principals_seen(), [principal]);
    assert!(env().iam.minted(&email).iter().all(|l| *l == 900));
}

#[test]
fn impersonation_needs_real_source_credentials() {
    let kms = FakeKms::start();
    let key = kms.create_key("ring", "recorded");
    let spec = KmsSpec::new(
        "gcp",
        key.clone(),
        options(&kms, Some(&sa("kms-user")), &[("credentials", "anonymous")])
            .into_iter()
            .collect(),
    );
    let err = GcpKmsSource::new(&spec).unwrap_err().to_string();
    assert!(err.contains("drop credentials = \"anonymous\""), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_first_calls_mint_one_token() {
    let e = env();
    let (email, principal) = impersonable("concurrent");
    let kms = kms();
    let key = kms.create_key("ring", "concurrent");
    kms.grant_to(&key, &principal, ROLE_ENCRYPTER_DECRYPTER);
    let header = source(&key, &kms, Some(&email), &[])
        .new_header()
        .await
        .unwrap();
    let before = e.iam.minted(&email).len();

    let src = std::sync::Arc::new(source(&key, &kms, Some(&email), &[]));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (src, header) = (src.clone(), header.clone());
            tokio::spawn(async move {
                let k = SecretKey::generate().unwrap();
                src.wrap(&header, &k, b"aad").await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        e.iam.minted(&email).len(),
        before + 1,
        "one mint for 8 calls"
    );
    assert_eq!(kms.principals_seen(), [principal]);
}
