//! `cargo xtask dist [--features kms-all]`: the release binary of
//! `heliosdb-nano`, packed as
//! `target/dist/heliosdb-nano-<version>[-kms-all]-<target-triple>.tar.gz`
//! with `LICENSE` and `README.md`, plus `target/dist/SHA256SUMS`.
//!
//! The tarball is reproducible: entries sorted by name under one top-level
//! directory, every mtime set to `SOURCE_DATE_EPOCH` (else the last
//! commit's time, else 0), uid/gid 0 without user or group names, modes
//! 0755 (binary, directory) and 0644 (documents), and a gzip header with
//! mtime 0 and no file name. The binary is packed without debug information
//! (`strip --strip-debug`, symbols kept). [`pack_tarball`] does the packing from
//! explicit inputs, so a test can pack twice and compare bytes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

use crate::util;

/// The one flavour besides the default features.
const KMS_ALL: &str = "kms-all";

/// One file inside the tarball.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Path inside the top-level directory.
    pub name: String,
    /// Unix permission bits.
    pub mode: u32,
    pub contents: Vec<u8>,
}

/// Runs `cargo xtask dist [--features kms-all]`.
pub(crate) fn run(args: &[String]) -> Result<ExitCode> {
    let mut flavour: Option<&str> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.as_str() {
            "--features" => it.next().map(String::as_str),
            other => other.strip_prefix("--features="),
        };
        match value {
            Some(KMS_ALL) => flavour = Some(KMS_ALL),
            Some(other) => bail!("dist: only `--features {KMS_ALL}` is a flavour, not {other:?}"),
            None => bail!("dist: unknown argument {arg:?} (usage: dist [--features {KMS_ALL}])"),
        }
    }

    let root = crate::workspace_root();
    if let Some(feature) = flavour {
        let manifest = std::fs::read_to_string(root.join("heliosdb-nano/Cargo.toml"))
            .context("reading heliosdb-nano/Cargo.toml")?;
        if !declares_feature(&manifest, feature) {
            bail!(
                "dist: heliosdb-nano has no `{feature}` feature yet (the KMS key sources have \
                 not landed in the facade); only the default flavour can be built"
            );
        }
    }

    let version = util::workspace_version(&root)?;
    let triple = util::host_triple()?;
    let mut build = vec![
        "build",
        "--release",
        "-p",
        "heliosdb-nano",
        "--bin",
        "heliosdb-nano",
    ];
    if let Some(feature) = flavour {
        build.extend(["--features", feature]);
    }
    util::run_checked(&mut util::dev_cargo(&root, &build)).with_context(|| match flavour {
        Some(f) => format!("building the `{f}` flavour failed"),
        None => "building the release binary failed".to_string(),
    })?;

    let binary = util::cargo_target_dir(&root).join("release/heliosdb-nano");
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let dist = root.join("target/dist");
    std::fs::create_dir_all(&dist).with_context(|| format!("creating {}", dist.display()))?;
    let entries = vec![
        Entry {
            name: "heliosdb-nano".into(),
            mode: 0o755,
            contents: stripped(&binary, &dist)?,
        },
        Entry {
            name: "LICENSE".into(),
            mode: 0o644,
            contents: read(&root.join("LICENSE"))?,
        },
        Entry {
            name: "README.md".into(),
            mode: 0o644,
            contents: read(&root.join("README.md"))?,
        },
    ];

    let stem = archive_stem(&version, flavour, &triple);
    let mtime = source_date_epoch(&root);
    let tarball = pack_tarball(&stem, &entries, mtime)?;
    let out = dist.join(format!("{stem}.tar.gz"));
    std::fs::write(&out, &tarball).with_context(|| format!("writing {}", out.display()))?;
    let sums = write_sums(&dist)?;
    println!(
        "dist: {} ({} bytes, mtime {mtime})\ndist: {}",
        out.display(),
        tarball.len(),
        sums.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The binary without its debug information (the release profile keeps line
/// tables, which make it several hundred megabytes): `strip --strip-debug`
/// into a scratch file, symbols kept for backtraces. Without `strip` the
/// binary is packed as built, with a note.
fn stripped(binary: &Path, scratch_dir: &Path) -> Result<Vec<u8>> {
    let scratch = scratch_dir.join(".heliosdb-nano.stripped");
    let status = Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(&scratch)
        .arg(binary)
        .status();
    match status {
        Ok(s) if s.success() => {
            let bytes = std::fs::read(&scratch).context("reading the stripped binary")?;
            let _ = std::fs::remove_file(&scratch);
            Ok(bytes)
        }
        other => {
            let _ = std::fs::remove_file(&scratch);
            println!("dist: `strip --strip-debug` unavailable or failed ({other:?}); packing the binary as built");
            std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))
        }
    }
}

/// `heliosdb-nano-<version>[-<flavour>]-<triple>`: the tarball's name without
/// `.tar.gz`, and its top-level directory.
pub(crate) fn archive_stem(version: &str, flavour: Option<&str>, triple: &str) -> String {
    match flavour {
        Some(f) => format!("heliosdb-nano-{version}-{f}-{triple}"),
        None => format!("heliosdb-nano-{version}-{triple}"),
    }
}

/// Whether a manifest's `[features]` table declares `feature`.
fn declares_feature(manifest: &str, feature: &str) -> bool {
    let mut section = "";
    for line in manifest.lines() {
        if let Some(s) = util::section_header(line) {
            section = s;
            continue;
        }
        if section == "features" {
            let key = line.split('=').next().unwrap_or("").trim();
            if key.trim_matches('"') == feature {
                return true;
            }
        }
    }
    false
}

/// The fixed mtime of every entry: `SOURCE_DATE_EPOCH`, else the last
/// commit's time, else 0.
fn source_date_epoch(root: &Path) -> u64 {
    if let Some(v) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return v;
    }
    Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

/// Packs `entries` under `top/` into a gzip'd tar, deterministically: the
/// same inputs give the same bytes on any machine, whatever the files'
/// owners, modes or times on disk (only `contents` and `mode` are used).
pub(crate) fn pack_tarball(top: &str, entries: &[Entry], mtime: u64) -> Result<Vec<u8>> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = sorted.windows(2).find(|w| w[0].name == w[1].name) {
        bail!("duplicate tarball entry {:?}", w[0].name);
    }

    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);

    let mut dir = header(tar::EntryType::Directory, 0o755, 0, mtime);
    tar.append_data(&mut dir, format!("{top}/"), std::io::empty())?;
    for entry in sorted {
        let mut h = header(
            tar::EntryType::Regular,
            entry.mode,
            entry.contents.len() as u64,
            mtime,
        );
        tar.append_data(
            &mut h,
            format!("{top}/{}", entry.name),
            entry.contents.as_slice(),
        )?;
    }
    let gz = tar.into_inner()?;
    Ok(gz.finish()?)
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    // Empty names cannot fail.
    let _ = h.set_username("");
    let _ = h.set_groupname("");
    h
}

/// Writes `SHA256SUMS` (the `sha256sum` format) for every tarball in `dist`,
/// sorted by name, and returns its path.
fn write_sums(dist: &Path) -> Result<PathBuf> {
    let mut names: Vec<String> = std::fs::read_dir(dist)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tar.gz"))
        .collect();
    names.sort();
    let mut text = Vec::new();
    for name in &names {
        let bytes = std::fs::read(dist.join(name))?;
        writeln!(text, "{}  {name}", sha256_hex(&bytes))?;
    }
    let path = dist.join("SHA256SUMS");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn entries_from(dir: &Path) -> Vec<Entry> {
        // Read back from disk each time, as `run` does.
        ["README.md", "LICENSE"]
            .iter()
            .map(|n| Entry {
                name: (*n).to_string(),
                mode: 0o644,
                contents: std::fs::read(dir.join(n)).unwrap(),
            })
            .collect()
    }

    #[test]
    fn packing_twice_is_byte_identical() {
        let dir = std::env::temp_dir().join(format!("xtask-dist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("README.md"), b"# readme\n").unwrap();
        std::fs::write(dir.join("LICENSE"), b"license text\n").unwrap();

        let first = pack_tarball("pkg-1.0.0-x", &entries_from(&dir), 1_700_000_000).unwrap();
        // Touch the files (new mtimes on disk) and reverse the input order.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("README.md"), b"# readme\n").unwrap();
        let mut reversed = entries_from(&dir);
        reversed.reverse();
        let second = pack_tarball("pkg-1.0.0-x", &reversed, 1_700_000_000).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(first, second, "tarballs differ");
        assert_eq!(sha256_hex(&first), sha256_hex(&second));

        // gzip header: mtime 0 (bytes 4..8).
        assert_eq!(&first[4..8], &[0, 0, 0, 0]);

        // Sorted entries, fixed metadata.
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(first.as_slice())
            .read_to_end(&mut raw)
            .unwrap();
        let mut archive = tar::Archive::new(raw.as_slice());
        let mut seen = Vec::new();
        for e in archive.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(h.mtime().unwrap(), 1_700_000_000);
            assert_eq!(h.uid().unwrap(), 0);
            assert_eq!(h.gid().unwrap(), 0);
            seen.push(e.path().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(
            seen,
            [
                "pkg-1.0.0-x/",
                "pkg-1.0.0-x/LICENSE",
                "pkg-1.0.0-x/README.md"
            ]
        );
    }

    #[test]
    fn duplicate_entries_are_refused() {
        let e = Entry {
            name: "a".into(),
            mode: 0o644,
            contents: vec![],
        };
        assert!(pack_tarball("t", &[e.clone(), e], 0).is_err());
    }

    #[test]
    fn names_and_features() {
        assert_eq!(
            archive_stem("0.1.0", None, "x86_64-unknown-linux-gnu"),
            "heliosdb-nano-0.1.0-x86_64-unknown-linux-gnu"
        );
        assert_eq!(
            archive_stem("0.1.0", Some("kms-all"), "x86_64-unknown-linux-gnu"),
            "heliosdb-nano-0.1.0-kms-all-x86_64-unknown-linux-gnu"
        );
        let manifest = "[package]\nname = \"x\"\n\n[features]\ndefault = []\nkms-all = [\"aws\"]\n";
        assert!(declares_feature(manifest, "kms-all"));
        assert!(!declares_feature("[features]\ndefault = []\n", "kms-all"));
    }
}
