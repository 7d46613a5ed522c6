//! Nonce generation: no duplicates within a thread or across threads, in
//! both modes.

use std::collections::HashSet;

use heliosdb_crypto::{random_nonce, NonceMode};

#[test]
fn hundred_thousand_fast_nonces_are_unique() {
    let mut seen = HashSet::with_capacity(100_000);
    for _ in 0..100_000 {
        assert!(seen.insert(random_nonce(NonceMode::Fast).unwrap()));
    }
}

#[test]
fn threads_do_not_share_a_stream() {
    let handles: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                (0..20_000)
                    .map(|_| random_nonce(NonceMode::Fast).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for handle in handles {
        for nonce in handle.join().unwrap() {
            assert!(seen.insert(nonce));
        }
    }
    assert_eq!(seen.len(), 8 * 20_000);
}

#[test]
fn os_nonces_are_unique() {
    let mut seen = HashSet::new();
    for _ in 0..5_000 {
        assert!(seen.insert(random_nonce(NonceMode::Os).unwrap()));
    }
}

#[test]
fn default_mode_is_fast() {
    assert_eq!(NonceMode::default(), NonceMode::Fast);
}
