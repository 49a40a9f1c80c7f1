//! The search parameter registry: every official R4 SearchParameter of the stored types
//! (from HL7's package, vendored in `fhir-profiles/r4/search-parameters.json`), joined with
//! where the projection indexes it.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::params::{ParamType, SearchParam, COMMON};
use crate::store::projection::{Projection, PROJECTIONS};

const DEFINITIONS: &str = include_str!("../../fhir-profiles/r4/search-parameters.json");

/// One official parameter definition for one resource type.
#[derive(Debug, Clone)]
pub struct Definition {
    pub code: String,
    pub url: String,
    pub kind: String,
    pub description: String,
    /// Resource types a reference parameter may point to.
    pub targets: Vec<String>,
    /// Where it is indexed; `None` when the server cannot search it.
    pub supported: Option<SearchParam>,
}

pub struct Registry {
    by_type: HashMap<&'static str, Vec<Definition>>,
}

fn load() -> Registry {
    let bundle: Value = serde_json::from_str(DEFINITIONS).expect("vendored search parameters");
    let definitions: Vec<&Value> = bundle["entry"]
        .as_array()
        .map(|entries| entries.iter().map(|e| &e["resource"]).collect())
        .unwrap_or_default();
    let mut by_type = HashMap::new();
    for projection in PROJECTIONS {
        let resource_type = projection.resource_type();
        let list = definitions
            .iter()
            .filter(|d| {
                d["base"].as_array().is_some_and(|bases| {
                    bases
                        .iter()
                        .any(|b| b == resource_type || b == "Resource" || b == "DomainResource")
                })
            })
            .map(|d| definition(*projection, d))
            .collect();
        by_type.insert(resource_type, list);
    }
    Registry { by_type }
}

fn definition(projection: &dyn Projection, d: &Value) -> Definition {
    let code = d["code"].as_str().unwrap_or_default().to_string();
    let kind = d["type"].as_str().unwrap_or_default().to_string();
    let supported = COMMON
        .iter()
        .chain(projection.search_params())
        .find(|p| p.code == code && ParamType::parse(&kind) == Some(p.kind))
        .copied();
    Definition {
        url: d["url"].as_str().unwrap_or_default().to_string(),
        description: d["description"].as_str().unwrap_or_default().to_string(),
        targets: d["target"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        code,
        kind,
        supported,
    }
}

pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(load)
}

impl Registry {
    /// All official parameters of `resource_type`, supported or not.
    pub fn definitions(&self, resource_type: &str) -> &[Definition] {
        self.by_type.get(resource_type).map_or(&[], Vec::as_slice)
    }

    pub fn find(&self, resource_type: &str, code: &str) -> Option<&Definition> {
        self.definitions(resource_type)
            .iter()
            .find(|d| d.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binding_matches_an_official_definition() {
        for projection in PROJECTIONS {
            for param in COMMON.iter().chain(projection.search_params()) {
                let definition = registry()
                    .find(projection.resource_type(), param.code)
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: {} is not an R4 parameter",
                            projection.resource_type(),
                            param.code
                        )
                    });
                assert_eq!(
                    definition.supported,
                    Some(*param),
                    "{} {}",
                    projection.resource_type(),
                    param.code
                );
            }
        }
    }

    #[test]
    fn holds_the_whole_official_set() {
        let patient: Vec<&str> = registry()
            .definitions("Patient")
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        for code in [
            "name",
            "birthdate",
            "identifier",
            "_id",
            "_lastUpdated",
            "_content",
            "link",
        ] {
            assert!(patient.contains(&code), "{code}");
        }
        let subject = registry().find("Encounter", "subject").unwrap();
        assert!(subject.targets.contains(&"Patient".to_string()));
        assert!(registry()
            .find("Patient", "_text")
            .unwrap()
            .supported
            .is_none());
    }
}
