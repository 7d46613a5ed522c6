//! `upgrade`: converts a format-1 database (blind record keys, keyring
//! inside RocksDB) to format 2 (ordered record keys; when encrypted, every
//! RocksDB file encrypted and the keyring in its own file).
//!
//! The copy is built beside the database through the engine's public API
//! only (tables, indexes, rows, every key-value pair), checked against the
//! original, renamed `<name>.upgrade-ready` (finished), and then swapped in
//! by two renames. Until it is moved aside the original is untouched and
//! a failure removes the copy; afterwards the original is kept under a
//! `.format1-<time>` name for the user to delete. A run killed between the
//! two renames leaves no database at the path; the next open of the path
//! moves the finished copy into place
//! (`heliosdb_core::finish_interrupted_upgrade`).
//! A new keyring is made under the same key-encryption key: every record is
//! sealed again under new data keys, so nothing of the old keyring is
//! carried over (retired keys, nonce counters, table keys of dropped tables).

use std::ops::Bound;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use heliosdb_core::config::RecordKeys;
use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::{EnvSource, FileSource, KeyManager, KeySource, SourceKind};

use super::keysrc::{self, KeyArgs};
use super::Target;

/// Rows (or key-value pairs) per write when copying: bounds memory to a
/// batch while keeping the number of commits small.
const BATCH: usize = 1024;

/// What was copied, for the check and the summary.
#[derive(Debug, Default, PartialEq, Eq)]
struct Contents {
    /// (table, rows), sorted by name.
    tables: Vec<(String, u64)>,
    kv_pairs: u64,
}

pub fn upgrade(target: &Target, keys: &KeyArgs) -> anyhow::Result<ExitCode> {
    let (path, config, from_file) = target.resolve()?;
    // Names the database (and whether it is encrypted) before any key is read.
    let (encrypted, _) = StorageEngine::inspect(&path)?;
    let (old, source) = keysrc::open_existing_with_source(&path, &config, from_file, keys)?;
    if old.format_version() >= 2 {
        println!(
            "{} is already format {}: nothing to do",
            path.display(),
            old.format_version()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let name = path
        .file_name()
        .context("give the database directory by its name (not `/` or `..`)")?
        .to_string_lossy()
        .into_owned();
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    refuse_key_files_inside(&old, &path)?;
    let stamp = heliosdb_core::chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let kept = parent.join(format!(
        "{name}{}{stamp}",
        heliosdb_core::UPGRADE_KEPT_INFIX
    ));
    if kept.exists() {
        bail!("{} already exists; try again in a second", kept.display());
    }
    remove_stale_copies(&parent, &name);
    let ready = heliosdb_core::upgrade_ready_path(&path)
        .context("give the database directory by its name (not `/` or `..`)")?;
    if ready.exists() {
        // A finished copy of a run killed before it moved the original
        // aside: the database has been open since (this run opened it), so
        // the copy may miss writes. Built afresh below.
        std::fs::remove_dir_all(&ready).with_context(|| {
            format!(
                "cannot remove {} (the copy of an interrupted upgrade)",
                ready.display()
            )
        })?;
        eprintln!(
            "note: removed {} (the copy of an interrupted upgrade)",
            ready.display()
        );
    }
    let temp = parent.join(format!("{name}.upgrade-{}", std::process::id()));

    println!(
        "upgrading {} from format 1 to format 2 ({})",
        path.display(),
        if encrypted {
            "encrypted"
        } else {
            "unencrypted"
        }
    );
    let mut new_config = old.config().clone();
    new_config.storage.record_keys = RecordKeys::Ordered;
    // The copy is flushed as a whole before it is swapped in, so per-commit
    // fsyncs would only slow it down.
    new_config.storage.sync_commit = false;
    // Copying is not a user's access: the audit log (outside the data
    // directory) is left alone.
    new_config.audit.enabled = false;
    let built = build(&old, &temp, &new_config, source);
    let (contents, notes) = match built {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&temp);
            return Err(e.context(format!("upgrade failed; {} is unchanged", path.display())));
        }
    };
    // The copy is complete and checked: its new name says so, durably. A
    // run killed from here on leaves a copy that opening the path swaps in
    // once the original has been moved aside
    // (`heliosdb_core::finish_interrupted_upgrade`).
    if let Err(e) = std::fs::rename(&temp, &ready).and_then(|()| sync_dir(&parent)) {
        let _ = std::fs::remove_dir_all(&temp);
        let _ = std::fs::remove_dir_all(&ready);
        return Err(anyhow::Error::new(e).context(format!(
            "cannot mark the upgraded copy as finished; {} is unchanged",
            path.display()
        )));
    }
    // Both databases must be closed (RocksDB's lock released, every file
    // written) before their directories move.
    drop(old);
    swap(&path, &ready, &kept, &parent)?;

    println!(
        "✓ upgraded {} to format 2: {} tables, {} rows, {} key-value pairs copied and checked",
        path.display(),
        contents.tables.len(),
        contents.tables.iter().map(|(_, n)| n).sum::<u64>(),
        contents.kv_pairs
    );
    for note in &notes {
        println!("  note: {note}");
    }
    println!(
        "the format-1 original is kept at {}\n  once you have checked the upgraded database \
         (`heliosdb-nano verify --path {}`), delete it: rm -r {}",
        kept.display(),
        path.display(),
        kept.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A key file inside the data directory would move with the original and
/// leave the upgraded database without its key.
fn refuse_key_files_inside(old: &StorageEngine, path: &Path) -> anyhow::Result<()> {
    let Some(info) = old.key_info() else {
        return Ok(());
    };
    let dir = std::fs::canonicalize(path)?;
    for slot in &info.slots {
        if let (SourceKind::File, Some(file)) = (slot.kind, slot.locator.as_deref()) {
            let inside = std::fs::canonicalize(file).map_or_else(
                |_| Path::new(file).starts_with(path),
                |f| f.starts_with(&dir),
            );
            if inside {
                bail!(
                    "the key file {file} is inside the data directory, which the upgrade \
                     renames; move it out (and add-key/remove-key it) first"
                );
            }
        }
    }
    Ok(())
}

/// Removes `<name>.upgrade-<pid>` directories left by an interrupted run.
/// They are stale for certain: a running upgrade holds the database open,
/// and so did theirs, and we hold it open now.
fn remove_stale_copies(parent: &Path, name: &str) {
    let prefix = format!("{name}.upgrade-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        match std::fs::remove_dir_all(e.path()) {
            Ok(()) => eprintln!(
                "note: removed {} (left by an interrupted upgrade)",
                e.path().display()
            ),
            Err(err) => eprintln!(
                "note: cannot remove {} (left by an interrupted upgrade): {err}",
                e.path().display()
            ),
        }
    }
}

/// Creates the format-2 copy at `temp`, fills it from `old` and checks it.
/// Returns what it holds and notes for the user.
fn build(
    old: &StorageEngine,
    temp: &Path,
    config: &Config,
    source: Option<Arc<dyn KeySource>>,
) -> anyhow::Result<(Contents, Vec<String>)> {
    if temp.exists() {
        std::fs::remove_dir_all(temp)?;
    }
    let new = match source {
        Some(src) => StorageEngine::open_with_source(temp, config, src)?,
        None => StorageEngine::open(temp, config)?,
    };
    if new.format_version() != 2 {
        bail!(
            "the new database came out as format {}",
            new.format_version()
        );
    }
    let progress = super::ops::bar(old.estimate_records(), "copying records");
    let mut done = 0u64;
    let mut tick = |n: u64| {
        done += n;
        if let Some(b) = &progress {
            b.set_position(done);
        }
    };

    let mut copied = Contents::default();
    for name in old.catalog().list_tables()? {
        let def = old.table_def(&name)?;
        if def.own_key {
            new.catalog()
                .create_table_with_own_key(&name, def.schema.clone())?;
        } else {
            new.catalog().create_table(&name, def.schema.clone())?;
        }
        // Indexes first: each insert then writes its entries, which is
        // cheaper than filling an index from the finished table.
        for index in &def.indexes {
            let column = def
                .schema
                .columns
                .get(index.column)
                .with_context(|| format!("table {name}: index on a missing column"))?;
            new.catalog().create_index(&name, &column.name)?;
        }
        let mut rows = 0u64;
        let mut batch = Vec::with_capacity(BATCH);
        for row in old.scan_table_range(&name, Bound::Unbounded, Bound::Unbounded)? {
            batch.push(row?);
            if batch.len() == BATCH {
                new.insert_batch(&name, std::mem::take(&mut batch))
                    .with_context(|| format!("copying rows of {name}"))?;
                rows += BATCH as u64;
                tick(BATCH as u64);
            }
        }
        let rest = batch.len() as u64;
        if rest > 0 {
            new.insert_batch(&name, batch)
                .with_context(|| format!("copying rows of {name}"))?;
        }
        rows += rest;
        tick(rest);
        copied.tables.push((name, rows));
    }
    // Every pair verbatim: the SQL layer's metadata and sequences, the
    // server's users, the application's own pairs.
    for pair in old.scan_range_iter(&[], None)? {
        let (k, v) = pair?;
        new.put(&k, &v)?;
        copied.kv_pairs += 1;
        tick(1);
    }
    new.flush()?;
    if let Some(b) = progress {
        b.finish_and_clear();
    }

    check(&new, &copied)?;
    let notes = carry_slots(old, &new);
    new.flush()?;
    Ok((copied, notes))
}

/// The copy holds the same tables, row counts and key-value count, and
/// every record in it authenticates.
fn check(new: &StorageEngine, copied: &Contents) -> anyhow::Result<()> {
    let mut found = Contents::default();
    for name in new.catalog().list_tables()? {
        let mut rows = 0u64;
        for row in new.scan_table_range(&name, Bound::Unbounded, Bound::Unbounded)? {
            row?;
            rows += 1;
        }
        found.tables.push((name, rows));
    }
    for pair in new.scan_range_iter(&[], None)? {
        pair?;
        found.kv_pairs += 1;
    }
    if found != *copied {
        bail!("the copy does not match the original (copied {copied:?}, found {found:?})");
    }
    let report = new.verify()?;
    if !report.is_ok() {
        bail!(
            "the copy has {} records that fail authentication",
            report.failure_count
        );
    }
    Ok(())
}

/// Adds the original's other key-encryption keys (a recovery key file, a
/// second variable) to the new keyring where they can be reached without a
/// prompt; returns a note for each that could not be.
fn carry_slots(old: &StorageEngine, new: &StorageEngine) -> Vec<String> {
    let (Some(old_info), Some(new_info)) = (old.key_info(), new.key_info()) else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for slot in old_info
        .slots
        .iter()
        .filter(|s| !new_info.slots.contains(s))
    {
        let src: Option<Arc<dyn KeySource>> = match (slot.kind, slot.locator.as_deref()) {
            (SourceKind::Env, Some(var)) => EnvSource::new(var)
                .ok()
                .map(|s| Arc::new(s) as Arc<dyn KeySource>),
            (SourceKind::File, Some(file)) => FileSource::new(file)
                .ok()
                .map(|s| Arc::new(s) as Arc<dyn KeySource>),
            _ => None,
        };
        let Some(src) = src else {
            notes.push(format!(
                "{slot} does not open the upgraded database; add it with `heliosdb-nano add-key`"
            ));
            continue;
        };
        let key = KeyManager::from_key_source(src);
        // The same key-encryption key under another name (the key given on
        // the command line is also in this file) already opens it.
        let added = match new.find_encryption_key(&key) {
            Ok(Some(_)) => Ok(None),
            _ => new.add_encryption_key(&key).map(Some),
        };
        match added {
            Ok(Some(_)) => notes.push(format!("{slot} also opens the upgraded database")),
            Ok(None) => notes.push(format!(
                "{slot} holds the key you gave: it opens the upgraded database when named \
                 explicitly (--key-env/--key-file)"
            )),
            Err(e) => notes.push(format!(
                "{slot} does not open the upgraded database ({e}); add it with `heliosdb-nano add-key`"
            )),
        }
    }
    notes
}

/// Moves the original aside and the copy into its place, then makes both
/// renames durable.
fn swap(path: &Path, temp: &Path, kept: &Path, parent: &Path) -> anyhow::Result<()> {
    if let Err(e) = std::fs::rename(path, kept) {
        let _ = std::fs::remove_dir_all(temp);
        return Err(anyhow::Error::new(e).context(format!(
            "cannot move {} aside; it is unchanged",
            path.display()
        )));
    }
    if let Err(e) = std::fs::rename(temp, path) {
        // Put the original back so that the path still opens.
        let restored = std::fs::rename(kept, path).is_ok();
        let _ = std::fs::remove_dir_all(temp);
        return Err(anyhow::Error::new(e).context(if restored {
            format!(
                "cannot move the upgraded copy into place; {} is unchanged",
                path.display()
            )
        } else {
            format!(
                "cannot move the upgraded copy into place; the original is at {}",
                kept.display()
            )
        }));
    }
    sync_dir(parent).with_context(|| format!("cannot sync {}", parent.display()))?;
    Ok(())
}

/// Makes the renames in directory `dir` durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir).and_then(|d| d.sync_all())
}
