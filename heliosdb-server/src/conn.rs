//! One client connection, from accept to close: pgwire's message loop,
//! run by us rather than `pgwire::tokio::process_socket` so that it can
//! enforce what a client may do before it has logged in — read at most
//! [`PRE_AUTH_READ_LIMIT`] bytes, finish within `authentication_timeout` —
//! and close a session left idle in a transaction — and so that answers go
//! out when the loop is about to wait for the client, not message by
//! message ([`Capped`]).
//!
//! The loop runs as a task on the server's runtime: an unauthenticated
//! connection costs a task and its buffers, no thread. The session's
//! statements run on the shared statement threads (`handler::Worker`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use pgwire::api::results::Tag;
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, ErrorHandler, PgWireConnectionState, PgWireServerHandlers,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::extendedquery::{TARGET_TYPE_BYTE_PORTAL, TARGET_TYPE_BYTE_STATEMENT};
use pgwire::messages::response::ReadyForQuery;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::server::{negotiate_tls, process_error, process_message, MaybeTls};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::codec::{Framed, FramedParts};

use crate::handler::{Conn, Handlers, Prepared};

/// Bytes a client may send between the TLS negotiation and the end of
/// authentication. The startup message (pgwire refuses one over 10,000
/// bytes, as PostgreSQL does) and SCRAM's two messages (a few hundred
/// bytes) fit with room to spare. Without the cap pgwire buffers any
/// message it can decode in the authentication state — a 1 GiB query
/// message included — before the startup handler gets to refuse it.
pub const PRE_AUTH_READ_LIMIT: usize = 16 * 1024;

/// What a connection may do, from `[server]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnLimits {
    /// From accept to completed authentication.
    pub authentication_timeout: Duration,
    /// Idle time allowed inside an open transaction (`None`: unlimited).
    pub idle_in_transaction: Option<Duration>,
}

/// Bytes of answers held back before they are written to the client
/// anyway (a large result goes out in pieces of about this size).
const HELD_OUTPUT_LIMIT: usize = 64 * 1024;

/// The client's stream, failing reads past a budget until [`Capped::lift`],
/// and holding back what is written until the connection loop is about to
/// wait for the client ([`release`]).
///
/// pgwire flushes after most messages (RowDescription, CommandComplete,
/// ReadyForQuery each), which made every simple query's answer three
/// `send` calls and as many wake-ups of the client. PostgreSQL buffers its
/// answers and flushes when it is about to wait for input (or its buffer is
/// full); so do we: a flush while held is a no-op, and the loop releases
/// everything before it reads the next message.
#[derive(Debug)]
pub(crate) struct Capped<S> {
    inner: S,
    /// Bytes still allowed; `None` once the client has authenticated.
    left: Option<usize>,
    /// Written but not yet passed to `inner`.
    held: Vec<u8>,
    /// How much of `held` `inner` has taken.
    passed: usize,
    /// Flushes are deferred (the loop is processing a message).
    holding: bool,
}

impl<S> Capped<S> {
    fn new(inner: S, budget: usize) -> Self {
        Capped {
            inner,
            left: Some(budget),
            held: Vec::new(),
            passed: 0,
            holding: true,
        }
    }

    fn lift(&mut self) {
        self.left = None;
    }
}

impl<S: AsyncWrite + Unpin> Capped<S> {
    /// Passes everything held to `inner`.
    fn poll_pass(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.passed < self.held.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.held[self.passed..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.passed += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.held.clear();
        self.passed = 0;
        if self.held.capacity() > 2 * HELD_OUTPUT_LIMIT {
            self.held.shrink_to(HELD_OUTPUT_LIMIT);
        }
        Poll::Ready(Ok(()))
    }
}

fn over_budget() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("more than {PRE_AUTH_READ_LIMIT} bytes sent before authentication"),
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for Capped<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(left) = this.left else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        if left == 0 {
            return Poll::Ready(Err(over_budget()));
        }
        if buf.remaining() == 0 {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        // Read at most what is left: into an initialised window of the
        // caller's space (zeroing at most the budget, before login only).
        let n = {
            let window = buf.initialize_unfilled_to(left.min(buf.remaining()));
            let mut limited = ReadBuf::new(window);
            match Pin::new(&mut this.inner).poll_read(cx, &mut limited) {
                Poll::Ready(Ok(())) => limited.filled().len(),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        };
        buf.advance(n);
        this.left = Some(left - n);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Capped<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.held.len() + data.len() > HELD_OUTPUT_LIMIT || !this.holding {
            match this.poll_pass(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            if !this.holding || data.len() > HELD_OUTPUT_LIMIT {
                return Pin::new(&mut this.inner).poll_write(cx, data);
            }
        }
        this.held.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.holding {
            return Poll::Ready(Ok(()));
        }
        match this.poll_pass(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_pass(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

/// The framed client stream. pgwire's `ClientInfo::client_certificates`
/// downcasts the stream to a bare `TlsStream` and would panic on this one;
/// nothing here calls it (client certificates are checked by rustls during
/// the handshake).
type Socket = Framed<Capped<MaybeTls>, pgwire::tokio::server::PgWireMessageServerCodec<Prepared>>;

/// Sends a FATAL error (best effort: the client may be gone) and flushes.
async fn send_fatal(socket: &mut Socket, code: &str, message: &str) {
    let info = ErrorInfo::new("FATAL".into(), code.into(), message.into());
    let _ = socket
        .feed(PgWireBackendMessage::ErrorResponse(info.into()))
        .await;
    let _ = release(socket).await;
}

/// Writes out everything held for the client (see [`Capped`]).
async fn release(socket: &mut Socket) -> io::Result<()> {
    socket.get_mut().holding = false;
    let done = socket.flush().await;
    socket.get_mut().holding = true;
    done
}

/// Serves one connection until the client leaves, a FATAL error, or a
/// timeout. What pgwire's `process_socket` does, plus the limits.
///
/// # Errors
/// I/O errors of the connection (the caller logs them).
pub(crate) async fn serve(
    tcp: TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    handlers: &Handlers,
    conn: &Conn,
    limits: ConnLimits,
) -> io::Result<()> {
    let login_deadline = Instant::now() + limits.authentication_timeout;
    let login_timeout = || io::Error::new(io::ErrorKind::TimedOut, "authentication timeout");
    let negotiated = tokio::time::timeout_at(login_deadline, negotiate_tls::<Prepared>(tcp, tls))
        .await
        .map_err(|_| login_timeout())??;
    // `None`: a direct TLS handshake to a server without TLS.
    let Some(framed) = negotiated else {
        return Ok(());
    };
    let old = framed.into_parts();
    let mut parts = FramedParts::new(Capped::new(old.io, PRE_AUTH_READ_LIMIT), old.codec);
    parts.read_buf = old.read_buf;
    parts.write_buf = old.write_buf;
    let mut socket: Socket = Framed::from_parts(parts);

    let served = serve_messages(&mut socket, handlers, conn, limits, login_deadline).await;
    // What the last message's answer left held (a FATAL error's included).
    let _ = release(&mut socket).await;
    served
}

/// The message loop of [`serve`].
async fn serve_messages(
    socket: &mut Socket,
    handlers: &Handlers,
    conn: &Conn,
    limits: ConnLimits,
    login_deadline: Instant,
) -> io::Result<()> {
    let login_timeout = || io::Error::new(io::ErrorKind::TimedOut, "authentication timeout");
    let startup = handlers.startup_handler();
    let simple = handlers.simple_query_handler();
    let extended = handlers.extended();
    let copy = handlers.copy_handler();
    let cancel = handlers.cancel_handler();
    let errors = handlers.error_handler();
    loop {
        // Everything answered so far goes out before we wait for the client.
        release(socket).await?;
        let logging_in = matches!(
            socket.state(),
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        );
        let next = if logging_in {
            match tokio::time::timeout_at(login_deadline, socket.next()).await {
                Ok(next) => next,
                // PostgreSQL closes without a word too: the client has not
                // shown it speaks the protocol.
                Err(_) => return Err(login_timeout()),
            }
        } else {
            socket.get_mut().lift();
            // A COPY FROM waiting for its data is not idle (PostgreSQL's
            // timer, too, runs only between statements).
            let copying = matches!(socket.state(), PgWireConnectionState::CopyInProgress(_));
            match limits
                .idle_in_transaction
                .filter(|_| conn.in_transaction() && !copying)
            {
                Some(idle) => match tokio::time::timeout(idle, socket.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        send_fatal(
                            socket,
                            "25P03",
                            "terminating connection due to idle-in-transaction timeout",
                        )
                        .await;
                        return Ok(());
                    }
                },
                None => socket.next().await,
            }
        };
        let msg = match next {
            Some(Ok(msg)) => msg,
            None => return Ok(()),
            Some(Err(e)) => {
                if logging_in {
                    send_fatal(socket, "08P01", &format!("invalid message: {e}")).await;
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
            }
        };
        let is_extended_query = match socket.state() {
            PgWireConnectionState::CopyInProgress(extended) => extended,
            _ => msg.is_extended_query(),
        };
        // Messages after an error are discarded until Sync: they create nothing.
        let (created, closed) = match socket.state() {
            PgWireConnectionState::AwaitingSync => Default::default(),
            _ => names_of(&msg),
        };
        // A Describe of a cursor a DECLARE opened: PostgreSQL's cursors are
        // portals too, pgwire's portal store does not know them.
        if let PgWireFrontendMessage::Describe(d) = &msg {
            let name = d.name.as_deref().unwrap_or_default();
            if d.target_type == TARGET_TYPE_BYTE_PORTAL
                && !name.is_empty()
                && matches!(socket.state(), PgWireConnectionState::ReadyForQuery)
                && socket.portal_store().get_portal(name).is_none()
            {
                if let Ok(Some(desc)) = conn.cursor_description(&*socket, name).await {
                    socket
                        .feed(PgWireBackendMessage::RowDescription(desc))
                        .await?;
                    continue;
                }
            }
        }
        let processed = match socket.state() {
            // COPY FROM's data goes to our session, not pgwire's copy
            // handler (whose ReadyForQuery would always say "idle").
            PgWireConnectionState::CopyInProgress(in_extended) => {
                copy_in_message(socket, conn, msg, in_extended).await
            }
            _ => {
                process_message(
                    msg,
                    socket,
                    startup.clone(),
                    simple.clone(),
                    extended.clone(),
                    copy.clone(),
                    cancel.clone(),
                )
                .await
            }
        };
        {
            let mut named = conn.named();
            if processed.is_ok() {
                named.created(created.0.as_deref(), created.1.as_deref());
            }
            named.closed(closed.0.as_deref(), closed.1.as_deref());
            // What DEALLOCATE and DISCARD dropped.
            for n in std::mem::take(&mut named.dropped_statements) {
                socket.portal_store().rm_statement(&n);
            }
            for n in std::mem::take(&mut named.dropped_portals) {
                socket.portal_store().rm_portal(&n);
            }
        }
        if let Err(mut e) = processed {
            errors.on_error(&*socket, &mut e);
            let info = ErrorInfo::from(e);
            let fatal = info.is_fatal();
            process_error(
                socket,
                PgWireError::UserError(Box::new(info)),
                is_extended_query,
            )
            .await?;
            // A FATAL error ends the session, whatever the client does next.
            if fatal {
                return Ok(());
            }
        }
    }
}

/// (statement, portal) names a Parse or Bind creates, and those a Close
/// closes.
type Names = (Option<String>, Option<String>);

fn names_of(msg: &PgWireFrontendMessage) -> (Names, Names) {
    match msg {
        PgWireFrontendMessage::Parse(p) => ((p.name.clone(), None), (None, None)),
        PgWireFrontendMessage::Bind(b) => ((None, b.portal_name.clone()), (None, None)),
        PgWireFrontendMessage::Close(c) if c.target_type == TARGET_TYPE_BYTE_STATEMENT => {
            ((None, None), (c.name.clone(), None))
        }
        PgWireFrontendMessage::Close(c) if c.target_type == TARGET_TYPE_BYTE_PORTAL => {
            ((None, None), (None, c.name.clone()))
        }
        _ => ((None, None), (None, None)),
    }
}

/// A message during COPY FROM: data, its end, or its failure. Errors go
/// through the caller's `process_error`, which leaves the COPY state
/// (simple protocol: ReadyForQuery; extended: wait for Sync, as PostgreSQL).
async fn copy_in_message(
    socket: &mut Socket,
    conn: &Conn,
    msg: PgWireFrontendMessage,
    extended: bool,
) -> PgWireResult<()> {
    match msg {
        PgWireFrontendMessage::CopyData(d) => conn.copy_data(&*socket, d.data).await,
        PgWireFrontendMessage::CopyDone(_) => {
            let n = conn.copy_done(&*socket).await?;
            socket
                .send(PgWireBackendMessage::CommandComplete(
                    Tag::new("COPY").with_rows(n as usize).into(),
                ))
                .await?;
            socket.set_state(PgWireConnectionState::ReadyForQuery);
            if !extended {
                let status = socket.transaction_status();
                socket
                    .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                        status,
                    )))
                    .await?;
            }
            Ok(())
        }
        PgWireFrontendMessage::CopyFail(f) => {
            conn.copy_abort(&*socket).await?;
            Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "ERROR".into(),
                "57014".into(),
                format!("COPY from stdin failed: {}", f.message),
            ))))
        }
        // PostgreSQL ignores these during COPY FROM.
        PgWireFrontendMessage::Flush(_) | PgWireFrontendMessage::Sync(_) => Ok(()),
        other => {
            conn.copy_abort(&*socket).await?;
            let kind = match other {
                PgWireFrontendMessage::Query(_) => "Q",
                PgWireFrontendMessage::Parse(_) => "P",
                PgWireFrontendMessage::Bind(_) => "B",
                PgWireFrontendMessage::Execute(_) => "E",
                PgWireFrontendMessage::Describe(_) => "D",
                PgWireFrontendMessage::Close(_) => "C",
                _ => "?",
            };
            Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "ERROR".into(),
                "08P01".into(),
                format!("unexpected message type '{kind}' during COPY from stdin"),
            ))))
        }
    }
}

/// Polls a connection's future with [`IN_CONNECTION`] set, so the panic
/// hook knows a panic there is contained (`catch_unwind`) to that client.
pub(crate) struct Marked<F>(pub F);

thread_local! {
    /// Set while this thread polls a connection's future.
    pub(crate) static IN_CONNECTION: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl<F: Future + Unpin> Future for Marked<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        IN_CONNECTION.with(|c| c.set(true));
        let r = Pin::new(&mut self.0).poll(cx);
        IN_CONNECTION.with(|c| c.set(false));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A client socket that records each write and flush it is given.
    #[derive(Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
        flushes: usize,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().writes.push(data.to_vec());
            Poll::Ready(Ok(data.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_mut().flushes += 1;
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Answers written and flushed while a message is processed reach the
    /// client as one write when released; a large answer goes out in
    /// pieces no bigger than the limit instead of piling up; nothing is
    /// reordered or lost.
    #[test]
    fn answers_are_held_until_released_then_written_at_once() {
        futures::executor::block_on(async {
            let mut c = Capped::new(Recorder::default(), PRE_AUTH_READ_LIMIT);
            for part in [&b"RowDescription"[..], b"DataRow", b"CommandComplete"] {
                c.write_all(part).await.unwrap();
                c.flush().await.unwrap();
            }
            assert!(c.inner.writes.is_empty(), "held: nothing written yet");
            assert_eq!(c.inner.flushes, 0);

            c.holding = false;
            c.flush().await.unwrap();
            c.holding = true;
            assert_eq!(
                c.inner.writes,
                vec![b"RowDescriptionDataRowCommandComplete".to_vec()],
                "one write with everything, in order"
            );
            assert_eq!(c.inner.flushes, 1);

            // 200 KiB of rows while held: written in pieces of at most the
            // limit as they come, the rest at release.
            let row = vec![7u8; 1000];
            for _ in 0..200 {
                c.write_all(&row).await.unwrap();
            }
            let before = c.inner.writes.len();
            c.holding = false;
            c.flush().await.unwrap();
            let pieces = &c.inner.writes[1..];
            assert!(before > 1, "a large answer does not wait for the release");
            assert!(pieces.iter().all(|w| w.len() <= HELD_OUTPUT_LIMIT));
            assert_eq!(pieces.iter().map(Vec::len).sum::<usize>(), 200 * 1000);
            assert!(c.held.is_empty());

            // Not holding: writes pass straight through.
            c.write_all(b"ReadyForQuery").await.unwrap();
            assert_eq!(c.inner.writes.last().unwrap(), b"ReadyForQuery");
        });
    }
}
