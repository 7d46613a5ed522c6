//! `UsageCounter` under concurrency: eight threads drawing values and
//! extending the reservation never receive the same value twice, and every
//! value counts as spent.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use heliosdb_crypto::{NeedReservation, UsageCounter};

const THREADS: u64 = 8;
const PER_THREAD: u64 = 50_000;
const BLOCK: u64 = 1_000;

#[test]
fn concurrent_next_never_duplicates() {
    let counter = Arc::new(UsageCounter::new(500, 500 + BLOCK));
    // Stands in for the durable store of the reservation limit.
    let persisted = Arc::new(Mutex::new(500 + BLOCK));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let counter = Arc::clone(&counter);
            let persisted = Arc::clone(&persisted);
            std::thread::spawn(move || {
                let mut mine = Vec::with_capacity(PER_THREAD as usize);
                let mut reservations = 0;
                for _ in 0..PER_THREAD {
                    let n = match counter.next() {
                        Ok(n) => n,
                        Err(NeedReservation { n }) => {
                            reservations += 1;
                            let mut limit = persisted.lock().unwrap();
                            if *limit <= n {
                                *limit = n + BLOCK;
                            }
                            counter.extend(*limit);
                            n
                        }
                    };
                    assert!(n < counter.reserved());
                    mine.push(n);
                }
                (mine, reservations)
            })
        })
        .collect();

    let mut seen = HashSet::new();
    let mut reservations = 0;
    for handle in handles {
        let (values, r) = handle.join().unwrap();
        reservations += r;
        for n in values {
            assert!(seen.insert(n), "value {n} handed out twice");
        }
    }
    let total = THREADS * PER_THREAD;
    assert_eq!(seen.len() as u64, total);
    assert_eq!(counter.used(), 500 + total);
    // Exactly the range [500, 500 + total) was handed out.
    assert_eq!(seen.iter().min(), Some(&500));
    assert_eq!(seen.iter().max(), Some(&(500 + total - 1)));
    assert!(reservations > 0);
    assert!(counter.reserved() >= counter.used());
}

#[test]
fn refused_values_stay_spent_after_restart() {
    // Counting up to the reservation, then "crashing" before persisting a
    // new one: on reopen the owner starts at the persisted limit.
    let c = UsageCounter::new(0, 3);
    assert_eq!(c.next(), Ok(0));
    assert_eq!(c.next(), Ok(1));
    assert_eq!(c.next(), Ok(2));
    assert_eq!(c.next(), Err(NeedReservation { n: 3 }));
    assert_eq!(c.used(), 4);

    let persisted_limit = c.reserved();
    let reopened = UsageCounter::new(persisted_limit, persisted_limit);
    // Reopened at the persisted limit, the counter reissues nothing from
    // the old reservation and needs a new one before 3 may be used.
    assert_eq!(reopened.next(), Err(NeedReservation { n: 3 }));
    reopened.extend(10);
    assert_eq!(reopened.next(), Ok(4));
}
