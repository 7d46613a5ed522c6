//! Fuzz target `config`: configuration files are user input;
//! `Config::from_toml_str` must report every malformation (syntax, unknown
//! fields, invalid values) as an error, never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = heliosdb_core::Config::from_toml_str(text);
    }
});
