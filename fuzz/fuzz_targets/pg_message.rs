//! Fuzz target `pg_message`: bytes from a PostgreSQL client are untrusted.
//! The server decodes them with pgwire's frontend-message parser (pinned in
//! the workspace); in every connection state (before TLS negotiation, before
//! startup, after authentication) decoding must return a message, "need more
//! bytes" or an error — never panic, loop without consuming input, or read
//! past the buffer.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pgwire::messages::{DecodeContext, PgWireFrontendMessage, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    for (awaiting_ssl, awaiting_startup) in [(true, true), (false, true), (false, false)] {
        let mut ctx = DecodeContext::new(ProtocolVersion::default());
        ctx.awaiting_ssl = awaiting_ssl;
        ctx.awaiting_startup = awaiting_startup;
        let mut buf = bytes::BytesMut::from(data);
        loop {
            let before = buf.len();
            match PgWireFrontendMessage::decode(&mut buf, &ctx) {
                // A decoded message consumes its bytes; the SSL-negotiation
                // probe ("not an SSL request") consumes none and ends here.
                Ok(Some(_)) if buf.len() < before => {}
                Ok(_) | Err(_) => break,
            }
        }
    }
});
