//! The FHIR side: parsing and checking incoming resources, dates, text folding and
//! OperationOutcome building.

pub mod datetime;
pub mod model;
pub mod outcome;
pub mod schema;
pub mod text;

use serde_json::Value;

use outcome::Issue;
use schema::SchemaSet;

/// FHIR `id`: 1–64 characters of `[A-Za-z0-9\-\.]`.
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Reads a request body as a resource of `expected_type`: JSON syntax, `resourceType`,
/// the R4 schema (unknown elements included), then the typed model.
pub fn parse_resource(
    schemas: &SchemaSet,
    body: &[u8],
    expected_type: &str,
) -> Result<Value, Vec<Issue>> {
    let resource: Value = serde_json::from_slice(body).map_err(|e| {
        vec![Issue::error(
            "invalid",
            format!("Nội dung không phải JSON hợp lệ: {e}"),
            format!("The body is not valid JSON: {e}"),
        )]
    })?;
    let Some(object) = resource.as_object() else {
        return Err(vec![Issue::error(
            "invalid",
            "Nội dung phải là một tài nguyên FHIR (đối tượng JSON)",
            "The body must be a FHIR resource (a JSON object)",
        )]);
    };
    match object.get("resourceType").and_then(Value::as_str) {
        Some(found) if found == expected_type => {}
        found => {
            let found = found.unwrap_or("(none)");
            return Err(vec![Issue::error(
                "invalid",
                format!("resourceType là {found}, nhưng địa chỉ yêu cầu {expected_type}"),
                format!("resourceType is {found}, but the URL expects {expected_type}"),
            )
            .at("resourceType")]);
        }
    }
    let issues = schemas.check(expected_type, &resource);
    if !issues.is_empty() {
        return Err(issues);
    }
    model::check_typed(expected_type, &resource).map_err(|issue| vec![issue])?;
    Ok(resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_syntax() {
        assert!(is_valid_id("abc-123.X"));
        assert!(is_valid_id(&"a".repeat(64)));
        assert!(!is_valid_id(&"a".repeat(65)));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("a_b"));
        assert!(!is_valid_id("a/b"));
    }

    #[test]
    fn parse_checks_syntax_type_schema_and_model() {
        let schemas = SchemaSet::compile(&["Patient"]).unwrap();
        let ok = parse_resource(&schemas, br#"{"resourceType":"Patient"}"#, "Patient");
        assert!(ok.is_ok());
        let syntax = parse_resource(&schemas, b"{", "Patient").unwrap_err();
        assert_eq!(syntax[0].code, "invalid");
        let wrong = parse_resource(&schemas, br#"{"resourceType":"Encounter"}"#, "Patient");
        assert_eq!(
            wrong.unwrap_err()[0].expression.as_deref(),
            Some("resourceType")
        );
        let unknown = parse_resource(
            &schemas,
            br#"{"resourceType":"Patient","foo":1}"#,
            "Patient",
        );
        assert_eq!(unknown.unwrap_err()[0].code, "structure");
        let calendar = parse_resource(
            &schemas,
            br#"{"resourceType":"Patient","birthDate":"2023-02-29"}"#,
            "Patient",
        );
        assert_eq!(calendar.unwrap_err()[0].code, "value");
    }
}
