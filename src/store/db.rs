//! Connections and pools for both backends behind one diesel `MultiConnection`.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Postgres(String),
    /// A file path (or `:memory:`).
    Sqlite(String),
}

impl Database {
    /// Accepts `postgres://…`, `postgresql://…`, `sqlite://path` and `sqlite:path`.
    pub fn parse(url: &str) -> Result<Database, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Database::Postgres(url.to_string()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("sqlite URL without a file path".into());
            }
            Ok(Database::Sqlite(path.to_string()))
        } else {
            Err(format!(
                "unsupported database URL {url:?}: use sqlite://PATH or postgres://…"
            ))
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Database::Sqlite(_))
    }
}

/// An r2d2 manager that opens exactly the backend the URL names (the derived
/// `establish` would try each backend in turn and could create a stray SQLite file).
#[derive(Debug)]
pub struct Manager {
    database: Database,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.database {
            Database::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            Database::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the single writer; NORMAL sync in WAL mode
                // survives a process crash (it may lose the last commits on power loss).
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;

pub fn pool(database: &Database, max_size: u32) -> Result<Pool, String> {
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        // A ping on every checkout doubled the round trips of a one-query search. A
        // connection that fails is discarded on return (`has_broken`), so after a database
        // restart each stale connection costs one failed request.
        .test_on_check_out(false)
        .build(Manager {
            database: database.clone(),
        })
        .map_err(|e| format!("cannot open database: {e}"))
}

/// Applies pending migrations of the connection's backend; returns how many ran.
pub fn migrate(conn: &mut DbConnection) -> Result<usize, String> {
    let applied = match conn {
        DbConnection::Postgresql(pg) => pg.run_pending_migrations(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(sqlite) => sqlite.run_pending_migrations(SQLITE_MIGRATIONS),
    };
    applied
        .map(|versions| versions.len())
        .map_err(|e| format!("migration failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::Database;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            Database::parse("sqlite://vnfhir.db").unwrap(),
            Database::Sqlite("vnfhir.db".into())
        );
        assert_eq!(
            Database::parse("sqlite:/tmp/x.db").unwrap(),
            Database::Sqlite("/tmp/x.db".into())
        );
        assert!(Database::parse("postgres://u@h/db").unwrap() != Database::Sqlite(String::new()));
        assert!(Database::parse("mysql://x").is_err());
        assert!(Database::parse("sqlite://").is_err());
    }
}
