//! Which Entra ID credential signs the Key Vault requests, and against which
//! cloud.
//!
//! Every credential is the Azure SDK's own (`azure_identity`): client secret,
//! workload identity, developer tools, managed identity (system- or
//! user-assigned, `client_id`). The one exception is the client certificate:
//! the SDK's `ClientCertificateCredential` links OpenSSL, which this
//! workspace bans (`deny.toml`), so [`CertificateAssertion`] signs the
//! client assertion JWT with `ring` and hands it to the SDK's
//! `ClientAssertionCredential`, which does the token request and caching.
//!
//! The cloud (`cloud`, or inferred from the vault's host) picks the login
//! authority and the only token scopes ever requested: Key Vault's and
//! Managed HSM's resource in that cloud. [`ScopeGuard`] refuses any other
//! scope, so a vault answering with a foreign challenge resource (possible
//! where `verify_challenge_resource = false`) cannot obtain a token for
//! another Azure service. `authority_host` overrides the login endpoint only
//! (a private or proxied authority); the Key Vault resource still follows the
//! cloud.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;
use azure_core::http::{ClientMethodOptions, ClientOptions};
use azure_identity::{
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, DeveloperToolsCredential,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use heliosdb_keys::{KmsSpec, Result};
use zeroize::Zeroizing;

use crate::bad;

/// Options of this module (all of them `[encryption.kms]` options, listed
/// in the crate's `OPTIONS`; a test checks).
#[cfg(test)]
pub(crate) const OPTIONS: [&str; 7] = [
    "credential",
    "access_token_env",
    "cloud",
    "authority_host",
    "tenant_id",
    "client_id",
    "certificate_file",
];

const NOT_RSA: &str = "the private key is not RSA (Entra ID certificate credentials are RSA)";

/// Lifetime of a client assertion, as the SDK's certificate credential uses.
const ASSERTION_LIFETIME_SECS: u64 = 300;

/// An Azure cloud: its login authority and its Key Vault / Managed HSM
/// resources (the token audiences).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cloud {
    Public,
    UsGovernment,
    China,
}

impl Cloud {
    /// `public`, `usgov`, `china`, or the Azure CLI's names
    /// (`AzureCloud`, `AzureUSGovernment`, `AzureChinaCloud`).
    pub(crate) fn parse(name: &str) -> Option<Cloud> {
        match name.to_ascii_lowercase().as_str() {
            "public" | "azurecloud" | "azurepublic" | "azurepubliccloud" => Some(Cloud::Public),
            "usgov" | "azureusgovernment" | "azureusgovernmentcloud" => Some(Cloud::UsGovernment),
            "china" | "azurechinacloud" | "azurechina" => Some(Cloud::China),
            _ => None,
        }
    }

    /// The cloud a vault URL (`https://host`) belongs to, by its DNS suffix;
    /// public for any other host (local and private endpoints).
    pub(crate) fn of_vault(vault_url: &str) -> Cloud {
        let host = vault_url.to_ascii_lowercase();
        if host.ends_with(".usgovcloudapi.net") {
            Cloud::UsGovernment
        } else if host.ends_with(".azure.cn") {
            Cloud::China
        } else {
            Cloud::Public
        }
    }

    pub(crate) fn authority_host(self) -> &'static str {
        match self {
            Cloud::Public => "https://login.microsoftonline.com",
            Cloud::UsGovernment => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    pub(crate) fn key_vault_resource(self) -> &'static str {
        match self {
            Cloud::Public => "https://vault.azure.net",
            Cloud::UsGovernment => "https://vault.usgovcloudapi.net",
            Cloud::China => "https://vault.azure.cn",
        }
    }

    pub(crate) fn managed_hsm_resource(self) -> &'static str {
        match self {
            Cloud::Public => "https://managedhsm.azure.net",
            Cloud::UsGovernment => "https://managedhsm.usgovcloudapi.net",
            Cloud::China => "https://managedhsm.azure.cn",
        }
    }

    /// The token scopes a Key Vault client of this cloud may request.
    pub(crate) fn scopes(self) -> [String; 2] {
        [
            format!("{}/.default", self.key_vault_resource()),
            format!("{}/.default", self.managed_hsm_resource()),
        ]
    }

    fn sdk(self) -> CloudConfiguration {
        match self {
            Cloud::Public => CloudConfiguration::AzurePublic,
            Cloud::UsGovernment => CloudConfiguration::AzureGovernment,
            Cloud::China => CloudConfiguration::AzureChina,
        }
    }
}

/// Which credential signs the requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CredentialChoice {
    Default,
    ClientSecret,
    ClientCertificate,
    WorkloadIdentity,
    DeveloperTools,
    ManagedIdentity,
    /// A bearer token read from this environment variable.
    TokenEnv(String),
}

/// The credential options. None of them is a secret: the client secret comes
/// from `AZURE_CLIENT_SECRET`, the certificate's private key from the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CredentialSettings {
    pub(crate) choice: CredentialChoice,
    /// Explicit (`cloud`) or inferred from the vault's host.
    pub(crate) cloud: Cloud,
    /// Whether `cloud` was given (an explicit cloud also sets the authority).
    cloud_explicit: bool,
    /// `https://host` of a login authority that replaces the cloud's.
    pub(crate) authority_host: Option<String>,
    pub(crate) tenant_id: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) certificate_file: Option<String>,
}

fn id_like(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

impl CredentialSettings {
    /// Parses the credential options of `spec` for a vault at `vault_url`.
    pub(crate) fn parse(spec: &KmsSpec, vault_url: &str) -> Result<CredentialSettings> {
        let opt = |k: &str| spec.options.get(k).map(|v| v.trim().to_string());
        let choice = match (opt("credential").as_deref(), opt("access_token_env")) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "options 'credential' and 'access_token_env' exclude each other",
                ))
            }
            (None, Some(var)) if !var.is_empty() => CredentialChoice::TokenEnv(var),
            (None, Some(_)) => return Err(bad("option 'access_token_env' is empty")),
            (None | Some("default"), None) => CredentialChoice::Default,
            (Some("client_secret"), None) => CredentialChoice::ClientSecret,
            (Some("client_certificate"), None) => CredentialChoice::ClientCertificate,
            (Some("workload_identity"), None) => CredentialChoice::WorkloadIdentity,
            (Some("developer_tools"), None) => CredentialChoice::DeveloperTools,
            (Some("managed_identity"), None) => CredentialChoice::ManagedIdentity,
            (Some(other), None) => {
                return Err(bad(format!(
                    "option 'credential' is one of default, client_secret, client_certificate, \
                     workload_identity, developer_tools, managed_identity; got {other:?}"
                )))
            }
        };
        let (cloud, cloud_explicit) = match opt("cloud") {
            None => (Cloud::of_vault(vault_url), false),
            Some(name) => match Cloud::parse(&name) {
                Some(c) => (c, true),
                None => {
                    return Err(bad(format!(
                        "option 'cloud' is one of public, usgov, china; got {name:?}"
                    )))
                }
            },
        };
        let authority_host = match opt("authority_host") {
            None => None,
            Some(a) => {
                let a = a.trim_end_matches('/').to_string();
                let host_only = a
                    .strip_prefix("https://")
                    .is_some_and(|h| !h.is_empty() && !h.contains('/') && !h.contains('@'));
                if !host_only {
                    return Err(bad(format!(
                        "option 'authority_host' must be https://<login host>, got {a:?}"
                    )));
                }
                Some(a)
            }
        };
        let ident = |name: &str| -> Result<Option<String>> {
            match opt(name) {
                Some(v) if id_like(&v) => Ok(Some(v)),
                Some(v) => Err(bad(format!(
                    "option '{name}' must be an id (letters, digits, '-', '.'), got {v:?}"
                ))),
                None => Ok(None),
            }
        };
        let tenant_id = ident("tenant_id")?;
        let client_id = ident("client_id")?;
        let certificate_file = opt("certificate_file").filter(|f| !f.is_empty());
        // Options that the chosen credential would silently ignore are errors:
        // a user-assigned identity that is not used is a wrong identity.
        let uses = |what: &str| match (&choice, what) {
            (CredentialChoice::TokenEnv(_), _) => false,
            (CredentialChoice::DeveloperTools, "client_id" | "tenant_id") => false,
            (CredentialChoice::ManagedIdentity, "tenant_id") => false,
            (
                CredentialChoice::ClientCertificate | CredentialChoice::Default,
                "certificate_file",
            ) => true,
            (_, "certificate_file") => false,
            _ => true,
        };
        for (name, given) in [
            ("tenant_id", tenant_id.is_some()),
            ("client_id", client_id.is_some()),
            ("certificate_file", certificate_file.is_some()),
        ] {
            if given && !uses(name) {
                return Err(bad(format!(
                    "option '{name}' does not apply to the chosen credential ({})",
                    choice.name()
                )));
            }
        }
        Ok(CredentialSettings {
            choice,
            cloud,
            cloud_explicit,
            authority_host,
            tenant_id,
            client_id,
            certificate_file,
        })
    }

    /// The login authority as the SDK's credentials take it; `None` leaves
    /// the SDK's default (`AZURE_AUTHORITY_HOST`, else the public cloud).
    pub(crate) fn sdk_cloud(&self) -> Option<Arc<CloudConfiguration>> {
        if let Some(host) = &self.authority_host {
            let mut custom = CustomConfiguration::default();
            custom.authority_host = host.clone();
            return Some(Arc::new(custom.into()));
        }
        (self.cloud_explicit || self.cloud != Cloud::Public).then(|| Arc::new(self.cloud.sdk()))
    }

    /// The effective authority host (for messages and tests).
    pub(crate) fn authority(&self) -> String {
        match &self.authority_host {
            Some(h) => h.clone(),
            None if self.sdk_cloud().is_none() => std::env::var("AZURE_AUTHORITY_HOST")
                .unwrap_or_else(|_| Cloud::Public.authority_host().to_string()),
            None => self.cloud.authority_host().to_string(),
        }
    }

    fn tenant(&self) -> azure_core::Result<String> {
        match &self.tenant_id {
            Some(t) => Ok(t.clone()),
            None => env("AZURE_TENANT_ID", "option 'tenant_id'"),
        }
    }

    fn client(&self) -> azure_core::Result<String> {
        match &self.client_id {
            Some(c) => Ok(c.clone()),
            None => env("AZURE_CLIENT_ID", "option 'client_id'"),
        }
    }

    fn certificate_path(&self) -> Option<String> {
        self.certificate_file
            .clone()
            .or_else(|| std::env::var("AZURE_CLIENT_CERTIFICATE_PATH").ok())
            .filter(|p| !p.trim().is_empty())
    }
}

impl CredentialChoice {
    fn name(&self) -> &'static str {
        match self {
            CredentialChoice::Default => "default",
            CredentialChoice::ClientSecret => "client_secret",
            CredentialChoice::ClientCertificate => "client_certificate",
            CredentialChoice::WorkloadIdentity => "workload_identity",
            CredentialChoice::DeveloperTools => "developer_tools",
            CredentialChoice::ManagedIdentity => "managed_identity",
            CredentialChoice::TokenEnv(_) => "access_token_env",
        }
    }
}

fn credential_error(msg: impl Into<String>) -> azure_core::Error {
    azure_core::Error::with_message(ErrorKind::Credential, msg.into())
}

fn env(var: &str, option: &str) -> azure_core::Result<String> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| credential_error(format!("neither {option} nor {var} is set")))
}

/// The credential `settings` choose, its HTTP requests sent with
/// `client_options` (the same transport, CA file and retries as Key Vault's),
/// behind a [`ScopeGuard`] for the settings' cloud.
pub(crate) fn build(
    settings: &CredentialSettings,
    client_options: ClientOptions,
) -> azure_core::Result<Arc<dyn TokenCredential>> {
    let client_options = ClientOptions {
        cloud: settings.sdk_cloud(),
        ..client_options
    };
    let inner = unguarded(settings, &client_options)?;
    Ok(guard(inner, settings.cloud))
}

/// `credential` restricted to the Key Vault and Managed HSM scopes of `cloud`.
pub(crate) fn guard(
    credential: Arc<dyn TokenCredential>,
    cloud: Cloud,
) -> Arc<dyn TokenCredential> {
    Arc::new(ScopeGuard {
        inner: credential,
        cloud,
    })
}

fn unguarded(
    s: &CredentialSettings,
    client_options: &ClientOptions,
) -> azure_core::Result<Arc<dyn TokenCredential>> {
    let client_secret = || -> azure_core::Result<Arc<dyn TokenCredential>> {
        let secret = Secret::new(env("AZURE_CLIENT_SECRET", "a client secret")?);
        Ok(ClientSecretCredential::new(
            &s.tenant()?,
            s.client()?,
            secret,
            Some(ClientSecretCredentialOptions {
                client_options: client_options.clone(),
            }),
        )?)
    };
    let client_certificate = || -> azure_core::Result<Arc<dyn TokenCredential>> {
        let Some(path) = s.certificate_path() else {
            return Err(credential_error(
                "neither option 'certificate_file' nor AZURE_CLIENT_CERTIFICATE_PATH is set",
            ));
        };
        let tenant = s.tenant()?;
        let client = s.client()?;
        let audience = token_endpoint(&s.authority(), &tenant)?;
        let assertion = CertificateAssertion::from_pem_file(&path, &client, &audience)?;
        let credential: Arc<dyn TokenCredential> = ClientAssertionCredential::new(
            tenant,
            client,
            assertion,
            Some(ClientAssertionCredentialOptions {
                client_options: client_options.clone(),
            }),
        )?;
        Ok(credential)
    };
    let workload = || -> azure_core::Result<Arc<dyn TokenCredential>> {
        Ok(WorkloadIdentityCredential::new(Some(
            WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: client_options.clone(),
                },
                client_id: s.client_id.clone(),
                tenant_id: s.tenant_id.clone(),
                ..Default::default()
            },
        ))?)
    };
    let managed = || -> azure_core::Result<Arc<dyn TokenCredential>> {
        Ok(ManagedIdentityCredential::new(Some(
            ManagedIdentityCredentialOptions {
                user_assigned_id: s.client_id.clone().map(UserAssignedId::ClientId),
                client_options: client_options.clone(),
            },
        ))?)
    };
    Ok(match &s.choice {
        CredentialChoice::TokenEnv(var) => Arc::new(EnvTokenCredential { var: var.clone() }),
        CredentialChoice::ClientSecret => client_secret()?,
        CredentialChoice::ClientCertificate => client_certificate()?,
        CredentialChoice::WorkloadIdentity => workload()?,
        CredentialChoice::DeveloperTools => DeveloperToolsCredential::new(None)?,
        CredentialChoice::ManagedIdentity => managed()?,
        CredentialChoice::Default => {
            // azure_identity 1.0 has no DefaultAzureCredential: this is its
            // order, with managed identity last so that a workstation does
            // not wait on the instance metadata endpoint.
            let mut sources: Vec<(&'static str, Arc<dyn TokenCredential>)> = Vec::new();
            if std::env::var_os("AZURE_CLIENT_SECRET").is_some() {
                sources.push(("client_secret", client_secret()?));
            } else if s.certificate_path().is_some() {
                sources.push(("client_certificate", client_certificate()?));
            }
            if std::env::var_os("AZURE_FEDERATED_TOKEN_FILE").is_some() {
                sources.push(("workload_identity", workload()?));
            }
            sources.push(("developer_tools", DeveloperToolsCredential::new(None)?));
            if let Ok(mi) = managed() {
                sources.push(("managed_identity", mi));
            }
            Arc::new(ChainCredential {
                sources,
                chosen: AtomicUsize::new(usize::MAX),
            })
        }
    })
}

/// `{authority}/{tenant}/oauth2/v2.0/token`, the URL the SDK's assertion
/// credential posts to and the audience Entra ID requires in the assertion.
pub(crate) fn token_endpoint(authority: &str, tenant: &str) -> azure_core::Result<String> {
    if !id_like(tenant) {
        return Err(credential_error(format!("invalid tenant id {tenant:?}")));
    }
    let url = azure_core::http::Url::parse(authority)
        .and_then(|u| u.join(&format!("/{tenant}/oauth2/v2.0/token")))
        .map_err(|e| credential_error(format!("invalid authority host {authority}: {e}")))?;
    Ok(url.to_string())
}

/// Refuses token requests for any scope but the cloud's Key Vault and
/// Managed HSM resources.
struct ScopeGuard {
    inner: Arc<dyn TokenCredential>,
    cloud: Cloud,
}

impl fmt::Debug for ScopeGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeGuard")
            .field("cloud", &self.cloud)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenCredential for ScopeGuard {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let allowed = self.cloud.scopes();
        if scopes.is_empty() || !scopes.iter().all(|s| allowed.iter().any(|a| a == s)) {
            return Err(credential_error(format!(
                "the vault's authentication challenge asks for a token for {scopes:?}, which is \
                 not Key Vault or Managed HSM of cloud {:?} ({}); set option 'cloud' to the \
                 vault's cloud",
                self.cloud,
                allowed.join(", ")
            )));
        }
        self.inner.get_token(scopes, options).await
    }
}

/// A bearer token from an environment variable, read at each request.
struct EnvTokenCredential {
    var: String,
}

impl fmt::Debug for EnvTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvTokenCredential")
            .field("var", &self.var)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenCredential for EnvTokenCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        match std::env::var(&self.var) {
            Ok(t) if !t.trim().is_empty() => Ok(AccessToken::new(
                Secret::new(t.trim().to_string()),
                // Unknown expiry: a short one so that a refreshed variable is
                // picked up soon.
                azure_core::time::OffsetDateTime::now_utc()
                    + azure_core::time::Duration::minutes(5),
            )),
            _ => Err(credential_error(format!(
                "environment variable {} (option access_token_env) is not set",
                self.var
            ))),
        }
    }
}

/// Tries credentials in order and keeps the first that issues a token.
struct ChainCredential {
    sources: Vec<(&'static str, Arc<dyn TokenCredential>)>,
    chosen: AtomicUsize,
}

impl fmt::Debug for ChainCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.sources.iter().map(|(n, _)| *n).collect();
        f.debug_struct("ChainCredential")
            .field("sources", &names)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenCredential for ChainCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let chosen = self.chosen.load(Ordering::Relaxed);
        if let Some((_, c)) = self.sources.get(chosen) {
            return c.get_token(scopes, options).await;
        }
        let mut failures = Vec::new();
        for (i, (name, c)) in self.sources.iter().enumerate() {
            match c.get_token(scopes, options.clone()).await {
                Ok(t) => {
                    self.chosen.store(i, Ordering::Relaxed);
                    return Ok(t);
                }
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        }
        Err(credential_error(format!(
            "no credential worked ({})",
            failures.join("; ")
        )))
    }
}

/// Signs Entra ID client assertions (RFC 7523 JWT, RS256) with a
/// certificate's RSA private key: header `{"alg":"RS256","typ":"JWT","x5t":…}`
/// with the certificate's SHA-1 thumbprint (what Entra ID looks the
/// certificate up by), claims `aud` (the token endpoint), `iss` = `sub` =
/// the client id, `jti`, `nbf`, `iat`, `exp` (five minutes).
pub(crate) struct CertificateAssertion {
    key: ring::signature::RsaKeyPair,
    /// base64url of the JWT header.
    header: String,
    thumbprint: String,
    client_id: String,
    audience: String,
    rng: ring::rand::SystemRandom,
}

impl fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private key stays out.
        f.debug_struct("CertificateAssertion")
            .field("x5t", &self.thumbprint)
            .field("client_id", &self.client_id)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl CertificateAssertion {
    /// Reads a PEM file holding the certificate and its RSA private key
    /// (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`), as Azure's
    /// portal and `az ad sp create-for-rbac --create-cert` write them.
    pub(crate) fn from_pem_file(
        path: &str,
        client_id: &str,
        audience: &str,
    ) -> azure_core::Result<Self> {
        let pem =
            Zeroizing::new(std::fs::read(path).map_err(|e| {
                credential_error(format!("cannot read certificate file {path}: {e}"))
            })?);
        Self::from_pem(&pem, client_id, audience)
            .map_err(|e| credential_error(format!("certificate file {path}: {e}")))
    }

    pub(crate) fn from_pem(
        pem: &[u8],
        client_id: &str,
        audience: &str,
    ) -> std::result::Result<Self, String> {
        use rustls_pki_types::pem::PemObject as _;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let cert = CertificateDer::pem_slice_iter(pem)
            .next()
            .ok_or("holds no CERTIFICATE")?
            .map_err(|e| format!("the certificate is not PEM: {e}"))?;
        // A parse error names the PEM section, never the key bytes.
        let key = Zeroizing::new(
            PrivateKeyDer::from_pem_slice(pem)
                .map_err(|e| format!("holds no private key ({e})"))?,
        );
        let key = match &*key {
            PrivateKeyDer::Pkcs8(k) => {
                ring::signature::RsaKeyPair::from_pkcs8(k.secret_pkcs8_der())
            }
            PrivateKeyDer::Pkcs1(k) => ring::signature::RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => return Err(NOT_RSA.into()),
        }
        .map_err(|e| match e.to_string().as_str() {
            // A PKCS#8 EC or Ed25519 key.
            "WrongAlgorithm" => NOT_RSA.to_string(),
            other => format!("the private key is not a usable RSA key: {other}"),
        })?;
        let thumbprint = URL_SAFE_NO_PAD.encode(
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.as_ref()).as_ref(),
        );
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": thumbprint});
        Ok(CertificateAssertion {
            key,
            header: URL_SAFE_NO_PAD.encode(header.to_string()),
            thumbprint,
            client_id: client_id.to_string(),
            audience: audience.to_string(),
            rng: ring::rand::SystemRandom::new(),
        })
    }

    /// A fresh signed assertion.
    pub(crate) fn sign(&self) -> std::result::Result<String, String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| "the system clock is before 1970")?
            .as_secs();
        let mut jti = [0u8; 16];
        ring::rand::SecureRandom::fill(&self.rng, &mut jti).map_err(|_| "no randomness")?;
        let claims = serde_json::json!({
            "aud": self.audience,
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            self.header,
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &self.rng,
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| "signing the client assertion failed")?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

#[async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(
        &self,
        _options: Option<ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        self.sign().map_err(credential_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec::new(
            "azure",
            "k",
            opts.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    const PUBLIC_VAULT: &str = "https://v.vault.azure.net";

    #[test]
    fn clouds_map_to_their_authority_and_key_vault_resources() {
        let cases = [
            (
                "public",
                "https://login.microsoftonline.com",
                "https://vault.azure.net/.default",
                "https://managedhsm.azure.net/.default",
            ),
            (
                "AzureUSGovernment",
                "https://login.microsoftonline.us",
                "https://vault.usgovcloudapi.net/.default",
                "https://managedhsm.usgovcloudapi.net/.default",
            ),
            (
                "china",
                "https://login.chinacloudapi.cn",
                "https://vault.azure.cn/.default",
                "https://managedhsm.azure.cn/.default",
            ),
        ];
        for (name, authority, kv, hsm) in cases {
            let s = CredentialSettings::parse(&spec(&[("cloud", name)]), PUBLIC_VAULT).unwrap();
            assert_eq!(s.authority(), authority, "{name}");
            assert_eq!(
                s.cloud.scopes(),
                [kv.to_string(), hsm.to_string()],
                "{name}"
            );
            // The SDK gets the same authority.
            let sdk = s.sdk_cloud().unwrap();
            let expected = Cloud::parse(name).unwrap().sdk();
            assert_eq!(*sdk, expected, "{name}");
        }
        // Inferred from the vault's host when not given.
        for (vault, cloud) in [
            ("https://v.vault.usgovcloudapi.net", Cloud::UsGovernment),
            (
                "https://h.managedhsm.usgovcloudapi.net",
                Cloud::UsGovernment,
            ),
            ("https://v.vault.azure.cn", Cloud::China),
            ("https://h.managedhsm.azure.net", Cloud::Public),
            ("https://127.0.0.1:8443", Cloud::Public),
        ] {
            let s = CredentialSettings::parse(&spec(&[]), vault).unwrap();
            assert_eq!(s.cloud, cloud, "{vault}");
        }
        // The public cloud by default leaves the SDK's own default
        // (AZURE_AUTHORITY_HOST or public).
        let s = CredentialSettings::parse(&spec(&[]), PUBLIC_VAULT).unwrap();
        assert!(s.sdk_cloud().is_none());
        // authority_host replaces the login endpoint, not the resource.
        let s = CredentialSettings::parse(
            &spec(&[
                ("cloud", "usgov"),
                ("authority_host", "https://login.example.test/"),
            ]),
            PUBLIC_VAULT,
        )
        .unwrap();
        assert_eq!(s.authority(), "https://login.example.test");
        let custom = s.sdk_cloud().unwrap();
        let CloudConfiguration::Custom(c) = &*custom else {
            panic!("a custom cloud")
        };
        assert_eq!(c.authority_host, "https://login.example.test");
        assert_eq!(s.cloud, Cloud::UsGovernment);
        assert_eq!(
            token_endpoint(&s.authority(), "contoso.onmicrosoft.com").unwrap(),
            "https://login.example.test/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert!(token_endpoint("https://l.test", "a/b").is_err());
    }

    #[test]
    fn the_crate_knows_every_credential_option() {
        for o in OPTIONS {
            assert!(crate::OPTIONS.contains(&o), "{o}");
        }
    }

    #[test]
    fn credential_options_are_validated() {
        let err = |opts: &[(&str, &str)]| {
            CredentialSettings::parse(&spec(opts), PUBLIC_VAULT)
                .unwrap_err()
                .to_string()
        };
        assert!(err(&[("cloud", "mars")]).contains("option 'cloud'"));
        for a in [
            "http://login.test",
            "https://login.test/tenant",
            "https://u@login.test",
            "login.test",
        ] {
            assert!(
                err(&[("authority_host", a)]).contains("authority_host"),
                "{a}"
            );
        }
        assert!(
            err(&[("credential", "managed_identity"), ("client_id", "a b")])
                .contains("option 'client_id'")
        );
        // Options the chosen credential would ignore are refused.
        assert!(
            err(&[("credential", "managed_identity"), ("tenant_id", "t")]).contains("tenant_id")
        );
        assert!(err(&[("access_token_env", "T"), ("client_id", "c")]).contains("client_id"));
        assert!(err(&[
            ("credential", "client_secret"),
            ("certificate_file", "/c.pem")
        ])
        .contains("certificate_file"));
        let s = CredentialSettings::parse(
            &spec(&[
                ("credential", "managed_identity"),
                ("client_id", "00000000-0000-0000-0000-00000000000a"),
            ]),
            PUBLIC_VAULT,
        )
        .unwrap();
        assert_eq!(s.choice, CredentialChoice::ManagedIdentity);
        assert_eq!(
            s.client_id.as_deref(),
            Some("00000000-0000-0000-0000-00000000000a")
        );
        let s = CredentialSettings::parse(
            &spec(&[
                ("credential", "client_certificate"),
                ("certificate_file", "/etc/sp.pem"),
                ("tenant_id", "t"),
                ("client_id", "c"),
            ]),
            PUBLIC_VAULT,
        )
        .unwrap();
        assert_eq!(s.choice, CredentialChoice::ClientCertificate);
    }

    #[test]
    fn a_bad_certificate_file_is_a_clear_error_without_key_bytes() {
        let aud = "https://login.test/t/oauth2/v2.0/token";
        let err = CertificateAssertion::from_pem_file("/nonexistent/sp.pem", "c", aud)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read certificate file"), "{err}");
        assert!(CertificateAssertion::from_pem(b"not pem", "c", aud)
            .unwrap_err()
            .contains("no CERTIFICATE"));
    }

    #[tokio::test]
    async fn the_scope_guard_allows_only_the_clouds_key_vault_scopes() {
        #[derive(Debug)]
        struct Always;
        #[async_trait]
        impl TokenCredential for Always {
            async fn get_token(
                &self,
                _: &[&str],
                _: Option<TokenRequestOptions<'_>>,
            ) -> azure_core::Result<AccessToken> {
                Ok(AccessToken::new(
                    "t".to_string(),
                    azure_core::time::OffsetDateTime::now_utc(),
                ))
            }
        }
        let g = guard(Arc::new(Always), Cloud::UsGovernment);
        assert!(g
            .get_token(&["https://vault.usgovcloudapi.net/.default"], None)
            .await
            .is_ok());
        assert!(g
            .get_token(&["https://managedhsm.usgovcloudapi.net/.default"], None)
            .await
            .is_ok());
        for bad in [
            &["https://vault.azure.net/.default"][..],
            &["https://management.azure.com/.default"],
            &[],
            &[
                "https://vault.usgovcloudapi.net/.default",
                "https://graph.microsoft.com/.default",
            ],
        ] {
            let err = g.get_token(bad, None).await.unwrap_err();
            assert!(matches!(err.kind(), ErrorKind::Credential), "{err}");
            assert!(err.to_string().contains("set option 'cloud'"), "{err}");
        }
    }
}
