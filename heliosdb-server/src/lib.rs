//! HeliosDB Nano's PostgreSQL server: the v3 wire protocol (simple and
//! extended query) through `pgwire`, SQL through `heliosdb-sql` on the
//! encrypted engine, TLS through rustls, SCRAM-SHA-256(-PLUS)
//! authentication against SCRAM verifiers kept in the encrypted store.
//!
//! # Invariants
//!
//! - No default users: [`serve`] refuses to start without one.
//! - With `ssl_enabled`, plaintext connections are refused at startup.
//! - Binds where the configuration says (127.0.0.1 by default).
//! - A connection holds no thread. Its session (engine transaction and
//!   audit identity, a `heliosdb_core::SessionContext`) is created by its
//!   first statement, after authentication; each statement runs on a
//!   thread of the server's statement pool (started on demand, at most
//!   `max_connections`, ended after 10 s idle), never on the async runtime,
//!   with the stack the SQL layer's depth limits need.
//! - Before authentication a client costs a task and at most
//!   [`PRE_AUTH_READ_LIMIT`] bytes of input, for at most
//!   `authentication_timeout`; at most `max_connections` sessions exist.
//! - Passwords and keys never reach a log, an error or `Debug`.
//! - Only SCRAM verifiers (`StoredKey`, `ServerKey`) are stored, never a
//!   password or `SaltedPassword`; older records are converted by
//!   [`Server::bind`] before it listens.

mod conn;
mod handler;
mod scram;
mod tls;
pub mod users;

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use heliosdb_core::config::ServerConfig;
use heliosdb_core::StorageEngine;
use heliosdb_sql::{SessionSettings, SqlShared};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

pub use conn::PRE_AUTH_READ_LIMIT;

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
    limits: conn::ConnLimits,
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
        // Users stored before verifiers held what a login can be made from.
        users::migrate(&engine)?;
        let mock_secret = Arc::new(users::mock_secret(&engine)?);
        let ssl_on = config.ssl_enabled || config.ssl.enabled;
        let (tls, cert_hash) = if ssl_on {
            let (acceptor, pem) = tls::acceptor(&config.ssl)?;
            let hash = match scram::tls_server_end_point(&pem) {
                Ok(h) => Some(Arc::new(h)),
                Err(e) => {
                    tracing::warn!("SCRAM-SHA-256-PLUS is not offered: {e}");
                    None
                }
            };
            (Some(acceptor), hash)
        } else {
            tls::versions(config.ssl.min_tls_version.as_deref())?;
            (None, None)
        };
        if config.max_connections == 0 {
            return Err(ServerError::Config(
                "server.max_connections must be at least 1".into(),
            ));
        }
        if config.authentication_timeout.is_zero() {
            return Err(ServerError::Config(
                "server.authentication_timeout must be at least 1 s".into(),
            ));
        }
        let listener = TcpListener::bind((config.host.as_str(), config.port)).await?;
        tracing::info!(
            addr = %listener.local_addr()?,
            tls = ssl_on,
            client_certificates = ssl_on && config.ssl.ca_file.is_some(),
            encrypted = engine.is_encrypted(),
            max_connections = config.max_connections,
            "heliosdb-nano server listening"
        );
        let idle = config.idle_in_transaction_session_timeout;
        Ok(Server {
            listener,
            setup: handler::ConnSetup {
                engine,
                shared: Arc::new(SqlShared::new()),
                require_tls: ssl_on,
                cert_hash,
                mock_secret,
                sessions: Arc::new(Semaphore::new(config.max_connections as usize)),
                settings: SessionSettings::with_statement_timeout(config.statement_timeout),
                pool: Arc::new(handler::StatementPool::new(
                    config.max_connections as usize,
                )?),
            },
            tls,
            limits: conn::ConnLimits {
                authentication_timeout: config.authentication_timeout,
                idle_in_transaction: (!idle.is_zero()).then_some(idle),
            },
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
                            // Out of file descriptors (EMFILE) fails every
                            // accept until a connection closes: pause
                            // instead of spinning.
                            tracing::warn!("accept failed: {e}");
                            tokio::time::sleep(ACCEPT_BACKOFF).await;
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
                    // A task, not a thread: the session thread starts only
                    // once the client has logged in and sends a statement.
                    conns.spawn(connection(
                        socket,
                        peer,
                        self.tls.clone(),
                        handlers,
                        self.limits,
                        stop_rx.clone(),
                    ));
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

/// Pause after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Routes panics that are contained (`catch_unwind`) — on session threads,
/// and in pgwire's decoders while a connection's future is polled — to the
/// log as one warning instead of a backtrace on stderr; other panics keep
/// the previous hook.
fn quiet_connection_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let contained = std::thread::current().name() == Some(handler::SESSION_THREAD)
                || conn::IN_CONNECTION.with(|c| c.get());
            if contained {
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
                tracing::warn!("connection panicked at {at}: {what}");
            } else {
                previous(info);
            }
        }));
    });
}

/// One connection, until the client leaves or the server stops.
async fn connection(
    socket: TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    handlers: handler::Handlers,
    limits: conn::ConnLimits,
    mut stop: watch::Receiver<bool>,
) {
    {
        // pgwire's decoders panic on some malformed messages (a length
        // below 4, a body shorter than its fields or a string without its
        // terminator: bounds-check panics in `bytes`, found by the
        // `pg_message` fuzz target): contain them to this connection.
        let session = conn::Marked(Box::pin(
            AssertUnwindSafe(conn::serve(socket, tls, &handlers, handlers.conn(), limits))
                .catch_unwind(),
        ));
        tokio::select! {
            r = session => match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::info!(%peer, "connection closed: {e}"),
                Err(_) => tracing::warn!(%peer, "connection closed: malformed protocol message"),
            },
            _ = stop.changed() => {}
        }
    }
    // The session thread rolls back what the client left open.
    handlers.conn().close().await;
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
