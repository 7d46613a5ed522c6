//! Fuzz target `envelope`: a record envelope read from disk is untrusted.
//! `EnvelopeHeader::parse` and `open_envelope` (with a fixed key and AAD)
//! must return an error, never panic, for any bytes; and whatever parses
//! must re-seal and open again under the same header.

#![no_main]

use heliosdb_crypto::{open_envelope, seal_envelope, Aead, EnvelopeHeader, SecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let aead = Aead::new(&SecretKey::from_bytes([0x42; 32]));
    let header = EnvelopeHeader::parse(data);
    let opened = open_envelope(&aead, b"fuzz", data);
    if header.is_err() {
        assert!(
            opened.is_err(),
            "opened an envelope whose header does not parse"
        );
    }
    if let Ok(header) = header {
        // Round trip: seal the input under the parsed header's key id and
        // nonce, then open it.
        let sealed = seal_envelope(&aead, header.dek_id, header.nonce, b"fuzz", data);
        let reopened = open_envelope(&aead, b"fuzz", &sealed).expect("own envelope opens");
        assert_eq!(reopened, data);
        assert_eq!(
            EnvelopeHeader::parse(&sealed).expect("own header parses"),
            header
        );
    }
});
