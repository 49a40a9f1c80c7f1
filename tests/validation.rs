//! Library-level tests of the profile engine (no HTTP server).

use std::sync::OnceLock;

use serde_json::Value;
use vnfhir::validation::Validator;

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| Validator::load("https://fhir.vnfhir.org").expect("profiles load"))
}

fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn scratch_examples() {
    let v = validator();
    println!("unsupported: {:?}", v.unsupported_constraints());
    for (file, ty) in [
        ("examples/patient.json", "Patient"),
        ("examples/encounter.json", "Encounter"),
        ("examples/immunization.json", "Immunization"),
        ("examples/medication-request.json", "MedicationRequest"),
    ] {
        let r = read(file);
        for f in v.findings(&r, &[]) {
            println!("BASE {file}: {} {:?}", f.rule, f.issue);
        }
        let p = v.vn_profile(ty).unwrap();
        for f in v.findings(&r, &[p]) {
            println!(
                "VN {file}: {} {:?} {:?} {}",
                f.rule, f.issue.severity, f.issue.expression, f.issue.en
            );
        }
    }
}
