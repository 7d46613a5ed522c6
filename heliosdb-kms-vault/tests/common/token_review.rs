//! A Kubernetes API server's TokenReview endpoint, as Vault's Kubernetes
//! auth method calls it: `POST /apis/authentication.k8s.io/v1/tokenreviews`
//! over HTTPS (a throwaway CA made with rcgen), the reviewer's bearer token
//! checked (401 with a `Status` object otherwise), and a `TokenReview`
//! answered with `201 Created` whose `status` says whether the token is one
//! this "cluster" issued — by exact match with the service-account tokens
//! it signed — with the `system:serviceaccount:<ns>:<name>` user, its uid
//! and groups, and the audiences, intersected with those requested as the
//! API server does (no match: not authenticated).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

/// The bearer token Vault's `token_reviewer_jwt` presents.
pub const REVIEWER_JWT: &str = "heliosdb-test-token-reviewer-jwt-9d2e";

#[derive(Clone)]
struct Account {
    token: String,
    namespace: String,
    name: String,
    uid: String,
    audiences: Vec<String>,
}

/// The endpoint; its listener thread ends with the test process.
pub struct TokenReviewer {
    pub addr: SocketAddr,
    ca_pem: String,
    accounts: Arc<Mutex<Vec<Account>>>,
    reviews: Arc<AtomicUsize>,
    signer: super::JwtSigner,
}

impl TokenReviewer {
    pub fn start() -> TokenReviewer {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "HeliosDB Nano test cluster CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let srv_key = rcgen::KeyPair::generate().unwrap();
        let srv_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        let srv_cert = srv_params.signed_by(&srv_key, &ca).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    vec![srv_cert.der().clone()],
                    rustls_pki_types::PrivateKeyDer::Pkcs8(srv_key.serialize_der().into()),
                )
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accounts: Arc<Mutex<Vec<Account>>> = Arc::default();
        let reviews = Arc::new(AtomicUsize::new(0));
        let (acc, rev) = (accounts.clone(), reviews.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (tls, acc, rev) = (tls.clone(), acc.clone(), rev.clone());
                std::thread::spawn(move || {
                    let Ok(server) = rustls::ServerConnection::new(tls) else {
                        return;
                    };
                    let stream = rustls::StreamOwned::new(server, conn);
                    let _ = serve(stream, &acc, &rev);
                });
            }
        });
        TokenReviewer {
            addr,
            ca_pem: ca.pem(),
            accounts,
            reviews,
            signer: super::JwtSigner::new(),
        }
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// TokenReview requests answered (authenticated or not).
    pub fn reviews(&self) -> usize {
        self.reviews.load(Ordering::SeqCst)
    }

    /// A service-account token for `namespace/name` with audience `aud`,
    /// shaped like a projected token (RS256, `kubernetes.io` claims),
    /// signed by this cluster's key and known to its TokenReview.
    pub fn issue(&self, namespace: &str, name: &str, aud: &str) -> String {
        let now = super::unix_now();
        let uid = format!("uid-{namespace}-{name}");
        let token = self.signer.sign(&json!({
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
            "aud": [aud],
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": { "name": name, "uid": uid },
            },
        }));
        self.accounts.lock().unwrap().push(Account {
            token: token.clone(),
            namespace: namespace.into(),
            name: name.into(),
            uid,
            audiences: vec![aud.into()],
        });
        token
    }
}

fn serve<S: Read + Write>(
    stream: S,
    accounts: &Mutex<Vec<Account>>,
    reviews: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    // Go's client keeps connections alive: answer requests until it closes.
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        let mut authorization = String::new();
        let mut content_type = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    "authorization" => authorization = v.trim().to_string(),
                    "content-type" => content_type = v.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let (status, answer) = answer(
            request_line.trim_end(),
            &authorization,
            &content_type,
            &body,
            accounts,
            reviews,
        );
        let text = answer.to_string();
        let reason = match status {
            201 => "Created",
            400 => "Bad Request",
            401 => "Unauthorized",
            _ => "Not Found",
        };
        write!(
            reader.get_mut(),
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{text}",
            text.len()
        )?;
        reader.get_mut().flush()?;
    }
}

fn status_object(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason, "code": code,
        }),
    )
}

fn answer(
    request_line: &str,
    authorization: &str,
    content_type: &str,
    body: &[u8],
    accounts: &Mutex<Vec<Account>>,
    reviews: &AtomicUsize,
) -> (u16, Value) {
    if request_line != "POST /apis/authentication.k8s.io/v1/tokenreviews HTTP/1.1" {
        return status_object(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    }
    if authorization != format!("Bearer {REVIEWER_JWT}") {
        return status_object(401, "Unauthorized", "Unauthorized");
    }
    if !content_type.starts_with("application/json") {
        return status_object(400, "BadRequest", "expected application/json");
    }
    let Ok(review) = serde_json::from_slice::<Value>(body) else {
        return status_object(400, "BadRequest", "the body is not a TokenReview");
    };
    let Some(token) = review["spec"]["token"].as_str() else {
        return status_object(400, "BadRequest", "spec.token: Required value");
    };
    reviews.fetch_add(1, Ordering::SeqCst);
    let requested: Vec<String> = review["spec"]["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let known = accounts
        .lock()
        .unwrap()
        .iter()
        .find(|a| a.token == token)
        .cloned();
    let status = match known {
        Some(a) => {
            let audiences: Vec<String> = if requested.is_empty() {
                a.audiences.clone()
            } else {
                requested
                    .iter()
                    .filter(|r| a.audiences.contains(r))
                    .cloned()
                    .collect()
            };
            if audiences.is_empty() {
                json!({ "authenticated": false, "user": {},
                        "error": "[invalid bearer token, token audiences are invalid]" })
            } else {
                json!({
                    "authenticated": true,
                    "user": {
                        "username": format!("system:serviceaccount:{}:{}", a.namespace, a.name),
                        "uid": a.uid,
                        "groups": ["system:serviceaccounts",
                                   format!("system:serviceaccounts:{}", a.namespace),
                                   "system:authenticated"],
                    },
                    "audiences": audiences,
                })
            }
        }
        None => json!({ "authenticated": false, "user": {},
                        "error": "[invalid bearer token, square/go-jose: error in cryptographic primitive]" }),
    };
    (
        201,
        json!({
            "kind": "TokenReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": { "creationTimestamp": null },
            "spec": review["spec"],
            "status": status,
        }),
    )
}
