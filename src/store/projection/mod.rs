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
use super::schema::{resource_coding, resource_identifier, resource_reference, resource_string};
use crate::fhir::text::search_form;
use crate::search::params::SearchParam;
use extract::{items, text};

/// Rows per INSERT statement: well under the bind limits of both backends
/// (PostgreSQL 65,535, SQLite 32,766) for our widest table.
pub const ROWS_PER_INSERT: usize = 500;

/// Bulk inserts through the concrete connection (diesel's `MultiConnection` has no batch
/// insert of its own): binary COPY on PostgreSQL, which spares the server parsing and
/// planning a statement with thousands of parameters; multi-row INSERTs in chunks of
/// [`ROWS_PER_INSERT`] on SQLite. Row types derive `Insertable` with
/// `treat_none_as_default_value = false`, as COPY needs every column every time.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match &mut *$conn {
            _ if rows.is_empty() => QueryResult::Ok(0),
            DbConnection::Postgresql(c) => {
                diesel::copy_from($table).from_insertable(rows).execute(c)
            }
            DbConnection::Sqlite(c) => {
                let mut inserted = 0;
                for chunk in rows.chunks($crate::store::projection::ROWS_PER_INSERT) {
                    inserted += diesel::insert_into($table).values(chunk).execute(c)?;
                }
                QueryResult::Ok(inserted)
            }
        }
    }};
}
pub(crate) use insert_rows;

/// The stored state a projection row carries beside its typed columns.
#[derive(Clone)]
pub struct RowMeta<'a> {
    pub id: &'a str,
    pub version_id: i64,
    pub last_updated: NaiveDateTime,
    /// The canonical JSON, `None` for a delete tombstone.
    pub content: Option<&'a str>,
}

pub trait Projection: Sync {
    fn resource_type(&self) -> &'static str;

    /// The type's own table.
    fn table(&self) -> &'static str;

    /// The search parameters this projection indexes, and where.
    fn search_params(&self) -> &'static [SearchParam];

    /// Values of the type's string, token and reference parameters, for the shared
    /// `resource_string`, `resource_coding` and `resource_reference` tables.
    fn search_values(&self, resource: &Value, values: &mut SearchValues);

    /// Deletes the type's own rows and child rows of `ids`.
    fn clear(&self, conn: &mut DbConnection, ids: &[&str]) -> QueryResult<()>;

    /// Inserts the type's own rows and child rows of many resources at once; a `Null`
    /// resource is a tombstone.
    fn insert(&self, conn: &mut DbConnection, rows: &[(RowMeta, &Value)]) -> QueryResult<()>;
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

/// Writes the projection of many resources of one type: `existing` lists the ids whose
/// old rows go first; a `None` resource is a tombstone.
pub fn replace(
    conn: &mut DbConnection,
    projection: &dyn Projection,
    rows: &[(RowMeta, Option<&Value>)],
    existing: &[&str],
) -> QueryResult<()> {
    let resource_type = projection.resource_type();
    if !existing.is_empty() {
        macro_rules! delete_index_rows {
            ($($table:ident),*) => {$(
                diesel::delete(
                    $table::table
                        .filter($table::resource_type.eq(resource_type))
                        .filter($table::resource_id.eq_any(existing)),
                )
                .execute(conn)?;
            )*};
        }
        delete_index_rows!(
            resource_identifier,
            resource_coding,
            resource_string,
            resource_reference
        );
        projection.clear(conn, existing)?;
    }
    let resources: Vec<(RowMeta, &Value)> = rows
        .iter()
        .map(|(meta, resource)| (meta.clone(), resource.unwrap_or(&Value::Null)))
        .collect();
    projection.insert(conn, &resources)?;
    let mut identifiers = Vec::new();
    let mut index = IndexRows::default();
    for (meta, resource) in &resources {
        identifiers.extend(identifier_rows(resource_type, meta.id, resource));
        let mut values = SearchValues::default();
        values.meta(resource);
        projection.search_values(resource, &mut values);
        index.extend(values.into_rows(resource_type, meta.id));
    }
    insert_rows!(conn, resource_identifier::table, &identifiers)?;
    insert_rows!(conn, resource_coding::table, &index.codings)?;
    insert_rows!(conn, resource_string::table, &index.strings)?;
    insert_rows!(conn, resource_reference::table, &index.references)?;
    Ok(())
}

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = resource_identifier, treat_none_as_default_value = false)]
pub struct IdentifierRow {
    pub resource_type: &'static str,
    pub resource_id: String,
    pub ord: i32,
    pub system: Option<String>,
    pub value: Option<String>,
    pub type_system: Option<String>,
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
            let type_coding = identifier
                .get("type")
                .and_then(|t| extract::codings(t).find(|c| c.get("code").is_some()));
            IdentifierRow {
                resource_type,
                resource_id: id.to_string(),
                ord: ord as i32,
                system: text(identifier, "system"),
                value: text(identifier, "value"),
                type_system: type_coding.and_then(|c| text(c, "system")),
                type_code: type_coding.and_then(|c| text(c, "code")),
                period_start: extract::start_of(extract::date_time(period, "start")),
                period_end: extract::end_of(extract::date_time(period, "end")),
            }
        })
        .collect()
}

/// One token value of a parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
    /// Accent-free text for `:text` (the concept's text, else the display).
    pub text: Option<String>,
}

/// Search values gathered from one resource, by parameter code.
#[derive(Debug, Default)]
pub struct SearchValues {
    pub strings: Vec<(&'static str, String)>,
    pub tokens: Vec<(&'static str, Token)>,
    pub references: Vec<(&'static str, String)>,
}

impl SearchValues {
    pub fn string(&mut self, param: &'static str, value: Option<&Value>) {
        if let Some(text) = value.and_then(Value::as_str) {
            self.strings.push((param, text.to_string()));
        }
    }

    /// Every string of `element` (a string or array of strings) of each item.
    pub fn strings_of<'a>(
        &mut self,
        param: &'static str,
        parents: impl Iterator<Item = &'a Value>,
        element: &str,
    ) {
        for parent in parents {
            for value in items(parent, element) {
                self.string(param, Some(value));
            }
        }
    }

    /// A CodeableConcept, Coding, or plain code.
    pub fn token(&mut self, param: &'static str, value: &Value) {
        match value {
            Value::String(code) => self.tokens.push((
                param,
                Token {
                    system: None,
                    code: Some(code.clone()),
                    display: None,
                    text: None,
                },
            )),
            Value::Object(_) if value.get("coding").is_some() || value.get("text").is_some() => {
                let concept_text = text(value, "text");
                for coding in extract::codings(value) {
                    self.coding(param, coding, concept_text.as_deref());
                }
                if extract::codings(value).next().is_none() {
                    if let Some(concept_text) = concept_text {
                        self.tokens.push((
                            param,
                            Token {
                                system: None,
                                code: None,
                                display: None,
                                text: Some(search_form(&concept_text)),
                            },
                        ));
                    }
                }
            }
            Value::Object(_) => self.coding(param, value, None),
            _ => {}
        }
    }

    fn coding(&mut self, param: &'static str, coding: &Value, concept_text: Option<&str>) {
        let display = text(coding, "display");
        let label = concept_text.map(str::to_string).or_else(|| display.clone());
        self.tokens.push((
            param,
            Token {
                system: text(coding, "system"),
                code: text(coding, "code"),
                display,
                text: label.map(|l| search_form(&l)),
            },
        ));
    }

    pub fn tokens_of<'a>(&mut self, param: &'static str, values: impl Iterator<Item = &'a Value>) {
        for value in values {
            self.token(param, value);
        }
    }

    /// The target of a Reference element, normalised to `Type/id` when it is literal, and
    /// its logical identifier as `identifier:system|value` (for the `:identifier` modifier).
    pub fn reference(&mut self, param: &'static str, value: Option<&Value>) {
        let Some(reference) = value else {
            return;
        };
        if let Some(target) = text(reference, "reference") {
            self.references
                .push((param, extract::normalize_reference(&target)));
        }
        if let Some(identifier) = reference.get("identifier") {
            if let Some(value) = text(identifier, "value") {
                let system = text(identifier, "system").unwrap_or_default();
                self.references
                    .push((param, identifier_target(&system, &value)));
            }
        }
    }

    /// `_tag`, `_security`, `_profile` and `_source` from `meta`, for every type.
    fn meta(&mut self, resource: &Value) {
        let Some(meta) = resource.get("meta") else {
            return;
        };
        self.tokens_of("_tag", items(meta, "tag"));
        self.tokens_of("_security", items(meta, "security"));
        self.tokens_of("_profile", items(meta, "profile"));
        if let Some(source) = meta.get("source") {
            self.token("_source", source);
        }
    }

    fn into_rows(self, resource_type: &'static str, id: &str) -> IndexRows {
        let mut ords: std::collections::HashMap<&'static str, i32> = Default::default();
        let mut next = |param: &'static str| {
            let ord = ords.entry(param).or_insert(0);
            *ord += 1;
            *ord - 1
        };
        let mut strings = Vec::new();
        for (param, value) in self.strings {
            for (index, token) in word_suffixes(&search_form(&value)).into_iter().enumerate() {
                strings.push(StringRow {
                    resource_type,
                    resource_id: id.to_string(),
                    param,
                    ord: next(param),
                    token,
                    exact: (index == 0).then(|| value.clone()),
                });
            }
        }
        let codings = self
            .tokens
            .into_iter()
            .map(|(param, token)| CodingRow {
                resource_type,
                resource_id: id.to_string(),
                param,
                ord: next(param),
                system: token.system,
                code: token.code,
                display: token.display,
                text: token.text,
            })
            .collect();
        let references = self
            .references
            .into_iter()
            .map(|(param, target)| ReferenceRow {
                resource_type,
                resource_id: id.to_string(),
                param,
                ord: next(param),
                target,
            })
            .collect();
        IndexRows {
            codings,
            strings,
            references,
        }
    }
}

/// How a Reference.identifier is kept in `resource_reference.target`.
pub fn identifier_target(system: &str, value: &str) -> String {
    format!("identifier:{system}|{value}")
}

/// "nguyen van duc" → ["nguyen van duc", "van duc", "duc"]: a prefix match on any word.
fn word_suffixes(folded: &str) -> Vec<String> {
    if folded.is_empty() {
        return Vec::new();
    }
    let mut suffixes = vec![folded.to_string()];
    suffixes.extend(
        folded
            .match_indices(' ')
            .map(|(at, _)| folded[at + 1..].to_string()),
    );
    suffixes
}

#[derive(Default)]
struct IndexRows {
    codings: Vec<CodingRow>,
    strings: Vec<StringRow>,
    references: Vec<ReferenceRow>,
}

impl IndexRows {
    fn extend(&mut self, other: IndexRows) {
        self.codings.extend(other.codings);
        self.strings.extend(other.strings);
        self.references.extend(other.references);
    }
}

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = resource_coding, treat_none_as_default_value = false)]
pub struct CodingRow {
    pub resource_type: &'static str,
    pub resource_id: String,
    pub param: &'static str,
    pub ord: i32,
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
    pub text: Option<String>,
}

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = resource_string, treat_none_as_default_value = false)]
pub struct StringRow {
    pub resource_type: &'static str,
    pub resource_id: String,
    pub param: &'static str,
    pub ord: i32,
    pub token: String,
    pub exact: Option<String>,
}

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = resource_reference, treat_none_as_default_value = false)]
pub struct ReferenceRow {
    pub resource_type: &'static str,
    pub resource_id: String,
    pub param: &'static str,
    pub ord: i32,
    pub target: String,
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
        assert_eq!(find("Encounter").unwrap().table(), "encounter");
    }

    #[test]
    fn identifier_rows_follow_the_resource() {
        let patient = json!({"identifier": [
            {"system": "https://fhir.vnfhir.org/sid/cccd", "value": "001090012345",
             "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NI"}]},
             "period": {"start": "2021-01-01", "end": "2036-01-01"}},
            {"value": "local-1"}
        ]});
        let rows = identifier_rows("Patient", "p1", &patient);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].value.as_deref(), Some("001090012345"));
        assert_eq!(rows[0].type_code.as_deref(), Some("NI"));
        assert_eq!(
            rows[0].type_system.as_deref(),
            Some("http://terminology.hl7.org/CodeSystem/v2-0203")
        );
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
    fn search_values_become_rows() {
        let mut values = SearchValues::default();
        values.string("name", Some(&json!("Nguyễn Văn Đức")));
        values.token(
            "type",
            &json!({"text": "Khám bệnh", "coding": [{"system": "s1", "code": "01"}, {"code": "AMB", "display": "x"}]}),
        );
        values.token("status", &json!("finished"));
        values.reference(
            "subject",
            Some(&json!({"reference": "http://h/fhir/Patient/p1/_history/2"})),
        );
        values.reference(
            "requester",
            Some(&json!({"identifier": {"system": "s", "value": "CCHN-1"}})),
        );
        values.meta(
            &json!({"meta": {"tag": [{"system": "t", "code": "x"}], "profile": ["http://p"]}}),
        );
        let rows = values.into_rows("Encounter", "e1");
        let strings: Vec<_> = rows
            .strings
            .iter()
            .map(|r| (r.token.as_str(), r.exact.as_deref()))
            .collect();
        assert_eq!(
            strings,
            [
                ("nguyen van duc", Some("Nguyễn Văn Đức")),
                ("van duc", None),
                ("duc", None)
            ]
        );
        let codes: Vec<_> = rows
            .codings
            .iter()
            .map(|r| {
                (
                    r.param,
                    r.ord,
                    r.system.as_deref(),
                    r.code.as_deref(),
                    r.text.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            codes,
            [
                ("type", 0, Some("s1"), Some("01"), Some("kham benh")),
                ("type", 1, None, Some("AMB"), Some("kham benh")),
                ("status", 0, None, Some("finished"), None),
                ("_tag", 0, Some("t"), Some("x"), None),
                ("_profile", 0, None, Some("http://p"), None),
            ]
        );
        let refs: Vec<_> = rows
            .references
            .iter()
            .map(|r| (r.param, r.target.as_str()))
            .collect();
        assert_eq!(
            refs,
            [
                ("subject", "Patient/p1"),
                ("requester", "identifier:s|CCHN-1")
            ]
        );
    }
}
