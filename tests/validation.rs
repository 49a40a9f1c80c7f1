//! Library-level tests of the profile engine (no HTTP server): the conformance corpus, the
//! generated VN package, and loading every StructureDefinition of HL7's R4 package.

use std::sync::OnceLock;

use vnfhir::validation::conformance::{check, load_cases, observed_findings, Case};
use vnfhir::validation::{generate, Validator};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| Validator::load("https://fhir.vnfhir.org").expect("profiles load"))
}

/// What differs between a case's expected issues (with rules) and the engine's findings.
fn mismatch(case: &Case) -> Option<String> {
    let profiles: Vec<&str> = case.profile.iter().map(String::as_str).collect();
    let observed = observed_findings(validator().findings(&case.resource, &profiles));
    check(case, &observed)
        .err()
        .map(|why| format!("{}\n{why}", case.id))
}

#[test]
fn every_conformance_case_gives_exactly_the_expected_issues() {
    let cases = load_cases(&format!("{ROOT}/conformance/cases").as_ref()).unwrap();
    assert!(cases.len() >= 150, "the corpus has {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(mismatch).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_committed_vn_package_is_what_its_sources_generate() {
    let generated = generate::package_text(ROOT.as_ref()).unwrap();
    let committed = std::fs::read_to_string(format!("{ROOT}/{}", generate::PACKAGE_PATH)).unwrap();
    assert!(
        generated == committed,
        "fhir-profiles/vn/vn-core.json is stale: run `cargo run -- conformance build`"
    );
}
