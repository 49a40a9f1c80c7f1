//! Validation of resources against StructureDefinitions: HL7's base R4 definitions and the VN
//! Core profiles (`fhir-profiles/`).
//!
//! The rules are data. Every check comes from a snapshot element: cardinality, types
//! (choice types by their JSON name), the R4 regex of each primitive type, fixed and pattern
//! values, bindings against the local terminology (required: error, extensible: warning),
//! slicing (value, pattern, type and exists discriminators; extensions by url), unknown
//! elements, and the invariants, in FHIRPath ([`fhirpath`]). [`Validator::load`] compiles
//! everything once; [`Validator::validate`] then walks the JSON by reference.
//!
//! - [`definitions`]: the embedded R4 and VN conformance resources.
//! - [`snapshot`]: snapshot generation from a differential; [`generate`] builds the VN
//!   package from `fhir-profiles/vn/source/` and the BHYT code lists.
//! - [`structure`]: a snapshot compiled for validation.
//! - [`terminology`]: local CodeSystems and expanded ValueSets.
//! - `instance`: the walk over a resource.
//! - [`cli`] and [`conformance`]: `vnfhir validate` and `vnfhir conformance`.

pub mod cli;
pub mod conformance;
pub mod definitions;
pub mod fhirpath;
pub mod generate;
mod instance;
mod lexical;
pub mod snapshot;
pub mod structure;
pub mod terminology;

use std::collections::HashMap;

use regex::Regex;
use serde_json::Value;

use crate::fhir::outcome::Issue;
use structure::{ConstraintCache, Discriminator, Expected, FastMap, Kind, SliceMatcher, Structure};
use terminology::Terminology;

const FHIR_BASE: &str = "http://hl7.org/fhir/StructureDefinition/";
const REGEX_EXTENSION: &str = "http://hl7.org/fhir/StructureDefinition/regex";

/// One finding: the OperationOutcome issue and the rule it applies, an invariant key
/// (`vn-cccd-1`, `per-1`) or an engine rule (`min`, `max`, `unknown-element`, `type`,
/// `json-type`, `array`, `format`, `max-length`, `fixed`, `pattern`, `binding`,
/// `unknown-code`, `closed-slicing`, `reference-target`, `unknown-extension`, `profile`,
/// `resource-type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: String,
    pub issue: Issue,
}

/// What the JSON form of a primitive type must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonKind {
    String,
    Number,
    Boolean,
}

/// The checks of one primitive type, from its StructureDefinition.
struct Primitive {
    json: JsonKind,
    regex: Option<Regex>,
    /// The regex by hand ([`lexical`]), used in its place.
    lexical: Option<fn(&str) -> bool>,
    max_length: Option<usize>,
}

impl Primitive {
    fn matches(&self, text: &str) -> bool {
        match (self.lexical, &self.regex) {
            (Some(check), _) => check(text),
            (None, Some(regex)) => regex.is_match(text),
            (None, None) => true,
        }
    }
}

pub struct Validator {
    canonical_base: String,
    structures: Vec<Structure>,
    by_url: FastMap<String, usize>,
    terminology: Terminology,
    primitives: FastMap<String, Primitive>,
    conformance: Vec<Value>,
    by_id: HashMap<(String, String), usize>,
    by_canonical: HashMap<(String, String), Vec<usize>>,
    vn_profiles: HashMap<String, String>,
    unsupported: Vec<String>,
}

impl Validator {
    /// Loads and compiles the R4 definitions and the VN Core package, with the VN canonical
    /// URLs under `canonical_base` (`https://fhir.vnfhir.org` as authored).
    pub fn load(canonical_base: &str) -> Result<Validator, String> {
        let mut resources = definitions::r4()?;
        let vn_start = resources.len();
        resources.extend(definitions::vn_package(canonical_base)?);
        let mut validator = Validator::from_resources(resources)?;
        validator.canonical_base = canonical_base.trim_end_matches('/').to_string();
        let vn_profiles: Vec<(String, String)> = validator.conformance[vn_start..]
            .iter()
            .filter(|r| r["resourceType"] == "StructureDefinition" && r["kind"] == "resource")
            .filter_map(|r| {
                Some((
                    r["type"].as_str()?.to_string(),
                    r["url"].as_str()?.to_string(),
                ))
            })
            .collect();
        validator.vn_profiles.extend(vn_profiles);
        Ok(validator)
    }

    /// A validator over any set of conformance resources (StructureDefinitions with
    /// snapshots, CodeSystems, ValueSets, NamingSystems).
    pub fn from_resources(resources: Vec<Value>) -> Result<Validator, String> {
        let mut cache = ConstraintCache::default();
        if let Value::Object(texts) = definitions::core_constraints_vi()? {
            cache.vietnamese = texts
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
                .collect();
        }
        let mut validator = Validator {
            canonical_base: definitions::AUTHORED_BASE.to_string(),
            structures: Vec::new(),
            by_url: FastMap::default(),
            terminology: Terminology::load(resources.iter()),
            primitives: FastMap::default(),
            conformance: Vec::new(),
            by_id: HashMap::new(),
            by_canonical: HashMap::new(),
            vn_profiles: HashMap::new(),
            unsupported: Vec::new(),
        };
        for resource in &resources {
            if resource["resourceType"] != "StructureDefinition" {
                continue;
            }
            let structure = Structure::compile(resource, &mut cache)?;
            if structure.kind == Kind::Primitive {
                validator
                    .primitives
                    .insert(structure.type_name.clone(), primitive(resource)?);
            }
            validator
                .by_url
                .insert(structure.url.clone(), validator.structures.len());
            validator.structures.push(structure);
        }
        validator.link();
        validator.unsupported = cache
            .unsupported()
            .into_iter()
            .map(|(key, expression, why)| format!("{key}: {expression} ({why})"))
            .collect();
        for resource in resources {
            let resource_type = resource["resourceType"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let at = validator.conformance.len();
            if let Some(id) = resource["id"].as_str() {
                validator
                    .by_id
                    .insert((resource_type.clone(), id.to_string()), at);
            }
            if let Some(url) = resource["url"].as_str() {
                validator
                    .by_canonical
                    .entry((resource_type, url.to_string()))
                    .or_default()
                    .push(at);
            }
            validator.conformance.push(resource);
        }
        Ok(validator)
    }

    /// Resolves each element type to the structure its values are checked against, and
    /// builds the slice matchers (which may look into other structures).
    fn link(&mut self) {
        let by_url = &self.by_url;
        for structure in &mut self.structures {
            for element in &mut structure.elements {
                for element_type in &mut element.types {
                    element_type.structure = element_type
                        .profile
                        .as_deref()
                        .and_then(|p| by_url.get(p))
                        .or_else(|| by_url.get(&format!("{FHIR_BASE}{}", element_type.code)))
                        .copied();
                }
            }
        }
        for s in 0..self.structures.len() {
            for e in 0..self.structures[s].elements.len() {
                let matchers = self.matchers(s, e);
                self.structures[s].elements[e].matchers = matchers;
            }
        }
    }

    fn matchers(&self, s: usize, e: usize) -> Vec<SliceMatcher> {
        let element = &self.structures[s].elements[e];
        let Some(slicing) = &element.slicing else {
            return Vec::new();
        };
        element
            .slices
            .iter()
            .map(|&slice| SliceMatcher {
                checks: slicing
                    .discriminators
                    .iter()
                    .map(|(kind, path)| {
                        let segments: Vec<String> = match path.as_str() {
                            "$this" => Vec::new(),
                            path => path.split('.').map(str::to_string).collect(),
                        };
                        let expected = self.expected(s, slice, *kind, &segments);
                        (segments, expected)
                    })
                    .collect(),
            })
            .collect()
    }

    /// What a slice fixes at a discriminator path.
    fn expected(&self, s: usize, slice: usize, kind: Discriminator, path: &[String]) -> Expected {
        let Some((ts, te)) = self.element_at(s, slice, path) else {
            return Expected::Nothing;
        };
        let target = &self.structures[ts].elements[te];
        match kind {
            Discriminator::Exists => Expected::Present(target.min > 0),
            Discriminator::Type => {
                Expected::Types(target.types.iter().map(|t| t.code.clone()).collect())
            }
            Discriminator::Value | Discriminator::Pattern => {
                if let Some(fixed) = &target.fixed {
                    Expected::Equals(fixed.clone())
                } else if let Some(pattern) = &target.pattern {
                    Expected::Contains(pattern.clone())
                } else if let Some(binding) = target
                    .binding
                    .as_ref()
                    .filter(|b| b.strength == structure::Strength::Required)
                {
                    Expected::InValueSet(binding.value_set.clone())
                } else {
                    Expected::Nothing
                }
            }
        }
    }

    /// The element at `path` below element `e` of structure `s`, following into the type's
    /// (or type profile's) structure where the snapshot does not list the children.
    fn element_at(&self, s: usize, e: usize, path: &[String]) -> Option<(usize, usize)> {
        let Some((first, rest)) = path.split_first() else {
            return Some((s, e));
        };
        let element = &self.structures[s].elements[e];
        if element.children.is_empty() {
            let ts = element.types.first()?.structure?;
            return self.element_at(ts, 0, path);
        }
        let child = self.structures[s].descendant(e, std::slice::from_ref(first))?;
        self.element_at(s, child, rest)
    }

    /// Validates an already JSON-parsed resource against its base R4 definition and the given
    /// profile canonical URLs (plus those in meta.profile). Unknown profile URL → an error issue.
    pub fn validate(&self, resource: &Value, profiles: &[&str]) -> Vec<Issue> {
        self.findings(resource, profiles)
            .into_iter()
            .map(|f| f.issue)
            .collect()
    }

    /// [`Validator::validate`] with the rule of each issue.
    pub fn findings(&self, resource: &Value, profiles: &[&str]) -> Vec<Finding> {
        let mut findings = Vec::new();
        let Some(resource_type) = resource["resourceType"].as_str() else {
            findings.push(finding(
                Issue::error(
                    "structure",
                    "Tài nguyên không có resourceType",
                    "The resource has no resourceType",
                ),
                "resource-type",
            ));
            return findings;
        };
        let Some(base) = self.base_structure(resource_type) else {
            findings.push(finding(
                Issue::error(
                    "not-supported",
                    format!("Không có định nghĩa cho loại tài nguyên {resource_type}"),
                    format!("There is no definition for resource type {resource_type}"),
                )
                .at(resource_type),
                "resource-type",
            ));
            return findings;
        };
        let declared = resource["meta"]["profile"].as_array().into_iter().flatten();
        let mut wanted: Vec<(&str, Option<String>)> = profiles.iter().map(|p| (*p, None)).collect();
        for (i, profile) in declared.enumerate() {
            if let Some(url) = profile.as_str() {
                wanted.push((url, Some(format!("{resource_type}.meta.profile[{i}]"))));
            }
        }
        let mut targets = Vec::new();
        for (url, at) in wanted {
            let canonical = url.split('|').next().unwrap_or(url);
            match self.by_url.get(canonical) {
                Some(&s) if self.structures[s].type_name == resource_type => {
                    if !targets.contains(&s) {
                        targets.push(s);
                    }
                }
                Some(&s) => {
                    let other = &self.structures[s].type_name;
                    let issue = Issue::error(
                        "invalid",
                        format!(
                            "Hồ sơ {url} dành cho {other}, không áp dụng được cho {resource_type}"
                        ),
                        format!("Profile {url} is for {other}, not for {resource_type}"),
                    );
                    findings.push(finding(with_expression(issue, at), "profile"));
                }
                None => {
                    let issue = Issue::error(
                        "not-found",
                        format!("Không biết hồ sơ (profile) {url}"),
                        format!("Unknown profile {url}"),
                    );
                    findings.push(finding(with_expression(issue, at), "profile"));
                }
            }
        }
        if targets.is_empty() {
            targets.push(base);
        }
        for target in targets {
            for found in instance::validate(self, target, resource) {
                if !findings.contains(&found) {
                    findings.push(found);
                }
            }
        }
        findings
    }

    /// The VN Core profile URL for a resource type.
    pub fn vn_profile(&self, resource_type: &str) -> Option<&str> {
        self.vn_profiles.get(resource_type).map(String::as_str)
    }

    /// Conformance resources it holds (StructureDefinition, ValueSet, CodeSystem, NamingSystem).
    pub fn conformance_resource(&self, resource_type: &str, id: &str) -> Option<&Value> {
        self.by_id
            .get(&(resource_type.to_string(), id.to_string()))
            .map(|&i| &self.conformance[i])
    }

    pub fn conformance_by_url(&self, resource_type: &str, url: &str) -> Vec<&Value> {
        self.by_canonical
            .get(&(resource_type.to_string(), url.to_string()))
            .into_iter()
            .flatten()
            .map(|&i| &self.conformance[i])
            .collect()
    }

    /// Every conformance resource of one type, in load order.
    pub fn conformance_resources<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.conformance
            .iter()
            .filter(move |r| r["resourceType"] == resource_type)
    }

    pub fn canonical_base(&self) -> &str {
        &self.canonical_base
    }

    /// Invariants that the engine cannot evaluate, as `key: expression (why)`.
    pub fn unsupported_constraints(&self) -> &[String] {
        &self.unsupported
    }

    fn base_structure(&self, type_name: &str) -> Option<usize> {
        self.by_url
            .get(&format!("{FHIR_BASE}{type_name}"))
            .copied()
            .filter(|&s| self.structures[s].kind == Kind::Resource)
    }

    /// An extension's definition, by its url.
    fn extension(&self, url: &str) -> Option<usize> {
        self.by_url
            .get(url)
            .copied()
            .filter(|&s| self.structures[s].type_name == "Extension")
    }
}

fn finding(issue: Issue, rule: &str) -> Finding {
    Finding {
        rule: rule.to_string(),
        issue,
    }
}

fn with_expression(issue: Issue, at: Option<String>) -> Issue {
    match at {
        Some(at) => issue.at(at),
        None => issue,
    }
}

/// JSON kind, regex and length limit of a primitive type's StructureDefinition.
fn primitive(definition: &Value) -> Result<Primitive, String> {
    let type_name = definition["type"].as_str().unwrap_or_default();
    let value_element = definition["snapshot"]["element"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["path"].as_str() == Some(&format!("{type_name}.value")));
    let pattern = value_element
        .and_then(|e| e["type"][0]["extension"].as_array())
        .into_iter()
        .flatten()
        .find(|e| e["url"] == REGEX_EXTENSION)
        .and_then(|e| e["valueString"].as_str());
    let regex = pattern
        .map(|pattern| {
            Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("{type_name}: {e}"))
        })
        .transpose()?;
    Ok(Primitive {
        json: match type_name {
            "boolean" => JsonKind::Boolean,
            "integer" | "positiveInt" | "unsignedInt" | "decimal" => JsonKind::Number,
            _ => JsonKind::String,
        },
        regex,
        lexical: pattern.and_then(|pattern| lexical::check(type_name, pattern)),
        max_length: value_element
            .and_then(|e| e["maxLength"].as_u64())
            .map(|n| n as usize),
    })
}
