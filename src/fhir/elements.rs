//! `_summary` and `_elements`: which top-level elements a resource keeps, from the
//! official StructureDefinitions (`isSummary`, `min > 0`).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

const DEFINITIONS: &[(&str, &str)] = &[
    (
        "Patient",
        include_str!("../../fhir-profiles/r4/StructureDefinition-Patient.json"),
    ),
    (
        "Encounter",
        include_str!("../../fhir-profiles/r4/StructureDefinition-Encounter.json"),
    ),
    (
        "Immunization",
        include_str!("../../fhir-profiles/r4/StructureDefinition-Immunization.json"),
    ),
    (
        "MedicationRequest",
        include_str!("../../fhir-profiles/r4/StructureDefinition-MedicationRequest.json"),
    ),
];

#[derive(Default)]
struct TopLevel {
    summary: Vec<String>,
    mandatory: Vec<String>,
}

fn top_level() -> &'static HashMap<&'static str, TopLevel> {
    static TOP_LEVEL: OnceLock<HashMap<&'static str, TopLevel>> = OnceLock::new();
    TOP_LEVEL.get_or_init(|| {
        DEFINITIONS
            .iter()
            .map(|(resource_type, text)| {
                let definition: Value =
                    serde_json::from_str(text).expect("vendored StructureDefinition");
                let mut elements = TopLevel::default();
                for element in definition["snapshot"]["element"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let path = element["path"].as_str().unwrap_or("");
                    let Some(name) = path
                        .strip_prefix(resource_type)
                        .and_then(|p| p.strip_prefix('.'))
                    else {
                        continue;
                    };
                    if name.contains('.') {
                        continue;
                    }
                    let name = name.trim_end_matches("[x]").to_string();
                    if element["isSummary"] == true {
                        elements.summary.push(name.clone());
                    }
                    if element["min"].as_u64().unwrap_or(0) > 0 {
                        elements.mandatory.push(name);
                    }
                }
                (*resource_type, elements)
            })
            .collect()
    })
}

/// Whether JSON key `key` is the element `name` (choice types: `deceased` covers
/// `deceasedBoolean`; primitive extensions: `_birthDate` goes with `birthDate`).
fn is_element(key: &str, name: &str) -> bool {
    let key = key.strip_prefix('_').unwrap_or(key);
    key == name
        || key
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// Keeps `resourceType`, `id`, `meta` and the elements `keep` accepts; marks the result
/// SUBSETTED as FHIR requires.
fn subset(resource: &Value, keep: impl Fn(&str) -> bool) -> Value {
    let Some(object) = resource.as_object() else {
        return resource.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        if matches!(key.as_str(), "resourceType" | "id" | "meta") || keep(key) {
            out.insert(key.clone(), value.clone());
        }
    }
    let meta = out.entry("meta").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        let tags = meta.entry("tag").or_insert_with(|| json!([]));
        if let Some(tags) = tags.as_array_mut() {
            tags.push(json!({
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                "code": "SUBSETTED"
            }));
        }
    }
    Value::Object(out)
}

/// `_summary=true`.
pub fn summary(resource_type: &str, resource: &Value) -> Value {
    let Some(elements) = top_level().get(resource_type) else {
        return resource.clone();
    };
    subset(resource, |key| {
        elements.summary.iter().any(|name| is_element(key, name))
    })
}

/// `_summary=text`: the narrative and mandatory elements.
pub fn text_only(resource_type: &str, resource: &Value) -> Value {
    let mandatory = top_level()
        .get(resource_type)
        .map(|e| e.mandatory.as_slice())
        .unwrap_or(&[]);
    subset(resource, |key| {
        key == "text" || mandatory.iter().any(|name| is_element(key, name))
    })
}

/// `_summary=data`: everything but the narrative.
pub fn without_text(resource: &Value) -> Value {
    subset(resource, |key| key != "text")
}

/// `_elements=a,b`: the listed elements and the mandatory ones.
pub fn only(resource_type: &str, resource: &Value, names: &[String]) -> Value {
    let mandatory = top_level()
        .get(resource_type)
        .map(|e| e.mandatory.as_slice())
        .unwrap_or(&[]);
    subset(resource, |key| {
        names
            .iter()
            .chain(mandatory)
            .any(|name| is_element(key, name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> Value {
        json!({"resourceType": "Patient", "id": "p", "meta": {"versionId": "1"},
               "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
               "gender": "male", "birthDate": "1980", "_birthDate": {"id": "b"},
               "deceasedBoolean": false, "maritalStatus": {"text": "M"}, "photo": [{"title": "x"}]})
    }

    fn keys(value: &Value) -> Vec<&str> {
        value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn summary_keeps_summary_elements_only() {
        let s = summary("Patient", &patient());
        assert_eq!(
            keys(&s),
            [
                "resourceType",
                "id",
                "meta",
                "gender",
                "birthDate",
                "_birthDate",
                "deceasedBoolean"
            ]
        );
        assert_eq!(s["meta"]["tag"][0]["code"], "SUBSETTED");
    }

    #[test]
    fn elements_text_and_data() {
        let e = only(
            "Encounter",
            &json!({"resourceType": "Encounter", "status": "planned", "class": {"code": "AMB"}, "period": {}}),
            &["period".into()],
        );
        assert_eq!(
            keys(&e),
            ["resourceType", "status", "class", "period", "meta"]
        );
        assert_eq!(
            keys(&text_only("Patient", &patient())),
            ["resourceType", "id", "meta", "text"]
        );
        assert!(without_text(&patient()).get("text").is_none());
    }
}
