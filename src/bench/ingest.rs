//! `vnfhir bench ingest`: posts transaction bundles of generated Vietnamese visits to a
//! running server, as a HIS back-loading its records would, and reports resources/s for
//! every slice of the run so a slowdown as the database grows shows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};

use super::{agent, percentile, population, probe};
use crate::fhir::reference::references_mut;

#[derive(Args, Debug, Clone)]
pub struct IngestArgs {
    /// FHIR base URL of a running server.
    #[arg(long, default_value = "http://127.0.0.1:8080/fhir")]
    pub base: String,
    /// Resources to send in all.
    #[arg(long, default_value_t = 100_000)]
    pub resources: u64,
    /// Entries per transaction Bundle.
    #[arg(long, default_value_t = 100)]
    pub entries: usize,
    /// Concurrent connections (one thread each).
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Index of the first person, so that later runs add new people.
    #[arg(long, default_value_t = 0)]
    pub first: u64,
    /// Print the rate of every slice of this many resources.
    #[arg(long, default_value_t = 100_000)]
    pub slice: u64,
    /// Leave `meta.profile` out, so that a server without `--require-vn-profiles` does not
    /// validate the resources: the baseline for the cost of validate-on-write.
    #[arg(long)]
    pub no_profile_claims: bool,
}

/// People per Bundle of `entries` entries (the last one may be cut short).
fn people_per_bundle(entries: usize) -> u64 {
    let per_person = 2 + 2 * population::VISITS as usize;
    entries.div_ceil(per_person) as u64
}

/// A transaction Bundle of the households of people `first…`, `entries` entries long,
/// linked by `urn:uuid:` placeholders. A cut household keeps its first resources, which
/// reference only resources before them.
pub fn visit_bundle(first: u64, entries: usize) -> Value {
    let mut resources = Vec::with_capacity(entries);
    let mut placeholders = HashMap::new();
    for person in first..first + people_per_bundle(entries) {
        for (ordinal, (resource_type, id, resource)) in
            population::household(person).into_iter().enumerate()
        {
            let placeholder = format!(
                "urn:uuid:{}",
                uuid::Uuid::from_u128(((person as u128) << 8) | ordinal as u128)
            );
            placeholders.insert(format!("{resource_type}/{id}"), placeholder.clone());
            resources.push((resource_type, placeholder, resource));
        }
    }
    resources.truncate(entries);
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|(resource_type, placeholder, mut resource)| {
            for reference in references_mut(&mut resource) {
                if let Some(target) = placeholders.get(reference.as_str()) {
                    *reference = target.clone();
                }
            }
            json!({
                "fullUrl": placeholder,
                "resource": resource,
                "request": {"method": "POST", "url": resource_type},
            })
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

/// Drops the entries' `meta` (only `meta.profile` is generated).
fn without_profile_claims(bundle: &mut Value) {
    for entry in bundle["entry"].as_array_mut().into_iter().flatten() {
        if let Some(resource) = entry["resource"].as_object_mut() {
            resource.remove("meta");
        }
    }
}

pub fn ingest(args: &IngestArgs) -> Result<(), String> {
    let base = args.base.trim_end_matches('/').to_string();
    probe(&base)?;
    let entries = args.entries.max(1);
    let bundles = args.resources.div_ceil(entries as u64);
    let total = bundles * entries as u64;
    println!(
        "vnfhir bench ingest: {base}, {total} resources in {bundles} transactions of {entries}, {} connections",
        args.connections
    );
    let progress = indicatif::ProgressBar::new(total);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} resources, {per_sec}, eta {eta}",
        )
        .map_err(|e| e.to_string())?,
    );
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections.max(1))
        .map(|_| {
            let (next, done, failures, progress, base) = (
                Arc::clone(&next),
                Arc::clone(&done),
                Arc::clone(&failures),
                progress.clone(),
                base.clone(),
            );
            let (first, claim_profiles) = (args.first, !args.no_profile_claims);
            thread::spawn(move || {
                let agent = agent();
                let mut latencies = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= bundles {
                        return latencies;
                    }
                    let mut bundle = visit_bundle(first + n * people_per_bundle(entries), entries);
                    if !claim_profiles {
                        without_profile_claims(&mut bundle);
                    }
                    let body = bundle.to_string();
                    let sent = Instant::now();
                    let reply = agent
                        .post(&base)
                        .header("Content-Type", "application/fhir+json")
                        .send(body);
                    match reply {
                        Ok(mut r) if r.status().as_u16() == 200 => {
                            r.body_mut().read_to_string().ok();
                            latencies.push(sent.elapsed());
                            done.fetch_add(entries as u64, Ordering::Relaxed);
                            progress.inc(entries as u64);
                        }
                        Ok(mut r) => failures.lock().map_or((), |mut f| {
                            f.push(format!(
                                "{}: {}",
                                r.status(),
                                r.body_mut().read_to_string().unwrap_or_default()
                            ))
                        }),
                        Err(e) => failures.lock().map_or((), |mut f| f.push(e.to_string())),
                    }
                }
            })
        })
        .collect();
    // The rate of each slice, from the counter of acknowledged resources.
    let slice = args.slice.max(entries as u64);
    let (mut boundary, mut slice_started) = (slice, Instant::now());
    while workers.iter().any(|w| !w.is_finished()) {
        thread::sleep(Duration::from_millis(50));
        if done.load(Ordering::Relaxed) >= boundary {
            let seconds = slice_started.elapsed().as_secs_f64();
            progress.suspend(|| {
                println!(
                    "resources {:>9}–{:<9} {:>7.0} resources/s",
                    boundary - slice,
                    boundary,
                    slice as f64 / seconds
                )
            });
            boundary += slice;
            slice_started = Instant::now();
        }
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.join().map_err(|_| "ingest worker panicked")?);
    }
    progress.finish();
    latencies.sort();
    let seconds = started.elapsed().as_secs_f64();
    let stored = done.load(Ordering::Relaxed);
    let failures = failures.lock().map_err(|_| "failure list poisoned")?;
    println!(
        "ingested {stored} resources in {seconds:.1}s: {:.0} resources/s; per transaction p50 {:.1} ms, p99 {:.1} ms; {} failed",
        stored as f64 / seconds,
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        failures.len()
    );
    match failures.first() {
        Some(first) => Err(format!(
            "{} transactions failed, the first: {first}",
            failures.len()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_visit_bundle_has_its_size_and_only_inner_references() {
        for entries in [1, 6, 7, 100] {
            let bundle = visit_bundle(10, entries);
            let list = bundle["entry"].as_array().unwrap();
            assert_eq!(list.len(), entries);
            let full_urls: HashSet<&str> = list
                .iter()
                .map(|e| e["fullUrl"].as_str().unwrap())
                .collect();
            assert_eq!(full_urls.len(), entries);
            for entry in list {
                let mut resource = entry["resource"].clone();
                // `#…` points into the resource itself (a contained diagnosis).
                for reference in references_mut(&mut resource) {
                    assert!(
                        reference.starts_with('#') || full_urls.contains(reference.as_str()),
                        "{reference} in {entries}"
                    );
                }
            }
        }
        assert_ne!(visit_bundle(0, 6), visit_bundle(1, 6));
        let mut bundle = visit_bundle(0, 6);
        assert!(!bundle["entry"][0]["resource"]["meta"]["profile"].is_null());
        without_profile_claims(&mut bundle);
        let entries = bundle["entry"].as_array().unwrap();
        assert!(entries.iter().all(|e| e["resource"]["meta"].is_null()));
    }
}
