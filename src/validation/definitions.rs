//! The conformance resources compiled into the binary: HL7's R4 definitions (vendored,
//! unmodified) and the generated VN Core package.

use serde_json::Value;

/// The canonical base the VN package is written with; [`vn_package`] substitutes another.
pub const AUTHORED_BASE: &str = "https://fhir.vnfhir.org";

const R4_STRUCTURES: &str = include_str!("../../fhir-profiles/r4/structure-definitions.json");
const R4_TERMINOLOGY: &str = include_str!("../../fhir-profiles/r4/terminology.json");
const R4_RESOURCES: [&str; 4] = [
    include_str!("../../fhir-profiles/r4/StructureDefinition-Patient.json"),
    include_str!("../../fhir-profiles/r4/StructureDefinition-Encounter.json"),
    include_str!("../../fhir-profiles/r4/StructureDefinition-Immunization.json"),
    include_str!("../../fhir-profiles/r4/StructureDefinition-MedicationRequest.json"),
];
const VN_PACKAGE: &str = include_str!("../../fhir-profiles/vn/vn-core.json");
/// Vietnamese texts of the R4 core invariants, by key.
const CORE_CONSTRAINTS_VI: &str = include_str!("../../fhir-profiles/vn/core-constraints-vi.json");

fn parse(name: &str, text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))
}

fn entries(name: &str, text: &str) -> Result<Vec<Value>, String> {
    let mut bundle = parse(name, text)?;
    let entries = bundle["entry"]
        .as_array_mut()
        .ok_or_else(|| format!("{name}: not a Bundle"))?;
    Ok(entries.iter_mut().map(|e| e["resource"].take()).collect())
}

/// HL7's R4 definitions the engine uses: data types, the resources we serve and those that
/// are commonly contained, two core extensions, and the terminology of their bindings.
pub fn r4() -> Result<Vec<Value>, String> {
    let mut resources = entries("r4/structure-definitions.json", R4_STRUCTURES)?;
    for text in R4_RESOURCES {
        resources.push(parse("r4/StructureDefinition", text)?);
    }
    resources.extend(entries("r4/terminology.json", R4_TERMINOLOGY)?);
    Ok(resources)
}

/// The VN Core package with its canonical base replaced by `canonical_base`.
pub fn vn_package(canonical_base: &str) -> Result<Vec<Value>, String> {
    let base = canonical_base.trim_end_matches('/');
    if base.is_empty() || base.chars().any(char::is_whitespace) {
        return Err(format!("bad canonical base '{canonical_base}'"));
    }
    let text = VN_PACKAGE.replace(AUTHORED_BASE, base);
    entries("vn/vn-core.json", &text)
}

pub fn core_constraints_vi() -> Result<Value, String> {
    parse("vn/core-constraints-vi.json", CORE_CONSTRAINTS_VI)
}
