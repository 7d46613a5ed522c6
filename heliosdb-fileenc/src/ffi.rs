//! The boundary with `csrc/shim.cc`: the callbacks RocksDB's encryption
//! provider makes into Rust, and the shim functions Rust calls.
//!
//! Every `extern "C"` function here catches panics (a panic must not unwind
//! into C++) and turns them into an error code, which the shim turns into a
//! RocksDB `Status`. Error messages go into a caller-provided buffer; none
//! contains key material.

use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::error::HeaderError;
use crate::format::{self, Stream, PREFIX_LEN};
use crate::FileKeys;

/// Result codes shared with the shim (`kOk`, `kCorruption`, `kIOError`).
pub(crate) const OK: c_int = 0;
pub(crate) const CORRUPTION: c_int = 1;
pub(crate) const IO_ERROR: c_int = 2;

/// What the provider's `ctx` points to: one strong reference of an `Arc`.
pub(crate) struct Ctx {
    pub keys: Arc<dyn FileKeys>,
}

extern "C" {
    pub(crate) fn heliosdb_fileenc_env_create(
        ctx: *const c_void,
        id: u64,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
    pub(crate) fn heliosdb_fileenc_env_destroy(id: u64);
    pub(crate) fn heliosdb_fileenc_reencrypt_file(
        id: u64,
        path: *const c_char,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
}

#[cfg(feature = "fault-injection")]
extern "C" {
    pub(crate) fn heliosdb_fileenc_env_create_power_loss(
        ctx: *const c_void,
        id: u64,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
    pub(crate) fn heliosdb_fileenc_power_cut(id: u64, err: *mut c_char, err_len: usize) -> c_int;
    pub(crate) fn heliosdb_fileenc_power_restore(
        id: u64,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
    pub(crate) fn heliosdb_fileenc_power_release(id: u64);
}

/// Copies `msg` into the shim's error buffer, NUL-terminated and cut to fit
/// (on a character boundary).
///
/// # Safety
/// `err` is null or valid for writes of `err_len` bytes.
unsafe fn write_err(err: *mut c_char, err_len: usize, msg: &str) {
    if err.is_null() || err_len == 0 {
        return;
    }
    let mut n = msg.len().min(err_len - 1);
    while !msg.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: the caller guarantees `err_len` writable bytes; n < err_len.
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), err.cast::<u8>(), n);
        *err.add(n) = 0;
    }
}

fn header_code(e: &HeaderError) -> c_int {
    match e {
        // Not NotFound: RocksDB reads NotFound on some files (CURRENT, the
        // WAL directory) as "absent", which must never happen for a file
        // that is present but whose key is not in the keyring.
        HeaderError::UnknownKey(_) => IO_ERROR,
        _ => CORRUPTION,
    }
}

#[no_mangle]
extern "C" fn heliosdb_fileenc_prefix_len() -> usize {
    PREFIX_LEN
}

#[no_mangle]
extern "C" fn heliosdb_fileenc_new_prefix(
    ctx: *const c_void,
    buf: *mut u8,
    len: usize,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: ctx is the pointer the shim got from `EncryptedEnv::new`,
        // kept alive by the provider that is calling us; buf/len is
        // RocksDB's prefix buffer.
        let ctx = unsafe { &*ctx.cast::<Ctx>() };
        let buf = unsafe { std::slice::from_raw_parts_mut(buf, len) };
        format::new_prefix(ctx.keys.as_ref(), buf)
    }));
    let msg = match result {
        Ok(Ok(())) => return OK,
        Ok(Err(msg)) => format!("heliosdb-fileenc: cannot write a file header: {msg}"),
        Err(_) => "heliosdb-fileenc: panic while writing a file header".to_owned(),
    };
    // SAFETY: the shim passes its error buffer and its length.
    unsafe { write_err(err, err_len, &msg) };
    IO_ERROR
}

#[no_mangle]
extern "C" fn heliosdb_fileenc_open_stream(
    ctx: *const c_void,
    prefix: *const u8,
    len: usize,
    out: *mut *mut c_void,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as in heliosdb_fileenc_new_prefix; a Slice of RocksDB's
        // may be empty with a null data pointer.
        let ctx = unsafe { &*ctx.cast::<Ctx>() };
        let prefix = if len == 0 {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(prefix, len) }
        };
        Stream::open(ctx.keys.as_ref(), prefix)
    }));
    let (code, msg) = match result {
        Ok(Ok(stream)) => {
            // SAFETY: `out` points to the shim's handle variable.
            unsafe { *out = Box::into_raw(Box::new(stream)).cast() };
            return OK;
        }
        Ok(Err(e)) => (header_code(&e), format!("heliosdb-fileenc: {e}")),
        Err(_) => (
            IO_ERROR,
            "heliosdb-fileenc: panic while opening a file".to_owned(),
        ),
    };
    // SAFETY: the shim passes its error buffer and its length.
    unsafe { write_err(err, err_len, &msg) };
    code
}

#[no_mangle]
extern "C" fn heliosdb_fileenc_xor(
    handle: *const c_void,
    offset: u64,
    data: *mut u8,
    len: usize,
) -> c_int {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: handle came from heliosdb_fileenc_open_stream and is closed
        // only when the C++ stream is destroyed, after its last call; data
        // and len are RocksDB's I/O buffer (the shim skips empty ones).
        let stream = unsafe { &*handle.cast::<Stream>() };
        let data = unsafe { std::slice::from_raw_parts_mut(data, len) };
        stream.xor(offset, data);
    }));
    if result.is_ok() {
        OK
    } else {
        IO_ERROR
    }
}

#[no_mangle]
extern "C" fn heliosdb_fileenc_close_stream(handle: *mut c_void) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !handle.is_null() {
            // SAFETY: the handle is closed exactly once, by the stream's
            // destructor.
            drop(unsafe { Box::from_raw(handle.cast::<Stream>()) });
        }
    }));
}

#[no_mangle]
extern "C" fn heliosdb_fileenc_release_ctx(ctx: *const c_void) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !ctx.is_null() {
            // SAFETY: the reference `EncryptedEnv::new` gave away; released
            // once, by the provider's destructor or by the shim on failure.
            drop(unsafe { Arc::from_raw(ctx.cast::<Ctx>()) });
        }
    }));
}
