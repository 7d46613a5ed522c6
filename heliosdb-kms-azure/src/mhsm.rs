//! Managed HSM `oct-HSM` keys: the root key is sealed inside the HSM with
//! AES-256-GCM (`encrypt`/`decrypt`, algorithm `A256GCM`), and the keyring's
//! AAD is GCM's own additional authenticated data.
//!
//! Unlike RSA-OAEP, nobody without the HSM key can make a blob that opens:
//! the GCM tag authenticates the root key and the AAD under a key that never
//! leaves the HSM. The HSM draws the 96-bit IV itself on each encrypt.
//!
//! The slot records the algorithm (`KmsKeyRef.options["algorithm"] =
//! "A256GCM"`); slots without it are RSA-OAEP-256, as every slot written
//! before this module. The blob is
//!
//! ```text
//! 0x02 || iv[12] || tag[16] || AES-256-GCM(HSM key, iv, root_key[32], "heliosdb-kms-azure a256gcm v1" || 0x00 || aad)
//! ```
//!
//! and must agree with the slot's algorithm: a blob of one format under a
//! slot of the other is refused before any request.

use std::collections::BTreeMap;

use azure_security_keyvault_keys::models::{
    EncryptionAlgorithm, KeyClientEncryptOptions, KeyOperationParameters, KeyType,
};
use heliosdb_keys::{KmsErrorKind, KmsKeyRef, KmsVendor, Result, SecretKey};
use zeroize::Zeroizing;

use crate::{AzureKeyVault, BLOB_FORMAT_V1};

/// Format byte of a blob sealed with `A256GCM` in a Managed HSM.
pub const BLOB_FORMAT_A256GCM: u8 = 2;
/// The slot option that names the wrapping algorithm (absent: RSA-OAEP-256).
pub const ALGORITHM_OPTION: &str = "algorithm";

const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
/// Domain separation of the AAD handed to the HSM.
const AAD_LABEL: &[u8] = b"heliosdb-kms-azure a256gcm v1\0";

/// How a slot's root key is wrapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WrapAlgorithm {
    /// `wrapKey`/`unwrapKey` with an RSA key, AAD digest inside the plaintext.
    RsaOaep256,
    /// `encrypt`/`decrypt` with a Managed HSM `oct-HSM` key, native AAD.
    A256Gcm,
}

impl WrapAlgorithm {
    /// The algorithm for a key of type `kty`, and the key operations it needs.
    pub(crate) fn for_key_type(
        kty: Option<&KeyType>,
    ) -> Option<(WrapAlgorithm, [&'static str; 2])> {
        match kty {
            Some(KeyType::Rsa | KeyType::RsaHsm) => {
                Some((WrapAlgorithm::RsaOaep256, ["wrapKey", "unwrapKey"]))
            }
            Some(KeyType::OctHsm) => Some((WrapAlgorithm::A256Gcm, ["encrypt", "decrypt"])),
            _ => None,
        }
    }

    /// What a slot recorded; `Err` names an algorithm this version does not know.
    pub(crate) fn recorded(slot: Option<&KmsKeyRef>) -> std::result::Result<WrapAlgorithm, String> {
        match slot
            .and_then(|k| k.options.get(ALGORITHM_OPTION))
            .map(String::as_str)
        {
            None | Some("RSA-OAEP-256") => Ok(WrapAlgorithm::RsaOaep256),
            Some("A256GCM") => Ok(WrapAlgorithm::A256Gcm),
            Some(other) => Err(format!(
                "the slot names wrapping algorithm {other:?}, which this version does not know"
            )),
        }
    }

    /// What a new slot records: nothing for RSA-OAEP-256, so that its slots
    /// stay as they always were.
    pub(crate) fn stored_options(self) -> BTreeMap<String, String> {
        match self {
            WrapAlgorithm::RsaOaep256 => BTreeMap::new(),
            WrapAlgorithm::A256Gcm => {
                [(ALGORITHM_OPTION.to_string(), "A256GCM".to_string())].into()
            }
        }
    }

    /// The blob format byte this algorithm writes.
    pub(crate) fn blob_format(self) -> u8 {
        match self {
            WrapAlgorithm::RsaOaep256 => BLOB_FORMAT_V1,
            WrapAlgorithm::A256Gcm => BLOB_FORMAT_A256GCM,
        }
    }
}

fn hsm_aad(aad: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(AAD_LABEL.len() + aad.len());
    v.extend_from_slice(AAD_LABEL);
    v.extend_from_slice(aad);
    v
}

/// Splits a blob of format [`BLOB_FORMAT_A256GCM`] into iv, tag, ciphertext.
fn split(blob: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let rest = blob.strip_prefix(&[BLOB_FORMAT_A256GCM])?;
    if rest.len() != IV_LEN + TAG_LEN + KEY_LEN {
        return None;
    }
    let (iv, rest) = rest.split_at(IV_LEN);
    let (tag, ct) = rest.split_at(TAG_LEN);
    Some((iv, tag, ct))
}

impl AzureKeyVault {
    /// Seals `key` under version `version` of the `oct-HSM` key.
    pub(crate) async fn wrap_a256gcm(
        &self,
        version: String,
        key: Zeroizing<Vec<u8>>,
        aad: Vec<u8>,
    ) -> Result<Vec<u8>> {
        const OP: &str = "Encrypt";
        let client = self.client().await?;
        let params = KeyOperationParameters {
            algorithm: Some(EncryptionAlgorithm::A256Gcm),
            value: Some(key.to_vec()),
            additional_authenticated_data: Some(hsm_aad(&aad)),
            ..Default::default()
        };
        let body = params.try_into().map_err(|e| self.classified(OP, &e))?;
        let options = KeyClientEncryptOptions {
            key_version: Some(version.clone()),
            ..Default::default()
        };
        let out = client
            .encrypt(&self.settings.name, body, Some(options))
            .await
            .map_err(|e| self.classified(OP, &e))?
            .into_model()
            .map_err(|e| self.classified(OP, &e))?;
        self.check_kid(OP, out.kid.as_deref(), &version)?;
        let (Some(iv), Some(tag), Some(ct)) = (out.iv, out.authentication_tag, out.result) else {
            return Err(self.err(
                KmsErrorKind::Unavailable,
                OP,
                "the response lacks the iv, tag or ciphertext",
            ));
        };
        if iv.len() != IV_LEN || tag.len() != TAG_LEN || ct.len() != KEY_LEN {
            return Err(self.err(
                KmsErrorKind::Unavailable,
                OP,
                format!(
                    "unexpected AES-GCM output sizes (iv {}, tag {}, ciphertext {} bytes)",
                    iv.len(),
                    tag.len(),
                    ct.len()
                ),
            ));
        }
        let mut blob = Vec::with_capacity(1 + IV_LEN + TAG_LEN + KEY_LEN);
        blob.push(BLOB_FORMAT_A256GCM);
        blob.extend_from_slice(&iv);
        blob.extend_from_slice(&tag);
        blob.extend_from_slice(&ct);
        Ok(blob)
    }

    /// Opens a blob [`AzureKeyVault::wrap_a256gcm`] made; the HSM checks the tag
    /// over the root key and the AAD.
    pub(crate) async fn unwrap_a256gcm(
        &self,
        version: String,
        blob: Vec<u8>,
        aad: Vec<u8>,
    ) -> Result<SecretKey> {
        const OP: &str = "Decrypt";
        let Some((iv, tag, ct)) = split(&blob) else {
            return Err(self.err(
                KmsErrorKind::WrongKey,
                OP,
                "the wrapped key is not an A256GCM blob of this provider",
            ));
        };
        let client = self.client().await?;
        let params = KeyOperationParameters {
            algorithm: Some(EncryptionAlgorithm::A256Gcm),
            value: Some(ct.to_vec()),
            iv: Some(iv.to_vec()),
            authentication_tag: Some(tag.to_vec()),
            additional_authenticated_data: Some(hsm_aad(&aad)),
        };
        let body = params.try_into().map_err(|e| self.classified(OP, &e))?;
        let out = client
            .decrypt(&self.settings.name, &version, body, None)
            .await
            .map_err(|e| self.classified(OP, &e))?
            .into_model()
            .map_err(|e| self.classified(OP, &e))?;
        self.check_kid(OP, out.kid.as_deref(), &version)?;
        let plain = Zeroizing::new(out.result.unwrap_or_default());
        SecretKey::from_slice(&plain).ok_or_else(|| {
            self.err(
                KmsErrorKind::WrongKey,
                OP,
                "the plaintext is not a 32-byte key",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(options: &[(&str, &str)]) -> KmsKeyRef {
        KmsKeyRef {
            provider: "azure".into(),
            key_id: "https://h.managedhsm.azure.net/keys/k".into(),
            key_version: Some("v".into()),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn slots_record_the_algorithm_and_old_slots_are_rsa() {
        assert_eq!(
            WrapAlgorithm::recorded(Some(&header(&[]))),
            Ok(WrapAlgorithm::RsaOaep256)
        );
        assert_eq!(
            WrapAlgorithm::recorded(Some(&header(&[("algorithm", "A256GCM")]))),
            Ok(WrapAlgorithm::A256Gcm)
        );
        assert!(
            WrapAlgorithm::recorded(Some(&header(&[("algorithm", "A128KW")])))
                .unwrap_err()
                .contains("A128KW")
        );
        assert!(WrapAlgorithm::RsaOaep256.stored_options().is_empty());
        let h = header(
            &WrapAlgorithm::A256Gcm
                .stored_options()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        );
        assert_eq!(
            WrapAlgorithm::recorded(Some(&h)),
            Ok(WrapAlgorithm::A256Gcm)
        );
        assert_eq!(
            WrapAlgorithm::for_key_type(Some(&KeyType::OctHsm)).map(|x| x.0),
            Some(WrapAlgorithm::A256Gcm)
        );
        assert_eq!(
            WrapAlgorithm::for_key_type(Some(&KeyType::RsaHsm)).map(|x| x.0),
            Some(WrapAlgorithm::RsaOaep256)
        );
        assert_eq!(WrapAlgorithm::for_key_type(Some(&KeyType::Ec)), None);
        assert_eq!(WrapAlgorithm::for_key_type(Some(&KeyType::Oct)), None);
    }

    #[test]
    fn blobs_split_only_at_their_exact_size() {
        let mut blob = vec![BLOB_FORMAT_A256GCM];
        blob.extend(0..(IV_LEN + TAG_LEN + KEY_LEN) as u8);
        let (iv, tag, ct) = split(&blob).unwrap();
        assert_eq!((iv.len(), tag.len(), ct.len()), (12, 16, 32));
        assert_eq!(iv[0], 0);
        assert_eq!(tag[0], 12);
        assert_eq!(ct[0], 28);
        assert!(split(&blob[..blob.len() - 1]).is_none());
        blob[0] = BLOB_FORMAT_V1;
        assert!(split(&blob).is_none());
        assert!(split(&[]).is_none());
        assert_ne!(hsm_aad(b"a"), hsm_aad(b"b"));
        assert!(hsm_aad(b"").starts_with(b"heliosdb-kms-azure a256gcm"));
    }
}
