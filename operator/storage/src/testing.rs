//! Throwaway databases for tests (this crate's and the e2e suite's): a fresh,
//! randomly named database on SQLite (in a temp dir), MariaDB/MySQL or
//! PostgreSQL, dropped by [`TestDatabase::cleanup`] or, failing that, on drop.
//!
//! Admin URLs: `DESIGNATE_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`)
//! and `DESIGNATE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); the user must be allowed to
//! create and drop databases.

use std::fmt;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbErr};

use crate::Error;

/// A kind of database server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    MySql,
    Postgres,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::MySql, Backend::Postgres];

    /// The URL to connect as an administrator to create databases with
    /// (`None` for SQLite, which needs no server).
    pub fn admin_url(self) -> Option<String> {
        let (var, default) = match self {
            Self::Sqlite => return None,
            Self::MySql => ("DESIGNATE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
            Self::Postgres => (
                "DESIGNATE_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/postgres",
            ),
        };
        Some(std::env::var(var).unwrap_or_else(|_| default.to_string()))
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::MySql => "mysql",
            Self::Postgres => "postgres",
        })
    }
}

/// A database of its own for one test; `url()` is what `Storage::connect` takes.
#[derive(Debug)]
pub struct TestDatabase {
    backend: Backend,
    url: String,
    /// Database name on a server; `None` once dropped (and for SQLite).
    name: Option<String>,
    /// SQLite's file lives here and goes with it.
    dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// Creates an empty database with a random name.
    pub async fn create(backend: Backend) -> Result<Self, Error> {
        let Some(admin) = backend.admin_url() else {
            let dir = tempfile::tempdir().map_err(|e| DbErr::Custom(format!("temp dir: {e}")))?;
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("designate.db").display()
            );
            return Ok(Self {
                backend,
                url,
                name: None,
                dir: Some(dir),
            });
        };
        let name = format!("designate_test_{}", uuid::Uuid::new_v4().simple());
        let create = match backend {
            Backend::MySql => {
                format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            }
            _ => format!("CREATE DATABASE \"{name}\""),
        };
        admin_execute(&admin, &create).await?;
        tracing::debug!(%backend, database = %name, "test database created");
        Ok(Self {
            backend,
            url: with_database(&admin, &name),
            name: Some(name),
            dir: None,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database (for SQLite: its directory).
    pub async fn cleanup(mut self) -> Result<(), Error> {
        self.dir.take();
        match self.name.take() {
            Some(name) => drop_database(self.backend, &name).await,
            None => Ok(()),
        }
    }
}

impl Drop for TestDatabase {
    /// The fallback of a test that failed before `cleanup`: drop the database
    /// from a thread of its own, as this one may be inside a runtime.
    fn drop(&mut self) {
        let Some(name) = self.name.take() else {
            return;
        };
        let backend = self.backend;
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            runtime.block_on(drop_database(backend, &name))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            tracing::warn!(%backend, "test database not dropped");
        }
    }
}

async fn drop_database(backend: Backend, name: &str) -> Result<(), Error> {
    let Some(admin) = backend.admin_url() else {
        return Ok(());
    };
    let statement = match backend {
        Backend::MySql => format!("DROP DATABASE IF EXISTS `{name}`"),
        // FORCE: the pools of the test may still hold connections.
        _ => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    };
    admin_execute(&admin, &statement).await
}

async fn admin_execute(admin_url: &str, sql: &str) -> Result<(), Error> {
    let mut options = ConnectOptions::new(admin_url);
    options.max_connections(1).sqlx_logging(false);
    let db = Database::connect(options).await?;
    let result = db.execute_unprepared(sql).await;
    db.close().await?;
    result?;
    Ok(())
}

/// `admin_url` with its database (path) replaced by `name`, query kept.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    format!("{}/{name}{query}", &base[..path])
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_replaces_the_path_and_keeps_the_query() {
        for (admin, want) in [
            (
                "mysql://root@127.0.0.1:3306",
                "mysql://root@127.0.0.1:3306/t",
            ),
            ("mysql://root@h:1/mysql", "mysql://root@h:1/t"),
            (
                "postgres://u@h/postgres?sslmode=disable",
                "postgres://u@h/t?sslmode=disable",
            ),
        ] {
            assert_eq!(with_database(admin, "t"), want);
        }
    }
}
