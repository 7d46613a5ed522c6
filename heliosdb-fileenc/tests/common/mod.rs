//! Helpers shared by the integration tests: keyrings, directory scans and
//! byte surgery on files.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use heliosdb_crypto::SecretKey;
use heliosdb_fileenc::{EncryptedEnv, MemoryFileKeys};

pub fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes([byte; 32])
}

/// A keyring with one key (`id`, all bytes `byte`) and an env over it.
pub fn env_with(id: u32, byte: u8) -> (Arc<MemoryFileKeys>, EncryptedEnv) {
    let keys = Arc::new(MemoryFileKeys::new(id, key(byte)));
    let env = EncryptedEnv::new(keys.clone()).expect("env");
    (keys, env)
}

/// Every regular file under `dir`, recursively, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

pub fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Occurrences of `needle` in `hay`.
pub fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// (file name, needle, occurrences) for every needle found in every file.
pub fn scan(dir: &Path, needles: &[&[u8]]) -> Vec<(String, String, usize)> {
    let mut hits = Vec::new();
    for path in files(dir) {
        let bytes = fs::read(&path).unwrap();
        for needle in needles {
            let n = count(&bytes, needle);
            if n > 0 {
                hits.push((name(&path), String::from_utf8_lossy(needle).into_owned(), n));
            }
        }
    }
    hits
}

/// The live files of one kind (`.sst`, `.log`), by extension.
pub fn with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect()
}

/// XORs `mask` into the byte at `at`.
pub fn flip(path: &Path, at: u64, mask: u8) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at as usize] ^= mask;
    fs::write(path, bytes).unwrap();
}

/// Copies a directory (flat: RocksDB's data directory has no subdirectories
/// in these tests).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for path in files(from) {
        fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}
