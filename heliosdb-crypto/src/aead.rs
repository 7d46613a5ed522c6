//! [`Aead`]: AES-256-GCM over one of two interchangeable backends, `ring`
//! (default) and RustCrypto's `aes-gcm`.
//!
//! Both backends implement the same standard AES-256-GCM with 96-bit nonces
//! and 128-bit tags; the tests check each against published vectors and
//! against the other. `ring` is the default because it is much faster on
//! AES-NI/CLMUL machines: on the development VM `benches/aead.rs` measured
//! sealing at 75 ns / 162 ns / 1.6 µs (64 B / 1 KiB / 16 KiB) against
//! 137 ns / 811 ns / 11.6 µs for `aes-gcm` 0.10, i.e. 1.8x / 5x / 7x.

use std::fmt;

use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::key::SecretKey;
use crate::{NONCE_LEN, TAG_LEN};

/// Largest plaintext GCM can seal under one nonce: 2^32 - 2 blocks of 16
/// bytes (NIST SP 800-38D, 2^39 - 256 bits). `ring` enforces exactly this;
/// `aes-gcm` 0.10 allows slightly more.
const MAX_PLAINTEXT_LEN: u64 = (1 << 36) - 32;

/// Largest AAD we pass to either backend (`aes-gcm` 0.10's limit; `ring`
/// allows more).
const MAX_AAD_LEN: u64 = 1 << 36;

/// Which AES-256-GCM implementation an [`Aead`] uses.
///
/// Both variants always exist so that configuration and benchmarks can name
/// them, but only backends whose Cargo feature is enabled can be built:
/// [`Aead::with_backend`] returns `None` for the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `ring` (BoringSSL's assembly; AES-NI, VAES, CLMUL). Feature `ring`,
    /// on by default.
    Ring,
    /// RustCrypto's `aes-gcm` (Rust, AES-NI and CLMUL intrinsics when the CPU
    /// has them, constant-time software otherwise). Feature `rustcrypto`.
    RustCrypto,
}

impl Backend {
    /// The backend [`Aead::new`] uses: [`Backend::Ring`] when feature `ring`
    /// is on, otherwise [`Backend::RustCrypto`].
    pub const fn default_backend() -> Backend {
        if cfg!(feature = "ring") {
            Backend::Ring
        } else {
            Backend::RustCrypto
        }
    }

    /// Short lowercase name for logs and configuration: `"ring"` or
    /// `"rustcrypto"`.
    pub const fn name(&self) -> &'static str {
        match self {
            Backend::Ring => "ring",
            Backend::RustCrypto => "rustcrypto",
        }
    }

    /// Whether this build includes the backend (its Cargo feature is on).
    pub const fn is_available(&self) -> bool {
        match self {
            Backend::Ring => cfg!(feature = "ring"),
            Backend::RustCrypto => cfg!(feature = "rustcrypto"),
        }
    }
}

/// AES-256-GCM under one key, with the key schedule expanded once.
///
/// Key expansion costs about as much as sealing a small record, so build one
/// `Aead` per key when the key is loaded and share it (`Aead` is `Send +
/// Sync`; wrap it in an `Arc`). `Debug` shows only the backend.
///
/// # Nonces
///
/// Every call to [`seal_in_place`](Self::seal_in_place) must use a nonce
/// never used before with this key: a repeated nonce reveals the XOR of the
/// two plaintexts and lets an attacker forge tags. Use
/// [`random_nonce`](crate::random_nonce) and stay under the per-key budget
/// ([`DEFAULT_NONCE_BUDGET`](crate::DEFAULT_NONCE_BUDGET) encryptions); see
/// the crate docs.
///
/// # Key material
///
/// The expanded key lives inside the backend's own type. The RustCrypto
/// backend zeroizes its AES round keys on drop (though not its GHASH key);
/// **`ring` does not zeroize its key schedule**. Moving the value may leave
/// copies on the stack in either case; the schedule is boxed so that an
/// `Aead` itself moves cheaply and rarely.
pub struct Aead {
    inner: Inner,
}

enum Inner {
    #[cfg(feature = "ring")]
    Ring(Box<ring::aead::LessSafeKey>),
    #[cfg(feature = "rustcrypto")]
    RustCrypto(Box<aes_gcm::Aes256Gcm>),
}

impl Aead {
    /// Expands `key` for the [default backend](Backend::default_backend).
    pub fn new(key: &SecretKey) -> Self {
        #[cfg(feature = "ring")]
        {
            Self::new_ring(key)
        }
        #[cfg(not(feature = "ring"))]
        {
            Self::new_rustcrypto(key)
        }
    }

    /// Expands `key` for a specific backend; `None` if that backend is not
    /// compiled into this build (see [`Backend::is_available`]).
    pub fn with_backend(key: &SecretKey, backend: Backend) -> Option<Self> {
        match backend {
            #[cfg(feature = "ring")]
            Backend::Ring => Some(Self::new_ring(key)),
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => Some(Self::new_rustcrypto(key)),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    #[cfg(feature = "ring")]
    fn new_ring(key: &SecretKey) -> Self {
        use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
        // Invariant: ring rejects only keys of the wrong length, and
        // `SecretKey` always holds exactly AES_256_GCM.key_len() = 32 bytes.
        let unbound = UnboundKey::new(&AES_256_GCM, key.expose_secret())
            .expect("a 32-byte key is always valid for AES-256-GCM");
        Self {
            inner: Inner::Ring(Box::new(LessSafeKey::new(unbound))),
        }
    }

    #[cfg(feature = "rustcrypto")]
    fn new_rustcrypto(key: &SecretKey) -> Self {
        use aes_gcm::KeyInit;
        Self {
            inner: Inner::RustCrypto(Box::new(aes_gcm::Aes256Gcm::new(
                key.expose_secret().into(),
            ))),
        }
    }

    /// The backend this instance runs on.
    pub fn backend(&self) -> Backend {
        match &self.inner {
            #[cfg(feature = "ring")]
            Inner::Ring(_) => Backend::Ring,
            #[cfg(feature = "rustcrypto")]
            Inner::RustCrypto(_) => Backend::RustCrypto,
        }
    }

    /// Encrypts `buf` in place and appends the 16-byte tag, so that `buf`
    /// becomes `ciphertext || tag`.
    ///
    /// `nonce` must never have been used with this key before (see the type
    /// docs). `aad` is authenticated but not encrypted.
    ///
    /// Reserve [`TAG_LEN`] spare capacity in `buf` to avoid a reallocation
    /// (which would leave a copy of the plaintext in freed memory).
    ///
    /// # Panics
    ///
    /// If `buf` is longer than GCM's per-nonce limit of 2^36 - 32 bytes
    /// (64 GiB) or `aad` longer than 2^36 bytes.
    pub fn seal_in_place(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut Vec<u8>) {
        let tag = self.seal_detached(nonce, aad, buf);
        buf.extend_from_slice(&tag);
    }

    /// Verifies and decrypts `buf` = `ciphertext || tag` in place; on success
    /// `buf` holds the plaintext (the tag is truncated off).
    ///
    /// # Errors
    ///
    /// [`Error::Authentication`] if `buf` is shorter than a tag or the tag
    /// does not verify under this key, `nonce` and `aad`. On error `buf` is
    /// zeroized and emptied, so no unauthenticated plaintext ever reaches the
    /// caller.
    pub fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let Some(ct_len) = buf.len().checked_sub(TAG_LEN) else {
            buf.zeroize();
            return Err(Error::Authentication);
        };
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&buf[ct_len..]);
        match self.open_detached(nonce, aad, &mut buf[..ct_len], &tag) {
            Ok(()) => {
                buf.truncate(ct_len);
                Ok(())
            }
            Err(e) => {
                // `open_detached` already wiped the ciphertext part.
                buf.zeroize();
                Err(e)
            }
        }
    }

    /// Encrypts `in_out` in place and returns the tag.
    ///
    /// # Panics
    ///
    /// As [`seal_in_place`](Self::seal_in_place).
    pub(crate) fn seal_detached(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> [u8; TAG_LEN] {
        // Checked here, once, so that the backends' only failure mode is
        // ruled out and their results can be unwrapped below.
        assert!(
            in_out.len() as u64 <= MAX_PLAINTEXT_LEN && aad.len() as u64 <= MAX_AAD_LEN,
            "AES-GCM input too long for one nonce"
        );
        match &self.inner {
            #[cfg(feature = "ring")]
            Inner::Ring(key) => {
                use ring::aead::{Aad, Nonce};
                // Invariant: ring fails only on over-long input, excluded
                // by the assertion above.
                let tag = key
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(*nonce),
                        Aad::from(aad),
                        in_out,
                    )
                    .expect("input length checked against the GCM limit");
                let mut out = [0u8; TAG_LEN];
                // ring's Tag is always TAG_LEN bytes.
                out.copy_from_slice(tag.as_ref());
                out
            }
            #[cfg(feature = "rustcrypto")]
            Inner::RustCrypto(cipher) => {
                use aes_gcm::AeadInPlace;
                // Invariant: aes-gcm fails only on over-long input, excluded
                // by the assertion above.
                cipher
                    .encrypt_in_place_detached(nonce.into(), aad, in_out)
                    .expect("input length checked against the GCM limit")
                    .into()
            }
        }
    }

    /// Verifies `tag` over `in_out` and decrypts it in place. On failure
    /// `in_out` is zeroized.
    pub(crate) fn open_detached(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<()> {
        if in_out.len() as u64 > MAX_PLAINTEXT_LEN || aad.len() as u64 > MAX_AAD_LEN {
            // Nothing this long can have been sealed.
            return Err(Error::Authentication);
        }
        let ok = match &self.inner {
            #[cfg(feature = "ring")]
            Inner::Ring(key) => {
                use ring::aead::{Aad, Nonce, Tag};
                key.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    Tag::from(*tag),
                    in_out,
                    0..,
                )
                .is_ok()
            }
            #[cfg(feature = "rustcrypto")]
            Inner::RustCrypto(cipher) => {
                use aes_gcm::AeadInPlace;
                cipher
                    .decrypt_in_place_detached(nonce.into(), aad, in_out, tag.into())
                    .is_ok()
            }
        };
        if ok {
            Ok(())
        } else {
            // ring decrypts while it authenticates; never leave its
            // unauthenticated output behind.
            in_out.zeroize();
            Err(Error::Authentication)
        }
    }
}

impl fmt::Debug for Aead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aead")
            .field("backend", &self.backend().name())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn available() -> Vec<Aead> {
        let key = SecretKey::from_bytes([0x42; 32]);
        [Backend::Ring, Backend::RustCrypto]
            .into_iter()
            .filter_map(|b| Aead::with_backend(&key, b))
            .collect()
    }

    #[test]
    fn aead_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Aead>();
    }

    #[test]
    fn availability_matches_features() {
        let key = SecretKey::from_bytes([1; 32]);
        for backend in [Backend::Ring, Backend::RustCrypto] {
            let aead = Aead::with_backend(&key, backend);
            assert_eq!(aead.is_some(), backend.is_available());
            if let Some(aead) = aead {
                assert_eq!(aead.backend(), backend);
            }
        }
        assert!(Backend::default_backend().is_available());
        assert_eq!(Aead::new(&key).backend(), Backend::default_backend());
        assert_eq!(Backend::Ring.name(), "ring");
        assert_eq!(Backend::RustCrypto.name(), "rustcrypto");
    }

    #[test]
    fn round_trip_and_overhead() {
        for aead in available() {
            for len in [0usize, 1, 15, 16, 17, 255, 4096] {
                let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                let mut buf = plaintext.clone();
                aead.seal_in_place(&[7; 12], b"aad", &mut buf);
                assert_eq!(buf.len(), len + TAG_LEN);
                if len >= 16 {
                    assert_ne!(&buf[..len], &plaintext[..]);
                }
                aead.open_in_place(&[7; 12], b"aad", &mut buf).unwrap();
                assert_eq!(buf, plaintext, "{:?}", aead.backend());
            }
        }
    }

    #[test]
    fn failed_open_wipes_the_buffer() {
        for aead in available() {
            let mut buf = b"attack at dawn, bring snacks".to_vec();
            aead.seal_in_place(&[9; 12], b"", &mut buf);
            let last = buf.len() - 1;
            buf[last] ^= 1;
            let err = aead.open_in_place(&[9; 12], b"", &mut buf).unwrap_err();
            assert!(matches!(err, Error::Authentication));
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn short_buffers_fail_authentication() {
        for aead in available() {
            for len in 0..TAG_LEN {
                let mut buf = vec![0u8; len];
                assert!(matches!(
                    aead.open_in_place(&[0; 12], b"", &mut buf),
                    Err(Error::Authentication)
                ));
            }
        }
    }

    #[test]
    fn wrong_nonce_aad_or_key_fails() {
        let other = SecretKey::from_bytes([0x43; 32]);
        for aead in available() {
            let mut sealed = b"value".to_vec();
            aead.seal_in_place(&[1; 12], b"row-1", &mut sealed);

            let mut buf = sealed.clone();
            assert!(aead.open_in_place(&[2; 12], b"row-1", &mut buf).is_err());
            let mut buf = sealed.clone();
            assert!(aead.open_in_place(&[1; 12], b"row-2", &mut buf).is_err());
            let wrong = Aead::with_backend(&other, aead.backend()).unwrap();
            let mut buf = sealed.clone();
            assert!(wrong.open_in_place(&[1; 12], b"row-1", &mut buf).is_err());
        }
    }

    #[test]
    fn debug_shows_backend_only() {
        for aead in available() {
            let shown = format!("{aead:?}");
            assert_eq!(
                shown,
                format!("Aead {{ backend: {:?}, .. }}", aead.backend().name())
            );
        }
    }
}
