//! The store: one API over SQLite and PostgreSQL.
//!
//! A write is one database transaction: the history row, then the projection (typed row and
//! child rows). The unique key `(resource_type, id, version_id)` of `resource_history` is the
//! optimistic lock: of two writers of the same next version, one commits and the other gets a
//! unique violation, which becomes 412 under `If-Match` and a retry otherwise. Writers of one
//! resource also queue on a lock (PostgreSQL advisory lock, SQLite's single writer), so the
//! race is the exception rather than the rule.

pub mod db;
pub mod projection;
pub mod schema;
mod statement;
mod write;

use std::sync::Mutex;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use serde_json::Value;

use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::search::sql::Sql;
use db::{Database, DbConnection, Pool};
use projection::Projection;
use schema::resource_history;
pub use write::{ApplyError, Change};

/// Who is asking, for which facility, under which request id. Authorization, per-facility
/// tenancy and audit hang off this without changing the store's signatures.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub caller: String,
    pub facility: Option<String>,
    pub request_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    fn parse(text: &str) -> Method {
        match text {
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            _ => Method::Put,
        }
    }
}

/// One version of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub resource_type: String,
    pub id: String,
    pub version_id: i64,
    pub last_updated: NaiveDateTime,
    pub method: Method,
    /// The canonical JSON; `None` for a delete.
    pub content: Option<String>,
}

impl Version {
    pub fn is_deleted(&self) -> bool {
        self.content.is_none()
    }
}

#[derive(Debug)]
pub enum StoreError {
    UnknownType(String),
    NotFound,
    /// The current version is a delete.
    Gone(Version),
    /// `If-Match` named another version than the current one.
    VersionConflict {
        expected: i64,
        current: Option<i64>,
    },
    /// The database could not be reached or failed.
    Database(String),
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> StoreError {
        StoreError::Database(error.to_string())
    }
}

/// The outcome of an update.
#[derive(Debug)]
pub struct Written {
    pub version: Version,
    /// No earlier version existed (update-as-create).
    pub created: bool,
}

#[derive(Debug, Clone)]
pub enum HistoryScope {
    System,
    Type(String),
    Instance(String, String),
}

#[derive(Debug, Clone)]
pub struct HistoryQuery {
    pub scope: HistoryScope,
    pub since: Option<NaiveDateTime>,
    pub count: i64,
    /// Keyset cursor: only entries older than this sequence number.
    pub before: Option<i64>,
}

#[derive(Debug)]
pub struct HistoryPage {
    /// Newest first, each with its sequence number (the cursor for the next page).
    pub entries: Vec<(i64, Version)>,
    pub total: i64,
    pub has_more: bool,
}

/// Writes that lost the race for a version number without `If-Match` are retried.
const WRITE_ATTEMPTS: usize = 8;

/// A new server-assigned resource id. UUIDv7 ids grow with time, so the id indexes are
/// appended to rather than written at random pages: a large ingest stays flat once the
/// indexes outgrow memory.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub struct Store {
    pool: Pool,
    /// SQLite has one writer at a time; queueing writers here avoids busy errors.
    sqlite_writer: Option<Mutex<()>>,
}

/// A write that may stop at its precondition.
enum Exists {
    Store(StoreError),
    Found(Vec<Found>),
}

impl From<StoreError> for Exists {
    fn from(error: StoreError) -> Exists {
        Exists::Store(error)
    }
}

/// An open database transaction: reads see its own writes, and nothing is kept unless the
/// closure given to [`Store::transaction`] returns `Ok`.
pub struct Tx<'c> {
    conn: &'c mut DbConnection,
}

impl Tx<'_> {
    /// Applies changes (at most one per resource) with one round trip per table.
    pub fn apply(&mut self, changes: Vec<Change>) -> Result<Vec<Written>, ApplyError> {
        write::apply(self.conn, changes)
    }

    /// The current version of a resource, as this transaction sees it.
    pub fn read(&mut self, resource_type: &str, id: &str) -> Result<Version, StoreError> {
        current(self.conn, resource_type, id)
    }

    pub fn vread(
        &mut self,
        resource_type: &str,
        id: &str,
        version_id: i64,
    ) -> Result<Version, StoreError> {
        version_of(self.conn, resource_type, id, version_id)
    }

    /// Queues transactions that take the same named lock until this one ends (PostgreSQL;
    /// SQLite writers are queued already).
    pub fn lock(&mut self, name: &str) -> Result<(), StoreError> {
        if let DbConnection::Postgresql(pg) = &mut *self.conn {
            write::lock_names(pg, &[name.to_string()])?;
        }
        Ok(())
    }

    pub fn reader(&mut self) -> &mut DbConnection {
        self.conn
    }
}

impl Store {
    pub fn open(database: &Database, pool_size: u32) -> Result<Store, String> {
        let pool = db::pool(database, pool_size)?;
        Ok(Store {
            pool,
            sqlite_writer: database.is_sqlite().then(|| Mutex::new(())),
        })
    }

    pub fn migrate(&self) -> Result<usize, String> {
        let mut conn = self.pool.get().map_err(|e| e.to_string())?;
        db::migrate(&mut conn)
    }

    /// Refreshes the planner's statistics after a bulk load; on PostgreSQL it also sets the
    /// visibility map, without which index-only scans still visit every heap row.
    pub fn analyze(&self, _ctx: &RequestContext) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let command = if self.is_postgres() {
            "VACUUM (ANALYZE)"
        } else {
            "ANALYZE"
        };
        diesel::sql_query(command).execute(&mut *conn)?;
        Ok(())
    }

    fn conn(&self) -> Result<diesel::r2d2::PooledConnection<db::Manager>, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::Database(format!("no database connection: {e}")))
    }

    /// Queues SQLite writers (no-op on PostgreSQL).
    fn writer(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        self.sqlite_writer
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    fn projection(resource_type: &str) -> Result<&'static dyn Projection, StoreError> {
        projection::find(resource_type).ok_or_else(|| StoreError::UnknownType(resource_type.into()))
    }

    /// Runs `work` in one database transaction: committed when it returns `Ok`, rolled back
    /// otherwise.
    pub fn transaction<T, E>(
        &self,
        _ctx: &RequestContext,
        work: impl FnOnce(&mut Tx) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DieselError> + From<StoreError>,
    {
        let _writer = self.writer();
        let mut conn = self.conn()?;
        conn.transaction(|c| work(&mut Tx { conn: c }))
    }

    /// Reads through a pooled connection, outside any transaction of ours.
    pub fn read_with<T, E: From<StoreError>>(
        &self,
        _ctx: &RequestContext,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn()?;
        work(&mut conn)
    }

    /// Creates a resource under a new server-assigned id.
    pub fn create(
        &self,
        _ctx: &RequestContext,
        resource_type: &str,
        resource: Value,
    ) -> Result<Version, StoreError> {
        let id = new_id();
        self.write(resource_type, id, None, Some(resource), Method::Post)
            .map(|w| w.version)
    }

    /// Updates (or creates, with a client-chosen id) a resource.
    pub fn update(
        &self,
        _ctx: &RequestContext,
        resource_type: &str,
        id: &str,
        resource: Value,
        if_match: Option<i64>,
    ) -> Result<Written, StoreError> {
        self.write(
            resource_type,
            id.into(),
            if_match,
            Some(resource),
            Method::Put,
        )
    }

    /// Deletes a resource; returns the tombstone, or the existing one if already deleted.
    pub fn delete(
        &self,
        _ctx: &RequestContext,
        resource_type: &str,
        id: &str,
        if_match: Option<i64>,
    ) -> Result<Version, StoreError> {
        self.write(resource_type, id.into(), if_match, None, Method::Delete)
            .map(|w| w.version)
    }

    /// Conditional create: creates `resource` unless `existing` (search SQL) finds
    /// something, checked and written in one transaction.
    pub fn create_unless(
        &self,
        _ctx: &RequestContext,
        resource_type: &str,
        resource: Value,
        existing: &Sql,
    ) -> Result<Result<Version, Vec<Found>>, StoreError> {
        let id = new_id();
        match self.write_checked(
            resource_type,
            id,
            None,
            Some(resource),
            Method::Post,
            Some(existing),
        ) {
            Ok(written) => Ok(Ok(written.version)),
            Err(Exists::Found(found)) => Ok(Err(found)),
            Err(Exists::Store(error)) => Err(error),
        }
    }

    fn write(
        &self,
        resource_type: &str,
        id: String,
        if_match: Option<i64>,
        resource: Option<Value>,
        method: Method,
    ) -> Result<Written, StoreError> {
        self.write_checked(resource_type, id, if_match, resource, method, None)
            .map_err(|e| match e {
                Exists::Store(error) => error,
                Exists::Found(_) => StoreError::Database("unexpected precondition".into()),
            })
    }

    fn write_checked(
        &self,
        resource_type: &str,
        id: String,
        if_match: Option<i64>,
        resource: Option<Value>,
        method: Method,
        unless: Option<&Sql>,
    ) -> Result<Written, Exists> {
        let projection = Self::projection(resource_type)?;
        let _writer = self.writer();
        let mut conn = self.conn()?;
        for _ in 0..WRITE_ATTEMPTS {
            let change = Change {
                projection,
                id: id.clone(),
                method,
                if_match,
                resource: resource.clone(),
            };
            let attempt = conn.transaction(|c| {
                let c: &mut DbConnection = c;
                if let Some(existing) = unless {
                    // Identical conditional creates queue here, so only one of them creates.
                    Tx { conn: &mut *c }.lock(&format!(
                        "if-none-exist{}{:?}",
                        existing.text, existing.binds
                    ))?;
                    let found: Vec<FoundRow> = statement::load(&mut *c, existing)?;
                    if !found.is_empty() {
                        return Err(Precondition::Found(found));
                    }
                }
                write::apply(c, vec![change]).map_err(Precondition::Apply)
            });
            match attempt {
                Ok(mut written) => return Ok(written.remove(0)),
                Err(Precondition::Found(rows)) => {
                    return Err(Exists::Found(
                        rows.into_iter()
                            .map(|r| r.into_found(resource_type))
                            .collect(),
                    ))
                }
                Err(Precondition::Apply(ApplyError::Change(_, error)))
                | Err(Precondition::Apply(ApplyError::Store(error))) => return Err(error.into()),
                Err(Precondition::Apply(ApplyError::Race)) => {
                    if let Some(expected) = if_match {
                        let current = latest(&mut conn, resource_type, &id)?.map(|v| v.version_id);
                        return Err(StoreError::VersionConflict { expected, current }.into());
                    }
                }
            }
        }
        Err(
            StoreError::Database(format!("{resource_type}/{id}: too many concurrent writers"))
                .into(),
        )
    }

    /// Creates many resources under ids the caller chose (fresh ones, e.g. UUIDs) in one
    /// transaction, with one multi-row INSERT per table: the bulk path of the load tool.
    pub fn create_batch(
        &self,
        ctx: &RequestContext,
        resources: Vec<(&'static str, String, Value)>,
    ) -> Result<usize, StoreError> {
        let changes = resources
            .into_iter()
            .map(|(resource_type, id, resource)| {
                Ok(Change {
                    projection: Self::projection(resource_type)?,
                    id,
                    method: Method::Post,
                    if_match: None,
                    resource: Some(resource),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.transaction(ctx, |tx| {
            tx.apply(changes).map_err(|e| match e {
                ApplyError::Change(_, error) | ApplyError::Store(error) => error,
                ApplyError::Race => StoreError::Database("an id of the batch exists".into()),
            })
        })
        .map(|written| written.len())
    }

    /// The current version; `Gone` when it is a delete.
    pub fn read(
        &self,
        _ctx: &RequestContext,
        resource_type: &str,
        id: &str,
    ) -> Result<Version, StoreError> {
        Self::projection(resource_type)?;
        current(&mut *self.conn()?, resource_type, id)
    }

    pub fn vread(
        &self,
        _ctx: &RequestContext,
        resource_type: &str,
        id: &str,
        version_id: i64,
    ) -> Result<Version, StoreError> {
        Self::projection(resource_type)?;
        version_of(&mut *self.conn()?, resource_type, id, version_id)
    }

    pub fn history(
        &self,
        _ctx: &RequestContext,
        query: &HistoryQuery,
    ) -> Result<HistoryPage, StoreError> {
        let mut conn = self.conn()?;
        let filtered = || {
            let mut q = resource_history::table.into_boxed();
            match &query.scope {
                HistoryScope::System => {}
                HistoryScope::Type(t) => {
                    q = q.filter(resource_history::resource_type.eq(t.clone()))
                }
                HistoryScope::Instance(t, id) => {
                    q = q
                        .filter(resource_history::resource_type.eq(t.clone()))
                        .filter(resource_history::id.eq(id.clone()))
                }
            }
            if let Some(since) = query.since {
                q = q.filter(resource_history::last_updated.ge(since));
            }
            q
        };
        let total: i64 = filtered().count().get_result(&mut conn)?;
        let mut page = filtered();
        if let Some(before) = query.before {
            page = page.filter(resource_history::seq.lt(before));
        }
        let mut rows: Vec<HistoryRow> = page
            .order(resource_history::seq.desc())
            .limit(query.count + 1)
            .select(HistoryRow::as_select())
            .load(&mut conn)?;
        let has_more = rows.len() as i64 > query.count;
        rows.truncate(query.count as usize);
        Ok(HistoryPage {
            entries: rows.into_iter().map(HistoryRow::into_version).collect(),
            total,
            has_more,
        })
    }
}

/// A current resource found by a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub resource_type: String,
    pub id: String,
    pub version_id: i64,
    pub last_updated: NaiveDateTime,
    pub content: String,
    /// The row's sort values as text, for the paging cursor.
    pub sort_keys: Vec<Option<String>>,
}

impl Found {
    pub fn reference(&self) -> String {
        format!("{}/{}", self.resource_type, self.id)
    }

    /// The current version this search row holds.
    pub fn into_version(self) -> Version {
        Version {
            resource_type: self.resource_type,
            id: self.id,
            version_id: self.version_id,
            last_updated: self.last_updated,
            method: Method::Put,
            content: Some(self.content),
        }
    }
}

#[derive(QueryableByName)]
struct FoundRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    version_id: i64,
    #[diesel(sql_type = Timestamp)]
    last_updated: NaiveDateTime,
    #[diesel(sql_type = Nullable<Text>)]
    content: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k0: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k1: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k2: Option<String>,
}

impl FoundRow {
    fn into_found(self, resource_type: &str) -> Found {
        Found {
            resource_type: resource_type.to_string(),
            id: self.id,
            version_id: self.version_id,
            last_updated: self.last_updated,
            content: self.content.unwrap_or_default(),
            sort_keys: vec![self.k0, self.k1, self.k2],
        }
    }
}

#[derive(QueryableByName)]
struct PageRow {
    #[diesel(embed)]
    found: FoundRow,
    #[diesel(sql_type = Nullable<BigInt>)]
    n: Option<i64>,
}

#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    plan: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct ValueRow {
    #[diesel(sql_type = Text)]
    value: String,
}

impl Store {
    pub fn is_postgres(&self) -> bool {
        self.sqlite_writer.is_none()
    }
}

/// Where generated search SQL (see `search::sql`) runs: a pooled connection, or an open
/// transaction that must see its own writes.
pub trait Reader {
    fn is_postgres(&self) -> bool;

    /// Current resources selected by the SQL.
    fn found(&mut self, resource_type: &str, sql: &Sql) -> Result<Vec<Found>, StoreError>;

    /// A search page's rows and the match count it carries in `n` (`None` when it has none).
    fn page(
        &mut self,
        resource_type: &str,
        sql: &Sql,
    ) -> Result<(Vec<Found>, Option<i64>), StoreError>;

    fn count(&mut self, sql: &Sql) -> Result<i64, StoreError>;

    /// The planner's row estimate of an `EXPLAIN (FORMAT JSON)` query (PostgreSQL only).
    fn estimate(&mut self, sql: &Sql) -> Result<i64, StoreError>;

    /// The `value` column of the SQL.
    fn strings(&mut self, sql: &Sql) -> Result<Vec<String>, StoreError>;
}

impl Reader for DbConnection {
    fn is_postgres(&self) -> bool {
        matches!(self, DbConnection::Postgresql(_))
    }

    fn found(&mut self, resource_type: &str, sql: &Sql) -> Result<Vec<Found>, StoreError> {
        let rows: Vec<FoundRow> = statement::load(self, sql)?;
        Ok(rows
            .into_iter()
            .map(|r| r.into_found(resource_type))
            .collect())
    }

    fn page(
        &mut self,
        resource_type: &str,
        sql: &Sql,
    ) -> Result<(Vec<Found>, Option<i64>), StoreError> {
        let rows: Vec<PageRow> = statement::load(self, sql)?;
        let count = rows.first().and_then(|r| r.n);
        let found = rows
            .into_iter()
            .map(|r| r.found.into_found(resource_type))
            .collect();
        Ok((found, count))
    }

    fn count(&mut self, sql: &Sql) -> Result<i64, StoreError> {
        let rows: Vec<CountRow> = statement::load(self, sql)?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    fn estimate(&mut self, sql: &Sql) -> Result<i64, StoreError> {
        let rows: Vec<PlanRow> = statement::load(self, sql)?;
        let plan: Option<Value> = rows
            .first()
            .and_then(|r| serde_json::from_str(&r.plan).ok());
        plan.as_ref()
            .and_then(|p| p[0]["Plan"]["Plan Rows"].as_f64())
            .map(|rows| rows.round() as i64)
            .ok_or_else(|| StoreError::Database("the query plan has no row estimate".into()))
    }

    fn strings(&mut self, sql: &Sql) -> Result<Vec<String>, StoreError> {
        let rows: Vec<ValueRow> = statement::load(self, sql)?;
        Ok(rows.into_iter().map(|r| r.value).collect())
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = resource_history)]
struct HistoryRow {
    seq: i64,
    resource_type: String,
    id: String,
    version_id: i64,
    last_updated: NaiveDateTime,
    method: String,
    content: Option<String>,
}

impl HistoryRow {
    fn into_version(self) -> (i64, Version) {
        (
            self.seq,
            Version {
                resource_type: self.resource_type,
                id: self.id,
                version_id: self.version_id,
                last_updated: self.last_updated,
                method: Method::parse(&self.method),
                content: self.content,
            },
        )
    }
}

fn latest(
    conn: &mut DbConnection,
    resource_type: &str,
    id: &str,
) -> Result<Option<Version>, StoreError> {
    let row: Option<HistoryRow> = resource_history::table
        .filter(resource_history::resource_type.eq(resource_type))
        .filter(resource_history::id.eq(id))
        .order(resource_history::version_id.desc())
        .select(HistoryRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|r| r.into_version().1))
}

/// The current version; `Gone` when it is a delete.
fn current(conn: &mut DbConnection, resource_type: &str, id: &str) -> Result<Version, StoreError> {
    match latest(conn, resource_type, id)? {
        None => Err(StoreError::NotFound),
        Some(version) if version.is_deleted() => Err(StoreError::Gone(version)),
        Some(version) => Ok(version),
    }
}

fn version_of(
    conn: &mut DbConnection,
    resource_type: &str,
    id: &str,
    version_id: i64,
) -> Result<Version, StoreError> {
    let row: Option<HistoryRow> = resource_history::table
        .filter(resource_history::resource_type.eq(resource_type))
        .filter(resource_history::id.eq(id))
        .filter(resource_history::version_id.eq(version_id))
        .select(HistoryRow::as_select())
        .first(conn)
        .optional()?;
    match row.map(HistoryRow::into_version) {
        None => Err(StoreError::NotFound),
        Some((_, version)) if version.is_deleted() => Err(StoreError::Gone(version)),
        Some((_, version)) => Ok(version),
    }
}

/// Why a checked write stopped.
enum Precondition {
    Found(Vec<FoundRow>),
    Apply(ApplyError),
}

impl From<StoreError> for Precondition {
    fn from(error: StoreError) -> Precondition {
        Precondition::Apply(ApplyError::Store(error))
    }
}

impl From<DieselError> for Precondition {
    fn from(error: DieselError) -> Precondition {
        Precondition::Apply(error.into())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn new_ids_sort_in_creation_order() {
        let ids: Vec<String> = (0..1000).map(|_| super::new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(crate::fhir::is_valid_id(&ids[0]));
    }
}
