//! Backups that stay encrypted: a consistent RocksDB checkpoint of the live
//! database, as a directory or a `.tar.gz`, carrying its own wrapped keyring
//! (restoring needs only a KEK that wraps it); and restore, which refuses to
//! overwrite and checks what it unpacked before handing it over.
//!
//! Backups are private to their owner: directories 0700, files and
//! tarballs 0600. Each is built inside a fresh 0700 staging directory and
//! renamed into place, so no other user can open it while it is written.

use std::fs::File;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::engine::StorageEngine;
use crate::{Error, Result};

fn is_tarball(p: &Path) -> bool {
    let s = p.to_string_lossy();
    s.ends_with(".tar.gz") || s.ends_with(".tgz")
}

impl StorageEngine {
    /// A consistent online backup at `dest` (a directory, or a `.tar.gz`
    /// when the name says so) while reads and writes go on: each transaction
    /// is in it whole or not at all. Values stay sealed; the keyring is
    /// included, wrapped.
    ///
    /// # Errors
    /// `dest` exists; I/O and RocksDB errors.
    pub fn backup(&self, dest: impl AsRef<Path>) -> Result<()> {
        let dest = dest.as_ref();
        if dest.exists() {
            return Err(Error::Config(format!("{} already exists", dest.display())));
        }
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // tempfile makes the staging directory 0700: nothing in it is
        // reachable by other users while it is written.
        let staging = tempfile::Builder::new()
            .prefix(".heliosdb-backup-")
            .tempdir_in(parent)?;
        let snap = staging.path().join("db");
        {
            // The commit lock makes the checkpoint fall between transactions.
            let _g = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
            self.store().checkpoint_to(&snap)?;
        }
        restrict_tree(&snap)?;
        if !is_tarball(dest) {
            std::fs::rename(&snap, dest)?;
            return Ok(());
        }
        let partial = PathBuf::from(format!("{}.partial", dest.display()));
        let result = (|| -> Result<()> {
            let file = create_private(&partial)?;
            let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::fast()));
            tar.append_dir_all("heliosdb-backup", &snap)?;
            let gz = tar.into_inner()?;
            gz.finish()?.sync_all()?;
            std::fs::rename(&partial, dest)?;
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        result
    }
}

/// Restores a backup (directory or `.tar.gz`) into `dest`, which must not
/// exist. The restored copy is opened by the caller with any KEK that wraps
/// its keyring (and can be re-keyed with `rotate_encryption_key`).
///
/// # Errors
/// `dest` exists; a truncated or corrupt tarball; a source that is not a
/// HeliosDB Nano backup. On error nothing is left at `dest`.
pub fn restore(src: impl AsRef<Path>, dest: impl AsRef<Path>) -> Result<()> {
    let (src, dest) = (src.as_ref(), dest.as_ref());
    if dest.exists() {
        return Err(Error::Config(format!(
            "{} already exists; restore into a new path",
            dest.display()
        )));
    }
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".heliosdb-restore-")
        .tempdir_in(parent)?;
    let unpacked = if is_tarball(src) {
        let file = File::open(src)?;
        let damaged = |e: std::io::Error| {
            Error::Corrupt(format!(
                "backup {} is damaged or truncated: {e}",
                src.display()
            ))
        };
        let mut archive = tar::Archive::new(GzDecoder::new(file));
        archive.unpack(staging.path()).map_err(damaged)?;
        // Read to the end so gzip checks its CRC and length trailer too.
        std::io::copy(&mut archive.into_inner(), &mut std::io::sink()).map_err(damaged)?;
        staging.path().join("heliosdb-backup")
    } else {
        let to = staging.path().join("heliosdb-backup");
        copy_dir(src, &to)?;
        to
    };
    if !crate::store::exists(&unpacked) {
        return Err(Error::Corrupt(format!(
            "{} does not hold a HeliosDB Nano backup",
            src.display()
        )));
    }
    // The keyring must decode before we hand the copy over.
    StorageEngine::inspect(&unpacked)?;
    // Whatever modes the backup carried (older backups were 0755/0644),
    // the restored database is private.
    restrict_tree(&unpacked)?;
    std::fs::rename(&unpacked, dest)?;
    Ok(())
}

/// Creates `path` for writing, mode 0600, refusing to overwrite.
fn create_private(path: &Path) -> Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    Ok(o.open(path)?)
}

/// Makes a tree private to its owner: directories 0700, files 0600.
/// RocksDB checkpoints hard-link SST files on the same file system, so the
/// live database's SSTs get 0600 too; they sit in its 0700 directory and
/// only the owner opens them, so nothing changes for the database.
fn restrict_tree(root: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
            for e in std::fs::read_dir(&dir)? {
                let e = e?;
                let t = e.file_type()?;
                if t.is_dir() {
                    stack.push(e.path());
                } else if t.is_file() {
                    std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o600))?;
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = root;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}
