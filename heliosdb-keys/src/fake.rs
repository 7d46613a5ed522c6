//! A deterministic key source for tests of everything above keys.
//!
//! **No security**: its KEK is derived from a small public seed. It exists so
//! that storage-engine tests can open many databases quickly and predictably.

use async_trait::async_trait;
use heliosdb_crypto::SecretKey;
use sha2::{Digest, Sha256};

use crate::local::LocalKek;
use crate::source::{KekHeader, KeySource, SourceDescription, SourceKind};
use crate::Result;

/// Deterministic, insecure key source for tests; sources with the same seed hold the same KEK.
#[derive(Debug)]
pub struct FakeSource {
    seed: u64,
    kek: LocalKek,
}

impl FakeSource {
    /// A fake source whose KEK is SHA-256 of the seed.
    pub fn new(seed: u64) -> Self {
        let digest: [u8; 32] = Sha256::digest(seed.to_be_bytes()).into();
        FakeSource {
            seed,
            kek: LocalKek::new(SecretKey::from_bytes(digest)),
        }
    }

    fn description(&self) -> SourceDescription {
        SourceDescription::with_locator(SourceKind::Fake, format!("seed {}", self.seed))
    }
}

#[async_trait]
impl KeySource for FakeSource {
    fn describe(&self) -> SourceDescription {
        self.description()
    }
    async fn new_header(&self) -> Result<KekHeader> {
        Ok(self.kek.header(self.description()))
    }
    async fn matches(&self, header: &KekHeader) -> Result<bool> {
        Ok(self.kek.matches(header))
    }
    async fn wrap(&self, _h: &KekHeader, key: &SecretKey, aad: &[u8]) -> Result<Vec<u8>> {
        self.kek.wrap(key, aad)
    }
    async fn unwrap(&self, _h: &KekHeader, blob: &[u8], aad: &[u8]) -> Result<SecretKey> {
        self.kek.unwrap(blob, aad, &self.description())
    }
}
