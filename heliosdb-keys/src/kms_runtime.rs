//! A private async runtime for a KMS key source's network client.
//!
//! The storage engine is synchronous and reaches key sources through
//! [`crate::block_on`], which makes a short-lived runtime per call. HTTP
//! clients (hyper under the AWS SDK, reqwest, …) keep pooled connections
//! whose I/O tasks belong to the runtime that opened them: once that runtime
//! is gone, a pooled connection is dead and the next request on it fails.
//! A KMS source therefore runs every request on a runtime of its own, which
//! lives exactly as long as the source (and its client) does, whatever
//! runtime the caller happens to be on.

use std::fmt;
use std::future::Future;

use crate::{Error, Result};

/// One worker thread that drives a KMS source's client and its connections.
pub struct KmsRuntime {
    name: String,
    rt: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for KmsRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsRuntime")
            .field("name", &self.name)
            .finish()
    }
}

impl KmsRuntime {
    /// A runtime with one worker thread named `name`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the OS refuses the thread or its I/O driver.
    pub fn new(name: &str) -> Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(|e| Error::Unsupported(format!("cannot start the {name} runtime: {e}")))?;
        Ok(KmsRuntime {
            name: name.to_string(),
            rt: Some(rt),
        })
    }

    /// Runs `fut` on this runtime and waits for it from any context (another
    /// runtime, or [`crate::block_on`]).
    ///
    /// # Errors
    /// The future's own error; [`Error::Unsupported`] if the runtime is
    /// shutting down.
    ///
    /// # Panics
    /// Re-raises a panic of `fut` in the caller.
    pub async fn run<T, F>(&self, fut: F) -> Result<T>
    where
        F: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let Some(rt) = &self.rt else {
            return Err(self.gone());
        };
        match rt.spawn(fut).await {
            Ok(out) => out,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(self.gone()),
        }
    }

    fn gone(&self) -> Error {
        Error::Unsupported(format!("the {} runtime has shut down", self.name))
    }
}

impl Drop for KmsRuntime {
    fn drop(&mut self) {
        // Dropping a runtime blocks until its tasks stop, which panics inside
        // another runtime (a source may be dropped anywhere): let it wind
        // down in the background instead.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_from_sync_and_async_callers_and_drops_anywhere() {
        let rt = KmsRuntime::new("kms-test").unwrap();
        let v = crate::block_on(rt.run(async { Ok(41 + 1) })).unwrap();
        assert_eq!(v, 42);
        let outer = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        outer.block_on(async move {
            assert_eq!(rt.run(async { Ok("x") }).await.unwrap(), "x");
            drop(rt); // inside a runtime: must not panic
        });
    }
}
