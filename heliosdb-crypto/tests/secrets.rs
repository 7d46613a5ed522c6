//! No key material reaches `Debug` output: neither as hex (either case), nor
//! as raw bytes, nor as Rust's array formatting.

mod common;

use heliosdb_crypto::{Aead, SecretKey};

/// A key whose bytes are all distinct and unlikely to appear by chance.
const KEY: [u8; 32] = [
    0xde, 0xad, 0xbe, 0xef, 0x13, 0x37, 0xc0, 0xde, 0x8b, 0xad, 0xf0, 0x0d, 0xfe, 0xed, 0xfa, 0xce,
    0x4a, 0x7e, 0x91, 0x2c, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf1, 0x02,
];

fn assert_no_key_material(shown: &str) {
    let lower = hex::encode(KEY);
    let upper = hex::encode_upper(KEY);
    // Any 4-byte window of the key, in any of the formats.
    for window in KEY.windows(4) {
        let hex_lower = hex::encode(window);
        let hex_upper = hex::encode_upper(window);
        let decimal = format!("{}, {}, {}, {}", window[0], window[1], window[2], window[3]);
        let debug_hex = format!("{:#04x}, {:#04x}", window[0], window[1]);
        for needle in [&hex_lower, &hex_upper, &decimal, &debug_hex] {
            assert!(!shown.contains(needle.as_str()), "{needle:?} in {shown:?}");
        }
        assert!(
            !shown.as_bytes().windows(4).any(|w| w == window),
            "raw key bytes in {shown:?}"
        );
    }
    assert!(!shown.contains(&lower) && !shown.contains(&upper));
}

#[test]
fn secret_key_debug_is_redacted() {
    let key = SecretKey::from_bytes(KEY);
    for shown in [
        format!("{key:?}"),
        format!("{key:#?}"),
        format!("{:?}", Some(&key)),
    ] {
        assert!(shown.contains("SecretKey([REDACTED])"));
        assert_no_key_material(&shown);
    }
    let from_hex = SecretKey::from_hex(&hex::encode(KEY)).unwrap();
    assert_no_key_material(&format!("{from_hex:?}"));
    assert_no_key_material(&format!("{:?}", from_hex.clone_secret()));
}

#[test]
fn aead_debug_shows_only_the_backend() {
    let key = SecretKey::from_bytes(KEY);
    for aead in common::compiled_backends(&key)
        .into_iter()
        .chain([Aead::new(&key)])
    {
        for shown in [format!("{aead:?}"), format!("{aead:#?}")] {
            assert!(shown.contains(aead.backend().name()));
            assert_no_key_material(&shown);
        }
    }
}

#[test]
fn errors_carry_no_key_material() {
    // A hex key with one bad digit: the error must not echo the input.
    let mut text = hex::encode(KEY);
    text.replace_range(10..11, "g");
    let err = SecretKey::from_hex(&text).unwrap_err();
    assert_eq!(err.to_string(), "key is not valid hexadecimal");
    assert_no_key_material(&format!("{err:?}"));
}
