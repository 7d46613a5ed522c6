//! Several threads reading and writing through one database on the
//! encrypted env while flushes and compactions run in the background (small
//! memtables force many of both): RocksDB calls one cipher stream from
//! several threads at different offsets.

mod common;

use std::sync::Arc;
use std::thread;

use common::*;
use rocksdb::DB;

const THREADS: usize = 6;
const PER_THREAD: usize = 4000;

fn k(t: usize, i: usize) -> Vec<u8> {
    format!("t{t}-{i:06}").into_bytes()
}
fn v(t: usize, i: usize) -> Vec<u8> {
    format!("value-{t}-{i}-{}", "z".repeat((i * 7) % 300)).into_bytes()
}

#[test]
fn threads_read_and_write_through_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let (_keys, env) = env_with(1, 0x81);
    let mut opts = env.options().unwrap();
    opts.create_if_missing(true);
    opts.set_write_buffer_size(256 * 1024);
    opts.set_target_file_size_base(256 * 1024);
    opts.set_level_zero_file_num_compaction_trigger(2);
    opts.increase_parallelism(4);
    let db = Arc::new(DB::open(&opts, dir.path()).unwrap());

    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let db = db.clone();
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    db.put(k(t, i), v(t, i)).unwrap();
                    // Read back something of ours and something of a
                    // neighbour's (which may not be written yet).
                    let j = (i * 31) % (i + 1);
                    assert_eq!(db.get(k(t, j)).unwrap(), Some(v(t, j)));
                    let n = (t + 1) % THREADS;
                    if let Some(got) = db.get(k(n, j)).unwrap() {
                        assert_eq!(got, v(n, j));
                    }
                    if i % 500 == 0 {
                        let mut it = db.raw_iterator();
                        it.seek(k(t, 0));
                        let mut seen = 0;
                        while it.valid()
                            && it.key().unwrap().starts_with(format!("t{t}-").as_bytes())
                        {
                            seen += 1;
                            it.next();
                        }
                        it.status().unwrap();
                        assert!(seen > i);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert!(with_ext(dir.path(), "sst").len() > 1, "no flushes happened");
    drop(Arc::try_unwrap(db).ok().unwrap());

    let db = DB::open(&opts, dir.path()).unwrap();
    for t in 0..THREADS {
        for i in 0..PER_THREAD {
            assert_eq!(db.get(k(t, i)).unwrap(), Some(v(t, i)));
        }
    }
    drop(db);
    drop(env);
}
