//! The relational projection: typed columns and child tables for each resource type.
//!
//! Adding a resource type means one module here (its tables' rows and a `Projection`
//! impl), one line in [`PROJECTIONS`] and a migration; REST and the store stay as they are.

mod encounter;
pub mod extract;
mod immunization;
mod medication_request;
mod patient;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::db::DbConnection;
use super::schema::{resource_coding, resource_identifier};
use extract::{items, text};

/// Multi-row INSERT through the concrete connection: diesel's `MultiConnection` has no
/// batch insert of its own.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConnection::Postgresql(c) => diesel::insert_into($table).values($rows).execute(c),
            DbConnection::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}
pub(crate) use insert_rows;

/// The stored state a projection row carries beside its typed columns.
pub struct RowMeta<'a> {
    pub id: &'a str,
    pub version_id: i64,
    pub last_updated: NaiveDateTime,
    /// The canonical JSON, `None` for a delete tombstone.
    pub content: Option<&'a str>,
}

pub trait Projection: Sync {
    fn resource_type(&self) -> &'static str;

    /// CodeableConcept elements whose codings go to `resource_coding`.
    fn coded_elements(&self) -> &'static [&'static str];

    /// Deletes the type's own row and child rows of `id`.
    fn clear(&self, conn: &mut DbConnection, id: &str) -> QueryResult<()>;

    /// Inserts the type's own row and child rows; `resource` is `Null` for a tombstone.
    fn insert(&self, conn: &mut DbConnection, meta: &RowMeta, resource: &Value) -> QueryResult<()>;
}

/// Every resource type the server stores.
pub static PROJECTIONS: &[&dyn Projection] = &[
    &patient::PatientProjection,
    &encounter::EncounterProjection,
    &immunization::ImmunizationProjection,
    &medication_request::MedicationRequestProjection,
];

pub fn find(resource_type: &str) -> Option<&'static dyn Projection> {
    PROJECTIONS
        .iter()
        .copied()
        .find(|p| p.resource_type() == resource_type)
}

/// Replaces the projection of one resource with `resource` (`None`: tombstone).
pub fn replace(
    conn: &mut DbConnection,
    projection: &dyn Projection,
    meta: &RowMeta,
    resource: Option<&Value>,
    existed: bool,
) -> QueryResult<()> {
    let resource_type = projection.resource_type();
    if existed {
        diesel::delete(
            resource_identifier::table
                .filter(resource_identifier::resource_type.eq(resource_type))
                .filter(resource_identifier::resource_id.eq(meta.id)),
        )
        .execute(conn)?;
        diesel::delete(
            resource_coding::table
                .filter(resource_coding::resource_type.eq(resource_type))
                .filter(resource_coding::resource_id.eq(meta.id)),
        )
        .execute(conn)?;
        projection.clear(conn, meta.id)?;
    }
    let resource = resource.unwrap_or(&Value::Null);
    projection.insert(conn, meta, resource)?;
    let identifiers = identifier_rows(resource_type, meta.id, resource);
    if !identifiers.is_empty() {
        insert_rows!(conn, resource_identifier::table, &identifiers)?;
    }
    let codings = coding_rows(
        resource_type,
        meta.id,
        projection.coded_elements(),
        resource,
    );
    if !codings.is_empty() {
        insert_rows!(conn, resource_coding::table, &codings)?;
    }
    Ok(())
}

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = resource_identifier)]
pub struct IdentifierRow {
    pub resource_type: &'static str,
    pub resource_id: String,
    pub ord: i32,
    pub system: Option<String>,
    pub value: Option<String>,
    pub type_code: Option<String>,
    pub period_start: Option<NaiveDateTime>,
    pub period_end: Option<NaiveDateTime>,
}

pub fn identifier_rows(
    resource_type: &'static str,
    id: &str,
    resource: &Value,
) -> Vec<IdentifierRow> {
    items(resource, "identifier")
        .enumerate()
        .map(|(ord, identifier)| {
            let period = identifier.get("period").unwrap_or(&Value::Null);
            IdentifierRow {
                resource_type,
                resource_id: id.to_string(),
                ord: ord as i32,
                system: text(identifier, "system"),
                value: text(identifier, "value"),
                type_code: identifier
                    .get("type")
                    .and_then(|t| extract::codings(t).find_map(|c| text(c, "code"))),
                period_start: extract::start_of(extract::date_time(period, "start")),
                period_end: extract::end_of(extract::date_time(period, "end")),
            }
        })
        .collect()
}

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = resource_coding)]
pub struct CodingRow {
    pub resource_type: &'static str,
    pub resource_id: String,
    pub element: &'static str,
    pub ord: i32,
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
}

pub fn coding_rows(
    resource_type: &'static str,
    id: &str,
    elements: &[&'static str],
    resource: &Value,
) -> Vec<CodingRow> {
    elements
        .iter()
        .flat_map(|&element| {
            items(resource, element)
                .flat_map(extract::codings)
                .enumerate()
                .map(move |(ord, coding)| CodingRow {
                    resource_type,
                    resource_id: id.to_string(),
                    element,
                    ord: ord as i32,
                    system: text(coding, "system"),
                    code: text(coding, "code"),
                    display: text(coding, "display"),
                })
        })
        .collect()
}

/// The identifier value whose system ends with `system_suffix` (`/sid/cccd`, ...).
pub fn identifier_value(resource: &Value, system_suffix: &str) -> Option<String> {
    items(resource, "identifier")
        .find(|i| {
            i["system"]
                .as_str()
                .is_some_and(|s| s.ends_with(system_suffix))
        })
        .and_then(|i| text(i, "value"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_projection_is_registered_once() {
        let names: Vec<_> = PROJECTIONS.iter().map(|p| p.resource_type()).collect();
        assert_eq!(
            names,
            ["Patient", "Encounter", "Immunization", "MedicationRequest"]
        );
        assert!(find("Observation").is_none());
        assert_eq!(find("Encounter").unwrap().resource_type(), "Encounter");
    }

    #[test]
    fn identifier_rows_follow_the_resource() {
        let patient = json!({"identifier": [
            {"system": "https://fhir.vnfhir.org/sid/cccd", "value": "001090012345",
             "type": {"coding": [{"code": "NI"}]},
             "period": {"start": "2021-01-01", "end": "2036-01-01"}},
            {"value": "local-1"}
        ]});
        let rows = identifier_rows("Patient", "p1", &patient);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].value.as_deref(), Some("001090012345"));
        assert_eq!(rows[0].type_code.as_deref(), Some("NI"));
        assert_eq!(
            rows[0].period_start.unwrap().to_string(),
            "2020-12-31 17:00:00"
        );
        assert!(rows[0].period_end.is_some());
        assert_eq!((rows[1].ord, rows[1].system.as_deref()), (1, None));
        assert_eq!(
            identifier_value(&patient, "/sid/cccd").as_deref(),
            Some("001090012345")
        );
    }

    #[test]
    fn coding_rows_cover_arrays_of_concepts() {
        let encounter = json!({"type": [
            {"coding": [{"system": "s1", "code": "01", "display": "Khám bệnh"}]},
            {"coding": [{"system": "s2", "code": "AMB"}]}
        ]});
        let rows = coding_rows("Encounter", "e1", &["type"], &encounter);
        let codes: Vec<_> = rows.iter().map(|r| (r.ord, r.code.as_deref())).collect();
        assert_eq!(codes, [(0, Some("01")), (1, Some("AMB"))]);
        assert_eq!(rows[0].display.as_deref(), Some("Khám bệnh"));
        assert!(coding_rows("Encounter", "e1", &["type"], &Value::Null).is_empty());
    }
}
