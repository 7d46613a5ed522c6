//! Record envelope properties: round trip, exact overhead, and that every
//! kind of damage — any flipped byte, another context AAD, another DEK id,
//! truncation — is rejected with the right error and never yields plaintext
//! or a panic.

mod common;

use heliosdb_crypto::{
    envelope_dek_id, open_envelope, seal_envelope, Aead, DekId, EnvelopeHeader, Error, SecretKey,
    HEADER_LEN, OVERHEAD, TAG_LEN,
};

fn aeads() -> Vec<Aead> {
    common::compiled_backends(&SecretKey::from_bytes([0x5c; 32]))
}

#[test]
fn overhead_is_exactly_33_bytes() {
    assert_eq!(HEADER_LEN, 17);
    assert_eq!(OVERHEAD, 33);
    assert_eq!(OVERHEAD, 1 + 4 + 12 + TAG_LEN);
    for aead in aeads() {
        for len in [0, 1, 16, 64, 1000, 16384] {
            let env = seal_envelope(&aead, DekId(1), [0; 12], b"", &common::pattern(len, 0));
            assert_eq!(env.len(), len + 33);
        }
    }
}

#[test]
fn round_trip() {
    for aead in aeads() {
        for len in [0, 1, 15, 16, 17, 100, 4096] {
            let msg = common::pattern(len, 3);
            let nonce = heliosdb_crypto::random_nonce(Default::default()).unwrap();
            let env = seal_envelope(&aead, DekId(u32::MAX), nonce, b"users/pk=1", &msg);
            assert_eq!(envelope_dek_id(&env).unwrap(), DekId(u32::MAX));
            let header = EnvelopeHeader::parse(&env).unwrap();
            assert_eq!(header.version, 1);
            assert_eq!(header.nonce, nonce);
            assert_eq!(open_envelope(&aead, b"users/pk=1", &env).unwrap(), msg);
        }
    }
}

#[test]
fn any_flipped_byte_is_rejected() {
    for aead in aeads() {
        let msg = b"the quick brown fox jumps over the lazy dog";
        let env = seal_envelope(&aead, DekId(3), [0x11; 12], b"ctx", msg);
        for pos in 0..env.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = env.clone();
                bad[pos] ^= mask;
                let result = open_envelope(&aead, b"ctx", &bad);
                match (pos, result) {
                    (0, Err(Error::UnknownVersion(v))) => assert_eq!(v, 1 ^ mask),
                    (1.., Err(Error::Authentication)) => {}
                    (_, other) => panic!("byte {pos} ^ {mask:#04x}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn other_context_aad_is_rejected() {
    for aead in aeads() {
        let env = seal_envelope(&aead, DekId(3), [0x22; 12], b"table=a/row=1", b"v");
        for other in [
            &b"table=a/row=2"[..],
            b"table=b/row=1",
            b"",
            b"table=a/row=1\0",
        ] {
            assert!(matches!(
                open_envelope(&aead, other, &env),
                Err(Error::Authentication)
            ));
        }
    }
}

#[test]
fn changed_dek_id_is_rejected() {
    for aead in aeads() {
        let env = seal_envelope(&aead, DekId(5), [0x33; 12], b"ctx", b"value");
        for id in [0u32, 4, 6, 5 << 8, u32::MAX] {
            let mut bad = env.clone();
            bad[1..5].copy_from_slice(&id.to_be_bytes());
            assert_eq!(envelope_dek_id(&bad).unwrap(), DekId(id));
            assert!(matches!(
                open_envelope(&aead, b"ctx", &bad),
                Err(Error::Authentication)
            ));
        }
    }
}

#[test]
fn wrong_key_is_rejected() {
    let env = seal_envelope(&aeads()[0], DekId(1), [0; 12], b"", b"value");
    for other in common::compiled_backends(&SecretKey::from_bytes([0x5d; 32])) {
        assert!(matches!(
            open_envelope(&other, b"", &env),
            Err(Error::Authentication)
        ));
    }
}

#[test]
fn every_short_length_is_truncated() {
    let aead = &aeads()[0];
    let env = seal_envelope(aead, DekId(1), [0; 12], b"", b"");
    assert_eq!(env.len(), OVERHEAD);
    for len in 0..OVERHEAD {
        let short = &env[..len];
        for result in [
            open_envelope(aead, b"", short).map(|_| ()),
            EnvelopeHeader::parse(short).map(|_| ()),
            envelope_dek_id(short).map(|_| ()),
        ] {
            match result {
                Err(Error::Truncated { len: l, min: 33 }) => assert_eq!(l, len),
                other => panic!("length {len}: {other:?}"),
            }
        }
    }
    // The message a user would see.
    assert_eq!(
        open_envelope(aead, b"", &env[..5]).unwrap_err().to_string(),
        "encrypted value is truncated (5 bytes, need at least 33)"
    );
    // Longer prefixes of a real value parse but fail authentication.
    let env = seal_envelope(aead, DekId(1), [0; 12], b"", &[9; 40]);
    for len in OVERHEAD..env.len() {
        assert!(matches!(
            open_envelope(aead, b"", &env[..len]),
            Err(Error::Authentication)
        ));
    }
}

#[test]
fn unknown_versions_are_reported() {
    let aead = &aeads()[0];
    let env = seal_envelope(aead, DekId(1), [0; 12], b"", b"x");
    for version in [0u8, 2, 0x7f, 0xff] {
        let mut bad = env.clone();
        bad[0] = version;
        assert!(matches!(
            EnvelopeHeader::parse(&bad),
            Err(Error::UnknownVersion(v)) if v == version
        ));
        assert!(matches!(
            open_envelope(aead, b"", &bad),
            Err(Error::UnknownVersion(v)) if v == version
        ));
    }
}

#[test]
fn garbage_never_panics() {
    // A cheap deterministic sweep over arbitrary inputs of every small length.
    let aead = &aeads()[0];
    for len in 0..200 {
        for seed in 0..8u8 {
            let mut junk = common::pattern(len, seed);
            if let Some(first) = junk.first_mut() {
                *first = 1;
            }
            assert!(open_envelope(aead, b"", &junk).is_err());
        }
    }
}
