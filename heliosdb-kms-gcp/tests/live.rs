//! Opt-in test against real Google Cloud KMS: `HELIOSDB_LIVE_KMS=1`,
//! Application Default Credentials, and `HELIOSDB_LIVE_GCP_KEY` (a symmetric
//! CryptoKey's full resource name you may use). With
//! `HELIOSDB_LIVE_GCP_IMPERSONATE` (a service account's email) the calls go
//! through service-account impersonation: the credentials then need Token
//! Creator on it, and it Encrypter/Decrypter on the key. Skipped, and says
//! so, otherwise.

use heliosdb_keys::{KeySource, KmsSpec, SecretKey};
use heliosdb_kms_gcp::GcpKmsSource;

#[tokio::test]
async fn live_cloud_kms() {
    let key = std::env::var("HELIOSDB_LIVE_GCP_KEY").ok();
    let (true, Some(key)) = (
        std::env::var("HELIOSDB_LIVE_KMS").as_deref() == Ok("1"),
        key,
    ) else {
        println!(
            "skipped: set HELIOSDB_LIVE_KMS=1, HELIOSDB_LIVE_GCP_KEY and Application Default \
             Credentials to run against real Cloud KMS"
        );
        return;
    };
    let options = std::env::var("HELIOSDB_LIVE_GCP_IMPERSONATE")
        .ok()
        .map(|sa| ("impersonate_service_account".to_string(), sa))
        .into_iter()
        .collect();
    let src = GcpKmsSource::new(&KmsSpec::new("gcp", key, options)).unwrap();
    let header = src.new_header().await.unwrap();
    let k = SecretKey::generate().unwrap();
    let blob = src.wrap(&header, &k, b"live").await.unwrap();
    let back = src.unwrap(&header, &blob, b"live").await.unwrap();
    assert_eq!(back.expose_secret(), k.expose_secret());
    assert!(src.unwrap(&header, &blob, b"other").await.is_err());
}
