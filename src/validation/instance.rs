//! The walk over one resource against one compiled structure.
//!
//! Each JSON object is checked against the element whose children describe it (the element's
//! own children in the snapshot, else the root of its type's structure). The path to the
//! current element is kept as borrowed segments and only formatted when an issue is raised.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::fhirpath::{self, field, get, Env, Node};
use super::structure::{
    Check, Constraint, Element, ElementType, Expected, Kind, SliceMatcher, Strength, Structure,
};
use super::{finding, Finding, JsonKind, Validator};
use crate::fhir::datetime::{parse_date, parse_date_time};
use crate::fhir::outcome::{Issue, Severity};

#[derive(Clone, Copy)]
enum Segment<'a> {
    Name(&'a str),
    Index(usize),
    OfType(&'a str),
}

/// One occurrence of an element: its JSON value and a primitive's `_name` object.
#[derive(Clone, Copy)]
struct Item<'a> {
    index: Option<usize>,
    value: Option<&'a Value>,
    shadow: Option<&'a Value>,
}

/// The JSON properties of one object that fill one child (one type of a choice), and how
/// many occurrences they hold.
#[derive(Clone, Copy)]
struct Slot<'a> {
    child: usize,
    type_index: Option<usize>,
    key: &'a str,
    value: Option<&'a Value>,
    shadow: Option<&'a Value>,
    count: usize,
}

struct Walk<'a> {
    validator: &'a Validator,
    resource: &'a Value,
    root: &'a Value,
    path: Vec<Segment<'a>>,
    slots: Vec<Slot<'a>>,
    findings: Vec<Finding>,
}

pub(super) fn validate(validator: &Validator, structure: usize, resource: &Value) -> Vec<Finding> {
    let mut walk = Walk {
        validator,
        resource,
        root: resource,
        path: Vec::new(),
        slots: Vec::new(),
        findings: Vec::new(),
    };
    walk.resource(&validator.structures[structure], resource);
    walk.findings
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether `instance` has everything `pattern` has (arrays: each pattern item somewhere).
fn pattern_matches(instance: &Value, pattern: &Value) -> bool {
    match (instance, pattern) {
        (Value::Object(i), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| i.get(k).is_some_and(|iv| pattern_matches(iv, pv))),
        (Value::Array(i), Value::Array(p)) => p
            .iter()
            .all(|pv| i.iter().any(|iv| pattern_matches(iv, pv))),
        (i, p) => i == p,
    }
}

/// Whether a value at a dotted path (arrays flattened; a choice name finds `nameType`)
/// passes `test`. It stops at the first that does and collects nothing: slice matching runs
/// for every item of every sliced element.
fn any_at(value: &Value, path: &[String], test: &mut dyn FnMut(&Value) -> bool) -> bool {
    let Some((name, rest)) = path.split_first() else {
        return test(value);
    };
    let Some(object) = value.as_object() else {
        return false;
    };
    let mut visit = |v: &Value| match v {
        Value::Array(items) => items.iter().any(|item| any_at(item, rest, test)),
        v => any_at(v, rest, test),
    };
    get(object, name).is_some_and(&mut visit)
        || object.iter().any(|(k, v)| {
            k.strip_prefix(name.as_str())
                .and_then(fhirpath::choice_type)
                .is_some()
                && visit(v)
        })
}

/// A string member of a JSON object.
fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    field(value, key).and_then(Value::as_str)
}

/// `system|code` of a Coding-like value for messages.
fn coding_text(coding: &Value) -> String {
    match (coding["system"].as_str(), coding["code"].as_str()) {
        (Some(system), Some(code)) => format!("{system}#{code}"),
        (None, Some(code)) => code.to_string(),
        _ => "(không mã / no code)".to_string(),
    }
}

/// The resource type a reference points at, when its form says it.
fn reference_type<'v>(reference: &'v str, root: &'v Value) -> Option<&'v str> {
    if let Some(local) = reference.strip_prefix('#') {
        return root["contained"]
            .as_array()?
            .iter()
            .find(|c| c["id"] == local)?["resourceType"]
            .as_str();
    }
    if reference.starts_with("urn:") {
        return None;
    }
    let path = reference.split(['?', '#']).next()?;
    let parts: Vec<&str> = path.split('/').collect();
    let at = match parts.iter().rposition(|p| *p == "_history") {
        Some(h) => h.checked_sub(2)?,
        None => parts.len().checked_sub(2)?,
    };
    parts
        .get(at)
        .copied()
        .filter(|t| t.starts_with(char::is_uppercase))
}

impl<'a> Walk<'a> {
    fn expression(&self) -> String {
        let mut text = String::new();
        for segment in &self.path {
            match segment {
                Segment::Name(name) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(name);
                }
                Segment::Index(i) => {
                    text.push('[');
                    text.push_str(&i.to_string());
                    text.push(']');
                }
                Segment::OfType(type_code) => {
                    text.push_str(".ofType(");
                    text.push_str(type_code);
                    text.push(')');
                }
            }
        }
        text
    }

    fn report(
        &mut self,
        severity: Severity,
        code: &'static str,
        rule: &str,
        vi: String,
        en: String,
    ) {
        let issue = Issue {
            severity,
            code,
            expression: Some(self.expression()),
            vi,
            en,
        };
        self.findings.push(finding(issue, rule));
    }

    fn error(&mut self, code: &'static str, rule: &str, vi: String, en: String) {
        self.report(Severity::Error, code, rule, vi, en);
    }

    fn resource(&mut self, structure: &'a Structure, resource: &'a Value) {
        self.path.push(Segment::Name(&structure.type_name));
        match resource.as_object() {
            Some(object) => {
                self.object(structure, 0, object, true);
                let node = fhirpath::resource_node(resource);
                self.constraints(node, &structure.elements[0].constraints, &[]);
            }
            None => self.error(
                "structure",
                "json-type",
                "Tài nguyên phải là một đối tượng JSON".into(),
                "A resource must be a JSON object".into(),
            ),
        }
        self.path.pop();
    }

    /// The properties of `object`, described by the children of element `at`.
    fn object(
        &mut self,
        s: &'a Structure,
        at: usize,
        object: &'a Map<String, Value>,
        resource: bool,
    ) {
        let element = &s.elements[at];
        // This object's slots sit at the end of a buffer shared by the whole walk.
        let first = self.slots.len();
        for (key, value) in object {
            if resource && key == "resourceType" {
                continue;
            }
            let Some(property) = element.properties.get(key.as_str()) else {
                self.unknown_property(s, element, key);
                continue;
            };
            let same = |slot: &Slot| {
                slot.child == property.child && slot.type_index == property.type_index
            };
            let i = match self.slots[first..].iter().position(same) {
                Some(i) => first + i,
                None => {
                    self.slots.push(Slot {
                        child: property.child,
                        type_index: property.type_index,
                        key: key.strip_prefix('_').unwrap_or(key),
                        value: None,
                        shadow: None,
                        count: 0,
                    });
                    self.slots.len() - 1
                }
            };
            if property.shadow {
                self.slots[i].shadow = Some(value);
            } else {
                self.slots[i].value = Some(value);
            }
        }
        for i in first..self.slots.len() {
            let slot = self.slots[i];
            self.slots[i].count = self.property(s, &slot);
        }
        // The cardinality of each child present (a choice may fill it from several slots)…
        for i in first..self.slots.len() {
            let child = self.slots[i].child;
            if self.slots[first..i].iter().any(|slot| slot.child == child) {
                continue;
            }
            let count = self.slots[i..]
                .iter()
                .filter(|slot| slot.child == child)
                .map(|slot| slot.count)
                .sum();
            let c = &s.elements[child];
            self.path.push(Segment::Name(&c.name));
            self.cardinality(c, count, None);
            self.path.pop();
        }
        // …then the required children that are absent, with their required slices.
        for &child in &element.required {
            if self.slots[first..].iter().any(|slot| slot.child == child) {
                continue;
            }
            let c = &s.elements[child];
            self.path.push(Segment::Name(&c.name));
            self.cardinality(c, 0, None);
            for &slice in &c.slices {
                let slice = &s.elements[slice];
                self.cardinality(slice, 0, slice.slice_name.as_deref());
            }
            self.path.pop();
        }
        self.slots.truncate(first);
    }

    fn cardinality(&mut self, element: &Element, count: usize, slice: Option<&str>) {
        // Formatted only for an issue: this runs for every child present.
        let what = || match slice {
            Some(name) => (
                format!(" loại '{name}' (slice)"),
                format!(" of slice '{name}'"),
            ),
            None => (String::new(), String::new()),
        };
        if count < element.min as usize {
            let at = self.expression();
            let (vi, en) = if count == 0 && slice.is_none() {
                (
                    format!("Thiếu phần tử bắt buộc {at} (tối thiểu {})", element.min),
                    format!("Missing required element {at} (minimum {})", element.min),
                )
            } else {
                let (vi_what, en_what) = what();
                (
                    format!(
                        "{at} cần ít nhất {} giá trị{vi_what}, nhưng có {count}",
                        element.min
                    ),
                    format!(
                        "{at} needs at least {} value(s){en_what}, but has {count}",
                        element.min
                    ),
                )
            };
            self.error("required", "min", vi, en);
        }
        if let Some(max) = element.max {
            if count > max as usize {
                let at = self.expression();
                let (vi_what, en_what) = what();
                self.error(
                    "structure",
                    "max",
                    format!("{at} có {count} giá trị{vi_what}, vượt quá tối đa {max}"),
                    format!("{at} has {count} value(s){en_what}, more than the maximum of {max}"),
                );
            }
        }
    }

    fn unknown_property(&mut self, s: &Structure, element: &Element, key: &'a str) {
        let name = key.strip_prefix('_').unwrap_or(key);
        let choice = element.children.iter().map(|&c| &s.elements[c]).find(|c| {
            c.choice
                && name
                    .strip_prefix(c.name.as_str())
                    .is_some_and(|suffix| fhirpath::choice_type(suffix).is_some())
        });
        self.path.push(Segment::Name(key));
        let at = self.expression();
        match choice {
            Some(c) => {
                let allowed: Vec<&str> = c.types.iter().map(|t| t.code.as_str()).collect();
                let allowed = allowed.join(", ");
                let suffix = &name[c.name.len()..];
                self.error(
                    "structure",
                    "type",
                    format!("Kiểu {suffix} không được phép cho {}[x] ({at}); các kiểu cho phép: {allowed}", c.name),
                    format!("Type {suffix} is not allowed for {}[x] ({at}); allowed types: {allowed}", c.name),
                );
            }
            None => self.error(
                "structure",
                "unknown-element",
                format!("Phần tử không được định nghĩa: {at}"),
                format!("Unknown element: {at}"),
            ),
        }
        self.path.pop();
    }

    /// The occurrences of one child; returns how many there are.
    fn property(&mut self, s: &'a Structure, slot: &Slot<'a>) -> usize {
        let element = &s.elements[slot.child];
        let element_type = element.value_type(slot.type_index);
        self.path.push(Segment::Name(if element.choice {
            &element.name
        } else {
            slot.key
        }));
        if element.choice {
            if let Some(t) = element_type {
                self.path.push(Segment::OfType(&t.code));
            }
        }
        let items = self.items(element, slot);
        let sliced = element.slicing.is_some() && !element.slices.is_empty();
        if sliced {
            self.sliced(s, slot.child, slot.type_index, &items);
        } else {
            for item in &items {
                self.with_index(item.index, |walk| {
                    walk.item(s, slot.child, slot.type_index, item)
                });
            }
        }
        if element.choice && element_type.is_some() {
            self.path.pop();
        }
        self.path.pop();
        items.len()
    }

    fn with_index(&mut self, index: Option<usize>, check: impl FnOnce(&mut Self)) {
        if let Some(i) = index {
            self.path.push(Segment::Index(i));
        }
        check(self);
        if index.is_some() {
            self.path.pop();
        }
    }

    /// Splits a property into occurrences, checking the JSON shape (array or single value).
    fn items(&mut self, element: &Element, slot: &Slot<'a>) -> Vec<Item<'a>> {
        let shape_error = |walk: &mut Self, found: &Value| {
            if found.is_array() == element.array {
                return;
            }
            let at = walk.expression();
            let (vi, en) = if element.array {
                (
                    format!("{at} phải là một mảng JSON"),
                    format!("{at} must be a JSON array"),
                )
            } else {
                (
                    format!("{at} chỉ có một giá trị, không được là mảng JSON"),
                    format!("{at} takes a single value, not a JSON array"),
                )
            };
            walk.error("structure", "array", vi, en);
        };
        for found in [slot.value, slot.shadow].into_iter().flatten() {
            shape_error(self, found);
        }
        match (slot.value, slot.shadow) {
            (Some(Value::Array(values)), shadow) => {
                let shadows = shadow.and_then(Value::as_array);
                let length = values.len().max(shadows.map_or(0, Vec::len));
                (0..length)
                    .map(|i| Item {
                        index: Some(i),
                        value: values.get(i).filter(|v| !v.is_null()),
                        shadow: shadows.and_then(|s| s.get(i)).filter(|v| !v.is_null()),
                    })
                    .filter(|item| item.value.is_some() || item.shadow.is_some())
                    .collect()
            }
            (None, Some(Value::Array(shadows))) => shadows
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.is_null())
                .map(|(i, s)| Item {
                    index: Some(i),
                    value: None,
                    shadow: Some(s),
                })
                .collect(),
            (value, shadow) => vec![Item {
                index: None,
                value,
                shadow: shadow.filter(|s| !s.is_array()),
            }],
        }
    }

    /// Assigns the occurrences of a sliced element to slices, then checks each.
    fn sliced(
        &mut self,
        s: &'a Structure,
        at: usize,
        type_index: Option<usize>,
        items: &[Item<'a>],
    ) {
        let element = &s.elements[at];
        let mut counts = vec![0usize; element.slices.len()];
        for item in items {
            let slice = item.value.and_then(|value| {
                element
                    .matchers
                    .iter()
                    .position(|matcher| self.slice_matches(matcher, value))
            });
            self.with_index(item.index, |walk| match slice {
                Some(j) => {
                    counts[j] += 1;
                    walk.item(s, element.slices[j], type_index, item);
                }
                None if element.slicing.as_ref().is_some_and(|slicing| slicing.closed) => {
                    let at = walk.expression();
                    walk.error(
                        "structure",
                        "closed-slicing",
                        format!("{at} không thuộc loại (slice) nào đã định nghĩa, mà {} không cho phép loại khác", element.path),
                        format!("{at} matches no slice, and {} allows only the defined slices", element.path),
                    );
                }
                None => walk.item(s, at, type_index, item),
            });
        }
        for (j, &slice) in element.slices.iter().enumerate() {
            let slice_element = &s.elements[slice];
            self.cardinality(
                slice_element,
                counts[j],
                slice_element.slice_name.as_deref(),
            );
        }
    }

    fn slice_matches(&self, matcher: &SliceMatcher, value: &Value) -> bool {
        let terminology = &self.validator.terminology;
        matcher.checks.iter().all(|(path, expected)| {
            let found = |test: &mut dyn FnMut(&Value) -> bool| any_at(value, path, test);
            match expected {
                Expected::Equals(fixed) => found(&mut |v| v == fixed),
                Expected::Contains(pattern) => found(&mut |v| pattern_matches(v, pattern)),
                Expected::InValueSet(value_set) => found(&mut |v| {
                    let in_value_set = |c: &Value| {
                        text(c, "code").is_some_and(|code| {
                            terminology.contains(value_set, text(c, "system"), code) == Some(true)
                        })
                    };
                    match field(v, "coding").and_then(Value::as_array) {
                        Some(codings) => codings.iter().any(in_value_set),
                        None => in_value_set(v),
                    }
                }),
                Expected::Types(types) => found(&mut |v| {
                    text(v, "resourceType").is_some_and(|t| types.iter().any(|x| x == t))
                }),
                Expected::Present(present) => found(&mut |_| true) == *present,
                Expected::Nothing => false,
            }
        })
    }

    /// One occurrence of element `at`.
    fn item(&mut self, s: &'a Structure, at: usize, type_index: Option<usize>, item: &Item<'a>) {
        let element = &s.elements[at];
        let shape = &s.elements[element.content_reference.unwrap_or(at)];
        let element_type = element
            .value_type(type_index)
            .or(shape.value_type(type_index));
        if let Some(value) = item.value {
            self.fixed_and_pattern(element, value);
            if let (Some(binding), Some(t)) = (&element.binding, element_type) {
                self.binding(binding.strength, &binding.value_set, &t.code, value);
            }
        }
        let validator = self.validator;
        let mut type_structure = element_type
            .and_then(|t| t.structure)
            .map(|i| &validator.structures[i]);
        // An extension the definition does not describe further is checked by its url.
        if shape.children.is_empty()
            && element_type.is_some_and(|t| t.code == "Extension" && t.profile.is_none())
        {
            type_structure = self
                .extension_definition(element, item.value)
                .or(type_structure);
        }
        let node = Node {
            value: item.value,
            shadow: item.shadow,
            type_name: element_type
                .filter(|_| element.choice)
                .map(|t| t.code.as_str()),
        };
        if !shape.children.is_empty() {
            if let Some(object) = self.expect_object(item.value) {
                self.object(s, element.content_reference.unwrap_or(at), object, false);
            }
        } else if let Some(t) = element_type {
            match type_structure {
                Some(ts) if ts.kind == Kind::Resource => {
                    if let Some(value) = item.value {
                        self.contained(value);
                    }
                    return;
                }
                Some(ts) if ts.kind == Kind::Primitive => {
                    self.primitive(ts, &t.code, element, item)
                }
                Some(ts) => {
                    if let Some(object) = self.expect_object(item.value) {
                        self.object(ts, 0, object, false);
                    }
                }
                None => {}
            }
        }
        let type_constraints: &[std::sync::Arc<Constraint>] = match type_structure {
            Some(ts) if ts.kind != Kind::Resource => &ts.elements[0].constraints,
            _ => &[],
        };
        self.constraints(node, &element.constraints, type_constraints);
        if let (Some(t), Some(value)) = (element_type, item.value) {
            match t.code.as_str() {
                "Reference" => self.reference(t, value),
                "Coding" => self.known_code(value),
                _ => {}
            }
        }
    }

    fn expect_object(&mut self, value: Option<&'a Value>) -> Option<&'a Map<String, Value>> {
        let value = value?;
        if let Some(object) = value.as_object() {
            return Some(object);
        }
        let at = self.expression();
        let found = json_kind(value);
        self.error(
            "structure",
            "json-type",
            format!("{at} phải là một đối tượng JSON, không phải {found}"),
            format!("{at} must be a JSON object, not a {found}"),
        );
        None
    }

    /// An extension without a slice: checked against its own definition, found by url.
    fn extension_definition(
        &mut self,
        element: &Element,
        value: Option<&'a Value>,
    ) -> Option<&'a Structure> {
        let url = text(value?, "url")?;
        let validator = self.validator;
        if let Some(s) = validator.extension(url) {
            return Some(&validator.structures[s]);
        }
        let at = self.expression();
        let modifier = element.name == "modifierExtension";
        let (vi, en) = (
            format!("Phần mở rộng {url} tại {at} không có định nghĩa nên không được kiểm tra"),
            format!("Extension {url} at {at} has no known definition, so it is not checked"),
        );
        let severity = if modifier {
            Severity::Error
        } else {
            Severity::Warning
        };
        self.report(severity, "extension", "unknown-extension", vi, en);
        None
    }

    fn contained(&mut self, value: &'a Value) {
        let Some(resource_type) = value["resourceType"].as_str() else {
            let at = self.expression();
            self.error(
                "structure",
                "resource-type",
                format!("Tài nguyên lồng tại {at} không có resourceType"),
                format!("The resource at {at} has no resourceType"),
            );
            return;
        };
        let validator = self.validator;
        match validator.base_structure(resource_type) {
            Some(s) => {
                let outer = std::mem::replace(&mut self.resource, value);
                let structure = &validator.structures[s];
                if let Some(object) = value.as_object() {
                    self.object(structure, 0, object, true);
                    self.constraints(
                        fhirpath::resource_node(value),
                        &structure.elements[0].constraints,
                        &[],
                    );
                }
                self.resource = outer;
            }
            None => {
                let at = self.expression();
                self.report(
                    Severity::Warning,
                    "not-supported",
                    "resource-type",
                    format!("Không có định nghĩa cho {resource_type} tại {at}; tài nguyên này không được kiểm tra"),
                    format!("There is no definition for {resource_type} at {at}; it is not checked"),
                );
            }
        }
    }

    fn primitive(
        &mut self,
        ts: &'a Structure,
        type_code: &str,
        element: &Element,
        item: &Item<'a>,
    ) {
        if let Some(value) = item.value {
            self.primitive_value(type_code, element, value);
        }
        if let Some(shadow) = item.shadow {
            if let Some(object) = self.expect_object(Some(shadow)) {
                self.object(ts, 0, object, false);
            }
        }
    }

    fn primitive_value(&mut self, type_code: &str, element: &Element, value: &Value) {
        let validator = self.validator;
        let Some(rule) = validator.primitives.get(type_code) else {
            return;
        };
        let text: Cow<str> = match (rule.json, value) {
            (JsonKind::String, Value::String(s)) => Cow::Borrowed(s),
            (JsonKind::Number, Value::Number(n)) => Cow::Borrowed(n.as_str()),
            (JsonKind::Boolean, Value::Bool(b)) => Cow::Owned(b.to_string()),
            (expected, found) => {
                let at = self.expression();
                let expected = match expected {
                    JsonKind::String => "string",
                    JsonKind::Number => "number",
                    JsonKind::Boolean => "boolean",
                };
                let found = json_kind(found);
                self.error(
                    "structure",
                    "json-type",
                    format!("{at} (kiểu {type_code}) phải là {expected} JSON, không phải {found}"),
                    format!("{at} ({type_code}) must be a JSON {expected}, not a {found}"),
                );
                return;
            }
        };
        let well_formed = rule.matches(&text)
            && match type_code {
                "date" => parse_date(&text).is_some(),
                "dateTime" | "instant" => parse_date_time(&text).is_some(),
                "integer" => text.parse::<i32>().is_ok(),
                "positiveInt" | "unsignedInt" => text.parse::<i32>().is_ok_and(|n| n >= 0),
                _ => true,
            };
        if !well_formed {
            let at = self.expression();
            self.error(
                "value",
                "format",
                format!("Giá trị '{text}' của {at} không hợp lệ cho kiểu {type_code}"),
                format!("The value '{text}' of {at} is not a valid {type_code}"),
            );
            return;
        }
        if let Some(limit) = element.max_length.or(rule.max_length) {
            let length = text.chars().count();
            if length > limit {
                let at = self.expression();
                self.error(
                    "value",
                    "max-length",
                    format!("{at} dài {length} ký tự, vượt quá tối đa {limit}"),
                    format!("{at} is {length} characters long, more than the maximum of {limit}"),
                );
            }
        }
    }

    fn fixed_and_pattern(&mut self, element: &Element, value: &Value) {
        if let Some(fixed) = element.fixed.as_ref().filter(|f| *f != value) {
            let at = self.expression();
            self.error(
                "value",
                "fixed",
                format!("{at} phải đúng bằng giá trị cố định {fixed}, nhưng là {value}"),
                format!("{at} must be exactly the fixed value {fixed}, but is {value}"),
            );
        }
        if let Some(pattern) = element
            .pattern
            .as_ref()
            .filter(|p| !pattern_matches(value, p))
        {
            let at = self.expression();
            self.error(
                "value",
                "pattern",
                format!("{at} phải chứa mẫu {pattern}"),
                format!("{at} must contain the pattern {pattern}"),
            );
        }
    }

    /// A coded value against a value set; undecidable answers are not reported.
    fn binding(&mut self, strength: Strength, value_set: &str, type_code: &str, value: &Value) {
        let terminology = &self.validator.terminology;
        if !terminology.has_value_set(value_set) {
            return;
        }
        // A Coding without a system names no concept, whatever its code.
        let check = |coding: &Value| match (text(coding, "system"), text(coding, "code")) {
            (Some(system), Some(code)) => terminology.contains(value_set, Some(system), code),
            _ => Some(false),
        };
        // The codes are formatted only for an issue: this runs for every bound value.
        let codings = || {
            field(value, "coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        };
        let member = match type_code {
            "code" | "string" | "uri" => match value.as_str() {
                Some(code) => terminology.contains(value_set, None, code),
                None => return,
            },
            "Coding" | "Quantity" => check(value),
            // Reported only when every coding is known to be outside.
            "CodeableConcept" => Some(false).filter(|_| codings().all(|c| check(c) == Some(false))),
            _ => return,
        };
        if member != Some(false) {
            return;
        }
        let shown = match type_code {
            "code" | "string" | "uri" => value.as_str().unwrap_or_default().to_string(),
            "CodeableConcept" if codings().next().is_none() => {
                "(không có coding / no coding)".to_string()
            }
            "CodeableConcept" => codings().map(coding_text).collect::<Vec<_>>().join(", "),
            _ => coding_text(value),
        };
        let at = self.expression();
        let title = terminology.value_set_title(value_set);
        match strength {
            Strength::Required => self.error(
                "code-invalid",
                "binding",
                format!("Mã {shown} tại {at} không thuộc tập giá trị bắt buộc '{title}' ({value_set})"),
                format!("The code {shown} at {at} is not in the required value set '{title}' ({value_set})"),
            ),
            Strength::Extensible => self.report(
                Severity::Warning,
                "code-invalid",
                "binding",
                format!("Mã {shown} tại {at} không thuộc tập giá trị '{title}' ({value_set}); nên dùng mã trong tập này khi có mã phù hợp"),
                format!("The code {shown} at {at} is not in the value set '{title}' ({value_set}); use a code from it when one fits"),
            ),
        }
    }

    /// A Coding of a complete local CodeSystem must use one of its codes.
    fn known_code(&mut self, coding: &Value) {
        let (Some(system), Some(code)) = (text(coding, "system"), text(coding, "code")) else {
            return;
        };
        if self.validator.terminology.code_known(system, code) == Some(false) {
            let at = self.expression();
            self.error(
                "code-invalid",
                "unknown-code",
                format!("Mã '{code}' không có trong hệ mã {system} ({at})"),
                format!("Unknown code '{code}' in code system {system} ({at})"),
            );
        }
    }

    fn reference(&mut self, element_type: &ElementType, value: &Value) {
        let Some(reference) = text(value, "reference") else {
            return;
        };
        let Some(target) = reference_type(reference, self.root) else {
            return;
        };
        let allowed: Vec<&str> = element_type
            .target_profiles
            .iter()
            .map(|p| p.rsplit('/').next().unwrap_or(p))
            .collect();
        if allowed.is_empty() || allowed.iter().any(|a| *a == target || *a == "Resource") {
            return;
        }
        let at = self.expression();
        let allowed = allowed.join(", ");
        self.error(
            "structure",
            "reference-target",
            format!("{at} tham chiếu tới {target}, nhưng chỉ được tham chiếu tới: {allowed}"),
            format!("{at} refers to a {target}, but may only refer to: {allowed}"),
        );
    }

    /// The invariants of an element and of its type (each key once).
    fn constraints(
        &mut self,
        node: Node<'a>,
        own: &'a [std::sync::Arc<Constraint>],
        of_type: &'a [std::sync::Arc<Constraint>],
    ) {
        let extra = of_type.iter().filter(|c| {
            !own.iter()
                .any(|o| std::sync::Arc::ptr_eq(o, c) || o.key == c.key)
        });
        let env = Env {
            resource: self.resource,
            root: self.root,
            terminology: &self.validator.terminology,
        };
        // txt-1 and txt-2 are both `htmlChecks()`: an expression met again answers the same.
        let mut last: Option<(&str, bool)> = None;
        for constraint in own.iter().chain(extra) {
            let holds = match &constraint.check {
                Check::Ele1 => Ok(ele_1(&node)),
                Check::Ext1 => Ok(ext_1(&node)),
                Check::Dom3(_) if contained_referenced(&node, self.resource) => Ok(true),
                Check::Path(_) if last.is_some_and(|(e, _)| e == constraint.expression) => {
                    Ok(last.is_some_and(|(_, holds)| holds))
                }
                Check::Path(expression) | Check::Dom3(expression) => {
                    let holds = expression.holds(node, &env);
                    if let Ok(answer) = holds {
                        last = Some((&constraint.expression, answer));
                    }
                    holds
                }
                Check::Unsupported(_) => continue,
            };
            match holds {
                Ok(true) => {}
                Ok(false) => self.broken(constraint),
                Err(error) => {
                    let at = self.expression();
                    self.report(
                        Severity::Warning,
                        "processing",
                        &constraint.key,
                        format!(
                            "Không đánh giá được ràng buộc {} tại {at}: {error}",
                            constraint.key
                        ),
                        format!(
                            "Could not evaluate constraint {} at {at}: {error}",
                            constraint.key
                        ),
                    );
                }
            }
        }
    }

    fn broken(&mut self, constraint: &Constraint) {
        let severity = if constraint.error {
            Severity::Error
        } else {
            Severity::Warning
        };
        let vi = constraint.vi.as_deref().unwrap_or(&constraint.en);
        self.report(
            severity,
            "invariant",
            &constraint.key,
            format!("Vi phạm ràng buộc {}: {vi}", constraint.key),
            format!("Constraint {} failed: {}", constraint.key, constraint.en),
        );
    }
}

/// ext-1 without the interpreter: sub-extensions or a `value[x]`, not both.
fn ext_1(node: &Node<'_>) -> bool {
    let Some(Value::Object(object)) = node.value else {
        // Only a primitive's own extensions can be there.
        return node.shadow.is_some_and(|s| field(s, "extension").is_some());
    };
    let has_value = object.keys().any(|k| {
        k.strip_prefix("value")
            .is_some_and(|suffix| fhirpath::choice_type(suffix).is_some())
    });
    get(object, "extension").is_some() != has_value
}

/// When this is true, so is dom-3: every contained resource has a string `id` and `#id` is a
/// string that `%resource.descendants()` reaches (a member other than `resourceType` or
/// `_name`, or an item of its array), so `'#'+id in (… | descendants().as(canonical) | …)`.
/// When it is false the expression decides.
fn contained_referenced(node: &Node<'_>, resource: &Value) -> bool {
    let Some(Value::Object(object)) = node.value else {
        return false;
    };
    let Some(Value::Array(contained)) = get(object, "contained") else {
        return false;
    };
    get(object, "_contained").is_none()
        && contained
            .iter()
            .all(|c| text(c, "id").is_some_and(|id| has_string(resource, &format!("#{id}"))))
}

/// Whether `wanted` is a string member of `value` or of an object below it, or an item of an
/// array there (not `resourceType`, not inside `_name` objects).
fn has_string(value: &Value, wanted: &str) -> bool {
    let Value::Object(object) = value else {
        return false;
    };
    let found = |v: &Value| match v {
        Value::String(s) => s == wanted,
        v => has_string(v, wanted),
    };
    object
        .iter()
        .filter(|(key, _)| *key != "resourceType" && !key.starts_with('_'))
        .any(|(_, v)| match v {
            Value::Array(items) => items.iter().any(found),
            v => found(v),
        })
}

/// ele-1 without the interpreter: a value, or a child other than `id`.
fn ele_1(node: &Node<'_>) -> bool {
    let has_children = |v: Option<&Value>| {
        v.and_then(Value::as_object)
            .is_some_and(|o| o.keys().any(|k| k != "id"))
    };
    match node.value {
        Some(Value::Object(_)) => has_children(node.value),
        Some(_) => true,
        None => has_children(node.shadow),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::validation::fhirpath::{Env, Expression};
    use crate::validation::terminology::Terminology;

    /// The native checks answer as the R4 expressions they stand for.
    #[test]
    fn native_ele_1_and_ext_1_agree_with_their_expressions() {
        let ele = Expression::compile("hasValue() or (children().count() > id.count())").unwrap();
        let ext = Expression::compile("extension.exists() != value.exists()").unwrap();
        let terminology = Terminology::default();
        let samples = [
            json!({"url": "a", "valueString": "x"}),
            json!({"url": "a"}),
            json!({"id": "1"}),
            json!({"url": "a", "extension": [{"url": "b", "valueCode": "c"}]}),
            json!({"url": "a", "extension": [{"url": "b", "valueCode": "c"}], "valueBoolean": true}),
            json!({"url": "a", "valueSet": "not a choice"}),
            json!("text"),
        ];
        for sample in &samples {
            let env = Env {
                resource: sample,
                root: sample,
                terminology: &terminology,
            };
            let node = Node {
                value: Some(sample),
                shadow: None,
                type_name: None,
            };
            assert_eq!(
                ele_1(&node),
                ele.holds(node, &env).unwrap(),
                "ele-1 on {sample}"
            );
            assert_eq!(
                ext_1(&node),
                ext.holds(node, &env).unwrap(),
                "ext-1 on {sample}"
            );
        }
        let extension_only = json!({"extension": [{"url": "x", "valueCode": "y"}]});
        let node = Node {
            value: None,
            shadow: Some(&extension_only),
            type_name: None,
        };
        let env = Env {
            resource: &extension_only,
            root: &extension_only,
            terminology: &terminology,
        };
        assert_eq!(ele_1(&node), ele.holds(node, &env).unwrap());
    }

    /// Where the native dom-3 says yes, the expression does too; where it says no, the
    /// expression is asked.
    #[test]
    fn native_dom_3_only_answers_where_the_expression_holds() {
        let dom_3 = Expression::compile(crate::validation::structure::DOM_3).unwrap();
        let terminology = Terminology::default();
        let condition = json!({"resourceType": "Condition", "id": "cd1"});
        let samples = [
            (
                json!({"resourceType": "Encounter", "contained": [condition],
                    "diagnosis": [{"condition": {"reference": "#cd1"}}]}),
                true,
            ),
            (
                json!({"resourceType": "Encounter", "contained": [condition],
                    "extension": [{"url": "x", "valueCanonical": "#cd1"}]}),
                true,
            ),
            (
                json!({"resourceType": "Encounter", "contained": [condition]}),
                false,
            ),
            (
                json!({"resourceType": "Encounter", "contained": [condition],
                    "_status": {"extension": [{"url": "x", "valueString": "#cd1"}]}}),
                false,
            ),
            (
                json!({"resourceType": "Encounter", "contained": [condition, {"resourceType": "Condition", "id": "cd2"}],
                    "diagnosis": [{"condition": {"reference": "#cd1"}}]}),
                false,
            ),
            (
                json!({"resourceType": "Encounter", "contained": [{"resourceType": "Condition"}],
                    "diagnosis": [{"condition": {"reference": "#"}}]}),
                false,
            ),
        ];
        for (sample, native) in &samples {
            let env = Env {
                resource: sample,
                root: sample,
                terminology: &terminology,
            };
            let node = fhirpath::resource_node(sample);
            assert_eq!(contained_referenced(&node, sample), *native, "{sample}");
            if *native {
                assert!(dom_3.holds(node, &env).unwrap(), "{sample}");
            }
        }
    }
}
