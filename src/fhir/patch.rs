//! PATCH documents: JSON Patch (RFC 6902) and FHIRPath Patch (a Parameters resource, see
//! fhirpatch.html).
//!
//! FHIRPath Patch paths use the part of FHIRPath that patches need: element names, `[n]`,
//! `first()`, `last()` and `where(a.b = 'x' and …)`. Whether an element repeats comes from
//! the R4 JSON schema, so `add` appends to lists and sets single elements.

use serde_json::{Map, Value};

use super::outcome::Issue;
use super::schema::{fhir_path, SchemaSet};

#[derive(Debug)]
pub enum PatchError {
    /// The patch document itself is malformed (400).
    Malformed(Issue),
    /// The patch is well formed but cannot be applied to this resource (422).
    Unprocessable(Issue),
}

fn malformed(at: String, vi: String, en: String) -> PatchError {
    PatchError::Malformed(Issue::error("invalid", vi, en).at(at))
}

fn unprocessable(at: String, vi: String, en: String) -> PatchError {
    PatchError::Unprocessable(Issue::error("processing", vi, en).at(at))
}

/// Applies a JSON Patch document to `resource`; on error `resource` may be half-patched,
/// so callers patch a copy.
pub fn apply_json_patch(resource: &mut Value, document: &Value) -> Result<(), PatchError> {
    let resource_type = resource["resourceType"].as_str().unwrap_or("").to_string();
    let patch: json_patch::Patch = serde_json::from_value(document.clone()).map_err(|e| {
        malformed(
            resource_type.clone(),
            format!("Tài liệu JSON Patch không hợp lệ: {e}"),
            format!("Malformed JSON Patch document: {e}"),
        )
    })?;
    json_patch::patch_unsafe(resource, &patch).map_err(|e| {
        let at = fhir_path(&resource_type, e.path.as_str());
        unprocessable(
            at.clone(),
            format!(
                "Không áp dụng được thao tác thứ {} của JSON Patch tại {at}: {}",
                e.operation, e.kind
            ),
            format!(
                "JSON Patch operation {} cannot be applied at {at}: {}",
                e.operation, e.kind
            ),
        )
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// An element found by a path: where it is, and its FHIR type.
#[derive(Debug, Clone)]
struct Node {
    location: Vec<Step>,
    type_name: String,
}

fn get<'v>(root: &'v Value, location: &[Step]) -> Option<&'v Value> {
    location.iter().try_fold(root, |value, step| match step {
        Step::Key(key) => value.get(key),
        Step::Index(index) => value.get(index),
    })
}

fn get_mut<'v>(root: &'v mut Value, location: &[Step]) -> Option<&'v mut Value> {
    location.iter().try_fold(root, |value, step| match step {
        Step::Key(key) => value.get_mut(key),
        Step::Index(index) => value.get_mut(index),
    })
}

/// Splits at `separator` outside quotes and parentheses.
fn split_top_level<'e>(expression: &'e str, separator: &str) -> Vec<&'e str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0);
    let bytes = expression.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.saturating_sub(1),
            _ if !quoted && depth == 0 && expression[i..].starts_with(separator) => {
                parts.push(&expression[start..i]);
                i += separator.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&expression[start..]);
    parts
}

/// A compiled path over one resource.
struct Paths<'s> {
    schemas: &'s SchemaSet,
    /// The whole expression, for messages.
    expression: &'s str,
}

impl Paths<'_> {
    fn bad_path(&self, why_vi: &str, why_en: &str) -> PatchError {
        let e = self.expression;
        malformed(
            e.to_string(),
            format!("Đường dẫn FHIRPath {e:?} không dùng được: {why_vi}"),
            format!("FHIRPath {e:?} cannot be used: {why_en}"),
        )
    }

    fn evaluate(&self, resource: &Value) -> Result<Vec<Node>, PatchError> {
        let segments = split_top_level(self.expression.trim(), ".");
        let resource_type = resource["resourceType"].as_str().unwrap_or("");
        if segments[0] != resource_type {
            return Err(self.bad_path(
                &format!("phải bắt đầu bằng {resource_type}"),
                &format!("it must start with {resource_type}"),
            ));
        }
        let mut nodes = vec![Node {
            location: Vec::new(),
            type_name: resource_type.to_string(),
        }];
        for segment in &segments[1..] {
            nodes = self.step(resource, nodes, segment.trim())?;
        }
        Ok(nodes)
    }

    fn step(
        &self,
        resource: &Value,
        nodes: Vec<Node>,
        segment: &str,
    ) -> Result<Vec<Node>, PatchError> {
        match segment {
            "first()" => return Ok(nodes.into_iter().take(1).collect()),
            "last()" => return Ok(nodes.into_iter().last().into_iter().collect()),
            _ => {}
        }
        if let Some(condition) = segment
            .strip_prefix("where(")
            .and_then(|rest| rest.strip_suffix(')'))
        {
            let mut kept = Vec::new();
            for node in nodes {
                let item = get(resource, &node.location).unwrap_or(&Value::Null);
                if self.holds(item, condition)? {
                    kept.push(node);
                }
            }
            return Ok(kept);
        }
        let (name, index) = match segment.split_once('[') {
            Some((name, rest)) => {
                let index = rest
                    .strip_suffix(']')
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| self.bad_path("chỉ số không hợp lệ", "bad index"))?;
                (name, Some(index))
            }
            None => (segment, None),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(self.bad_path(
                &format!("không hỗ trợ {segment:?}"),
                &format!("{segment:?} is not supported"),
            ));
        }
        let mut children = Vec::new();
        for node in &nodes {
            children.extend(self.children(resource, node, name));
        }
        Ok(match index {
            Some(index) => children.into_iter().nth(index).into_iter().collect(),
            None => children,
        })
    }

    /// The elements `name` of `node` (a choice element `value` matches `valueString`, …).
    fn children(&self, resource: &Value, node: &Node, name: &str) -> Vec<Node> {
        let Some(object) = get(resource, &node.location).and_then(Value::as_object) else {
            return Vec::new();
        };
        let key = if object.contains_key(name) {
            name.to_string()
        } else {
            match object.keys().find(|k| {
                k.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
            }) {
                Some(key) => key.clone(),
                None => return Vec::new(),
            }
        };
        let type_name = self
            .schemas
            .element(&node.type_name, &key)
            .map_or_else(String::new, |shape| shape.type_name.clone());
        let mut location = node.location.clone();
        location.push(Step::Key(key.clone()));
        match &object[&key] {
            Value::Array(items) => (0..items.len())
                .map(|i| {
                    let mut location = location.clone();
                    location.push(Step::Index(i));
                    Node {
                        location,
                        type_name: type_name.clone(),
                    }
                })
                .collect(),
            _ => vec![Node {
                location,
                type_name,
            }],
        }
    }

    /// `a.b = 'x' and c != 'y'` on one item.
    fn holds(&self, item: &Value, condition: &str) -> Result<bool, PatchError> {
        for clause in split_top_level(condition, " and ") {
            let (path, negated, literal) = match split_top_level(clause, "!=").as_slice() {
                [path, literal] => (*path, true, *literal),
                _ => match split_top_level(clause, "=").as_slice() {
                    [path, literal] => (*path, false, *literal),
                    _ => {
                        return Err(self.bad_path(
                            &format!("điều kiện {clause:?} không được hỗ trợ"),
                            &format!("the condition {clause:?} is not supported"),
                        ))
                    }
                },
            };
            let literal = literal.trim();
            let wanted = literal
                .strip_prefix('\'')
                .and_then(|l| l.strip_suffix('\''))
                .map_or_else(|| literal.to_string(), |l| l.replace("\\'", "'"));
            let mut values = vec![item];
            for name in path.trim().split('.') {
                values = values
                    .into_iter()
                    .filter_map(|v| v.get(name))
                    .flat_map(|v| match v {
                        Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    })
                    .collect();
            }
            let equal = values.iter().any(|v| match v {
                Value::String(text) => *text == wanted,
                Value::Number(_) | Value::Bool(_) => v.to_string() == wanted,
                _ => false,
            });
            if equal == negated {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// One `operation` parameter of a FHIRPath Patch.
struct Operation<'p> {
    at: String,
    kind: &'p str,
    path: &'p str,
    name: Option<&'p str>,
    value: Option<Value>,
    index: Option<usize>,
    source: Option<usize>,
    destination: Option<usize>,
}

fn value_of(part: &Value) -> Option<Value> {
    let object = part.as_object()?;
    if let Some((_, value)) = object.iter().find(|(k, _)| k.starts_with("value")) {
        return Some(value.clone());
    }
    let mut built = Map::new();
    for child in object.get("part")?.as_array()? {
        let (Some(name), Some(value)) = (child["name"].as_str(), value_of(child)) else {
            continue;
        };
        match built.get_mut(name) {
            Some(Value::Array(items)) => items.push(value),
            Some(single) => *single = Value::Array(vec![single.clone(), value]),
            None => {
                built.insert(name.to_string(), value);
            }
        }
    }
    Some(Value::Object(built))
}

fn parse_operations(parameters: &Value) -> Result<Vec<Operation<'_>>, PatchError> {
    let not_parameters = || {
        malformed(
            "Parameters".into(),
            "FHIRPath Patch phải là tài nguyên Parameters có tham số operation".into(),
            "A FHIRPath Patch must be a Parameters resource with operation parameters".into(),
        )
    };
    if parameters["resourceType"] != "Parameters" {
        return Err(not_parameters());
    }
    let list = parameters["parameter"]
        .as_array()
        .ok_or_else(not_parameters)?;
    list.iter()
        .enumerate()
        .map(|(i, parameter)| {
            let at = format!("Parameters.parameter[{i}]");
            if parameter["name"] != "operation" {
                return Err(malformed(
                    at,
                    format!("Tham số thứ {i} phải có tên operation"),
                    format!("Parameter {i} must be named operation"),
                ));
            }
            let parts = parameter["part"].as_array().map_or(&[][..], Vec::as_slice);
            let part = |name: &str| parts.iter().find(|p| p["name"] == name);
            let text = |name: &str| {
                part(name).and_then(|p| {
                    p.as_object()?
                        .iter()
                        .find(|(k, _)| k.starts_with("value"))
                        .and_then(|(_, v)| v.as_str())
                })
            };
            let number = |name: &str| {
                part(name)
                    .and_then(|p| p["valueInteger"].as_u64())
                    .map(|n| n as usize)
            };
            let (Some(kind), Some(path)) = (text("type"), text("path")) else {
                return Err(malformed(
                    at,
                    format!("Thao tác thứ {i} thiếu type hoặc path"),
                    format!("Operation {i} lacks its type or path"),
                ));
            };
            Ok(Operation {
                at,
                kind,
                path,
                name: text("name"),
                value: part("value").and_then(value_of),
                index: number("index"),
                source: number("source"),
                destination: number("destination"),
            })
        })
        .collect()
}

/// Applies a FHIRPath Patch (Parameters) to `resource`; on error `resource` may be
/// half-patched, so callers patch a copy.
pub fn apply_fhirpath_patch(
    schemas: &SchemaSet,
    resource: &mut Value,
    parameters: &Value,
) -> Result<(), PatchError> {
    for operation in parse_operations(parameters)? {
        apply_operation(schemas, resource, &operation)?;
    }
    Ok(())
}

fn apply_operation(
    schemas: &SchemaSet,
    resource: &mut Value,
    op: &Operation,
) -> Result<(), PatchError> {
    let paths = Paths {
        schemas,
        expression: op.path,
    };
    let needs = |what: &str, present: bool| {
        if present {
            Ok(())
        } else {
            Err(malformed(
                op.at.clone(),
                format!("Thao tác {} cần {what}", op.kind),
                format!("The {} operation needs {what}", op.kind),
            ))
        }
    };
    let one = |nodes: Vec<Node>| -> Result<Node, PatchError> {
        match <[Node; 1]>::try_from(nodes) {
            Ok([node]) => Ok(node),
            Err(nodes) => Err(unprocessable(
                op.path.to_string(),
                format!(
                    "{} phải chỉ đúng một phần tử, nhưng khớp {}",
                    op.path,
                    nodes.len()
                ),
                format!(
                    "{} must select exactly one element, but selects {}",
                    op.path,
                    nodes.len()
                ),
            )),
        }
    };
    match op.kind {
        "add" => {
            needs("name", op.name.is_some())?;
            needs("value", op.value.is_some())?;
            let name = op.name.unwrap_or_default();
            let node = one(paths.evaluate(resource)?)?;
            let shape = schemas.element(&node.type_name, name).ok_or_else(|| {
                unprocessable(
                    op.path.to_string(),
                    format!("{} không có phần tử {name}", node.type_name),
                    format!("{} has no element {name}", node.type_name),
                )
            })?;
            let repeating = shape.repeating;
            let Some(Value::Object(target)) = get_mut(resource, &node.location) else {
                return Err(unprocessable(
                    op.path.to_string(),
                    format!("{} không phải một phần tử phức hợp", op.path),
                    format!("{} is not a complex element", op.path),
                ));
            };
            let value = op.value.clone().unwrap_or_default();
            match target.get_mut(name) {
                Some(Value::Array(items)) if repeating => items.push(value),
                Some(_) => {
                    return Err(unprocessable(
                        format!("{}.{name}", op.path),
                        format!("{}.{name} đã có giá trị; dùng replace", op.path),
                        format!("{}.{name} already has a value; use replace", op.path),
                    ))
                }
                None if repeating => {
                    target.insert(name.to_string(), Value::Array(vec![value]));
                }
                None => {
                    target.insert(name.to_string(), value);
                }
            }
        }
        "replace" => {
            needs("value", op.value.is_some())?;
            let node = one(paths.evaluate(resource)?)?;
            if let Some(slot) = get_mut(resource, &node.location) {
                *slot = op.value.clone().unwrap_or_default();
            }
        }
        "delete" => {
            let nodes = paths.evaluate(resource)?;
            if nodes.is_empty() {
                return Ok(());
            }
            remove(resource, &one(nodes)?.location);
        }
        "insert" | "move" => {
            let (list, position) = if op.kind == "insert" {
                needs("value và index", op.value.is_some() && op.index.is_some())?;
                (None, op.index.unwrap_or_default())
            } else {
                needs(
                    "source và destination",
                    op.source.is_some() && op.destination.is_some(),
                )?;
                (op.source, op.destination.unwrap_or_default())
            };
            let items = list_at(&paths, resource, op.kind == "insert")?;
            let out_of_range = |n: usize| {
                unprocessable(
                    op.path.to_string(),
                    format!("Vị trí {n} nằm ngoài danh sách {}", op.path),
                    format!("Position {n} is outside the list {}", op.path),
                )
            };
            let value = match list {
                Some(source) if source < items.len() => items.remove(source),
                Some(source) => return Err(out_of_range(source)),
                None => op.value.clone().unwrap_or_default(),
            };
            if position > items.len() {
                return Err(out_of_range(position));
            }
            items.insert(position, value);
        }
        other => {
            return Err(malformed(
                op.at.clone(),
                format!("Loại thao tác {other:?} không hợp lệ"),
                format!("Unknown operation type {other:?}"),
            ))
        }
    }
    Ok(())
}

/// The list a path names (`Patient.identifier`), created when `create` and absent.
fn list_at<'v>(
    paths: &Paths,
    resource: &'v mut Value,
    create: bool,
) -> Result<&'v mut Vec<Value>, PatchError> {
    let expression = paths.expression.trim();
    let Some((parent, name)) = expression.rsplit_once('.') else {
        return Err(paths.bad_path("không chỉ tới một danh sách", "it names no list"));
    };
    let parent_paths = Paths {
        schemas: paths.schemas,
        expression: parent,
    };
    let nodes = parent_paths.evaluate(resource)?;
    let [node] = nodes.as_slice() else {
        return Err(paths.bad_path(
            "phần tử cha phải là duy nhất",
            "its parent must be exactly one element",
        ));
    };
    let repeating = paths
        .schemas
        .element(&node.type_name, name)
        .is_some_and(|shape| shape.repeating);
    if !repeating {
        return Err(paths.bad_path(
            &format!("{name} không phải phần tử lặp"),
            &format!("{name} is not a repeating element"),
        ));
    }
    let Some(Value::Object(object)) = get_mut(resource, &node.location) else {
        return Err(paths.bad_path("phần tử cha không phức hợp", "its parent is not complex"));
    };
    if create && !object.contains_key(name) {
        object.insert(name.to_string(), Value::Array(Vec::new()));
    }
    match object.get_mut(name) {
        Some(Value::Array(items)) => Ok(items),
        _ => Err(paths.bad_path("danh sách không tồn tại", "the list does not exist")),
    }
}

/// Removes the element at `location`; a list left empty goes too (FHIR JSON has no `[]`).
fn remove(resource: &mut Value, location: &[Step]) {
    let Some((last, parent)) = location.split_last() else {
        return;
    };
    let Some(container) = get_mut(resource, parent) else {
        return;
    };
    match (last, container) {
        (Step::Key(key), Value::Object(object)) => {
            object.remove(key);
        }
        (Step::Index(index), Value::Array(items)) => {
            items.remove(*index);
            if items.is_empty() {
                remove(resource, parent);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schemas() -> SchemaSet {
        SchemaSet::compile(&["Patient"]).unwrap()
    }

    fn patient() -> Value {
        json!({
            "resourceType": "Patient", "id": "p1",
            "identifier": [
                {"system": "https://fhir.vnfhir.org/sid/cccd", "value": "001090012345"},
                {"system": "https://fhir.vnfhir.org/sid/bhxh", "value": "0123456789"}
            ],
            "name": [{"use": "official", "family": "Nguyễn", "given": ["Văn", "An"]}],
            "gender": "male"
        })
    }

    fn operation(parts: Value) -> Value {
        json!({"resourceType": "Parameters", "parameter": [{"name": "operation", "part": parts}]})
    }

    fn fhirpath(resource: &mut Value, parts: Value) -> Result<(), PatchError> {
        apply_fhirpath_patch(&schemas(), resource, &operation(parts))
    }

    #[test]
    fn json_patch_applies_and_reports_failing_operation_path() {
        let mut p = patient();
        let doc = json!([
            {"op": "replace", "path": "/gender", "value": "female"},
            {"op": "add", "path": "/name/0/given/-", "value": "Bình"}
        ]);
        apply_json_patch(&mut p, &doc).unwrap();
        assert_eq!(p["gender"], "female");
        assert_eq!(p["name"][0]["given"], json!(["Văn", "An", "Bình"]));

        let failing = json!([{"op": "test", "path": "/gender", "value": "male"}]);
        match apply_json_patch(&mut p, &failing) {
            Err(PatchError::Unprocessable(issue)) => {
                assert_eq!(issue.expression.as_deref(), Some("Patient.gender"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            apply_json_patch(&mut p, &json!({"op": "add"})),
            Err(PatchError::Malformed(_))
        ));
    }

    #[test]
    fn add_sets_single_elements_and_appends_to_lists() {
        let mut p = patient();
        fhirpath(&mut p, json!([{"name": "type", "valueCode": "add"}, {"name": "path", "valueString": "Patient"},
            {"name": "name", "valueString": "birthDate"}, {"name": "value", "valueDate": "1990-05"}])).unwrap();
        assert_eq!(p["birthDate"], "1990-05");
        fhirpath(&mut p, json!([{"name": "type", "valueCode": "add"}, {"name": "path", "valueString": "Patient"},
            {"name": "name", "valueString": "telecom"},
            {"name": "value", "part": [{"name": "system", "valueCode": "phone"}, {"name": "value", "valueString": "0912345678"}]}])).unwrap();
        assert_eq!(
            p["telecom"],
            json!([{"system": "phone", "value": "0912345678"}])
        );
        let again = fhirpath(
            &mut p,
            json!([{"name": "type", "valueCode": "add"}, {"name": "path", "valueString": "Patient"},
            {"name": "name", "valueString": "gender"}, {"name": "value", "valueCode": "female"}]),
        );
        assert!(matches!(again, Err(PatchError::Unprocessable(_))));
    }

    #[test]
    fn replace_and_delete_follow_where_and_index() {
        let mut p = patient();
        fhirpath(&mut p, json!([{"name": "type", "valueCode": "replace"},
            {"name": "path", "valueString": "Patient.identifier.where(system='https://fhir.vnfhir.org/sid/bhxh').value"},
            {"name": "value", "valueString": "9999999999"}])).unwrap();
        assert_eq!(p["identifier"][1]["value"], "9999999999");
        fhirpath(
            &mut p,
            json!([{"name": "type", "valueCode": "delete"},
            {"name": "path", "valueString": "Patient.name[0].given[1]"}]),
        )
        .unwrap();
        assert_eq!(p["name"][0]["given"], json!(["Văn"]));
        fhirpath(
            &mut p,
            json!([{"name": "type", "valueCode": "delete"},
            {"name": "path", "valueString": "Patient.name.where(use='official').given.first()"}]),
        )
        .unwrap();
        assert!(
            p["name"][0].get("given").is_none(),
            "an emptied list goes: {p}"
        );
        // Deleting nothing is not an error.
        fhirpath(
            &mut p,
            json!([{"name": "type", "valueCode": "delete"},
            {"name": "path", "valueString": "Patient.birthDate"}]),
        )
        .unwrap();
        let many = fhirpath(
            &mut p,
            json!([{"name": "type", "valueCode": "replace"},
            {"name": "path", "valueString": "Patient.identifier.value"}, {"name": "value", "valueString": "x"}]),
        );
        assert!(matches!(many, Err(PatchError::Unprocessable(_))));
    }

    #[test]
    fn insert_and_move_work_on_lists() {
        let mut p = patient();
        fhirpath(&mut p, json!([{"name": "type", "valueCode": "insert"}, {"name": "path", "valueString": "Patient.identifier"},
            {"name": "index", "valueInteger": 0},
            {"name": "value", "part": [{"name": "system", "valueUri": "https://fhir.vnfhir.org/sid/bhyt-card"}, {"name": "value", "valueString": "DN4010123456789"}]}])).unwrap();
        assert_eq!(p["identifier"][0]["value"], "DN4010123456789");
        fhirpath(&mut p, json!([{"name": "type", "valueCode": "move"}, {"name": "path", "valueString": "Patient.identifier"},
            {"name": "source", "valueInteger": 0}, {"name": "destination", "valueInteger": 2}])).unwrap();
        assert_eq!(p["identifier"][2]["value"], "DN4010123456789");
        let beyond = fhirpath(
            &mut p,
            json!([{"name": "type", "valueCode": "insert"}, {"name": "path", "valueString": "Patient.identifier"},
            {"name": "index", "valueInteger": 9}, {"name": "value", "part": [{"name": "value", "valueString": "x"}]}]),
        );
        assert!(matches!(beyond, Err(PatchError::Unprocessable(_))));
        let single = fhirpath(
            &mut p,
            json!([{"name": "type", "valueCode": "insert"}, {"name": "path", "valueString": "Patient.gender"},
            {"name": "index", "valueInteger": 0}, {"name": "value", "valueCode": "male"}]),
        );
        assert!(matches!(single, Err(PatchError::Malformed(_))));
    }

    #[test]
    fn malformed_documents_are_rejected() {
        let mut p = patient();
        let not_parameters =
            apply_fhirpath_patch(&schemas(), &mut p, &json!({"resourceType": "Patient"}));
        assert!(matches!(not_parameters, Err(PatchError::Malformed(_))));
        let wrong_root = fhirpath(
            &mut p,
            json!([{"name": "type", "valueCode": "delete"}, {"name": "path", "valueString": "Encounter.status"}]),
        );
        assert!(matches!(wrong_root, Err(PatchError::Malformed(_))));
        let unknown = fhirpath(
            &mut p,
            json!([{"name": "type", "valueCode": "frobnicate"}, {"name": "path", "valueString": "Patient"}]),
        );
        assert!(matches!(unknown, Err(PatchError::Malformed(_))));
        let function = fhirpath(
            &mut p,
            json!([{"name": "type", "valueCode": "delete"}, {"name": "path", "valueString": "Patient.name.exists()"}]),
        );
        assert!(matches!(function, Err(PatchError::Malformed(_))));
    }

    #[test]
    fn top_level_split_respects_quotes_and_parentheses() {
        assert_eq!(
            split_top_level("Patient.identifier.where(system='a.b').value", "."),
            ["Patient", "identifier", "where(system='a.b')", "value"]
        );
    }
}
