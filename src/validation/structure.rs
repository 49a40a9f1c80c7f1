//! A StructureDefinition's snapshot compiled for validation: an arena of elements with their
//! children, slices, types, fixed/pattern values, bindings, invariants and a lookup from each
//! JSON property name to the element it fills.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use serde_json::Value;

use super::fhirpath::{self, Expression};

const FHIR_TYPE_EXTENSION: &str =
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";
const TRANSLATION_EXTENSION: &str = "http://hl7.org/fhir/StructureDefinition/translation";
/// ele-1, on every element, and ext-1, on every extension: checked natively.
const ELE_1: &str = "hasValue() or (children().count() > id.count())";
const EXT_1: &str = "extension.exists() != value.exists()";
/// dom-3, on every DomainResource: a contained resource must be referenced from elsewhere.
pub const DOM_3: &str = "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()";

/// FxHash's step over eight bytes at a time: the maps looked up per JSON property and per
/// coding have string keys (names, system URLs), where SipHash's setup costs more than the
/// lookup and a byte-at-a-time hash is slow on a URL.
#[derive(Default)]
pub struct FastHasher(u64);

impl FastHasher {
    fn step(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut le = [0; 8];
            le.copy_from_slice(word);
            self.step(u64::from_le_bytes(le));
        }
        for &byte in words.remainder() {
            self.step(u64::from(byte));
        }
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
pub type FastSet<K> = std::collections::HashSet<K, BuildHasherDefault<FastHasher>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Primitive,
    Complex,
    Resource,
    Logical,
}

pub struct Structure {
    pub url: String,
    pub type_name: String,
    pub kind: Kind,
    pub elements: Vec<Element>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    Required,
    Extensible,
}

pub struct Binding {
    pub strength: Strength,
    pub value_set: String,
}

pub enum Check {
    /// `hasValue() or (children().count() > id.count())`, the same test without the
    /// interpreter: it runs on every element.
    Ele1,
    /// `extension.exists() != value.exists()`, natively too.
    Ext1,
    /// dom-3: its usual answer (each contained resource's `#id` written somewhere in the
    /// resource) is found natively; the expression, which walks the whole resource four
    /// times, decides the rest.
    Dom3(Expression),
    Path(Expression),
    /// Parsed but uses something the engine does not evaluate (reported once at load).
    Unsupported(String),
}

pub struct Constraint {
    pub key: String,
    pub error: bool,
    pub en: String,
    pub vi: Option<String>,
    pub expression: String,
    pub check: Check,
}

pub struct ElementType {
    pub code: String,
    pub profile: Option<String>,
    pub target_profiles: Vec<String>,
    /// The structure a value of this type is checked against (profile, else base type).
    pub structure: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discriminator {
    Value,
    Pattern,
    Type,
    Exists,
}

pub struct Slicing {
    pub discriminators: Vec<(Discriminator, String)>,
    pub closed: bool,
}

/// What an item must show to belong to a slice.
pub enum Expected {
    Equals(Value),
    Contains(Value),
    InValueSet(String),
    Types(Vec<String>),
    Present(bool),
    /// The slice does not constrain the discriminator path: no item can be assigned to it.
    Nothing,
}

pub struct SliceMatcher {
    pub checks: Vec<(Vec<String>, Expected)>,
}

/// Where a JSON property of an object goes.
#[derive(Debug, Clone, Copy)]
pub struct Property {
    pub child: usize,
    /// For a choice element, the index of the type the name selects.
    pub type_index: Option<usize>,
    /// `_name`: a primitive's id and extensions.
    pub shadow: bool,
}

pub struct Element {
    pub id: String,
    pub path: String,
    pub name: String,
    pub choice: bool,
    pub slice_name: Option<String>,
    pub min: u32,
    pub max: Option<u32>,
    /// Whether the JSON form is an array: the base definition's maximum is above one.
    pub array: bool,
    pub types: Vec<ElementType>,
    pub children: Vec<usize>,
    /// The children that must be present: a minimum above zero, or a required slice.
    pub required: Vec<usize>,
    pub properties: FastMap<String, Property>,
    pub slicing: Option<Slicing>,
    pub slices: Vec<usize>,
    pub matchers: Vec<SliceMatcher>,
    pub fixed: Option<Value>,
    pub pattern: Option<Value>,
    pub binding: Option<Binding>,
    pub constraints: Vec<Arc<Constraint>>,
    pub max_length: Option<usize>,
    pub content_reference: Option<usize>,
    content_reference_id: Option<String>,
}

/// The FHIR type code of an ElementDefinition.type (System.String etc. map to their FHIR type).
fn type_code(element_type: &Value) -> String {
    let code = element_type["code"].as_str().unwrap_or_default();
    for extension in element_type["extension"].as_array().into_iter().flatten() {
        if extension["url"] == FHIR_TYPE_EXTENSION {
            if let Some(url) = extension["valueUrl"]
                .as_str()
                .or(extension["valueUri"].as_str())
            {
                return url.to_string();
            }
        }
    }
    match code.strip_prefix("http://hl7.org/fhirpath/System.") {
        Some("String") => "string".into(),
        Some("Boolean") => "boolean".into(),
        Some("Integer") => "integer".into(),
        Some("Decimal") => "decimal".into(),
        Some("Date") => "date".into(),
        Some("DateTime") => "dateTime".into(),
        Some("Time") => "time".into(),
        _ => code.to_string(),
    }
}

/// The value of the first `prefix[x]` property (`fixedUri`, `patternCodeableConcept`, …).
fn choice_value(element: &Value, prefix: &str) -> Option<Value> {
    element.as_object()?.iter().find_map(|(key, value)| {
        let suffix = key.strip_prefix(prefix)?;
        fhirpath::choice_type(suffix).map(|_| value.clone())
    })
}

/// A Vietnamese translation of `human` (extension on `_human`).
fn translation(constraint: &Value, language: &str) -> Option<String> {
    constraint["_human"]["extension"]
        .as_array()?
        .iter()
        .filter(|e| e["url"] == TRANSLATION_EXTENSION)
        .find(|e| {
            e["extension"].as_array().is_some_and(|parts| {
                parts
                    .iter()
                    .any(|p| p["url"] == "lang" && p["valueCode"] == language)
            })
        })?["extension"]
        .as_array()?
        .iter()
        .find(|p| p["url"] == "content")?["valueString"]
        .as_str()
        .map(str::to_string)
}

/// Compiles constraints once per distinct (key, expression): ele-1 alone appears on every
/// element of every definition.
#[derive(Default)]
pub struct ConstraintCache {
    compiled: HashMap<(String, String), Arc<Constraint>>,
    /// Core constraints' Vietnamese texts, by key.
    pub vietnamese: HashMap<String, String>,
}

impl ConstraintCache {
    fn get(&mut self, definition: &Value) -> Option<Arc<Constraint>> {
        let key = definition["key"].as_str()?;
        let expression = definition["expression"].as_str()?;
        let cache_key = (key.to_string(), expression.to_string());
        if let Some(found) = self.compiled.get(&cache_key) {
            return Some(found.clone());
        }
        let check = if expression == ELE_1 {
            Check::Ele1
        } else if expression == EXT_1 {
            Check::Ext1
        } else {
            match Expression::compile(expression) {
                Ok(compiled) if expression == DOM_3 => Check::Dom3(compiled),
                Ok(compiled) => Check::Path(compiled),
                Err(error) => Check::Unsupported(error),
            }
        };
        let constraint = Arc::new(Constraint {
            key: key.to_string(),
            error: definition["severity"] != "warning",
            en: definition["human"].as_str().unwrap_or(key).to_string(),
            vi: translation(definition, "vi").or_else(|| self.vietnamese.get(key).cloned()),
            expression: expression.to_string(),
            check,
        });
        self.compiled.insert(cache_key, constraint.clone());
        Some(constraint)
    }

    /// Constraints the engine cannot evaluate: (key, expression, why).
    pub fn unsupported(&self) -> Vec<(&str, &str, &str)> {
        self.compiled
            .values()
            .filter_map(|c| match &c.check {
                Check::Unsupported(why) => {
                    Some((c.key.as_str(), c.expression.as_str(), why.as_str()))
                }
                _ => None,
            })
            .collect()
    }
}

impl Structure {
    /// Compiles a StructureDefinition that has a snapshot.
    pub fn compile(definition: &Value, cache: &mut ConstraintCache) -> Result<Structure, String> {
        let url = definition["url"]
            .as_str()
            .ok_or("StructureDefinition without url")?;
        let kind = match definition["kind"].as_str() {
            Some("primitive-type") => Kind::Primitive,
            Some("complex-type") => Kind::Complex,
            Some("resource") => Kind::Resource,
            Some("logical") => Kind::Logical,
            other => return Err(format!("{url}: unknown kind {other:?}")),
        };
        let snapshot = definition["snapshot"]["element"]
            .as_array()
            .filter(|e| !e.is_empty())
            .ok_or_else(|| format!("{url}: no snapshot"))?;
        let mut elements: Vec<Element> = snapshot
            .iter()
            .map(|e| Element::compile(e, cache))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{url}: {e}"))?;
        let index: HashMap<String, usize> = elements
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        for i in 1..elements.len() {
            let id = elements[i].id.clone();
            let (parent_id, last) = id
                .rsplit_once('.')
                .ok_or_else(|| format!("{url}: element {id} outside the root"))?;
            let sliced = last
                .split_once(':')
                .and_then(|(name, _)| index.get(&format!("{parent_id}.{name}")));
            match sliced {
                Some(&sliced) => elements[sliced].slices.push(i),
                // A slice whose sliced element the snapshot leaves out (R4's `catalog` profile
                // slices the single `Composition.date`) stands for that element.
                None => {
                    let parent = index
                        .get(parent_id)
                        .ok_or_else(|| format!("{url}: {id} has no parent {parent_id}"))?;
                    elements[*parent].children.push(i);
                }
            }
            if let Some(target) = elements[i].content_reference_id.take() {
                elements[i].content_reference = Some(
                    *index
                        .get(&target)
                        .ok_or_else(|| format!("{url}: contentReference #{target} not found"))?,
                );
            }
        }
        let mut structure = Structure {
            url: url.to_string(),
            type_name: definition["type"].as_str().unwrap_or_default().to_string(),
            kind,
            elements,
        };
        for i in 0..structure.elements.len() {
            structure.elements[i].properties = structure.properties(i);
            let elements = &structure.elements;
            let required = elements[i]
                .children
                .iter()
                .copied()
                .filter(|&c| {
                    elements[c].min > 0 || elements[c].slices.iter().any(|&s| elements[s].min > 0)
                })
                .collect();
            structure.elements[i].required = required;
        }
        Ok(structure)
    }

    /// JSON property name → child, for the children of element `i`.
    fn properties(&self, i: usize) -> FastMap<String, Property> {
        let element = &self.elements[i];
        let mut properties = FastMap::default();
        for &child in &element.children {
            let c = &self.elements[child];
            if c.choice {
                for (type_index, t) in c.types.iter().enumerate() {
                    let name = format!("{}{}", c.name, capitalize(&t.code));
                    properties.insert(
                        format!("_{name}"),
                        Property {
                            child,
                            type_index: Some(type_index),
                            shadow: true,
                        },
                    );
                    properties.insert(
                        name,
                        Property {
                            child,
                            type_index: Some(type_index),
                            shadow: false,
                        },
                    );
                }
            } else {
                properties.insert(
                    format!("_{}", c.name),
                    Property {
                        child,
                        type_index: None,
                        shadow: true,
                    },
                );
                properties.insert(
                    c.name.clone(),
                    Property {
                        child,
                        type_index: None,
                        shadow: false,
                    },
                );
            }
        }
        properties
    }

    /// The element at `path` (names separated by dots) below element `from`.
    pub fn descendant(&self, from: usize, path: &[String]) -> Option<usize> {
        path.iter().try_fold(from, |at, name| {
            self.elements[at]
                .children
                .iter()
                .copied()
                .find(|&c| self.elements[c].name == *name)
        })
    }
}

/// `dateTime` → `DateTime`: the suffix of a choice element's JSON name.
pub fn capitalize(code: &str) -> String {
    let mut chars = code.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl Element {
    fn compile(definition: &Value, cache: &mut ConstraintCache) -> Result<Element, String> {
        let path = definition["path"].as_str().ok_or("element without path")?;
        let id = definition["id"].as_str().unwrap_or(path);
        let last = path.rsplit('.').next().unwrap_or(path);
        let (name, choice) = match last.strip_suffix("[x]") {
            Some(name) => (name, true),
            None => (last, false),
        };
        let max = match definition["max"].as_str() {
            None | Some("*") => None,
            Some(n) => Some(n.parse().map_err(|_| format!("{id}: max {n}"))?),
        };
        let base_max = definition["base"]["max"]
            .as_str()
            .or(definition["max"].as_str())
            .unwrap_or("*");
        // R4 types Resource.id as System.String; the specification's type is `id`.
        let resource_id = definition["base"]["path"] == "Resource.id";
        let types = definition["type"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| ElementType {
                code: if resource_id {
                    "id".to_string()
                } else {
                    type_code(t)
                },
                profile: t["profile"][0].as_str().map(str::to_string),
                target_profiles: t["targetProfile"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect(),
                structure: None,
            })
            .collect();
        let binding = match (
            definition["binding"]["strength"].as_str(),
            definition["binding"]["valueSet"].as_str(),
        ) {
            (Some("required"), Some(vs)) => Some((Strength::Required, vs)),
            (Some("extensible"), Some(vs)) => Some((Strength::Extensible, vs)),
            _ => None,
        }
        .map(|(strength, vs)| Binding {
            strength,
            value_set: vs.split('|').next().unwrap_or(vs).to_string(),
        });
        let slicing = definition.get("slicing").map(|s| Slicing {
            discriminators: s["discriminator"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| {
                    let kind = match d["type"].as_str()? {
                        "value" => Discriminator::Value,
                        "pattern" => Discriminator::Pattern,
                        "type" => Discriminator::Type,
                        "exists" => Discriminator::Exists,
                        _ => return None,
                    };
                    Some((kind, d["path"].as_str()?.to_string()))
                })
                .collect(),
            closed: s["rules"] == "closed",
        });
        Ok(Element {
            id: id.to_string(),
            path: path.to_string(),
            name: name.to_string(),
            choice,
            slice_name: definition["sliceName"].as_str().map(str::to_string),
            min: definition["min"].as_u64().unwrap_or(0) as u32,
            max,
            array: base_max != "1" && base_max != "0",
            types,
            children: Vec::new(),
            required: Vec::new(),
            properties: FastMap::default(),
            slicing,
            slices: Vec::new(),
            matchers: Vec::new(),
            fixed: choice_value(definition, "fixed"),
            pattern: choice_value(definition, "pattern"),
            binding,
            constraints: definition["constraint"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| cache.get(c))
                .collect(),
            max_length: definition["maxLength"].as_u64().map(|n| n as usize),
            content_reference: None,
            content_reference_id: definition["contentReference"]
                .as_str()
                .and_then(|r| r.strip_prefix('#'))
                .map(str::to_string),
        })
    }

    /// The type a value takes: the one its JSON name selects, or the only one.
    pub fn value_type(&self, type_index: Option<usize>) -> Option<&ElementType> {
        match type_index {
            Some(i) => self.types.get(i),
            None => self.types.first(),
        }
    }

    pub fn max_text(&self) -> String {
        self.max.map_or("*".to_string(), |m| m.to_string())
    }
}
