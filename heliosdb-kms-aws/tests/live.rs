//! Opt-in test against a real AWS account: `HELIOSDB_LIVE_KMS=1` with the
//! usual AWS credentials and `HELIOSDB_LIVE_AWS_KEY_ID` (a symmetric key or
//! alias you may use) and optionally `HELIOSDB_LIVE_AWS_OTHER_KEY_ID` and
//! `HELIOSDB_LIVE_AWS_DISABLED_KEY_ID` (moto ignores key state, so a
//! disabled key is only tested here). Skipped, and says so, otherwise.

use heliosdb_keys::{conformance, Error, KeySource, KmsErrorKind, KmsSpec, SecretKey};
use heliosdb_kms_aws::{AwsKmsExt, AwsKmsSource};

fn live(var: &str) -> Option<String> {
    if std::env::var("HELIOSDB_LIVE_KMS").as_deref() != Ok("1") {
        return None;
    }
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

fn source(key_id: &str) -> AwsKmsSource {
    AwsKmsSource::new(&KmsSpec::new("aws", key_id, Default::default())).unwrap()
}

#[tokio::test]
async fn live_aws_kms() {
    let Some(key) = live("HELIOSDB_LIVE_AWS_KEY_ID") else {
        println!(
            "skipped: set HELIOSDB_LIVE_KMS=1 and HELIOSDB_LIVE_AWS_KEY_ID (plus AWS credentials) \
             to run against real AWS KMS"
        );
        return;
    };
    let a = source(&key);
    match live("HELIOSDB_LIVE_AWS_OTHER_KEY_ID") {
        Some(other) => conformance::run(&a, &source(&other), &[]).await,
        None => {
            let h = a.new_header().await.unwrap();
            let k = SecretKey::generate().unwrap();
            let blob = a.wrap(&h, &k, b"live").await.unwrap();
            let back = a.unwrap(&h, &blob, b"live").await.unwrap();
            assert_eq!(back.expose_secret(), k.expose_secret());
        }
    }
    if let Some(disabled) = live("HELIOSDB_LIVE_AWS_DISABLED_KEY_ID") {
        let d = source(&disabled);
        let h = a.new_header().await.unwrap();
        let mut h2 = h.clone();
        h2.kms.as_mut().unwrap().key_id = d.key_arn().await.unwrap();
        let err = d
            .wrap(&h2, &SecretKey::generate().unwrap(), b"live")
            .await
            .unwrap_err();
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
}
