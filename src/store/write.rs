//! The write path: many changes applied in one database transaction, with one round trip
//! per table rather than per resource.
//!
//! Writers of one resource queue on a lock (a PostgreSQL advisory lock per resource; SQLite
//! has the store's writer mutex), then the current versions are read in one query per type.
//! The unique key `(resource_type, id, version_id)` of `resource_history` stays the last line
//! of defence: a writer that lost a race gets a unique violation.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::db::DbConnection;
use super::projection::{self, insert_rows, Projection, RowMeta};
use super::schema::resource_history;
use super::{Method, StoreError, Version, Written};
use crate::fhir::datetime;
use crate::search::sql::{Bind, Sql};

/// One resource to create, update or delete.
pub struct Change {
    pub projection: &'static dyn Projection,
    pub id: String,
    /// `Post` is a create under a fresh id: nothing to lock or look up.
    pub method: Method,
    pub if_match: Option<i64>,
    /// `None` for a delete.
    pub resource: Option<Value>,
}

/// Why a set of changes was not applied.
#[derive(Debug)]
pub enum ApplyError {
    /// Change `index` broke its precondition (version, existence).
    Change(usize, StoreError),
    /// Another writer took a version number first.
    Race,
    Store(StoreError),
}

impl From<StoreError> for ApplyError {
    fn from(error: StoreError) -> ApplyError {
        ApplyError::Store(error)
    }
}

impl From<diesel::result::Error> for ApplyError {
    fn from(error: diesel::result::Error) -> ApplyError {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => ApplyError::Race,
            other => ApplyError::Store(other.into()),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = resource_history, treat_none_as_default_value = false)]
struct NewHistoryRow<'a> {
    resource_type: &'a str,
    id: &'a str,
    version_id: i64,
    last_updated: NaiveDateTime,
    method: &'a str,
    content: Option<&'a str>,
}

/// Applies `changes` (at most one per resource) inside the caller's transaction.
pub fn apply(conn: &mut DbConnection, changes: Vec<Change>) -> Result<Vec<Written>, ApplyError> {
    let existing: Vec<(&str, &str)> = changes
        .iter()
        .filter(|c| c.method != Method::Post)
        .map(|c| (c.projection.resource_type(), c.id.as_str()))
        .collect();
    lock_resources(conn, &existing)?;
    let current = current_versions(conn, &existing)?;
    let last_updated = datetime::now();
    // What each change writes: its new version, or the tombstone it leaves alone.
    let mut outcomes: Vec<(Written, bool)> = Vec::with_capacity(changes.len());
    for (index, change) in changes.iter().enumerate() {
        let resource_type = change.projection.resource_type();
        let now = current.get(&(resource_type, change.id.as_str()));
        let failed = |error| Err(ApplyError::Change(index, error));
        if let Some(expected) = change.if_match {
            let current_id = now.map(|v| v.version_id);
            if current_id != Some(expected) {
                return failed(StoreError::VersionConflict {
                    expected,
                    current: current_id,
                });
            }
        }
        if change.method == Method::Delete {
            match now {
                None => return failed(StoreError::NotFound),
                Some(tombstone) if tombstone.deleted => {
                    let written = Written {
                        version: Version {
                            resource_type: resource_type.to_string(),
                            id: change.id.clone(),
                            version_id: tombstone.version_id,
                            last_updated: tombstone.last_updated,
                            method: Method::Delete,
                            content: None,
                        },
                        created: false,
                    };
                    outcomes.push((written, false));
                    continue;
                }
                Some(_) => {}
            }
        }
        let version_id = now.map_or(1, |v| v.version_id + 1);
        let content = change
            .resource
            .as_ref()
            .map(|r| stamped_json(r, &change.id, version_id, last_updated))
            .transpose()
            .map_err(|e| {
                ApplyError::Store(StoreError::Database(format!(
                    "cannot serialize resource: {e}"
                )))
            })?;
        let version = Version {
            resource_type: resource_type.to_string(),
            id: change.id.clone(),
            version_id,
            last_updated,
            method: change.method,
            content,
        };
        outcomes.push((
            Written {
                version,
                created: now.is_none(),
            },
            true,
        ));
    }
    let history: Vec<NewHistoryRow> = outcomes
        .iter()
        .filter(|(_, writes)| *writes)
        .map(|(written, _)| {
            let v = &written.version;
            NewHistoryRow {
                resource_type: &v.resource_type,
                id: &v.id,
                version_id: v.version_id,
                last_updated: v.last_updated,
                method: v.method.as_str(),
                content: v.content.as_deref(),
            }
        })
        .collect();
    insert_rows!(conn, resource_history::table, &history)?;
    for projection in projection::PROJECTIONS {
        let mut rows = Vec::new();
        let mut replaced = Vec::new();
        for (change, (written, writes)) in changes.iter().zip(&outcomes) {
            if !writes || change.projection.resource_type() != projection.resource_type() {
                continue;
            }
            let v = &written.version;
            if !written.created {
                replaced.push(v.id.as_str());
            }
            let meta = RowMeta {
                id: &v.id,
                version_id: v.version_id,
                last_updated: v.last_updated,
                content: v.content.as_deref(),
            };
            rows.push((meta, change.resource.as_ref()));
        }
        if !rows.is_empty() {
            projection::replace(conn, *projection, &rows, &replaced)?;
        }
    }
    Ok(outcomes.into_iter().map(|(written, _)| written).collect())
}

/// Queues writers of the same resources behind each other for the rest of the transaction,
/// always locking in the same order so two transactions cannot deadlock.
fn lock_resources(conn: &mut DbConnection, keys: &[(&str, &str)]) -> QueryResult<()> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(());
    };
    if keys.is_empty() {
        return Ok(());
    }
    let mut names: Vec<String> = keys.iter().map(|(t, id)| format!("{t}/{id}")).collect();
    names.sort();
    names.dedup();
    lock_names(pg, &names)
}

/// Advisory transaction locks on arbitrary names, in the order given.
pub(super) fn lock_names(pg: &mut diesel::PgConnection, names: &[String]) -> QueryResult<()> {
    let values: Vec<String> = (1..=names.len()).map(|n| format!("(${n})")).collect();
    let text = format!(
        "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (VALUES {}) AS v(k)",
        values.join(", ")
    );
    let mut query = diesel::sql_query(text).into_boxed::<diesel::pg::Pg>();
    for name in names {
        query = query.bind::<Text, _>(name.clone());
    }
    query.execute(pg).map(drop)
}

#[derive(QueryableByName)]
struct Current {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    version_id: i64,
    #[diesel(sql_type = Timestamp)]
    last_updated: NaiveDateTime,
    #[diesel(sql_type = Bool)]
    deleted: bool,
}

/// The current version of each resource, from the type tables (one query per type).
fn current_versions<'k>(
    conn: &mut DbConnection,
    keys: &[(&'k str, &'k str)],
) -> Result<HashMap<(&'k str, &'k str), Current>, StoreError> {
    let mut current = HashMap::new();
    for projection in projection::PROJECTIONS {
        let resource_type = projection.resource_type();
        let ids: Vec<&'k str> = keys
            .iter()
            .filter(|(t, _)| *t == resource_type)
            .map(|(_, id)| *id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let mut sql = Sql::new(matches!(conn, DbConnection::Postgresql(_)));
        let list: Vec<String> = ids
            .iter()
            .map(|id| sql.bind(Bind::Text(id.to_string())))
            .collect();
        sql.text = format!(
            "SELECT id, version_id, last_updated, deleted FROM {} WHERE id IN ({})",
            projection.table(),
            list.join(", ")
        );
        let rows: Vec<Current> = super::statement::load(&mut *conn, &sql)?;
        for row in rows {
            if let Some(id) = ids.iter().find(|id| **id == row.id) {
                current.insert((resource_type, *id), row);
            }
        }
    }
    Ok(current)
}

/// The resource as stored: `resourceType`, `id` and `meta` first (server-set `versionId` and
/// `lastUpdated`, client `meta` elements kept), everything else as received. Serialized from
/// the received value, without copying it.
pub(super) fn stamped_json(
    resource: &Value,
    id: &str,
    version_id: i64,
    last_updated: NaiveDateTime,
) -> serde_json::Result<String> {
    struct Stamped<'a> {
        resource: &'a Value,
        id: &'a str,
        meta: Map<String, Value>,
    }
    impl Serialize for Stamped<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("resourceType", &self.resource["resourceType"])?;
            map.serialize_entry("id", self.id)?;
            map.serialize_entry("meta", &self.meta)?;
            for (key, value) in self.resource.as_object().into_iter().flatten() {
                if !matches!(key.as_str(), "resourceType" | "id" | "meta") {
                    map.serialize_entry(key, value)?;
                }
            }
            map.end()
        }
    }
    let mut meta = resource
        .get("meta")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    meta.insert("versionId".into(), Value::String(version_id.to_string()));
    meta.insert(
        "lastUpdated".into(),
        Value::String(datetime::format_instant(last_updated)),
    );
    serde_json::to_string(&Stamped { resource, id, meta })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_puts_server_fields_first_and_keeps_the_rest_exact() {
        let received: Value = serde_json::from_str(
            r#"{"gender":"male","resourceType":"Patient","id":"client","meta":{"profile":["p"],"versionId":"9"},"x":1.50}"#,
        )
        .unwrap();
        let at = NaiveDateTime::parse_from_str("2026-11-23 01:02:03.456", "%F %T%.3f").unwrap();
        let stamped = stamped_json(&received, "p1", 2, at).unwrap();
        assert_eq!(
            stamped,
            r#"{"resourceType":"Patient","id":"p1","meta":{"profile":["p"],"versionId":"2","lastUpdated":"2026-11-23T01:02:03.456Z"},"gender":"male","x":1.50}"#
        );
    }
}
