//! Both AEAD implementations write the same standard AES-256-GCM: each opens
//! what the other sealed, checked with `ring` and `aes-gcm` used directly and
//! through `Aead::with_backend`, for raw AEAD calls and for envelopes.

mod common;

use heliosdb_crypto::{
    open_envelope, seal_envelope, Aead, Backend, DekId, NonceMode, SecretKey, TAG_LEN,
};

const LENGTHS: &[usize] = &[
    0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256, 1024, 4097,
];

fn key_bytes(seed: u8) -> [u8; 32] {
    common::pattern(32, seed).try_into().unwrap()
}

#[test]
fn ring_and_aes_gcm_open_each_others_output() {
    for (i, &len) in LENGTHS.iter().enumerate() {
        let key = key_bytes(i as u8);
        let nonce = heliosdb_crypto::random_nonce(NonceMode::Fast).unwrap();
        let aad = common::pattern(i * 3, 7);
        let msg = common::pattern(len, 99);

        let by_ring = common::ring_seal(&key, &nonce, &aad, &msg);
        let by_rc = common::rustcrypto_seal(&key, &nonce, &aad, &msg);
        assert_eq!(by_ring, by_rc, "len {len}");
        assert_eq!(by_ring.len(), len + TAG_LEN);
        assert_eq!(
            common::rustcrypto_open(&key, &nonce, &aad, &by_ring),
            Some(msg.clone())
        );
        assert_eq!(
            common::ring_open(&key, &nonce, &aad, &by_rc),
            Some(msg.clone())
        );
    }
}

#[test]
fn every_compiled_backend_interoperates_with_both_crates() {
    for (i, &len) in LENGTHS.iter().enumerate() {
        let raw = key_bytes(0x40 + i as u8);
        let key = SecretKey::from_bytes(raw);
        let nonce = [i as u8; 12];
        let aad = b"cf:rows/key:42";
        let msg = common::pattern(len, 5);
        let backends = common::compiled_backends(&key);
        assert!(!backends.is_empty());

        for aead in &backends {
            let ctx = format!("{:?} len {len}", aead.backend());
            // Aead seals, both crates open.
            let mut sealed = msg.clone();
            aead.seal_in_place(&nonce, aad, &mut sealed);
            assert_eq!(
                common::ring_open(&raw, &nonce, aad, &sealed),
                Some(msg.clone()),
                "{ctx}"
            );
            assert_eq!(
                common::rustcrypto_open(&raw, &nonce, aad, &sealed),
                Some(msg.clone()),
                "{ctx}"
            );
            // Both crates seal, Aead opens.
            for foreign in [
                common::ring_seal(&raw, &nonce, aad, &msg),
                common::rustcrypto_seal(&raw, &nonce, aad, &msg),
            ] {
                let mut buf = foreign;
                aead.open_in_place(&nonce, aad, &mut buf).unwrap();
                assert_eq!(buf, msg, "{ctx}");
            }
        }
    }
}

/// Runs only in builds with both features (`--features rustcrypto`); in the
/// default build the direct-crate tests above cover the other side.
#[test]
fn ring_backend_and_rustcrypto_backend_open_each_others_envelopes() {
    let key = SecretKey::generate().unwrap();
    let (Some(ring), Some(rc)) = (
        Aead::with_backend(&key, Backend::Ring),
        Aead::with_backend(&key, Backend::RustCrypto),
    ) else {
        assert!(!(Backend::Ring.is_available() && Backend::RustCrypto.is_available()));
        return;
    };
    for &len in LENGTHS {
        let msg = common::pattern(len, 1);
        for (sealer, opener) in [(&ring, &rc), (&rc, &ring)] {
            let nonce = heliosdb_crypto::random_nonce(NonceMode::Fast).unwrap();
            let env = seal_envelope(sealer, DekId(7), nonce, b"ctx", &msg);
            assert_eq!(open_envelope(opener, b"ctx", &env).unwrap(), msg);

            let mut buf = msg.clone();
            sealer.seal_in_place(&nonce, b"aad", &mut buf);
            opener.open_in_place(&nonce, b"aad", &mut buf).unwrap();
            assert_eq!(buf, msg);
        }
    }
}

#[test]
fn envelope_is_plain_gcm_over_header_prefix_and_context() {
    // An envelope can be opened with either crate directly, given the
    // documented AAD: version byte, DEK id (BE), then the context AAD.
    let raw = key_bytes(0xee);
    let aead = Aead::new(&SecretKey::from_bytes(raw));
    let nonce = [0x24; 12];
    let env = seal_envelope(&aead, DekId(0xdead_beef), nonce, b"row-9", b"secret value");
    let aad = [&[1u8, 0xde, 0xad, 0xbe, 0xef][..], b"row-9"].concat();
    let body = &env[17..];
    assert_eq!(
        common::ring_open(&raw, &nonce, &aad, body).unwrap(),
        b"secret value"
    );
    assert_eq!(
        common::rustcrypto_open(&raw, &nonce, &aad, body).unwrap(),
        b"secret value"
    );
}
