//! Checking throughput: envelopes of HOSO with 20 drug and 20 service lines each.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use vnfhir::bhyt::rules::check_bytes;
use vnfhir::bhyt::sample::{dossier, envelope};

fn check(c: &mut Criterion) {
    let count = 200;
    let hoso = (0..count)
        .map(|i| dossier(&format!("LK{i:06}"), 20, 20, true))
        .collect();
    let xml = envelope(hoso).to_xml();
    let mut group = c.benchmark_group("bhyt");
    group.throughput(Throughput::Elements(count));
    group.bench_function("check 200 HOSO x (20 drugs + 20 services)", |b| {
        b.iter(|| {
            let report = check_bytes(xml.as_bytes(), None).expect("readable");
            assert_eq!(report.errors(), 0);
        })
    });
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
