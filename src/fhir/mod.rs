//! The FHIR side: parsing and checking incoming resources, dates, text folding and
//! OperationOutcome building.

pub mod datetime;
pub mod elements;
pub mod model;
pub mod outcome;
pub mod patch;
pub mod reference;
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
    check_resource(schemas, &resource, expected_type)?;
    Ok(resource)
}

/// Checks a JSON value as a resource of `expected_type`: `resourceType`, empty elements,
/// the R4 schema (unknown elements included), then the typed model.
pub fn check_resource(
    schemas: &SchemaSet,
    resource: &Value,
    expected_type: &str,
) -> Result<(), Vec<Issue>> {
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
    // Empty elements first: the schema would report them again, less clearly.
    let mut issues = empty_elements(expected_type, resource);
    if issues.is_empty() {
        issues = schemas.check(expected_type, resource);
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    model::check_typed(expected_type, resource).map_err(|issue| vec![issue])
}

/// FHIR JSON has no `null`, no empty arrays or objects and no empty strings; the schema
/// allows them, so they are found here.
fn empty_elements(resource_type: &str, resource: &Value) -> Vec<Issue> {
    /// A step from the root; the path is only spelt out for an empty element.
    enum Step<'v> {
        Key(&'v str),
        Index(usize),
    }
    fn walk<'v>(value: &'v Value, steps: &mut Vec<Step<'v>>, root: &str, found: &mut Vec<String>) {
        let empty = match value {
            Value::Null => true,
            Value::String(text) => text.trim().is_empty(),
            Value::Array(items) => items.is_empty(),
            Value::Object(map) => map.is_empty(),
            _ => false,
        };
        if empty {
            let mut path = root.to_string();
            for step in steps.iter() {
                match step {
                    Step::Key(key) => {
                        path.push('.');
                        path.push_str(key);
                    }
                    Step::Index(index) => path.push_str(&format!("[{index}]")),
                }
            }
            found.push(path);
            return;
        }
        match value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    steps.push(Step::Index(index));
                    walk(item, steps, root, found);
                    steps.pop();
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    steps.push(Step::Key(key));
                    walk(item, steps, root, found);
                    steps.pop();
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(resource, &mut Vec::new(), resource_type, &mut found);
    found
        .into_iter()
        .map(|path| {
            Issue::error(
                "structure",
                format!("Phần tử {path} rỗng; FHIR JSON không cho phép null, mảng, đối tượng hay chuỗi rỗng"),
                format!("Element {path} is empty; FHIR JSON allows no null, empty array, empty object or empty string"),
            )
            .at(path)
        })
        .collect()
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

    #[test]
    fn empty_elements_are_reported_with_their_paths() {
        let schemas = SchemaSet::compile(&["Patient"]).unwrap();
        let body = br#"{"resourceType":"Patient","name":[],"telecom":[{}],"gender":" ","active":null,
            "address":[{"line":["1 Le Loi"],"_line":[{"id":"x"}]}],"_birthDate":{"id":"b"},"birthDate":"1980"}"#;
        let issues = parse_resource(&schemas, body, "Patient").unwrap_err();
        let paths: Vec<_> = issues
            .iter()
            .filter_map(|i| i.expression.as_deref())
            .collect();
        assert_eq!(
            paths,
            [
                "Patient.name",
                "Patient.telecom[0]",
                "Patient.gender",
                "Patient.active"
            ]
        );
    }
}
