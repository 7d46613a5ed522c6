//! SCRAM-SHA-256 on stored verifiers: real clients log in (psql over TLS
//! with and without channel binding, tokio-postgres in plaintext); what
//! the server stores, or `export --include-users` writes, is not a
//! password and cannot be turned into a proof; unknown users get a
//! challenge shaped like a real one, the same twice and across restarts;
//! malformed SCRAM messages end the login with a clean error; users stored
//! in the old format (SaltedPassword) are converted before the server
//! listens and keep logging in; a verifier PostgreSQL made logs in here.
//!
//! The raw client below speaks the protocol by hand, to send what real
//! clients never do.

mod common;

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::{psql, Certs, TestServer, PASSWORD, USER};
use heliosdb_core::config::ServerConfig;
use heliosdb_core::{Config, StorageEngine};
use heliosdb_server::users::{self, ScramVerifier};
use heliosdb_server::Server;
use hmac::{Hmac, Mac};
use pgwire::api::auth::sasl::scram::gen_salted_password;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().into()
}

/// One backend message: (tag, body).
async fn read_msg(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let tag = s.read_u8().await.ok()?;
    let len = s.read_u32().await.ok()? as usize;
    let mut body = vec![0; len.checked_sub(4)?];
    s.read_exact(&mut body).await.ok()?;
    Some((tag, body))
}

/// An ErrorResponse's SQLSTATE and message.
fn error_fields(body: &[u8]) -> (String, String) {
    let (mut code, mut msg) = (String::new(), String::new());
    for field in body.split(|&b| b == 0) {
        match field.first() {
            Some(b'C') => code = String::from_utf8_lossy(&field[1..]).into(),
            Some(b'M') => msg = String::from_utf8_lossy(&field[1..]).into(),
            _ => {}
        }
    }
    (code, msg)
}

fn password_msg(body: &[u8]) -> Vec<u8> {
    let mut m = vec![b'p'];
    m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn sasl_initial(mechanism: &str, data: &[u8]) -> Vec<u8> {
    let mut body = mechanism.as_bytes().to_vec();
    body.push(0);
    body.extend_from_slice(&(data.len() as u32).to_be_bytes());
    body.extend_from_slice(data);
    password_msg(&body)
}

/// A connection in the middle of SCRAM: after server-first.
struct Exchange {
    s: TcpStream,
    client_first_bare: String,
    server_first: String,
    nonce: String,
    salt: Vec<u8>,
    iterations: u32,
}

/// Connects as `user` (plaintext) and runs SCRAM up to server-first.
async fn start_exchange(port: u16, user: &str) -> Exchange {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut body = 196_608u32.to_be_bytes().to_vec();
    body.extend_from_slice(format!("user\0{user}\0database\0encrypted_db\0\0").as_bytes());
    let mut startup = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    startup.extend_from_slice(&body);
    s.write_all(&startup).await.unwrap();
    let (tag, body) = read_msg(&mut s).await.unwrap();
    assert_eq!(tag, b'R');
    assert_eq!(&body[..4], &10u32.to_be_bytes(), "SASL is asked for");
    assert!(String::from_utf8_lossy(&body).contains("SCRAM-SHA-256"));
    let client_first_bare = "n=,r=fyko+d2lbbFgONRv9qkxdawL".to_string();
    s.write_all(&sasl_initial(
        "SCRAM-SHA-256",
        format!("n,,{client_first_bare}").as_bytes(),
    ))
    .await
    .unwrap();
    let (tag, body) = read_msg(&mut s).await.unwrap();
    assert_eq!(tag, b'R');
    assert_eq!(&body[..4], &11u32.to_be_bytes(), "SASLContinue");
    let server_first = String::from_utf8(body[4..].to_vec()).unwrap();
    let mut nonce = None;
    let mut salt = None;
    let mut iterations = None;
    for attr in server_first.split(',') {
        match attr.split_at(2) {
            ("r=", v) => nonce = Some(v.to_string()),
            ("s=", v) => salt = Some(B64.decode(v).unwrap()),
            ("i=", v) => iterations = Some(v.parse().unwrap()),
            _ => panic!("unexpected {attr}"),
        }
    }
    let nonce = nonce.unwrap();
    assert!(nonce.starts_with("fyko+d2lbbFgONRv9qkxdawL") && nonce.len() > 30);
    Exchange {
        s,
        client_first_bare,
        server_first,
        nonce,
        salt: salt.unwrap(),
        iterations: iterations.unwrap(),
    }
}

impl Exchange {
    /// Sends a client-final proving `client_key`; returns the server's
    /// answer: `Ok(server-final)` when logged in, `Err((code, message))`.
    async fn finish(mut self, client_key: &[u8; 32]) -> Result<String, (String, String)> {
        let without_proof = format!("c=biws,r={}", self.nonce);
        let auth = format!(
            "{},{},{without_proof}",
            self.client_first_bare, self.server_first
        );
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let signature = hmac(&stored_key, auth.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature.iter())
            .map(|(a, b)| a ^ b)
            .collect();
        let last = format!("{without_proof},p={}", B64.encode(proof));
        self.send_final(last.as_bytes()).await
    }

    async fn send_final(&mut self, data: &[u8]) -> Result<String, (String, String)> {
        self.s.write_all(&password_msg(data)).await.unwrap();
        let (tag, body) = read_msg(&mut self.s).await.expect("an answer");
        match tag {
            b'R' => {
                assert_eq!(&body[..4], &12u32.to_be_bytes(), "SASLFinal");
                let (tag, body) = read_msg(&mut self.s).await.unwrap();
                assert_eq!((tag, &body[..]), (b'R', &0u32.to_be_bytes()[..]), "AuthOk");
                Ok(String::from_utf8(body.to_vec()).unwrap())
            }
            b'E' => {
                let e = error_fields(&body);
                // FATAL: the server closes the connection.
                let mut rest = Vec::new();
                let closed = tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    self.s.read_to_end(&mut rest),
                )
                .await;
                assert!(closed.is_ok(), "the connection stayed open after {e:?}");
                Err(e)
            }
            other => panic!("unexpected message {other}"),
        }
    }
}

fn client_key_of(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    hmac(
        &gen_salted_password(password, salt, iterations as usize),
        b"Client Key",
    )
}

/// The stored record of `alice`, the text `export --include-users` writes,
/// and its keys: none of them logs in, as a password or as key material
/// in a hand-made proof; the real password does, through the same raw
/// client (so the refusals are not the raw client's fault).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_or_exported_verifier_is_not_a_password() {
    let server = TestServer::start(true, None).await;
    let port = server.port();
    let record = server
        .engine
        .get(format!("__heliosdb_server/user/{USER}").as_bytes())
        .unwrap()
        .unwrap();
    let record = String::from_utf8(record).unwrap();
    let exported = users::export_verifiers(&server.engine).unwrap();
    let verifier = exported[0].1.to_text().to_string();
    assert!(record.contains(&verifier), "the record is the verifier");
    let keys_b64: Vec<&str> = verifier.rsplit('$').next().unwrap().split(':').collect();
    let stored = B64.decode(keys_b64[0]).unwrap();
    let server_key = B64.decode(keys_b64[1]).unwrap();

    // As a password, through real clients.
    for candidate in [record.as_str(), verifier.as_str(), keys_b64[0], keys_b64[1]] {
        let err = tokio_postgres::Config::new()
            .host("127.0.0.1")
            .port(port)
            .user(USER)
            .password(candidate)
            .dbname("encrypted_db")
            .connect(tokio_postgres::NoTls)
            .await
            .err()
            .expect("a verifier must not log in");
        let db = err.as_db_error().expect("a server refusal");
        assert_eq!(db.code().code(), "28P01", "{err}");
    }
    // As key material for a proof: StoredKey or ServerKey taken as
    // ClientKey, or as SaltedPassword (the finding's attack).
    let as_salted = |k: &[u8]| hmac(k, b"Client Key");
    for client_key in [
        <[u8; 32]>::try_from(&stored[..]).unwrap(),
        <[u8; 32]>::try_from(&server_key[..]).unwrap(),
        as_salted(&stored),
        as_salted(&server_key),
    ] {
        let x = start_exchange(port, USER).await;
        let (code, msg) = x.finish(&client_key).await.unwrap_err();
        assert_eq!(code, "28P01", "{msg}");
        assert!(msg
            .to_lowercase()
            .contains("password authentication failed"));
    }
    let x = start_exchange(port, USER).await;
    let key = client_key_of(PASSWORD, &x.salt, x.iterations);
    x.finish(&key).await.expect("the password logs in");
    server.stop().await;
}

/// The server's final message proves it holds ServerKey, as RFC 5802 says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_the_password_and_the_server_signature() {
    let server = TestServer::start(true, None).await;
    let x = start_exchange(server.port(), USER).await;
    assert_eq!((x.iterations, x.salt.len()), (4096, 16));
    let salted = gen_salted_password(PASSWORD, &x.salt, 4096);
    let auth = format!(
        "{},{},c=biws,r={}",
        x.client_first_bare, x.server_first, x.nonce
    );
    let expected = format!(
        "v={}",
        B64.encode(hmac(&hmac(&salted, b"Server Key"), auth.as_bytes()))
    );
    let key = hmac(&salted, b"Client Key");
    let mut x = x;
    let without_proof = format!("c=biws,r={}", x.nonce);
    let signature = hmac(&Sha256::digest(key), auth.as_bytes());
    let proof: Vec<u8> = key.iter().zip(signature).map(|(a, b)| a ^ b).collect();
    let final_msg = format!("{without_proof},p={}", B64.encode(proof));
    x.s.write_all(&password_msg(final_msg.as_bytes()))
        .await
        .unwrap();
    let (tag, body) = read_msg(&mut x.s).await.unwrap();
    assert_eq!(tag, b'R');
    assert_eq!(&body[..4], &12u32.to_be_bytes());
    assert_eq!(String::from_utf8_lossy(&body[4..]), expected);
    // Wrong password, unknown user: the same refusal, through a real client.
    for (user, pw) in [(USER, "wrong-password"), ("mallory", PASSWORD)] {
        let err = tokio_postgres::connect(&server.conn_str(user, pw), tokio_postgres::NoTls)
            .await
            .err()
            .expect("refused");
        assert_eq!(err.as_db_error().unwrap().code().code(), "28P01");
    }
    let c = server.client().await;
    c.simple_query("SELECT 1").await.unwrap();
    server.stop().await;
}

/// psql over TLS (verify-full): with channel binding required
/// (SCRAM-SHA-256-PLUS, tls-server-end-point), and disabled (plain SCRAM).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_logs_in_over_tls_with_and_without_channel_binding() {
    let certs = Certs::new();
    let server = TestServer::start(true, Some(certs.ssl("1.3", false))).await;
    let port = server.port();
    for binding in ["require", "disable"] {
        let env = vec![
            ("PGSSLMODE", "verify-full".to_string()),
            ("PGSSLROOTCERT", certs.path("ca.crt").display().to_string()),
            ("PGCHANNELBINDING", binding.to_string()),
        ];
        let (ok, out, err) = tokio::task::spawn_blocking(move || {
            psql(port, USER, PASSWORD, &env, "SELECT 41 + 1 AS answer;")
        })
        .await
        .unwrap();
        assert!(ok && out.contains("42"), "channel_binding={binding}: {err}");
        let env = vec![
            ("PGSSLMODE", "verify-full".to_string()),
            ("PGSSLROOTCERT", certs.path("ca.crt").display().to_string()),
            ("PGCHANNELBINDING", binding.to_string()),
        ];
        let (ok, _, err) = tokio::task::spawn_blocking(move || {
            psql(port, USER, "not-the-password", &env, "SELECT 1;")
        })
        .await
        .unwrap();
        assert!(
            !ok && err
                .to_lowercase()
                .contains("password authentication failed"),
            "{err}"
        );
    }
    server.stop().await;
}

/// An unknown user gets a 16-byte salt and 4096 iterations like a real
/// user, the same salt on every attempt and after a restart (the secret is
/// kept in the store), a different one per name; the exchange then fails
/// exactly like a wrong password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_get_the_same_challenge_every_time() {
    let server = TestServer::start(true, None).await;
    let port = server.port();
    let real = start_exchange(port, USER).await;
    let a = start_exchange(port, "mallory").await;
    let b = start_exchange(port, "mallory").await;
    let other = start_exchange(port, "trudy").await;
    assert_eq!(
        (a.salt.len(), a.iterations),
        (real.salt.len(), real.iterations)
    );
    assert_eq!(a.salt, b.salt, "the fake salt changes between attempts");
    assert_ne!(a.salt, other.salt);
    assert_ne!(a.salt, real.salt);
    assert_ne!(a.nonce, b.nonce, "nonces are fresh");
    let real_again = start_exchange(port, USER).await;
    assert_eq!(real.salt, real_again.salt);
    let key = client_key_of(PASSWORD, &a.salt, a.iterations);
    let (code, msg) = a.finish(&key).await.unwrap_err();
    let wrong = client_key_of("wrong", &real.salt, 4096);
    let (real_code, real_msg) = real.finish(&wrong).await.unwrap_err();
    assert_eq!(code, real_code);
    assert_eq!(
        msg.replace("mallory", "USER"),
        real_msg.replace(USER, "USER")
    );

    // Another server on the same store: the same fake salt.
    let again = Server::bind(
        server.engine.clone(),
        &ServerConfig {
            host: "127.0.0.1".into(),
            port: 0,
            ..ServerConfig::default()
        },
    )
    .await
    .unwrap();
    let port2 = again.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(again.run(async {
        let _ = rx.await;
    }));
    let c = start_exchange(port2, "mallory").await;
    assert_eq!(c.salt, b.salt, "the fake salt changed with a restart");
    drop(c);
    let _ = tx.send(());
    task.await.unwrap().unwrap();
    server.stop().await;
}

/// Malformed SCRAM messages: each ends that login with FATAL 08P01 (or
/// 28P01 for a proof that is well-formed but wrong) and a message that
/// does not quote the client's bytes; nothing panics, and the server keeps
/// serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_scram_messages_are_clean_errors() {
    let server = TestServer::start(true, None).await;
    let port = server.port();
    let proof = B64.encode([7u8; 32]);
    let finals: Vec<(String, &str)> = vec![
        // Bad nonce: not the one the server issued.
        (
            format!("c=biws,r=fyko+d2lbbFgONRv9qkxdawL,p={proof}"),
            "nonce",
        ),
        (format!("c=biws,r=somethingelse,p={proof}"), "nonce"),
        // Bad proof base64, and a proof of the wrong length.
        ("c=biws,r=NONCE,p=!!not*base64!!".into(), "base64"),
        (
            format!("c=biws,r=NONCE,p={}", B64.encode([7u8; 12])),
            "32 bytes",
        ),
        // Truncated client-final messages.
        ("c=biws,r=NONCE".into(), "proof"),
        ("c=biws,r=".into(), "proof"),
        ("c=bi".into(), "proof"),
        ("".into(), "proof"),
        // Channel binding that is not what client-first said.
        (format!("c=eSws,r=NONCE,p={proof}"), "channel binding"),
        ("\u{fffd}\u{0}\u{1}".into(), "proof"),
    ];
    for (msg, why) in finals {
        let mut x = start_exchange(port, USER).await;
        let msg = msg.replace("NONCE", &x.nonce);
        let (code, text) = x.send_final(msg.as_bytes()).await.unwrap_err();
        assert_eq!(code, "08P01", "{msg}: {text}");
        assert!(text.contains(why), "{msg}: {text}");
        assert!(
            !text.contains(&proof),
            "the error quotes the message: {text}"
        );
    }
    // Malformed client-first messages, and an unknown mechanism.
    for (mechanism, first, code) in [
        ("SCRAM-SHA-256", &b"garbage"[..], "08P01"),
        ("SCRAM-SHA-256", b"n,,r=abc", "08P01"),
        ("SCRAM-SHA-256", b"n,,n=,r=", "08P01"),
        (
            "SCRAM-SHA-256",
            b"p=tls-server-end-point,,n=,r=abc",
            "08P01",
        ),
        ("SCRAM-SHA-256", b"n,a=admin,n=,r=abc", "08P01"),
        ("SCRAM-SHA-256", b"\xff\xfe", "08P01"),
        // -PLUS is not offered without TLS.
        (
            "SCRAM-SHA-256-PLUS",
            b"p=tls-server-end-point,,n=,r=abc",
            "08P01",
        ),
        ("PLAIN", b"\0alice\0pw", "08P01"),
    ] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut body = 196_608u32.to_be_bytes().to_vec();
        body.extend_from_slice(b"user\0alice\0database\0encrypted_db\0\0");
        let mut startup = ((body.len() + 4) as u32).to_be_bytes().to_vec();
        startup.extend_from_slice(&body);
        s.write_all(&startup).await.unwrap();
        assert_eq!(read_msg(&mut s).await.unwrap().0, b'R');
        s.write_all(&sasl_initial(mechanism, first)).await.unwrap();
        let (tag, body) = read_msg(&mut s).await.unwrap();
        assert_eq!(tag, b'E', "{mechanism} {first:?}");
        let (got, text) = error_fields(&body);
        assert_eq!(got, code, "{mechanism} {first:?}: {text}");
    }
    // Still serving.
    let c = server.client().await;
    c.simple_query("SELECT 1").await.unwrap();
    server.stop().await;
}

/// A user stored the old way (salt + SaltedPassword) is converted to a
/// verifier when the server binds, and still logs in with its password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_salted_password_users_are_converted_and_still_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(StorageEngine::open(dir.path().join("db"), &Config::default()).unwrap());
    let salt = [9u8; 16];
    let salted = gen_salted_password("bob-password", &salt, 4096);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let old = serde_json::json!({
        "v": 1, "mechanism": "SCRAM-SHA-256", "iterations": 4096,
        "salt": hex(&salt), "salted_password": hex(&salted),
    })
    .to_string();
    engine
        .put(b"__heliosdb_server/user/bob", old.as_bytes())
        .unwrap();
    let server = Server::bind(
        engine.clone(),
        &ServerConfig {
            host: "127.0.0.1".into(),
            port: 0,
            ..ServerConfig::default()
        },
    )
    .await
    .unwrap();
    let stored =
        String::from_utf8(engine.get(b"__heliosdb_server/user/bob").unwrap().unwrap()).unwrap();
    assert!(!stored.contains(&hex(&salted)) && !stored.contains("salted_password"));
    assert!(stored.contains("SCRAM-SHA-256$4096:"), "{stored}");
    let port = server.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    let conn =
        format!("host=127.0.0.1 port={port} user=bob password=bob-password dbname=encrypted_db");
    let (c, conn) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    c.simple_query("SELECT 1").await.unwrap();
    drop(c);
    let _ = tx.send(());
    task.await.unwrap().unwrap();
}

/// A verifier PostgreSQL 15 made (`CREATE ROLE pencil LOGIN PASSWORD
/// 'pencil'`, read back from `pg_authid`), added as `import
/// --include-users` adds it: psql logs in with the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_made_by_postgresql_logs_in() {
    let server = TestServer::start(true, None).await;
    let v = ScramVerifier::parse(
        "SCRAM-SHA-256$4096:lkDaTyNlYwNwu7kFgX86Hg==$\
         kw1LrPuZuYPBiOyNO/eHiFj1EYJWcO1CGl9YajthFnI=:\
         4mqyg4bli3FWZMaWkQB0SDrYZ1pN98haRROaWd3AiEo=",
    )
    .unwrap();
    users::add_user_verifier(&server.engine, "pencil", &v).unwrap();
    let port = server.port();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        psql(
            port,
            "pencil",
            "pencil",
            &[("PGSSLMODE", "disable".into())],
            "SELECT 7 AS seven;",
        )
    })
    .await
    .unwrap();
    assert!(ok && out.contains(" seven"), "{err}");
    server.stop().await;
}
