//! A strict local Google identity for the tests: the OAuth 2.0 token
//! endpoint that `authorized_user` Application Default Credentials refresh
//! against (`POST /token`, `grant_type=refresh_token`), and the IAM Service
//! Account Credentials API's `generateAccessToken`
//! (`POST /v1/projects/-/serviceAccounts/{sa}:generateAccessToken`).
//!
//! Like the real API it checks the caller's bearer token (401
//! UNAUTHENTICATED), the request (scope, `lifetime` as `"<n>s"` up to one
//! hour, delegates as `projects/-/serviceAccounts/…`: else 400
//! INVALID_ARGUMENT), that every service account exists (404 "Gaia id not
//! found"), and that each link of the chain holds
//! `roles/iam.serviceAccountTokenCreator` on the next — the caller on the
//! first delegate (or the target), each delegate on the next, the last on
//! the target — else 403 PERMISSION_DENIED with Google's body. It issues
//! tokens that expire (`expireTime` = now + lifetime) and answers, through
//! [`FakeIam::verifier`], which principal a token stands for while it is
//! live: the fake Cloud KMS uses that to accept only live tokens and to
//! apply the caller's own permissions.
//!
//! A module of the test crates that declare it beside `common` (not part of
//! `common`, which other crates' tests include without the dependencies
//! this one needs).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::common::{unauthenticated, Verifier};

/// `roles/iam.serviceAccountTokenCreator`'s permission that
/// `generateAccessToken` needs.
pub const GET_ACCESS_TOKEN: &str = "iam.serviceAccounts.getAccessToken";
pub const CLIENT_ID: &str = "heliosdb-test.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "heliosdb-test-secret";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const MAX_LIFETIME_SECS: u64 = 3600;

/// What the fake answers one `generateAccessToken` with instead of serving it.
#[derive(Clone, Copy, Debug)]
pub enum IamFault {
    /// 503 UNAVAILABLE.
    Unavailable,
    /// 200 with a body that is not JSON.
    NotJson,
    /// 200 with an expireTime but no accessToken.
    NoToken,
    /// 200 with a token whose expireTime is an hour ago.
    Expired,
}

#[derive(Default)]
struct State {
    /// OAuth refresh token -> user principal (`user:…`).
    refresh_tokens: BTreeMap<String, String>,
    /// Access token -> (principal, expiry).
    tokens: BTreeMap<String, (String, SystemTime)>,
    service_accounts: BTreeSet<String>,
    /// Service account -> principals holding Token Creator on it.
    token_creators: BTreeMap<String, BTreeSet<String>>,
    faults: VecDeque<IamFault>,
    counts: BTreeMap<&'static str, usize>,
    /// Target service account -> lifetimes (seconds) of the tokens minted
    /// for it, in order.
    minted: BTreeMap<String, Vec<u64>>,
    next: u64,
}

/// The fake identity server; stops with its runtime on drop.
pub struct FakeIam {
    pub addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    rt: Option<tokio::runtime::Runtime>,
}

impl FakeIam {
    pub fn start() -> FakeIam {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        rt.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = serve(conn, s).await;
                });
            }
        });
        FakeIam {
            addr,
            state,
            rt: Some(rt),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A user whose ADC refresh token is `refresh_token`; returns the
    /// principal (`user:{email}`).
    pub fn add_user(&self, email: &str, refresh_token: &str) -> String {
        let principal = format!("user:{email}");
        self.state
            .lock()
            .unwrap()
            .refresh_tokens
            .insert(refresh_token.to_string(), principal.clone());
        principal
    }

    /// Creates service account `email`; returns its principal.
    pub fn add_service_account(&self, email: &str) -> String {
        self.state
            .lock()
            .unwrap()
            .service_accounts
            .insert(email.to_string());
        format!("serviceAccount:{email}")
    }

    /// Grants `principal` roles/iam.serviceAccountTokenCreator on `sa`.
    pub fn grant_token_creator(&self, sa: &str, principal: &str) {
        self.state
            .lock()
            .unwrap()
            .token_creators
            .entry(sa.to_string())
            .or_default()
            .insert(principal.to_string());
    }

    /// Writes an `authorized_user` ADC file whose token URI is this server.
    pub fn adc_file(&self, dir: &std::path::Path, refresh_token: &str) -> PathBuf {
        let path = dir.join("adc.json");
        let json = json!({
            "type": "authorized_user",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": refresh_token,
            "token_uri": format!("{}/token", self.endpoint()),
        });
        std::fs::write(&path, json.to_string()).unwrap();
        path
    }

    pub fn inject(&self, faults: &[IamFault]) {
        self.state
            .lock()
            .unwrap()
            .faults
            .extend(faults.iter().copied());
    }

    /// Requests served per endpoint: `token` (OAuth) and `generateAccessToken`.
    pub fn count(&self, what: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .counts
            .get(what)
            .copied()
            .unwrap_or(0)
    }

    /// The lifetimes (seconds) of the tokens minted for service account
    /// `sa` (one entry per token, faults included).
    pub fn minted(&self, sa: &str) -> Vec<u64> {
        self.state
            .lock()
            .unwrap()
            .minted
            .get(sa)
            .cloned()
            .unwrap_or_default()
    }

    /// Every access token ever issued (to check none leaks into messages).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.lock().unwrap().tokens.keys().cloned().collect()
    }

    /// Maps a live access token to its principal; for `FakeKms::require_tokens`.
    pub fn verifier(&self) -> Verifier {
        let state = self.state.clone();
        Arc::new(move |token: &str| {
            let st = state.lock().unwrap();
            st.tokens
                .get(token)
                .filter(|(_, expiry)| SystemTime::now() < *expiry)
                .map(|(principal, _)| principal.clone())
        })
    }
}

impl Drop for FakeIam {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn google_error(code: u16, status: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

async fn serve(conn: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (r, mut w) = conn.into_split();
    let mut r = BufReader::new(r);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let (mut len, mut bearer, mut content_type) = (0usize, None, String::new());
        loop {
            let mut h = String::new();
            r.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let v = v.trim();
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.parse().unwrap_or(0);
                } else if k.eq_ignore_ascii_case("authorization") {
                    bearer = v.strip_prefix("Bearer ").map(str::to_string);
                } else if k.eq_ignore_ascii_case("content-type") {
                    content_type = v.to_ascii_lowercase();
                }
            }
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).await?;
        let (status, text) = handle(
            &method,
            &target,
            &content_type,
            bearer.as_deref(),
            &body,
            &state,
        );
        let reason = if status == 200 { "OK" } else { "Error" };
        w.write_all(
            format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=UTF-8\r\n\
                 Content-Length: {}\r\n\r\n{text}",
                text.len()
            )
            .as_bytes(),
        )
        .await?;
    }
}

fn handle(
    method: &str,
    target: &str,
    content_type: &str,
    bearer: Option<&str>,
    body: &[u8],
    state: &Mutex<State>,
) -> (u16, String) {
    let mut st = state.lock().unwrap();
    if method == "POST" && target == "/token" {
        *st.counts.entry("token").or_default() += 1;
        let (status, v) = oauth_token(&mut st, content_type, body);
        return (status, v.to_string());
    }
    let sa = target
        .strip_prefix("/v1/projects/-/serviceAccounts/")
        .and_then(|rest| rest.strip_suffix(":generateAccessToken"));
    let (Some(sa), "POST") = (sa, method) else {
        let (s, v) = google_error(404, "NOT_FOUND", &format!("no method {method} {target}"));
        return (s, v.to_string());
    };
    *st.counts.entry("generateAccessToken").or_default() += 1;
    let (status, v) = match generate(&mut st, sa, content_type, bearer, body) {
        Ok(v) => (200, v),
        Err(e) => e,
    };
    if status != 200 {
        return (status, v.to_string());
    }
    match st.faults.pop_front() {
        None => (200, v.to_string()),
        Some(IamFault::Unavailable) => {
            let (s, v) = google_error(503, "UNAVAILABLE", "The service is currently unavailable.");
            (s, v.to_string())
        }
        Some(IamFault::NotJson) => (200, "<html>ya29.not-json</html>".to_string()),
        Some(IamFault::NoToken) => (200, json!({"expireTime": v["expireTime"]}).to_string()),
        Some(IamFault::Expired) => {
            let past = rfc3339(SystemTime::now() - Duration::from_secs(3600));
            (
                200,
                json!({"accessToken": v["accessToken"], "expireTime": past}).to_string(),
            )
        }
    }
}

/// The OAuth 2.0 refresh-token grant, as Google's token endpoint checks it.
fn oauth_token(st: &mut State, content_type: &str, body: &[u8]) -> (u16, Value) {
    let invalid = |e: &str, d: &str| (400, json!({"error": e, "error_description": d}));
    // Google's endpoint takes the grant as a form or as JSON (Google's
    // Rust client sends JSON).
    let form: BTreeMap<String, String> = if content_type.starts_with("application/json") {
        match serde_json::from_slice::<BTreeMap<String, Value>>(body) {
            Ok(m) => m
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                .collect(),
            Err(_) => return invalid("invalid_request", "Invalid JSON"),
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        String::from_utf8_lossy(body)
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.replace("%40", "@").replace("%2F", "/")))
            .collect()
    } else {
        return invalid("invalid_request", "Invalid content type");
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if get("grant_type") != "refresh_token" {
        return invalid("unsupported_grant_type", "Invalid grant_type");
    }
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return (
            401,
            json!({"error": "invalid_client", "error_description": "Unauthorized"}),
        );
    }
    let Some(principal) = st.refresh_tokens.get(get("refresh_token")).cloned() else {
        return invalid("invalid_grant", "Bad Request");
    };
    let token = issue(st, &principal, Duration::from_secs(3599));
    (
        200,
        json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer", "scope": SCOPE}),
    )
}

fn issue(st: &mut State, principal: &str, lifetime: Duration) -> String {
    st.next += 1;
    let mut r = [0u8; 8];
    heliosdb_crypto::fill_random(&mut r).unwrap();
    let token = format!("ya29.fake-{}-{}", st.next, hex(&r));
    st.tokens.insert(
        token.clone(),
        (principal.to_string(), SystemTime::now() + lifetime),
    );
    token
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn denied() -> (u16, Value) {
    (
        403,
        json!({"error": {
            "code": 403,
            "message": format!("Permission '{GET_ACCESS_TOKEN}' denied on resource (or it may not exist)."),
            "status": "PERMISSION_DENIED",
            "details": [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "IAM_PERMISSION_DENIED",
                "domain": "iam.googleapis.com",
                "metadata": {"permission": GET_ACCESS_TOKEN},
            }],
        }}),
    )
}

fn generate(
    st: &mut State,
    sa: &str,
    content_type: &str,
    bearer: Option<&str>,
    body: &[u8],
) -> Result<Value, (u16, Value)> {
    let caller = bearer
        .and_then(|t| st.tokens.get(t))
        .filter(|(_, expiry)| SystemTime::now() < *expiry)
        .map(|(p, _)| p.clone())
        .ok_or_else(unauthenticated)?;
    let invalid = |m: &str| google_error(400, "INVALID_ARGUMENT", m);
    if !content_type.starts_with("application/json") {
        return Err(invalid(
            "Invalid JSON payload received: wrong content type.",
        ));
    }
    let req: Value =
        serde_json::from_slice(body).map_err(|_| invalid("Invalid JSON payload received."))?;
    let scopes = req["scope"].as_array().cloned().unwrap_or_default();
    if scopes.is_empty() || scopes.iter().any(|s| !s.is_string()) {
        return Err(invalid("Scope required."));
    }
    let lifetime = match req.get("lifetime") {
        None => MAX_LIFETIME_SECS,
        Some(v) => v
            .as_str()
            .and_then(|s| s.strip_suffix('s'))
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| (1..=MAX_LIFETIME_SECS).contains(n))
            .ok_or_else(|| {
                invalid("The lifetime is invalid: it must be a duration of at most 3600s.")
            })?,
    };
    let mut chain = Vec::new();
    for d in req
        .get("delegates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let email = d
            .as_str()
            .and_then(|s| s.strip_prefix("projects/-/serviceAccounts/"))
            .ok_or_else(|| {
                invalid("Delegates must be of the form projects/-/serviceAccounts/{email}.")
            })?;
        chain.push(email.to_string());
    }
    chain.push(sa.to_string());
    for link in &chain {
        if !st.service_accounts.contains(link) {
            return Err(google_error(
                404,
                "NOT_FOUND",
                &format!("Not found; Gaia id not found for email {link}"),
            ));
        }
    }
    let mut who = caller;
    for link in &chain {
        let allowed = st
            .token_creators
            .get(link)
            .is_some_and(|p| p.contains(&who));
        if !allowed {
            return Err(denied());
        }
        who = format!("serviceAccount:{link}");
    }
    st.minted.entry(sa.to_string()).or_default().push(lifetime);
    let life = Duration::from_secs(lifetime);
    let token = issue(st, &who, life);
    Ok(json!({"accessToken": token, "expireTime": rfc3339(SystemTime::now() + life)}))
}
