//! No credentials anywhere in the default chain: a clear "access denied"
//! before any request leaves the process. Its own test binary because it
//! empties the process environment of AWS credentials.

use heliosdb_keys::{Error, KeySource, KmsErrorKind, KmsSpec};
use heliosdb_kms_aws::AwsKmsSource;

#[tokio::test]
async fn missing_credentials_are_access_denied() {
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        std::env::remove_var(var);
    }
    // No profile files, and never the instance metadata service.
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/heliosdb-test-aws-config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/heliosdb-test-aws-creds",
    );
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    // Nothing listens there either; the request must not get that far.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let src = AwsKmsSource::new(&KmsSpec::new(
        "aws",
        "alias/anything",
        [
            ("region".to_string(), "us-east-1".to_string()),
            ("endpoint".to_string(), endpoint),
            ("insecure_endpoint".to_string(), "true".to_string()),
        ]
        .into(),
    ))
    .unwrap();
    let err = src.new_header().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Kms {
                kind: KmsErrorKind::AccessDenied,
                ..
            }
        ),
        "{err}"
    );
}
