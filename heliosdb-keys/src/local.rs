//! Local key sources: environment variable, key file, password (Argon2id),
//! and a key handed over by the application.
//!
//! A local KEK wraps with AES-256-GCM under the KEK itself; the wrapped blob is
//! `nonce (12) || ciphertext || tag (16)`. Its slot stores a key check value so
//! a wrong key is reported as a wrong key before anything else is tried.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use heliosdb_crypto::{random_nonce, Aead, NonceMode, SecretKey, NONCE_LEN, TAG_LEN};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::source::{KekHeader, KeySource, SourceDescription, SourceKind};
use crate::{Error, Result};

/// The environment variable the tutorial uses for the key.
pub const DEFAULT_KEY_ENV: &str = "HELIOSDB_ENCRYPTION_KEY";

const KEK_CHECK_LABEL: &[u8] = b"heliosdb-nano kek check v1";
const KEK_WRAP_AAD: &[u8] = b"heliosdb-nano/kek-wrap/v1";

/// A KEK held in memory with its cipher built once and its check value.
pub(crate) struct LocalKek {
    key: SecretKey,
    aead: Aead,
    check: [u8; 16],
}

impl std::fmt::Debug for LocalKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalKek([REDACTED])")
    }
}

impl LocalKek {
    pub(crate) fn new(key: SecretKey) -> Self {
        let aead = Aead::new(&key);
        let check = key_check(&key);
        LocalKek { key, aead, check }
    }

    pub(crate) fn check_hex(&self) -> String {
        hex::encode(self.check)
    }

    pub(crate) fn matches(&self, header: &KekHeader) -> bool {
        let Some(stored) = header.key_check.as_deref() else {
            return false;
        };
        match hex::decode(stored) {
            Ok(bytes) => bytes.len() == 16 && bool::from(bytes.ct_eq(&self.check)),
            Err(_) => false,
        }
    }

    pub(crate) fn wrap(&self, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>> {
        let nonce = random_nonce(NonceMode::Os)?;
        let full_aad = [KEK_WRAP_AAD, aad].concat();
        let mut buf = Vec::with_capacity(NONCE_LEN + 32 + TAG_LEN);
        buf.extend_from_slice(key.expose_secret());
        self.aead.seal_in_place(&nonce, &full_aad, &mut buf);
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub(crate) fn unwrap(
        &self,
        blob: &[u8],
        aad: &[u8],
        what: &SourceDescription,
    ) -> Result<SecretKey> {
        if blob.len() != NONCE_LEN + 32 + TAG_LEN {
            return Err(Error::KeyringCorrupt(format!(
                "wrapped key has {} bytes, expected {}",
                blob.len(),
                NONCE_LEN + 32 + TAG_LEN
            )));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&blob[..NONCE_LEN]);
        let full_aad = [KEK_WRAP_AAD, aad].concat();
        let mut buf = Zeroizing::new(blob[NONCE_LEN..].to_vec());
        self.aead
            .open_in_place(&nonce, &full_aad, &mut buf)
            .map_err(|_| Error::wrong_key(what))?;
        SecretKey::from_slice(&buf)
            .ok_or_else(|| Error::KeyringCorrupt("unwrapped key has the wrong length".into()))
    }

    pub(crate) fn header(&self, source: SourceDescription) -> KekHeader {
        KekHeader {
            source,
            key_check: Some(self.check_hex()),
            kdf: None,
            kms: None,
        }
    }
}

/// HMAC-SHA256(KEK, label) truncated to 16 bytes: identifies a KEK without revealing it.
fn key_check(key: &SecretKey) -> [u8; 16] {
    // HMAC accepts keys of any length, so new_from_slice cannot fail here.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose_secret())
        .expect("HMAC takes keys of any length");
    mac.update(KEK_CHECK_LABEL);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

macro_rules! local_key_source {
    ($ty:ty) => {
        #[async_trait]
        impl KeySource for $ty {
            fn describe(&self) -> SourceDescription {
                self.description()
            }
            async fn new_header(&self) -> Result<KekHeader> {
                Ok(self.kek.header(self.description()))
            }
            async fn matches(&self, header: &KekHeader) -> Result<bool> {
                Ok(self.kek.matches(header))
            }
            async fn wrap(&self, _h: &KekHeader, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>> {
                self.kek.wrap(key, aad)
            }
            async fn unwrap(&self, _h: &KekHeader, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
                self.kek.unwrap(blob, aad, &self.description())
            }
            fn exportable_key(&self) -> Option<&SecretKey> {
                Some(&self.kek.key)
            }
        }
    };
}

/// A 64-hex-character key read from an environment variable (the tutorial's
/// `HELIOSDB_ENCRYPTION_KEY`). Read once, at construction.
#[derive(Debug)]
pub struct EnvSource {
    var: String,
    kek: LocalKek,
}

impl EnvSource {
    /// Reads and parses the key in `var`.
    ///
    /// # Errors
    /// `Environment variable 'VAR' not found`, or the hex errors of
    /// [`SecretKey::from_hex`] ("Hex key must be 64 characters (32 bytes), got N").
    pub fn new(var: impl Into<String>) -> Result<Self> {
        let var = var.into();
        let raw = std::env::var_os(&var).ok_or_else(|| Error::EnvNotFound(var.clone()))?;
        let text = Zeroizing::new(
            raw.into_string()
                .map_err(|_| heliosdb_crypto::Error::HexDigits)?,
        );
        let key = SecretKey::from_hex(&text)?;
        Ok(EnvSource {
            var,
            kek: LocalKek::new(key),
        })
    }

    /// The variable name.
    pub fn var(&self) -> &str {
        &self.var
    }

    fn description(&self) -> SourceDescription {
        SourceDescription::with_locator(SourceKind::Env, &self.var)
    }
}
local_key_source!(EnvSource);

/// A key file: 64 hex characters (surrounding whitespace ignored) or 32 raw
/// bytes. Files readable by other users are refused; group-readable files
/// are accepted with a warning.
#[derive(Debug)]
pub struct FileSource {
    path: PathBuf,
    kek: LocalKek,
}

/// Refuses a key file other users can read; warns when its group can.
///
/// # Errors
/// [`Error::KeyFileInsecure`] (with the `chmod 400` advice) or
/// [`Error::KeyFileRead`] when the file cannot be inspected.
pub fn check_key_file_permissions(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| read_error(path, &e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o007 != 0 {
            return Err(Error::KeyFileInsecure {
                path: path.display().to_string(),
                mode,
            });
        }
        if mode & 0o070 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format_args!("{mode:03o}"),
                "key file is readable by its group; consider `chmod 400`"
            );
        }
    }
    Ok(())
}

fn read_error(path: &Path, e: &std::io::Error) -> Error {
    // Keep the tutorial's wording ("Permission denied"): the OS text without "(os error N)".
    let text = e.to_string();
    let reason = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    Error::KeyFileRead {
        path: path.display().to_string(),
        reason,
    }
}

impl FileSource {
    /// Reads the key file at `path`.
    ///
    /// # Errors
    /// `Failed to read key file: …`, the permission refusal, the tutorial's hex
    /// length error for a hex key of the wrong length, or
    /// [`Error::KeyFileFormat`] for anything else.
    pub fn new(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        check_key_file_permissions(&path)?;
        let bytes = Zeroizing::new(std::fs::read(&path).map_err(|e| read_error(&path, &e))?);
        let key = parse_key_file(&bytes, &path)?;
        Ok(FileSource {
            path,
            kek: LocalKek::new(key),
        })
    }

    /// The key file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn description(&self) -> SourceDescription {
        SourceDescription::with_locator(SourceKind::File, self.path.display().to_string())
    }
}
local_key_source!(FileSource);

fn parse_key_file(bytes: &[u8], path: &Path) -> Result<SecretKey> {
    let looks_hex = |b: &[u8]| {
        let t = b.trim_ascii();
        !t.is_empty() && t.iter().all(u8::is_ascii_hexdigit)
    };
    if looks_hex(bytes) {
        let text = Zeroizing::new(String::from_utf8_lossy(bytes.trim_ascii()).into_owned());
        return Ok(SecretKey::from_hex(&text)?);
    }
    if bytes.len() == 32 {
        if let Some(key) = SecretKey::from_slice(bytes) {
            return Ok(key);
        }
    }
    Err(Error::KeyFileFormat {
        path: path.display().to_string(),
        len: bytes.len(),
    })
}

/// Largest Argon2id memory cost accepted, in KiB (1 GiB). A keyring is
/// untrusted input: a slot asking for 4 GiB would take a machine's memory
/// before the password is even checked.
pub const ARGON2_MAX_MEMORY_KIB: u32 = 1024 * 1024;
/// Smallest Argon2id memory cost, in KiB (Argon2's own minimum is 8 per lane).
pub const ARGON2_MIN_MEMORY_KIB: u32 = 8;
/// Largest Argon2id iteration count accepted.
pub const ARGON2_MAX_ITERATIONS: u32 = 10;
/// Largest Argon2id lane count accepted (lanes run one after another here,
/// so more only costs time).
pub const ARGON2_MAX_LANES: u32 = 8;

/// Checks an Argon2id cost against the bounds above.
///
/// # Errors
/// [`Error::Kdf`] naming the parameter, its value and the allowed range.
pub fn check_argon2_cost(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<()> {
    if !(1..=ARGON2_MAX_LANES).contains(&p_cost) {
        return Err(Error::Kdf(format!(
            "Argon2id parallelism must be from 1 to {ARGON2_MAX_LANES}, got {p_cost}"
        )));
    }
    let min_m = ARGON2_MIN_MEMORY_KIB.max(8 * p_cost);
    if !(min_m..=ARGON2_MAX_MEMORY_KIB).contains(&m_cost_kib) {
        return Err(Error::Kdf(format!(
            "Argon2id memory cost must be from {min_m} KiB to {ARGON2_MAX_MEMORY_KIB} KiB \
             (1 GiB), got {m_cost_kib} KiB"
        )));
    }
    if !(1..=ARGON2_MAX_ITERATIONS).contains(&t_cost) {
        return Err(Error::Kdf(format!(
            "Argon2id iterations must be from 1 to {ARGON2_MAX_ITERATIONS}, got {t_cost}"
        )));
    }
    Ok(())
}

/// Argon2id cost and salt of a password KEK, stored in its keyring slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Hex salt, 16 to 64 bytes.
    pub salt: String,
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// The tutorial's defaults (19 MiB, 2 iterations, 1 lane) with a fresh 16-byte salt.
    ///
    /// # Errors
    /// Only when the OS RNG fails.
    pub fn new_default() -> Result<Self> {
        Self::with_cost(19 * 1024, 2, 1)
    }

    /// Custom cost with a fresh 16-byte salt.
    ///
    /// # Errors
    /// [`Error::Kdf`] for a cost outside [`check_argon2_cost`]'s bounds; the OS RNG failing.
    pub fn with_cost(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self> {
        check_argon2_cost(m_cost_kib, t_cost, p_cost)?;
        let mut salt = [0u8; 16];
        heliosdb_crypto::fill_random(&mut salt)?;
        Ok(KdfParams {
            algorithm: "argon2id".into(),
            salt: hex::encode(salt),
            m_cost_kib,
            t_cost,
            p_cost,
        })
    }

    /// Checks what a keyring says without deriving anything: the algorithm,
    /// a hex salt of 16 to 64 bytes, and a cost within bounds.
    ///
    /// # Errors
    /// [`Error::Kdf`] naming what is wrong.
    pub fn validate(&self) -> Result<()> {
        if self.algorithm != "argon2id" {
            return Err(Error::Kdf(format!("unsupported KDF {:?}", self.algorithm)));
        }
        let salt_len = hex::decode(&self.salt)
            .map_err(|_| Error::Kdf("salt is not hex".into()))?
            .len();
        if !(16..=64).contains(&salt_len) {
            return Err(Error::Kdf(format!(
                "salt must be 16 to 64 bytes, got {salt_len}"
            )));
        }
        check_argon2_cost(self.m_cost_kib, self.t_cost, self.p_cost)
    }

    /// Derives the 256-bit KEK. Parameters read from a keyring are untrusted:
    /// absurd costs are refused instead of exhausting memory.
    ///
    /// # Errors
    /// [`Error::Kdf`] for unsupported or out-of-range parameters.
    pub fn derive(&self, password: &[u8]) -> Result<SecretKey> {
        if self.algorithm != "argon2id" {
            return Err(Error::Kdf(format!("unsupported KDF {:?}", self.algorithm)));
        }
        let salt = hex::decode(&self.salt).map_err(|_| Error::Kdf("salt is not hex".into()))?;
        derive_argon2id(password, &salt, self.m_cost_kib, self.t_cost, self.p_cost)
    }
}

pub(crate) fn derive_argon2id(
    password: &[u8],
    salt: &[u8],
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
) -> Result<SecretKey> {
    if !(16..=64).contains(&salt.len()) {
        return Err(Error::Kdf(format!(
            "salt must be 16 to 64 bytes, got {}",
            salt.len()
        )));
    }
    check_argon2_cost(m_cost_kib, t_cost, p_cost)?;
    let params = argon2::Params::new(m_cost_kib, t_cost, p_cost, Some(32))
        .map_err(|e| Error::Kdf(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password, salt, out.as_mut())
        .map_err(|e| Error::Kdf(e.to_string()))?;
    Ok(SecretKey::from_bytes(*out))
}

/// A password stretched with Argon2id. The salt and cost are chosen when a
/// slot is created and stored in the keyring, so users never manage a salt
/// file. The derived key is cached for the last salt used (one derivation per
/// open, not one per key).
pub struct PasswordSource {
    password: SecretString,
    cost: (u32, u32, u32),
    cache: Mutex<Option<(KdfParams, LocalKek)>>,
}

impl std::fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordSource")
            .field("password", &"[REDACTED]")
            .field("cost", &self.cost)
            .finish()
    }
}

impl PasswordSource {
    /// A password source with the default Argon2id cost for new slots.
    pub fn new(password: impl Into<String>) -> Self {
        Self::with_cost(password, 19 * 1024, 2, 1)
    }

    /// A password source whose new slots use the given Argon2id cost.
    /// Changing cost (or password) is a KEK rotation: it re-wraps, it rewrites no record.
    pub fn with_cost(
        password: impl Into<String>,
        m_cost_kib: u32,
        t_cost: u32,
        p_cost: u32,
    ) -> Self {
        PasswordSource {
            password: SecretString::from(password.into()),
            cost: (m_cost_kib, t_cost, p_cost),
            cache: Mutex::new(None),
        }
    }

    fn with_kek<T>(&self, params: &KdfParams, f: impl FnOnce(&LocalKek) -> T) -> Result<T> {
        // A poisoned cache only means another thread panicked mid-derivation; the
        // cached value is replaced wholesale, so recovering the guard is sound.
        let mut guard = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_none_or(|(p, _)| p != params) {
            let key = params.derive(self.password.expose_secret().as_bytes())?;
            *guard = Some((params.clone(), LocalKek::new(key)));
        }
        match guard.as_ref() {
            Some((_, kek)) => Ok(f(kek)),
            None => Err(Error::Kdf("derivation cache empty".into())),
        }
    }

    fn kdf_of(header: &KekHeader) -> Result<&KdfParams> {
        header
            .kdf
            .as_ref()
            .ok_or_else(|| Error::KeyringCorrupt("password slot without KDF parameters".into()))
    }
}

#[async_trait]
impl KeySource for PasswordSource {
    fn describe(&self) -> SourceDescription {
        SourceDescription::new(SourceKind::Password)
    }

    async fn new_header(&self) -> Result<KekHeader> {
        let (m, t, p) = self.cost;
        let params = KdfParams::with_cost(m, t, p)?;
        let check = self.with_kek(&params, |k| k.check_hex())?;
        Ok(KekHeader {
            source: self.describe(),
            key_check: Some(check),
            kdf: Some(params),
            kms: None,
        })
    }

    async fn matches(&self, header: &KekHeader) -> Result<bool> {
        if header.source.kind != SourceKind::Password {
            return Ok(false);
        }
        let params = Self::kdf_of(header)?;
        self.with_kek(params, |k| k.matches(header))
    }

    async fn wrap(&self, header: &KekHeader, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>> {
        let params = Self::kdf_of(header)?;
        self.with_kek(params, |k| k.wrap(key, aad))?
    }

    async fn unwrap(&self, header: &KekHeader, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        let params = Self::kdf_of(header)?;
        let what = self.describe();
        self.with_kek(params, |k| k.unwrap(blob, aad, &what))?
    }
}

/// A key the application hands over directly (`KeyManager::generate_random`,
/// `KeyManager::from_password` with a caller-managed salt).
#[derive(Debug)]
pub struct RawKeySource {
    label: Option<String>,
    kek: LocalKek,
}

impl RawKeySource {
    /// Wraps an application-supplied key; `label` is a secret-free note shown
    /// in descriptions (e.g. "password-derived, caller-managed salt").
    pub fn new(key: SecretKey, label: Option<String>) -> Self {
        RawKeySource {
            label,
            kek: LocalKek::new(key),
        }
    }

    fn description(&self) -> SourceDescription {
        SourceDescription {
            kind: SourceKind::Raw,
            locator: self.label.clone(),
            provider: None,
        }
    }
}
local_key_source!(RawKeySource);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_hex_and_raw() {
        let dir = tempfile::tempdir().unwrap();
        let hex_path = dir.path().join("hex.key");
        std::fs::write(&hex_path, format!("{}\n", "ab".repeat(32))).unwrap();
        set_mode(&hex_path, 0o400);
        let a = FileSource::new(&hex_path).unwrap();
        assert_eq!(a.kek.key.expose_secret(), &[0xab; 32]);

        let raw_path = dir.path().join("raw.key");
        std::fs::write(&raw_path, [0xffu8; 32]).unwrap();
        set_mode(&raw_path, 0o600);
        let b = FileSource::new(&raw_path).unwrap();
        assert_eq!(b.kek.key.expose_secret(), &[0xff; 32]);
    }

    #[test]
    fn key_file_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.key");
        std::fs::write(&p, "ab".repeat(32)).unwrap();
        set_mode(&p, 0o644);
        let err = FileSource::new(&p).unwrap_err().to_string();
        assert!(err.contains("chmod 400"), "{err}");
        assert!(!err.contains(&"ab".repeat(32)));

        set_mode(&p, 0o440);
        FileSource::new(&p).expect("group-readable is a warning, not an error");

        std::fs::write(&p, "ab".repeat(31) + "a").unwrap();
        set_mode(&p, 0o400);
        let err = FileSource::new(&p).unwrap_err().to_string();
        assert_eq!(err, "Hex key must be 64 characters (32 bytes), got 63");

        std::fs::write(&p, "not a key at all").unwrap();
        set_mode(&p, 0o400);
        assert!(matches!(
            FileSource::new(&p),
            Err(Error::KeyFileFormat { .. })
        ));

        let missing = dir.path().join("missing.key");
        let err = FileSource::new(&missing).unwrap_err().to_string();
        assert!(
            err.starts_with("Failed to read key file: No such file or directory"),
            "{err}"
        );
    }

    #[test]
    fn env_errors_match_tutorial() {
        let err = EnvSource::new("HELIOSDB_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Environment variable 'HELIOSDB_TEST_SURELY_UNSET_VAR' not found"
        );
    }

    #[test]
    fn argon2_cost_bounds_refused() {
        let mut p = KdfParams::with_cost(8, 1, 1).unwrap();
        p.m_cost_kib = u32::MAX;
        assert!(matches!(p.derive(b"pw"), Err(Error::Kdf(_))));
        p.m_cost_kib = 8;
        p.salt = "00".into();
        assert!(matches!(p.derive(b"pw"), Err(Error::Kdf(_))));
    }

    #[test]
    fn argon2_cost_is_bounded_to_one_gib_and_ten_passes() {
        assert!(check_argon2_cost(ARGON2_MAX_MEMORY_KIB, ARGON2_MAX_ITERATIONS, 1).is_ok());
        assert!(check_argon2_cost(19 * 1024, 2, 1).is_ok());
        // What the old bounds let through: 4 GiB, 64 passes, 16 lanes.
        for (m, t, p, what) in [
            (4 * 1024 * 1024, 2, 1, "memory cost"),
            (ARGON2_MAX_MEMORY_KIB + 1, 2, 1, "memory cost"),
            (19 * 1024, 64, 1, "iterations"),
            (19 * 1024, 11, 1, "iterations"),
            (19 * 1024, 0, 1, "iterations"),
            (19 * 1024, 2, 16, "parallelism"),
            (19 * 1024, 2, 0, "parallelism"),
            (4, 2, 1, "memory cost"),
        ] {
            let err = check_argon2_cost(m, t, p).unwrap_err();
            assert!(matches!(err, Error::Kdf(_)), "{err:?}");
            assert!(err.to_string().contains(what), "({m}, {t}, {p}): {err}");
            assert!(KdfParams::with_cost(m, t, p).is_err());
            let src = PasswordSource::with_cost("pw", m, t, p);
            assert!(crate::block_on(src.new_header()).is_err());
        }
        let err = check_argon2_cost(4 * 1024 * 1024, 2, 1).unwrap_err();
        assert!(err.to_string().contains("1 GiB"), "{err}");
    }

    fn set_mode(p: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}
