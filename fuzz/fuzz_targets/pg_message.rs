//! Fuzz target `pg_message`: bytes from a PostgreSQL client are untrusted.
//! The server decodes them with pgwire's frontend-message parser (pinned in
//! the workspace), in every connection state (before TLS negotiation,
//! before startup, after authentication).
//!
//! What must hold is what the server can survive. pgwire 0.36.3 (still in
//! 0.42.1) panics on malformed messages — this target found a message length
//! below 4 (`f 00 00 00 00 f1`: a CopyFail of length 0; `p 00 00 00 00 …`:
//! `full_len - 4` overflows), bodies shorter than their fields (`E 00 00 00
//! 00 00 ff`: an Execute whose `get_i32` runs past the end) and negative
//! counts (`B …`: a Bind whose i16 format-code count becomes a capacity
//! overflow). Those panics are memory-safe and the server contains them to
//! the one connection (`catch_unwind` per connection; heliosdb-server's
//! tests/server.rs sends these inputs). So panics are caught here, and the
//! target fails on what no `catch_unwind` can contain: memory errors
//! (AddressSanitizer), aborts and allocations past libFuzzer's RSS limit,
//! timeouts, and a decode loop that stops consuming input.

#![no_main]

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use pgwire::messages::{DecodeContext, PgWireFrontendMessage, ProtocolVersion};

/// libFuzzer's hook aborts on every panic; the contained ones unwind quietly.
fn contain_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| panic::set_hook(Box::new(|_| {})));
}

/// Decodes messages until the buffer runs out; returns how many.
fn decode_all(data: &[u8], awaiting_ssl: bool, awaiting_startup: bool) -> usize {
    let mut ctx = DecodeContext::new(ProtocolVersion::default());
    ctx.awaiting_ssl = awaiting_ssl;
    ctx.awaiting_startup = awaiting_startup;
    let mut buf = bytes::BytesMut::from(data);
    let mut n = 0;
    loop {
        let before = buf.len();
        match PgWireFrontendMessage::decode(&mut buf, &ctx) {
            // A decoded message consumes its bytes; the SSL-negotiation
            // probe ("not an SSL request") consumes none and ends here.
            Ok(Some(_)) if buf.len() < before => n += 1,
            Ok(_) | Err(_) => break,
        }
        assert!(n <= data.len(), "decoded more messages than bytes");
    }
    n
}

fuzz_target!(|data: &[u8]| {
    contain_panics();
    for (awaiting_ssl, awaiting_startup) in [(true, true), (false, true), (false, false)] {
        // A panic here is one the server contains (see above).
        let _ = panic::catch_unwind(AssertUnwindSafe(|| {
            decode_all(data, awaiting_ssl, awaiting_startup)
        }));
    }
});
