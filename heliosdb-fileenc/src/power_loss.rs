//! Power-loss simulation for tests (feature `fault-injection`): an encrypted
//! env on RocksDB's `FaultInjectionTestFS`, and the handle that cuts and
//! restores its power. See the crate docs, "Power-loss simulation".

use std::ffi::{c_char, c_int, CStr};
use std::sync::Arc;

use crate::{ffi, EncryptedEnv, Error, FileKeys, Result};

/// The power switch of an env made by [`EncryptedEnv::with_power_loss`].
///
/// Cloning gives another handle on the same switch. The fault layer lives
/// as long as any handle or the env does, so the power can be restored
/// after the database (and the env) are gone.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use heliosdb_crypto::SecretKey;
/// # use heliosdb_fileenc::{EncryptedEnv, MemoryFileKeys};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let keys = Arc::new(MemoryFileKeys::new(1, SecretKey::generate()?));
/// let (env, power) = EncryptedEnv::with_power_loss(keys.clone())?;
/// let mut opts = env.options()?;
/// opts.create_if_missing(true);
/// let db = rocksdb::DB::open(&opts, "data")?;
/// db.put(b"not synced", b"lost")?;
/// power.cut();
/// drop(db);
/// drop(env);
/// power.restore()?; // "data" now holds what a power loss left
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PowerLoss {
    inner: Arc<Switch>,
}

#[derive(Debug)]
struct Switch {
    id: u64,
}

impl Drop for Switch {
    fn drop(&mut self) {
        // SAFETY: the shim forgets its reference to the fault layer of this
        // id; the env, if alive, keeps its own.
        unsafe { ffi::heliosdb_fileenc_power_release(self.id) };
    }
}

impl EncryptedEnv {
    /// As [`EncryptedEnv::new`], with RocksDB's `FaultInjectionTestFS`
    /// between the encryption and the disk: every byte a file is given stays
    /// in memory until the file is synced. For tests of what survives a
    /// power loss; never for data that matters.
    ///
    /// # Errors
    ///
    /// As [`EncryptedEnv::new`].
    pub fn with_power_loss(keys: Arc<dyn FileKeys>) -> Result<(EncryptedEnv, PowerLoss)> {
        let env = Self::create(keys, ffi::heliosdb_fileenc_env_create_power_loss)?;
        let power = PowerLoss {
            inner: Arc::new(Switch { id: env.id }),
        };
        Ok((env, power))
    }
}

impl PowerLoss {
    /// The power goes off now: from here on every write, sync, file
    /// creation, rename and deletion through the env fails (RocksDB sees I/O
    /// errors), and bytes not synced before this call never reach the disk.
    /// Close the database next, then [`PowerLoss::restore`].
    pub fn cut(&self) {
        // The only failure is an unknown id, impossible while `self` holds it.
        let _ = self.call(ffi::heliosdb_fileenc_power_cut);
    }

    /// The power comes back. Call it after [`PowerLoss::cut`] and after
    /// every database on the env is closed: it throws away the bytes no
    /// sync covered, deletes files created since their directory was last
    /// synced and puts back the files that a rename replaced since then. The
    /// files on disk are then what a power loss at the moment of `cut` would
    /// have left. An env still alive works again afterwards, with its
    /// bookkeeping started over, so a database reopened on it can lose power
    /// again.
    ///
    /// # Errors
    ///
    /// [`Error::PowerLoss`] if the power was not cut, or RocksDB could not
    /// delete or restore a file.
    pub fn restore(&self) -> Result<()> {
        self.call(ffi::heliosdb_fileenc_power_restore)
    }

    fn call(&self, f: unsafe extern "C" fn(u64, *mut c_char, usize) -> c_int) -> Result<()> {
        let mut err = [0 as c_char; 512];
        // SAFETY: `err` is writable for its length; the id is one the shim
        // knows until `Switch` is dropped.
        let code = unsafe { f(self.inner.id, err.as_mut_ptr(), err.len()) };
        if code == ffi::OK {
            return Ok(());
        }
        // SAFETY: the shim NUL-terminates what it writes; the buffer started
        // zeroed.
        let msg = unsafe { CStr::from_ptr(err.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        Err(Error::PowerLoss(msg))
    }
}
