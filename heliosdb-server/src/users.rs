//! Server users, stored through the encrypted engine's key-value API (so
//! sealed like every record) as SCRAM-SHA-256 verifiers: salt, iteration
//! count, `StoredKey` and `ServerKey` (RFC 5802), what PostgreSQL stores.
//! The password, and the `SaltedPassword` derived from it, are never
//! stored, logged or shown.
//!
//! A verifier does not let its holder log in: the SCRAM proof needs
//! `ClientKey`, of which `StoredKey` is only the hash. (It does allow an
//! offline guess at the password and impersonating this server to a
//! client, which is why it stays inside the sealed store and leaves it only
//! on request, `export --include-users`.) Records written before this
//! change held `SaltedPassword`, from which a login could be made; they are
//! converted in place by [`migrate`], which the server runs before it
//! listens and the `user` commands run when they open a database.
//!
//! The server also keeps a random secret here, from which unknown users get
//! a salt that is fake but stable (see `mock_salt`).

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use heliosdb_core::StorageEngine;
use hmac::{Hmac, Mac};
use pgwire::api::auth::sasl::scram::gen_salted_password;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Result, ServerError};

/// SCRAM iteration count of new verifiers (PostgreSQL's default), and of
/// the fake challenge unknown users get.
pub const SCRAM_ITERATIONS: u32 = 4096;

/// Iteration counts an imported verifier may carry: at least RFC 7677's
/// 4096; the top bounds what a client is asked to compute.
const ITERATIONS_ACCEPTED: std::ops::RangeInclusive<u32> = 4096..=10_000_000;

/// Records live under `heliosdb_core::SERVER_KV_PREFIX`, which `export`
/// leaves out (a test checks these keys are inside it).
const PREFIX: &str = "__heliosdb_server/user/";
const MOCK_SECRET: &str = "__heliosdb_server/mock-auth-secret";

/// The mechanism name PostgreSQL's verifier text starts with.
const MECHANISM: &str = "SCRAM-SHA-256";

type HmacSha256 = Hmac<Sha256>;

pub(crate) fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(msg);
    m.finalize().into_bytes().into()
}

pub(crate) fn sha256(msg: &[u8]) -> [u8; 32] {
    Sha256::digest(msg).into()
}

/// A user's SCRAM-SHA-256 verifier. `Debug` shows no key.
#[derive(Clone)]
pub struct ScramVerifier {
    pub(crate) iterations: u32,
    pub(crate) salt: Vec<u8>,
    pub(crate) stored_key: Zeroizing<[u8; 32]>,
    pub(crate) server_key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramVerifier")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl ScramVerifier {
    /// The verifier of `password` under a fresh random 16-byte salt.
    ///
    /// # Errors
    /// An empty password.
    pub fn from_password(password: &str) -> Result<ScramVerifier> {
        if password.is_empty() {
            return Err(ServerError::Config("the password must not be empty".into()));
        }
        let mut salt = vec![0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        // SASLprep, then PBKDF2-HMAC-SHA-256, as the client computes it.
        let salted = Zeroizing::new(gen_salted_password(
            password,
            &salt,
            SCRAM_ITERATIONS as usize,
        ));
        Ok(Self::from_salted_password(&salted, salt, SCRAM_ITERATIONS))
    }

    /// `StoredKey = H(HMAC(SaltedPassword, "Client Key"))`,
    /// `ServerKey = HMAC(SaltedPassword, "Server Key")` (RFC 5802 §3).
    fn from_salted_password(salted: &[u8], salt: Vec<u8>, iterations: u32) -> ScramVerifier {
        let client_key = Zeroizing::new(hmac(salted, b"Client Key"));
        ScramVerifier {
            iterations,
            salt,
            stored_key: Zeroizing::new(sha256(client_key.as_ref())),
            server_key: Zeroizing::new(hmac(salted, b"Server Key")),
        }
    }

    /// Parses PostgreSQL's text form,
    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64).
    ///
    /// # Errors
    /// Any other shape; an iteration count outside 4096..=10,000,000. The
    /// message never quotes the text.
    pub fn parse(text: &str) -> Result<ScramVerifier> {
        let bad = |why: &str| {
            ServerError::Config(format!(
                "not a SCRAM-SHA-256 verifier ({why}); expected \
                 SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"
            ))
        };
        let mut parts = text.split('$');
        let (Some(MECHANISM), Some(params), Some(keys), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("wrong shape"));
        };
        let (iterations, salt) = params.split_once(':').ok_or_else(|| bad("wrong shape"))?;
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| bad("iteration count is not a number"))?;
        if !ITERATIONS_ACCEPTED.contains(&iterations) {
            return Err(bad("iteration count outside 4096..=10000000"));
        }
        let salt = B64.decode(salt).map_err(|_| bad("salt is not base64"))?;
        if salt.is_empty() {
            return Err(bad("empty salt"));
        }
        let (stored, server) = keys.split_once(':').ok_or_else(|| bad("wrong shape"))?;
        let key = |b64: &str| -> Result<Zeroizing<[u8; 32]>> {
            let bytes = Zeroizing::new(B64.decode(b64).map_err(|_| bad("key is not base64"))?);
            let arr: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| bad("key is not 32 bytes"))?;
            Ok(Zeroizing::new(arr))
        };
        Ok(ScramVerifier {
            iterations,
            salt,
            stored_key: key(stored)?,
            server_key: key(server)?,
        })
    }

    /// PostgreSQL's text form (what `CREATE ROLE … PASSWORD '…'` accepts).
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{MECHANISM}${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key.as_ref()),
            B64.encode(self.server_key.as_ref())
        ))
    }

    fn record(&self) -> Zeroizing<Vec<u8>> {
        let text = self.to_text();
        Zeroizing::new(
            json!({ "v": 2, "verifier": text.as_str() })
                .to_string()
                .into_bytes(),
        )
    }
}

fn key(name: &str) -> Vec<u8> {
    format!("{PREFIX}{name}").into_bytes()
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 63
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return Err(ServerError::Config(format!(
            "invalid user name '{name}': 1 to 63 characters among letters, digits, '_', '-', '.'"
        )));
    }
    Ok(())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A stored record, either format.
enum Record {
    /// Format 2: the verifier.
    Verifier(ScramVerifier),
    /// Format 1 (before verifiers): salt and `SaltedPassword`, converted
    /// on read and rewritten by [`migrate`].
    Salted(ScramVerifier),
}

fn decode(name: &str, bytes: &[u8]) -> Result<Record> {
    let corrupt =
        || ServerError::Config(format!("stored credentials of user '{name}' are corrupt"));
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| corrupt())?;
    match v["v"].as_u64() {
        Some(2) => {
            let text = Zeroizing::new(v["verifier"].as_str().ok_or_else(corrupt)?.to_string());
            Ok(Record::Verifier(
                ScramVerifier::parse(&text).map_err(|_| corrupt())?,
            ))
        }
        Some(1) => {
            let iterations = v["iterations"]
                .as_u64()
                .and_then(|i| u32::try_from(i).ok())
                .filter(|i| ITERATIONS_ACCEPTED.contains(i))
                .ok_or_else(corrupt)?;
            let salt = v["salt"].as_str().and_then(unhex).ok_or_else(corrupt)?;
            let salted = Zeroizing::new(
                v["salted_password"]
                    .as_str()
                    .and_then(unhex)
                    .ok_or_else(corrupt)?,
            );
            Ok(Record::Salted(ScramVerifier::from_salted_password(
                &salted, salt, iterations,
            )))
        }
        _ => Err(corrupt()),
    }
}

/// Adds a user.
///
/// # Errors
/// An invalid name, an empty password, an existing user, storage errors.
pub fn add_user(engine: &StorageEngine, name: &str, password: &str) -> Result<()> {
    add_user_verifier(engine, name, &ScramVerifier::from_password(password)?)
}

/// Adds a user from a verifier (`import` of a dump made with
/// `--include-users`).
///
/// # Errors
/// An invalid name, an existing user, storage errors.
pub fn add_user_verifier(engine: &StorageEngine, name: &str, v: &ScramVerifier) -> Result<()> {
    check_name(name)?;
    if engine.get(&key(name))?.is_some() {
        return Err(ServerError::Config(format!(
            "user '{name}' already exists (use `user passwd` to change its password)"
        )));
    }
    engine.put(&key(name), &v.record())?;
    Ok(())
}

/// Changes a user's password.
///
/// # Errors
/// An unknown user, an empty password, storage errors.
pub fn set_password(engine: &StorageEngine, name: &str, password: &str) -> Result<()> {
    check_name(name)?;
    if engine.get(&key(name))?.is_none() {
        return Err(ServerError::Config(format!("user '{name}' does not exist")));
    }
    engine.put(
        &key(name),
        &ScramVerifier::from_password(password)?.record(),
    )?;
    Ok(())
}

/// Removes a user.
///
/// # Errors
/// An unknown user, storage errors.
pub fn remove_user(engine: &StorageEngine, name: &str) -> Result<()> {
    if !engine.delete(&key(name))? {
        return Err(ServerError::Config(format!("user '{name}' does not exist")));
    }
    Ok(())
}

/// User names, sorted.
///
/// # Errors
/// Storage errors.
pub fn list_users(engine: &StorageEngine) -> Result<Vec<String>> {
    Ok(engine
        .scan_prefix(PREFIX.as_bytes())?
        .into_iter()
        .map(|(k, _)| String::from_utf8_lossy(&k[PREFIX.len()..]).into_owned())
        .collect())
}

/// Every user with its verifier, sorted by name: what `export
/// --include-users` writes.
///
/// # Errors
/// Storage errors; a corrupt record.
pub fn export_verifiers(engine: &StorageEngine) -> Result<Vec<(String, ScramVerifier)>> {
    engine
        .scan_prefix(PREFIX.as_bytes())?
        .into_iter()
        .map(|(k, bytes)| {
            let bytes = Zeroizing::new(bytes);
            let name = String::from_utf8_lossy(&k[PREFIX.len()..]).into_owned();
            let v = match decode(&name, &bytes)? {
                Record::Verifier(v) | Record::Salted(v) => v,
            };
            Ok((name, v))
        })
        .collect()
}

/// Rewrites users stored in the old format (salt and `SaltedPassword`) as
/// verifiers; returns how many. Logins keep working: the verifier is
/// derived from what was stored. The old values leave the engine's files
/// as RocksDB compacts (at once with `secure_delete`).
///
/// # Errors
/// Storage errors; a corrupt record.
pub fn migrate(engine: &StorageEngine) -> Result<usize> {
    let mut converted = 0;
    for (k, bytes) in engine.scan_prefix(PREFIX.as_bytes())? {
        let bytes = Zeroizing::new(bytes);
        let name = String::from_utf8_lossy(&k[PREFIX.len()..]).into_owned();
        if let Record::Salted(v) = decode(&name, &bytes)? {
            engine.put(&k, &v.record())?;
            converted += 1;
        }
    }
    if converted > 0 {
        tracing::info!(
            users = converted,
            "converted stored users from salted passwords to SCRAM verifiers"
        );
    }
    Ok(converted)
}

/// The verifier of a user, `None` for an unknown user.
pub(crate) fn verifier(engine: &StorageEngine, name: &str) -> Result<Option<ScramVerifier>> {
    let Some(bytes) = engine.get(&key(name))? else {
        return Ok(None);
    };
    let bytes = Zeroizing::new(bytes);
    Ok(Some(match decode(name, &bytes)? {
        Record::Verifier(v) | Record::Salted(v) => v,
    }))
}

/// The server's secret for unknown users' salts: read, or made (32 random
/// bytes) the first time. It lives in the sealed store so that the fake
/// salt of a name stays the same across restarts, as a real user's does.
///
/// # Errors
/// Storage errors; a stored secret of the wrong size.
pub(crate) fn mock_secret(engine: &StorageEngine) -> Result<Zeroizing<[u8; 32]>> {
    if let Some(bytes) = engine.get(MOCK_SECRET.as_bytes())? {
        let bytes = Zeroizing::new(bytes);
        let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            ServerError::Config("the server's stored authentication secret is corrupt".into())
        })?;
        return Ok(Zeroizing::new(arr));
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(secret.as_mut());
    engine.put(MOCK_SECRET.as_bytes(), secret.as_ref())?;
    Ok(secret)
}

/// The salt an unknown user is challenged with: `HMAC(secret, name)`
/// truncated to a real salt's 16 bytes. Stable per name, so asking twice
/// does not tell an unknown user from a known one; unpredictable without
/// the secret, so it cannot be told from a random salt either.
pub(crate) fn mock_salt(secret: &[u8; 32], name: &str) -> Vec<u8> {
    hmac(secret, name.as_bytes())[..16].to_vec()
}

/// Whether `key` is in the server's key-value namespace.
pub fn is_server_key(key: &[u8]) -> bool {
    key.starts_with(heliosdb_core::SERVER_KV_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use heliosdb_core::Config;

    fn engine() -> StorageEngine {
        StorageEngine::open_in_memory(&Config::in_memory()).unwrap()
    }

    #[test]
    fn users_round_trip_storing_only_the_verifier() {
        let engine = engine();
        add_user(&engine, "alice", "s3cret-pass").unwrap();
        assert!(add_user(&engine, "alice", "x").is_err());
        let v = verifier(&engine, "alice").unwrap().unwrap();
        let salted = gen_salted_password("s3cret-pass", &v.salt, 4096);
        let expected = ScramVerifier::from_salted_password(&salted, v.salt.clone(), 4096);
        assert_eq!(*v.stored_key, *expected.stored_key);
        assert_eq!(*v.server_key, *expected.server_key);
        let stored = engine.get(&key("alice")).unwrap().unwrap();
        let stored = String::from_utf8_lossy(&stored);
        assert!(!stored.contains("s3cret-pass"));
        assert!(!stored.contains("salted"));
        for b in [hex(&salted), B64.encode(&salted)] {
            assert!(!stored.contains(&b), "SaltedPassword is stored");
        }
        assert_eq!(list_users(&engine).unwrap(), vec!["alice".to_string()]);
        set_password(&engine, "alice", "other").unwrap();
        remove_user(&engine, "alice").unwrap();
        assert!(verifier(&engine, "alice").unwrap().is_none());
        assert!(remove_user(&engine, "alice").is_err());
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// A verifier PostgreSQL 15 made for password "pencil"
    /// (`SET password_encryption = 'scram-sha-256'; CREATE ROLE pencil
    /// LOGIN PASSWORD 'pencil'; SELECT rolpassword FROM pg_authid …`):
    /// parsed, and derived again from the password and its salt, byte for
    /// byte.
    #[test]
    fn text_form_is_postgresql_s() {
        let pg = "SCRAM-SHA-256$4096:lkDaTyNlYwNwu7kFgX86Hg==$\
                  kw1LrPuZuYPBiOyNO/eHiFj1EYJWcO1CGl9YajthFnI=:\
                  4mqyg4bli3FWZMaWkQB0SDrYZ1pN98haRROaWd3AiEo=";
        let parsed = ScramVerifier::parse(pg).unwrap();
        assert_eq!(parsed.iterations, 4096);
        let salted = gen_salted_password("pencil", &parsed.salt, 4096);
        let v = ScramVerifier::from_salted_password(&salted, parsed.salt.clone(), 4096);
        let text = v.to_text();
        assert_eq!(text.as_str(), pg);
        let back = ScramVerifier::parse(&text).unwrap();
        assert_eq!(*back.to_text(), *text);
        assert!(!format!("{back:?}").contains(&B64.encode(back.stored_key.as_ref())));
        for bad in [
            "",
            "SCRAM-SHA-256$4096:c2FsdA==$AA==:AA==",
            "SCRAM-SHA-1$4096:c2FsdA==$x:y",
            "SCRAM-SHA-256$12:c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$4096:$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "md5abcdef",
            "plain password",
        ] {
            let e = ScramVerifier::parse(bad).unwrap_err().to_string();
            assert!(e.contains("not a SCRAM-SHA-256 verifier"), "{bad}: {e}");
        }
    }

    #[test]
    fn old_salted_password_records_are_migrated_and_keep_working() {
        let engine = engine();
        let salt = [7u8; 16];
        let salted = gen_salted_password("old-pass", &salt, 4096);
        let old = json!({
            "v": 1, "mechanism": "SCRAM-SHA-256", "iterations": 4096,
            "salt": hex(&salt), "salted_password": hex(&salted),
        })
        .to_string();
        engine.put(&key("bob"), old.as_bytes()).unwrap();
        // Read before migration: already a verifier.
        let before = verifier(&engine, "bob").unwrap().unwrap();
        assert_eq!(migrate(&engine).unwrap(), 1);
        assert_eq!(migrate(&engine).unwrap(), 0);
        let stored = String::from_utf8(engine.get(&key("bob")).unwrap().unwrap()).unwrap();
        assert!(!stored.contains(&hex(&salted)), "{stored}");
        assert!(stored.contains("SCRAM-SHA-256$4096:"));
        let after = verifier(&engine, "bob").unwrap().unwrap();
        assert_eq!(*after.to_text(), *before.to_text());
        let expected = ScramVerifier::from_salted_password(&salted, salt.to_vec(), 4096);
        assert_eq!(*after.stored_key, *expected.stored_key);
    }

    #[test]
    fn mock_salts_are_stable_per_name_and_secret() {
        let engine = engine();
        let s1 = mock_secret(&engine).unwrap();
        let s2 = mock_secret(&engine).unwrap();
        assert_eq!(*s1, *s2, "the secret is kept");
        assert_eq!(mock_salt(&s1, "mallory"), mock_salt(&s2, "mallory"));
        assert_ne!(mock_salt(&s1, "mallory"), mock_salt(&s1, "mallorz"));
        assert_eq!(mock_salt(&s1, "mallory").len(), 16);
        assert_ne!(mock_salt(&[0; 32], "mallory"), mock_salt(&s1, "mallory"));
        assert!(is_server_key(MOCK_SECRET.as_bytes()));
        assert!(is_server_key(&key("x")));
        assert!(!is_server_key(b"__heliosdb_sql/x"));
        assert!(PREFIX
            .as_bytes()
            .starts_with(heliosdb_core::SERVER_KV_PREFIX));
    }
}
