//! Backups that stay encrypted: a consistent RocksDB checkpoint of the live
//! database, as a directory or a `.tar.gz`, carrying its own wrapped keyring
//! (restoring needs only a KEK that wraps it); and restore, which refuses to
//! overwrite and checks what it unpacked before handing it over.

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
        if !is_tarball(dest) {
            // The commit lock makes the checkpoint fall between transactions.
            let _g = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
            return self.store().checkpoint_to(dest);
        }
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let staging = tempfile::Builder::new()
            .prefix(".heliosdb-backup-")
            .tempdir_in(parent)?;
        let snap = staging.path().join("db");
        {
            let _g = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
            self.store().checkpoint_to(&snap)?;
        }
        let partial = PathBuf::from(format!("{}.partial", dest.display()));
        let result = (|| -> Result<()> {
            let file = File::create(&partial)?;
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
    std::fs::rename(&unpacked, dest)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o700))?;
    }
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
