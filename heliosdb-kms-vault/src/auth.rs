//! How the transit source authenticates: a token from Vault's own chain
//! (`auth = "token"`), a login with an auth method whose token this process
//! keeps, renews and replaces (`approle`, `jwt`, `kubernetes`), or no token
//! at all (`agent`: a Vault Agent or OpenBao Proxy in front of the server
//! adds its own).
//!
//! Secrets (secret ids, JWTs, tokens) are never options: an option names a
//! file or an environment variable, which is read at each login, so a
//! rotated file (Kubernetes projects a fresh service-account token every
//! hour) is picked up, and the value is wiped once the request is sent.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use heliosdb_keys::{Error, KmsSpec, Result};
use secrecy::SecretString;
use serde::Deserialize;
use zeroize::Zeroizing;

/// The options of this module (all of them beside `auth` depend on it).
pub(crate) const AUTH_OPTIONS: [&str; 9] = [
    "auth",
    "auth_mount",
    "role_id",
    "role_id_file",
    "secret_id_file",
    "secret_id_env",
    "role",
    "jwt_file",
    "jwt_env",
];

/// Where Kubernetes mounts a pod's service-account token.
pub const KUBERNETES_TOKEN_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// Where a secret is read from; never the secret itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SecretRef {
    File(PathBuf),
    Env(String),
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::File(p) => write!(f, "file {}", p.display()),
            SecretRef::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

impl SecretRef {
    /// The secret, trimmed. The error names where it was looked for, never
    /// what was there.
    fn read(&self, what: &str) -> std::result::Result<Zeroizing<String>, String> {
        let text = match self {
            SecretRef::File(p) => Zeroizing::new(
                std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read the {what} {self}: {e}"))?,
            ),
            SecretRef::Env(v) => Zeroizing::new(
                std::env::var(v).map_err(|_| format!("the {what} {self} is not set"))?,
            ),
        };
        let value = text.trim();
        if value.is_empty() {
            return Err(format!("the {what} {self} is empty"));
        }
        Ok(Zeroizing::new(value.to_string()))
    }
}

/// The auth method and what it needs (names of secrets, not secrets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    /// A fixed token: `VAULT_TOKEN`, `BAO_TOKEN`, `~/.vault-token` or
    /// `VaultTransitSource::with_token`.
    Token,
    /// AppRole: `role_id` (an identifier, not a secret) and, unless the
    /// role was made with `bind_secret_id=false`, a secret id.
    AppRole {
        role_id: RoleId,
        secret_id: Option<SecretRef>,
    },
    /// JWT/OIDC: a signed JWT the role's keys or JWKS validate.
    Jwt { role: String, jwt: SecretRef },
    /// Kubernetes: the pod's service-account token, reviewed by the cluster.
    Kubernetes { role: String, jwt: SecretRef },
    /// A Vault Agent / OpenBao Proxy with `use_auto_auth_token` at
    /// `address`: this process holds no token.
    Agent,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RoleId {
    Value(String),
    File(PathBuf),
}

/// The `auth*` options, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AuthSettings {
    pub method: Method,
    /// Where the auth method is mounted (`auth/<mount>/login`).
    pub mount: String,
}

fn unsupported(m: String) -> Error {
    Error::Unsupported(m)
}

impl AuthSettings {
    pub fn parse(spec: &KmsSpec) -> Result<AuthSettings> {
        let opt = |name: &str| {
            spec.options
                .get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let name = opt("auth").unwrap_or_else(|| "token".to_string());
        let applies: &[&str] = match name.as_str() {
            "token" | "agent" => &[],
            "approle" => &[
                "auth_mount",
                "role_id",
                "role_id_file",
                "secret_id_file",
                "secret_id_env",
            ],
            "jwt" => &["auth_mount", "role", "jwt_file", "jwt_env"],
            "kubernetes" => &["auth_mount", "role", "jwt_file"],
            other => {
                return Err(unsupported(format!(
                    "option 'auth' of KMS provider vault is token, approle, jwt, kubernetes or \
                     agent, got {other:?}"
                )))
            }
        };
        // An option of another method is a mistake worth naming: it would
        // otherwise be ignored silently.
        if let Some(bad) = AUTH_OPTIONS[1..]
            .iter()
            .find(|o| spec.options.contains_key(**o) && !applies.contains(*o))
        {
            return Err(unsupported(format!(
                "option '{bad}' of KMS provider vault does not apply to auth = \"{name}\""
            )));
        }
        let need = |what: &str| {
            unsupported(format!(
                "KMS provider vault with auth = \"{name}\" needs {what}"
            ))
        };
        let one_of = |file: &str, env: &str| -> Result<Option<SecretRef>> {
            match (opt(file), opt(env)) {
                (Some(f), None) => Ok(Some(SecretRef::File(f.into()))),
                (None, Some(v)) => Ok(Some(SecretRef::Env(v))),
                (None, None) => Ok(None),
                (Some(_), Some(_)) => Err(unsupported(format!(
                    "options '{file}' and '{env}' of KMS provider vault are alternatives: give one"
                ))),
            }
        };
        let method = match name.as_str() {
            "approle" => {
                let role_id = match (opt("role_id"), opt("role_id_file")) {
                    (Some(v), None) => RoleId::Value(v),
                    (None, Some(f)) => RoleId::File(f.into()),
                    (None, None) => return Err(need("role_id or role_id_file")),
                    (Some(_), Some(_)) => {
                        return Err(unsupported(
                            "options 'role_id' and 'role_id_file' of KMS provider vault are \
                             alternatives: give one"
                                .into(),
                        ))
                    }
                };
                Method::AppRole {
                    role_id,
                    secret_id: one_of("secret_id_file", "secret_id_env")?,
                }
            }
            "jwt" => Method::Jwt {
                role: opt("role").ok_or_else(|| need("role (the JWT auth role)"))?,
                jwt: one_of("jwt_file", "jwt_env")?
                    .ok_or_else(|| need("jwt_file or jwt_env (where the JWT is)"))?,
            },
            "kubernetes" => Method::Kubernetes {
                role: opt("role").ok_or_else(|| need("role (the Kubernetes auth role)"))?,
                jwt: SecretRef::File(
                    opt("jwt_file")
                        .unwrap_or_else(|| KUBERNETES_TOKEN_FILE.to_string())
                        .into(),
                ),
            },
            "agent" => Method::Agent,
            _ => Method::Token,
        };
        let mount = opt("auth_mount")
            .unwrap_or(name)
            .trim_matches('/')
            .to_string();
        if mount.is_empty() {
            return Err(unsupported(
                "option 'auth_mount' of KMS provider vault is empty".into(),
            ));
        }
        Ok(AuthSettings { method, mount })
    }

    /// The method's name as its vendor spells it, for messages.
    pub fn label(&self) -> &'static str {
        match self.method {
            Method::Token => "token",
            Method::AppRole { .. } => "AppRole",
            Method::Jwt { .. } => "JWT",
            Method::Kubernetes { .. } => "Kubernetes",
            Method::Agent => "agent",
        }
    }

    pub fn login_path(&self) -> String {
        format!("auth/{}/login", self.mount)
    }

    /// The login request's JSON body. It holds a secret: wiped on drop.
    pub fn login_body(&self) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
        let body = match &self.method {
            Method::AppRole { role_id, secret_id } => {
                let role_id = match role_id {
                    RoleId::Value(v) => Zeroizing::new(v.clone()),
                    RoleId::File(p) => SecretRef::File(p.clone()).read("role_id")?,
                };
                let secret_id = secret_id
                    .as_ref()
                    .map(|s| s.read("secret_id"))
                    .transpose()?;
                let mut body = serde_json::json!({ "role_id": role_id.as_str() });
                if let Some(s) = &secret_id {
                    body["secret_id"] = s.as_str().into();
                }
                to_wiped_json(body)
            }
            Method::Jwt { role, jwt } | Method::Kubernetes { role, jwt } => {
                let what = if matches!(self.method, Method::Jwt { .. }) {
                    "JWT"
                } else {
                    "service-account token"
                };
                let jwt = jwt.read(what)?;
                to_wiped_json(serde_json::json!({ "role": role, "jwt": jwt.as_str() }))
            }
            Method::Token | Method::Agent => {
                return Err(format!("auth = \"{}\" does not log in", self.label()))
            }
        };
        Ok(body)
    }
}

/// Serializes a JSON body holding a secret into wiped memory. The
/// `serde_json::Value` it came from is not wiped (serde_json has no such
/// option); it lives only for the length of this call.
fn to_wiped_json(value: serde_json::Value) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(serde_json::to_vec(&value).unwrap_or_default())
}

/// A token from a login, and when to renew or replace it.
pub(crate) struct Session {
    pub token: SecretString,
    /// Whether `renew-self` may extend it. Cleared when a renewal comes
    /// back shorter than the login's lease (the token's max TTL is near):
    /// the next refresh logs in again instead.
    pub renewable: bool,
    /// When the current lease started (login or last renewal).
    pub since: Instant,
    /// The current lease; zero for a token that does not expire (root,
    /// periodic tokens with no TTL).
    pub lease: Duration,
    /// The lease the login granted.
    pub login_lease: Duration,
}

impl Session {
    pub fn new(token: SecretString, renewable: bool, lease: Duration, now: Instant) -> Session {
        Session {
            token,
            renewable,
            since: now,
            lease,
            login_lease: lease,
        }
    }

    /// Renew (or log in again) once two thirds of the lease have passed, as
    /// Vault Agent does, leaving a third for the refresh itself.
    pub fn refresh_due(&self, now: Instant) -> bool {
        !self.lease.is_zero() && now >= self.since + self.lease * 2 / 3
    }

    pub fn expired(&self, now: Instant) -> bool {
        !self.lease.is_zero() && now >= self.since + self.lease
    }

    /// A renewal granted `lease` at `now`.
    pub fn renewed(&mut self, lease: Duration, now: Instant) {
        self.since = now;
        self.lease = lease;
        if lease < self.login_lease {
            self.renewable = false;
        }
    }
}

/// The `auth` block of a login or renew-self response.
#[derive(Deserialize)]
pub(crate) struct AuthResponse {
    pub auth: Option<AuthBlock>,
}

#[derive(Deserialize)]
pub(crate) struct AuthBlock {
    #[serde(default)]
    pub client_token: String,
    #[serde(default)]
    pub lease_duration: u64,
    #[serde(default)]
    pub renewable: bool,
}

impl Drop for AuthBlock {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.client_token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(opts: &[(&str, &str)]) -> KmsSpec {
        KmsSpec::from_pairs("vault", "k", opts)
    }

    fn err(opts: &[(&str, &str)]) -> String {
        AuthSettings::parse(&spec(opts)).unwrap_err().to_string()
    }

    #[test]
    fn auth_options_parse_and_name_what_is_wrong() {
        let a = AuthSettings::parse(&spec(&[])).unwrap();
        assert_eq!(a.method, Method::Token);
        let a = AuthSettings::parse(&spec(&[
            ("auth", "approle"),
            ("role_id", "r-1"),
            ("secret_id_file", "/run/secrets/sid"),
        ]))
        .unwrap();
        assert_eq!(a.mount, "approle");
        assert_eq!(a.login_path(), "auth/approle/login");
        assert_eq!(
            a.method,
            Method::AppRole {
                role_id: RoleId::Value("r-1".into()),
                secret_id: Some(SecretRef::File("/run/secrets/sid".into())),
            }
        );
        let k = AuthSettings::parse(&spec(&[
            ("auth", "kubernetes"),
            ("role", "app"),
            ("auth_mount", "/k8s-prod/"),
        ]))
        .unwrap();
        assert_eq!(k.mount, "k8s-prod");
        assert_eq!(
            k.method,
            Method::Kubernetes {
                role: "app".into(),
                jwt: SecretRef::File(KUBERNETES_TOKEN_FILE.into()),
            }
        );
        assert!(err(&[("auth", "ldap")]).contains("token, approle, jwt, kubernetes or agent"));
        assert!(err(&[("auth", "jwt"), ("jwt_file", "/t")]).contains("needs role"));
        assert!(err(&[("auth", "jwt"), ("role", "r")]).contains("jwt_file or jwt_env"));
        assert!(err(&[("auth", "approle")]).contains("role_id"));
        assert!(err(&[
            ("auth", "approle"),
            ("role_id", "r"),
            ("secret_id_file", "/a"),
            ("secret_id_env", "B")
        ])
        .contains("alternatives"));
        // Options of another method are refused, not ignored.
        assert!(err(&[("role", "r")]).contains("does not apply to auth = \"token\""));
        assert!(err(&[("auth", "agent"), ("role_id", "r")])
            .contains("'role_id' of KMS provider vault does not apply"));
        assert!(
            err(&[("auth", "kubernetes"), ("role", "r"), ("jwt_env", "J")])
                .contains("'jwt_env' of KMS provider vault does not apply")
        );
    }

    #[test]
    fn login_bodies_read_secrets_at_login_and_errors_do_not_show_them() {
        let dir = tempfile::tempdir().unwrap();
        let sid = dir.path().join("sid");
        std::fs::write(&sid, "s3cr3t-id-value\n").unwrap();
        let a = AuthSettings::parse(&spec(&[
            ("auth", "approle"),
            ("role_id", "r-1"),
            ("secret_id_file", sid.to_str().unwrap()),
        ]))
        .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&a.login_body().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"role_id": "r-1", "secret_id": "s3cr3t-id-value"})
        );
        std::fs::write(&sid, "   \n").unwrap();
        let e = a.login_body().unwrap_err();
        assert!(e.contains("is empty") && e.contains("secret_id"), "{e}");
        let j = AuthSettings::parse(&spec(&[
            ("auth", "jwt"),
            ("role", "app"),
            ("jwt_env", "HELIOSDB_VAULT_UNIT_TEST_UNSET_JWT"),
        ]))
        .unwrap();
        let e = j.login_body().unwrap_err();
        assert!(
            e.contains("environment variable HELIOSDB_VAULT_UNIT_TEST_UNSET_JWT is not set"),
            "{e}"
        );
    }

    #[test]
    fn sessions_refresh_at_two_thirds_and_stop_renewing_near_max_ttl() {
        let t0 = Instant::now();
        let mut s = Session::new("t".into(), true, Duration::from_secs(30), t0);
        assert!(!s.refresh_due(t0 + Duration::from_secs(19)));
        assert!(s.refresh_due(t0 + Duration::from_secs(20)));
        assert!(!s.expired(t0 + Duration::from_secs(29)));
        assert!(s.expired(t0 + Duration::from_secs(30)));
        s.renewed(Duration::from_secs(30), t0 + Duration::from_secs(20));
        assert!(s.renewable && !s.refresh_due(t0 + Duration::from_secs(39)));
        // Capped by the max TTL: the next refresh is a login.
        s.renewed(Duration::from_secs(5), t0 + Duration::from_secs(40));
        assert!(!s.renewable);
        let forever = Session::new("t".into(), false, Duration::ZERO, t0);
        assert!(!forever.refresh_due(t0 + Duration::from_secs(1 << 30)));
        assert!(!forever.expired(t0 + Duration::from_secs(1 << 30)));
    }
}
