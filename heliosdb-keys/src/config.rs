//! The `key_source` configuration value, spelled as in the tutorial:
//! `key_source = { Environment = "VAR" }`, `[encryption.key_source] File = "…"`,
//! `key_source = "Password"`, `{ Kms = { provider = "aws", key_id = "…" } }`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{Error, KeySource, Result};

/// Where the key-encryption key comes from. Re-exported as
/// `heliosdb_nano::config::KeySource`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum KeySourceConfig {
    /// A 64-hex-character key in this environment variable.
    Environment(String),
    /// A key file (64 hex characters or 32 raw bytes), mode 0400 or 0440.
    File(PathBuf),
    /// A password stretched with Argon2id; salt and cost are kept in the
    /// database. The command line prompts for it (or reads one line from
    /// standard input when it is not a terminal); libraries pass a
    /// `KeyManager::password(..)` to `StorageEngine::open_with_key_manager`,
    /// or set `HELIOSDB_PASSWORD`.
    Password,
    /// A key in a key management service (envelope encryption).
    Kms {
        /// `aws`, `azure`, `gcp`, `pkcs11` or `vault`.
        provider: String,
        /// The provider's key identifier (alias, ARN, key URL, resource name).
        key_id: String,
    },
}

impl Default for KeySourceConfig {
    fn default() -> Self {
        KeySourceConfig::Environment(crate::DEFAULT_KEY_ENV.to_string())
    }
}

/// Environment variable a library user may set for `KeySource::Password`.
pub const PASSWORD_ENV: &str = "HELIOSDB_PASSWORD";

/// Everything a KMS backend needs to build its key source: the provider, the
/// key id, and provider options (`region`, `endpoint`, `vault_url`,
/// `address`, `mount`, …) from `[encryption.kms]` or from extra keys beside
/// `provider` and `key_id` in the `Kms` table.
///
/// `#[non_exhaustive]`: build one with [`KmsSpec::new`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KmsSpec {
    /// `aws`, `azure`, `gcp`, `pkcs11`, `vault`.
    pub provider: String,
    /// The provider's key identifier.
    pub key_id: String,
    /// Provider options; never secrets (credentials come from each vendor's
    /// own default chain).
    pub options: BTreeMap<String, String>,
}

/// The option every provider accepts that allows a plaintext `http://`
/// endpoint or address (local emulators only). The command line sets it
/// with `--insecure-kms-endpoint`. Never recorded in a keyring.
pub const INSECURE_ENDPOINT_OPTION: &str = "insecure_endpoint";

impl KmsSpec {
    /// A spec for `key_id` of `provider` with `options`.
    pub fn new(
        provider: impl Into<String>,
        key_id: impl Into<String>,
        options: BTreeMap<String, String>,
    ) -> Self {
        KmsSpec {
            provider: provider.into(),
            key_id: key_id.into(),
            options,
        }
    }

    /// A spec with options given as `(name, value)` pairs (tests, examples).
    pub fn from_pairs(
        provider: impl Into<String>,
        key_id: impl Into<String>,
        options: &[(&str, &str)],
    ) -> Self {
        let options = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        KmsSpec::new(provider, key_id, options)
    }

    /// Refuses an option the provider does not know, naming it and the
    /// known ones. [`INSECURE_ENDPOINT_OPTION`] is known to every provider.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for the first unknown option.
    pub fn check_options(&self, known: &[&str]) -> Result<()> {
        match self
            .options
            .keys()
            .find(|k| !known.contains(&k.as_str()) && k.as_str() != INSECURE_ENDPOINT_OPTION)
        {
            Some(bad) => Err(Error::Unsupported(format!(
                "unknown option '{bad}' for KMS provider {} (known: {}, {INSECURE_ENDPOINT_OPTION})",
                self.provider,
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// Whether plaintext `http://` endpoints are allowed
    /// ([`INSECURE_ENDPOINT_OPTION`] = `"true"`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a value other than `true` or `false`.
    pub fn insecure_endpoint(&self) -> Result<bool> {
        match self
            .options
            .get(INSECURE_ENDPOINT_OPTION)
            .map(|v| v.trim())
        {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(Error::Unsupported(format!(
                "option '{INSECURE_ENDPOINT_OPTION}' of KMS provider {} is true or false, got {other:?}",
                self.provider
            ))),
        }
    }

    /// Refuses a plaintext `http://` URL in option `option` (an endpoint or
    /// address: bearer tokens and key material would cross the network in
    /// clear) unless [`INSECURE_ENDPOINT_OPTION`] allows it.
    ///
    /// # Errors
    /// [`Error::Unsupported`] naming the option, the URL and the way out.
    pub fn check_url(&self, option: &str, url: &str) -> Result<()> {
        let plaintext = url
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("http://"));
        if plaintext && !self.insecure_endpoint()? {
            return Err(Error::Unsupported(format!(
                "{option} {url:?} of KMS provider {} is plaintext http://: credentials and keys \
                 would cross the network in clear; use https://, or for a local emulator pass \
                 --insecure-kms-endpoint ({INSECURE_ENDPOINT_OPTION} = \"true\" in [encryption.kms])",
                self.provider
            )));
        }
        Ok(())
    }

    /// The whole-number option `name`, from 1 to `max`; `default` when it
    /// is not given.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when it is not such a number.
    pub fn number_option(&self, name: &str, default: u64, max: u64) -> Result<u64> {
        match self.options.get(name).map(|v| v.trim()) {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(Error::Unsupported(format!(
                    "option '{name}' of KMS provider {} must be a whole number from 1 to {max}, got {v:?}",
                    self.provider
                ))),
            },
        }
    }
}

/// A KMS backend compiled into this binary. Each `heliosdb-kms-*` crate
/// submits one with `inventory::submit!`; the facade's features decide which
/// crates are linked.
#[derive(Debug)]
pub struct KmsProvider {
    /// Provider name used in configuration (`aws`).
    pub name: &'static str,
    /// The facade feature that links it (`aws`).
    pub feature: &'static str,
    /// Builds the key source for a spec.
    pub build: fn(&KmsSpec) -> Result<Arc<dyn KeySource>>,
    /// Options a slot records as part of its key's identity (Vault's
    /// `mount` and `namespace`, AWS's `region`). Any other option a slot
    /// records is routing or trust and is never taken from the keyring: see
    /// [`slot_spec`].
    pub identity_options: &'static [&'static str],
    /// Where a key id itself says to send requests, as (option, value),
    /// when the caller must confirm it (Azure's vault URL outside Azure's
    /// own domains). `None`: the key id routes nowhere on its own.
    pub key_id_routing: fn(&str) -> Option<(&'static str, String)>,
}

inventory::collect!(KmsProvider);

impl KmsProvider {
    /// The registry entry of vendor `V`, all of it from the vendor's trait
    /// implementation: `inventory::submit! { KmsProvider::of::<MyVendor>() }`.
    pub const fn of<V: crate::KmsVendor>() -> Self {
        KmsProvider {
            name: V::PROVIDER,
            feature: V::FEATURE,
            build: crate::KmsSource::<V>::build,
            identity_options: V::IDENTITY_OPTIONS,
            key_id_routing: V::key_id_routing,
        }
    }
}

/// For [`KmsProvider::key_id_routing`]: key ids that route nowhere on their own.
pub fn no_key_id_routing(_key_id: &str) -> Option<(&'static str, String)> {
    None
}

fn same_option(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

/// The spec to reach the key a keyring slot names, when the caller gave no
/// key of their own. A keyring travels with a database (backups, copies
/// from others), so what it records is untrusted: only identity is taken
/// from it — provider, key id and `identity` options — while endpoints,
/// addresses, CA files and challenge checks come from `caller` (the
/// configuration's `[encryption.kms]` and `--kms-option`).
///
/// - An identity option: the recorded value, unless the caller gives one.
/// - Any other recorded option: ignored unless the caller gives the same
///   value; a different value is [`Error::KmsOptionMismatch`], naming both.
/// - A key id that routes on its own (`key_id_routing`): the caller must
///   give the same value ([`Error::KmsRoutingNotConfirmed`] when missing).
///
/// # Errors
/// As above.
pub fn slot_spec(
    kms: &crate::KmsKeyRef,
    caller: &BTreeMap<String, String>,
    identity: &[&str],
    key_id_routing: fn(&str) -> Option<(&'static str, String)>,
) -> Result<KmsSpec> {
    let mut options = caller.clone();
    for (name, recorded) in &kms.options {
        if identity.contains(&name.as_str()) {
            options
                .entry(name.clone())
                .or_insert_with(|| recorded.clone());
            continue;
        }
        match caller.get(name) {
            Some(given) if !same_option(given, recorded) => {
                return Err(Error::KmsOptionMismatch {
                    provider: kms.provider.clone(),
                    option: name.clone(),
                    recorded: recorded.clone(),
                    supplied: given.clone(),
                })
            }
            // The same value: the caller's, already in `options`. None:
            // ignored, the provider's default (or the caller's environment) applies.
            _ => {}
        }
    }
    if let Some((option, value)) = key_id_routing(&kms.key_id) {
        match caller.get(option) {
            Some(given) if same_option(given, &value) => {}
            Some(given) => {
                return Err(Error::KmsOptionMismatch {
                    provider: kms.provider.clone(),
                    option: option.to_string(),
                    recorded: value,
                    supplied: given.clone(),
                })
            }
            None => {
                return Err(Error::KmsRoutingNotConfirmed {
                    provider: kms.provider.clone(),
                    option: option.to_string(),
                    value,
                })
            }
        }
    }
    Ok(KmsSpec {
        provider: kms.provider.clone(),
        key_id: kms.key_id.clone(),
        options,
    })
}

/// Builds the key source for the key a keyring slot names, through the
/// provider registry, following [`slot_spec`]: identity from the slot,
/// routing and trust from `caller` only.
///
/// # Errors
/// [`slot_spec`]'s errors; [`kms_source`]'s.
pub fn kms_source_for_slot(
    kms: &crate::KmsKeyRef,
    caller: &BTreeMap<String, String>,
) -> Result<Arc<dyn KeySource>> {
    let spec = match registered(&kms.provider)? {
        Some(p) => slot_spec(kms, caller, p.identity_options, p.key_id_routing)?,
        // Not compiled in: kms_source names the feature to enable.
        None => KmsSpec::new(kms.provider.clone(), kms.key_id.clone(), BTreeMap::new()),
    };
    kms_source(&spec)
}

/// The facade features that link a KMS provider, by provider name. Only
/// for the hint "not compiled in: enable feature X"; which providers exist
/// in this build is the registry's to say.
const FACADE_FEATURES: [&str; 5] = ["aws", "azure", "gcp", "pkcs11", "vault"];

/// The registered provider named `name`.
///
/// # Errors
/// [`Error::Invariant`] when two crates registered that name: which one
/// would build the source would depend on link order.
fn registered(name: &str) -> Result<Option<&'static KmsProvider>> {
    let mut found = inventory::iter::<KmsProvider>
        .into_iter()
        .filter(|p| p.name == name);
    let first = found.next();
    if let Some(second) = found.next() {
        return Err(Error::Invariant(format!(
            "KMS provider '{name}' is registered twice (features {} and {}): link one crate \
             per provider",
            first.map_or("?", |p| p.feature),
            second.feature
        )));
    }
    Ok(first)
}

/// Names of the KMS providers compiled in, sorted, each once.
pub fn kms_providers() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = inventory::iter::<KmsProvider>
        .into_iter()
        .map(|p| p.name)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Builds the key source for a KMS spec through the provider registry.
///
/// # Errors
/// A provider that is not compiled in gets an error naming the feature to
/// enable; an unknown one names the providers compiled in; a name two
/// crates registered is [`Error::Invariant`]; otherwise the provider's own
/// errors.
pub fn kms_source(spec: &KmsSpec) -> Result<Arc<dyn KeySource>> {
    if let Some(p) = registered(&spec.provider)? {
        return (p.build)(spec);
    }
    if FACADE_FEATURES.contains(&spec.provider.as_str()) {
        return Err(Error::Unsupported(format!(
            "KMS provider '{0}' is not compiled in: build heliosdb-nano with `--features {0}` (or `kms-all`)",
            spec.provider
        )));
    }
    let compiled = kms_providers();
    Err(Error::Unsupported(format!(
        "unknown KMS provider '{}' (compiled in: {})",
        spec.provider,
        if compiled.is_empty() {
            "none".to_string()
        } else {
            compiled.join(", ")
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KmsKeyRef;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        KmsSpec::from_pairs("", "", pairs).options
    }

    fn slot(provider: &str, key_id: &str, recorded: &[(&str, &str)]) -> KmsKeyRef {
        KmsKeyRef {
            provider: provider.into(),
            key_id: key_id.into(),
            key_version: Some("1".into()),
            options: opts(recorded),
        }
    }

    #[test]
    fn a_slot_gives_identity_but_never_routing_or_trust() {
        // A backup whose Vault slot points at someone else's server.
        let evil = slot(
            "vault",
            "app",
            &[
                ("address", "http://attacker.example:8200"),
                ("ca_cert", "/tmp/attacker-ca.pem"),
                ("insecure_endpoint", "true"),
                ("mount", "transit"),
                ("namespace", "team"),
            ],
        );
        let identity = ["mount", "namespace"];
        // The caller gave nothing: routing and trust are dropped, identity kept.
        let spec = slot_spec(&evil, &BTreeMap::new(), &identity, no_key_id_routing).unwrap();
        assert_eq!(spec.key_id, "app");
        assert_eq!(
            spec.options,
            opts(&[("mount", "transit"), ("namespace", "team")])
        );
        // The caller's own address wins only if it is the same.
        let mine = opts(&[("address", "https://vault.internal:8200/")]);
        let err = slot_spec(&evil, &mine, &identity, no_key_id_routing).unwrap_err();
        assert!(matches!(err, Error::KmsOptionMismatch { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("http://attacker.example:8200")
                && msg.contains("https://vault.internal:8200/"),
            "{msg}"
        );
        assert!(msg.contains("--kms vault:KEY_ID"), "{msg}");
        let same = slot(
            "vault",
            "app",
            &[
                ("address", "https://vault.internal:8200"),
                ("mount", "transit"),
            ],
        );
        let spec = slot_spec(&same, &mine, &identity, no_key_id_routing).unwrap();
        assert_eq!(spec.options.get("address"), mine.get("address"));
        // The caller may override identity (then the key simply may not match).
        let spec = slot_spec(
            &same,
            &opts(&[("mount", "kv")]),
            &identity,
            no_key_id_routing,
        )
        .unwrap();
        assert_eq!(spec.options.get("mount").map(String::as_str), Some("kv"));
    }

    #[test]
    fn a_key_id_that_routes_needs_the_callers_confirmation() {
        fn routing(key_id: &str) -> Option<(&'static str, String)> {
            key_id
                .split_once("/keys/")
                .map(|(vault, _)| ("vault_url", vault.to_string()))
        }
        let s = slot(
            "azure",
            "https://attacker.example/keys/k",
            &[("verify_challenge_resource", "false")],
        );
        let err = slot_spec(&s, &BTreeMap::new(), &[], routing).unwrap_err();
        assert!(
            matches!(err, Error::KmsRoutingNotConfirmed { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("vault_url=https://attacker.example"),
            "{err}"
        );
        let err = slot_spec(
            &s,
            &opts(&[("vault_url", "https://mine.example")]),
            &[],
            routing,
        )
        .unwrap_err();
        assert!(matches!(err, Error::KmsOptionMismatch { .. }), "{err:?}");
        let ok = slot_spec(
            &s,
            &opts(&[("vault_url", "https://attacker.example")]),
            &[],
            routing,
        )
        .unwrap();
        // The recorded trust setting is not carried over.
        assert!(!ok.options.contains_key("verify_challenge_resource"));
    }

    #[test]
    fn plaintext_endpoints_need_the_insecure_option() {
        let mut spec = KmsSpec {
            provider: "gcp".into(),
            key_id: "k".into(),
            options: BTreeMap::new(),
        };
        assert!(spec.check_url("endpoint", "https://kms.example").is_ok());
        let err = spec
            .check_url("endpoint", "HTTP://127.0.0.1:1")
            .unwrap_err();
        assert!(err.to_string().contains("--insecure-kms-endpoint"), "{err}");
        spec.options
            .insert(INSECURE_ENDPOINT_OPTION.into(), "true".into());
        assert!(spec.check_url("endpoint", "http://127.0.0.1:1").is_ok());
        assert!(spec.check_options(&["endpoint"]).is_ok());
        spec.options
            .insert(INSECURE_ENDPOINT_OPTION.into(), "yes".into());
        assert!(spec.check_url("endpoint", "http://127.0.0.1:1").is_err());
    }

    #[test]
    fn missing_provider_names_the_feature() {
        let spec = KmsSpec {
            provider: "aws".into(),
            key_id: "alias/x".into(),
            options: BTreeMap::new(),
        };
        if kms_providers().contains(&"aws") {
            return; // linked into this test binary: nothing to check
        }
        let err = kms_source(&spec).unwrap_err().to_string();
        assert!(err.contains("--features aws"), "{err}");
        let err = kms_source(&KmsSpec {
            provider: "acme".into(),
            ..spec
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown KMS provider 'acme'"), "{err}");
        // The list comes from the registry (this test binary registers
        // the providers below), not from a list written into the message.
        assert!(err.contains("dup-test"), "{err}");
        assert!(!err.contains("vault"), "{err}");
    }

    fn refuse(_: &KmsSpec) -> Result<Arc<dyn KeySource>> {
        Err(Error::Unsupported("test provider".into()))
    }

    inventory::submit! {
        KmsProvider {
            name: "dup-test",
            feature: "dup-a",
            build: refuse,
            identity_options: &[],
            key_id_routing: no_key_id_routing,
        }
    }
    inventory::submit! {
        KmsProvider {
            name: "dup-test",
            feature: "dup-b",
            build: refuse,
            identity_options: &[],
            key_id_routing: no_key_id_routing,
        }
    }

    #[test]
    fn a_provider_name_registered_twice_is_an_error() {
        let spec = KmsSpec::new("dup-test", "k", BTreeMap::new());
        let err = kms_source(&spec).unwrap_err();
        assert!(matches!(err, Error::Invariant(_)), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("registered twice"), "{msg}");
        assert!(msg.contains("dup-a") && msg.contains("dup-b"), "{msg}");
        let slot = slot("dup-test", "k", &[]);
        let err = kms_source_for_slot(&slot, &BTreeMap::new()).unwrap_err();
        assert!(matches!(err, Error::Invariant(_)), "{err:?}");
        assert_eq!(
            kms_providers().iter().filter(|p| **p == "dup-test").count(),
            1
        );
    }
}
