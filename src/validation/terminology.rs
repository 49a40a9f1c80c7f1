//! Local terminology: CodeSystems and ValueSets held in memory, value sets expanded once at
//! load into per-system code sets.
//!
//! A check answers `Some(true/false)` when the local definitions decide it and `None` when they
//! cannot: a system we do not hold (SNOMED CT, UCUM, BCP-47, …), a CodeSystem that is only a
//! fragment (our nationality list has only `000`), or a filter we do not evaluate. Callers skip
//! what cannot be decided rather than guess.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::fhirpath;
use super::structure::{FastMap, FastSet};

struct CodeSystem {
    complete: bool,
    /// code → its parent codes (from the nesting of `concept`).
    parents: FastMap<String, Vec<String>>,
}

impl CodeSystem {
    fn from_json(resource: &Value) -> CodeSystem {
        fn collect(concepts: &Value, parent: Option<&str>, out: &mut FastMap<String, Vec<String>>) {
            for concept in concepts.as_array().into_iter().flatten() {
                let Some(code) = concept["code"].as_str() else {
                    continue;
                };
                let parents = out.entry(code.to_string()).or_default();
                parents.extend(parent.map(str::to_string));
                collect(&concept["concept"], Some(code), out);
            }
        }
        let mut parents = FastMap::default();
        collect(&resource["concept"], None, &mut parents);
        CodeSystem {
            complete: resource["content"] == "complete",
            parents,
        }
    }

    /// Whether `code` is `ancestor` or below it.
    fn is_a(&self, code: &str, ancestor: &str) -> bool {
        let mut pending = vec![code];
        let mut seen = HashSet::new();
        while let Some(current) = pending.pop() {
            if current == ancestor {
                return true;
            }
            if seen.insert(current) {
                if let Some(parents) = self.parents.get(current) {
                    pending.extend(parents.iter().map(String::as_str));
                }
            }
        }
        false
    }
}

/// The codes a value set takes from one system.
#[derive(Debug, Clone)]
enum Members {
    Codes(FastSet<String>),
    /// Codes we cannot enumerate here.
    Unchecked,
}

#[derive(Debug, Default)]
struct ValueSet {
    title: String,
    systems: FastMap<String, Members>,
}

impl ValueSet {
    /// Adds codes of `system`; anything unchecked about a system makes all of it unchecked.
    fn add(&mut self, system: String, members: Members) {
        match (self.systems.get_mut(&system), members) {
            (None, members) => {
                self.systems.insert(system, members);
            }
            (Some(Members::Codes(codes)), Members::Codes(more)) => codes.extend(more),
            (Some(existing), _) => *existing = Members::Unchecked,
        }
    }
}

#[derive(Default)]
pub struct Terminology {
    code_systems: FastMap<String, CodeSystem>,
    value_sets: FastMap<String, ValueSet>,
}

impl Terminology {
    /// Loads the CodeSystems first, then expands every ValueSet.
    pub fn load<'a>(resources: impl IntoIterator<Item = &'a Value> + Clone) -> Terminology {
        let mut terminology = Terminology::default();
        for resource in resources.clone() {
            if resource["resourceType"] == "CodeSystem" {
                if let Some(url) = resource["url"].as_str() {
                    terminology
                        .code_systems
                        .insert(url.to_string(), CodeSystem::from_json(resource));
                }
            }
        }
        let definitions: HashMap<&str, &Value> = resources
            .into_iter()
            .filter(|r| r["resourceType"] == "ValueSet")
            .filter_map(|r| Some((r["url"].as_str()?, r)))
            .collect();
        for url in definitions.keys() {
            let expanded = terminology.expand(url, &definitions, &mut Vec::new());
            terminology.value_sets.insert(url.to_string(), expanded);
        }
        terminology
    }

    fn expand(
        &self,
        url: &str,
        definitions: &HashMap<&str, &Value>,
        stack: &mut Vec<String>,
    ) -> ValueSet {
        let Some(definition) = definitions.get(url) else {
            return ValueSet::default();
        };
        let mut value_set = ValueSet {
            title: definition["title"]
                .as_str()
                .or(definition["name"].as_str())
                .unwrap_or(url)
                .to_string(),
            systems: FastMap::default(),
        };
        stack.push(url.to_string());
        for include in definition["compose"]["include"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for nested in include["valueSet"].as_array().into_iter().flatten() {
                let Some(nested) = nested.as_str() else {
                    continue;
                };
                if stack.iter().any(|s| s == nested) {
                    continue;
                }
                let members = self.expand(nested, definitions, stack);
                for (system, codes) in members.systems {
                    value_set.add(system, codes);
                }
            }
            if let Some(system) = include["system"].as_str() {
                let members = self.include(system, include);
                value_set.add(system.to_string(), members);
            }
        }
        for exclude in definition["compose"]["exclude"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(system) = exclude["system"].as_str() else {
                continue;
            };
            if let Some(Members::Codes(codes)) = value_set.systems.get_mut(system) {
                for concept in exclude["concept"].as_array().into_iter().flatten() {
                    if let Some(code) = concept["code"].as_str() {
                        codes.remove(code);
                    }
                }
            }
        }
        stack.pop();
        value_set
    }

    /// The codes one `compose.include` takes from `system`.
    fn include(&self, system: &str, include: &Value) -> Members {
        if let Some(concepts) = include["concept"].as_array() {
            return Members::Codes(
                concepts
                    .iter()
                    .filter_map(|c| c["code"].as_str().map(str::to_string))
                    .collect(),
            );
        }
        let Some(code_system) = self.code_systems.get(system).filter(|cs| cs.complete) else {
            return Members::Unchecked;
        };
        let mut codes: FastSet<String> = code_system.parents.keys().cloned().collect();
        for filter in include["filter"].as_array().into_iter().flatten() {
            let value = filter["value"].as_str().unwrap_or_default();
            let keep: Box<dyn Fn(&str) -> bool> =
                match (filter["property"].as_str(), filter["op"].as_str()) {
                    (Some("concept"), Some("is-a")) => Box::new(|c| code_system.is_a(c, value)),
                    (Some("concept"), Some("descendent-of")) => {
                        Box::new(|c| c != value && code_system.is_a(c, value))
                    }
                    (Some("concept"), Some("is-not-a")) => {
                        Box::new(|c| !code_system.is_a(c, value))
                    }
                    _ => return Members::Unchecked,
                };
            codes.retain(|c| keep(c));
        }
        Members::Codes(codes)
    }

    pub fn has_value_set(&self, url: &str) -> bool {
        self.value_sets.contains_key(url)
    }

    pub fn value_set_title<'a>(&'a self, url: &'a str) -> &'a str {
        self.value_sets.get(url).map_or(url, |vs| vs.title.as_str())
    }

    /// Whether (`system`, `code`) is in the value set. Without a system (a `code` element),
    /// any system of the value set will do.
    pub fn contains(&self, value_set: &str, system: Option<&str>, code: &str) -> Option<bool> {
        let value_set = self.value_sets.get(value_set)?;
        match system {
            Some(system) => match value_set.systems.get(system) {
                None => Some(false),
                Some(Members::Unchecked) => None,
                Some(Members::Codes(codes)) => Some(codes.contains(code)),
            },
            None => {
                let mut unknown = false;
                for members in value_set.systems.values() {
                    match members {
                        Members::Codes(codes) if codes.contains(code) => return Some(true),
                        Members::Codes(_) => {}
                        Members::Unchecked => unknown = true,
                    }
                }
                (!unknown).then_some(false)
            }
        }
    }

    /// Whether a complete local CodeSystem defines `code` (`None`: not decidable here).
    pub fn code_known(&self, system: &str, code: &str) -> Option<bool> {
        let code_system = self.code_systems.get(system).filter(|cs| cs.complete)?;
        Some(code_system.parents.contains_key(code))
    }
}

impl fhirpath::Terminology for Terminology {
    fn member_of(&self, value_set: &str, system: Option<&str>, code: &str) -> Option<bool> {
        self.contains(value_set, system, code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Terminology {
        let resources = [
            json!({"resourceType": "CodeSystem", "url": "cs-act", "content": "complete", "concept": [
                {"code": "_Enc", "concept": [{"code": "AMB"}, {"code": "IMP", "concept": [{"code": "ACUTE"}]}]},
                {"code": "OTHER"}
            ]}),
            json!({"resourceType": "CodeSystem", "url": "cs-frag", "content": "fragment", "concept": [{"code": "000"}]}),
            json!({"resourceType": "ValueSet", "url": "vs-enc", "title": "Encounter classes", "compose": {
                "include": [{"system": "cs-act", "filter": [{"property": "concept", "op": "is-a", "value": "_Enc"}]}],
                "exclude": [{"system": "cs-act", "concept": [{"code": "_Enc"}]}]}}),
            json!({"resourceType": "ValueSet", "url": "vs-nation", "compose": {"include": [{"system": "cs-frag"}]}}),
            json!({"resourceType": "ValueSet", "url": "vs-both", "compose": {
                "include": [{"valueSet": ["vs-enc"]}, {"system": "http://snomed.info/sct"}]}}),
        ];
        Terminology::load(resources.iter())
    }

    #[test]
    fn is_a_filters_follow_the_hierarchy_and_excludes_apply() {
        let t = sample();
        assert_eq!(t.contains("vs-enc", Some("cs-act"), "AMB"), Some(true));
        assert_eq!(t.contains("vs-enc", Some("cs-act"), "ACUTE"), Some(true));
        assert_eq!(t.contains("vs-enc", Some("cs-act"), "_Enc"), Some(false));
        assert_eq!(t.contains("vs-enc", Some("cs-act"), "OTHER"), Some(false));
        assert_eq!(
            t.contains("vs-enc", Some("other-system"), "AMB"),
            Some(false)
        );
        assert_eq!(t.contains("vs-enc", None, "IMP"), Some(true));
        assert_eq!(t.value_set_title("vs-enc"), "Encounter classes");
    }

    #[test]
    fn what_cannot_be_decided_is_none() {
        let t = sample();
        assert_eq!(t.contains("vs-nation", Some("cs-frag"), "000"), None);
        assert_eq!(
            t.contains("vs-both", Some("http://snomed.info/sct"), "6142004"),
            None
        );
        assert_eq!(t.contains("vs-both", Some("cs-act"), "AMB"), Some(true));
        assert_eq!(t.contains("vs-missing", Some("cs-act"), "AMB"), None);
        assert_eq!(t.code_known("cs-act", "ACUTE"), Some(true));
        assert_eq!(t.code_known("cs-act", "NOPE"), Some(false));
        assert_eq!(t.code_known("cs-frag", "704"), None);
    }
}
