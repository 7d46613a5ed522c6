//! The record envelope: how one encrypted value is laid out on disk.
//!
//! ```text
//! [ 1 byte version = 1 ][ 4 bytes DEK id, big-endian ][ 12 bytes nonce ][ ciphertext ][ 16 bytes tag ]
//! ```
//!
//! GCM's associated data is the first 5 bytes (version and DEK id) followed
//! by the caller's context AAD. The header prefix has a fixed length, so the
//! concatenation is unambiguous.

use zeroize::Zeroize;

use crate::aead::Aead;
use crate::error::{Error, Result};
use crate::{ENVELOPE_VERSION_V1, HEADER_LEN, NONCE_LEN, OVERHEAD, TAG_LEN};

/// The part of the header that goes into the AAD: version and DEK id.
const AAD_PREFIX_LEN: usize = 1 + 4;

/// Context AADs up to this length are joined with the header prefix on the
/// stack; longer ones need one extra allocation. Record keys are short.
const INLINE_AAD_LEN: usize = 256;

/// Identifies a data-encryption key within a database's keyring. Stored as 4
/// bytes big-endian in every envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DekId(pub u32);

/// The fixed-size header at the front of an envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvelopeHeader {
    /// Format version; [`ENVELOPE_VERSION_V1`] is the only one so far.
    pub version: u8,
    /// The data key the value was sealed under.
    pub dek_id: DekId,
    /// The GCM nonce.
    pub nonce: [u8; NONCE_LEN],
}

impl EnvelopeHeader {
    /// Reads the header of an envelope without authenticating anything.
    ///
    /// Use it to pick the key (by [`dek_id`](Self::dek_id)); nothing in the
    /// header is trustworthy until [`open_envelope`] succeeds.
    ///
    /// # Errors
    ///
    /// * [`Error::Truncated`] if `envelope` is shorter than [`OVERHEAD`]
    ///   (33) bytes: no valid envelope is, even with an empty plaintext.
    /// * [`Error::UnknownVersion`] if the version byte is not
    ///   [`ENVELOPE_VERSION_V1`].
    pub fn parse(envelope: &[u8]) -> Result<Self> {
        if envelope.len() < OVERHEAD {
            return Err(Error::Truncated {
                len: envelope.len(),
                min: OVERHEAD,
            });
        }
        let Some((header, _)) = envelope.split_first_chunk::<HEADER_LEN>() else {
            // Unreachable after the length check; kept panic-free.
            return Err(Error::Truncated {
                len: envelope.len(),
                min: OVERHEAD,
            });
        };
        let [version, d0, d1, d2, d3, nonce @ ..] = *header;
        if version != ENVELOPE_VERSION_V1 {
            return Err(Error::UnknownVersion(version));
        }
        Ok(Self {
            version,
            dek_id: DekId(u32::from_be_bytes([d0, d1, d2, d3])),
            nonce,
        })
    }

    /// The header as it is written to disk.
    fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0] = self.version;
        out[1..AAD_PREFIX_LEN].copy_from_slice(&self.dek_id.0.to_be_bytes());
        out[AAD_PREFIX_LEN..].copy_from_slice(&self.nonce);
        out
    }
}

/// Seals `plaintext` into a version-1 envelope under `aead`, recording
/// `dek_id` (which must be the id of the key inside `aead`) and `nonce`.
///
/// `nonce` must be fresh for this key: take it from
/// [`random_nonce`](crate::random_nonce) and count the encryption with the
/// key's [`UsageCounter`](crate::UsageCounter). `context_aad` binds the
/// value to where it is stored (column family and record key); the same bytes
/// must be given to [`open_envelope`].
///
/// The result is allocated once, at its exact final size
/// `plaintext.len() + OVERHEAD`, and the plaintext is encrypted in place
/// inside it, so no copy of the plaintext is left in freed memory.
///
/// # Panics
///
/// As [`Aead::seal_in_place`]: only for plaintexts or AADs of 64 GiB or more.
pub fn seal_envelope(
    aead: &Aead,
    dek_id: DekId,
    nonce: [u8; NONCE_LEN],
    context_aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let header = EnvelopeHeader {
        version: ENVELOPE_VERSION_V1,
        dek_id,
        nonce,
    }
    .to_bytes();
    let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
    out.extend_from_slice(&header);
    out.extend_from_slice(plaintext);
    let tag = with_full_aad(&header, context_aad, |aad| {
        aead.seal_detached(&nonce, aad, &mut out[HEADER_LEN..])
    });
    out.extend_from_slice(&tag);
    debug_assert_eq!(out.len(), out.capacity());
    out
}

/// Authenticates and decrypts an envelope made by [`seal_envelope`].
///
/// The caller has already chosen `aead` by the header's DEK id (see
/// [`envelope_dek_id`]); this function does not know which key `aead` holds,
/// it only authenticates. A wrong key therefore shows up as
/// [`Error::Authentication`].
///
/// The plaintext is returned in a vector of exactly its length.
///
/// # Errors
///
/// * [`Error::Truncated`] / [`Error::UnknownVersion`] as
///   [`EnvelopeHeader::parse`].
/// * [`Error::Authentication`] if the tag does not verify: wrong key,
///   different `context_aad`, or any byte of the envelope changed (the DEK id
///   and version are authenticated too). No partial plaintext is returned or
///   left in memory.
pub fn open_envelope(aead: &Aead, context_aad: &[u8], envelope: &[u8]) -> Result<Vec<u8>> {
    let header = EnvelopeHeader::parse(envelope)?;
    let authentication_failed = || Error::Authentication;
    let (header_bytes, body) = envelope
        .split_first_chunk::<HEADER_LEN>()
        .ok_or_else(authentication_failed)?;
    let (ciphertext, tag) = body
        .split_last_chunk::<TAG_LEN>()
        .ok_or_else(authentication_failed)?;
    let mut out = ciphertext.to_vec();
    let opened = with_full_aad(header_bytes, context_aad, |aad| {
        aead.open_detached(&header.nonce, aad, &mut out, tag)
    });
    match opened {
        Ok(()) => Ok(out),
        Err(e) => {
            // Already wiped by `open_detached`; the capacity goes too.
            out.zeroize();
            Err(e)
        }
    }
}

/// The DEK id of an envelope, to pick the key that opens it.
///
/// # Errors
///
/// As [`EnvelopeHeader::parse`].
pub fn envelope_dek_id(envelope: &[u8]) -> Result<DekId> {
    EnvelopeHeader::parse(envelope).map(|h| h.dek_id)
}

/// Calls `f` with the GCM AAD of an envelope: the version and DEK id from
/// `header`, then `context_aad`. Short AADs are assembled on the stack.
fn with_full_aad<R>(
    header: &[u8; HEADER_LEN],
    context_aad: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    let total = AAD_PREFIX_LEN + context_aad.len();
    if total <= INLINE_AAD_LEN {
        let mut buf = [0u8; INLINE_AAD_LEN];
        buf[..AAD_PREFIX_LEN].copy_from_slice(&header[..AAD_PREFIX_LEN]);
        buf[AAD_PREFIX_LEN..total].copy_from_slice(context_aad);
        f(&buf[..total])
    } else {
        let mut buf = Vec::with_capacity(total);
        buf.extend_from_slice(&header[..AAD_PREFIX_LEN]);
        buf.extend_from_slice(context_aad);
        f(&buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::SecretKey;

    fn aead() -> Aead {
        Aead::new(&SecretKey::from_bytes([0x11; 32]))
    }

    #[test]
    fn layout_is_as_documented() {
        let nonce = [0xa5; NONCE_LEN];
        let sealed = seal_envelope(&aead(), DekId(0x0102_0304), nonce, b"ctx", b"hello");
        assert_eq!(sealed.len(), 5 + OVERHEAD);
        assert_eq!(sealed[0], ENVELOPE_VERSION_V1);
        assert_eq!(&sealed[1..5], &[1, 2, 3, 4]);
        assert_eq!(&sealed[5..17], &nonce);
        assert_eq!(
            EnvelopeHeader::parse(&sealed).unwrap(),
            EnvelopeHeader {
                version: 1,
                dek_id: DekId(0x0102_0304),
                nonce
            }
        );
        assert_eq!(envelope_dek_id(&sealed).unwrap(), DekId(0x0102_0304));
    }

    #[test]
    fn aad_is_header_prefix_then_context() {
        // Seal by hand with the documented AAD and check open_envelope agrees.
        let aead = aead();
        let nonce = [3; NONCE_LEN];
        let mut body = b"payload".to_vec();
        aead.seal_in_place(&nonce, &[1, 0, 0, 0, 9, b'k', b'e', b'y'], &mut body);
        let mut envelope = vec![1, 0, 0, 0, 9];
        envelope.extend_from_slice(&nonce);
        envelope.extend_from_slice(&body);
        assert_eq!(open_envelope(&aead, b"key", &envelope).unwrap(), b"payload");
        assert_eq!(
            envelope,
            seal_envelope(&aead, DekId(9), nonce, b"key", b"payload")
        );
    }

    #[test]
    fn long_context_aad_uses_heap_path() {
        let aead = aead();
        for len in [
            INLINE_AAD_LEN - AAD_PREFIX_LEN - 1,
            INLINE_AAD_LEN - AAD_PREFIX_LEN,
            INLINE_AAD_LEN - AAD_PREFIX_LEN + 1,
            5000,
        ] {
            let ctx = vec![0x5a; len];
            let sealed = seal_envelope(&aead, DekId(1), [0; 12], &ctx, b"v");
            assert_eq!(open_envelope(&aead, &ctx, &sealed).unwrap(), b"v");
            let mut other = ctx.clone();
            other[len - 1] ^= 1;
            assert!(matches!(
                open_envelope(&aead, &other, &sealed),
                Err(Error::Authentication)
            ));
        }
    }

    #[test]
    fn exact_capacities() {
        let aead = aead();
        let sealed = seal_envelope(&aead, DekId(1), [0; 12], b"", &[7; 100]);
        assert_eq!(sealed.capacity(), 100 + OVERHEAD);
        let opened = open_envelope(&aead, b"", &sealed).unwrap();
        assert_eq!(opened.capacity(), 100);
    }
}
