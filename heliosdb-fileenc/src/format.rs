//! The per-file header (RocksDB's "prefix") and the AES-256-CTR keystream.
//!
//! All of the file format lives here; the C++ shim only moves bytes.

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher, StreamCipherSeek};
use aes::Aes256;
use heliosdb_crypto::SecretKey;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::HeaderError;
use crate::FileKeys;

/// Bytes RocksDB reserves at the start of every file for the header. A whole
/// page, so that direct I/O stays aligned behind it.
pub const PREFIX_LEN: usize = 4096;

/// The header's first eight bytes.
pub const MAGIC: [u8; 8] = *b"HELIOSFE";

/// The format version this build writes and reads.
pub const VERSION: u16 = 1;

/// Bytes of the header covered by the key check value.
const CHECKED_LEN: usize = 32;
const CHECK_LEN: usize = 16;
/// Where the used part of the header ends; the rest is zero.
const HEADER_LEN: usize = CHECKED_LEN + CHECK_LEN;

const LABEL_ENC: &[u8] = b"heliosdb-fileenc v1 aes-256-ctr key";
const LABEL_CHECK: &[u8] = b"heliosdb-fileenc v1 header check key";

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256(key, label): separates the AES key and the check key derived
/// from one file key, so that neither primitive ever sees the other's key.
fn derive(key: &[u8; 32], label: &[u8]) -> Zeroizing<[u8; 32]> {
    // HMAC accepts keys of any length; 32 bytes cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(label);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

fn check_value(key: &SecretKey, checked: &[u8; CHECKED_LEN]) -> [u8; CHECK_LEN] {
    let check_key = derive(key.expose_secret(), LABEL_CHECK);
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(&check_key[..]).expect("HMAC takes any key length");
    mac.update(checked);
    let tag = mac.finalize().into_bytes();
    let mut out = [0u8; CHECK_LEN];
    out.copy_from_slice(&tag[..CHECK_LEN]);
    out
}

/// A file's header, parsed but not yet checked against a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub key_id: u32,
    pub iv: [u8; 16],
    check: [u8; CHECK_LEN],
}

impl Header {
    fn checked_bytes(&self) -> [u8; CHECKED_LEN] {
        let mut b = [0u8; CHECKED_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&VERSION.to_be_bytes());
        // 10..12: flags, zero in version 1.
        b[12..16].copy_from_slice(&self.key_id.to_be_bytes());
        b[16..32].copy_from_slice(&self.iv);
        b
    }

    /// Parses the first [`PREFIX_LEN`] bytes of a file.
    pub fn parse(prefix: &[u8]) -> Result<Header, HeaderError> {
        if prefix.len() < PREFIX_LEN {
            return Err(HeaderError::Truncated {
                len: prefix.len(),
                need: PREFIX_LEN,
            });
        }
        let prefix = &prefix[..PREFIX_LEN];
        if prefix[0..8] != MAGIC {
            return Err(HeaderError::BadMagic);
        }
        let version = u16::from_be_bytes([prefix[8], prefix[9]]);
        if version != VERSION {
            return Err(HeaderError::UnsupportedVersion(version));
        }
        if prefix[10..12] != [0, 0] || prefix[HEADER_LEN..].iter().any(|&b| b != 0) {
            return Err(HeaderError::Reserved);
        }
        let mut id = [0u8; 4];
        id.copy_from_slice(&prefix[12..16]);
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&prefix[16..32]);
        let mut check = [0u8; CHECK_LEN];
        check.copy_from_slice(&prefix[32..48]);
        Ok(Header {
            key_id: u32::from_be_bytes(id),
            iv,
            check,
        })
    }

    /// Whether `key` is the key this header was written under.
    fn verify(&self, key: &SecretKey) -> bool {
        check_value(key, &self.checked_bytes())
            .ct_eq(&self.check)
            .into()
    }
}

/// Writes a fresh header for a new file under the keyring's current key.
pub(crate) fn new_prefix(keys: &dyn FileKeys, out: &mut [u8]) -> Result<(), String> {
    if out.len() != PREFIX_LEN {
        return Err(format!(
            "prefix buffer is {} bytes, expected {PREFIX_LEN}",
            out.len()
        ));
    }
    let (key_id, key) = keys.current();
    let mut iv = [0u8; 16];
    heliosdb_crypto::fill_random(&mut iv).map_err(|e| e.to_string())?;
    let mut header = Header {
        key_id,
        iv,
        check: [0; CHECK_LEN],
    };
    let checked = header.checked_bytes();
    header.check = check_value(&key, &checked);
    out.fill(0);
    out[..CHECKED_LEN].copy_from_slice(&checked);
    out[CHECKED_LEN..HEADER_LEN].copy_from_slice(&header.check);
    Ok(())
}

/// The keystream of one file: AES-256 in counter mode, the 128-bit
/// big-endian counter block of byte `offset` being `IV + offset / 16`
/// (mod 2^128). Offsets are physical file offsets, header included: what
/// RocksDB's encrypted files pass (the first data byte is at
/// [`PREFIX_LEN`](crate::PREFIX_LEN)).
///
/// Shared by every thread reading or writing the file: `xor` takes `&self`
/// and keeps its counter state on the stack.
pub struct Stream {
    // Expanded once per file; `aes`'s `zeroize` feature wipes it on drop.
    cipher: Aes256,
    iv: u128,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stream([REDACTED])")
    }
}

impl Stream {
    /// A stream for `key` and `iv` (exposed for tests and benchmarks; RocksDB
    /// gets its streams from file headers).
    pub fn new(key: &SecretKey, iv: [u8; 16]) -> Stream {
        let enc_key = derive(key.expose_secret(), LABEL_ENC);
        Stream {
            cipher: Aes256::new((&*enc_key).into()),
            iv: u128::from_be_bytes(iv),
        }
    }

    /// Opens the stream of a file from its header, checking the key.
    pub(crate) fn open(keys: &dyn FileKeys, prefix: &[u8]) -> Result<Stream, HeaderError> {
        let header = Header::parse(prefix)?;
        let key = keys
            .get(header.key_id)
            .ok_or(HeaderError::UnknownKey(header.key_id))?;
        if !header.verify(&key) {
            return Err(HeaderError::KeyMismatch(header.key_id));
        }
        Ok(Stream::new(&key, header.iv))
    }

    /// XORs the keystream at byte `offset` into `data` (encrypts or
    /// decrypts).
    pub fn xor(&self, offset: u64, data: &mut [u8]) {
        let block = u128::from(offset / 16);
        let counter = self.iv.wrapping_add(block).to_be_bytes();
        // The CTR state borrows the key schedule for this call only, so
        // concurrent calls share nothing mutable and nothing is copied.
        let core = ctr::CtrCore::<&Aes256, ctr::flavors::Ctr128BE>::inner_iv_init(
            &self.cipher,
            &counter.into(),
        );
        let mut ctr = ctr::Ctr128BE::from_core(core);
        let skip = (offset % 16) as usize;
        if skip != 0 {
            ctr.seek(skip);
        }
        ctr.apply_keystream(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockEncrypt;

    struct One(u32, [u8; 32]);
    impl FileKeys for One {
        fn current(&self) -> (u32, SecretKey) {
            (self.0, SecretKey::from_bytes(self.1))
        }
        fn get(&self, id: u32) -> Option<SecretKey> {
            (id == self.0).then(|| SecretKey::from_bytes(self.1))
        }
    }

    #[test]
    fn keystream_matches_aes_blocks_at_any_offset() {
        let key = SecretKey::from_bytes([7; 32]);
        // An IV near the top so the counter wraps inside the test.
        let iv = (u128::MAX - 3).to_be_bytes();
        let stream = Stream::new(&key, iv);
        let enc_key = derive(key.expose_secret(), LABEL_ENC);
        let aes = Aes256::new((&*enc_key).into());
        let mut expected = [0u8; 16 * 12];
        for (i, block) in expected.chunks_mut(16).enumerate() {
            let mut b = u128::MAX
                .wrapping_sub(3)
                .wrapping_add(i as u128)
                .to_be_bytes()
                .into();
            aes.encrypt_block(&mut b);
            block.copy_from_slice(&b);
        }
        for start in 0..40 {
            for len in [0, 1, 15, 16, 17, 33, 100] {
                if start + len > expected.len() {
                    continue;
                }
                let mut data = vec![0u8; len];
                stream.xor(start as u64, &mut data);
                assert_eq!(
                    data,
                    expected[start..start + len],
                    "offset {start} len {len}"
                );
            }
        }
    }

    #[test]
    fn header_round_trip_and_refusals() {
        let keys = One(9, [1; 32]);
        let mut prefix = vec![0xAA; PREFIX_LEN];
        new_prefix(&keys, &mut prefix).unwrap();
        let h = Header::parse(&prefix).unwrap();
        assert_eq!(h.key_id, 9);
        assert!(Stream::open(&keys, &prefix).is_ok());

        assert_eq!(
            Stream::open(&keys, &prefix[..100]).unwrap_err(),
            HeaderError::Truncated {
                len: 100,
                need: PREFIX_LEN
            }
        );
        assert_eq!(
            Stream::open(&One(9, [2; 32]), &prefix).unwrap_err(),
            HeaderError::KeyMismatch(9)
        );
        assert_eq!(
            Stream::open(&One(8, [1; 32]), &prefix).unwrap_err(),
            HeaderError::UnknownKey(9)
        );

        let mut bad = prefix.clone();
        bad[0] ^= 1;
        assert_eq!(
            Stream::open(&keys, &bad).unwrap_err(),
            HeaderError::BadMagic
        );
        let mut bad = prefix.clone();
        bad[9] = 2;
        assert_eq!(
            Stream::open(&keys, &bad).unwrap_err(),
            HeaderError::UnsupportedVersion(2)
        );
        let mut bad = prefix.clone();
        bad[4000] = 1;
        assert_eq!(
            Stream::open(&keys, &bad).unwrap_err(),
            HeaderError::Reserved
        );
        // The IV is covered by the check value.
        let mut bad = prefix.clone();
        bad[20] ^= 1;
        assert_eq!(
            Stream::open(&keys, &bad).unwrap_err(),
            HeaderError::KeyMismatch(9)
        );
    }

    #[test]
    fn fresh_headers_have_fresh_ivs() {
        let keys = One(1, [3; 32]);
        let mut a = vec![0; PREFIX_LEN];
        let mut b = vec![0; PREFIX_LEN];
        new_prefix(&keys, &mut a).unwrap();
        new_prefix(&keys, &mut b).unwrap();
        assert_ne!(Header::parse(&a).unwrap().iv, Header::parse(&b).unwrap().iv);
    }
}
