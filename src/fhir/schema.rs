//! Structural check of raw JSON against HL7's official R4 JSON schema.
//!
//! The typed model drops unknown elements silently, so this check runs first and turns them
//! (and wrong types, bad primitive formats, codes outside required bindings) into 400s.

use std::collections::HashMap;

use jsonschema::error::ValidationErrorKind;
use serde_json::{json, Value};

use super::outcome::Issue;

const R4_SCHEMA: &str = include_str!("../../fhir-profiles/r4/fhir.schema.json");

/// How many schema errors one response reports; the rest add nothing for the client.
const MAX_ISSUES: usize = 20;

/// One compiled validator per resource type, rooted at the type's definition so errors
/// name the element ("'foo' was unexpected") instead of the whole-schema `oneOf`.
pub struct SchemaSet {
    validators: HashMap<&'static str, jsonschema::Validator>,
    /// Type → element → its shape, for every definition of the schema.
    elements: HashMap<String, HashMap<String, ElementShape>>,
}

/// What the schema says of one element of a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementShape {
    /// The element's type (`HumanName`, `string`, …; `code` for inline enums).
    pub type_name: String,
    /// `0..*`: an array in JSON.
    pub repeating: bool,
}

fn element_shapes(definitions: &Value) -> HashMap<String, HashMap<String, ElementShape>> {
    let reference = |value: &Value| {
        value["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/definitions/"))
            .map(str::to_string)
    };
    let mut shapes = HashMap::new();
    for (type_name, definition) in definitions.as_object().into_iter().flatten() {
        let Some(properties) = definition["properties"].as_object() else {
            continue;
        };
        let elements = properties
            .iter()
            .map(|(name, property)| {
                let repeating = property["type"] == "array";
                let item = if repeating {
                    &property["items"]
                } else {
                    property
                };
                let type_name = reference(item).unwrap_or_else(|| "code".into());
                (
                    name.clone(),
                    ElementShape {
                        type_name,
                        repeating,
                    },
                )
            })
            .collect();
        shapes.insert(type_name.clone(), elements);
    }
    shapes
}

impl SchemaSet {
    pub fn compile(resource_types: &[&'static str]) -> Result<SchemaSet, String> {
        let schema: Value = serde_json::from_str(R4_SCHEMA).map_err(|e| e.to_string())?;
        let mut validators = HashMap::new();
        for &resource_type in resource_types {
            let rooted = json!({
                "$schema": schema["$schema"],
                "$ref": format!("#/definitions/{resource_type}"),
                "definitions": schema["definitions"],
            });
            let validator = jsonschema::validator_for(&rooted)
                .map_err(|e| format!("schema for {resource_type}: {e}"))?;
            validators.insert(resource_type, validator);
        }
        Ok(SchemaSet {
            validators,
            elements: element_shapes(&schema["definitions"]),
        })
    }

    /// The shape of element `name` of type `type_name`, if the type has it.
    pub fn element(&self, type_name: &str, name: &str) -> Option<&ElementShape> {
        self.elements.get(type_name)?.get(name)
    }

    /// Issues for every schema violation of `resource` (empty when it is valid).
    pub fn check(&self, resource_type: &str, resource: &Value) -> Vec<Issue> {
        let Some(validator) = self.validators.get(resource_type) else {
            return vec![Issue::error(
                "not-supported",
                format!("Loại tài nguyên {resource_type} không được hỗ trợ"),
                format!("Resource type {resource_type} is not supported"),
            )];
        };
        if validator.is_valid(resource) {
            return Vec::new();
        }
        validator
            .iter_errors(resource)
            .flat_map(|error| {
                let at = fhir_path(resource_type, error.instance_path().as_str());
                // An unknown element is at fault itself, not its parent.
                let paths = match error.kind() {
                    ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
                        .iter()
                        .map(|name| format!("{at}.{name}"))
                        .collect(),
                    _ => vec![at],
                };
                let message = error.to_string();
                paths.into_iter().map(move |path| {
                    Issue::error(
                        "structure",
                        format!("Phần tử {path} không hợp lệ theo FHIR R4: {message}"),
                        format!("Element {path} is not valid FHIR R4: {message}"),
                    )
                    .at(path)
                })
            })
            .take(MAX_ISSUES)
            .collect()
    }
}

/// Turns a JSON pointer (`/name/0/given`) into a FHIRPath expression (`Patient.name[0].given`).
pub fn fhir_path(resource_type: &str, pointer: &str) -> String {
    let mut path = resource_type.to_string();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.bytes().all(|b| b.is_ascii_digit()) && !segment.is_empty() {
            path.push_str(&format!("[{segment}]"));
        } else {
            path.push('.');
            path.push_str(&segment);
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas() -> SchemaSet {
        SchemaSet::compile(&["Patient"]).unwrap()
    }

    #[test]
    fn pointer_becomes_fhir_path() {
        assert_eq!(fhir_path("Patient", ""), "Patient");
        assert_eq!(
            fhir_path("Patient", "/name/0/given/1"),
            "Patient.name[0].given[1]"
        );
    }

    #[test]
    fn element_shapes_follow_the_schema() {
        let schemas = schemas();
        let name = schemas.element("Patient", "name").unwrap();
        assert_eq!(
            (name.type_name.as_str(), name.repeating),
            ("HumanName", true)
        );
        let family = schemas.element("HumanName", "family").unwrap();
        assert_eq!(
            (family.type_name.as_str(), family.repeating),
            ("string", false)
        );
        assert_eq!(
            schemas.element("Patient", "gender").unwrap().type_name,
            "code"
        );
        assert!(schemas.element("Patient", "nope").is_none());
    }

    #[test]
    fn valid_patient_passes() {
        let patient = json!({"resourceType": "Patient", "gender": "female", "birthDate": "1980"});
        assert!(schemas().check("Patient", &patient).is_empty());
    }

    #[test]
    fn unknown_element_is_reported_with_its_path() {
        let patient = json!({"resourceType": "Patient", "name": [{"family": "Lê", "foo": 1}]});
        let issues = schemas().check("Patient", &patient);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].expression.as_deref(), Some("Patient.name[0].foo"));
        assert!(issues[0].en.contains("foo"), "{}", issues[0].en);
    }

    #[test]
    fn bad_code_and_date_format_are_reported() {
        let patient =
            json!({"resourceType": "Patient", "gender": "nam", "birthDate": "1980/01/01"});
        let issues = schemas().check("Patient", &patient);
        let paths: Vec<_> = issues.iter().filter_map(|i| i.expression.clone()).collect();
        assert!(paths.contains(&"Patient.gender".to_string()), "{paths:?}");
        assert!(
            paths.contains(&"Patient.birthDate".to_string()),
            "{paths:?}"
        );
    }
}
