//! Test fixtures: a real `moto_server` on 127.0.0.1 and a counting TCP proxy
//! in front of it.
//!
//! The proxy counts the KMS operations that cross the wire (by their
//! `X-Amz-Target` header) and can be cut to simulate an outage; the SDK under
//! test talks to the proxy exactly as it would to AWS.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use aws_sdk_kms::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The pinned moto release `./dev` installs (keep in step with `./dev`).
pub const MOTO_PIN: &str = "moto[server]==5.2.5";
pub const REGION: &str = "us-east-1";
/// Static test credentials; moto accepts any.
pub const ACCESS_KEY: &str = "AKIAHELIOSDBTESTING0";
pub const SECRET_KEY: &str = "heliosdb-test-secret-access-key-0123456789";

/// Puts the static test credentials in the environment and cuts every other
/// credential or region source (profiles, instance metadata), so nothing
/// reaches beyond 127.0.0.1.
pub fn test_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", ACCESS_KEY);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
        std::env::remove_var("AWS_SESSION_TOKEN");
        std::env::remove_var("AWS_PROFILE");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/heliosdb-test-aws-config");
        std::env::set_var(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/heliosdb-test-aws-credentials",
        );
        std::env::set_var("AWS_REGION", REGION);
    });
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = StdListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

fn wait_for_port(addr: SocketAddr, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if StdStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening on {addr} ({status})");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {addr} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A `moto_server` child process, killed on drop.
pub struct Moto {
    child: Child,
    pub addr: SocketAddr,
}

impl Moto {
    /// Starts `moto_server` on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// With instructions when `moto_server` is not installed.
    pub fn start() -> Moto {
        test_env();
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot start moto_server ({e}): the AWS KMS tests need it. Install it with \
                 `./dev install-test-deps` or `pip install '{MOTO_PIN}'`"
            ),
        };
        // Drain stderr so a chatty server never blocks on a full pipe.
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || for _ in BufReader::new(err).lines() {});
        wait_for_port(addr, &mut child, "moto_server");
        Moto { child, addr }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An SDK client straight to moto (for test setup, not under test).
    pub async fn admin(&self) -> Client {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(self.endpoint())
            .load()
            .await;
        Client::new(&conf)
    }

    /// Creates a symmetric key with an alias; returns (key id, key ARN).
    pub async fn create_key(&self, alias: &str) -> (String, String) {
        let c = self.admin().await;
        let meta = c
            .create_key()
            .description("heliosdb test key")
            .send()
            .await
            .expect("CreateKey")
            .key_metadata
            .expect("key metadata");
        c.create_alias()
            .alias_name(alias)
            .target_key_id(meta.key_id())
            .send()
            .await
            .expect("CreateAlias");
        (meta.key_id().to_string(), meta.arn().unwrap().to_string())
    }
}

impl Moto {
    /// The STS `AssumeRole` sessions moto has handed out, as its model
    /// dump (`/moto-api/data.json`) shows them: `role_arn`,
    /// `session_name`, `external_id`, `access_key_id`, …
    pub fn assumed_roles(&self) -> Vec<serde_json::Value> {
        use std::io::{Read, Write};
        let mut s = StdStream::connect_timeout(&self.addr, Duration::from_secs(2)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET /moto-api/data.json HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let out = String::from_utf8_lossy(&out);
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        // Flask may answer chunked; the JSON is one object from { to }.
        let json = &body[body.find('{').unwrap()..=body.rfind('}').unwrap()];
        let data: serde_json::Value = serde_json::from_str(json).unwrap();
        data["sts"]["AssumedRole"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy on 127.0.0.1 that counts KMS operations by name and can be cut.
pub struct CountingProxy {
    pub addr: SocketAddr,
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
    up: Arc<AtomicBool>,
    generation: Arc<AtomicUsize>,
    rt: Option<tokio::runtime::Runtime>,
}

const TARGET: &[u8] = b"TrentService.";

impl CountingProxy {
    pub fn start(upstream: SocketAddr) -> CountingProxy {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicUsize::new(0));
        let (c, u, g) = (counts.clone(), up.clone(), generation.clone());
        rt.spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if !u.load(Ordering::SeqCst) {
                    drop(client); // outage: accept and hang up
                    continue;
                }
                let (c, u, g) = (c.clone(), u.clone(), g.clone());
                tokio::spawn(async move {
                    let born = g.load(Ordering::SeqCst);
                    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    pump(client, server, c, u, g, born).await;
                });
            }
        });
        CountingProxy {
            addr,
            counts,
            up,
            generation,
            rt: Some(rt),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests of KMS operation `op` (e.g. `Decrypt`) passed.
    pub fn count(&self, op: &str) -> usize {
        self.counts.lock().unwrap().get(op).copied().unwrap_or(0)
    }

    /// All operations seen since the last reset.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.counts.lock().unwrap().clone()
    }

    pub fn reset(&self) {
        self.counts.lock().unwrap().clear();
    }

    /// Cuts the service: new connections are dropped, open ones closed.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

async fn pump(
    mut client: tokio::net::TcpStream,
    mut server: tokio::net::TcpStream,
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
    up: Arc<AtomicBool>,
    generation: Arc<AtomicUsize>,
    born: usize,
) {
    let mut cbuf = vec![0u8; 64 * 1024];
    let mut sbuf = vec![0u8; 64 * 1024];
    // Bytes of the request stream not yet scanned past (an operation name
    // may straddle two reads).
    let mut tail: Vec<u8> = Vec::new();
    loop {
        if !up.load(Ordering::SeqCst) || generation.load(Ordering::SeqCst) != born {
            return;
        }
        tokio::select! {
            n = client.read(&mut cbuf) => {
                let Ok(n) = n else { return };
                if n == 0 { return; }
                tail.extend_from_slice(&cbuf[..n]);
                scan(&mut tail, &counts);
                if server.write_all(&cbuf[..n]).await.is_err() { return; }
            }
            n = server.read(&mut sbuf) => {
                let Ok(n) = n else { return };
                if n == 0 { return; }
                if client.write_all(&sbuf[..n]).await.is_err() { return; }
            }
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

/// Counts complete `TrentService.<Op>` names in `buf` and keeps only what
/// may be the start of the next one.
fn scan(buf: &mut Vec<u8>, counts: &Mutex<BTreeMap<String, usize>>) {
    let mut i = 0;
    while let Some(pos) = find(&buf[i..], TARGET) {
        let start = i + pos + TARGET.len();
        let end = buf[start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map(|p| start + p);
        let Some(end) = end else {
            // The name runs to the end of what we have: wait for more.
            buf.drain(..i + pos);
            return;
        };
        let op = String::from_utf8_lossy(&buf[start..end]).into_owned();
        *counts.lock().unwrap().entry(op).or_default() += 1;
        i = end;
    }
    let keep = buf.len().saturating_sub(TARGET.len()).max(i);
    buf.drain(..keep);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
