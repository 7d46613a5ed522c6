//! The conformance suite every [`KeySource`] must pass, local or KMS.
//!
//! Call [`run`] from a test of the backend's crate with two sources holding
//! different keys and the secret strings that must never be printed (the hex
//! key, the password). It panics with a description of the first failure.

use crate::keyring::Keyring;
use crate::source::KeySource;
use crate::{Error, SecretKey};

/// Runs the whole suite. `source` and `other` must hold different KEKs;
/// `secrets` are byte strings (key hex, raw key bytes, passwords) that must
/// not appear in any description, header, error or `Debug` output.
///
/// # Panics
/// On the first property that does not hold.
pub async fn run(source: &dyn KeySource, other: &dyn KeySource, secrets: &[&[u8]]) {
    let header = source.new_header().await.expect("new_header");
    let key = SecretKey::generate().expect("OS RNG");
    let aad = b"conformance aad";

    // Round trip.
    let blob = source.wrap(&header, &key, aad).await.expect("wrap");
    let back = source.unwrap(&header, &blob, aad).await.expect("unwrap");
    assert_eq!(
        back.expose_secret(),
        key.expose_secret(),
        "round trip changed the key"
    );
    assert!(
        source.matches(&header).await.expect("matches"),
        "source does not match its own header"
    );

    // The wrapped blob is not the key.
    assert!(
        !blob.windows(32).any(|w| w == key.expose_secret()),
        "wrapped blob contains the key in the clear"
    );

    // Another KEK neither matches nor unwraps.
    assert!(
        !other.matches(&header).await.expect("matches"),
        "a different KEK claims to match"
    );
    assert!(
        other.unwrap(&header, &blob, aad).await.is_err(),
        "a different KEK unwrapped"
    );

    // Different AAD fails.
    assert!(
        source.unwrap(&header, &blob, b"other aad").await.is_err(),
        "unwrap ignored the AAD"
    );

    // Every single-byte tamper fails; truncations fail.
    for i in 0..blob.len() {
        let mut t = blob.clone();
        t[i] ^= 0x40;
        assert!(
            source.unwrap(&header, &t, aad).await.is_err(),
            "tampered byte {i} accepted"
        );
    }
    for n in [0, 1, blob.len() / 2, blob.len() - 1] {
        assert!(
            source.unwrap(&header, &blob[..n], aad).await.is_err(),
            "truncation to {n} accepted"
        );
    }

    // Keyring level: create, unlock, wrong key.
    let (ring, unlocked) = Keyring::create(source).await.expect("keyring create");
    let reopened = ring.unlock(source).await.expect("keyring unlock");
    assert_eq!(reopened.slot_id, unlocked.slot_id);
    let wrong = ring
        .unlock(other)
        .await
        .expect_err("other KEK unlocked the keyring");
    assert!(
        matches!(wrong, Error::WrongKey { .. } | Error::Kms { .. }),
        "wrong key gave {wrong}"
    );

    // Nothing printable carries a secret.
    let header_json = serde_json::to_string(&header).expect("header serialises");
    let printed = [
        source.describe().to_string(),
        format!("{:?}", source.describe()),
        format!("{source:?}"),
        format!("{header:?}"),
        header_json,
        wrong.to_string(),
        format!("{wrong:?}"),
        String::from_utf8_lossy(&ring.encode()).into_owned(),
    ];
    for s in secrets {
        let hex_lower = hex::encode(s);
        for p in &printed {
            assert!(
                !p.as_bytes().windows(s.len().max(1)).any(|w| w == *s),
                "secret appears in: {p}"
            );
            assert!(!p.contains(&hex_lower), "secret (as hex) appears in: {p}");
        }
    }
}
