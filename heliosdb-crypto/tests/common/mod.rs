//! Helpers shared by the integration tests: AES-256-GCM straight from the
//! `ring` and `aes-gcm` crates (both dev-dependencies, so available whatever
//! features the crate is built with), and the compiled-in `Aead` backends.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use heliosdb_crypto::{Aead, Backend, SecretKey};

/// `ct || tag` from ring directly.
pub fn ring_seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], msg: &[u8]) -> Vec<u8> {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
    let mut buf = msg.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        &mut buf,
    )
    .unwrap();
    buf
}

/// Opens `ct || tag` with ring directly; `None` if authentication fails.
pub fn ring_open(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
    let mut buf = sealed.to_vec();
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut buf,
        )
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

/// `ct || tag` from RustCrypto's aes-gcm directly.
pub fn rustcrypto_seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], msg: &[u8]) -> Vec<u8> {
    use aes_gcm::aead::{Aead as _, Payload};
    use aes_gcm::{Aes256Gcm, KeyInit};
    Aes256Gcm::new(key.into())
        .encrypt(nonce.into(), Payload { msg, aad })
        .unwrap()
}

/// Opens `ct || tag` with aes-gcm directly; `None` if authentication fails.
pub fn rustcrypto_open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    sealed: &[u8],
) -> Option<Vec<u8>> {
    use aes_gcm::aead::{Aead as _, Payload};
    use aes_gcm::{Aes256Gcm, KeyInit};
    Aes256Gcm::new(key.into())
        .decrypt(nonce.into(), Payload { msg: sealed, aad })
        .ok()
}

/// Every backend compiled into this build, built for `key`.
pub fn compiled_backends(key: &SecretKey) -> Vec<Aead> {
    [Backend::Ring, Backend::RustCrypto]
        .into_iter()
        .filter_map(|b| Aead::with_backend(key, b))
        .collect()
}

/// Deterministic test bytes.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
