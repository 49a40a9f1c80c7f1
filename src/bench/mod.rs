//! `vnfhir bench`: the load tools.
//!
//! - `crud` drives a running server over HTTP with N concurrent connections (creates,
//!   then reads by id, then updates) and prints throughput and p50/p99 latency.
//! - `load` writes a generated Vietnamese population straight into a database, in batches.
//! - `search` runs the typical searches against a server holding that population.
//! - `ingest` posts transaction bundles of generated visits over HTTP.

pub mod ingest;
pub mod population;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::fhir::text::search_form;
use crate::store::db::Database;
use crate::store::{RequestContext, Store};
use population::Rng;

#[derive(Subcommand, Debug, Clone)]
pub enum BenchCommand {
    /// Creates, reads by id and updates Patients over HTTP.
    Crud(BenchArgs),
    /// Loads a generated population straight into a database, with a progress bar.
    Load(LoadArgs),
    /// Searches the loaded population over HTTP.
    Search(SearchArgs),
    /// Posts transaction bundles of generated visits over HTTP, with a progress bar.
    Ingest(ingest::IngestArgs),
}

#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://vnfhir.db")]
    pub database: String,
    /// People to generate (each with 2 visits, 2 prescriptions and 1 vaccination).
    #[arg(long, default_value_t = 100_000)]
    pub patients: u64,
    /// Index of the first person, to grow a population already loaded.
    #[arg(long, default_value_t = 0)]
    pub first: u64,
    /// People per transaction.
    #[arg(long, default_value_t = 200)]
    pub batch: u64,
    /// Writer threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

#[derive(Args, Debug, Clone)]
pub struct SearchArgs {
    #[command(flatten)]
    pub http: BenchArgs,
    /// How many people `bench load` wrote (searches pick among them).
    #[arg(long, default_value_t = 100_000)]
    pub patients: u64,
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// FHIR base URL of a running server.
    #[arg(long, default_value = "http://127.0.0.1:8080/fhir")]
    pub base: String,
    /// Concurrent connections (one thread each).
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
}

/// Latencies and failures of one phase.
#[derive(Default)]
struct Samples {
    latencies: Vec<Duration>,
    errors: usize,
}

pub struct PhaseReport {
    pub name: &'static str,
    pub requests: usize,
    pub errors: usize,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

impl std::fmt::Display for PhaseReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<7} {:>8} req {:>5} err {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
            self.name,
            self.requests,
            self.errors,
            self.per_second,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        )
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank]
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Runs `step(worker, iteration)` on every connection until time runs out; `step` returns
/// whether the request succeeded.
fn phase<F>(name: &'static str, args: &BenchArgs, step: F) -> PhaseReport
where
    F: Fn(&ureq::Agent, usize, usize) -> bool + Send + Sync + 'static,
{
    let step = Arc::new(step);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections)
        .map(|worker| {
            let step = Arc::clone(&step);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let agent = agent();
                let mut samples = Samples::default();
                let mut iteration = 0;
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    if step(&agent, worker, iteration) {
                        samples.latencies.push(sent.elapsed());
                    } else {
                        samples.errors += 1;
                    }
                    iteration += 1;
                }
                samples
            })
        })
        .collect();
    thread::sleep(Duration::from_secs_f64(args.seconds));
    stop.store(true, Ordering::Relaxed);
    let mut all = Samples::default();
    for worker in workers {
        let samples = worker.join().unwrap_or_default();
        all.latencies.extend(samples.latencies);
        all.errors += samples.errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.latencies.sort();
    PhaseReport {
        name,
        requests: all.latencies.len() + all.errors,
        errors: all.errors,
        per_second: all.latencies.len() as f64 / elapsed,
        p50: percentile(&all.latencies, 0.50),
        p99: percentile(&all.latencies, 0.99),
    }
}

fn post_patient(agent: &ureq::Agent, base: &str, patient: &Value) -> Option<String> {
    let response = agent
        .post(&format!("{base}/Patient"))
        .header("Content-Type", "application/fhir+json")
        .header("Prefer", "return=minimal")
        .send(patient.to_string())
        .ok()?;
    if response.status().as_u16() != 201 {
        return None;
    }
    // Location: {base}/Patient/{id}/_history/1
    let location = response.headers().get("location")?.to_str().ok()?;
    location.split('/').rev().nth(2).map(str::to_string)
}

pub fn run(command: &BenchCommand) -> Result<(), String> {
    match command {
        BenchCommand::Crud(args) => crud(args),
        BenchCommand::Load(args) => load(args),
        BenchCommand::Search(args) => search(args),
        BenchCommand::Ingest(args) => ingest::ingest(args),
    }
}

fn probe(base: &str) -> Result<(), String> {
    let probe = agent()
        .get(&format!("{base}/metadata"))
        .call()
        .map_err(|e| format!("server at {base} not reachable: {e}"))?;
    if probe.status().as_u16() != 200 {
        return Err(format!("{base}/metadata answered {}", probe.status()));
    }
    Ok(())
}

fn load_context() -> RequestContext {
    RequestContext {
        caller: "vnfhir bench load".into(),
        facility: None,
        request_id: uuid::Uuid::new_v4().to_string(),
    }
}

fn load(args: &LoadArgs) -> Result<(), String> {
    let database = Database::parse(&args.database)?;
    let store = Arc::new(Store::open(&database, args.threads as u32 + 1)?);
    store.migrate()?;
    let progress = indicatif::ProgressBar::new(args.patients);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} people, {per_sec}, eta {eta} {msg}",
        )
        .map_err(|e| e.to_string())?,
    );
    let next = Arc::new(std::sync::atomic::AtomicU64::new(args.first));
    let end = args.first + args.patients;
    let started = Instant::now();
    let writers: Vec<_> = (0..args.threads.max(1))
        .map(|_| {
            let (store, next, progress, batch) = (
                Arc::clone(&store),
                Arc::clone(&next),
                progress.clone(),
                args.batch.max(1),
            );
            thread::spawn(move || -> Result<usize, String> {
                let ctx = load_context();
                let mut written = 0;
                loop {
                    let from = next.fetch_add(batch, Ordering::Relaxed);
                    if from >= end {
                        return Ok(written);
                    }
                    let to = (from + batch).min(end);
                    let resources = (from..to).flat_map(population::household).collect();
                    written += store
                        .create_batch(&ctx, resources)
                        .map_err(|e| format!("{e:?}"))?;
                    progress.inc(to - from);
                }
            })
        })
        .collect();
    let mut resources = 0;
    for writer in writers {
        resources += writer.join().map_err(|_| "writer panicked")??;
    }
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "loaded {} people ({resources} resources) in {seconds:.1}s: {:.0} resources/s",
        args.patients,
        resources as f64 / seconds
    );
    let started = Instant::now();
    store
        .analyze(&load_context())
        .map_err(|e| format!("{e:?}"))?;
    println!(
        "statistics refreshed in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The searches of issue #3, each with random people of the loaded population.
fn search(args: &SearchArgs) -> Result<(), String> {
    let base = args.http.base.trim_end_matches('/').to_string();
    probe(&base)?;
    let patients = args.patients.max(1);
    println!(
        "vnfhir bench search: {base}, {} people, {} connections, {}s per query",
        patients, args.http.connections, args.http.seconds
    );
    type Query = fn(u64) -> String;
    let queries: [(&'static str, Query); 5] = [
        ("cccd", |i| {
            let cccd = population::person(i)["identifier"][0]["value"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            format!("Patient?identifier=https://fhir.vnfhir.org/sid/cccd%7C{cccd}")
        }),
        ("name", |i| {
            let name = search_form(
                population::person(i)["name"][0]["text"]
                    .as_str()
                    .unwrap_or_default(),
            );
            format!("Patient?name={}", name.replace(' ', "%20"))
        }),
        ("birth+sex", |i| {
            let person = population::person(i);
            let month = &person["birthDate"].as_str().unwrap_or("1980-01")[..7];
            format!(
                "Patient?birthdate={month}&gender={}",
                person["gender"].as_str().unwrap_or("male")
            )
        }),
        ("visits", |i| {
            format!(
                "Encounter?patient=Patient/{}&date=ge2024-01-01&date=lt2026-01-01&_include=Encounter:patient",
                population::patient_id(i)
            )
        }),
        ("orders", |i| {
            format!(
                "MedicationRequest?patient=Patient/{}&authoredon=ge2024-01-01",
                population::patient_id(i)
            )
        }),
    ];
    for (name, query) in queries {
        let base = base.clone();
        let report = phase(name, &args.http, move |agent, worker, i| {
            let mut rng = Rng::new(((worker as u64) << 40) ^ i as u64 ^ 0xF00D);
            let url = format!("{base}/{}", query(rng.below(patients)));
            agent.get(&url).call().is_ok_and(|mut r| {
                r.status().as_u16() == 200 && r.body_mut().read_to_string().is_ok()
            })
        });
        println!("{report}");
    }
    Ok(())
}

/// Runs the three phases and prints one line each.
fn crud(args: &BenchArgs) -> Result<(), String> {
    let base = args.base.trim_end_matches('/').to_string();
    probe(&base)?;
    println!(
        "vnfhir bench: {base}, {} connections, {}s per phase",
        args.connections, args.seconds
    );

    let ids = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let created = {
        let ids = Arc::clone(&ids);
        let base = base.clone();
        phase("create", args, move |agent, worker, i| {
            let mut rng = Rng::new((worker as u64) << 32 | i as u64);
            match post_patient(agent, &base, &population::patient(&mut rng)) {
                Some(id) => ids.lock().map(|mut v| v.push(id)).is_ok(),
                None => false,
            }
        })
    };
    println!("{created}");
    let ids: Arc<Vec<String>> = Arc::new(std::mem::take(
        &mut *ids.lock().map_err(|_| "id list poisoned")?,
    ));
    if ids.is_empty() {
        return Err("no resource was created; nothing to read".into());
    }

    let reads = {
        let ids = Arc::clone(&ids);
        let base = base.clone();
        phase("read", args, move |agent, worker, i| {
            let mut rng = Rng::new((worker as u64) << 40 ^ i as u64);
            let id = &ids[rng.below(ids.len() as u64) as usize];
            agent
                .get(&format!("{base}/Patient/{id}"))
                .call()
                .is_ok_and(|mut r| {
                    r.status().as_u16() == 200 && r.body_mut().read_to_string().is_ok()
                })
        })
    };
    println!("{reads}");

    let updates = {
        let ids = Arc::clone(&ids);
        let base = base.clone();
        let connections = args.connections;
        phase("update", args, move |agent, worker, i| {
            // Connections walk the ids in interleaved strides, so they rarely meet.
            let slot = worker + connections * i;
            let id = &ids[slot % ids.len()];
            let mut rng = Rng::new(slot as u64 ^ 0xABCD);
            let mut patient = population::patient(&mut rng);
            patient["id"] = Value::String(id.clone());
            agent
                .put(&format!("{base}/Patient/{id}"))
                .header("Content-Type", "application/fhir+json")
                .header("Prefer", "return=minimal")
                .send(patient.to_string())
                .is_ok_and(|r| r.status().as_u16() == 200)
        })
    };
    println!("{updates}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_sorted_samples() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 0.5), Duration::from_millis(51));
        assert_eq!(percentile(&samples, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
