//! Range scans and streaming: `scan_table_range` and `scan_range_iter`
//! return exactly the rows a model (a sorted map) holds in the bounds, in
//! key order, with a transaction's own pending writes merged in, and a
//! concurrent insert into a scanned range is a phantom (conflict). Run on
//! both layouts: format 2 (ordered record keys; new plaintext databases) and
//! format 1 (blind tokens; new encrypted databases until the file layer).

mod common;

use std::collections::BTreeMap;
use std::ops::Bound;

use heliosdb_nano::storage::StorageEngine;
use heliosdb_nano::{Column, Config, DataType, Error, Schema, Tuple, Value};

fn plain(dir: &std::path::Path) -> StorageEngine {
    StorageEngine::open(dir.join("db"), &Config::default()).unwrap()
}

fn encrypted(dir: &std::path::Path) -> StorageEngine {
    let key = common::key_file(dir, "k.key", common::KEY_A.as_bytes(), 0o400);
    StorageEngine::open(dir.join("db"), &common::file_config(&key)).unwrap()
}

fn with_table(s: &StorageEngine, pk: DataType) {
    s.catalog()
        .create_table(
            "t",
            Schema::new(vec![
                Column::new("k", pk).primary_key(),
                Column::new("v", DataType::Int8),
            ]),
        )
        .unwrap();
    s.catalog().create_index("t", "v").unwrap();
}

/// Deterministic pseudo-random numbers (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn bound(rng: &mut Rng, v: impl Fn(u64) -> Value, span: u64) -> Bound<Value> {
    match rng.below(3) {
        0 => Bound::Unbounded,
        1 => Bound::Included(v(rng.below(span))),
        _ => Bound::Excluded(v(rng.below(span))),
    }
}

fn keys_of(rows: Vec<Tuple>) -> Vec<Value> {
    rows.into_iter().map(|t| t.values[0].clone()).collect()
}

/// Random inserts, updates and deletes, some inside an open transaction,
/// then random ranges checked against the model.
fn model_check(s: &StorageEngine, pk: DataType, key: impl Fn(u64) -> Value + Copy) {
    with_table(s, pk);
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    // Ordered key -> (primary key, v).
    let mut model: BTreeMap<Vec<u8>, (Value, i64)> = BTreeMap::new();
    let ord = |v: &Value| {
        let mut k = Vec::new();
        v.encode_ordered(&mut k);
        k
    };
    let span = 400;
    let apply = |s: &StorageEngine, rng: &mut Rng, model: &mut BTreeMap<Vec<u8>, (Value, i64)>| {
        let k = key(rng.below(span));
        let present = model.contains_key(&ord(&k));
        match (rng.below(3), present) {
            (0, true) => {
                assert!(s.delete_by_pk("t", &k).unwrap());
                model.remove(&ord(&k));
            }
            (_, true) => {
                let v = rng.below(100) as i64;
                assert!(s
                    .update_tuple("t", Tuple::new(vec![k.clone(), Value::Int8(v)]))
                    .unwrap());
                model.insert(ord(&k), (k, v));
            }
            (_, false) => {
                let v = rng.below(100) as i64;
                s.insert_tuple("t", Tuple::new(vec![k.clone(), Value::Int8(v)]))
                    .unwrap();
                model.insert(ord(&k), (k, v));
            }
        }
    };
    for _ in 0..600 {
        apply(s, &mut rng, &mut model);
    }
    s.flush().unwrap();
    for _ in 0..200 {
        apply(s, &mut rng, &mut model);
    }
    let check = |s: &StorageEngine, rng: &mut Rng, model: &BTreeMap<Vec<u8>, (Value, i64)>| {
        for _ in 0..150 {
            let (lo, hi) = (bound(rng, key, span), bound(rng, key, span));
            let in_range = |k: &Vec<u8>| {
                (match &lo {
                    Bound::Included(b) => *k >= ord(b),
                    Bound::Excluded(b) => *k > ord(b),
                    Bound::Unbounded => true,
                }) && (match &hi {
                    Bound::Included(b) => *k <= ord(b),
                    Bound::Excluded(b) => *k < ord(b),
                    Bound::Unbounded => true,
                })
            };
            let mut want: Vec<Value> = model
                .iter()
                .filter(|(k, _)| in_range(k))
                .map(|(_, (k, _))| k.clone())
                .collect();
            let got: Vec<Tuple> = s
                .scan_table_range("t", lo.clone(), hi.clone())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(keys_of(got), want, "range {lo:?} .. {hi:?}");
            // Backwards: the same rows, last key first.
            want.reverse();
            let got: Vec<Tuple> = s
                .scan_table_range_rev("t", lo.clone(), hi.clone())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(keys_of(got), want, "reverse range {lo:?} .. {hi:?}");
            // The first rows of a reverse scan are the top of the range.
            let top: Vec<Tuple> = s
                .scan_table_range_rev("t", lo.clone(), hi.clone())
                .unwrap()
                .take(3)
                .collect::<Result<_, _>>()
                .unwrap();
            want.truncate(3);
            assert_eq!(keys_of(top), want, "top of {lo:?} .. {hi:?}");
            // The index on v: rows with v in a range, by (v, key).
            let (vlo, vhi) = (
                bound(rng, |n| Value::Int8(n as i64), 100),
                bound(rng, |n| Value::Int4(n as i32), 100),
            );
            let v_in = |v: i64| {
                (match &vlo {
                    Bound::Included(Value::Int8(b)) => v >= *b,
                    Bound::Excluded(Value::Int8(b)) => v > *b,
                    _ => true,
                }) && (match &vhi {
                    Bound::Included(Value::Int4(b)) => v <= i64::from(*b),
                    Bound::Excluded(Value::Int4(b)) => v < i64::from(*b),
                    _ => true,
                })
            };
            let mut by_v: Vec<(i64, Vec<u8>, Value)> = model
                .iter()
                .filter(|(_, (_, v))| v_in(*v))
                .map(|(o, (k, v))| (*v, o.clone(), k.clone()))
                .collect();
            by_v.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            let mut want: Vec<Value> = by_v.into_iter().map(|(_, _, k)| k).collect();
            let got: Vec<Tuple> = s
                .scan_index_range("t", "v", vlo.clone(), vhi.clone())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(keys_of(got), want, "index range {vlo:?} .. {vhi:?}");
            want.reverse();
            let got: Vec<Tuple> = s
                .scan_index_range_rev("t", "v", vlo.clone(), vhi.clone())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(keys_of(got), want, "reverse index range {vlo:?} .. {vhi:?}");
        }
        let all: Vec<Value> = model.values().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys_of(s.scan_table("t").unwrap()), all);
    };
    check(s, &mut rng, &model);
    // The same inside a transaction with pending writes of its own.
    s.begin_transaction().unwrap();
    for _ in 0..100 {
        apply(s, &mut rng, &mut model);
    }
    check(s, &mut rng, &model);
    s.commit().unwrap();
    check(s, &mut rng, &model);
}

#[test]
fn ranges_match_a_model_ordered_int_keys() {
    let dir = tempfile::tempdir().unwrap();
    model_check(&plain(dir.path()), DataType::Int4, |n| {
        Value::Int4(n as i32 - 200)
    });
}

#[test]
fn ranges_match_a_model_ordered_text_keys() {
    let dir = tempfile::tempdir().unwrap();
    // Keys with shared prefixes, empty strings and NUL bytes.
    model_check(&plain(dir.path()), DataType::Text, |n| {
        Value::String(match n % 4 {
            0 => format!("{n}"),
            1 => format!("{n}\0x"),
            2 => "a".repeat((n % 7) as usize),
            _ => format!("k{}", n * 7919 % 400),
        })
    });
}

#[test]
fn ranges_match_a_model_blind_layout() {
    let dir = tempfile::tempdir().unwrap();
    model_check(&encrypted(dir.path()), DataType::Int8, |n| {
        Value::Int8(n as i64 * 3 - 600)
    });
}

#[test]
fn integer_widths_probe_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = plain(dir.path());
    with_table(&s, DataType::Int4);
    s.insert_tuple("t", Tuple::new(vec![Value::Int4(5), Value::Int8(1)]))
        .unwrap();
    assert!(s.get_by_pk("t", &Value::Int8(5)).unwrap().is_some());
    let got: Vec<Tuple> = s
        .scan_table_range(
            "t",
            Bound::Included(Value::Int2(5)),
            Bound::Included(Value::Int8(5)),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got.len(), 1);
}

#[test]
fn a_concurrent_insert_into_a_scanned_range_is_a_phantom() {
    let dir = tempfile::tempdir().unwrap();
    let s = std::sync::Arc::new(plain(dir.path()));
    with_table(&s, DataType::Int8);
    for k in [10, 20, 30] {
        s.insert_tuple("t", Tuple::new(vec![Value::Int8(k), Value::Int8(0)]))
            .unwrap();
    }
    let range = || {
        (
            Bound::Included(Value::Int8(15)),
            Bound::Excluded(Value::Int8(25)),
        )
    };
    // Outside the range: no conflict.
    let t = s.begin().unwrap();
    let (lo, hi) = range();
    assert_eq!(t.scan_table_range("t", lo, hi).unwrap().count(), 1);
    t.put(b"seen", b"1").unwrap();
    s.insert_tuple("t", Tuple::new(vec![Value::Int8(40), Value::Int8(0)]))
        .unwrap();
    t.commit().unwrap();
    // Inside the range: the reader's commit fails and writes nothing.
    let t = s.begin().unwrap();
    let (lo, hi) = range();
    assert_eq!(t.scan_table_range("t", lo, hi).unwrap().count(), 1);
    t.put(b"seen", b"2").unwrap();
    s.insert_tuple("t", Tuple::new(vec![Value::Int8(17), Value::Int8(0)]))
        .unwrap();
    assert!(matches!(t.commit(), Err(Error::Conflict(_))));
    assert_eq!(s.get(b"seen").unwrap().as_deref(), Some(&b"1"[..]));
}

#[test]
fn key_value_ranges_stream_in_key_order() {
    for encrypt in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let s = if encrypt {
            encrypted(dir.path())
        } else {
            plain(dir.path())
        };
        let mut model = BTreeMap::new();
        let mut rng = Rng(99);
        for _ in 0..500 {
            let k = format!("user:{:03}", rng.below(300)).into_bytes();
            let v = rng.next().to_be_bytes().to_vec();
            s.put(&k, &v).unwrap();
            model.insert(k, v);
        }
        let (a, b) = (b"user:050".as_slice(), b"user:120".as_slice());
        let got: Vec<_> = s
            .scan_range_iter(a, Some(b))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let want: Vec<_> = model
            .range(a.to_vec()..b.to_vec())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(got, want, "encrypted: {encrypt}");
        assert_eq!(s.scan_range(a, b).unwrap(), want);
        let prefix: Vec<_> = model
            .iter()
            .filter(|(k, _)| k.starts_with(b"user:1"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(s.scan_prefix(b"user:1").unwrap(), prefix);
    }
}

#[test]
fn a_range_needs_a_primary_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = plain(dir.path());
    s.catalog()
        .create_table("nopk", Schema::new(vec![Column::new("v", DataType::Int8)]))
        .unwrap();
    let e = s
        .scan_table_range("nopk", Bound::Included(Value::Int8(1)), Bound::Unbounded)
        .unwrap_err();
    assert!(e.to_string().contains("no primary key"), "{e}");
    assert!(s
        .scan_table_range("nopk", Bound::Unbounded, Bound::Unbounded)
        .is_ok());
}

fn rows(it: impl Iterator<Item = Result<Tuple, Error>>) -> Vec<Value> {
    keys_of(it.collect::<Result<_, _>>().unwrap())
}

fn ints(v: &[i64]) -> Vec<Value> {
    v.iter().map(|&k| Value::Int8(k)).collect()
}

#[test]
fn reverse_scans_merge_pending_writes_and_honour_bounds() {
    for encrypt in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let s = if encrypt {
            encrypted(dir.path())
        } else {
            plain(dir.path())
        };
        with_table(&s, DataType::Int8);
        for k in (10..=100).step_by(10) {
            s.insert_tuple("t", Tuple::new(vec![Value::Int8(k), Value::Int8(k / 10)]))
                .unwrap();
        }
        s.flush().unwrap();
        let inc = |k: i64| Bound::Included(Value::Int8(k));
        let exc = |k: i64| Bound::Excluded(Value::Int8(k));
        let rev = |s: &StorageEngine, lo, hi| rows(s.scan_table_range_rev("t", lo, hi).unwrap());
        assert_eq!(
            rev(&s, Bound::Unbounded, Bound::Unbounded),
            ints(&[100, 90, 80, 70, 60, 50, 40, 30, 20, 10])
        );
        assert_eq!(rev(&s, inc(30), inc(60)), ints(&[60, 50, 40, 30]));
        assert_eq!(rev(&s, exc(30), exc(60)), ints(&[50, 40]));
        assert_eq!(rev(&s, exc(25), exc(35)), ints(&[30]));
        assert_eq!(rev(&s, inc(35), inc(35)), ints(&[]));
        assert_eq!(rev(&s, exc(50), exc(50)), ints(&[]));
        assert_eq!(rev(&s, inc(60), inc(30)), ints(&[]));
        assert_eq!(rev(&s, inc(101), Bound::Unbounded), ints(&[]));
        assert_eq!(rev(&s, Bound::Unbounded, exc(10)), ints(&[]));
        assert_eq!(rev(&s, Bound::Unbounded, inc(10)), ints(&[10]));
        // Pending inserts, updates and deletes of the open transaction,
        // at the ends and inside the range, merged in descending order.
        s.begin_transaction().unwrap();
        for k in [5, 55, 105] {
            s.insert_tuple("t", Tuple::new(vec![Value::Int8(k), Value::Int8(0)]))
                .unwrap();
        }
        assert!(s.delete_by_pk("t", &Value::Int8(100)).unwrap());
        assert!(s.delete_by_pk("t", &Value::Int8(50)).unwrap());
        assert!(s
            .update_tuple("t", Tuple::new(vec![Value::Int8(60), Value::Int8(99)]))
            .unwrap());
        assert_eq!(
            rev(&s, Bound::Unbounded, Bound::Unbounded),
            ints(&[105, 90, 80, 70, 60, 55, 40, 30, 20, 10, 5])
        );
        assert_eq!(rev(&s, inc(40), exc(90)), ints(&[80, 70, 60, 55, 40]));
        let top: Vec<Tuple> = s
            .scan_table_range_rev("t", Bound::Unbounded, inc(60))
            .unwrap()
            .take(2)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(top[0].values, vec![Value::Int8(60), Value::Int8(99)]);
        assert_eq!(top[1].values[0], Value::Int8(55));
        // The index follows the pending writes too.
        assert_eq!(
            rows(
                s.scan_index_range_rev("t", "v", Bound::Unbounded, Bound::Unbounded)
                    .unwrap()
            ),
            ints(&[60, 90, 80, 70, 40, 30, 20, 10, 105, 55, 5])
        );
        assert_eq!(
            rows(s.scan_index_range("t", "v", inc(0), exc(3)).unwrap()),
            ints(&[5, 55, 105, 10, 20])
        );
        s.rollback().unwrap();
        assert_eq!(rev(&s, inc(45), inc(100)), ints(&[100, 90, 80, 70, 60, 50]));
    }
}

#[test]
fn index_ranges_skip_nulls_and_work_without_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let s = plain(dir.path());
    s.catalog()
        .create_table(
            "t",
            Schema::new(vec![
                Column::new("k", DataType::Int8).primary_key(),
                Column::new("v", DataType::Int4),
                Column::new("w", DataType::Int4),
            ]),
        )
        .unwrap();
    s.catalog().create_index("t", "v").unwrap();
    for k in 1..=20i64 {
        let v = if k % 5 == 0 {
            Value::Null
        } else {
            Value::Int4((k % 4) as i32)
        };
        s.insert_tuple("t", Tuple::new(vec![Value::Int8(k), v.clone(), v]))
            .unwrap();
    }
    let probe = |col: &str, lo: Bound<Value>, hi: Bound<Value>, rev: bool| {
        let it = if rev {
            s.scan_index_range_rev("t", col, lo, hi)
        } else {
            s.scan_index_range("t", col, lo, hi)
        };
        rows(it.unwrap())
    };
    for (lo, hi) in [
        (Bound::Unbounded, Bound::Unbounded),
        (Bound::Unbounded, Bound::Excluded(Value::Int8(2))),
        (
            Bound::Excluded(Value::Int4(0)),
            Bound::Included(Value::Int2(2)),
        ),
        (Bound::Included(Value::Int4(3)), Bound::Unbounded),
    ] {
        for rev in [false, true] {
            // v has an index, w (the same values) has none: same answers.
            let by_index = probe("v", lo.clone(), hi.clone(), rev);
            assert_eq!(by_index, probe("w", lo.clone(), hi.clone(), rev));
            assert!(by_index
                .iter()
                .all(|k| !matches!(k, Value::Int8(k) if k % 5 == 0)));
        }
    }
    assert_eq!(
        probe(
            "v",
            Bound::Unbounded,
            Bound::Excluded(Value::Int4(1)),
            false
        ),
        ints(&[4, 8, 12, 16])
    );
    // On the primary key: a table range.
    assert_eq!(
        probe(
            "k",
            Bound::Included(Value::Int8(18)),
            Bound::Unbounded,
            true
        ),
        ints(&[20, 19, 18])
    );
    assert!(s
        .scan_index_range("t", "nope", Bound::Unbounded, Bound::Unbounded)
        .is_err());
}

#[test]
fn a_concurrent_insert_into_a_reverse_or_index_range_is_a_phantom() {
    let dir = tempfile::tempdir().unwrap();
    let s = std::sync::Arc::new(plain(dir.path()));
    with_table(&s, DataType::Int8);
    for k in [10, 20, 30] {
        s.insert_tuple("t", Tuple::new(vec![Value::Int8(k), Value::Int8(k)]))
            .unwrap();
    }
    let range = || {
        (
            Bound::Included(Value::Int8(15)),
            Bound::Excluded(Value::Int8(25)),
        )
    };
    let mut n = 0;
    // (reverse table scan | index scan) x (insert outside | inside the range).
    for by_index in [false, true] {
        for inside in [false, true] {
            n += 1;
            let t = s.begin().unwrap();
            let (lo, hi) = range();
            let seen = if by_index {
                t.scan_index_range("t", "v", lo, hi).unwrap().count()
            } else {
                t.scan_table_range_rev("t", lo, hi).unwrap().count()
            };
            assert_eq!(seen, 1);
            t.put(b"seen", n.to_string().as_bytes()).unwrap();
            // Outside: a new key far above; inside: k 100+n with v in the
            // range (index) or key 16+n (table).
            let (k, v) = match (inside, by_index) {
                (false, _) => (1000 + n, 1000),
                (true, true) => (100 + n, 17),
                (true, false) => (16 + n, 0),
            };
            s.insert_tuple("t", Tuple::new(vec![Value::Int8(k), Value::Int8(v)]))
                .unwrap();
            let r = t.commit();
            if inside {
                assert!(matches!(r, Err(Error::Conflict(_))), "{by_index}: {r:?}");
            } else {
                r.unwrap();
            }
        }
    }
    assert_eq!(s.get(b"seen").unwrap().as_deref(), Some(&b"3"[..]));
}
