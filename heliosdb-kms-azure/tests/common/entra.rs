//! A local Entra ID for the tests, on the fake vault's listener:
//!
//! - `POST /{tenant}/oauth2/v2.0/token`: the client-credentials grant with a
//!   client assertion (RFC 7523), as the SDK's `ClientAssertionCredential`
//!   sends it. The assertion must be an RS256 JWT whose `x5t` is the SHA-1
//!   thumbprint of the certificate registered for the client id, whose
//!   signature verifies with that certificate's public key (checked here
//!   with RustCrypto's `rsa`, independently of the signer), whose `aud` is
//!   this token endpoint's URL, whose `iss` and `sub` are the client id and
//!   which is within its validity window. The `scope` must be a resource
//!   this directory's cloud has. Errors have Entra's shape
//!   (`error`, `error_description` starting with an `AADSTS` code,
//!   `error_codes`).
//! - `GET /msi/token`: the App Service managed identity endpoint
//!   (`IDENTITY_ENDPOINT`, API version 2019-08-01) the SDK's
//!   `ManagedIdentityCredential` calls: it requires the `X-IDENTITY-HEADER`
//!   secret, issues tokens for the system-assigned identity or for a
//!   user-assigned one named by `client_id`, and answers 400 for an identity
//!   not assigned to this resource.
//!
//! Tokens are opaque strings recorded with their principal and audience; the
//! vault accepts them only for its own resource and the principal's role.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier as _;
use rsa::RsaPublicKey;
use serde_json::{json, Value};

use super::{Issued, Response, State, KEY_VAULT_RESOURCE, MANAGED_HSM_RESOURCE, TENANT};

/// A service principal that authenticates with a certificate.
#[derive(Clone)]
pub struct App {
    pub tenant: String,
    pub cert_der: Vec<u8>,
    pub public_key: RsaPublicKey,
}

/// What the local Entra ID knows.
pub struct Directory {
    /// Service principals by client id.
    pub apps: BTreeMap<String, App>,
    /// User-assigned managed identities (client ids) on this "resource".
    pub identities: BTreeSet<String>,
    /// The system-assigned identity's principal, if enabled.
    pub system_identity: Option<String>,
    /// The secret App Service hands the process in `IDENTITY_HEADER`.
    pub identity_header: String,
    /// Resources this cloud issues tokens for (no `/.default`).
    pub resources: Vec<String>,
    issued_count: usize,
}

impl Default for Directory {
    fn default() -> Self {
        Directory {
            apps: BTreeMap::new(),
            identities: BTreeSet::new(),
            system_identity: None,
            identity_header: "heliosdb-test-identity-header".to_string(),
            resources: vec![
                KEY_VAULT_RESOURCE.to_string(),
                MANAGED_HSM_RESOURCE.to_string(),
            ],
            issued_count: 0,
        }
    }
}

fn response(status: u16, body: Value) -> Response {
    Response {
        status,
        body,
        challenge: false,
    }
}

fn entra_error(status: u16, error: &str, code: u32, description: &str) -> Response {
    response(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description}"),
            "error_codes": [code],
            "timestamp": "2026-01-01 00:00:00Z",
            "trace_id": "00000000-0000-0000-0000-000000000000",
        }),
    )
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(body);
    azure_core::http::Url::parse(&format!("http://form/?{text}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Routes a request to the local Entra ID; `None` when it is not for it.
pub(crate) fn route(
    st: &mut State,
    method: &str,
    path: &str,
    query: &str,
    host: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
) -> Option<Response> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, segs.as_slice()) {
        ("POST", [tenant, "oauth2", "v2.0", "token"]) => {
            let resp = token(st, tenant, &format!("https://{host}{path}"), body);
            let what = if resp.status == 200 {
                "token"
            } else {
                "token_refused"
            };
            *st.counts.entry(what.into()).or_default() += 1;
            Some(resp)
        }
        ("GET", ["msi", "token"]) => {
            let resp = msi(st, query, headers);
            let what = if resp.status == 200 {
                "msi"
            } else {
                "msi_refused"
            };
            *st.counts.entry(what.into()).or_default() += 1;
            Some(resp)
        }
        _ => None,
    }
}

fn issue(st: &mut State, principal: &str, resource: &str) -> String {
    st.entra.issued_count += 1;
    let token = format!("entra-token-{}-{principal}", st.entra.issued_count);
    st.issued.insert(
        token.clone(),
        Issued {
            principal: principal.to_string(),
            audience: resource.to_string(),
        },
    );
    token
}

fn token(st: &mut State, tenant: &str, endpoint: &str, body: &[u8]) -> Response {
    let f = form(body);
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    if get("grant_type") != "client_credentials" {
        return entra_error(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
        return entra_error(400, "invalid_request", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    let client_id = get("client_id");
    let Some(app) = st.entra.apps.get(client_id).cloned() else {
        return entra_error(
            400,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'."),
        );
    };
    if app.tenant != tenant {
        return entra_error(
            400,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found."),
        );
    }
    if let Err(reason) = verify_assertion(&app, get("client_assertion"), endpoint, client_id) {
        return entra_error(
            401,
            "invalid_client",
            700027,
            &format!("Client assertion failed signature validation. [Reason - {reason}]"),
        );
    }
    let scope = get("scope");
    let Some(resource) = scope
        .strip_suffix("/.default")
        .filter(|r| st.entra.resources.iter().any(|x| x == r))
        .map(str::to_string)
    else {
        return entra_error(
            400,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {scope} was not found in the tenant named {tenant}."
            ),
        );
    };
    let token = issue(st, client_id, &resource);
    response(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
    )
}

/// Checks a client assertion: `Err` says why it is refused.
fn verify_assertion(app: &App, jwt: &str, audience: &str, client_id: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err("The assertion is not a JWS.".into());
    };
    let dec = |x: &str| {
        URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|_| "not base64url".to_string())
    };
    let header: Value = serde_json::from_slice(&dec(h)?).map_err(|_| "header is not JSON")?;
    let claims: Value = serde_json::from_slice(&dec(p)?).map_err(|_| "payload is not JSON")?;
    if header["alg"] != "RS256" {
        return Err(format!("Unsupported alg {}.", header["alg"]));
    }
    let thumbprint = URL_SAFE_NO_PAD.encode(
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &app.cert_der).as_ref(),
    );
    if header["x5t"].as_str() != Some(thumbprint.as_str()) {
        return Err("The key was not found.".into());
    }
    let sig = Signature::try_from(dec(s)?.as_slice()).map_err(|_| "bad signature encoding")?;
    VerifyingKey::<sha2::Sha256>::new(app.public_key.clone())
        .verify(format!("{h}.{p}").as_bytes(), &sig)
        .map_err(|_| "The signature does not verify with the certificate's key.".to_string())?;
    if claims["aud"].as_str() != Some(audience) {
        return Err(format!(
            "Invalid audience {} (expected {audience}).",
            claims["aud"]
        ));
    }
    if claims["iss"].as_str() != Some(client_id) || claims["sub"].as_str() != Some(client_id) {
        return Err("iss and sub must be the client id.".into());
    }
    let (t, nbf, exp) = (
        now(),
        claims["nbf"].as_u64().unwrap_or(u64::MAX),
        claims["exp"].as_u64().unwrap_or(0),
    );
    if nbf > t + 300 || exp <= t || exp > t + 3600 {
        return Err("The assertion is not within its valid time range.".into());
    }
    if claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err("No jti.".into());
    }
    Ok(())
}

fn msi(st: &mut State, query: &str, headers: &BTreeMap<String, String>) -> Response {
    let q: BTreeMap<String, String> = azure_core::http::Url::parse(&format!("http://q/?{query}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let msi_error = |status: u16, message: &str| {
        response(
            status,
            json!({"statusCode": status, "message": message, "correlationId": "00000000-0000-0000-0000-000000000000"}),
        )
    };
    if headers.get("x-identity-header") != Some(&st.entra.identity_header) {
        return msi_error(
            401,
            "Unauthorized: the X-IDENTITY-HEADER is missing or wrong.",
        );
    }
    if q.get("api-version").map(String::as_str) != Some("2019-08-01") {
        return msi_error(400, "Unsupported api-version.");
    }
    let resource = q.get("resource").cloned().unwrap_or_default();
    if !st.entra.resources.contains(&resource) {
        return msi_error(400, &format!("The resource {resource} is not known."));
    }
    let principal = match (q.get("client_id"), &st.entra.system_identity) {
        (Some(c), _) if st.entra.identities.contains(c) => c.clone(),
        (Some(_), _) | (None, None) => {
            return msi_error(
                400,
                "No Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
            )
        }
        (None, Some(system)) => system.clone(),
    };
    if q.contains_key("object_id") || q.contains_key("msi_res_id") {
        return msi_error(400, "Only client_id is used by these tests.");
    }
    let token = issue(st, &principal, &resource);
    response(
        200,
        json!({
            "access_token": token,
            "expires_on": (now() + 3600).to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": principal,
        }),
    )
}

/// The tenant tests register apps in.
pub fn tenant() -> &'static str {
    TENANT
}
