//! Random 96-bit nonces: a fast thread-local ChaCha20 CSPRNG seeded from the
//! OS (reseeded after `fork`), or one `getrandom` call per nonce.
//!
//! Why not always ask the OS: a `getrandom` syscall costs ≈ 0.4 µs, several
//! times the cost of sealing a small record with `ring`; a userspace ChaCha20
//! stream costs ≈ 10 ns a nonce.
//!
//! Why the fork handling: a forked child inherits the parent's thread-local
//! generator state byte for byte, so without a reseed parent and child would
//! draw the *same* nonces under the same key. A `pthread_atfork` child handler
//! bumps a global generation counter; each thread's generator remembers the
//! generation it was seeded in and reseeds when they differ.
//!
//! Nothing can detect a VM restored twice from one memory snapshot; that is
//! what [`NonceMode::Os`] is for.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Once;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::error::{Error, Result};
use crate::NONCE_LEN;

/// How [`random_nonce`] draws nonces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NonceMode {
    /// A per-thread ChaCha20 CSPRNG seeded from the OS, reseeded in a forked
    /// child and after every 2^20 nonces. ≈ 10 ns a nonce. Safe across
    /// `fork()`, **not** across VM snapshot restores.
    #[default]
    Fast,
    /// One `getrandom` call per nonce (≈ 0.4 µs). Use this when the process
    /// may run in virtual machines cloned from one memory snapshot.
    Os,
}

/// Nonces drawn from one seed before the thread's generator reseeds anyway.
/// Cheap defence in depth (against, say, a fork path that skips the atfork
/// handlers, like a raw `clone` syscall): a reseed costs one syscall per
/// million nonces.
const RESEED_INTERVAL: u64 = 1 << 20;

/// Bumped by the `pthread_atfork` child handler in every forked child.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static FORK_HANDLER: Once = Once::new();
/// Whether the fork handler is installed. If registration failed, fast mode
/// silently falls back to OS nonces rather than risk sharing a stream with a
/// child.
static FORK_HANDLER_OK: AtomicBool = AtomicBool::new(false);

struct ThreadRng {
    rng: ChaCha20Rng,
    /// `FORK_GENERATION` when this generator was seeded.
    generation: u64,
    /// Nonces left before the next scheduled reseed.
    remaining: u64,
}

thread_local! {
    static THREAD_RNG: RefCell<Option<ThreadRng>> = const { RefCell::new(None) };
}

/// Returns a fresh random 96-bit nonce.
///
/// Random nonces are unique with overwhelming probability only while a key
/// seals fewer than about 2^32 values; see
/// [`DEFAULT_NONCE_BUDGET`](crate::DEFAULT_NONCE_BUDGET).
///
/// # Errors
///
/// [`Error::Rng`] if the OS random number generator fails (at first use of a
/// thread's generator, at a reseed, or on every call in [`NonceMode::Os`]).
pub fn random_nonce(mode: NonceMode) -> Result<[u8; NONCE_LEN]> {
    match mode {
        NonceMode::Fast => fast_nonce(),
        NonceMode::Os => {
            let mut nonce = [0u8; NONCE_LEN];
            fill_random(&mut nonce)?;
            Ok(nonce)
        }
    }
}

/// Fills `buf` from the operating system's random number generator
/// (`getrandom(2)` on Linux). For keys, salts and seeds.
///
/// # Errors
///
/// [`Error::Rng`] if the OS cannot supply random bytes.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    rand_core::OsRng.try_fill_bytes(buf).map_err(|_| Error::Rng)
}

fn fast_nonce() -> Result<[u8; NONCE_LEN]> {
    FORK_HANDLER.call_once(|| {
        FORK_HANDLER_OK.store(register_fork_handler(), Ordering::Release);
    });
    if !FORK_HANDLER_OK.load(Ordering::Acquire) {
        return random_nonce(NonceMode::Os);
    }
    // Relaxed is enough: the child handler runs in the child's only thread
    // before `fork()` returns there, so that thread sees its own write.
    let generation = FORK_GENERATION.load(Ordering::Relaxed);
    THREAD_RNG
        .try_with(|cell| {
            // Nothing in here can call back into this function, so the cell
            // is never borrowed twice; fall back to the OS rather than panic.
            let Ok(mut slot) = cell.try_borrow_mut() else {
                return random_nonce(NonceMode::Os);
            };
            let fresh = matches!(&*slot, Some(s) if s.generation == generation && s.remaining > 0);
            if !fresh {
                *slot = Some(ThreadRng::seeded(generation)?);
            }
            let Some(state) = slot.as_mut() else {
                return random_nonce(NonceMode::Os);
            };
            state.remaining -= 1;
            let mut nonce = [0u8; NONCE_LEN];
            state.rng.fill_bytes(&mut nonce);
            Ok(nonce)
        })
        // The thread-local is gone while the thread shuts down.
        .unwrap_or_else(|_| random_nonce(NonceMode::Os))
}

impl ThreadRng {
    fn seeded(generation: u64) -> Result<Self> {
        // The seed is not wiped afterwards: nonces are public, and knowing
        // the stream would only let someone predict nonces, which GCM does
        // not need to be unpredictable, only unique.
        let mut seed = <ChaCha20Rng as SeedableRng>::Seed::default();
        fill_random(&mut seed)?;
        Ok(Self {
            rng: ChaCha20Rng::from_seed(seed),
            generation,
            remaining: RESEED_INTERVAL,
        })
    }
}

/// Runs in a forked child, inside `fork()`: only async-signal-safe work is
/// allowed, and a single atomic increment is.
extern "C" fn on_fork_child() {
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

#[cfg(unix)]
fn register_fork_handler() -> bool {
    // SAFETY: `pthread_atfork` only records the three function pointers. We
    // pass no prepare/parent handlers and a child handler that does one
    // atomic increment: async-signal-safe, no allocation, no locks, cannot
    // unwind (an `extern "C"` fn aborts instead). It is registered once per
    // process (`FORK_HANDLER` is a `Once`), and a `static` function pointer
    // stays valid for the life of the process.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::pthread_atfork(None, None, Some(on_fork_child)) };
    rc == 0
}

#[cfg(not(unix))]
fn register_fork_handler() -> bool {
    // No fork() here, so there is nothing to detect.
    let _ = on_fork_child;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn fast_and_os_nonces_are_distinct() {
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            assert!(seen.insert(random_nonce(NonceMode::Fast).unwrap()));
            assert!(seen.insert(random_nonce(NonceMode::Os).unwrap()));
        }
    }

    #[test]
    fn generator_reseeds_after_interval() {
        // Fresh thread so the count starts at the interval.
        std::thread::spawn(|| {
            random_nonce(NonceMode::Fast).unwrap();
            let remaining =
                || THREAD_RNG.with(|c| c.borrow().as_ref().map(|s| s.remaining).unwrap());
            assert_eq!(remaining(), RESEED_INTERVAL - 1);
            for _ in 1..RESEED_INTERVAL {
                random_nonce(NonceMode::Fast).unwrap();
            }
            assert_eq!(remaining(), 0);
            random_nonce(NonceMode::Fast).unwrap();
            assert_eq!(remaining(), RESEED_INTERVAL - 1);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn generation_change_forces_reseed() {
        std::thread::spawn(|| {
            random_nonce(NonceMode::Fast).unwrap();
            let before = THREAD_RNG.with(|c| c.borrow().as_ref().unwrap().generation);
            // What the atfork handler does in a child.
            on_fork_child();
            random_nonce(NonceMode::Fast).unwrap();
            let after = THREAD_RNG.with(|c| c.borrow().as_ref().unwrap().generation);
            assert!(after > before);
            assert_eq!(
                THREAD_RNG.with(|c| c.borrow().as_ref().unwrap().remaining),
                RESEED_INTERVAL - 1
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn fork_handler_is_registered() {
        random_nonce(NonceMode::Fast).unwrap();
        assert!(FORK_HANDLER_OK.load(Ordering::Acquire));
    }

    #[test]
    fn fill_random_fills() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        fill_random(&mut a).unwrap();
        fill_random(&mut b).unwrap();
        assert_ne!(a, b);
        fill_random(&mut []).unwrap();
    }
}
