//! The last step of `heliosdb-nano upgrade`, made safe against a kill.
//!
//! The upgrade builds a format-2 copy beside the database, checks it, and
//! then renames it to `<name>.upgrade-ready`: from that moment the copy is
//! known to be complete. It then moves the original aside
//! (`<name>.format1-<time>`) and the ready copy into place. A process killed
//! between those two renames leaves no database at the path: the original
//! sits aside and the finished copy waits beside it. Opening the path then
//! finishes the swap ([`finish_interrupted_upgrade`], called by every open
//! and by [`crate::StorageEngine::inspect`]) instead of creating an empty
//! database there.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// What a finished, checked upgrade copy is named beside the database
/// (`<name>` + this) until it is swapped in.
pub const UPGRADE_READY_SUFFIX: &str = ".upgrade-ready";

/// What the original of an upgrade is renamed to beside the database
/// (`<name>` + this + a UTC time stamp).
pub const UPGRADE_KEPT_INFIX: &str = ".format1-";

/// `<path>.upgrade-ready`, the finished copy of an upgrade of `path`;
/// `None` when `path` has no file name (`/`, `..`).
pub fn upgrade_ready_path(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    Some(path.with_file_name(format!("{name}{UPGRADE_READY_SUFFIX}")))
}

/// Whether an original moved aside by an upgrade of `path` is beside it.
fn original_moved_aside(path: &Path) -> bool {
    let (Some(name), Some(parent)) = (path.file_name().and_then(|n| n.to_str()), path.parent())
    else {
        return false;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let prefix = format!("{name}{UPGRADE_KEPT_INFIX}");
    std::fs::read_dir(parent).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|f| f.starts_with(&prefix))
        })
    })
}

/// Finishes an upgrade of `path` that was killed between moving the
/// original aside and moving the finished copy into place: when nothing is
/// at `path`, a finished copy (`<path>.upgrade-ready`) waits beside it and
/// the original was moved aside (`<name>.format1-*`), the copy is renamed
/// to `path` and the rename made durable. Returns whether it did. In every
/// other state nothing is touched (a ready copy beside a database that is
/// still at its path is the upgrade command's to discard: the database may
/// have been written since).
///
/// # Errors
/// The rename or the directory sync failed.
pub fn finish_interrupted_upgrade(path: &Path) -> Result<bool> {
    let Some(ready) = upgrade_ready_path(path) else {
        return Ok(false);
    };
    if path.exists() || !ready.is_dir() || !original_moved_aside(path) {
        return Ok(false);
    }
    std::fs::rename(&ready, path).map_err(|e| {
        Error::Config(format!(
            "an interrupted upgrade left its finished copy at {}; moving it to {} failed: {e}",
            ready.display(),
            path.display()
        ))
    })?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::Config(format!("cannot sync {}: {e}", parent.display())))?;
    }
    tracing::warn!(
        path = %path.display(),
        "finished an interrupted upgrade: moved its checked format-2 copy into place"
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_state_between_the_two_renames_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let ready = upgrade_ready_path(&db).unwrap();
        assert_eq!(ready, dir.path().join("db.upgrade-ready"));

        // A ready copy alone (no original moved aside): left as it is.
        std::fs::create_dir(&ready).unwrap();
        std::fs::write(ready.join("CURRENT"), b"x").unwrap();
        assert!(!finish_interrupted_upgrade(&db).unwrap());
        assert!(!db.exists());

        // Original still in place: the ready copy is not swapped in.
        std::fs::create_dir(&db).unwrap();
        std::fs::create_dir(dir.path().join("db.format1-20260101T000000Z")).unwrap();
        assert!(!finish_interrupted_upgrade(&db).unwrap());
        assert!(ready.is_dir());

        // Original aside, nothing at the path: the copy moves into place.
        std::fs::remove_dir(&db).unwrap();
        assert!(finish_interrupted_upgrade(&db).unwrap());
        assert_eq!(std::fs::read(db.join("CURRENT")).unwrap(), b"x");
        assert!(!ready.exists());
        // Done once; nothing more to do.
        assert!(!finish_interrupted_upgrade(&db).unwrap());
        // A path without a file name has no ready copy.
        assert!(upgrade_ready_path(Path::new("/")).is_none());
    }
}
