//! The conformance suite every [`KeySource`] must pass, local or KMS.
//!
//! Call [`run`] from a test of the backend's crate with two sources holding
//! different keys and the secret strings that must never be printed (the hex
//! key, the password). It panics with a description of the first failure.
//!
//! Beyond the round trip it checks the error classes (a wrong AAD is "wrong
//! key"; another key's blob and a tampered blob are never an outage that
//! would be retried), the [`KeySource::rewrap`] contract, and calls from synchronous
//! code (a thread with no runtime, through [`crate::block_on`]). Sources
//! that reach a service over the network also call [`run_unreachable`]
//! with a source pointed at an address where nothing listens.

use std::time::{Duration, Instant};

use crate::keyring::Keyring;
use crate::source::{KekHeader, KeySource};
use crate::{block_on, Error, KmsErrorKind, SecretKey};

/// Whether `e` says "this key did not wrap this blob" (local or KMS).
fn is_wrong_key(e: &Error) -> bool {
    matches!(
        e,
        Error::WrongKey { .. }
            | Error::Kms {
                kind: KmsErrorKind::WrongKey,
                ..
            }
    )
}

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
    // ... and does not claim an outage, which callers would retry. (Which
    // class it is depends on the service: AWS KMS says IncorrectKey, moto
    // says AccessDenied for a blob of a key the request did not name.)
    let e = other
        .unwrap(&header, &blob, aad)
        .await
        .expect_err("a different KEK unwrapped");
    assert!(!e.is_retryable(), "a different KEK gave {e:?}, an outage");

    // Different AAD fails, as a wrong key.
    let e = source
        .unwrap(&header, &blob, b"other aad")
        .await
        .expect_err("unwrap ignored the AAD");
    assert!(
        is_wrong_key(&e),
        "a different AAD gave {e:?}, not wrong key"
    );

    // Every single-byte tamper fails; truncations fail; none claims an
    // outage (which callers would retry).
    for i in 0..blob.len() {
        let mut t = blob.clone();
        t[i] ^= 0x40;
        let e = source
            .unwrap(&header, &t, aad)
            .await
            .expect_err(&format!("tampered byte {i} accepted"));
        assert!(!e.is_retryable(), "tampered byte {i} gave {e:?}");
    }
    for n in [0, 1, blob.len() / 2, blob.len() - 1] {
        let e = source
            .unwrap(&header, &blob[..n], aad)
            .await
            .expect_err(&format!("truncation to {n} accepted"));
        assert!(!e.is_retryable(), "truncation to {n} gave {e:?}");
    }

    rewrap_contract(source, other, &header, &blob, aad, &key).await;
    from_sync_code(source);

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

/// [`KeySource::rewrap`]: `Ok(None)` and errors are allowed (the keyring
/// then wraps the key itself), but a blob it returns opens under the new
/// slot and AAD to the same key, and only there; a wrong old AAD never
/// yields a blob.
async fn rewrap_contract(
    source: &dyn KeySource,
    other: &dyn KeySource,
    header: &KekHeader,
    blob: &[u8],
    aad: &[u8],
    key: &SecretKey,
) {
    let new_aad = b"conformance rewrap aad";
    // Into another slot of the same key, then into a slot of the other key
    // (the keyring calls rewrap on the new slot's source).
    for (target, what) in [(source, "the same key"), (other, "another key")] {
        let new = target.new_header().await.expect("new_header");
        let out = target.rewrap(header, blob, aad, &new, new_aad).await;
        if let Ok(Some(b)) = out {
            let back = target
                .unwrap(&new, &b, new_aad)
                .await
                .unwrap_or_else(|e| panic!("a blob rewrapped for {what} does not unwrap: {e}"));
            assert_eq!(
                back.expose_secret(),
                key.expose_secret(),
                "rewrap for {what} changed the key"
            );
            assert!(
                target.unwrap(&new, &b, aad).await.is_err(),
                "a blob rewrapped for {what} opens under the old AAD"
            );
            assert!(
                !b.windows(32).any(|w| w == key.expose_secret()),
                "a rewrapped blob contains the key in the clear"
            );
        }
        let wrong = target
            .rewrap(header, blob, b"not the old aad", &new, new_aad)
            .await;
        assert!(
            !matches!(wrong, Ok(Some(_))),
            "rewrap for {what} with a wrong old AAD made a blob"
        );
    }
}

/// The storage engine is synchronous: a source must work through
/// [`block_on`] from a thread with no runtime, one short-lived runtime per
/// call (pooled connections of an earlier call's runtime are gone), and
/// from inside a runtime.
fn from_sync_code(source: &dyn KeySource) {
    let key = SecretKey::generate().expect("OS RNG");
    let aad = b"conformance sync aad";
    let round_trip = || {
        let header = block_on(source.new_header()).expect("new_header from sync code");
        let blob = block_on(source.wrap(&header, &key, aad)).expect("wrap from sync code");
        let back = block_on(source.unwrap(&header, &blob, aad)).expect("unwrap from sync code");
        assert_eq!(back.expose_secret(), key.expose_secret());
        assert!(block_on(source.matches(&header)).expect("matches from sync code"));
    };
    // No runtime on this thread: each block_on makes and drops one.
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(tokio::runtime::Handle::try_current().is_err());
            round_trip();
            round_trip();
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p));
    });
    // Whatever the caller is on (the test's runtime, or none).
    round_trip();
}

/// For network sources: `unreachable` is configured like the source under
/// test but pointed at an address where nothing listens. Its calls fail as
/// [`KmsErrorKind::Unavailable`] (retryable), after its bounded retries,
/// within `bound`; never as a wrong key.
///
/// # Panics
/// On the first property that does not hold.
pub async fn run_unreachable(unreachable: &dyn KeySource, bound: Duration) {
    let started = Instant::now();
    let e = unreachable
        .new_header()
        .await
        .expect_err("new_header reached a service that is not there");
    assert!(
        matches!(
            e,
            Error::Kms {
                kind: KmsErrorKind::Unavailable,
                ..
            }
        ),
        "an unreachable service gave {e:?}, not unavailable"
    );
    assert!(e.is_retryable(), "{e}");
    let took = started.elapsed();
    assert!(took < bound, "giving up took {took:?}, more than {bound:?}");
}
