//! Published AES-256-GCM test vectors (McGrew–Viega test cases 13–16 and
//! Wycheproof), from `tests/data/aes256gcm_vectors.json`, run through `ring`
//! and `aes-gcm` directly and through every compiled-in `Aead` backend.
//!
//! A failing vector means the data file was mistyped: fix it against the
//! source, never the code.

mod common;

use heliosdb_crypto::{Aead, Backend, Error, SecretKey, TAG_LEN};

struct Vector {
    name: String,
    key: [u8; 32],
    iv: [u8; 12],
    aad: Vec<u8>,
    msg: Vec<u8>,
    ct: Vec<u8>,
    tag: [u8; TAG_LEN],
    valid: bool,
}

impl Vector {
    fn ct_tag(&self) -> Vec<u8> {
        [&self.ct[..], &self.tag[..]].concat()
    }
}

fn load() -> Vec<Vector> {
    let text = include_str!("data/aes256gcm_vectors.json");
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    let field = |v: &serde_json::Value, k: &str| hex::decode(v[k].as_str().unwrap()).unwrap();
    doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Vector {
            name: v["name"].as_str().unwrap().to_owned(),
            key: field(v, "key").try_into().unwrap(),
            iv: field(v, "iv").try_into().unwrap(),
            aad: field(v, "aad"),
            msg: field(v, "msg"),
            ct: field(v, "ct"),
            tag: field(v, "tag").try_into().unwrap(),
            valid: match v["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                other => panic!("unknown result {other}"),
            },
        })
        .collect()
}

type SealFn = Box<dyn Fn(&Vector) -> Vec<u8>>;
type OpenFn = Box<dyn Fn(&Vector, &[u8]) -> Option<Vec<u8>>>;

/// Every implementation under test: name, seal, open.
fn implementations() -> Vec<(String, SealFn, OpenFn)> {
    let mut out: Vec<(String, SealFn, OpenFn)> = vec![
        (
            "ring (direct)".into(),
            Box::new(|v| common::ring_seal(&v.key, &v.iv, &v.aad, &v.msg)),
            Box::new(|v, s| common::ring_open(&v.key, &v.iv, &v.aad, s)),
        ),
        (
            "aes-gcm (direct)".into(),
            Box::new(|v| common::rustcrypto_seal(&v.key, &v.iv, &v.aad, &v.msg)),
            Box::new(|v, s| common::rustcrypto_open(&v.key, &v.iv, &v.aad, s)),
        ),
    ];
    for backend in [Backend::Ring, Backend::RustCrypto] {
        if !backend.is_available() {
            continue;
        }
        let aead_for =
            move |v: &Vector| Aead::with_backend(&SecretKey::from_bytes(v.key), backend).unwrap();
        out.push((
            format!("Aead/{}", backend.name()),
            Box::new(move |v| {
                let mut buf = v.msg.clone();
                aead_for(v).seal_in_place(&v.iv, &v.aad, &mut buf);
                buf
            }),
            Box::new(move |v, sealed| {
                let mut buf = sealed.to_vec();
                match aead_for(v).open_in_place(&v.iv, &v.aad, &mut buf) {
                    Ok(()) => Some(buf),
                    Err(Error::Authentication) => {
                        assert!(buf.is_empty(), "failed open left data behind");
                        None
                    }
                    Err(e) => panic!("unexpected error {e:?}"),
                }
            }),
        ));
    }
    out
}

#[test]
fn data_file_has_the_required_vectors() {
    let vectors = load();
    assert!(vectors.len() >= 20);
    for tc in 13..=16 {
        let name = format!("mcgrew-viega test case {tc}");
        assert!(vectors.iter().any(|v| v.name == name), "{name} missing");
    }
    assert!(vectors.iter().filter(|v| !v.valid).count() >= 2);
    assert!(vectors
        .iter()
        .any(|v| v.name.starts_with("wycheproof") && v.valid));
}

#[test]
fn every_vector_through_every_implementation() {
    let vectors = load();
    let impls = implementations();
    // ring and aes-gcm directly, plus at least the default backend.
    assert!(impls.len() >= 3);
    for (impl_name, seal, open) in &impls {
        for v in &vectors {
            let ctx = format!("{} / {}", impl_name, v.name);
            let sealed = seal(v);
            let (ct, tag) = sealed.split_at(sealed.len() - TAG_LEN);
            assert_eq!(hex::encode(ct), hex::encode(&v.ct), "ciphertext: {ctx}");
            if v.valid {
                assert_eq!(hex::encode(tag), hex::encode(v.tag), "tag: {ctx}");
                assert_eq!(open(v, &v.ct_tag()), Some(v.msg.clone()), "open: {ctx}");
                // And any flipped tag bit is rejected.
                let mut bad = v.ct_tag();
                let last = bad.len() - 1;
                bad[last] ^= 0x01;
                assert_eq!(open(v, &bad), None, "tampered open: {ctx}");
            } else {
                assert_ne!(tag, &v.tag[..], "invalid tag was produced: {ctx}");
                assert_eq!(open(v, &v.ct_tag()), None, "invalid vector opened: {ctx}");
            }
        }
    }
}
