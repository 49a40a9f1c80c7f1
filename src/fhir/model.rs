//! The typed parse with fhir-sdk's R4B model. All typed (de)serialization lives in this
//! module so the large generated serde code is instantiated in one place.
//!
//! The JSON schema check runs before this one; the typed parse adds calendar checks the
//! schema's regexes cannot make (`1980-02-30`) and a second opinion on required bindings.

use fhir_sdk::r4b::resources::{Encounter, Immunization, MedicationRequest, Patient};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::outcome::Issue;
use super::schema::fhir_path;

/// Parses `resource` into the R4B model of `resource_type`.
pub fn check_typed(resource_type: &str, resource: &Value) -> Result<(), Issue> {
    match resource_type {
        "Patient" => parse::<Patient>(resource_type, resource),
        "Encounter" => parse::<Encounter>(resource_type, resource),
        "Immunization" => parse::<Immunization>(resource_type, resource),
        "MedicationRequest" => parse::<MedicationRequest>(resource_type, resource),
        other => Err(Issue::error(
            "not-supported",
            format!("Loại tài nguyên {other} không được hỗ trợ"),
            format!("Resource type {other} is not supported"),
        )),
    }
}

fn parse<T: DeserializeOwned>(resource_type: &str, resource: &Value) -> Result<(), Issue> {
    serde_path_to_error::deserialize::<_, T>(resource)
        .map(drop)
        .map_err(|error| {
            let pointer: String = error
                .path()
                .iter()
                .map(|segment| match segment {
                    serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
                    serde_path_to_error::Segment::Map { key } => format!("/{key}"),
                    serde_path_to_error::Segment::Enum { variant } => format!("/{variant}"),
                    serde_path_to_error::Segment::Unknown => String::new(),
                })
                .collect();
            let path = fhir_path(resource_type, &pointer);
            let reason = error.inner().to_string();
            Issue::error(
                "value",
                format!("Giá trị tại {path} không hợp lệ: {reason}"),
                format!("Invalid value at {path}: {reason}"),
            )
            .at(path)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_partial_birth_date() {
        let patient = json!({"resourceType": "Patient", "birthDate": "1980"});
        assert!(check_typed("Patient", &patient).is_ok());
    }

    #[test]
    fn rejects_impossible_calendar_date_with_its_path() {
        let patient = json!({"resourceType": "Patient", "birthDate": "1980-02-30"});
        let issue = check_typed("Patient", &patient).unwrap_err();
        assert_eq!(issue.expression.as_deref(), Some("Patient.birthDate"));
    }

    #[test]
    fn rejects_code_outside_required_binding() {
        let patient = json!({"resourceType": "Patient", "gender": "nam"});
        let issue = check_typed("Patient", &patient).unwrap_err();
        assert_eq!(issue.expression.as_deref(), Some("Patient.gender"));
    }
}
