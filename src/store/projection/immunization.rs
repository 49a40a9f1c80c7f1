//! Immunization → `immunization`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::extract::{self, code_preferring, items, reference, text};
use super::{insert_rows, Projection, RowMeta, SearchValues};
use crate::search::params::{Index, ParamType, SearchParam};
use crate::store::db::DbConnection;
use crate::store::schema::immunization;

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = immunization, treat_none_as_default_value = false)]
pub struct ImmunizationRow {
    pub id: String,
    pub version_id: i64,
    pub last_updated: NaiveDateTime,
    pub deleted: bool,
    pub content: Option<String>,
    pub status: Option<String>,
    pub vaccine_code: Option<String>,
    pub patient_ref: Option<String>,
    pub patient_id: Option<String>,
    pub encounter_ref: Option<String>,
    pub occurrence_start: Option<NaiveDateTime>,
    pub occurrence_end: Option<NaiveDateTime>,
    pub lot_number: Option<String>,
    pub dose_number: Option<String>,
    pub performer_ref: Option<String>,
}

pub fn project(meta: &RowMeta, resource: &Value) -> ImmunizationRow {
    let patient_ref = reference(resource, "patient");
    let occurrence = extract::date_time(resource, "occurrenceDateTime");
    let dose = items(resource, "protocolApplied").find_map(|p| {
        p.get("doseNumberPositiveInt")
            .map(Value::to_string)
            .or_else(|| text(p, "doseNumberString"))
    });
    ImmunizationRow {
        id: meta.id.to_string(),
        version_id: meta.version_id,
        last_updated: meta.last_updated,
        deleted: meta.content.is_none(),
        content: meta.content.map(str::to_string),
        status: text(resource, "status"),
        vaccine_code: resource
            .get("vaccineCode")
            .and_then(|c| code_preferring(c, "/vaccine")),
        patient_id: patient_ref
            .as_deref()
            .and_then(|r| extract::reference_id(r, "Patient")),
        patient_ref,
        encounter_ref: reference(resource, "encounter"),
        occurrence_start: extract::start_of(occurrence),
        occurrence_end: extract::end_of(occurrence),
        lot_number: text(resource, "lotNumber"),
        dose_number: dose,
        performer_ref: items(resource, "performer").find_map(|p| reference(p, "actor")),
    }
}

pub struct ImmunizationProjection;

impl Projection for ImmunizationProjection {
    fn resource_type(&self) -> &'static str {
        "Immunization"
    }

    fn table(&self) -> &'static str {
        "immunization"
    }

    fn search_params(&self) -> &'static [SearchParam] {
        use Index::*;
        use ParamType::{Date, Reference, String, Token};
        const PARAMS: &[SearchParam] = &[
            SearchParam::new("identifier", Token, Identifier),
            SearchParam::new(
                "status",
                Token,
                Code {
                    column: "status",
                    system: Some("http://hl7.org/fhir/event-status"),
                },
            ),
            SearchParam::new("vaccine-code", Token, Coding),
            SearchParam::new("reason-code", Token, Coding),
            SearchParam::new("status-reason", Token, Coding),
            SearchParam::new("target-disease", Token, Coding),
            SearchParam::new(
                "date",
                Date,
                Instants {
                    start: "occurrence_start",
                    end: "occurrence_end",
                },
            ),
            SearchParam::new("lot-number", String, Strings),
            SearchParam::new("series", String, Strings),
            SearchParam::new("patient", Reference, References),
            SearchParam::new("performer", Reference, References),
            SearchParam::new("location", Reference, References),
            SearchParam::new("manufacturer", Reference, References),
            SearchParam::new("reaction", Reference, References),
            SearchParam::new("reason-reference", Reference, References),
        ];
        PARAMS
    }

    fn search_values(&self, resource: &Value, values: &mut SearchValues) {
        if let Some(code) = resource.get("vaccineCode") {
            values.token("vaccine-code", code);
        }
        values.tokens_of("reason-code", items(resource, "reasonCode"));
        if let Some(reason) = resource.get("statusReason") {
            values.token("status-reason", reason);
        }
        values.string("lot-number", resource.get("lotNumber"));
        for protocol in items(resource, "protocolApplied") {
            values.tokens_of("target-disease", items(protocol, "targetDisease"));
            values.string("series", protocol.get("series"));
        }
        values.reference("patient", resource.get("patient"));
        values.reference("location", resource.get("location"));
        values.reference("manufacturer", resource.get("manufacturer"));
        for performer in items(resource, "performer") {
            values.reference("performer", performer.get("actor"));
        }
        for reaction in items(resource, "reaction") {
            values.reference("reaction", reaction.get("detail"));
        }
        for reason in items(resource, "reasonReference") {
            values.reference("reason-reference", Some(reason));
        }
    }

    fn clear(&self, conn: &mut DbConnection, ids: &[&str]) -> QueryResult<()> {
        diesel::delete(immunization::table.filter(immunization::id.eq_any(ids))).execute(conn)?;
        Ok(())
    }

    fn insert(&self, conn: &mut DbConnection, rows: &[(RowMeta, &Value)]) -> QueryResult<()> {
        let mains: Vec<_> = rows
            .iter()
            .map(|(meta, resource)| project(meta, resource))
            .collect();
        insert_rows!(conn, immunization::table, &mains)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_match_the_resource() {
        let resource = json!({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "08"}]},
            "patient": {"reference": "Patient/p1"},
            "encounter": {"reference": "Encounter/e1"},
            "occurrenceDateTime": "2024-03-10",
            "lotNumber": "LOT-42",
            "performer": [{"actor": {"reference": "Practitioner/bs1"}}],
            "protocolApplied": [{"doseNumberPositiveInt": 2}]
        });
        let meta = RowMeta {
            id: "i1",
            version_id: 1,
            last_updated: NaiveDateTime::parse_from_str("2026-11-23 01:00:00", "%F %T").unwrap(),
            content: Some("{}"),
        };
        let row = project(&meta, &resource);
        assert_eq!(row.status.as_deref(), Some("completed"));
        assert_eq!(row.vaccine_code.as_deref(), Some("08"));
        assert_eq!(row.patient_id.as_deref(), Some("p1"));
        assert_eq!(row.encounter_ref.as_deref(), Some("Encounter/e1"));
        assert_eq!(
            row.occurrence_start.unwrap().to_string(),
            "2024-03-09 17:00:00"
        );
        assert_eq!(
            row.occurrence_end.unwrap().to_string(),
            "2024-03-10 16:59:59.999"
        );
        assert_eq!(row.lot_number.as_deref(), Some("LOT-42"));
        assert_eq!(row.dose_number.as_deref(), Some("2"));
        assert_eq!(row.performer_ref.as_deref(), Some("Practitioner/bs1"));
    }
}
