//! Shared test helpers: a server on 127.0.0.1 with a free port over an
//! encrypted (or plaintext) engine, a throwaway real PostgreSQL cluster
//! (the benchmark's and the conformance suite's reference), a throwaway CA
//! made with `openssl`, and a file scan for plaintext.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;

use heliosdb_core::config::{ServerConfig, SslConfig};
use heliosdb_core::{Config, StorageEngine};
use heliosdb_keys::FakeSource;
use heliosdb_server::{users, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "alice-correct-horse";

pub struct TestServer {
    pub addr: SocketAddr,
    pub engine: Arc<StorageEngine>,
    pub db_path: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<heliosdb_server::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// Threads of this process (Linux).
pub fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}

impl TestServer {
    pub async fn start(encrypted: bool, ssl: Option<SslConfig>) -> TestServer {
        Self::start_with(Config::default(), encrypted, ssl).await
    }

    /// As [`TestServer::start`] with `config` for the engine (e.g. `[audit]`).
    pub async fn start_with(config: Config, encrypted: bool, ssl: Option<SslConfig>) -> TestServer {
        Self::start_configured(config, encrypted, ssl, |_| {}).await
    }

    /// A plaintext, encrypted-engine server whose `[server]` settings
    /// `server` adjusts (limits, timeouts).
    pub async fn start_limited(server: impl FnOnce(&mut ServerConfig)) -> TestServer {
        Self::start_configured(Config::default(), true, None, server).await
    }

    async fn start_configured(
        mut config: Config,
        encrypted: bool,
        ssl: Option<SslConfig>,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("db");
        let engine = if encrypted {
            config.encryption.enabled = true;
            StorageEngine::open_with_source(&db_path, &config, Arc::new(FakeSource::new(3)))
                .unwrap()
        } else {
            StorageEngine::open(&db_path, &config).unwrap()
        };
        let engine = Arc::new(engine);
        users::add_user(&engine, USER, PASSWORD).unwrap();
        let mut server_config = ServerConfig {
            host: "127.0.0.1".into(),
            port: 0,
            ssl_enabled: ssl.is_some(),
            ssl: ssl.unwrap_or_default(),
            ..ServerConfig::default()
        };
        adjust(&mut server_config);
        let server = Server::bind(engine.clone(), &server_config).await.unwrap();
        let addr = server.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            engine,
            db_path,
            stop: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn conn_str(&self, user: &str, password: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={user} password={password} dbname=encrypted_db",
            self.port()
        )
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) =
            tokio_postgres::connect(&self.conn_str(USER, PASSWORD), tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(conn);
        client
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }
}

/// A throwaway CA, a server certificate for localhost / 127.0.0.1 and a
/// client certificate for `alice`, all made with the `openssl` command.
pub struct Certs {
    pub dir: tempfile::TempDir,
}

impl Certs {
    pub fn new() -> Certs {
        let dir = tempfile::tempdir().unwrap();
        let script = r#"
set -e
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout ca.key -out ca.crt -days 2 -subj /CN=heliosdb-test-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout server.key -out server.csr -subj /CN=localhost
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
  -out server.crt -days 2 -extfile server.ext
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout client.key -out client.csr -subj /CN=alice
printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' > client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
  -out client.crt -days 2 -extfile client.ext
chmod 600 client.key
"#;
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(dir.path())
            .output()
            .expect("openssl is needed for the TLS tests");
        assert!(
            out.status.success(),
            "openssl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Certs { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn ssl(&self, min: &str, client_certs: bool) -> SslConfig {
        SslConfig {
            enabled: true,
            cert_file: Some(self.path("server.crt")),
            key_file: Some(self.path("server.key")),
            ca_file: client_certs.then(|| self.path("ca.crt")),
            min_tls_version: Some(min.into()),
        }
    }
}

/// Runs the real `psql` with a script on standard input; returns (success, stdout, stderr).
pub fn psql(
    port: u16,
    user: &str,
    password: &str,
    env: &[(&str, String)],
    script: &str,
) -> (bool, String, String) {
    let port = port.to_string();
    let mut env = env.to_vec();
    env.push(("PGPASSWORD", password.to_string()));
    env.push(("PGCONNECT_TIMEOUT", "10".to_string()));
    let out = psql_raw(
        &[
            "-h",
            "localhost",
            "-p",
            &port,
            "-U",
            user,
            "-d",
            "encrypted_db",
        ],
        &env,
        script,
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the real `psql -X -v ON_ERROR_STOP=1` with `args` (host, port,
/// user, database) and a script on standard input.
pub fn psql_raw(args: &[&str], env: &[(&str, String)], script: &str) -> std::process::Output {
    use std::io::Write;
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("psql is needed for this test");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Every needle found in any file under `dir`.
pub fn find_in_files(dir: &Path, needles: &[&str]) -> Vec<(String, PathBuf)> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let data = std::fs::read(&p).unwrap();
            for n in needles {
                if data.windows(n.len()).any(|w| w == n.as_bytes()) {
                    hits.push((n.to_string(), p.clone()));
                }
            }
        }
    }
    hits
}

/// A throwaway PostgreSQL cluster from Debian's `postgresql` package on
/// 127.0.0.1, stopped on drop. As root (CI) initdb and postgres run as the
/// `postgres` user through `runuser`, since PostgreSQL refuses to run as root.
pub struct Postgres {
    child: Child,
    _dir: tempfile::TempDir,
    pub port: u16,
    stop: Command,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // `pg_ctl stop -m fast`: the child may be `runuser`, which does not
        // pass signals on to the postmaster.
        let _ = self.stop.status();
        let _ = self.child.wait();
    }
}

impl Postgres {
    /// The newest installed PostgreSQL's `bin` directory holding both
    /// `postgres` and `initdb`.
    pub fn bin() -> Option<PathBuf> {
        let base = Path::new("/usr/lib/postgresql");
        let mut versions: Vec<_> = std::fs::read_dir(base)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .collect();
        versions.sort();
        versions
            .into_iter()
            .rev()
            .map(|v| v.join("bin"))
            .find(|b| b.join("postgres").exists() && b.join("initdb").exists())
    }

    /// Creates a cluster with `initdb_args` (trust authentication, superuser
    /// `postgres`) and starts it with each `settings` entry as `-c name=value`.
    pub fn start(initdb_args: &[&str], settings: &[&str]) -> Result<Postgres, String> {
        let bin = Self::bin().ok_or(
            "no PostgreSQL binaries under /usr/lib/postgresql \
             (apt-get install postgresql; ./dev test installs it)",
        )?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        let root = running_as_root();
        let run_as = |cmd: &Path| {
            let mut c = if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(cmd);
                c
            } else {
                Command::new(cmd)
            };
            c.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            c
        };
        if root {
            Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .map_err(|e| e.to_string())?;
        }
        let ok = run_as(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres"])
            .args(initdb_args)
            .arg("-D")
            .arg(&data)
            .status()
            .map_err(|e| e.to_string())?
            .success();
        if !ok {
            return Err("initdb failed".into());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let mut server = run_as(&bin.join("postgres"));
        server
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-k")
            .arg(dir.path());
        for s in settings {
            server.args(["-c", s]);
        }
        let child = server.spawn().map_err(|e| e.to_string())?;
        let mut stop = run_as(&bin.join("pg_ctl"));
        stop.args(["-m", "fast", "-D"]).arg(&data).arg("stop");
        Ok(Postgres {
            child,
            _dir: dir,
            port,
            stop,
        })
    }

    /// A libpq-style connection string for `dbname` as the superuser.
    pub fn conn_str(&self, dbname: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname={dbname}",
            self.port
        )
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
