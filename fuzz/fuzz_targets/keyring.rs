//! Fuzz target `keyring`: the keyring is read from disk before any key is
//! known, so `Keyring::decode` must reject every malformed input with an
//! error, never a panic.

#![no_main]

use heliosdb_keys::Keyring;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Keyring::decode(data);
});
