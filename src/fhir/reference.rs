//! References inside a resource, wherever they are nested.

use serde_json::Value;

/// Every `Reference.reference` string of a resource, for rewriting in place.
pub fn references_mut(resource: &mut Value) -> Vec<&mut String> {
    fn walk<'v>(value: &'v mut Value, found: &mut Vec<&'v mut String>) {
        match value {
            Value::Object(object) => {
                for (key, item) in object.iter_mut() {
                    if key == "reference" {
                        if let Value::String(text) = item {
                            found.push(text);
                        }
                    } else {
                        walk(item, found);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(resource, &mut found);
    found
}

/// A placeholder that only means something inside its Bundle.
pub fn is_placeholder(reference: &str) -> bool {
    reference.starts_with("urn:uuid:") || reference.starts_with("urn:oid:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_nested_references_only() {
        let mut resource = json!({
            "resourceType": "MedicationRequest",
            "subject": {"reference": "urn:uuid:1"},
            "note": [{"text": "reference"}],
            "dosageInstruction": [{"extension": [{"url": "x", "valueReference": {"reference": "urn:uuid:2"}}]}],
            "identifier": [{"assigner": {"reference": "Organization/o", "display": "reference"}}]
        });
        for reference in references_mut(&mut resource) {
            reference.insert(0, '>');
        }
        assert_eq!(resource["subject"]["reference"], ">urn:uuid:1");
        assert_eq!(
            resource["dosageInstruction"][0]["extension"][0]["valueReference"]["reference"],
            ">urn:uuid:2"
        );
        assert_eq!(
            resource["identifier"][0]["assigner"]["reference"],
            ">Organization/o"
        );
        assert_eq!(resource["note"][0]["text"], "reference");
        assert!(is_placeholder("urn:oid:1.2.3") && !is_placeholder("Patient/1"));
    }
}
