//! Runs the KeySource conformance suite against the local sources.

use std::os::unix::fs::PermissionsExt;

use heliosdb_keys::{
    conformance, EnvSource, FakeSource, FileSource, PasswordSource, RawKeySource, SecretKey,
};

const HEX_A: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const HEX_B: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

#[tokio::test]
async fn env_source_conforms() {
    std::env::set_var("HELIOSDB_CONFORMANCE_KEY_A", HEX_A);
    std::env::set_var("HELIOSDB_CONFORMANCE_KEY_B", HEX_B);
    let a = EnvSource::new("HELIOSDB_CONFORMANCE_KEY_A").unwrap();
    let b = EnvSource::new("HELIOSDB_CONFORMANCE_KEY_B").unwrap();
    conformance::run(&a, &b, &[HEX_A.as_bytes(), &hex::decode(HEX_A).unwrap()]).await;
}

#[tokio::test]
async fn file_source_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let pa = dir.path().join("a.key");
    let pb = dir.path().join("b.key");
    std::fs::write(&pa, HEX_A).unwrap();
    std::fs::write(&pb, hex::decode(HEX_B).unwrap()).unwrap();
    for p in [&pa, &pb] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o400)).unwrap();
    }
    let a = FileSource::new(&pa).unwrap();
    let b = FileSource::new(&pb).unwrap();
    conformance::run(&a, &b, &[HEX_A.as_bytes(), &hex::decode(HEX_A).unwrap()]).await;
}

#[tokio::test]
async fn password_source_conforms() {
    // Low Argon2 cost keeps the suite fast; the default cost is tested in the facade.
    let a = PasswordSource::with_cost("correct horse battery staple", 64, 1, 1);
    let b = PasswordSource::with_cost("Tr0ub4dor&3", 64, 1, 1);
    conformance::run(&a, &b, &[b"correct horse battery staple"]).await;
}

#[tokio::test]
async fn raw_and_fake_sources_conform() {
    let a = RawKeySource::new(SecretKey::from_bytes([0x11; 32]), Some("test".into()));
    let b = RawKeySource::new(SecretKey::from_bytes([0x22; 32]), None);
    conformance::run(&a, &b, &[&[0x11; 32]]).await;
    conformance::run(&FakeSource::new(1), &FakeSource::new(2), &[]).await;
}
