//! Test harness: the real server, in this process, on an ephemeral port, once per backend.
//!
//! PostgreSQL gets a fresh database per test binary run (`vnfhir_test_<pid>_<nanos>`), made
//! through `VNFHIR_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use serde_json::Value;

use vnfhir::config::Config;
use vnfhir::store::db::Database;

/// Body limit of the test servers, small so 413 is cheap to provoke.
pub const MAX_BODY: usize = 256 * 1024;
/// Entries per Bundle in the test servers.
pub const MAX_ENTRIES: usize = 50;

pub struct Server {
    pub backend: &'static str,
    pub base: String,
    pub database: Database,
}

fn admin_url() -> String {
    std::env::var("VNFHIR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn fresh_postgres() -> Database {
    let admin = admin_url();
    let name = format!(
        "vnfhir_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let mut conn = PgConnection::establish(&admin)
        .unwrap_or_else(|e| panic!("PostgreSQL must run for the tests ({admin}): {e}"));
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create test database");
    let (prefix, _) = admin.rsplit_once('/').expect("database URL has a path");
    Database::Postgres(format!("{prefix}/{name}"))
}

pub fn fresh_sqlite() -> Database {
    let dir = tempfile::tempdir().expect("temp dir").keep();
    Database::Sqlite(dir.join("vnfhir.db").to_string_lossy().into_owned())
}

pub fn config(database: Database) -> Config {
    Config {
        bind: "127.0.0.1".into(),
        port: 0,
        database,
        base_path: "/fhir".into(),
        base_url: None,
        max_body_bytes: MAX_BODY,
        max_bundle_entries: MAX_ENTRIES,
        pool_size: 8,
        workers: 2,
        default_count: 20,
        canonical_base: "https://fhir.vnfhir.org".into(),
        require_vn_profiles: false,
        max_count: 100,
    }
}

/// Starts a server in a background thread of this process; returns its base URL.
pub fn start(config: Config) -> String {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            match vnfhir::rest::start(config) {
                Ok((server, addrs)) => {
                    sender.send(Ok(addrs[0])).ok();
                    server.await.ok();
                }
                Err(e) => {
                    sender.send(Err(e)).ok();
                }
            }
        });
    });
    let addr = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("server start timed out")
        .expect("server failed to start");
    format!("http://{addr}/fhir")
}

fn servers() -> &'static [Server] {
    static SERVERS: OnceLock<Vec<Server>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        [("sqlite", fresh_sqlite()), ("postgres", fresh_postgres())]
            .into_iter()
            .map(|(backend, database)| Server {
                backend,
                base: start(config(database.clone())),
                database,
            })
            .collect()
    })
}

/// Runs `check` against the server on each backend.
pub fn each_backend(check: impl Fn(&Server)) {
    for server in servers() {
        check(server);
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Asserts an OperationOutcome error with `status` and returns its first issue.
    pub fn outcome(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert!(
            self.header("content-type")
                .unwrap_or("")
                .starts_with("application/fhir+json"),
            "content-type {:?}",
            self.header("content-type")
        );
        let body = self.json();
        assert_eq!(body["resourceType"], "OperationOutcome", "{}", self.body);
        let issue = body["issue"][0].clone();
        assert!(
            issue["details"]["text"].is_string(),
            "Vietnamese text: {issue}"
        );
        assert!(issue["diagnostics"].is_string(), "English text: {issue}");
        issue
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    })
}

/// Sends one request; `body` is sent as is (set Content-Type in `headers`).
pub fn call(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = match body {
        Some(body) => agent().run(request.body(body.to_string()).unwrap()),
        None => agent().run(request.body(()).unwrap()),
    };
    let mut response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

const JSON: (&str, &str) = ("Content-Type", "application/fhir+json");

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    pub fn get(&self, path: &str) -> Reply {
        call("GET", &self.url(path), &[], None)
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        call("GET", &self.url(path), headers, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        call("POST", &self.url(path), &[JSON], Some(&body.to_string()))
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        call("PUT", &self.url(path), &[JSON], Some(&body.to_string()))
    }

    pub fn put_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let mut all = vec![JSON];
        all.extend_from_slice(headers);
        call("PUT", &self.url(path), &all, Some(&body.to_string()))
    }

    pub fn delete(&self, path: &str) -> Reply {
        call("DELETE", &self.url(path), &[], None)
    }

    /// Creates `resource` and returns its id.
    pub fn create(&self, resource: &Value) -> String {
        let kind = resource["resourceType"].as_str().unwrap();
        let reply = self.post(kind, resource);
        assert_eq!(reply.status, 201, "{}: {}", self.backend, reply.body);
        reply.json()["id"].as_str().unwrap().to_string()
    }
}

/// A fresh id, so tests sharing a server never collide.
pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

pub fn patient(cccd: &str) -> Value {
    serde_json::json!({
        "resourceType": "Patient",
        "identifier": [
            {"system": "https://fhir.vnfhir.org/sid/cccd", "value": cccd},
            {"system": "https://fhir.vnfhir.org/sid/bhyt-card", "value": "DN4010123456789"}
        ],
        "name": [{"family": "Nguyễn", "given": ["Văn", "Đức"]}],
        "gender": "male",
        "birthDate": "1980-05"
    })
}
