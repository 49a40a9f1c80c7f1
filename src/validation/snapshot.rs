//! Snapshot generation: a profile's differential applied to its base definition's snapshot.
//!
//! The rules are those of the FHIR profiling page, for what our profiles use: a differential
//! element is found by its `id`; a new `name:slice` id adds a slice after the sliced element
//! and its earlier slices (copying the children of a backbone element); a path below an element
//! whose children are not in the snapshot yet (a data type such as Identifier, or an extension
//! with a profile) first brings in the children of that type's own snapshot. Properties of the
//! differential replace the base's, except `constraint`, which adds up. Cardinality may only
//! narrow.

use serde_json::{Map, Value};

/// Where base definitions come from (by canonical URL).
pub trait Definitions {
    fn structure_definition(&self, url: &str) -> Option<&Value>;
}

/// The snapshot elements of `profile` (a StructureDefinition with a differential).
pub fn generate(profile: &Value, definitions: &dyn Definitions) -> Result<Vec<Value>, String> {
    let url = profile["url"].as_str().unwrap_or("(no url)");
    let base_url = profile["baseDefinition"]
        .as_str()
        .ok_or_else(|| format!("{url}: no baseDefinition"))?;
    let base = definitions
        .structure_definition(base_url)
        .ok_or_else(|| format!("{url}: unknown base {base_url}"))?;
    let mut elements: Vec<Value> = base["snapshot"]["element"]
        .as_array()
        .cloned()
        .ok_or_else(|| format!("{url}: base {base_url} has no snapshot"))?;
    let differential = profile["differential"]["element"]
        .as_array()
        .ok_or_else(|| format!("{url}: no differential"))?;
    for change in differential {
        let id = change["id"]
            .as_str()
            .ok_or_else(|| format!("{url}: differential element without id"))?;
        let at = locate(&mut elements, id, definitions).map_err(|e| format!("{url}: {e}"))?;
        merge(&mut elements[at], change).map_err(|e| format!("{url}: {id}: {e}"))?;
    }
    Ok(elements)
}

fn position(elements: &[Value], id: &str) -> Option<usize> {
    elements.iter().position(|e| e["id"] == id)
}

/// The index of element `id`, adding it (a slice, or a data type's children) when needed.
fn locate(
    elements: &mut Vec<Value>,
    id: &str,
    definitions: &dyn Definitions,
) -> Result<usize, String> {
    if let Some(at) = position(elements, id) {
        return Ok(at);
    }
    let (parent, last) = id
        .rsplit_once('.')
        .ok_or_else(|| format!("{id} is outside the base definition"))?;
    let parent_at = locate(elements, parent, definitions)?;
    if let Some((name, slice)) = last.split_once(':') {
        let sliced_id = format!("{parent}.{name}");
        let sliced = locate(elements, &sliced_id, definitions)?;
        return Ok(add_slice(elements, sliced, &sliced_id, id, slice));
    }
    if !elements.iter().any(|e| {
        e["id"]
            .as_str()
            .is_some_and(|i| i.starts_with(&format!("{parent}.")))
    }) {
        expand(elements, parent_at, definitions)?;
    }
    position(elements, id).ok_or_else(|| format!("{id} is not an element of {parent}"))
}

/// Adds slice `id` of element `sliced` after its subtree and earlier slices.
fn add_slice(
    elements: &mut Vec<Value>,
    sliced: usize,
    sliced_id: &str,
    id: &str,
    slice_name: &str,
) -> usize {
    let below = |e: &Value| {
        e["id"].as_str().is_some_and(|i| {
            i.strip_prefix(sliced_id)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with(':'))
        })
    };
    let end = sliced
        + 1
        + elements[sliced + 1..]
            .iter()
            .take_while(|e| below(e))
            .count();
    let children_prefix = format!("{sliced_id}.");
    let mut copied = vec![elements[sliced].clone()];
    copied.extend(
        elements[sliced + 1..end]
            .iter()
            .filter(|e| {
                e["id"]
                    .as_str()
                    .is_some_and(|i| i.starts_with(&children_prefix))
            })
            .cloned(),
    );
    for element in &mut copied {
        let old = element["id"].as_str().unwrap_or_default().to_string();
        element["id"] = Value::String(format!("{id}{}", &old[sliced_id.len()..]));
    }
    let slice = copied[0].as_object_mut().expect("elements are objects");
    slice.remove("slicing");
    insert_after_key(
        slice,
        "path",
        "sliceName",
        Value::String(slice_name.to_string()),
    );
    elements.splice(end..end, copied);
    end
}

/// Keeps the conventional property order: `sliceName` right after `path`.
fn insert_after_key(object: &mut Map<String, Value>, after: &str, key: &str, value: Value) {
    let entries: Vec<(String, Value)> = std::mem::take(object).into_iter().collect();
    for (k, v) in entries {
        let is_anchor = k == after;
        object.insert(k, v);
        if is_anchor {
            object.insert(key.to_string(), value.clone());
        }
    }
    object.entry(key.to_string()).or_insert(value);
}

/// Brings the children of element `at`'s type (or type profile) into the snapshot.
fn expand(
    elements: &mut Vec<Value>,
    at: usize,
    definitions: &dyn Definitions,
) -> Result<(), String> {
    let element = &elements[at];
    let id = element["id"].as_str().unwrap_or_default().to_string();
    let path = element["path"].as_str().unwrap_or_default().to_string();
    let types = element["type"].as_array().cloned().unwrap_or_default();
    let [element_type] = types.as_slice() else {
        return Err(format!(
            "{id} needs exactly one type to be constrained below"
        ));
    };
    let type_url = element_type["profile"][0]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "http://hl7.org/fhir/StructureDefinition/{}",
                element_type["code"].as_str().unwrap_or_default()
            )
        });
    let definition = definitions
        .structure_definition(&type_url)
        .ok_or_else(|| format!("{id}: unknown type {type_url}"))?;
    let type_elements = definition["snapshot"]["element"]
        .as_array()
        .ok_or_else(|| format!("{type_url} has no snapshot"))?;
    let root_id = type_elements[0]["id"].as_str().unwrap_or_default();
    let root_path = type_elements[0]["path"].as_str().unwrap_or_default();
    let children: Vec<Value> = type_elements[1..]
        .iter()
        .map(|child| {
            let mut child = child.clone();
            let child_id = child["id"].as_str().unwrap_or_default();
            let child_path = child["path"].as_str().unwrap_or_default();
            let new_id = format!("{id}{}", &child_id[root_id.len()..]);
            let new_path = format!("{path}{}", &child_path[root_path.len()..]);
            child["id"] = Value::String(new_id);
            child["path"] = Value::String(new_path);
            child
        })
        .collect();
    elements.splice(at + 1..at + 1, children);
    Ok(())
}

/// Applies one differential element to its snapshot element.
fn merge(target: &mut Value, change: &Value) -> Result<(), String> {
    let base_min = target["min"].as_u64().unwrap_or(0);
    let base_max = target["max"].as_str().unwrap_or("*").to_string();
    let target = target.as_object_mut().expect("elements are objects");
    for (key, value) in change.as_object().into_iter().flatten() {
        match key.as_str() {
            "id" | "path" => {}
            "constraint" => {
                let constraints = target
                    .entry("constraint")
                    .or_insert_with(|| Value::Array(Vec::new()));
                let list = constraints
                    .as_array_mut()
                    .ok_or("constraint is not a list")?;
                for added in value.as_array().into_iter().flatten() {
                    list.retain(|c| c["key"] != added["key"]);
                    list.push(added.clone());
                }
            }
            k if k.starts_with("fixed") || k.starts_with("pattern") => {
                target.retain(|existing, _| {
                    !existing.starts_with("fixed") && !existing.starts_with("pattern")
                });
                target.insert(key.clone(), value.clone());
            }
            _ => {
                target.insert(key.clone(), value.clone());
            }
        }
    }
    let min = target.get("min").and_then(Value::as_u64).unwrap_or(0);
    let max = target.get("max").and_then(Value::as_str).unwrap_or("*");
    let within =
        |limit: &str| limit == "*" || max != "*" && max.parse::<u64>().ok() <= limit.parse().ok();
    // A slice's minimum is its own; only the maximum is bounded by the sliced element.
    let narrower_min = min >= base_min || target.contains_key("sliceName");
    if !narrower_min || !within(&base_max) {
        return Err(format!(
            "cardinality {min}..{max} is wider than the base {base_min}..{base_max}"
        ));
    }
    if max != "*" && max.parse::<u64>().is_ok_and(|m| m < min) {
        return Err(format!("max {max} is below min {min}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    struct Base(HashMap<String, Value>);

    impl Definitions for Base {
        fn structure_definition(&self, url: &str) -> Option<&Value> {
            self.0.get(url)
        }
    }

    fn base() -> Base {
        let element = |id: &str, min: u64, max: &str, code: &str| json!({"id": id, "path": id, "min": min, "max": max, "type": [{"code": code}]});
        let mut map = HashMap::new();
        map.insert(
            "http://hl7.org/fhir/StructureDefinition/Patient".to_string(),
            json!({"snapshot": {"element": [
                {"id": "Patient", "path": "Patient", "min": 0, "max": "*"},
                element("Patient.identifier", 0, "*", "Identifier"),
                {"id": "Patient.contact", "path": "Patient.contact", "min": 0, "max": "*", "type": [{"code": "BackboneElement"}]},
                element("Patient.contact.name", 0, "1", "HumanName"),
                element("Patient.gender", 0, "1", "code")
            ]}}),
        );
        map.insert(
            "http://hl7.org/fhir/StructureDefinition/Identifier".to_string(),
            json!({"snapshot": {"element": [
                {"id": "Identifier", "path": "Identifier", "min": 0, "max": "*"},
                element("Identifier.system", 0, "1", "uri"),
                element("Identifier.value", 0, "1", "string")
            ]}}),
        );
        Base(map)
    }

    fn profile(differential: Value) -> Value {
        json!({"url": "p", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
               "differential": {"element": differential}})
    }

    fn ids(elements: &[Value]) -> Vec<&str> {
        elements.iter().map(|e| e["id"].as_str().unwrap()).collect()
    }

    #[test]
    fn slices_bring_their_data_type_children() {
        let snapshot = generate(
            &profile(json!([
                {"id": "Patient.identifier", "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"}},
                {"id": "Patient.identifier:cccd", "min": 0, "max": "1"},
                {"id": "Patient.identifier:cccd.system", "min": 1, "fixedUri": "https://fhir.vnfhir.org/sid/cccd"},
                {"id": "Patient.identifier:bhxh", "max": "1"},
                {"id": "Patient.gender", "min": 1}
            ])),
            &base(),
        )
        .unwrap();
        assert_eq!(
            ids(&snapshot),
            [
                "Patient",
                "Patient.identifier",
                "Patient.identifier:cccd",
                "Patient.identifier:cccd.system",
                "Patient.identifier:cccd.value",
                "Patient.identifier:bhxh",
                "Patient.contact",
                "Patient.contact.name",
                "Patient.gender"
            ]
        );
        assert_eq!(snapshot[2]["sliceName"], "cccd");
        assert!(snapshot[2].get("slicing").is_none());
        assert_eq!(snapshot[3]["path"], "Patient.identifier.system");
        assert_eq!(snapshot[3]["fixedUri"], "https://fhir.vnfhir.org/sid/cccd");
        assert_eq!(snapshot[8]["min"], 1);
    }

    #[test]
    fn backbone_slices_copy_children_and_constraints_add_up() {
        let snapshot = generate(
            &profile(json!([
                {"id": "Patient.contact:me", "max": "1", "constraint": [{"key": "vn-1", "severity": "error", "human": "x", "expression": "true"}]},
                {"id": "Patient.contact:me.name", "min": 1}
            ])),
            &base(),
        )
        .unwrap();
        let at = ids(&snapshot)
            .iter()
            .position(|i| *i == "Patient.contact:me.name")
            .unwrap();
        assert_eq!(snapshot[at]["min"], 1);
        assert_eq!(snapshot[at - 1]["constraint"][0]["key"], "vn-1");
    }

    #[test]
    fn cardinality_only_narrows_and_unknown_paths_fail() {
        let wider = generate(
            &profile(json!([{"id": "Patient.gender", "max": "2"}])),
            &base(),
        );
        assert!(wider.unwrap_err().contains("wider"));
        let unknown = generate(
            &profile(json!([{"id": "Patient.ngaySinh", "min": 1}])),
            &base(),
        );
        assert!(unknown.unwrap_err().contains("ngaySinh"));
    }
}
