//! Helpers shared by the facade's integration tests.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use heliosdb_nano::config::KeySource;
use heliosdb_nano::Config;

pub const KEY_A: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const KEY_B: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/// Writes a key file with the given mode.
pub fn key_file(dir: &Path, name: &str, contents: &[u8], mode: u32) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

/// An encrypted config using a key file.
pub fn file_config(key: &Path) -> Config {
    let mut c = Config::default();
    c.encryption.enabled = true;
    c.encryption.key_source = KeySource::File(key.to_path_buf());
    c
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// (needle, file) for every needle found in any file under `dir`.
pub fn find_in_files(dir: &Path, needles: &[&[u8]]) -> Vec<(String, PathBuf)> {
    let mut hits = Vec::new();
    for f in files_under(dir) {
        let data = std::fs::read(&f).unwrap();
        for n in needles {
            if data.windows(n.len()).any(|w| w == *n) {
                hits.push((String::from_utf8_lossy(n).into_owned(), f.clone()));
            }
        }
    }
    hits
}

/// Opens the RocksDB directory directly (the engine must be closed) and lets
/// `f` rewrite it — the attacker's view of the files.
pub fn with_raw_db(path: &Path, f: impl FnOnce(&rocksdb::DB)) {
    let opts = rocksdb::Options::default();
    let cfs = rocksdb::DB::list_cf(&opts, path).unwrap();
    let db = rocksdb::DB::open_cf(&opts, path, cfs).unwrap();
    f(&db);
    db.flush().unwrap();
}

/// The heliosdb-nano binary built for these tests.
pub fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_heliosdb-nano"))
}
