//! Server users, stored through the encrypted engine's key-value API (so
//! sealed like every record): a random 16-byte salt and the SCRAM-SHA-256
//! salted password `Hi(password, salt, 4096)` (PBKDF2-HMAC-SHA-256). The
//! password itself is never stored, logged or shown.
//!
//! The salted password is what SCRAM needs to verify a client; like
//! PostgreSQL's stored keys it is secret (it lets a holder authenticate to
//! this server), which is why it lives only inside the sealed store.

use heliosdb_core::StorageEngine;
use pgwire::api::auth::sasl::scram::gen_salted_password;
use rand::RngCore;
use serde_json::json;
use zeroize::Zeroizing;

use crate::{Result, ServerError};

/// SCRAM iteration count (PostgreSQL's default).
pub const SCRAM_ITERATIONS: usize = 4096;

const PREFIX: &str = "__heliosdb_server/user/";

/// A stored user's SCRAM verifier.
pub(crate) struct Verifier {
    pub salt: Vec<u8>,
    pub salted_password: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
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

fn verifier_bytes(password: &str) -> Result<Vec<u8>> {
    if password.is_empty() {
        return Err(ServerError::Config("the password must not be empty".into()));
    }
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salted = Zeroizing::new(gen_salted_password(password, &salt, SCRAM_ITERATIONS));
    let record = Zeroizing::new(
        json!({
            "v": 1,
            "mechanism": "SCRAM-SHA-256",
            "iterations": SCRAM_ITERATIONS,
            "salt": hex(&salt),
            "salted_password": hex(&salted),
        })
        .to_string(),
    );
    Ok(record.as_bytes().to_vec())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
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

/// Adds a user.
///
/// # Errors
/// An invalid name, an empty password, an existing user, storage errors.
pub fn add_user(engine: &StorageEngine, name: &str, password: &str) -> Result<()> {
    check_name(name)?;
    if engine.get(&key(name))?.is_some() {
        return Err(ServerError::Config(format!(
            "user '{name}' already exists (use `user passwd` to change its password)"
        )));
    }
    engine.put(&key(name), &verifier_bytes(password)?)?;
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
    engine.put(&key(name), &verifier_bytes(password)?)?;
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

/// The SCRAM verifier of a user, `None` for an unknown user.
pub(crate) fn verifier(engine: &StorageEngine, name: &str) -> Result<Option<Verifier>> {
    let Some(bytes) = engine.get(&key(name))? else {
        return Ok(None);
    };
    let bytes = Zeroizing::new(bytes);
    let corrupt =
        || ServerError::Config(format!("stored credentials of user '{name}' are corrupt"));
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| corrupt())?;
    if v["iterations"].as_u64() != Some(SCRAM_ITERATIONS as u64) {
        return Err(corrupt());
    }
    let salt = v["salt"].as_str().and_then(unhex).ok_or_else(corrupt)?;
    let salted = v["salted_password"]
        .as_str()
        .and_then(unhex)
        .ok_or_else(corrupt)?;
    Ok(Some(Verifier {
        salt,
        salted_password: Zeroizing::new(salted),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use heliosdb_core::Config;

    #[test]
    fn users_round_trip_without_storing_the_password() {
        let engine = StorageEngine::open_in_memory(&Config::in_memory()).unwrap();
        add_user(&engine, "alice", "s3cret-pass").unwrap();
        assert!(add_user(&engine, "alice", "x").is_err());
        let v = verifier(&engine, "alice").unwrap().unwrap();
        assert_eq!(
            *v.salted_password,
            gen_salted_password("s3cret-pass", &v.salt, SCRAM_ITERATIONS)
        );
        let stored = engine.get(&key("alice")).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&stored).contains("s3cret-pass"));
        assert_eq!(list_users(&engine).unwrap(), vec!["alice".to_string()]);
        set_password(&engine, "alice", "other").unwrap();
        remove_user(&engine, "alice").unwrap();
        assert!(verifier(&engine, "alice").unwrap().is_none());
        assert!(remove_user(&engine, "alice").is_err());
    }
}
