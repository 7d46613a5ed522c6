//! PKCS#11 hardware security modules as a HeliosDB Nano key source:
//! SoftHSM2, on-premises HSMs, AWS CloudHSM through its PKCS#11 library.
//!
//! An AES key that never leaves the token is the key-encryption key. It
//! wraps the database's root key in one of two ways:
//!
//! - `aes-gcm` (default): `C_Encrypt` with `CKM_AES_GCM`, a 96-bit IV and a
//!   128-bit tag, the keyring's slot binding (database id and slot) as AAD.
//!   The key needs `CKA_ENCRYPT` and `CKA_DECRYPT`.
//! - `aes-key-wrap`: `C_WrapKey` with `CKM_AES_KEY_WRAP_PAD` (RFC 5649) of a
//!   session object holding `root key ‖ SHA-256(binding)`, so that the slot
//!   binding is authenticated although key wrap has no AAD. The key needs
//!   `CKA_WRAP` and `CKA_UNWRAP`; it never needs to encrypt data.
//!
//! Configuration: `key_source = { Kms = { provider = "pkcs11", key_id = "LABEL" } }`
//! (`key_id` is the key's `CKA_LABEL`, or `id:HEX` for its `CKA_ID`) with
//! options `module` (the vendor's PKCS#11 library, an absolute path; else
//! `HELIOSDB_PKCS11_MODULE`), `token_label` or `slot_id`, `pin_source`
//! (`env:VAR`, default `env:HELIOSDB_PKCS11_PIN`; `file:PATH`; `prompt`) and
//! `mechanism`. The PIN is never an option, never printed and wiped from
//! memory when the source is dropped.
//!
//! A slot records the key's label (or id), the token's label and the
//! mechanism. The module path is never recorded: it is code this process
//! would load, so it comes from whoever opens the database.
//!
//! PKCS#11 login state belongs to the application, not to a session: every
//! operation opens a session of its own, logs in unless the token already is
//! (`CKR_USER_ALREADY_LOGGED_IN` is success), and closes it. The module is
//! loaded and initialised once per process and never finalised, since
//! another part of the process may use it too.
//!
//! The wrapped blob is `0x01 | mechanism (1 = GCM, 2 = key wrap) | …`: for
//! GCM the 12-byte IV then ciphertext and tag; for key wrap the RFC 5649
//! output.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use async_trait::async_trait;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism as CkMechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;
use heliosdb_keys::{
    Error, KmsCommon, KmsErrorKind, KmsKeyRef, KmsProvider, KmsSource, KmsSpec, KmsVendor, Result,
    SecretKey,
};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Provider name in configuration and in key headers.
pub const PROVIDER: &str = "pkcs11";

/// Options this provider understands.
pub const OPTIONS: [&str; 5] = [
    "module",
    "token_label",
    "slot_id",
    "pin_source",
    "mechanism",
];

/// Options a slot records: with the key's label they say which key it is.
/// The module (code to load) and the PIN source are never recorded.
pub const IDENTITY_OPTIONS: [&str; 2] = ["token_label", "mechanism"];

/// Environment variable naming the module when the `module` option is absent.
pub const MODULE_ENV: &str = "HELIOSDB_PKCS11_MODULE";

/// Environment variable holding the user PIN when `pin_source` is absent.
pub const DEFAULT_PIN_ENV: &str = "HELIOSDB_PKCS11_PIN";

const BLOB_FORMAT: u8 = 1;
const GCM_IV_LEN: usize = 12;
const GCM_TAG_BITS: u64 = 128;
const KEY_LEN: usize = 32;
/// Domain separation of the binding hash inside a key-wrap blob.
const KW_BINDING_LABEL: &[u8] = b"heliosdb-nano pkcs11 key-wrap binding v1";

heliosdb_keys::inventory::submit! {
    KmsProvider::of::<Pkcs11Token>()
}

/// How the token's AES key wraps the root key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrapMechanism {
    /// `CKM_AES_GCM` through `C_Encrypt`/`C_Decrypt`, AAD bound.
    AesGcm,
    /// `CKM_AES_KEY_WRAP_PAD` through `C_WrapKey`/`C_UnwrapKey`.
    AesKeyWrap,
}

impl WrapMechanism {
    fn name(self) -> &'static str {
        match self {
            WrapMechanism::AesGcm => "aes-gcm",
            WrapMechanism::AesKeyWrap => "aes-key-wrap",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "aes-gcm" => Some(WrapMechanism::AesGcm),
            "aes-key-wrap" => Some(WrapMechanism::AesKeyWrap),
            _ => None,
        }
    }

    fn tag(self) -> u8 {
        match self {
            WrapMechanism::AesGcm => 1,
            WrapMechanism::AesKeyWrap => 2,
        }
    }

    fn from_tag(t: u8) -> Option<Self> {
        match t {
            1 => Some(WrapMechanism::AesGcm),
            2 => Some(WrapMechanism::AesKeyWrap),
            _ => None,
        }
    }

    /// The key attributes this mechanism needs, and what each is for.
    fn needs(self) -> [(AttributeType, &'static str); 2] {
        match self {
            WrapMechanism::AesGcm => [
                (AttributeType::Encrypt, "CKA_ENCRYPT"),
                (AttributeType::Decrypt, "CKA_DECRYPT"),
            ],
            WrapMechanism::AesKeyWrap => [
                (AttributeType::Wrap, "CKA_WRAP"),
                (AttributeType::Unwrap, "CKA_UNWRAP"),
            ],
        }
    }
}

/// Which key object: by `CKA_LABEL` or by `CKA_ID`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum KeyRef {
    Label(String),
    Id(Vec<u8>),
}

impl KeyRef {
    fn parse(key_id: &str) -> Option<KeyRef> {
        let key_id = key_id.trim();
        if let Some(hex_id) = key_id.strip_prefix("id:") {
            return hex::decode(hex_id.trim())
                .ok()
                .filter(|id| !id.is_empty())
                .map(KeyRef::Id);
        }
        let label = key_id.strip_prefix("label:").unwrap_or(key_id);
        (!label.is_empty()).then(|| KeyRef::Label(label.to_string()))
    }

    fn attribute(&self) -> Attribute {
        match self {
            KeyRef::Label(l) => Attribute::Label(l.as_bytes().to_vec()),
            KeyRef::Id(id) => Attribute::Id(id.clone()),
        }
    }
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyRef::Label(l) => f.write_str(l),
            KeyRef::Id(id) => write!(f, "id:{}", hex::encode(id)),
        }
    }
}

/// Where the user PIN comes from. Never the PIN itself.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PinSource {
    Env(String),
    File(PathBuf),
    Prompt,
}

impl PinSource {
    fn parse(s: &str) -> Option<PinSource> {
        let s = s.trim();
        if s == "prompt" {
            return Some(PinSource::Prompt);
        }
        if let Some(var) = s.strip_prefix("env:") {
            return (!var.trim().is_empty()).then(|| PinSource::Env(var.trim().to_string()));
        }
        if let Some(path) = s.strip_prefix("file:") {
            return (!path.trim().is_empty()).then(|| PinSource::File(PathBuf::from(path.trim())));
        }
        None
    }
}

impl fmt::Display for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinSource::Env(v) => write!(f, "environment variable {v}"),
            PinSource::File(p) => write!(f, "PIN file {}", p.display()),
            PinSource::Prompt => f.write_str("the terminal prompt"),
        }
    }
}

/// Non-secret settings from a [`KmsSpec`].
#[derive(Clone, Debug, PartialEq, Eq)]
struct Settings {
    key: KeyRef,
    module: PathBuf,
    token_label: Option<String>,
    slot_id: Option<u64>,
    pin: PinSource,
    mechanism: WrapMechanism,
}

impl Settings {
    fn parse(spec: &KmsSpec) -> Result<Settings> {
        let bad = |m: String| Error::Unsupported(m);
        let key = KeyRef::parse(&spec.key_id).ok_or_else(|| {
            bad(format!(
                "KMS provider pkcs11 needs key_id = the AES key's CKA_LABEL (or id:HEX for its \
                 CKA_ID), got {:?}",
                spec.key_id
            ))
        })?;
        let opt = |name: &str| {
            spec.options
                .get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let module = opt("module")
            .or_else(|| {
                std::env::var(MODULE_ENV)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
            })
            .ok_or_else(|| {
                bad(format!(
                    "KMS provider pkcs11 needs the PKCS#11 module: set `module` in \
                     [encryption.kms] (or --kms-option module=PATH, or {MODULE_ENV}) to the \
                     vendor's library, e.g. /usr/lib/softhsm/libsofthsm2.so"
                ))
            })?;
        let module = PathBuf::from(module);
        // A relative name would be looked up in the library search path or
        // the working directory: code from wherever the process happens to be.
        if !module.is_absolute() {
            return Err(bad(format!(
                "the PKCS#11 module must be an absolute path, got {:?}",
                module.display()
            )));
        }
        let slot_id = match opt("slot_id") {
            None => None,
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                bad(format!(
                    "option 'slot_id' of KMS provider pkcs11 must be a whole number, got {v:?}"
                ))
            })?),
        };
        let token_label = opt("token_label");
        if token_label.is_none() && slot_id.is_none() {
            return Err(bad(
                "KMS provider pkcs11 needs the token: set `token_label` (or `slot_id`) in \
                 [encryption.kms] or with --kms-option token_label=LABEL"
                    .into(),
            ));
        }
        let pin = match opt("pin_source") {
            None => PinSource::Env(DEFAULT_PIN_ENV.to_string()),
            Some(v) => PinSource::parse(&v).ok_or_else(|| {
                bad(format!(
                    "option 'pin_source' of KMS provider pkcs11 is env:VAR, file:PATH or \
                     prompt, got {v:?}"
                ))
            })?,
        };
        let mechanism = match opt("mechanism") {
            None => WrapMechanism::AesGcm,
            Some(v) => WrapMechanism::parse(&v).ok_or_else(|| {
                bad(format!(
                    "option 'mechanism' of KMS provider pkcs11 is aes-gcm or aes-key-wrap, got {v:?}"
                ))
            })?,
        };
        Ok(Settings {
            key,
            module,
            token_label,
            slot_id,
            pin,
            mechanism,
        })
    }

    fn token_name(&self) -> String {
        match (&self.token_label, self.slot_id) {
            (Some(l), _) => l.clone(),
            (None, Some(s)) => format!("slot {s}"),
            (None, None) => "?".into(),
        }
    }

    fn locator(&self) -> String {
        format!("{}/{}", self.token_name(), self.key)
    }
}

/// The loaded modules of this process, by canonical path. PKCS#11 allows one
/// `C_Initialize` per module and process; an instance is kept for the
/// process's lifetime and never finalised (another user of the module in
/// this process, or another source, may still be working with it).
fn module(path: &Path) -> std::result::Result<Pkcs11, String> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let canonical = std::fs::canonicalize(path).map_err(|e| {
        format!(
            "cannot find the PKCS#11 module {}: {e}; set `module` to the vendor's library",
            path.display()
        )
    })?;
    let mut modules = MODULES
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(m) = modules.get(&canonical) {
        return Ok(m.clone());
    }
    let ctx = Pkcs11::new(&canonical).map_err(|e| {
        format!(
            "cannot load the PKCS#11 module {}: {e}; set `module` to the vendor's PKCS#11 library",
            canonical.display()
        )
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Already initialised by someone else in this process: share it.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(format!(
                "cannot initialise the PKCS#11 module {}: {e}",
                canonical.display()
            ))
        }
    }
    modules.insert(canonical, ctx.clone());
    Ok(ctx)
}

/// Sorts a PKCS#11 failure into the classes a user can act on.
pub fn classify(err: &CkError) -> KmsErrorKind {
    match err {
        CkError::Pkcs11(rv, _) => classify_rv(*rv),
        CkError::LibraryLoading(_) | CkError::MissingSymbol(_) | CkError::NullFunctionPointer => {
            KmsErrorKind::InvalidRequest
        }
        _ => KmsErrorKind::InvalidRequest,
    }
}

/// `CKR_AEAD_DECRYPT_FAILED` (PKCS#11 3.0, 0x42), which cryptoki reports as
/// an unknown code.
const CKR_AEAD_DECRYPT_FAILED: std::os::raw::c_ulong = 0x42;

fn classify_rv(rv: RvError) -> KmsErrorKind {
    use KmsErrorKind::*;
    match rv {
        RvError::PinIncorrect
        | RvError::PinInvalid
        | RvError::PinLenRange
        | RvError::PinExpired
        | RvError::PinLocked
        | RvError::UserPinNotInitialized
        | RvError::UserNotLoggedIn
        | RvError::UserAnotherAlreadyLoggedIn
        | RvError::UserTooManyTypes
        | RvError::KeyFunctionNotPermitted
        | RvError::ActionProhibited => AccessDenied,
        RvError::EncryptedDataInvalid
        | RvError::EncryptedDataLenRange
        | RvError::WrappedKeyInvalid
        | RvError::WrappedKeyLenRange => WrongKey,
        RvError::UnknownErrorCode(c) if c == CKR_AEAD_DECRYPT_FAILED => WrongKey,
        RvError::KeyHandleInvalid
        | RvError::ObjectHandleInvalid
        | RvError::WrappingKeyHandleInvalid
        | RvError::UnwrappingKeyHandleInvalid
        | RvError::SlotIdInvalid => NotFound,
        RvError::TokenNotPresent
        | RvError::TokenNotRecognized
        | RvError::DeviceError
        | RvError::DeviceMemory
        | RvError::DeviceRemoved
        | RvError::SessionCount
        | RvError::SessionClosed
        | RvError::SessionHandleInvalid
        | RvError::FunctionFailed
        | RvError::GeneralError
        | RvError::HostMemory
        | RvError::CryptokiNotInitialized
        | RvError::FunctionCanceled
        | RvError::Cancel
        | RvError::CantLock => Unavailable,
        _ => InvalidRequest,
    }
}

/// What to do about a failure, when the return value says.
fn fix_for(rv: RvError, settings: &Settings) -> String {
    let needs = settings.mechanism.needs();
    match rv {
        RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange => format!(
            "wrong PIN: check the user PIN in {} (the token's user PIN, not its SO PIN)",
            settings.pin
        ),
        RvError::PinLocked => "the user PIN is locked after too many wrong attempts: the \
                               security officer must reset it with the vendor's tool"
            .into(),
        RvError::PinExpired => "the user PIN has expired: set a new one".into(),
        RvError::UserPinNotInitialized => {
            "the token's user PIN is not initialised: the security officer must set it".into()
        }
        RvError::UserAnotherAlreadyLoggedIn | RvError::UserTooManyTypes => {
            "another user (the security officer) is logged in to this token in this process: \
             log it out first"
                .into()
        }
        RvError::KeyFunctionNotPermitted => format!(
            "the key's attributes forbid this operation: mechanism {} needs {} and {} = true \
             (set when the key is created; most tokens cannot change them)",
            settings.mechanism.name(),
            needs[0].1,
            needs[1].1
        ),
        RvError::EncryptedDataInvalid
        | RvError::EncryptedDataLenRange
        | RvError::WrappedKeyInvalid
        | RvError::WrappedKeyLenRange => {
            "the wrapped key does not open under this key: another key wrapped it, or it was \
             altered"
                .into()
        }
        RvError::UnknownErrorCode(c) if c == CKR_AEAD_DECRYPT_FAILED => {
            "the wrapped key does not open under this key: another key wrapped it, or it was \
             altered"
                .into()
        }
        RvError::KeyHandleInvalid | RvError::ObjectHandleInvalid => {
            "the key object is gone (deleted while in use?)".into()
        }
        RvError::TokenNotPresent | RvError::DeviceRemoved => {
            "the token is not present: insert or reconnect it".into()
        }
        RvError::MechanismInvalid | RvError::MechanismParamInvalid => format!(
            "the token does not support {}: choose the other `mechanism` (aes-gcm or aes-key-wrap)",
            settings.mechanism.name()
        ),
        RvError::KeyTypeInconsistent
        | RvError::WrappingKeyTypeInconsistent
        | RvError::UnwrappingKeyTypeInconsistent => {
            "the key is not an AES key: use a CKK_AES key of 256 bits".into()
        }
        _ => String::new(),
    }
}

/// A session object destroyed when the guard goes (the session would drop
/// it at close anyway; this makes it as short-lived as possible).
struct TempObject<'a> {
    session: &'a Session,
    handle: ObjectHandle,
}

impl Drop for TempObject<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.session.destroy_object(self.handle) {
            tracing::debug!("PKCS#11 temporary object not destroyed: {e}");
        }
    }
}

/// The PKCS#11 vendor behind [`Pkcs11Source`].
pub struct Pkcs11Token {
    settings: Settings,
    /// The PIN once read (from the environment, a file or a prompt), kept
    /// in a zeroizing secret and dropped again after a login refuses it.
    pin: Mutex<Option<SecretString>>,
}

/// A key-encryption key in a PKCS#11 token. [`KmsSource::new`] loads
/// nothing and reads no PIN yet (the first operation does); it fails on
/// unknown or malformed options, no module, no token.
/// [`KmsSource::with_given`] takes a PIN the application got itself.
pub type Pkcs11Source = KmsSource<Pkcs11Token>;

impl fmt::Debug for Pkcs11Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        f.debug_struct("Pkcs11Token")
            .field("module", &s.module)
            .field("key", &s.locator())
            .field("mechanism", &s.mechanism.name())
            .field("pin_source", &s.pin.to_string())
            .field("pin", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// Accessors of the PKCS#11 source beyond [`KmsSource`].
pub trait Pkcs11SourceExt {
    /// Like [`KmsSource::new`] with a PIN the application got itself.
    ///
    /// # Errors
    /// As [`KmsSource::new`].
    fn with_pin(spec: &KmsSpec, pin: SecretString) -> Result<Pkcs11Source>;

    /// The configured wrap mechanism.
    fn mechanism(&self) -> WrapMechanism;
}

impl Pkcs11SourceExt for Pkcs11Source {
    fn with_pin(spec: &KmsSpec, pin: SecretString) -> Result<Pkcs11Source> {
        KmsSource::with_given(spec, pin)
    }

    fn mechanism(&self) -> WrapMechanism {
        self.vendor().settings.mechanism
    }
}

impl Pkcs11Token {
    fn err(&self, kind: KmsErrorKind, what: &str, detail: impl fmt::Display) -> Error {
        self.error(kind, what, detail)
    }

    fn ck_err(&self, what: &str, e: CkError) -> Error {
        self.classified(what, &e)
    }

    /// Runs a blocking PKCS#11 call on this thread, letting the runtime
    /// move its other work elsewhere meanwhile: module calls may wait on a
    /// network HSM or a PIN prompt. (The adapter runs vendors on its own
    /// multi-threaded runtime, where this is allowed.)
    fn blocking<T>(&self, op: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        tokio::task::block_in_place(|| op(self))
    }

    fn ctx(&self, what: &str) -> Result<Pkcs11> {
        module(&self.settings.module).map_err(|m| {
            let kind = if self.settings.module.exists() {
                KmsErrorKind::InvalidRequest
            } else {
                KmsErrorKind::NotFound
            };
            self.err(kind, what, m)
        })
    }

    /// The slot holding the configured token.
    fn slot(&self, ctx: &Pkcs11, what: &str) -> Result<(Slot, String)> {
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| self.ck_err(what, e))?;
        let mut found = Vec::new();
        let mut labels = Vec::new();
        for slot in slots {
            let info = match ctx.get_token_info(slot) {
                Ok(i) => i,
                // A token that went away between the two calls.
                Err(CkError::Pkcs11(RvError::TokenNotPresent, _)) => continue,
                Err(e) => return Err(self.ck_err(what, e)),
            };
            let label = info.label().trim_end().to_string();
            let slot_ok = self.settings.slot_id.is_none_or(|id| slot.id() == id);
            let label_ok = self
                .settings
                .token_label
                .as_ref()
                .is_none_or(|l| *l == label);
            if slot_ok && label_ok {
                found.push((slot, label.clone()));
            }
            if info.token_initialized() {
                labels.push(format!("{label:?} (slot {})", slot.id()));
            }
        }
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(self.err(
                KmsErrorKind::NotFound,
                what,
                format!(
                    "no token {} in this module (tokens: {}): initialise it, or check \
                     `token_label` / `slot_id`",
                    match (&self.settings.token_label, self.settings.slot_id) {
                        (Some(l), Some(s)) => format!("labelled {l:?} in slot {s}"),
                        (Some(l), None) => format!("labelled {l:?}"),
                        (None, _) => format!("in slot {}", self.settings.token_name()),
                    },
                    if labels.is_empty() {
                        "none".to_string()
                    } else {
                        labels.join(", ")
                    }
                ),
            )),
            n => Err(self.err(
                KmsErrorKind::InvalidRequest,
                what,
                format!("{n} tokens carry this label: name one with `slot_id`"),
            )),
        }
    }

    /// The user PIN, read on first use.
    fn pin(&self, what: &str, token: &str) -> Result<SecretString> {
        let mut cached = self.pin.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cached.as_ref() {
            return Ok(p.clone());
        }
        let denied = |m: String| self.err(KmsErrorKind::AccessDenied, what, m);
        let pin = match &self.settings.pin {
            PinSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => SecretString::from(v),
                _ => {
                    return Err(denied(format!(
                        "no PIN: environment variable {var} is not set (set it, or choose \
                         another pin_source: env:VAR, file:PATH or prompt)"
                    )))
                }
            },
            PinSource::File(path) => read_pin_file(path).map_err(denied)?,
            PinSource::Prompt => {
                let prompt = format!("User PIN for PKCS#11 token {token}: ");
                match rpassword::prompt_password(prompt) {
                    Ok(v) if !v.is_empty() => SecretString::from(v),
                    Ok(_) => return Err(denied("empty PIN".into())),
                    Err(e) => {
                        return Err(denied(format!(
                            "cannot prompt for the PIN ({e}): without a terminal use \
                             pin_source = env:VAR or file:PATH"
                        )))
                    }
                }
            }
        };
        *cached = Some(pin.clone());
        Ok(pin)
    }

    /// One session, logged in as the user (unless the application already
    /// is: login state is per application and token, shared by its sessions).
    fn session(&self, what: &str) -> Result<(Session, String)> {
        let ctx = self.ctx(what)?;
        let (slot, label) = self.slot(&ctx, what)?;
        let session = ctx
            .open_ro_session(slot)
            .map_err(|e| self.ck_err(what, e))?;
        let state = session
            .get_session_info()
            .map_err(|e| self.ck_err(what, e))?
            .session_state();
        if matches!(state, SessionState::RoUser | SessionState::RwUser) {
            return Ok((session, label));
        }
        let pin = self.pin(what, &label)?;
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok((session, label)),
            Err(e) => {
                if matches!(
                    e,
                    CkError::Pkcs11(
                        RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
                        _
                    )
                ) {
                    // Read it again next time (a corrected file, a new prompt).
                    *self.pin.lock().unwrap_or_else(|p| p.into_inner()) = None;
                }
                Err(self.ck_err(&format!("{what}: login"), e))
            }
        }
    }

    /// The configured key, checked to be an AES key allowed to do what
    /// `mechanism` needs.
    fn key(&self, session: &Session, what: &str, mechanism: WrapMechanism) -> Result<ObjectHandle> {
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            self.settings.key.attribute(),
        ];
        let found = session
            .find_objects(&template)
            .map_err(|e| self.ck_err(what, e))?;
        let handle = match found.as_slice() {
            [h] => *h,
            [] => {
                return Err(self.err(
                    KmsErrorKind::NotFound,
                    what,
                    format!(
                        "no secret key {} on the token: create it (an AES-256 key, see the \
                         README), or check key_id",
                        match &self.settings.key {
                            KeyRef::Label(l) => format!("labelled {l:?}"),
                            KeyRef::Id(id) => format!("with CKA_ID {}", hex::encode(id)),
                        }
                    ),
                ))
            }
            many => {
                return Err(self.err(
                    KmsErrorKind::InvalidRequest,
                    what,
                    format!(
                        "{} secret keys match: name one by its CKA_ID (key_id = id:HEX)",
                        many.len()
                    ),
                ))
            }
        };
        let needs = mechanism.needs();
        let attrs = session
            .get_attributes(handle, &[AttributeType::KeyType, needs[0].0, needs[1].0])
            .map_err(|e| self.ck_err(what, e))?;
        for a in &attrs {
            let (flag, name) = match a {
                Attribute::KeyType(t) if *t != KeyType::AES => {
                    return Err(self.err(
                        KmsErrorKind::InvalidRequest,
                        what,
                        format!("the key is a {t} key, not AES: use a CKK_AES key of 256 bits"),
                    ))
                }
                Attribute::Encrypt(b) => (*b, "CKA_ENCRYPT"),
                Attribute::Decrypt(b) => (*b, "CKA_DECRYPT"),
                Attribute::Wrap(b) => (*b, "CKA_WRAP"),
                Attribute::Unwrap(b) => (*b, "CKA_UNWRAP"),
                _ => continue,
            };
            if !flag {
                return Err(self.err(
                    KmsErrorKind::AccessDenied,
                    what,
                    format!(
                        "the key has {name} = false; mechanism {} needs {} and {} = true: \
                         create the key with both (most tokens cannot change them later){}",
                        mechanism.name(),
                        needs[0].1,
                        needs[1].1,
                        match mechanism {
                            WrapMechanism::AesGcm =>
                                ", or use mechanism = aes-key-wrap with \
                                                     a CKA_WRAP/CKA_UNWRAP key",
                            WrapMechanism::AesKeyWrap => "",
                        }
                    ),
                ));
            }
        }
        Ok(handle)
    }

    fn key_ref(&self) -> Result<KmsKeyRef> {
        let what = "checking key";
        let (session, label) = self.session(what)?;
        self.key(&session, what, self.settings.mechanism)?;
        let mut options = BTreeMap::new();
        options.insert("token_label".to_string(), label);
        options.insert(
            "mechanism".to_string(),
            self.settings.mechanism.name().to_string(),
        );
        Ok(KmsKeyRef {
            provider: PROVIDER.to_string(),
            key_id: self.settings.key.to_string(),
            key_version: None,
            options,
        })
    }

    fn token_label(&self) -> Result<String> {
        match &self.settings.token_label {
            Some(l) => Ok(l.clone()),
            None => {
                let what = "finding token";
                let ctx = self.ctx(what)?;
                Ok(self.slot(&ctx, what)?.1)
            }
        }
    }

    fn seal(&self, mechanism: WrapMechanism, key: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let what = "wrap";
        let (session, _) = self.session(what)?;
        let kek = self.key(&session, what, mechanism)?;
        let mut blob = vec![BLOB_FORMAT, mechanism.tag()];
        match mechanism {
            WrapMechanism::AesGcm => {
                // An HSM that insists on its own IV (CloudHSM) writes it
                // into this buffer; whatever it holds afterwards is stored.
                let mut iv = [0u8; GCM_IV_LEN];
                rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut iv).map_err(
                    |e| Error::Unsupported(format!("the OS random generator failed: {e}")),
                )?;
                let sealed =
                    gcm_seal(&session, kek, &mut iv, aad, key).map_err(|e| self.ck_err(what, e))?;
                if sealed.len() != KEY_LEN + 16 {
                    return Err(self.err(
                        KmsErrorKind::InvalidRequest,
                        what,
                        format!(
                            "the token returned {} bytes for AES-GCM, not {}",
                            sealed.len(),
                            KEY_LEN + 16
                        ),
                    ));
                }
                blob.extend_from_slice(&iv);
                blob.extend_from_slice(&sealed);
            }
            WrapMechanism::AesKeyWrap => {
                let mut value = Zeroizing::new(Vec::with_capacity(2 * KEY_LEN));
                value.extend_from_slice(key);
                value.extend_from_slice(&binding(aad));
                let wrapped = kw_wrap(&session, kek, &value).map_err(|e| self.ck_err(what, e))?;
                blob.extend_from_slice(&wrapped);
            }
        }
        Ok(blob)
    }

    fn open(&self, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        let what = "unwrap";
        let not_ours = |m: &str| self.err(KmsErrorKind::WrongKey, what, m);
        let (mechanism, body) = match blob {
            [BLOB_FORMAT, m, body @ ..] => match WrapMechanism::from_tag(*m) {
                Some(m) => (m, body),
                None => return Err(not_ours("the wrapped key names an unknown mechanism")),
            },
            _ => return Err(not_ours("the wrapped key is not a PKCS#11 blob")),
        };
        match mechanism {
            WrapMechanism::AesGcm if body.len() != GCM_IV_LEN + KEY_LEN + 16 => {
                return Err(not_ours("the wrapped key has the wrong length for AES-GCM"))
            }
            // RFC 5649 of 64 bytes is 72 bytes.
            WrapMechanism::AesKeyWrap if body.len() != 2 * KEY_LEN + 8 => {
                return Err(not_ours(
                    "the wrapped key has the wrong length for key wrap",
                ))
            }
            _ => {}
        }
        let (session, _) = self.session(what)?;
        let kek = self.key(&session, what, mechanism)?;
        let opened = match mechanism {
            WrapMechanism::AesGcm => {
                let mut iv = [0u8; GCM_IV_LEN];
                iv.copy_from_slice(&body[..GCM_IV_LEN]);
                gcm_open(&session, kek, &mut iv, aad, &body[GCM_IV_LEN..])
            }
            WrapMechanism::AesKeyWrap => kw_unwrap(&session, kek, body),
        };
        let value = match opened {
            Ok(v) => v,
            // SoftHSM (and some HSMs) report a failed integrity check as a
            // generic failure. Tell the two apart with a round trip of a
            // throwaway value under the same key: when that works, the
            // token and the key are fine and the blob did not authenticate.
            Err(e @ CkError::Pkcs11(RvError::GeneralError | RvError::FunctionFailed, _)) => {
                return Err(match round_trip(&session, kek, mechanism) {
                    Ok(()) => self.err(
                        KmsErrorKind::WrongKey,
                        what,
                        format!(
                            "the wrapped key does not open under this key (the token says \
                             {e}, yet a test {} with the key works): another key wrapped it, \
                             or it was altered",
                            mechanism.name()
                        ),
                    ),
                    Err(_) => self.ck_err(what, e),
                });
            }
            Err(e) => return Err(self.ck_err(what, e)),
        };
        match mechanism {
            WrapMechanism::AesGcm => SecretKey::from_slice(&value)
                .ok_or_else(|| not_ours("the token returned something that is not a key")),
            WrapMechanism::AesKeyWrap => {
                if value.len() != 2 * KEY_LEN {
                    return Err(not_ours("the unwrapped value has the wrong length"));
                }
                if !bool::from(value[KEY_LEN..].ct_eq(&binding(aad))) {
                    return Err(not_ours(
                        "the wrapped key belongs to another database or slot (binding mismatch)",
                    ));
                }
                SecretKey::from_slice(&value[..KEY_LEN])
                    .ok_or_else(|| not_ours("the unwrapped value is not a key"))
            }
        }
    }
}

type CkResult<T> = std::result::Result<T, CkError>;

fn gcm_seal(
    session: &Session,
    kek: ObjectHandle,
    iv: &mut [u8; GCM_IV_LEN],
    aad: &[u8],
    plain: &[u8],
) -> CkResult<Vec<u8>> {
    let params = GcmParams::new(iv, aad, GCM_TAG_BITS.into())?;
    session.encrypt(&CkMechanism::AesGcm(params), kek, plain)
}

fn gcm_open(
    session: &Session,
    kek: ObjectHandle,
    iv: &mut [u8; GCM_IV_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> CkResult<Zeroizing<Vec<u8>>> {
    let params = GcmParams::new(iv, aad, GCM_TAG_BITS.into())?;
    session
        .decrypt(&CkMechanism::AesGcm(params), kek, sealed)
        .map(Zeroizing::new)
}

/// `C_WrapKey` of a session object holding `value`, which is destroyed again.
fn kw_wrap(session: &Session, kek: ObjectHandle, value: &[u8]) -> CkResult<Vec<u8>> {
    let mut template = vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::GENERIC_SECRET),
        Attribute::Token(false),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(true),
        Attribute::Value(value.to_vec()),
    ];
    let created = session.create_object(&template);
    // The template's copy of the key: wipe it whatever happened.
    for a in &mut template {
        if let Attribute::Value(v) = a {
            zeroize::Zeroize::zeroize(v);
        }
    }
    let obj = TempObject {
        session,
        handle: created?,
    };
    session.wrap_key(&CkMechanism::AesKeyWrapPad, kek, obj.handle)
}

/// `C_UnwrapKey` into a readable session object; its value, and the object
/// destroyed again.
fn kw_unwrap(session: &Session, kek: ObjectHandle, wrapped: &[u8]) -> CkResult<Zeroizing<Vec<u8>>> {
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::GENERIC_SECRET),
        Attribute::Token(false),
        Attribute::Private(true),
        Attribute::Sensitive(false),
        Attribute::Extractable(true),
    ];
    let obj = TempObject {
        session,
        handle: session.unwrap_key(&CkMechanism::AesKeyWrapPad, kek, wrapped, &template)?,
    };
    let attrs = session.get_attributes(obj.handle, &[AttributeType::Value])?;
    let mut value = Zeroizing::new(Vec::new());
    for a in attrs {
        if let Attribute::Value(mut v) = a {
            value.extend_from_slice(&v);
            zeroize::Zeroize::zeroize(&mut v);
        }
    }
    Ok(value)
}

/// Whether the token and `kek` work at all: seals and opens a throwaway
/// value with `mechanism`.
fn round_trip(session: &Session, kek: ObjectHandle, mechanism: WrapMechanism) -> CkResult<()> {
    let probe = [0x5au8; 2 * KEY_LEN];
    let opened = match mechanism {
        WrapMechanism::AesGcm => {
            let mut iv = [0u8; GCM_IV_LEN];
            session.generate_random_slice(&mut iv)?;
            let sealed = gcm_seal(session, kek, &mut iv, b"probe", &probe)?;
            gcm_open(session, kek, &mut iv, b"probe", &sealed)?
        }
        WrapMechanism::AesKeyWrap => {
            let wrapped = kw_wrap(session, kek, &probe)?;
            kw_unwrap(session, kek, &wrapped)?
        }
    };
    if opened.as_slice() == probe {
        Ok(())
    } else {
        Err(CkError::InvalidValue)
    }
}

/// Reads a PIN file: one line, not readable by other users.
fn read_pin_file(path: &Path) -> std::result::Result<SecretString, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read PIN file {}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o007 != 0 {
            return Err(format!(
                "PIN file {0} is readable by other users (mode {mode:03o}); run `chmod 400 {0}`",
                path.display()
            ));
        }
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read PIN file {}: {e}", path.display()))?,
    );
    let pin = text.trim_end_matches(['\n', '\r']);
    if pin.is_empty() {
        return Err(format!("PIN file {} is empty", path.display()));
    }
    Ok(SecretString::from(pin.to_string()))
}

/// What a key-wrap blob carries beside the key: a hash of the slot binding.
fn binding(aad: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(KW_BINDING_LABEL);
    h.update(aad);
    h.finalize().into()
}

#[async_trait]
impl KmsVendor for Pkcs11Token {
    const PROVIDER: &'static str = PROVIDER;
    const OPTIONS: &'static [&'static str] = &OPTIONS;
    const FEATURE: &'static str = "pkcs11";
    const IDENTITY_OPTIONS: &'static [&'static str] = &IDENTITY_OPTIONS;
    // A login may prompt for the PIN, and a blocking module call cannot be
    // abandoned half-way: no deadline, and no timeout options.
    const TIMED: bool = false;
    type Given = SecretString;
    type Failure = CkError;

    fn from_spec(spec: &KmsSpec, _: &KmsCommon, pin: Option<SecretString>) -> Result<Self> {
        Ok(Pkcs11Token {
            settings: Settings::parse(spec)?,
            pin: Mutex::new(pin),
        })
    }

    fn locator(&self) -> String {
        self.settings.locator()
    }

    fn subject(&self) -> String {
        format!(
            "with key {} (module {})",
            self.settings.locator(),
            self.settings.module.display()
        )
    }

    fn classify(&self, _op: &str, e: &CkError) -> (KmsErrorKind, String) {
        let fix = match e {
            CkError::Pkcs11(rv, _) => fix_for(*rv, &self.settings),
            _ => String::new(),
        };
        let detail = if fix.is_empty() {
            e.to_string()
        } else {
            format!("{e}: {fix}")
        };
        (classify(e), detail)
    }

    async fn new_key_ref(&self) -> Result<KmsKeyRef> {
        self.blocking(Self::key_ref)
    }

    async fn owns(&self, k: &KmsKeyRef) -> Result<bool> {
        if KeyRef::parse(&k.key_id).as_ref() != Some(&self.settings.key) {
            return Ok(false);
        }
        let Some(recorded) = k.options.get("token_label") else {
            return Ok(true);
        };
        if let Some(mine) = &self.settings.token_label {
            return Ok(mine == recorded);
        }
        // Configured by slot id only: ask the module which token that is.
        let label = self.blocking(Self::token_label)?;
        Ok(label == *recorded)
    }

    async fn wrap(&self, slot: Option<&KmsKeyRef>, key: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        // The slot's recorded mechanism, else the configured one.
        let mechanism = slot
            .and_then(|k| k.options.get("mechanism"))
            .and_then(|m| WrapMechanism::parse(m))
            .unwrap_or(self.settings.mechanism);
        self.blocking(|t| t.seal(mechanism, key, aad))
    }

    async fn unwrap(&self, _: Option<&KmsKeyRef>, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        self.blocking(|t| t.open(blob, aad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heliosdb_keys::KeySource;
    use secrecy::ExposeSecret;

    fn spec(key: &str, opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec::from_pairs(PROVIDER, key, opts)
    }

    const BASE: [(&str, &str); 2] = [
        ("module", "/usr/lib/softhsm/libsofthsm2.so"),
        ("token_label", "heliosdb"),
    ];

    #[test]
    fn settings_parse_and_name_what_is_wrong() {
        let s = Settings::parse(&spec("root-kek", &BASE)).unwrap();
        assert_eq!(s.key, KeyRef::Label("root-kek".into()));
        assert_eq!(s.mechanism, WrapMechanism::AesGcm);
        assert_eq!(s.pin, PinSource::Env(DEFAULT_PIN_ENV.into()));
        assert_eq!(s.locator(), "heliosdb/root-kek");

        let s = Settings::parse(&spec(
            "id:0A0b",
            &[
                BASE[0],
                ("slot_id", "7"),
                ("pin_source", "file:/run/pin"),
                ("mechanism", "aes-key-wrap"),
            ],
        ))
        .unwrap();
        assert_eq!(s.key, KeyRef::Id(vec![0x0a, 0x0b]));
        assert_eq!(s.slot_id, Some(7));
        assert_eq!(s.pin, PinSource::File("/run/pin".into()));
        assert_eq!(s.mechanism, WrapMechanism::AesKeyWrap);
        assert_eq!(s.locator(), "slot 7/id:0a0b");

        let err = |key: &str, opts: &[(&str, &str)]| {
            Settings::parse(&spec(key, opts)).unwrap_err().to_string()
        };
        assert!(err("", &BASE).contains("CKA_LABEL"));
        assert!(err("id:zz", &BASE).contains("CKA_LABEL"));
        let e = Pkcs11Source::new(&spec("k", &[BASE[0], BASE[1], ("pin", "1234")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown option 'pin'"), "{e}");
        assert!(!e.contains("1234"), "{e}");
        // No deadline, so no timeout options either.
        assert!(Pkcs11Source::new(&spec("k", &[BASE[0], BASE[1], ("timeout_secs", "5")])).is_err());
        assert!(err("k", &[BASE[1]]).contains("module"));
        assert!(err("k", &[("module", "libsofthsm2.so"), BASE[1]]).contains("absolute"));
        assert!(err("k", &[BASE[0]]).contains("token_label"));
        assert!(err("k", &[BASE[0], ("slot_id", "x")]).contains("slot_id"));
        assert!(err("k", &[BASE[0], BASE[1], ("pin_source", "1234")]).contains("env:VAR"));
        assert!(err("k", &[BASE[0], BASE[1], ("mechanism", "aes-cbc")]).contains("aes-gcm"));
        assert_eq!(
            KeyRef::parse("label:id:x"),
            Some(KeyRef::Label("id:x".into()))
        );
        assert_eq!(PinSource::parse("prompt"), Some(PinSource::Prompt));
        assert_eq!(PinSource::parse("env:"), None);
    }

    #[test]
    fn debug_output_has_no_pin() {
        let src =
            Pkcs11Source::with_pin(&spec("k", &BASE), SecretString::from("s3cret-pin")).unwrap();
        let d = format!("{src:?}");
        assert!(!d.contains("s3cret-pin"), "{d}");
        assert!(d.contains("[REDACTED]"), "{d}");
        assert!(!src.describe().to_string().contains("s3cret-pin"));
    }

    #[test]
    fn return_values_are_classified() {
        use KmsErrorKind::*;
        let c = |rv| classify(&CkError::Pkcs11(rv, cryptoki::context::Function::Decrypt));
        assert_eq!(c(RvError::PinIncorrect), AccessDenied);
        assert_eq!(c(RvError::PinLocked), AccessDenied);
        assert_eq!(c(RvError::KeyFunctionNotPermitted), AccessDenied);
        assert_eq!(c(RvError::EncryptedDataInvalid), WrongKey);
        assert_eq!(c(RvError::WrappedKeyInvalid), WrongKey);
        assert_eq!(
            c(RvError::UnknownErrorCode(CKR_AEAD_DECRYPT_FAILED)),
            WrongKey
        );
        assert_eq!(c(RvError::KeyHandleInvalid), NotFound);
        assert_eq!(c(RvError::TokenNotPresent), Unavailable);
        assert_eq!(c(RvError::DeviceError), Unavailable);
        assert_eq!(c(RvError::MechanismInvalid), InvalidRequest);
        assert_eq!(c(RvError::TemplateInconsistent), InvalidRequest);
        let s = Settings::parse(&spec("k", &BASE)).unwrap();
        assert!(fix_for(RvError::PinIncorrect, &s).contains("HELIOSDB_PKCS11_PIN"));
        assert!(fix_for(RvError::KeyFunctionNotPermitted, &s).contains("CKA_DECRYPT"));
    }

    #[test]
    fn blobs_that_are_not_ours_are_refused_before_the_token() {
        // The module does not exist: a refusal that reaches the token would
        // say so, so these prove the shape checks run first.
        let src = Pkcs11Token {
            settings: Settings::parse(&spec("k", &[("module", "/nonexistent/p11.so"), BASE[1]]))
                .unwrap(),
            pin: Mutex::new(None),
        };
        for blob in [
            &[][..],
            &[1],
            &[2, 1, 0],
            &[1, 9, 0, 0],
            &[1, 1, 0, 0],
            &[1, 2, 0, 0],
        ] {
            let err = src.open(blob, b"aad").unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Kms {
                        kind: KmsErrorKind::WrongKey,
                        ..
                    }
                ),
                "{err}"
            );
        }
        // A well-formed GCM blob (format, mechanism, IV, key, tag) gets as far
        // as loading the module.
        let mut blob = vec![1, 1];
        blob.resize(2 + GCM_IV_LEN + KEY_LEN + 16, 0);
        let err = src.open(&blob, b"aad");
        assert!(err
            .unwrap_err()
            .to_string()
            .contains("cannot find the PKCS#11 module"));
    }

    #[test]
    fn pin_files_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pin");
        std::fs::write(&p, "1234\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_pin_file(&p).unwrap_err();
        assert!(e.contains("chmod 400"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_pin_file(&p).unwrap().expose_secret(), "1234");
    }
}
