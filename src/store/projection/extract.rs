//! Reading FHIR JSON elements for the projection. Every reader returns `None` on absent or
//! mistyped input, so projecting `Value::Null` yields an empty row (a delete tombstone).

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::fhir::datetime::{self, InstantSpan};

pub fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key)?.as_str().map(str::to_string)
}

/// The elements of `key`, whether it holds an array or a single object.
pub fn items<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    let found = value.get(key);
    let (many, one) = match found {
        Some(Value::Array(list)) => (Some(list.iter()), None),
        Some(other) => (None, Some(other)),
        None => (None, None),
    };
    many.into_iter().flatten().chain(one)
}

/// Codings of a CodeableConcept.
pub fn codings(concept: &Value) -> impl Iterator<Item = &Value> {
    items(concept, "coding")
}

/// The code of the first coding whose system ends with `system_suffix` (our systems share
/// one configurable canonical base, so they are recognised by their path).
pub fn code_in(concept: &Value, system_suffix: &str) -> Option<String> {
    codings(concept)
        .find(|c| {
            c["system"]
                .as_str()
                .is_some_and(|s| s.ends_with(system_suffix))
        })
        .and_then(|c| text(c, "code"))
}

/// The code from `system_suffix` if present, else the first code.
pub fn code_preferring(concept: &Value, system_suffix: &str) -> Option<String> {
    code_in(concept, system_suffix).or_else(|| codings(concept).find_map(|c| text(c, "code")))
}

/// The value of the first extension whose url ends with `url_suffix`.
pub fn extension<'a>(value: &'a Value, url_suffix: &str) -> Option<&'a Value> {
    items(value, "extension").find(|e| e["url"].as_str().is_some_and(|u| u.ends_with(url_suffix)))
}

/// `reference` of a Reference element, normalised (see [`normalize_reference`]).
pub fn reference(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(|r| text(r, "reference"))
        .map(|r| normalize_reference(&r))
}

/// The id in a literal reference to `resource_type`: `Patient/1`, `Patient/1/_history/2`
/// or an absolute URL ending in either.
pub fn reference_id(reference: &str, resource_type: &str) -> Option<String> {
    let segments: Vec<&str> = reference.split('/').collect();
    let at = segments.iter().rposition(|s| *s == resource_type)?;
    let id = segments.get(at + 1)?;
    let tail = &segments[at + 2..];
    let well_formed = tail.is_empty() || (tail.len() == 2 && tail[0] == "_history");
    (well_formed && crate::fhir::is_valid_id(id)).then(|| id.to_string())
}

/// `Type/id` for a literal reference (relative, absolute or versioned); any other
/// reference (`#contained`, `urn:uuid:…`) as sent.
pub fn normalize_reference(reference: &str) -> String {
    let segments: Vec<&str> = reference.split('/').collect();
    let n = segments.len();
    let at = if n >= 4 && segments[n - 2] == "_history" {
        n - 4
    } else if n >= 2 {
        n - 2
    } else {
        return reference.to_string();
    };
    let (resource_type, id) = (segments[at], segments[at + 1]);
    let is_type = resource_type.starts_with(|c: char| c.is_ascii_uppercase())
        && resource_type.chars().all(|c| c.is_ascii_alphanumeric());
    if is_type && crate::fhir::is_valid_id(id) {
        format!("{resource_type}/{id}")
    } else {
        reference.to_string()
    }
}

pub fn date_time(value: &Value, key: &str) -> Option<InstantSpan> {
    value.get(key)?.as_str().and_then(datetime::parse_date_time)
}

pub fn start_of(span: Option<InstantSpan>) -> Option<NaiveDateTime> {
    span.map(|s| s.start)
}

pub fn end_of(span: Option<InstantSpan>) -> Option<NaiveDateTime> {
    span.map(|s| s.end)
}

/// Joins the non-empty strings of an array element.
pub fn joined(value: &Value, key: &str, separator: &str) -> Option<String> {
    let parts: Vec<&str> = items(value, key).filter_map(Value::as_str).collect();
    (!parts.is_empty()).then(|| parts.join(separator))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reference_ids() {
        assert_eq!(
            reference_id("Patient/123", "Patient").as_deref(),
            Some("123")
        );
        assert_eq!(
            reference_id("http://x/fhir/Patient/a-1/_history/2", "Patient").as_deref(),
            Some("a-1")
        );
        assert_eq!(reference_id("Group/123", "Patient"), None);
        assert_eq!(reference_id("Patient/", "Patient"), None);
        assert_eq!(reference_id("Patient/1/extra", "Patient"), None);
        assert_eq!(normalize_reference("Patient/1"), "Patient/1");
        assert_eq!(
            normalize_reference("http://h/fhir/Encounter/e-1/_history/3"),
            "Encounter/e-1"
        );
        assert_eq!(normalize_reference("#c1"), "#c1");
        assert_eq!(normalize_reference("urn:uuid:1234"), "urn:uuid:1234");
    }

    #[test]
    fn codes_and_extensions() {
        let concept = json!({"coding": [
            {"system": "http://other", "code": "X"},
            {"system": "https://fhir.vnfhir.org/CodeSystem/ma-loai-kcb", "code": "03"}
        ]});
        assert_eq!(code_in(&concept, "/ma-loai-kcb").as_deref(), Some("03"));
        assert_eq!(code_preferring(&concept, "/none").as_deref(), Some("X"));
        let with_ext = json!({"extension": [{"url": "https://a/StructureDefinition/dan-toc", "valueCoding": {"code": "01"}}]});
        assert_eq!(
            extension(&with_ext, "/dan-toc").unwrap()["valueCoding"]["code"],
            "01"
        );
        assert!(extension(&Value::Null, "/dan-toc").is_none());
        assert_eq!(
            joined(&json!({"line": ["1", "2"]}), "line", ", ").as_deref(),
            Some("1, 2")
        );
    }
}
