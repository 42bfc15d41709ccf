//! A PostgreSQL database of its own per test (127.0.0.1:5432 or `BELFRY_TEST_POSTGRES_URL`),
//! dropped afterwards. PostgreSQL missing is a failure, never a skip.

#![allow(dead_code)] // each test binary uses part of it

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};

/// A database of its own for one test; dropped (with its connections) when this is.
pub struct TestDb {
    pub admin: String,
    pub name: String,
}

/// Where to create test databases: `BELFRY_TEST_POSTGRES_URL`, or the CI machine's server
/// (trust auth, database `test`) as `postgres` or `root`.
pub async fn admin() -> (String, PgConnection) {
    let candidates = match std::env::var("BELFRY_TEST_POSTGRES_URL") {
        Ok(url) => vec![url],
        Err(_) => ["postgres", "root"].map(|u| format!("postgres://{u}@127.0.0.1:5432/test")).to_vec(),
    };
    let mut errors = vec![];
    for url in candidates {
        match PgConnection::connect(&url).await {
            Ok(conn) => return (url, conn),
            Err(e) => errors.push(format!("{url}: {e}")),
        }
    }
    panic!(
        "PostgreSQL is required for these tests (127.0.0.1:5432, database `test`, trust auth; or set \
         BELFRY_TEST_POSTGRES_URL) and could not be reached:\n  {}",
        errors.join("\n  ")
    )
}

impl TestDb {
    pub async fn create() -> TestDb {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let (admin, mut conn) = admin().await;
        drop_leftovers(&mut conn).await;
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("belfry_test_{}_{n}", std::process::id());
        conn.execute(raw(format!("CREATE DATABASE {name}"))).await.unwrap();
        TestDb { admin, name }
    }

    /// The database's URL, as a user would write it in `storage.url`.
    pub fn url(&self) -> String {
        let (base, _) = self.admin.rsplit_once('/').unwrap();
        format!("{base}/{}", self.name)
    }

    pub async fn admin_sql(&self, statement: String) {
        let mut conn = PgConnection::connect(&self.admin).await.unwrap();
        conn.execute(raw(statement)).await.unwrap();
    }

    /// Refuses (or again accepts) new connections to the database and ends the open ones:
    /// what clients see while PostgreSQL restarts.
    pub async fn set_reachable(&self, reachable: bool) {
        self.admin_sql(format!("ALTER DATABASE {} ALLOW_CONNECTIONS {reachable}", self.name)).await;
        if !reachable {
            self.kill_connections().await;
        }
    }

    pub async fn kill_connections(&self) {
        self.admin_sql(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
            self.name
        ))
        .await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block on itself.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin).await?;
                conn.execute(raw(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// Statements built at run time from test-made names.
pub fn raw(statement: String) -> sqlx::RawSql {
    sqlx::raw_sql(AssertSqlSafe(statement))
}

/// Drops test databases of test processes that died before dropping their own.
async fn drop_leftovers(conn: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'belfry\\_test\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or("");
        if !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = conn.execute(raw(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await;
        }
    }
}
