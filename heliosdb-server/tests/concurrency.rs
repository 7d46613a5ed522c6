//! Concurrency through the server with a real driver (tokio-postgres):
//! N connections × M increments of one hot row, autocommit and in explicit
//! transactions retried on SQLSTATE 40001, end with exactly the number of
//! acknowledged increments; concurrent duplicate UNIQUE inserts leave one.

mod common;

use common::{TestServer, PASSWORD, USER};
use tokio_postgres::error::SqlState;

const CLIENTS: usize = 4;
const INCREMENTS: usize = 50;

async fn connect(server: &TestServer) -> tokio_postgres::Client {
    let (c, conn) =
        tokio_postgres::connect(&server.conn_str(USER, PASSWORD), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(conn);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hot_row_increments_are_never_lost() {
    let server = TestServer::start(true, None).await;
    let setup = server.client().await;
    setup
        .batch_execute(
            "CREATE TABLE c (name TEXT PRIMARY KEY, n INTEGER NOT NULL); \
             INSERT INTO c VALUES ('auto', 0), ('txn', 0);",
        )
        .await
        .unwrap();

    // Autocommit: every UPDATE acknowledged is counted.
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let c = connect(&server).await;
        tasks.push(tokio::spawn(async move {
            let mut acked = 0i32;
            for _ in 0..INCREMENTS {
                let n = c
                    .execute("UPDATE c SET n = n + 1 WHERE name = 'auto'", &[])
                    .await
                    .expect("an autocommit increment failed");
                assert_eq!(n, 1);
                acked += 1;
            }
            acked
        }));
    }
    let mut acked = 0;
    for t in tasks {
        acked += t.await.unwrap();
    }
    let n: i32 = setup
        .query_one("SELECT n FROM c WHERE name = 'auto'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(acked as usize, CLIENTS * INCREMENTS);
    assert_eq!(n, acked, "acknowledged autocommit increments were lost");

    // Explicit transactions: read, write back + 1, COMMIT; a 40001 is retried
    // by the client, as PostgreSQL's documentation tells applications to.
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let c = connect(&server).await;
        tasks.push(tokio::spawn(async move {
            let (mut acked, mut retries) = (0i32, 0u32);
            while acked < INCREMENTS as i32 {
                c.batch_execute("BEGIN").await.unwrap();
                let cur: i32 = c
                    .query_one("SELECT n FROM c WHERE name = 'txn'", &[])
                    .await
                    .unwrap()
                    .get(0);
                c.execute("UPDATE c SET n = $1 WHERE name = 'txn'", &[&(cur + 1)])
                    .await
                    .unwrap();
                match c.batch_execute("COMMIT").await {
                    Ok(()) => acked += 1,
                    Err(e) if e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE) => {
                        retries += 1
                    }
                    Err(e) => panic!("COMMIT failed with {:?}: {e}", e.code()),
                }
            }
            (acked, retries)
        }));
    }
    let (mut acked, mut retries) = (0, 0);
    for t in tasks {
        let (a, r) = t.await.unwrap();
        acked += a;
        retries += r;
    }
    let n: i32 = setup
        .query_one("SELECT n FROM c WHERE name = 'txn'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, acked, "after {retries} serialization failures");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_unique_inserts_leave_one() {
    let server = TestServer::start(true, None).await;
    let setup = server.client().await;
    setup
        .batch_execute("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE)")
        .await
        .unwrap();
    for round in 0..10i32 {
        let mut tasks = Vec::new();
        for w in 0..CLIENTS as i32 {
            let c = connect(&server).await;
            tasks.push(tokio::spawn(async move {
                c.execute(
                    "INSERT INTO u VALUES ($1, $2)",
                    &[&(round * 100 + w), &format!("same{round}@example.com")],
                )
                .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert!(
                    matches!(
                        e.code(),
                        Some(&SqlState::UNIQUE_VIOLATION)
                            | Some(&SqlState::T_R_SERIALIZATION_FAILURE)
                    ) || e.to_string().to_lowercase().contains("unique"),
                    "round {round}: {e:?}"
                ),
            }
        }
        assert_eq!(ok, 1, "round {round}");
    }
    let n: i64 = setup
        .query_one("SELECT COUNT(*) FROM u", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 10);
    server.stop().await;
}
