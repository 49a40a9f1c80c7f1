//! Criterion benches of the profile engine: one VN Core Patient, and a 100-entry visit
//! Bundle (20 visits: Patient, Encounter, two MedicationRequests, Immunization), each entry
//! against the VN Core profile named in its `meta.profile`.
//!
//! Run: `cargo bench --bench validation`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};
use std::hint::black_box;

use vnfhir::validation::Validator;

fn case(path: &str) -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/conformance/cases/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("corpus case");
    serde_json::from_str::<Value>(&text).expect("json")["resource"].take()
}

/// 20 visits of 5 resources, from the corpus's valid cases with fresh ids.
fn visit_bundle() -> Value {
    let templates = [
        case("patient/patient-001-valid-full.json"),
        case("encounter/encounter-001-valid-outpatient.json"),
        case("medication-request/medication-request-001-valid-outpatient.json"),
        case("medication-request/medication-request-002-valid-inpatient-daily-order.json"),
        case("immunization/immunization-001-valid-influenza.json"),
    ];
    let entries: Vec<Value> = (0..20)
        .flat_map(|visit| {
            templates.iter().enumerate().map(move |(i, template)| {
                let mut resource = template.clone();
                resource["id"] = json!(format!("v{visit}-{i}"));
                json!({"fullUrl": format!("urn:uuid:00000000-0000-0000-0000-{visit:06}{i:06}"), "resource": resource})
            })
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "collection", "entry": entries})
}

fn validation(c: &mut Criterion) {
    let validator = Validator::load("https://fhir.vnfhir.org").expect("profiles");
    let patient = case("patient/patient-001-valid-full.json");
    assert!(validator.validate(&patient, &[]).is_empty());
    let bundle = visit_bundle();
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 100);

    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("VN Core Patient", |b| {
        b.iter(|| validator.validate(black_box(&patient), &[]))
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("100-entry visit Bundle", |b| {
        b.iter(|| {
            entries
                .iter()
                .map(|entry| validator.validate(black_box(&entry["resource"]), &[]).len())
                .sum::<usize>()
        })
    });
    group.finish();
    c.bench_function("Validator::load", |b| {
        b.iter(|| Validator::load("https://fhir.vnfhir.org").unwrap())
    });
}

criterion_group!(benches, validation);
criterion_main!(benches);
