//! Test fixture: a real SoftHSM2 (Debian `softhsm2`) with a token directory
//! of this test process's own, tokens made with `softhsm2-util
//! --init-token`, AES keys made with cryptoki.
//!
//! SoftHSM reads `SOFTHSM2_CONF` and its token directory once, when the
//! module is initialised, and a module is initialised once per process: a
//! token made afterwards by another process stays invisible. So the
//! configuration is one per process, set and filled with every token the
//! tests use ([`TOKENS`]) before the first PKCS#11 call; each test takes
//! tokens of its own, under labels no other test uses. (Under nextest a
//! process runs one test; under `cargo test` they share.)

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use heliosdb_keys::KmsSpec;
use secrecy::SecretString;

/// Where Debian's `softhsm2` package puts the module.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The user PIN of every test token (checked never to be printed).
pub const USER_PIN: &str = "heliosdb-test-pin-7f3a";
pub const SO_PIN: &str = "heliosdb-test-so-pin-91c2";
/// Environment variables the fixture sets before any PKCS#11 call.
pub const PIN_ENV: &str = "HELIOSDB_TEST_PKCS11_PIN";
pub const WRONG_PIN_ENV: &str = "HELIOSDB_TEST_PKCS11_WRONG_PIN";
pub const WRONG_PIN: &str = "not-the-pin-0000";

/// Every token the tests use, one or more per test.
pub const TOKENS: &[&str] = &[
    "conf-gcm",
    "conf-kw",
    "tamper",
    "pin",
    "missing",
    "lifecycle",
    "concurrent",
    "engine",
    "engine-kw",
    "cli",
];

pub struct SoftHsm {
    dir: PathBuf,
}

/// The process's SoftHSM: configuration written, environment set.
///
/// # Panics
/// With instructions when SoftHSM2 is not installed.
pub fn softhsm() -> &'static SoftHsm {
    static HSM: OnceLock<SoftHsm> = OnceLock::new();
    HSM.get_or_init(|| {
        assert!(
            Path::new(MODULE).exists()
                && Command::new("softhsm2-util")
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success()),
            "SoftHSM2 is not installed ({MODULE}, softhsm2-util): run `./dev install-test-deps` \
             or `apt-get install softhsm2`"
        );
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("softhsm2");
        std::fs::create_dir_all(&root).unwrap();
        // Token directories of finished test processes.
        for e in std::fs::read_dir(&root).unwrap().flatten() {
            let pid = e.file_name().to_string_lossy().into_owned();
            if !Path::new("/proc").join(&pid).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let dir = root.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tokens")).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n\
                 slots.removable = false\n",
                dir.join("tokens").display()
            ),
        )
        .unwrap();
        // Before any thread of this process calls into PKCS#11 (SoftHSM
        // reads the variable in C_Initialize).
        std::env::set_var("SOFTHSM2_CONF", &conf);
        std::env::set_var(PIN_ENV, USER_PIN);
        std::env::set_var(WRONG_PIN_ENV, WRONG_PIN);
        std::env::remove_var("HELIOSDB_PKCS11_PIN");
        std::env::remove_var("HELIOSDB_PKCS11_MODULE");
        let hsm = SoftHsm { dir };
        for label in TOKENS {
            hsm.init_token(label);
        }
        hsm
    })
}

/// Attributes of a test key.
#[derive(Clone, Copy, Debug)]
pub struct KeyFlags {
    pub encrypt: bool,
    pub decrypt: bool,
    pub wrap: bool,
    pub unwrap: bool,
}

impl KeyFlags {
    pub const ALL: KeyFlags = KeyFlags {
        encrypt: true,
        decrypt: true,
        wrap: true,
        unwrap: true,
    };
}

impl SoftHsm {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The token labelled `label`, made when the fixture started.
    pub fn token(&self, label: &'static str) -> &'static str {
        assert!(TOKENS.contains(&label), "add {label:?} to common::TOKENS");
        label
    }

    /// A new token labelled `label` in the free slot (`softhsm2-util`).
    fn init_token(&self, label: &str) {
        let out = Command::new("softhsm2-util")
            .args([
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                USER_PIN,
                "--so-pin",
                SO_PIN,
            ])
            .env("SOFTHSM2_CONF", self.dir.join("softhsm2.conf"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "softhsm2-util --init-token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ctx(&self) -> Pkcs11 {
        static CTX: OnceLock<Pkcs11> = OnceLock::new();
        CTX.get_or_init(|| {
            let ctx = Pkcs11::new(MODULE).unwrap();
            match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
                Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
                Err(e) => panic!("C_Initialize: {e}"),
            }
            ctx
        })
        .clone()
    }

    fn slot(&self, token: &str) -> Slot {
        let ctx = self.ctx();
        ctx.get_slots_with_token()
            .unwrap()
            .into_iter()
            .find(|s| ctx.get_token_info(*s).unwrap().label().trim_end() == token)
            .unwrap_or_else(|| panic!("no token {token}"))
    }

    /// The slot id SoftHSM gave the token.
    pub fn slot_id(&self, token: &str) -> u64 {
        self.slot(token).id()
    }

    /// A read-write session on the token, logged in as the user.
    pub fn session(&self, token: &str) -> Session {
        let session = self.ctx().open_rw_session(self.slot(token)).unwrap();
        match session.login(UserType::User, Some(&SecretString::from(USER_PIN))) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => panic!("login: {e}"),
        }
        session
    }

    /// A persistent, non-extractable AES-256 key labelled `label`.
    pub fn create_key(&self, token: &str, label: &str, flags: KeyFlags) {
        let session = self.session(token);
        session
            .generate_key(
                &Mechanism::AesKeyGen,
                &[
                    Attribute::Class(ObjectClass::SECRET_KEY),
                    Attribute::KeyType(KeyType::AES),
                    Attribute::ValueLen(32.into()),
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(false),
                    Attribute::Label(label.as_bytes().to_vec()),
                    Attribute::Id(label.as_bytes().to_vec()),
                    Attribute::Encrypt(flags.encrypt),
                    Attribute::Decrypt(flags.decrypt),
                    Attribute::Wrap(flags.wrap),
                    Attribute::Unwrap(flags.unwrap),
                ],
            )
            .unwrap();
    }

    /// A persistent generic secret (not AES) labelled `label`.
    pub fn create_generic_secret(&self, token: &str, label: &str) {
        let session = self.session(token);
        session
            .generate_key(
                &Mechanism::GenericSecretKeyGen,
                &[
                    Attribute::Class(ObjectClass::SECRET_KEY),
                    Attribute::KeyType(KeyType::GENERIC_SECRET),
                    Attribute::ValueLen(32.into()),
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Label(label.as_bytes().to_vec()),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                ],
            )
            .unwrap();
    }

    /// Destroys the key labelled `label`.
    pub fn delete_key(&self, token: &str, label: &str) {
        let session = self.session(token);
        let found = session
            .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
            .unwrap();
        assert_eq!(found.len(), 1, "key {label}");
        session.destroy_object(found[0]).unwrap();
    }

    /// The options for a token, PIN from the fixture's environment.
    pub fn options(&self, token: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v = vec![
            ("module".to_string(), MODULE.to_string()),
            ("token_label".to_string(), token.to_string()),
            ("pin_source".to_string(), format!("env:{PIN_ENV}")),
        ];
        for (k, val) in extra {
            v.retain(|(n, _)| n != k);
            v.push((k.to_string(), val.to_string()));
        }
        v
    }

    pub fn spec(&self, token: &str, key: &str, extra: &[(&str, &str)]) -> KmsSpec {
        KmsSpec::new(
            "pkcs11",
            key,
            self.options(token, extra).into_iter().collect(),
        )
    }
}
