//! The keyring file of a format-2 encrypted database (`heliosdb.keyring` in
//! the data directory).
//!
//! RocksDB's files are encrypted under file keys the keyring holds, so the
//! keyring cannot live inside RocksDB: it is its own file, replaced
//! atomically (temporary file, fsync, rename, fsync of the directory), so a
//! crash leaves exactly one valid keyring, the old or the new. Old versions
//! do not survive in SST files, which is what makes destroying a key
//! (crypto-shredding) final.
//!
//! Layout: the keyring's own encoding ([`Keyring::encode`]: magic, version,
//! length, JSON, SHA-256 checksum — integrity readable without a key), then
//! `HDBKMAC1` and HMAC-SHA256 over everything before it under a key derived
//! from the root key. The checksum catches damage; the MAC catches edits by
//! anyone who does not hold the root key (key states, nonce counters, ids,
//! KMS options, Argon2 cost): it is checked right after the keyring is
//! unlocked, before any key in it is used.

use std::io::Write;
use std::path::{Path, PathBuf};

use heliosdb_crypto::SecretKey;
use heliosdb_keys::Keyring;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Error, Result};

/// File name of the keyring in the data directory.
pub(crate) const KEYRING_FILE: &str = "heliosdb.keyring";
const TMP_SUFFIX: &str = ".tmp";
const MAC_MAGIC: &[u8; 8] = b"HDBKMAC1";
const MAC_LEN: usize = 32;
const MAC_LABEL: &[u8] = b"heliosdb-nano/keyring-file-mac/v1";
/// Keyrings are a few KiB; anything far larger is not one.
const MAX_LEN: u64 = 16 << 20;

pub(crate) fn path(dir: &Path) -> PathBuf {
    dir.join(KEYRING_FILE)
}

fn corrupt(m: impl Into<String>) -> Error {
    Error::Keys(heliosdb_keys::Error::KeyringCorrupt(m.into()))
}

/// The keyring file's contents, checksum-verified but not yet authenticated
/// (authentication needs the root key: [`authenticate`]).
pub(crate) struct Stored {
    pub ring: Keyring,
    bytes: Vec<u8>,
}

/// Reads the keyring file, if there is one.
pub(crate) fn read(dir: &Path) -> Result<Option<Stored>> {
    let p = path(dir);
    let meta = match std::fs::metadata(&p) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if meta.len() > MAX_LEN {
        return Err(corrupt(format!(
            "{} is {} bytes, far larger than a keyring",
            p.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(&p)?;
    let tail = MAC_MAGIC.len() + MAC_LEN;
    if bytes.len() < tail || &bytes[bytes.len() - tail..bytes.len() - MAC_LEN] != MAC_MAGIC {
        return Err(corrupt(format!(
            "{} is truncated or not a keyring file (no authentication trailer)",
            p.display()
        )));
    }
    let ring = Keyring::decode(&bytes[..bytes.len() - tail])
        .map_err(|e| corrupt(format!("{}: {e}", p.display())))?;
    Ok(Some(Stored { ring, bytes }))
}

fn mac_key(root: &SecretKey) -> Hmac<Sha256> {
    let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(root.expose_secret())
        .expect("HMAC takes keys of any length");
    derive.update(MAC_LABEL);
    let key = derive.finalize().into_bytes();
    <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes keys of any length")
}

fn mac_of(root: &SecretKey, body: &[u8]) -> [u8; MAC_LEN] {
    let mut mac = mac_key(root);
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// Checks the MAC of a keyring file read by [`read`] under the root key it
/// unlocked to.
pub(crate) fn authenticate(stored: &Stored, root: &SecretKey) -> Result<()> {
    let body = &stored.bytes[..stored.bytes.len() - MAC_LEN];
    let got = &stored.bytes[stored.bytes.len() - MAC_LEN..];
    let mut mac = mac_key(root);
    mac.update(body);
    // Constant-time comparison.
    if mac.verify_slice(got).is_ok() {
        Ok(())
    } else {
        Err(corrupt(
            "the keyring file failed authentication: it was changed by someone who does not \
             hold its keys (key states, counters, ids or KEK parameters edited), or damaged; \
             restore it from a backup",
        ))
    }
}

/// The bytes of the keyring file for `ring`, authenticated under `root`.
pub(crate) fn encode(ring: &Keyring, root: &SecretKey) -> Vec<u8> {
    let mut out = ring.encode();
    out.extend_from_slice(MAC_MAGIC);
    let mac = mac_of(root, &out);
    out.extend_from_slice(&mac);
    out
}

/// Replaces the keyring file atomically: written to a temporary file,
/// synced, renamed over the old one, and the directory synced, so after a
/// crash at any point the directory holds the old keyring or the new one.
pub(crate) fn write(dir: &Path, ring: &Keyring, root: &SecretKey) -> Result<()> {
    write_bytes(dir, &encode(ring, root))
}

pub(crate) fn write_bytes(dir: &Path, bytes: &[u8]) -> Result<()> {
    let target = path(dir);
    let tmp = dir.join(format!("{KEYRING_FILE}{TMP_SUFFIX}"));
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &target)?;
    sync_dir(dir)
}

/// Removes a temporary keyring left by a crash before its rename (the
/// keyring file itself is still the valid one).
pub(crate) fn remove_stale_tmp(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(format!("{KEYRING_FILE}{TMP_SUFFIX}")));
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<()> {
    Ok(())
}
