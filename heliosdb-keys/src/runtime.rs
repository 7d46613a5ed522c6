//! Running a key source's async calls from synchronous code.

use std::future::Future;

/// Runs `fut` to completion from synchronous code.
///
/// Key sources are async because KMS SDKs are; the storage engine is
/// synchronous. Outside a Tokio runtime this drives the future on a
/// current-thread runtime made for the call. Inside one (server mode), blocking
/// the runtime's thread would stall it, so the future runs on a scoped helper
/// thread with its own runtime. Opening a database makes one such call, so
/// the cost of a runtime per call does not matter.
///
/// # Panics
/// Never by itself; a panic inside `fut` propagates.
pub fn block_on<F>(fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    let run = |fut: F| match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(fut),
        // Building a runtime only fails when the OS refuses an epoll/eventfd
        // handle; there is no sensible way on, so say so.
        Err(e) => panic!("cannot start an async runtime for a key source call: {e}"),
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| match s.spawn(|| run(fut)).join() {
            Ok(v) => v,
            Err(payload) => std::panic::resume_unwind(payload),
        })
    } else {
        run(fut)
    }
}
