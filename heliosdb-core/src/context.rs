//! Sessions that are not threads.
//!
//! The tutorial's API keeps one transaction per calling thread
//! (`begin_transaction` … `commit`), and the audit log records the user set
//! for the calling thread. A server with thousands of connections cannot
//! give each one a thread, so a [`SessionContext`] carries what a thread
//! used to: its own transaction slot and the audit identity (user and
//! client address). A statement runs inside [`StorageEngine::enter`]: for
//! as long as the returned guard lives, every call the calling thread makes
//! through the thread-keyed API — `begin_transaction`, `commit`,
//! `savepoint`, `get`, table reads and writes — belongs to the context
//! rather than to the thread, and audit events name the context's user.
//! Between statements the context rests on no thread at all, so the next
//! statement may run on any thread of a pool.
//!
//! A transaction is owned by the context, not by the guard: dropping the
//! guard leaves it open for the next statement. [`StorageEngine::end_session`]
//! rolls back whatever the context still has open (a client that went
//! away).

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use crate::engine::TxnKey;
use crate::StorageEngine;

thread_local! {
    /// The context entered on this thread (innermost), if any.
    static ENTERED: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The context the calling thread has entered, if any.
pub(crate) fn entered() -> Option<u64> {
    ENTERED.with(Cell::get)
}

/// One session's engine state, movable between threads: its transaction
/// slot and who it runs as. `Send` and `Sync`; cheap to keep per connection
/// (a few words, no thread, no allocation beyond the user name).
pub struct SessionContext {
    id: u64,
    user: Option<String>,
    client: Option<String>,
}

impl fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionContext")
            .field("id", &self.id)
            .field("user", &self.user)
            .field("client", &self.client)
            .finish()
    }
}

impl SessionContext {
    /// The audit identity: user name and client address, recorded in the
    /// audit events of every statement run inside this context.
    #[must_use]
    pub fn with_identity(mut self, user: impl Into<String>, client: Option<String>) -> Self {
        self.user = Some(user.into());
        self.client = client;
        self
    }

    /// The user name given with [`SessionContext::with_identity`].
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    pub(crate) fn key(&self) -> TxnKey {
        TxnKey::Context(self.id)
    }
}

/// While alive, the calling thread acts for a [`SessionContext`] (see the
/// module docs). Restores the thread's previous context and audit identity
/// when dropped. Bound to the thread that made it (not `Send`).
#[must_use = "the context is left when the guard is dropped"]
pub struct Entered<'a> {
    previous: Option<u64>,
    previous_user: Option<(String, Option<String>)>,
    _context: PhantomData<&'a SessionContext>,
    _thread: PhantomData<*const ()>,
}

impl fmt::Debug for Entered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entered")
            .field("previous", &self.previous)
            .finish_non_exhaustive()
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        ENTERED.with(|e| e.set(self.previous));
        crate::audit::replace_audit_user(self.previous_user.take());
    }
}

impl StorageEngine {
    /// A new session context with no transaction open and no audit
    /// identity.
    pub fn new_session(&self) -> SessionContext {
        SessionContext {
            id: self.next_context_id(),
            user: None,
            client: None,
        }
    }

    /// Makes the calling thread act for `ctx` until the guard is dropped:
    /// its transaction, its audit identity. Contexts nest (the innermost
    /// wins). A context must not be entered on two threads at once; its
    /// transaction state is shared, so both would write into one
    /// transaction.
    pub fn enter<'a>(&self, ctx: &'a SessionContext) -> Entered<'a> {
        let previous = ENTERED.with(|e| e.replace(Some(ctx.id)));
        let previous_user =
            crate::audit::replace_audit_user(ctx.user.clone().map(|u| (u, ctx.client.clone())));
        Entered {
            previous,
            previous_user,
            _context: PhantomData,
            _thread: PhantomData,
        }
    }

    /// Runs `f` outside the calling thread's transaction: engine calls in
    /// it act for a fresh context with none open (each autocommits), and
    /// the caller's transaction, untouched, is its own again afterwards.
    /// For what must not roll back with the caller (sequence counters), at
    /// the cost of no thread.
    pub fn outside_transaction<T>(&self, f: impl FnOnce() -> T) -> T {
        let detached = self.new_session();
        let out = {
            let _entered = self.enter(&detached);
            f()
        };
        // `f` is not meant to open one; if it did, it ends here.
        self.end_session(detached);
        out
    }

    /// Whether `ctx` has a transaction open (from any thread, entered or
    /// not).
    pub fn session_in_transaction(&self, ctx: &SessionContext) -> bool {
        self.has_transaction(ctx.key())
    }

    /// Ends a session: rolls back the transaction it still has open, if
    /// any (undoing tables it created). Returns whether one was open.
    pub fn end_session(&self, ctx: SessionContext) -> bool {
        let key = ctx.key();
        self.has_transaction(key) && self.rollback_as(key).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entered_context_is_restored_when_guards_drop() {
        assert_eq!(entered(), None);
        let a = SessionContext {
            id: 7,
            user: None,
            client: None,
        };
        let b = SessionContext {
            id: 8,
            user: None,
            client: None,
        };
        // Only the thread-local part: no engine is needed for it.
        let ga = Entered {
            previous: ENTERED.with(|e| e.replace(Some(a.id))),
            previous_user: None,
            _context: PhantomData,
            _thread: PhantomData,
        };
        assert_eq!(entered(), Some(7));
        {
            let _gb = Entered {
                previous: ENTERED.with(|e| e.replace(Some(b.id))),
                previous_user: None,
                _context: PhantomData,
                _thread: PhantomData,
            };
            assert_eq!(entered(), Some(8));
        }
        assert_eq!(entered(), Some(7));
        drop(ga);
        assert_eq!(entered(), None);
    }
}
