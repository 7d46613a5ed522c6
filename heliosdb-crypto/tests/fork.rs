//! A forked child must not continue the parent's nonce stream: the
//! `pthread_atfork` child handler makes its thread-local generator reseed.
//! Without it, the child's next nonce would equal the parent's next nonce
//! exactly, since the child inherits the generator state byte for byte.
//!
//! This file holds a single test so that the test harness has as few threads
//! as possible when we fork.

#![cfg(unix)]

use heliosdb_crypto::{random_nonce, NonceMode};

const N: usize = 4;
const LEN: usize = N * 12;

#[test]
#[allow(unsafe_code)]
fn forked_child_reseeds_the_fast_generator() {
    // Seed this thread's generator, so the child inherits live state.
    random_nonce(NonceMode::Fast).unwrap();

    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe(2) to fill.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (read_fd, write_fd) = (fds[0], fds[1]);

    // SAFETY: the child only calls `random_nonce` (an already initialised
    // thread-local, atomics and the getrandom syscall: no locks, no
    // allocation), write(2) and _exit(2), and never returns or unwinds into
    // the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let mut out = [0u8; LEN];
        let mut ok = true;
        for chunk in out.chunks_exact_mut(12) {
            match random_nonce(NonceMode::Fast) {
                Ok(nonce) => chunk.copy_from_slice(&nonce),
                Err(_) => ok = false,
            }
        }
        // SAFETY: `out` is LEN readable bytes; _exit ends the child without
        // running the parent's atexit handlers or destructors.
        unsafe {
            let written = if ok {
                libc::write(write_fd, out.as_ptr().cast(), LEN)
            } else {
                -1
            };
            libc::_exit(if written == LEN as isize { 0 } else { 1 });
        }
    }

    // SAFETY: closing our copy of the write end, a descriptor we own.
    unsafe { libc::close(write_fd) };
    let parent: Vec<[u8; 12]> = (0..N)
        .map(|_| random_nonce(NonceMode::Fast).unwrap())
        .collect();

    let mut child = [0u8; LEN];
    let mut got = 0;
    while got < LEN {
        // SAFETY: reading into the unfilled tail of `child`.
        let n = unsafe { libc::read(read_fd, child[got..].as_mut_ptr().cast(), LEN - got) };
        assert!(n > 0, "child wrote {got} bytes");
        got += n as usize;
    }
    let mut status = 0;
    // SAFETY: waiting for our own child; `status` is a valid out pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    // SAFETY: closing the read end, a descriptor we own.
    unsafe { libc::close(read_fd) };
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);

    let child: Vec<[u8; 12]> = child
        .chunks_exact(12)
        .map(|c| c.try_into().unwrap())
        .collect();
    for c in &child {
        assert!(!parent.contains(c), "child repeated a parent nonce");
    }
    assert_ne!(child[0], parent[0]);
}
