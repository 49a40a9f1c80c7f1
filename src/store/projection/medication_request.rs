//! MedicationRequest → `medication_request`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::extract::{self, code_preferring, items, reference, text};
use super::{insert_rows, Projection, RowMeta, SearchValues};
use crate::search::params::{Index, ParamType, SearchParam, PATIENT_OF_SUBJECT};
use crate::store::db::DbConnection;
use crate::store::schema::medication_request;

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = medication_request, treat_none_as_default_value = false)]
pub struct MedicationRequestRow {
    pub id: String,
    pub version_id: i64,
    pub last_updated: NaiveDateTime,
    pub deleted: bool,
    pub content: Option<String>,
    pub status: Option<String>,
    pub intent: Option<String>,
    pub medication_code: Option<String>,
    pub subject_ref: Option<String>,
    pub patient_id: Option<String>,
    pub encounter_ref: Option<String>,
    pub authored_on_start: Option<NaiveDateTime>,
    pub authored_on_end: Option<NaiveDateTime>,
    pub requester_ref: Option<String>,
    pub prescription_id: Option<String>,
    pub dosage_text: Option<String>,
    pub dispense_quantity: Option<f64>,
    pub dispense_unit: Option<String>,
}

pub fn project(meta: &RowMeta, resource: &Value) -> MedicationRequestRow {
    let subject_ref = reference(resource, "subject");
    let authored = extract::date_time(resource, "authoredOn");
    let quantity = resource
        .get("dispenseRequest")
        .and_then(|d| d.get("quantity"))
        .unwrap_or(&Value::Null);
    let dosage: Vec<String> = items(resource, "dosageInstruction")
        .filter_map(|d| text(d, "text"))
        .collect();
    MedicationRequestRow {
        id: meta.id.to_string(),
        version_id: meta.version_id,
        last_updated: meta.last_updated,
        deleted: meta.content.is_none(),
        content: meta.content.map(str::to_string),
        status: text(resource, "status"),
        intent: text(resource, "intent"),
        medication_code: resource
            .get("medicationCodeableConcept")
            .and_then(|c| code_preferring(c, "/dmdc-thuoc")),
        patient_id: subject_ref
            .as_deref()
            .and_then(|r| extract::reference_id(r, "Patient")),
        subject_ref,
        encounter_ref: reference(resource, "encounter"),
        authored_on_start: extract::start_of(authored),
        authored_on_end: extract::end_of(authored),
        requester_ref: resource.get("requester").and_then(|r| {
            text(r, "reference").or_else(|| r.get("identifier").and_then(|i| text(i, "value")))
        }),
        // The e-prescription number is the request's first identifier.
        prescription_id: items(resource, "identifier").find_map(|i| text(i, "value")),
        dosage_text: (!dosage.is_empty()).then(|| dosage.join("; ")),
        // A search column only; the exact decimal stays in the stored JSON.
        dispense_quantity: quantity.get("value").and_then(Value::as_f64),
        dispense_unit: text(quantity, "unit").or_else(|| text(quantity, "code")),
    }
}

pub struct MedicationRequestProjection;

impl Projection for MedicationRequestProjection {
    fn resource_type(&self) -> &'static str {
        "MedicationRequest"
    }

    fn table(&self) -> &'static str {
        "medication_request"
    }

    fn search_params(&self) -> &'static [SearchParam] {
        use Index::*;
        use ParamType::{Date, Reference, Token};
        const PARAMS: &[SearchParam] = &[
            SearchParam::new("identifier", Token, Identifier),
            SearchParam::new(
                "status",
                Token,
                Code {
                    column: "status",
                    system: Some("http://hl7.org/fhir/CodeSystem/medicationrequest-status"),
                },
            ),
            SearchParam::new(
                "intent",
                Token,
                Code {
                    column: "intent",
                    system: Some("http://hl7.org/fhir/CodeSystem/medicationrequest-intent"),
                },
            ),
            SearchParam::new("priority", Token, Coding),
            SearchParam::new("code", Token, Coding),
            SearchParam::new("category", Token, Coding),
            SearchParam::new("intended-performertype", Token, Coding),
            SearchParam::new(
                "authoredon",
                Date,
                Instants {
                    start: "authored_on_start",
                    end: "authored_on_end",
                },
            ),
            SearchParam::new("subject", Reference, References),
            PATIENT_OF_SUBJECT,
            SearchParam::new("encounter", Reference, References),
            SearchParam::new("requester", Reference, References),
            SearchParam::new("intended-dispenser", Reference, References),
            SearchParam::new("intended-performer", Reference, References),
            SearchParam::new("medication", Reference, References),
        ];
        PARAMS
    }

    fn search_values(&self, resource: &Value, values: &mut SearchValues) {
        for (param, element) in [
            ("priority", "priority"),
            ("code", "medicationCodeableConcept"),
            ("intended-performertype", "performerType"),
        ] {
            if let Some(value) = resource.get(element) {
                values.token(param, value);
            }
        }
        values.tokens_of("category", items(resource, "category"));
        values.reference("subject", resource.get("subject"));
        values.reference("encounter", resource.get("encounter"));
        values.reference("requester", resource.get("requester"));
        values.reference("intended-performer", resource.get("performer"));
        values.reference("medication", resource.get("medicationReference"));
        values.reference(
            "intended-dispenser",
            resource
                .get("dispenseRequest")
                .and_then(|d| d.get("performer")),
        );
    }

    fn clear(&self, conn: &mut DbConnection, ids: &[&str]) -> QueryResult<()> {
        diesel::delete(medication_request::table.filter(medication_request::id.eq_any(ids)))
            .execute(conn)?;
        Ok(())
    }

    fn insert(&self, conn: &mut DbConnection, rows: &[(RowMeta, &Value)]) -> QueryResult<()> {
        let mains: Vec<_> = rows
            .iter()
            .map(|(meta, resource)| project(meta, resource))
            .collect();
        insert_rows!(conn, medication_request::table, &mains)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_match_the_resource() {
        let resource: Value = serde_json::from_str(
            r#"{
            "resourceType": "MedicationRequest",
            "identifier": [{"system": "https://fhir.vnfhir.org/sid/don-thuoc", "value": "DT-0001"}],
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": "https://fhir.vnfhir.org/CodeSystem/dmdc-thuoc", "code": "40.17"}]},
            "subject": {"reference": "Patient/p1"},
            "encounter": {"reference": "Encounter/e1"},
            "authoredOn": "2024-05-01T09:00:00+07:00",
            "requester": {"identifier": {"value": "CCHN-001"}},
            "dosageInstruction": [{"text": "Uống 1 viên x 2 lần/ngày"}, {"text": "sau ăn"}],
            "dispenseRequest": {"quantity": {"value": 10.50, "unit": "viên"}}
        }"#,
        )
        .unwrap();
        let meta = RowMeta {
            id: "m1",
            version_id: 1,
            last_updated: NaiveDateTime::parse_from_str("2026-11-23 01:00:00", "%F %T").unwrap(),
            content: Some("{}"),
        };
        let row = project(&meta, &resource);
        assert_eq!(row.status.as_deref(), Some("active"));
        assert_eq!(row.intent.as_deref(), Some("order"));
        assert_eq!(row.medication_code.as_deref(), Some("40.17"));
        assert_eq!(row.patient_id.as_deref(), Some("p1"));
        assert_eq!(row.encounter_ref.as_deref(), Some("Encounter/e1"));
        assert_eq!(
            row.authored_on_start.unwrap().to_string(),
            "2024-05-01 02:00:00"
        );
        assert_eq!(row.requester_ref.as_deref(), Some("CCHN-001"));
        assert_eq!(row.prescription_id.as_deref(), Some("DT-0001"));
        assert_eq!(
            row.dosage_text.as_deref(),
            Some("Uống 1 viên x 2 lần/ngày; sau ăn")
        );
        assert_eq!(row.dispense_quantity, Some(10.5));
        assert_eq!(row.dispense_unit.as_deref(), Some("viên"));
    }
}
