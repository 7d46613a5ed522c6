//! Configuration: `Config::default()`, `Config::in_memory()`,
//! `Config::from_file("config.toml")`, reading the tutorial's TOML.
//!
//! Unknown keys are errors that name the key (a typo such as `enabeld = true`
//! must not silently leave a database unencrypted).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use heliosdb_keys::KeySourceConfig as KeySource;

use crate::{Error, Result};

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[storage]`
    pub storage: StorageConfig,
    /// `[encryption]`
    pub encryption: EncryptionConfig,
    /// `[server]`
    pub server: ServerConfig,
    /// `[audit]`
    pub audit: AuditConfig,
}

impl Config {
    /// A configuration for an in-memory database (nothing touches the disk).
    pub fn in_memory() -> Self {
        let mut c = Config::default();
        c.storage.in_memory = true;
        c
    }

    /// Reads a TOML configuration file.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file and, for syntax errors and unknown
    /// keys, the line and the key.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// Parses TOML text.
    ///
    /// # Errors
    /// [`Error::Config`] with the parser's message (line, column, key).
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let config: Config = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but cannot work.
    ///
    /// # Errors
    /// [`Error::Config`] naming the offending key.
    pub fn validate(&self) -> Result<()> {
        if let Some(0) = self.encryption.reencrypt_rate_mb {
            return Err(Error::Config(
                "encryption.reencrypt_rate_mb must be at least 1".into(),
            ));
        }
        // 0 days would start a new data-key rotation on every check, forever.
        if let Some(0) = self.encryption.rotation_interval_days {
            return Err(Error::Config(
                "encryption.rotation_interval_days must be at least 1".into(),
            ));
        }
        if let Some(0) = self
            .encryption
            .key_rotation
            .as_ref()
            .and_then(|k| k.interval_days)
        {
            return Err(Error::Config(
                "encryption.key_rotation.interval_days must be at least 1".into(),
            ));
        }
        if let Some(0) = self.encryption.nonce_budget {
            return Err(Error::Config(
                "encryption.nonce_budget must be at least 1".into(),
            ));
        }
        if self.server.max_connections == 0 {
            return Err(Error::Config(
                "server.max_connections must be at least 1".into(),
            ));
        }
        let auth = self.server.authentication_timeout;
        if auth < Duration::from_secs(1) || auth > Duration::from_secs(600) {
            return Err(Error::Config(format!(
                "server.authentication_timeout must be between 1 s and 600 s, got {} ms",
                auth.as_millis()
            )));
        }
        if let Some(v) = &self.server.ssl.min_tls_version {
            if !matches!(v.as_str(), "1.2" | "1.3") {
                return Err(Error::Config(format!(
                    "server.ssl.min_tls_version must be \"1.2\" or \"1.3\", got {v:?}"
                )));
            }
        }
        Ok(())
    }
}

/// `[storage]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Data directory (the path given to `StorageEngine::open` wins).
    pub path: Option<PathBuf>,
    /// RocksDB block cache size in bytes.
    pub cache_size: usize,
    /// After deletes, compact the range so deleted ciphertext leaves the files.
    pub secure_delete: bool,
    /// Accepted as a synonym of `secure_delete` (the tutorial sets both).
    pub overwrite_deleted_data: bool,
    /// Keep everything in memory (`Config::in_memory()`).
    pub in_memory: bool,
    /// A commit returns only once its write-ahead-log record is on stable
    /// storage (`fsync`; concurrent commits share one). `false` trades the
    /// last moments of acknowledged commits on power loss (not on a process
    /// crash) for commit latency.
    pub sync_commit: bool,
    /// How a **new** database forms record keys: `"ordered"` (format 2, the
    /// default: keys in key order, so ranges, `ORDER BY` on the key and point
    /// writes are direct; when encrypted, every file RocksDB writes is
    /// encrypted under a file key, which hides the keys) or `"blind"`
    /// (format 1: keyed blind tokens, no order, every range reads the whole
    /// table; for storage that must not see even encrypted files' keys in
    /// order). An existing database keeps the layout it was created with.
    pub record_keys: RecordKeys,
}

/// `[storage] record_keys`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKeys {
    /// Format 2: ordered record keys (and, when encrypted, encrypted files).
    #[default]
    Ordered,
    /// Format 1: blind-token record keys.
    Blind,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            path: None,
            cache_size: 64 * 1024 * 1024,
            secure_delete: false,
            overwrite_deleted_data: false,
            in_memory: false,
            sync_commit: true,
            record_keys: RecordKeys::Ordered,
        }
    }
}

/// The AEAD algorithm. Only AES-256-GCM exists in format version 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    /// AES-256 in Galois/Counter Mode.
    #[default]
    Aes256Gcm,
}

/// Where nonces come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NonceSource {
    /// A userspace ChaCha20 CSPRNG seeded from the OS, reseeded after fork (fast).
    #[default]
    Fast,
    /// The OS RNG for every nonce (slower; use in VMs restored from snapshots).
    Os,
}

/// `[encryption.key_rotation]`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyRotationConfig {
    /// Rotate the data key on a schedule.
    pub enabled: bool,
    /// Days between rotations.
    pub interval_days: Option<u32>,
}

/// `[encryption]`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawEncryption")]
pub struct EncryptionConfig {
    /// Encrypt everything written.
    pub enabled: bool,
    /// Always `Aes256Gcm`.
    pub algorithm: Algorithm,
    /// Where the key-encryption key comes from.
    pub key_source: KeySource,
    /// Days between scheduled data-key rotations.
    pub rotation_interval_days: Option<u32>,
    /// `[encryption.key_rotation]`, the tutorial's other spelling of the schedule.
    pub key_rotation: Option<KeyRotationConfig>,
    /// Encryptions per data key before a new one is made (default: 2^32 − 2^26).
    pub nonce_budget: Option<u64>,
    /// `fast` (default) or `os`.
    pub nonce_source: NonceSource,
    /// Background re-encryption rate limit during a data-key rotation, in
    /// MiB/s of sealed values (default 256).
    pub reencrypt_rate_mb: Option<u32>,
    /// `[encryption.kms]`: KMS provider options (`region`, `endpoint`,
    /// `vault_url`, `address`, `mount`, …). Extra keys written beside
    /// `provider` and `key_id` in the `Kms` table land here too.
    pub kms: BTreeMap<String, String>,
}

impl EncryptionConfig {
    /// The effective rotation interval from either spelling.
    pub fn rotation_days(&self) -> Option<u32> {
        match &self.key_rotation {
            Some(k) if k.enabled => k.interval_days.or(self.rotation_interval_days),
            _ => self.rotation_interval_days,
        }
    }
}

/// The tutorial's file-key example writes `rotation_interval_days = 90` after
/// the `[encryption.key_source]` header, which in TOML puts it *inside* the
/// key-source table. We accept it there and hoist it, so the example parses
/// as its author meant.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawEncryption {
    enabled: bool,
    algorithm: Algorithm,
    key_source: Option<toml::Value>,
    rotation_interval_days: Option<u32>,
    key_rotation: Option<KeyRotationConfig>,
    nonce_budget: Option<u64>,
    nonce_source: NonceSource,
    reencrypt_rate_mb: Option<u32>,
    kms: BTreeMap<String, String>,
}

impl Default for RawEncryption {
    fn default() -> Self {
        let d = EncryptionConfig::default();
        RawEncryption {
            enabled: d.enabled,
            algorithm: d.algorithm,
            key_source: None,
            rotation_interval_days: None,
            key_rotation: None,
            nonce_budget: None,
            nonce_source: d.nonce_source,
            reencrypt_rate_mb: None,
            kms: BTreeMap::new(),
        }
    }
}

impl TryFrom<RawEncryption> for EncryptionConfig {
    type Error = String;

    fn try_from(raw: RawEncryption) -> std::result::Result<Self, String> {
        let mut rotation = raw.rotation_interval_days;
        let mut kms = raw.kms;
        let key_source = match raw.key_source {
            None => KeySource::default(),
            Some(mut value) => {
                if let toml::Value::Table(t) = &mut value {
                    // `{ Kms = { provider, key_id, region = …, endpoint = … } }`:
                    // provider options beside the two fields move to `kms`.
                    if let Some(toml::Value::Table(k)) = t.get_mut("Kms") {
                        let extra: Vec<String> = k
                            .keys()
                            .filter(|n| *n != "provider" && *n != "key_id")
                            .cloned()
                            .collect();
                        for name in extra {
                            match k.remove(&name) {
                                Some(toml::Value::String(v)) => {
                                    kms.insert(name, v);
                                }
                                Some(other) => {
                                    kms.insert(name, other.to_string());
                                }
                                None => {}
                            }
                        }
                    }
                    if let Some(v) = t.remove("rotation_interval_days") {
                        let days = v
                            .as_integer()
                            .and_then(|d| u32::try_from(d).ok())
                            .ok_or("rotation_interval_days must be a positive integer")?;
                        rotation = rotation.or(Some(days));
                    }
                }
                KeySource::deserialize(value).map_err(|e| format!("encryption.key_source: {e}"))?
            }
        };
        Ok(EncryptionConfig {
            enabled: raw.enabled,
            algorithm: raw.algorithm,
            key_source,
            rotation_interval_days: rotation,
            key_rotation: raw.key_rotation,
            nonce_budget: raw.nonce_budget,
            nonce_source: raw.nonce_source,
            reencrypt_rate_mb: raw.reencrypt_rate_mb,
            kms,
        })
    }
}

/// `[server]`
///
/// The limits and timeouts carry PostgreSQL's names. Timeouts are written as
/// PostgreSQL writes them: an integer in the setting's unit (seconds for
/// `authentication_timeout`, milliseconds for the others) or a string with a
/// unit (`"500ms"`, `"10s"`, `"5min"`, `"1h"`); 0 turns a timeout off where
/// PostgreSQL allows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Listen address (loopback unless told otherwise).
    pub host: String,
    /// Listen port.
    pub port: u16,
    /// Require TLS.
    pub ssl_enabled: bool,
    /// Most concurrent authenticated sessions (default 100, PostgreSQL's).
    /// A client past the limit is refused when it presents its password
    /// proof, with PostgreSQL's `FATAL 53300 sorry, too many clients
    /// already`; clients that have not authenticated hold no session.
    pub max_connections: u32,
    /// Time from connect to completed authentication (TLS handshake,
    /// startup message, SCRAM exchange) before the server closes the
    /// socket. Default 10 s (PostgreSQL's is 60 s); 1 s to 600 s.
    #[serde(with = "duration_secs")]
    pub authentication_timeout: Duration,
    /// Default `statement_timeout` of every session (0 = none, the
    /// default); sessions change it with `SET statement_timeout`.
    #[serde(with = "duration_ms")]
    pub statement_timeout: Duration,
    /// Close a session that sits idle inside an open transaction this long
    /// (its transaction rolls back); 0 = never, the default.
    #[serde(with = "duration_ms")]
    pub idle_in_transaction_session_timeout: Duration,
    /// `[server.ssl]`
    pub ssl: SslConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 5432,
            ssl_enabled: false,
            max_connections: 100,
            authentication_timeout: Duration::from_secs(10),
            statement_timeout: Duration::ZERO,
            idle_in_transaction_session_timeout: Duration::ZERO,
            ssl: SslConfig::default(),
        }
    }
}

/// The unit of a bare number in a PostgreSQL time setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Milliseconds (`statement_timeout`, `idle_in_transaction_session_timeout`).
    Millis,
    /// Seconds (`authentication_timeout`).
    Secs,
}

/// Parses a PostgreSQL time setting: a number (in `unit` when it has no
/// unit of its own) optionally followed by `us`, `ms`, `s`, `min`, `h` or
/// `d`, e.g. `"5000"`, `"1.5s"`, `"10 min"`. Rounded to whole milliseconds;
/// at most `i32::MAX` ms (about 24.8 days), PostgreSQL's range.
///
/// # Errors
/// A message naming the value (the caller adds the setting's name).
pub fn parse_time_setting(text: &str, unit: TimeUnit) -> std::result::Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(split);
    let bad = || {
        format!(
            "invalid value {text:?}: expected a number with an optional unit \
             (us, ms, s, min, h, d)"
        )
    };
    let n: f64 = number.parse().map_err(|_| bad())?;
    let scale_ms = match suffix.trim() {
        "" => match unit {
            TimeUnit::Millis => 1.0,
            TimeUnit::Secs => 1_000.0,
        },
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return Err(bad()),
    };
    let ms = (n * scale_ms).round();
    if !ms.is_finite() || ms > f64::from(i32::MAX) {
        return Err(format!(
            "invalid value {text:?}: at most {} ms (about 24.8 days)",
            i32::MAX
        ));
    }
    // In range 0..=i32::MAX after the checks above, so the cast is exact.
    Ok(Duration::from_millis(ms as u64))
}

/// Serde for a [`Duration`] written as PostgreSQL writes one (see
/// [`parse_time_setting`]); bare numbers are seconds when `SECS`, else
/// milliseconds. Written back as a bare number in that unit.
struct TimeSetting<const SECS: bool>;

impl<const SECS: bool> TimeSetting<SECS> {
    fn unit() -> TimeUnit {
        if SECS {
            TimeUnit::Secs
        } else {
            TimeUnit::Millis
        }
    }

    fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
        let ms = d.as_millis();
        match Self::unit() {
            TimeUnit::Secs if ms.is_multiple_of(1_000) => s.serialize_u64((ms / 1_000) as u64),
            TimeUnit::Secs => s.serialize_str(&format!("{ms}ms")),
            TimeUnit::Millis => s.serialize_u64(u64::try_from(ms).unwrap_or(u64::MAX)),
        }
    }

    fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Int(n) if n < 0 => {
                return Err(serde::de::Error::custom(format!(
                    "invalid value {n}: a time cannot be negative"
                )))
            }
            Raw::Int(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        parse_time_setting(&text, Self::unit()).map_err(serde::de::Error::custom)
    }
}

mod duration_secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        super::TimeSetting::<true>::serialize(d, s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        super::TimeSetting::<true>::deserialize(d)
    }
}

mod duration_ms {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        super::TimeSetting::<false>::serialize(d, s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        super::TimeSetting::<false>::deserialize(d)
    }
}

/// `[server.ssl]`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SslConfig {
    /// Same as `server.ssl_enabled`.
    pub enabled: bool,
    /// PEM certificate chain.
    pub cert_file: Option<PathBuf>,
    /// PEM private key.
    pub key_file: Option<PathBuf>,
    /// PEM CA bundle: when set, client certificates are verified.
    pub ca_file: Option<PathBuf>,
    /// `"1.2"` or `"1.3"`.
    pub min_tls_version: Option<String>,
}

/// Audit log format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogFormat {
    /// JSON lines.
    #[default]
    Json,
    /// Human-readable text lines.
    Text,
}

/// `[audit.retention]`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days to keep audit log files.
    pub days: Option<u32>,
}

/// `[audit]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Write an audit log.
    pub enabled: bool,
    /// Where.
    pub log_file: Option<PathBuf>,
    /// `Json` (default) or `Text`.
    pub log_format: LogFormat,
    /// Log reads.
    pub log_reads: bool,
    /// Log writes.
    pub log_writes: bool,
    /// Log deletes.
    pub log_deletes: bool,
    /// Log schema changes.
    pub log_schema_changes: bool,
    /// Log key events (key loaded, rotation, decryption failures).
    pub log_encryption_events: bool,
    /// Keep the literal values of SQL statements in the logged `query`
    /// (`WHERE id = 123`). Off by default: the log is not encrypted, so
    /// literals are logged as `?` (`WHERE id = ?`) and rows' contents never
    /// reach it; statement shape, table, user and row count still do.
    pub log_query_values: bool,
    /// `[audit.retention]`
    pub retention: RetentionConfig,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            enabled: false,
            log_file: None,
            log_format: LogFormat::Json,
            log_reads: false,
            log_writes: true,
            log_deletes: true,
            log_schema_changes: true,
            log_encryption_events: true,
            log_query_values: false,
            retention: RetentionConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutorial_file_key_example_parses_with_hoisted_rotation() {
        let c = Config::from_toml_str(
            r#"
[storage]
path = "/var/lib/heliosdb/data"
[encryption]
enabled = true
algorithm = "Aes256Gcm"
[encryption.key_source]
File = "/etc/heliosdb/encryption.key"
# Optional: Key rotation settings (future feature)
rotation_interval_days = 90
"#,
        )
        .unwrap();
        assert!(c.encryption.enabled);
        assert_eq!(
            c.encryption.key_source,
            KeySource::File("/etc/heliosdb/encryption.key".into())
        );
        assert_eq!(c.encryption.rotation_days(), Some(90));
    }

    #[test]
    fn a_rotation_interval_of_zero_days_is_refused_in_every_spelling() {
        for (toml, key) in [
            (
                "[encryption]\nrotation_interval_days = 0\n",
                "encryption.rotation_interval_days",
            ),
            (
                "[encryption.key_source]\nFile = \"/k\"\nrotation_interval_days = 0\n",
                "encryption.rotation_interval_days",
            ),
            (
                "[encryption.key_rotation]\nenabled = true\ninterval_days = 0\n",
                "encryption.key_rotation.interval_days",
            ),
            (
                "[encryption.key_rotation]\nenabled = false\ninterval_days = 0\n",
                "encryption.key_rotation.interval_days",
            ),
        ] {
            let err = Config::from_toml_str(toml).unwrap_err().to_string();
            assert!(
                err.contains(key) && err.contains("at least 1"),
                "{toml}: {err}"
            );
        }
        // The engine checks a configuration built in code too.
        let mut c = Config::default();
        c.encryption.rotation_interval_days = Some(0);
        assert!(c.validate().is_err());
        c.encryption.rotation_interval_days = Some(1);
        assert!(c.validate().is_ok());
        let c =
            Config::from_toml_str("[encryption.key_rotation]\nenabled = true\ninterval_days = 1\n")
                .unwrap();
        assert_eq!(c.encryption.rotation_days(), Some(1));
    }

    #[test]
    fn inline_spellings_parse() {
        let c = Config::from_toml_str(
            "[encryption]\nenabled = true\nkey_source = { Environment = \"MY_KEY\" }\n",
        )
        .unwrap();
        assert_eq!(
            c.encryption.key_source,
            KeySource::Environment("MY_KEY".into())
        );
        let c = Config::from_toml_str(
            "[encryption]\nkey_source = { Kms = { provider = \"aws\", key_id = \"alias/x\" } }\n",
        )
        .unwrap();
        assert!(matches!(c.encryption.key_source, KeySource::Kms { .. }));
        let c = Config::from_toml_str(
            "[encryption]\nkey_source = { Kms = { provider = \"aws\", key_id = \"alias/x\", region = \"eu-west-1\" } }\n[encryption.kms]\nendpoint = \"http://127.0.0.1:5000\"\n",
        )
        .unwrap();
        assert_eq!(
            c.encryption.kms.get("region").map(String::as_str),
            Some("eu-west-1")
        );
        assert_eq!(
            c.encryption.kms.get("endpoint").map(String::as_str),
            Some("http://127.0.0.1:5000")
        );
        let c = Config::from_toml_str("[encryption]\nkey_source = \"Password\"\n").unwrap();
        assert_eq!(c.encryption.key_source, KeySource::Password);
    }

    #[test]
    fn server_limits_parse_with_postgres_units() {
        let d = ServerConfig::default();
        assert_eq!(d.max_connections, 100);
        assert_eq!(d.authentication_timeout, Duration::from_secs(10));
        assert_eq!(d.statement_timeout, Duration::ZERO);
        assert_eq!(d.idle_in_transaction_session_timeout, Duration::ZERO);
        let c = Config::from_toml_str(
            "[server]\nmax_connections = 5\nauthentication_timeout = 3\n\
             statement_timeout = 1500\nidle_in_transaction_session_timeout = \"1min\"\n",
        )
        .unwrap();
        assert_eq!(c.server.max_connections, 5);
        assert_eq!(c.server.authentication_timeout, Duration::from_secs(3));
        assert_eq!(c.server.statement_timeout, Duration::from_millis(1500));
        assert_eq!(
            c.server.idle_in_transaction_session_timeout,
            Duration::from_secs(60)
        );
        let c = Config::from_toml_str(
            "[server]\nauthentication_timeout = \"2500ms\"\nstatement_timeout = \"1.5 s\"\n",
        )
        .unwrap();
        assert_eq!(c.server.authentication_timeout, Duration::from_millis(2500));
        assert_eq!(c.server.statement_timeout, Duration::from_millis(1500));
        // Written back in the setting's unit, and read again to the same value.
        let text = toml::to_string(&c).unwrap();
        assert_eq!(Config::from_toml_str(&text).unwrap(), c);
    }

    #[test]
    fn server_limits_refuse_bad_values() {
        for (toml, needle) in [
            ("max_connections = 0", "max_connections"),
            ("max_connections = -1", "max_connections"),
            ("authentication_timeout = 0", "authentication_timeout"),
            ("authentication_timeout = 601", "authentication_timeout"),
            ("statement_timeout = -5", "negative"),
            ("statement_timeout = \"5 fortnights\"", "5 fortnights"),
            ("statement_timeout = \"30d\"", "24.8 days"),
            (
                "idle_in_transaction_session_timeout = \"\"",
                "idle_in_transaction_session_timeout",
            ),
            ("max_conections = 5", "max_conections"),
        ] {
            let err = Config::from_toml_str(&format!("[server]\n{toml}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{toml}: {err}");
        }
    }

    #[test]
    fn time_settings_take_every_postgres_unit() {
        let p = |t: &str, u| parse_time_setting(t, u);
        assert_eq!(p("0", TimeUnit::Millis), Ok(Duration::ZERO));
        assert_eq!(p("250", TimeUnit::Millis), Ok(Duration::from_millis(250)));
        assert_eq!(p("250", TimeUnit::Secs), Ok(Duration::from_secs(250)));
        assert_eq!(p("1500us", TimeUnit::Secs), Ok(Duration::from_millis(2)));
        assert_eq!(p(" 2 h ", TimeUnit::Millis), Ok(Duration::from_secs(7200)));
        assert_eq!(p("1d", TimeUnit::Millis), Ok(Duration::from_secs(86_400)));
        assert!(p("", TimeUnit::Millis).is_err());
        assert!(p("ms", TimeUnit::Millis).is_err());
        assert!(p("1.2.3s", TimeUnit::Millis).is_err());
        assert!(p("-1", TimeUnit::Millis).is_err());
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::from_toml_str("[encryption]\nenabeld = true\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("enabeld"), "{err}");
        let err = Config::from_toml_str("[storage]\npaht = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("paht"), "{err}");
        let err = Config::from_toml_str("[encryption.key_source]\nFiel = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Fiel"), "{err}");
        let err = Config::from_toml_str("[encryption\nenabled = true")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line"), "{err}");
    }
}
