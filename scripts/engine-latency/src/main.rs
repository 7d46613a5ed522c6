//! Point-query latency of the two candidate SQL engines, measured side by
//! side in one process on in-memory storage, so that the figures are the
//! engines' own per-statement cost (parse, plan, execute, collect) and not
//! the storage's: GlueSQL 0.20 (the engine heliosdb-sql extends) on its
//! `MemoryStorage`, and Apache DataFusion on a `TableProvider` that answers
//! `id = <literal>` as an exact pushed-down point lookup, as a heliosdb
//! provider would. Run: `cargo run --release` in this folder.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::arrow::array::{Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::{MemTable, TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use gluesql_core::prelude::Glue;
use gluesql_memory_storage::MemoryStorage;

const ROWS: i64 = 100_000;
const QUERIES: usize = 20_000;
const ROUNDS: usize = 5;

fn key(i: usize) -> i64 {
    // A fixed scatter over the keys (no RNG dependency, same keys both sides).
    ((i as i64).wrapping_mul(48_271) % ROWS).abs() + 1
}

fn text(id: i64) -> String {
    format!("row-{id:08}")
}

/// Rows by primary key; `scan` serves `id = literal` as a point lookup.
struct PointTable {
    schema: SchemaRef,
    rows: BTreeMap<i64, (i64, String)>,
}

impl std::fmt::Debug for PointTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PointTable")
    }
}

fn id_literal(e: &Expr) -> Option<i64> {
    let Expr::BinaryExpr(BinaryExpr {
        left,
        op: Operator::Eq,
        right,
    }) = e
    else {
        return None;
    };
    let (col, lit) = match (left.as_ref(), right.as_ref()) {
        (Expr::Column(c), Expr::Literal(v, _)) | (Expr::Literal(v, _), Expr::Column(c)) => (c, v),
        _ => return None,
    };
    if col.name != "id" {
        return None;
    }
    match lit {
        ScalarValue::Int64(Some(v)) => Some(*v),
        ScalarValue::Int32(Some(v)) => Some(i64::from(*v)),
        _ => None,
    }
}

impl PointTable {
    fn batch(&self, rows: &[(i64, &(i64, String))]) -> RecordBatch {
        RecordBatch::try_new(
            self.schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1 .0))),
                Arc::new(StringArray::from_iter_values(
                    rows.iter().map(|r| r.1 .1.as_str()),
                )),
            ],
        )
        .expect("batch")
    }
}

#[async_trait]
impl TableProvider for PointTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        TableType::Base
    }
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if id_literal(f).is_some() {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }
    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let point = filters.iter().find_map(id_literal);
        let rows: Vec<(i64, &(i64, String))> = match point {
            Some(k) => self
                .rows
                .get_key_value(&k)
                .map(|(k, v)| (*k, v))
                .into_iter()
                .collect(),
            None => self.rows.iter().map(|(k, v)| (*k, v)).collect(),
        };
        let batch = self.batch(&rows);
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            self.schema.clone(),
            projection.cloned(),
        )?)
    }
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("v", DataType::Int64, false),
        Field::new("s", DataType::Utf8, false),
    ]))
}

fn per_query(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // GlueSQL on MemoryStorage.
    let mut glue = Glue::new(MemoryStorage::default());
    glue.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, s TEXT NOT NULL)")
        .expect("create");
    for chunk in (1..=ROWS).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| format!("({i}, {}, '{}')", i * 7, text(*i)))
            .collect();
        glue.execute(format!("INSERT INTO t VALUES {}", values.join(",")))
            .expect("insert");
    }

    // DataFusion on the point-lookup provider, and on a MemTable (no
    // push-down: a vectorised filter over all rows) for reference.
    let rows: BTreeMap<i64, (i64, String)> = (1..=ROWS).map(|i| (i, (i * 7, text(i)))).collect();
    let table = PointTable {
        schema: schema(),
        rows,
    };
    let all: Vec<(i64, &(i64, String))> = table.rows.iter().map(|(k, v)| (*k, v)).collect();
    let batch = table.batch(&all);
    // One partition: a point query has nothing to parallelise.
    let ctx = SessionContext::new_with_config(
        datafusion::prelude::SessionConfig::new().with_target_partitions(1),
    );
    ctx.register_table(
        "t",
        Arc::new(PointTable {
            schema: schema(),
            rows: table.rows.clone(),
        }),
    )
    .expect("register");
    ctx.register_table(
        "m",
        Arc::new(MemTable::try_new(schema(), vec![vec![batch]]).expect("memtable")),
    )
    .expect("register");

    // Same answers first.
    for i in 0..100 {
        let k = key(i);
        let q = format!("SELECT * FROM t WHERE id = {k}");
        let g = glue.execute(&q).expect("glue");
        let d = ctx
            .sql(&q)
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
        let m = ctx
            .sql(&format!("SELECT * FROM m WHERE id = {k}"))
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
        let rows_df: usize = d.iter().map(|b| b.num_rows()).sum();
        let rows_m: usize = m.iter().map(|b| b.num_rows()).sum();
        let rows_g = match &g[0] {
            gluesql_core::prelude::Payload::Select { rows, .. } => rows.len(),
            p => panic!("unexpected {p:?}"),
        };
        assert_eq!((rows_g, rows_df, rows_m), (1, 1, 1), "key {k}");
        let s = d[0]
            .column(2)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("utf8")
            .value(0);
        assert_eq!(s, text(k));
    }

    let n = QUERIES;
    let mut glue_us = Vec::new();
    let mut df_us = Vec::new();
    let mut df_plan_us = Vec::new();
    let mut df_mem_us = Vec::new();
    let mut df_param_us = Vec::new();
    // A plan parsed once with a parameter, bound per query (no SQL parsing;
    // the optimiser and physical planning still run per execution).
    let prepared = ctx
        .sql("SELECT * FROM t WHERE id = $1")
        .await
        .expect("plan");
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for i in 0..n {
            let q = format!("SELECT * FROM t WHERE id = {}", key(i));
            let r = glue.execute(&q).expect("glue");
            std::hint::black_box(r);
        }
        glue_us.push(per_query(start.elapsed(), n));

        let start = Instant::now();
        for i in 0..n {
            let q = format!("SELECT * FROM t WHERE id = {}", key(i));
            let r = ctx
                .sql(&q)
                .await
                .expect("plan")
                .collect()
                .await
                .expect("run");
            std::hint::black_box(r);
        }
        df_us.push(per_query(start.elapsed(), n));

        let start = Instant::now();
        for i in 0..n {
            let q = format!("SELECT * FROM t WHERE id = {}", key(i));
            let r = ctx
                .sql(&q)
                .await
                .expect("plan")
                .create_physical_plan()
                .await
                .expect("plan");
            std::hint::black_box(r);
        }
        df_plan_us.push(per_query(start.elapsed(), n));

        let start = Instant::now();
        for i in 0..n {
            let r = prepared
                .clone()
                .with_param_values(vec![ScalarValue::Int64(Some(key(i)))])
                .expect("bind")
                .collect()
                .await
                .expect("run");
            assert_eq!(r.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
        }
        df_param_us.push(per_query(start.elapsed(), n));

        let m = n / 20;
        let start = Instant::now();
        for i in 0..m {
            let q = format!("SELECT * FROM m WHERE id = {}", key(i));
            let r = ctx
                .sql(&q)
                .await
                .expect("plan")
                .collect()
                .await
                .expect("run");
            std::hint::black_box(r);
        }
        df_mem_us.push(per_query(start.elapsed(), m));
    }
    println!("point SELECT on {ROWS} rows, in memory, median of {ROUNDS} interleaved rounds of {n} queries:");
    println!(
        "  GlueSQL 0.20, MemoryStorage (primary-key fetch):           {:8.1} µs",
        median(glue_us)
    );
    println!(
        "  DataFusion, point-lookup TableProvider (exact push-down):  {:8.1} µs",
        median(df_us)
    );
    println!(
        "    of which SQL to physical plan:                           {:8.1} µs",
        median(df_plan_us)
    );
    println!(
        "  DataFusion, same, plan parsed once and bound per query:     {:8.1} µs",
        median(df_param_us)
    );
    println!(
        "  DataFusion, MemTable (vectorised filter of every row):     {:8.1} µs",
        median(df_mem_us)
    );
}
