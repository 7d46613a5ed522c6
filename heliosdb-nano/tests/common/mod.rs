//! Helpers shared by the facade's integration tests.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use heliosdb_nano::config::KeySource;
use heliosdb_nano::rust_decimal::Decimal;
use heliosdb_nano::{Column, Config, DataType, Schema, Tuple, Value};

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
/// `f` rewrite it — the view of an attacker who can also decrypt the file
/// layer (its keys come from `config`), so what `f` changes is caught, if at
/// all, by the record layer.
pub fn with_raw_db(path: &Path, config: &Config, f: impl FnOnce(&rocksdb::DB)) {
    heliosdb_core::testing::with_raw_db(path, config, f).unwrap();
}

/// Files under `dir` in which any needle occurs, searched in what RocksDB
/// stores (decrypted through the file layer when there is one): where
/// record-layer ciphertext can still be found.
pub fn find_in_decrypted_files(
    dir: &Path,
    config: &Config,
    needles: &[&[u8]],
) -> Vec<(String, PathBuf)> {
    let mut hits = Vec::new();
    for (f, bytes) in heliosdb_core::testing::decrypted_files(dir, config).unwrap() {
        for n in needles {
            if bytes.windows(n.len()).any(|w| w == *n) {
                hits.push((String::from_utf8_lossy(n).into_owned(), f.clone()));
            }
        }
    }
    hits
}

/// The heliosdb-nano binary built for these tests.
pub fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_heliosdb-nano"))
}

/// The schema of the "all types" test table: one column of every type.
pub fn all_types_schema() -> Schema {
    Schema::new(vec![
        Column::new("id", DataType::Int8).primary_key(),
        Column::new("small", DataType::Int2),
        Column::new("int", DataType::Int4).not_null(),
        Column::new("dbl", DataType::Float8),
        Column::new("num", DataType::Numeric),
        Column::new("txt", DataType::Text),
        Column::new("bin", DataType::Bytes),
        Column::new("flag", DataType::Bool),
        Column::new("ts", DataType::Timestamp),
    ])
}

/// Row `i` of the "all types" table: awkward texts (quotes, backslashes,
/// newlines, Unicode, empty), NULLs, negative numbers, bytes, timestamps.
pub fn all_types_row(i: i64) -> Tuple {
    let texts = [
        "plain",
        "it's",
        "back\\slash",
        "semi;colon",
        "multi\nline\ttab",
        "ünïcødé ✓",
        "",
        "--not a comment",
    ];
    Tuple::new(vec![
        Value::Int8(i),
        Value::Int2((i % 300) as i16 - 150),
        Value::Int4(i as i32 * -7),
        if i % 5 == 0 {
            Value::Null
        } else {
            Value::Float8(i as f64 / 3.0)
        },
        Value::Numeric(Decimal::new(i * 12345 - 99, 3)),
        Value::String(texts[i as usize % texts.len()].to_string()),
        Value::Bytes((0..(i % 7) as u8).collect()),
        Value::Bool(i % 2 == 0),
        Value::Timestamp(
            heliosdb_nano::chrono::DateTime::from_timestamp_micros(
                1_700_000_000_000_000 + i * 1_000_123,
            )
            .unwrap(),
        ),
    ])
}

/// The text of a PDF file as pypdf (an independent reader) extracts it;
/// panics if pypdf cannot parse the file. `./dev test` installs pypdf.
pub fn pdf_text(pdf: &Path) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, pypdf\n\
             r = pypdf.PdfReader(sys.argv[1], strict=True)\n\
             print(len(r.pages))\n\
             print('\\n'.join(p.extract_text() for p in r.pages))",
        ])
        .arg(pdf)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "pypdf could not read {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
