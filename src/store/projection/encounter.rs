//! Encounter (one BHYT episode, one MA_LK) → `encounter`, `encounter_diagnosis`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::extract::{self, code_in, code_preferring, extension, items, reference, text};
use super::{identifier_value, insert_rows, Projection, RowMeta, SearchValues};
use crate::search::params::{Index, ParamType, SearchParam, PATIENT_OF_SUBJECT};
use crate::store::db::DbConnection;
use crate::store::schema::{encounter, encounter_diagnosis};

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = encounter, treat_none_as_default_value = false)]
pub struct EncounterRow {
    pub id: String,
    pub version_id: i64,
    pub last_updated: NaiveDateTime,
    pub deleted: bool,
    pub content: Option<String>,
    pub ma_lk: Option<String>,
    pub status: Option<String>,
    pub class_code: Option<String>,
    pub ma_loai_kcb: Option<String>,
    pub subject_ref: Option<String>,
    pub patient_id: Option<String>,
    pub period_start: Option<NaiveDateTime>,
    pub period_end: Option<NaiveDateTime>,
    pub facility_code: Option<String>,
    pub department_code: Option<String>,
    pub main_icd: Option<String>,
    pub discharge_disposition: Option<String>,
    pub outcome_code: Option<String>,
    pub length_value: Option<f64>,
    pub length_unit: Option<String>,
}

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = encounter_diagnosis, treat_none_as_default_value = false)]
pub struct DiagnosisRow {
    pub encounter_id: String,
    pub ord: i32,
    pub condition_ref: Option<String>,
    pub icd_code: Option<String>,
    pub use_code: Option<String>,
    pub rank: Option<i32>,
}

/// The ICD-10 code of a diagnosis whose condition is a contained Condition (`#id`).
fn contained_icd(resource: &Value, condition_ref: Option<&str>) -> Option<String> {
    let local_id = condition_ref?.strip_prefix('#')?;
    items(resource, "contained")
        .find(|c| c["resourceType"] == "Condition" && c["id"] == local_id)
        .and_then(|condition| condition.get("code"))
        .and_then(|code| code_preferring(code, "/icd-10-vn"))
}

pub fn project(meta: &RowMeta, resource: &Value) -> (EncounterRow, Vec<DiagnosisRow>) {
    let id = meta.id.to_string();
    let diagnoses: Vec<DiagnosisRow> = items(resource, "diagnosis")
        .enumerate()
        .map(|(ord, diagnosis)| {
            let condition_ref = reference(diagnosis, "condition");
            DiagnosisRow {
                encounter_id: id.clone(),
                ord: ord as i32,
                icd_code: contained_icd(resource, condition_ref.as_deref()),
                condition_ref,
                use_code: diagnosis
                    .get("use")
                    .and_then(|u| code_preferring(u, "/diagnosis-role")),
                rank: diagnosis
                    .get("rank")
                    .and_then(Value::as_i64)
                    .and_then(|r| i32::try_from(r).ok()),
            }
        })
        .collect();
    let main_icd = diagnoses
        .iter()
        .find(|d| d.rank == Some(1))
        .or(diagnoses.first())
        .and_then(|d| d.icd_code.clone());
    let subject_ref = reference(resource, "subject");
    let period = resource.get("period").unwrap_or(&Value::Null);
    let hospitalization = resource.get("hospitalization").unwrap_or(&Value::Null);
    let length = resource.get("length").unwrap_or(&Value::Null);
    let row = EncounterRow {
        id: id.clone(),
        version_id: meta.version_id,
        last_updated: meta.last_updated,
        deleted: meta.content.is_none(),
        content: meta.content.map(str::to_string),
        ma_lk: identifier_value(resource, "/ma-lk"),
        status: text(resource, "status"),
        class_code: resource.get("class").and_then(|c| text(c, "code")),
        ma_loai_kcb: items(resource, "type").find_map(|t| code_in(t, "/ma-loai-kcb")),
        patient_id: subject_ref
            .as_deref()
            .and_then(|r| extract::reference_id(r, "Patient")),
        subject_ref,
        period_start: extract::start_of(extract::date_time(period, "start")),
        period_end: extract::end_of(extract::date_time(period, "end")),
        facility_code: resource
            .get("serviceProvider")
            .and_then(|p| p.get("identifier"))
            .filter(|i| {
                i["system"]
                    .as_str()
                    .is_some_and(|s| s.ends_with("/sid/cskcb"))
            })
            .and_then(|i| text(i, "value")),
        department_code: items(resource, "location")
            .filter_map(|l| l.get("location")?.get("identifier"))
            .find_map(|i| text(i, "value")),
        main_icd,
        discharge_disposition: hospitalization
            .get("dischargeDisposition")
            .and_then(|d| code_preferring(d, "/ma-loai-rv")),
        outcome_code: extension(resource, "/StructureDefinition/ket-qua-dieu-tri")
            .and_then(|e| e.get("valueCoding"))
            .and_then(|c| text(c, "code")),
        length_value: length.get("value").and_then(Value::as_f64),
        length_unit: text(length, "code").or_else(|| text(length, "unit")),
    };
    (row, diagnoses)
}

pub struct EncounterProjection;

impl Projection for EncounterProjection {
    fn resource_type(&self) -> &'static str {
        "Encounter"
    }

    fn table(&self) -> &'static str {
        "encounter"
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
                    system: Some("http://hl7.org/fhir/encounter-status"),
                },
            ),
            SearchParam::new(
                "class",
                Token,
                Code {
                    column: "class_code",
                    system: None,
                },
            ),
            SearchParam::new("type", Token, Coding),
            SearchParam::new("reason-code", Token, Coding),
            SearchParam::new("special-arrangement", Token, Coding),
            SearchParam::new("participant-type", Token, Coding),
            SearchParam::new(
                "date",
                Date,
                Instants {
                    start: "period_start",
                    end: "period_end",
                },
            ),
            SearchParam::new(
                "length",
                ParamType::Quantity,
                Index::Quantity {
                    value: "length_value",
                    unit: "length_unit",
                },
            ),
            SearchParam::new("subject", Reference, References),
            PATIENT_OF_SUBJECT,
            SearchParam::new("service-provider", Reference, References),
            SearchParam::new("location", Reference, References),
            SearchParam::new("diagnosis", Reference, References),
            SearchParam::new("participant", Reference, References),
            SearchParam::new("practitioner", Reference, References),
            SearchParam::new("episode-of-care", Reference, References),
            SearchParam::new("based-on", Reference, References),
            SearchParam::new("part-of", Reference, References),
            SearchParam::new("account", Reference, References),
            SearchParam::new("appointment", Reference, References),
            SearchParam::new("reason-reference", Reference, References),
        ];
        PARAMS
    }

    fn search_values(&self, resource: &Value, values: &mut SearchValues) {
        values.tokens_of("type", items(resource, "type"));
        values.tokens_of("reason-code", items(resource, "reasonCode"));
        values.tokens_of(
            "special-arrangement",
            resource
                .get("hospitalization")
                .into_iter()
                .flat_map(|h| items(h, "specialArrangement")),
        );
        values.reference("subject", resource.get("subject"));
        values.reference("service-provider", resource.get("serviceProvider"));
        values.reference("part-of", resource.get("partOf"));
        for location in items(resource, "location") {
            values.reference("location", location.get("location"));
        }
        for diagnosis in items(resource, "diagnosis") {
            values.reference("diagnosis", diagnosis.get("condition"));
        }
        for participant in items(resource, "participant") {
            values.tokens_of("participant-type", items(participant, "type"));
            values.reference("participant", participant.get("individual"));
            if let Some(individual) = participant.get("individual") {
                if text(individual, "reference").is_some_and(|r| r.contains("Practitioner/")) {
                    values.reference("practitioner", Some(individual));
                }
            }
        }
        for (param, element) in [
            ("episode-of-care", "episodeOfCare"),
            ("based-on", "basedOn"),
            ("account", "account"),
            ("appointment", "appointment"),
            ("reason-reference", "reasonReference"),
        ] {
            for target in items(resource, element) {
                values.reference(param, Some(target));
            }
        }
    }

    fn clear(&self, conn: &mut DbConnection, ids: &[&str]) -> QueryResult<()> {
        diesel::delete(
            encounter_diagnosis::table.filter(encounter_diagnosis::encounter_id.eq_any(ids)),
        )
        .execute(conn)?;
        diesel::delete(encounter::table.filter(encounter::id.eq_any(ids))).execute(conn)?;
        Ok(())
    }

    fn insert(&self, conn: &mut DbConnection, rows: &[(RowMeta, &Value)]) -> QueryResult<()> {
        let (mut mains, mut diagnoses) = (vec![], vec![]);
        for (meta, resource) in rows {
            let (row, rows) = project(meta, resource);
            mains.push(row);
            diagnoses.extend(rows);
        }
        insert_rows!(conn, encounter::table, &mains)?;
        insert_rows!(conn, encounter_diagnosis::table, &diagnoses)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_match_the_resource() {
        let encounter = json!({
            "resourceType": "Encounter",
            "identifier": [{"system": "https://fhir.vnfhir.org/sid/cskcb/01001/ma-lk", "value": "LK2024-0001"}],
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "type": [{"coding": [{"system": "https://fhir.vnfhir.org/CodeSystem/ma-loai-kcb", "code": "03"}]}],
            "subject": {"reference": "Patient/p1"},
            "period": {"start": "2024-05-01T08:00:00+07:00", "end": "2024-05-05T10:00:00+07:00"},
            "serviceProvider": {"identifier": {"system": "https://fhir.vnfhir.org/sid/cskcb", "value": "01001"}},
            "location": [{"location": {"identifier": {"value": "K01"}, "display": "Khoa Nội"}}],
            "contained": [
                {"resourceType": "Condition", "id": "d1", "subject": {"reference": "Patient/p1"},
                 "code": {"coding": [{"system": "https://fhir.vnfhir.org/CodeSystem/icd-10-vn", "code": "J18.9"}]}},
                {"resourceType": "Condition", "id": "d2", "subject": {"reference": "Patient/p1"},
                 "code": {"coding": [{"system": "https://fhir.vnfhir.org/CodeSystem/icd-10-vn", "code": "E11"}]}}
            ],
            "diagnosis": [
                {"condition": {"reference": "#d2"}, "rank": 2},
                {"condition": {"reference": "#d1"}, "rank": 1,
                 "use": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/diagnosis-role", "code": "DD"}]}}
            ],
            "hospitalization": {"dischargeDisposition": {"coding": [
                {"system": "https://fhir.vnfhir.org/CodeSystem/ma-loai-rv", "code": "1"}]}},
            "extension": [{"url": "https://fhir.vnfhir.org/StructureDefinition/ket-qua-dieu-tri",
                           "valueCoding": {"code": "2"}}]
        });
        let meta = RowMeta {
            id: "e1",
            version_id: 1,
            last_updated: NaiveDateTime::parse_from_str("2026-11-23 01:00:00", "%F %T").unwrap(),
            content: Some("{}"),
        };
        let (row, diagnoses) = project(&meta, &encounter);
        assert_eq!(row.ma_lk.as_deref(), Some("LK2024-0001"));
        assert_eq!(row.status.as_deref(), Some("finished"));
        assert_eq!(row.class_code.as_deref(), Some("IMP"));
        assert_eq!(row.ma_loai_kcb.as_deref(), Some("03"));
        assert_eq!(row.subject_ref.as_deref(), Some("Patient/p1"));
        assert_eq!(row.patient_id.as_deref(), Some("p1"));
        assert_eq!(row.period_start.unwrap().to_string(), "2024-05-01 01:00:00");
        assert_eq!(
            row.period_end.unwrap().to_string(),
            "2024-05-05 03:00:00.999"
        );
        assert_eq!(row.facility_code.as_deref(), Some("01001"));
        assert_eq!(row.department_code.as_deref(), Some("K01"));
        assert_eq!(row.main_icd.as_deref(), Some("J18.9"));
        assert_eq!(row.discharge_disposition.as_deref(), Some("1"));
        assert_eq!(row.outcome_code.as_deref(), Some("2"));
        assert_eq!(diagnoses.len(), 2);
        assert_eq!(
            (diagnoses[0].icd_code.as_deref(), diagnoses[0].rank),
            (Some("E11"), Some(2))
        );
        assert_eq!(diagnoses[1].use_code.as_deref(), Some("DD"));
        assert_eq!(diagnoses[1].condition_ref.as_deref(), Some("#d1"));
    }
}
