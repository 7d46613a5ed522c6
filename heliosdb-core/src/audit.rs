//! The audit log: JSON lines as in the tutorial (timestamp, event_type,
//! table, user, query, rows_affected, encryption_enabled, source_ip), with a
//! keyed hash chain so that an edited, inserted, reordered or deleted line is
//! detected (`heliosdb-nano audit-report --verify`).
//!
//! Each line carries `seq`, `prev` (the previous line's `mac`) and `mac` =
//! HMAC-SHA256(chain key, prev ‖ the line's JSON without `mac`). The chain key
//! is a key of its own, wrapped in the keyring like the data keys, so only a
//! holder of the database's KEK can forge or check the chain. (A plaintext
//! database has no keyring: its chain uses plain SHA-256 and detects
//! accidental damage only.) Lines are written through to the OS at once: a
//! process crash loses nothing acknowledged; a machine crash may lose the
//! unflushed tail, which shows as a chain ending early, not as a break.
//!
//! Files roll over daily (`audit.log` → `audit.log.YYYY-MM-DD`) and whole
//! files older than `[audit.retention] days` are deleted; the chain runs on
//! across files. Each new file starts with a chained "chain continues from
//! seq N" record, so a log whose oldest files retention deleted still
//! verifies from its first remaining file.
//!
//! Deleting lines at the *end* leaves a valid chain, so the engine keeps an
//! anchor: the latest `(seq, mac)`, sealed in the database's `meta` column
//! family after every line. `verify` compares the log's end with it, and an
//! open that finds the log shorter than its anchor records the truncation
//! and continues the chain after the anchor (sequence numbers are never
//! reused). A torn last line (a write cut short by a crash or a full disk)
//! is moved to `<log>.torn-<unix time>` and reported, never an open failure.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};
use heliosdb_crypto::SecretKey;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{AuditConfig, LogFormat};
use crate::store::{Cf, Op, SealedStore};
use crate::{Error, Result};

/// Where the anchor lives in the `meta` column family.
const ANCHOR_KEY: &[u8] = b"audit_anchor";

/// The query text of the record that opens each rolled-over file.
const CONTINUES: &str = "audit chain continues from seq ";

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// Data read.
    Read,
    /// Data written (insert, update, put).
    Write,
    /// Data deleted.
    Delete,
    /// Table or index created or dropped.
    SchemaChange,
    /// Key loaded, rotated, added, removed, destroyed; decryption failure.
    KeyEvent,
}

/// One audit event, as the caller describes it.
#[derive(Clone, Debug, Default)]
pub struct AuditEvent {
    /// Table (or `kv` for the key-value store).
    pub table: Option<String>,
    /// The statement or operation.
    pub query: Option<String>,
    /// Rows (or records) affected.
    pub rows_affected: u64,
    /// Who: set per thread with [`set_audit_user`]; `embedded` otherwise.
    pub user: Option<String>,
    /// Client address, for server sessions.
    pub source_ip: Option<String>,
}

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditLine {
    /// Position in the chain (0-based, never resets).
    pub seq: u64,
    /// RFC 3339 UTC.
    pub timestamp: String,
    /// What happened.
    pub event_type: EventType,
    /// Table.
    pub table: Option<String>,
    /// Who.
    pub user: String,
    /// Statement or operation.
    pub query: Option<String>,
    /// Rows affected.
    pub rows_affected: u64,
    /// Whether the database is encrypted.
    pub encryption_enabled: bool,
    /// Client address.
    pub source_ip: Option<String>,
    /// `mac` of the previous line (hex), or the chain's genesis value.
    pub prev: String,
    /// This line's chain value (hex).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
}

thread_local! {
    static USER: std::cell::RefCell<Option<(String, Option<String>)>> = const { std::cell::RefCell::new(None) };
}

/// Sets the user (and client address) recorded for this thread's events,
/// e.g. by the server for each session.
pub fn set_audit_user(user: Option<String>, source_ip: Option<String>) {
    USER.with(|u| *u.borrow_mut() = user.map(|name| (name, source_ip)));
}

/// Sets this thread's audit identity and returns the previous one (for
/// [`crate::StorageEngine::enter`], which restores it).
pub(crate) fn replace_audit_user(
    identity: Option<(String, Option<String>)>,
) -> Option<(String, Option<String>)> {
    USER.with(|u| u.replace(identity))
}

thread_local! {
    static IN_STATEMENT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// While a [`StatementScope`] lives, the engine records no data events
/// (read, write, delete, schema change) of its own on this thread: the layer
/// above (SQL) records one event for the whole statement, with its text and
/// row count, instead of one per engine call. Key events (decryption
/// failures among them) are still recorded.
#[derive(Debug)]
#[must_use = "the scope ends when dropped"]
pub struct StatementScope {
    // Thread-bound: the counter it decrements is this thread's.
    _thread: std::marker::PhantomData<*const ()>,
}

/// Starts a [`StatementScope`] on this thread (scopes nest).
pub fn statement_scope() -> StatementScope {
    IN_STATEMENT.with(|d| d.set(d.get() + 1));
    StatementScope {
        _thread: std::marker::PhantomData,
    }
}

impl Drop for StatementScope {
    fn drop(&mut self) {
        IN_STATEMENT.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Whether a [`StatementScope`] is open on this thread.
pub(crate) fn in_statement() -> bool {
    IN_STATEMENT.with(|d| d.get() > 0)
}

enum Chain {
    Keyed(Hmac<Sha256>),
    Unkeyed,
}

impl Chain {
    fn mac(&self, prev: &str, body: &[u8]) -> String {
        match self {
            Chain::Keyed(k) => {
                let mut m = k.clone();
                m.update(prev.as_bytes());
                m.update(body);
                hex::encode(m.finalize().into_bytes())
            }
            Chain::Unkeyed => {
                let mut h = Sha256::new();
                h.update(prev.as_bytes());
                h.update(body);
                hex::encode(h.finalize())
            }
        }
    }

    fn genesis(&self, database_id: &str) -> String {
        self.mac("genesis", database_id.as_bytes())
    }
}

struct State {
    file: File,
    day: NaiveDate,
    seq: u64,
    prev: String,
}

/// The audit log of one engine.
pub(crate) struct AuditLog {
    config: AuditConfig,
    path: PathBuf,
    chain: Chain,
    encrypted: bool,
    state: Mutex<State>,
    /// Where the anchor is kept (the engine's store).
    anchor: Option<std::sync::Arc<SealedStore>>,
}

/// The anchor stored in `store`: the `(seq, mac)` of the last line written.
pub(crate) fn read_anchor(store: &SealedStore) -> Result<Option<(u64, String)>> {
    let Some(v) = store.get(Cf::Meta, ANCHOR_KEY)? else {
        return Ok(None);
    };
    if v.len() < 8 {
        return Err(Error::Corrupt("audit anchor".into()));
    }
    let seq = u64::from_be_bytes(
        v[..8]
            .try_into()
            .map_err(|_| Error::Corrupt("audit anchor".into()))?,
    );
    let mac =
        String::from_utf8(v[8..].to_vec()).map_err(|_| Error::Corrupt("audit anchor".into()))?;
    Ok(Some((seq, mac)))
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditLog({})", self.path.display())
    }
}

fn chain_for(key: Option<&SecretKey>) -> Chain {
    match key {
        // HMAC takes keys of any length.
        Some(k) => {
            Hmac::<Sha256>::new_from_slice(k.expose_secret()).map_or(Chain::Unkeyed, Chain::Keyed)
        }
        None => Chain::Unkeyed,
    }
}

impl AuditLog {
    /// Opens (or continues) the log at `config.log_file`.
    pub(crate) fn open(
        config: &AuditConfig,
        key: Option<&SecretKey>,
        database_id: &str,
        encrypted: bool,
        anchor_store: Option<std::sync::Arc<SealedStore>>,
    ) -> Result<AuditLog> {
        let path = config
            .log_file
            .clone()
            .ok_or_else(|| Error::Config("audit.enabled needs audit.log_file".into()))?;
        if config.log_format != LogFormat::Json {
            return Err(Error::Config(
                "audit.log_format must be \"Json\" (the only chained format)".into(),
            ));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let chain = chain_for(key);
        let mut notes = Vec::new();
        if let Some(torn) = quarantine_torn_tail(&path)? {
            notes.push(format!(
                "audit log: a torn last line (an interrupted write) was moved to {}",
                torn.display()
            ));
        }
        let (mut seq, mut prev) = match last_line(&path)? {
            Some(l) => (l.seq + 1, l.mac),
            None => (0, chain.genesis(database_id)),
        };
        let anchor = match &anchor_store {
            Some(store) => read_anchor(store)?,
            None => None,
        };
        if let Some((anchored, mac)) = anchor {
            if anchored >= seq {
                // Lines the database saw written are gone: say so, and go
                // on after them so no sequence number is used twice.
                notes.push(format!(
                    "audit log truncated: it ends before seq {seq} but the database recorded \
                     seq {anchored}; {} line(s) missing, the chain continues at seq {}",
                    anchored + 1 - seq,
                    anchored + 1
                ));
                seq = anchored + 1;
                prev = mac;
            }
        }
        let file = open_append(&path)?;
        let log = AuditLog {
            config: config.clone(),
            path,
            chain,
            encrypted,
            state: Mutex::new(State {
                file,
                day: Utc::now().date_naive(),
                seq,
                prev,
            }),
            anchor: anchor_store,
        };
        log.prune()?;
        for note in notes {
            tracing::warn!("{note}");
            let mut st = log.state.lock().unwrap_or_else(|p| p.into_inner());
            log.append(
                &mut st,
                EventType::KeyEvent,
                AuditEvent {
                    query: Some(note),
                    ..AuditEvent::default()
                },
            )?;
        }
        Ok(log)
    }

    /// A short keyed hash that names a record in the log without its key
    /// (16 hex digits of the chain MAC of its location).
    pub(crate) fn record_hash(&self, location: &str) -> String {
        let mut h = self.chain.mac("record", location.as_bytes());
        h.truncate(16);
        h
    }

    /// Whether events of this type are recorded.
    pub(crate) fn wants(&self, t: EventType) -> bool {
        match t {
            EventType::Read => self.config.log_reads,
            EventType::Write => self.config.log_writes,
            EventType::Delete => self.config.log_deletes,
            EventType::SchemaChange => self.config.log_schema_changes,
            EventType::KeyEvent => self.config.log_encryption_events,
        }
    }

    /// Appends one event (if its type is switched on).
    pub(crate) fn record(&self, event_type: EventType, ev: AuditEvent) -> Result<()> {
        if !self.wants(event_type) {
            return Ok(());
        }
        let now = Utc::now();
        // A poisoned lock means a panic mid-write elsewhere; the state is
        // still a valid chain position, so carry on.
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if now.date_naive() != st.day {
            self.roll(&mut st, now)?;
        }
        self.append(&mut st, event_type, ev)
    }

    /// Writes one chained line whatever the switches say, then the anchor.
    fn append(&self, st: &mut State, event_type: EventType, ev: AuditEvent) -> Result<()> {
        let (user, ip) = USER.with(|u| u.borrow().clone()).unzip();
        let now = Utc::now();
        let mut line = AuditLine {
            seq: st.seq,
            timestamp: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            event_type,
            table: ev.table,
            user: ev.user.or(user).unwrap_or_else(|| "embedded".into()),
            query: ev.query,
            rows_affected: ev.rows_affected,
            encryption_enabled: self.encrypted,
            source_ip: ev.source_ip.or(ip.flatten()),
            prev: st.prev.clone(),
            mac: String::new(),
        };
        let body = serde_json::to_vec(&line)?;
        line.mac = self.chain.mac(&line.prev, &body);
        let mut out = serde_json::to_vec(&line)?;
        out.push(b'\n');
        st.file.write_all(&out)?;
        if let Some(store) = &self.anchor {
            let mut value = line.seq.to_be_bytes().to_vec();
            value.extend_from_slice(line.mac.as_bytes());
            store.write(&[Op::Put {
                cf: Cf::Meta,
                key: ANCHOR_KEY.to_vec(),
                value,
            }])?;
        }
        st.seq += 1;
        st.prev = line.mac;
        Ok(())
    }

    fn roll(&self, st: &mut State, now: DateTime<Utc>) -> Result<()> {
        st.file.sync_all()?;
        let rolled = PathBuf::from(format!("{}.{}", self.path.display(), st.day));
        std::fs::rename(&self.path, &rolled)?;
        st.file = open_append(&self.path)?;
        st.day = now.date_naive();
        // The new file's first line says where it continues from, so the
        // chain still verifies once retention deletes the older files.
        let from = st.seq;
        self.append(
            st,
            EventType::KeyEvent,
            AuditEvent {
                query: Some(format!("{CONTINUES}{from}")),
                ..AuditEvent::default()
            },
        )?;
        self.prune()
    }

    /// Deletes rolled files older than the retention.
    fn prune(&self) -> Result<()> {
        let Some(days) = self.config.retention.days else {
            return Ok(());
        };
        let cutoff = Utc::now().date_naive() - chrono::Days::new(u64::from(days));
        for (day, file) in rolled_files(&self.path)? {
            if day < cutoff {
                std::fs::remove_file(&file)?;
            }
        }
        Ok(())
    }

    /// Flushes to stable storage (also on drop).
    pub(crate) fn sync(&self) -> Result<()> {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.file.sync_all()?;
        Ok(())
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        let _ = self.sync();
    }
}

fn open_append(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    Ok(o.open(path)?)
}

/// Rolled files `LOG.YYYY-MM-DD` beside `path`, oldest first.
fn rolled_files(path: &Path) -> Result<Vec<(NaiveDate, PathBuf)>> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        let Some(f) = p.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if let Some(date) = f.strip_prefix(&format!("{name}.")) {
            if let Ok(d) = NaiveDate::parse_from_str(date, "%Y-%m-%d") {
                out.push((d, p));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The files of a log in chain order: rolled files oldest first, then the current one.
pub fn log_files(path: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = rolled_files(path)?.into_iter().map(|(_, p)| p).collect();
    if path.exists() {
        files.push(path.to_path_buf());
    }
    Ok(files)
}

/// Moves an unterminated, unparsable last line of the current file (a write
/// cut short) to `<log>.torn-<unix time>` and cuts it off; returns where it
/// went.
fn quarantine_torn_tail(path: &Path) -> Result<Option<PathBuf>> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(None);
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(None);
    }
    let start = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let tail = &bytes[start..];
    if serde_json::from_slice::<AuditLine>(tail).is_ok() {
        // Complete but for its newline: keep it, end it.
        let mut f = open_append(path)?;
        f.write_all(b"\n")?;
        return Ok(None);
    }
    let torn = PathBuf::from(format!(
        "{}.torn-{}",
        path.display(),
        Utc::now().timestamp()
    ));
    let mut o = OpenOptions::new();
    o.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(&torn)?.write_all(tail)?;
    let f = OpenOptions::new().write(true).open(path)?;
    f.set_len(start as u64)?;
    f.sync_all()?;
    Ok(Some(torn))
}

fn last_line(path: &Path) -> Result<Option<AuditLine>> {
    let mut last = None;
    for f in log_files(path)? {
        for line in BufReader::new(File::open(&f)?).lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            last = Some(serde_json::from_str::<AuditLine>(&line).map_err(|e| {
                Error::Corrupt(format!("audit log {}: unreadable line: {e}", f.display()))
            })?);
        }
    }
    Ok(last)
}

/// Result of checking a log's chain.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ChainReport {
    /// Lines read.
    pub lines: u64,
    /// The first broken line: file, line number (1-based) and why.
    pub first_break: Option<(String, u64, String)>,
    /// Lines after a break (unverifiable).
    pub after_break: u64,
    /// The log ends before the last line the database recorded writing.
    pub truncated: Option<String>,
}

impl ChainReport {
    /// Whether the whole chain verified.
    pub fn is_ok(&self) -> bool {
        self.first_break.is_none() && self.truncated.is_none()
    }
}

/// One line read back: file, line number (1-based), and the parsed line or
/// why it does not parse.
pub type LogEntry = (String, u64, std::result::Result<AuditLine, String>);

/// Reads every line of a log (all its files, in order).
///
/// # Errors
/// I/O errors; unparsable lines are returned as `Err` entries, not errors.
pub fn read_log(path: &Path) -> Result<Vec<LogEntry>> {
    let mut out = Vec::new();
    for f in log_files(path)? {
        for (i, line) in BufReader::new(File::open(&f)?).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            out.push((
                f.display().to_string(),
                i as u64 + 1,
                serde_json::from_str::<AuditLine>(&line).map_err(|e| e.to_string()),
            ));
        }
    }
    Ok(out)
}

/// Verifies the chain of the log at `path` with the chain key (None for a
/// plaintext database) and the database id.
///
/// # Errors
/// I/O errors.
pub fn verify_chain(
    path: &Path,
    key: Option<&SecretKey>,
    database_id: &str,
) -> Result<ChainReport> {
    verify_chain_anchored(path, key, database_id, None)
}

/// [`verify_chain`], and a check that the log reaches `anchor`, the
/// `(seq, mac)` the database recorded last
/// ([`crate::StorageEngine::audit_anchor`]): lines deleted from the end
/// leave a valid chain that only the anchor shows is short.
///
/// # Errors
/// I/O errors.
pub fn verify_chain_anchored(
    path: &Path,
    key: Option<&SecretKey>,
    database_id: &str,
    anchor: Option<(u64, String)>,
) -> Result<ChainReport> {
    let chain = chain_for(key);
    let mut report = ChainReport::default();
    let mut prev = chain.genesis(database_id);
    let mut expect_seq = 0u64;
    let mut last: Option<(u64, String)> = None;
    for (i, (file, n, parsed)) in read_log(path)?.into_iter().enumerate() {
        // The log's first remaining line may be the record that opens a
        // rolled-over file (older files deleted by retention): it is chained
        // and keyed like any line, and the chain starts there.
        if i == 0 {
            if let Ok(l) = &parsed {
                if l.seq != 0
                    && l.event_type == EventType::KeyEvent
                    && l.query.as_deref() == Some(&format!("{CONTINUES}{}", l.seq))
                {
                    prev = l.prev.clone();
                    expect_seq = l.seq;
                }
            }
        }
        report.lines += 1;
        if report.first_break.is_some() {
            report.after_break += 1;
            continue;
        }
        let why = match parsed {
            Err(e) => Some(format!("not a valid audit line ({e})")),
            Ok(mut line) => {
                let mac = std::mem::take(&mut line.mac);
                let body = serde_json::to_vec(&line)?;
                if line.seq != expect_seq {
                    Some(format!("sequence {} where {expect_seq} was expected (line missing, inserted or reordered)", line.seq))
                } else if line.prev != prev {
                    Some(
                        "does not follow the previous line (line missing, inserted or reordered)"
                            .into(),
                    )
                } else if chain.mac(&line.prev, &body) != mac {
                    Some("content does not match its chain value (line edited)".into())
                } else {
                    last = Some((line.seq, mac.clone()));
                    prev = mac;
                    expect_seq += 1;
                    None
                }
            }
        };
        if let Some(why) = why {
            report.first_break = Some((file, n, why));
        }
    }
    if let (Some((anchored, mac)), true) = (anchor, report.first_break.is_none()) {
        let reached = match &last {
            Some((seq, m)) => *seq > anchored || (*seq == anchored && *m == mac),
            None => false,
        };
        if !reached {
            report.truncated = Some(format!(
                "the log ends at seq {} but the database recorded writing seq {anchored}: \
                 lines were deleted from its end",
                last.map_or_else(|| "(none)".to_string(), |(s, _)| s.to_string())
            ));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(q: &str) -> AuditEvent {
        AuditEvent {
            query: Some(q.into()),
            ..AuditEvent::default()
        }
    }

    /// A day's roll-over starts the new file with a chained "continues
    /// from" record, so once retention deletes the older file the log
    /// still verifies from the first remaining line — and a forged start
    /// (a plain line with seq ≠ 0) still does not.
    #[test]
    fn rolled_files_verify_after_older_ones_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let config = AuditConfig {
            enabled: true,
            log_file: Some(dir.path().join("audit.log")),
            log_writes: true,
            ..AuditConfig::default()
        };
        let key = SecretKey::from_bytes([5; 32]);
        let log = AuditLog::open(&config, Some(&key), "db1", true, None).unwrap();
        for i in 0..3 {
            log.record(EventType::Write, event(&format!("w{i}")))
                .unwrap();
        }
        log.state.lock().unwrap().day = Utc::now().date_naive() - chrono::Days::new(1);
        log.record(EventType::Write, event("after the roll"))
            .unwrap();
        drop(log);
        let path = dir.path().join("audit.log");
        let files = log_files(&path).unwrap();
        assert_eq!(files.len(), 2);
        assert!(verify_chain(&path, Some(&key), "db1").unwrap().is_ok());
        // Retention deletes the rolled file.
        std::fs::remove_file(&files[0]).unwrap();
        let r = verify_chain(&path, Some(&key), "db1").unwrap();
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(r.lines, 2);
        // Without the continuation record at its head, a file starting
        // mid-chain is a break.
        let text = std::fs::read_to_string(&path).unwrap();
        let rest: Vec<&str> = text.lines().skip(1).collect();
        std::fs::write(&path, rest.join("\n") + "\n").unwrap();
        assert!(!verify_chain(&path, Some(&key), "db1").unwrap().is_ok());
    }
}
