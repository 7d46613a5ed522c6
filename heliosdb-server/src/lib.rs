//! HeliosDB Nano's PostgreSQL server: the v3 wire protocol (simple and
//! extended query) through `pgwire`, SQL through `heliosdb-sql` on the
//! encrypted engine, TLS through rustls, SCRAM-SHA-256 authentication
//! against users stored (hashed) in the encrypted store.
//!
//! # Invariants
//!
//! - No default users: [`serve`] refuses to start without one.
//! - With `ssl_enabled`, plaintext connections are refused at startup.
//! - Binds where the configuration says (127.0.0.1 by default).
//! - Each connection's engine calls run on its own thread (engine
//!   transactions are per thread), never on the async runtime.
//! - Passwords and keys never reach a log, an error or `Debug`.

mod handler;
mod tls;
pub mod users;

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use heliosdb_core::config::ServerConfig;
use heliosdb_core::StorageEngine;
use heliosdb_sql::SqlShared;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

/// Errors of the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Invalid configuration or user management request.
    #[error("{0}")]
    Config(String),
    /// TLS setup (certificates, keys, versions).
    #[error("TLS: {0}")]
    Tls(String),
    /// The server has no users.
    #[error(
        "no users: the server does not start without one. Add one with \
         `heliosdb-nano user add NAME --path PATH` (or --config FILE); the password is read \
         from a prompt, or from stdin when it is not a terminal"
    )]
    NoUsers,
    /// Listening or accepting failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// Storage engine errors.
    #[error(transparent)]
    Engine(#[from] heliosdb_core::Error),
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, ServerError>;

/// A server bound to its address, not yet serving.
pub struct Server {
    listener: TcpListener,
    setup: handler::ConnSetup,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.listener.local_addr().ok())
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Checks the configuration and users, sets up TLS and binds.
    ///
    /// # Errors
    /// [`ServerError::NoUsers`]; TLS and configuration errors; bind errors.
    pub async fn bind(engine: Arc<StorageEngine>, config: &ServerConfig) -> Result<Server> {
        if users::list_users(&engine)?.is_empty() {
            return Err(ServerError::NoUsers);
        }
        let ssl_on = config.ssl_enabled || config.ssl.enabled;
        let (tls, pem) = if ssl_on {
            let (acceptor, pem) = tls::acceptor(&config.ssl)?;
            (Some(acceptor), Some(Arc::new(pem)))
        } else {
            tls::versions(config.ssl.min_tls_version.as_deref())?;
            (None, None)
        };
        let listener = TcpListener::bind((config.host.as_str(), config.port)).await?;
        tracing::info!(
            addr = %listener.local_addr()?,
            tls = ssl_on,
            client_certificates = ssl_on && config.ssl.ca_file.is_some(),
            encrypted = engine.is_encrypted(),
            "heliosdb-nano server listening"
        );
        Ok(Server {
            listener,
            setup: handler::ConnSetup {
                engine,
                shared: Arc::new(SqlShared::new()),
                require_tls: ssl_on,
                cert_pem: pem,
            },
            tls,
        })
    }

    /// The address the server listens on.
    ///
    /// # Errors
    /// When the socket has no local address.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then stops accepting, closes the
    /// connections (their open transactions roll back) and returns.
    ///
    /// # Errors
    /// Accept errors that are not per-connection.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        quiet_connection_panics();
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut conns = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => {
                    let (socket, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!("accept failed: {e}");
                            continue;
                        }
                    };
                    let handlers = match self.setup.handlers() {
                        Ok(h) => h,
                        Err(e) => {
                            tracing::error!("connection setup failed: {e}");
                            continue;
                        }
                    };
                    let tls = self.tls.clone();
                    let stop = stop_rx.clone();
                    let engine = self.setup.engine.clone();
                    let (done_tx, done_rx) = oneshot::channel::<()>();
                    let socket = match socket.into_std() {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::warn!(%peer, "cannot hand the connection to its thread: {e}");
                            continue;
                        }
                    };
                    // One OS thread per connection, running its own
                    // single-threaded runtime: the connection's engine calls
                    // (and its transaction, which belongs to a thread) stay
                    // on that thread and never block the accepting runtime.
                    let spawned = std::thread::Builder::new()
                        .name(CONN_THREAD.into())
                        .spawn(move || {
                            connection_thread(socket, peer, tls, handlers, stop);
                            // The client went away: its open transaction rolls back.
                            if engine.in_transaction() {
                                let _ = engine.rollback();
                            }
                            let _ = done_tx.send(());
                        });
                    if let Err(e) = spawned {
                        tracing::error!("cannot start a connection thread: {e}");
                        continue;
                    }
                    conns.spawn(async move {
                        let _ = done_rx.await;
                    });
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
        tracing::info!("shutting down: closing {} connection(s)", conns.len());
        let _ = stop_tx.send(true);
        while conns.join_next().await.is_some() {}
        self.setup.engine.flush()?;
        Ok(())
    }
}

/// Name of the per-connection threads.
const CONN_THREAD: &str = "heliosdb-conn";

/// Routes panics of connection threads (contained by `catch_unwind`) to the
/// log as one warning instead of a backtrace on stderr; other threads keep
/// the previous hook.
fn quiet_connection_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some(CONN_THREAD) {
                let what = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                tracing::warn!("connection thread panicked at {at}: {what}");
            } else {
                previous(info);
            }
        }));
    });
}

fn connection_thread(
    socket: std::net::TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    handlers: handler::Handlers,
    mut stop: watch::Receiver<bool>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(%peer, "cannot start the connection's runtime: {e}");
            return;
        }
    };
    rt.block_on(async move {
        let socket = match tokio::net::TcpStream::from_std(socket) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(%peer, "connection setup failed: {e}");
                return;
            }
        };
        // pgwire's decoders panic on some malformed messages (a length
        // below 4, a body shorter than its fields or a string without its
        // terminator: bounds-check panics in `bytes`, found by the
        // `pg_message` fuzz target): contain them to this connection.
        let session =
            AssertUnwindSafe(pgwire::tokio::process_socket(socket, tls, handlers)).catch_unwind();
        tokio::select! {
            r = session => match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::info!(%peer, "connection closed: {e}"),
                Err(_) => tracing::warn!(%peer, "connection closed: malformed protocol message"),
            },
            _ = stop.changed() => {}
        }
    });
}

/// Binds and serves `engine` until `shutdown` completes.
///
/// # Errors
/// As [`Server::bind`] and [`Server::run`].
pub async fn serve(
    engine: Arc<StorageEngine>,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    Server::bind(engine, config).await?.run(shutdown).await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown signal received");
}
