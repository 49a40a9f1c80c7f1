//! Builds the VN Core package, `fhir-profiles/vn/vn-core.json`, from its sources:
//!
//! - `fhir-profiles/vn/source/code-systems.json` names each BHYT code list of
//!   `src/bhyt/regulation/codes/` to publish; each becomes a CodeSystem (Vietnamese display,
//!   English designation) and a ValueSet of all its codes;
//! - every other file in `fhir-profiles/vn/source/` is a conformance resource; a
//!   StructureDefinition there has only a differential, and gets its snapshot here.
//!
//! `vnfhir conformance build` writes the package; a test checks that the committed file is
//! what the sources generate, so no snapshot is ever typed by hand.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::definitions::{self, AUTHORED_BASE};
use super::snapshot::{self, Definitions};
use crate::bhyt::spec::parse_csv;

pub const PACKAGE_PATH: &str = "fhir-profiles/vn/vn-core.json";
const SOURCE_DIR: &str = "fhir-profiles/vn/source";
const CODES_DIR: &str = "src/bhyt/regulation/codes";
const CODE_SYSTEM_LIST: &str = "code-systems.json";
const VERSION: &str = "0.1.0";

struct ByUrl(HashMap<String, Value>);

impl Definitions for ByUrl {
    fn structure_definition(&self, url: &str) -> Option<&Value> {
        self.0.get(url)
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `ma-loai-kcb` → `MaLoaiKcb` (a computable `name`).
fn pascal_case(id: &str) -> String {
    id.split('-').map(super::structure::capitalize).collect()
}

/// The CodeSystem and ValueSet of one BHYT code list.
fn code_list(root: &Path, entry: &Value) -> Result<[Value; 2], String> {
    let field = |name: &str| {
        entry[name]
            .as_str()
            .ok_or_else(|| format!("{CODE_SYSTEM_LIST}: entry without {name}: {entry}"))
    };
    let (csv, id, title, description) = (
        field("csv")?,
        field("id")?,
        field("title")?,
        field("description")?,
    );
    let path = root.join(CODES_DIR).join(format!("{csv}.csv"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rows = parse_csv(&text);
    let concepts: Vec<Value> = rows
        .iter()
        .skip(1)
        .map(|row| {
            let mut concept =
                json!({"code": row[0], "display": row.get(1).copied().unwrap_or(row[0])});
            if let Some(english) = row.get(2).filter(|e| !e.is_empty()) {
                concept["designation"] = json!([{"language": "en", "value": english}]);
            }
            concept
        })
        .collect();
    let system = format!("{AUTHORED_BASE}/CodeSystem/{id}");
    let value_set = format!("{AUTHORED_BASE}/ValueSet/{id}");
    // The metadata both resources share; then each one's own properties, in FHIR's order.
    let described = |resource_type: &str, url: &str, description: String, rest: Value| {
        let mut resource = json!({
            "resourceType": resource_type,
            "id": id,
            "url": url,
            "version": VERSION,
            "name": pascal_case(id),
            "title": title,
            "status": "active",
            "experimental": false,
            "publisher": "vnfhir",
            "description": description,
        });
        if let (Some(resource), Value::Object(rest)) = (resource.as_object_mut(), rest) {
            resource.extend(rest);
        }
        resource
    };
    let code_system = described(
        "CodeSystem",
        &system,
        format!("{description} Nguồn / source: src/bhyt/regulation/codes/{csv}.csv."),
        json!({
            "language": "vi",
            "caseSensitive": true,
            "valueSet": value_set,
            "content": entry["content"].as_str().unwrap_or("complete"),
            "count": concepts.len(),
            "concept": concepts,
        }),
    );
    let value_set = described(
        "ValueSet",
        &value_set,
        format!("Mọi mã của / all codes of {title}."),
        json!({"compose": {"include": [{"system": system}]}}),
    );
    Ok([code_system, value_set])
}

/// The package's resources, in order: code lists, other sources, StructureDefinitions
/// (extensions first) with their snapshots.
pub fn package(root: &Path) -> Result<Vec<Value>, String> {
    let source = root.join(SOURCE_DIR);
    let mut resources = Vec::new();
    let list = read_json(&source.join(CODE_SYSTEM_LIST))?;
    for entry in list.as_array().ok_or("code-systems.json is not a list")? {
        resources.extend(code_list(root, entry)?);
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(&source)
        .map_err(|e| format!("{}: {e}", source.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with(CODE_SYSTEM_LIST))
        .collect();
    names.sort();
    let mut profiles = Vec::new();
    for path in names {
        let resource = read_json(&path)?;
        if resource["resourceType"] == "StructureDefinition" {
            profiles.push(resource);
        } else {
            resources.push(resource);
        }
    }
    profiles.sort_by_key(|p| p["type"] != "Extension");
    let mut known = ByUrl(
        definitions::r4()?
            .into_iter()
            .filter(|r| r["resourceType"] == "StructureDefinition")
            .filter_map(|r| Some((r["url"].as_str()?.to_string(), r)))
            .collect(),
    );
    for mut profile in profiles {
        let elements = snapshot::generate(&profile, &known)?;
        profile["snapshot"] = json!({ "element": elements });
        let url = profile["url"].as_str().unwrap_or_default().to_string();
        known.0.insert(url, profile.clone());
        resources.push(profile);
    }
    Ok(resources)
}

/// The package as the committed file's text.
pub fn package_text(root: &Path) -> Result<String, String> {
    let entries: Vec<Value> = package(root)?
        .into_iter()
        .map(|resource| json!({"fullUrl": resource["url"].clone(), "resource": resource}))
        .collect();
    let bundle = json!({
        "resourceType": "Bundle",
        "id": "vn-core",
        "type": "collection",
        "entry": entries,
    });
    let mut text = serde_json::to_string_pretty(&bundle).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

/// Writes the package under `root`; returns its path.
pub fn write(root: &Path) -> Result<PathBuf, String> {
    let path = root.join(PACKAGE_PATH);
    std::fs::write(&path, package_text(root)?).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}
