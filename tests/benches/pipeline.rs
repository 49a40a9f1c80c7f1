//! Criterion benches of the per-request CPU work: parsing and checking a Patient (JSON
//! syntax, R4 schema, typed model) and folding Vietnamese names.
//!
//! Run: `cargo bench --bench pipeline`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

use vnfhir::bench::population::{patient, Rng};
use vnfhir::fhir::schema::SchemaSet;
use vnfhir::fhir::text::search_form;
use vnfhir::fhir::{model, parse_resource};

fn pipeline(c: &mut Criterion) {
    let schemas = SchemaSet::compile(&["Patient"]).expect("schema");
    let body = patient(&mut Rng::new(42)).to_string();
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();

    c.bench_function("parse_resource Patient (json + schema + model)", |b| {
        b.iter(|| parse_resource(&schemas, black_box(body.as_bytes()), "Patient").unwrap())
    });
    c.bench_function("json syntax only", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&body)).unwrap())
    });
    c.bench_function("R4 schema check", |b| {
        b.iter(|| assert!(schemas.check("Patient", black_box(&value)).is_empty()))
    });
    c.bench_function("fhir-sdk typed parse", |b| {
        b.iter(|| model::check_typed("Patient", black_box(&value)).unwrap())
    });
    c.bench_function("search_form of a Vietnamese name", |b| {
        b.iter(|| search_form(black_box("Nguyễn Thị Ánh Dương")))
    });
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
