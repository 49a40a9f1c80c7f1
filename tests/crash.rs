//! Crash safety: the server process is killed with SIGKILL in the middle of an ingest of
//! transaction bundles, then started again on the same database. Every transaction that
//! was answered 200 must be there in full, and no transaction may be there in part.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{call, fresh_postgres, fresh_sqlite};
use serde_json::json;
use vnfhir::bench::ingest::visit_bundle;
use vnfhir::store::db::Database;

const TAG: &str = "https://fhir.vnfhir.org/test/crash";
const ENTRIES: usize = 30;

/// Starts `vnfhir serve` as a child process; returns it and its base URL.
fn serve(database: &Database) -> (Child, String) {
    let url = match database {
        Database::Postgres(url) => url.clone(),
        Database::Sqlite(path) => format!("sqlite://{path}"),
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_vnfhir"))
        .args(["serve", "--port", "0", "--database", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vnfhir serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let base = line
        .trim()
        .strip_prefix("vnfhir listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, base)
}

/// Bundle `n`, every resource tagged with `n` so its resources can be counted.
fn tagged_bundle(n: u64) -> String {
    let mut bundle = visit_bundle(1_000_000 + n * 10, ENTRIES);
    for entry in bundle["entry"].as_array_mut().unwrap() {
        entry["resource"]["meta"] = json!({"tag": [{"system": TAG, "code": format!("b{n}")}]});
    }
    bundle.to_string()
}

fn stored(base: &str, n: u64) -> i64 {
    ["Patient", "Encounter", "MedicationRequest", "Immunization"]
        .iter()
        .map(|kind| {
            let reply = call(
                "GET",
                &format!("{base}/{kind}?_tag={TAG}%7Cb{n}&_summary=count"),
                &[],
                None,
            );
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.json()["total"].as_i64().unwrap()
        })
        .sum()
}

fn crash_during_ingest(database: Database) {
    let (mut server, base) = serve(&database);
    let next = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let (next, acknowledged, refused, stop, base) = (
                Arc::clone(&next),
                Arc::clone(&acknowledged),
                Arc::clone(&refused),
                Arc::clone(&stop),
                base.clone(),
            );
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let reply = std::panic::catch_unwind(|| {
                        call(
                            "POST",
                            &base,
                            &[("Content-Type", "application/fhir+json")],
                            Some(&tagged_bundle(n)),
                        )
                    });
                    match reply {
                        Ok(reply) if reply.status == 200 => acknowledged.lock().unwrap().push(n),
                        Ok(reply) => refused.lock().unwrap().push((n, reply.status, reply.body)),
                        // The connection died with the server.
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    // Kill while transactions are in flight: after some have been answered.
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 15 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "ingest too slow"
        );
        thread::sleep(Duration::from_millis(5));
    }
    server.kill().expect("SIGKILL the server");
    server.wait().ok();
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().ok();
    }

    let (mut server, base) = serve(&database);
    let acknowledged = acknowledged.lock().unwrap().clone();
    let attempted = next.load(Ordering::Relaxed);
    let mut partial = Vec::new();
    for n in 0..attempted {
        let count = stored(&base, n);
        if acknowledged.contains(&n) {
            assert_eq!(
                count, ENTRIES as i64,
                "acknowledged bundle {n} is incomplete"
            );
        } else if count != 0 && count != ENTRIES as i64 {
            partial.push((n, count));
        }
    }
    server.kill().ok();
    server.wait().ok();
    assert!(partial.is_empty(), "partly stored bundles: {partial:?}");
    assert!(
        refused.lock().unwrap().is_empty(),
        "{:?}",
        refused.lock().unwrap()
    );
}

#[test]
fn sigkill_during_ingest_on_sqlite_keeps_transactions_whole() {
    crash_during_ingest(fresh_sqlite());
}

#[test]
fn sigkill_during_ingest_on_postgres_keeps_transactions_whole() {
    crash_during_ingest(fresh_postgres());
}
