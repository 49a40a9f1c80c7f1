//! Profile validation over REST on both databases: `$validate`, validate-on-write, the
//! conformance resources, and the conformance kit run against the real server.

mod common;

use std::path::Path;

use common::{call, each_backend, fresh_postgres, fresh_sqlite, start, Server};
use serde_json::{json, Value};
use vnfhir::validation::conformance::{load_cases, terminal_report, validate_remote};

const VN_PATIENT: &str = "https://fhir.vnfhir.org/StructureDefinition/vn-core-patient";
const CCCD: &str = "https://fhir.vnfhir.org/sid/cccd";

/// A VN Core Patient from the conformance corpus, with a fresh CCCD.
fn vn_patient(cccd: &str) -> Value {
    let case: Value = serde_json::from_str(
        &std::fs::read_to_string("conformance/cases/patient/patient-001-valid-full.json").unwrap(),
    )
    .unwrap();
    let mut patient = case["resource"].clone();
    patient.as_object_mut().unwrap().remove("id");
    for identifier in patient["identifier"].as_array_mut().unwrap() {
        if identifier["system"] == CCCD {
            identifier["value"] = json!(cccd);
        }
    }
    patient
}

fn new_cccd() -> String {
    uuid::Uuid::new_v4()
        .as_u128()
        .to_string()
        .chars()
        .take(12)
        .collect()
}

fn expressions(outcome: &Value) -> Vec<String> {
    outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] == "error")
        .map(|i| i["expression"][0].as_str().unwrap_or_default().to_string())
        .collect()
}

fn stored(s: &Server, cccd: &str) -> usize {
    let reply = s.get(&format!("Patient?identifier={CCCD}|{cccd}"));
    reply.json()["entry"].as_array().map_or(0, Vec::len)
}

#[test]
fn the_conformance_kit_passes_against_the_server() {
    let cases = load_cases(Path::new("conformance/cases")).unwrap();
    assert!(cases.len() >= 150, "{} cases", cases.len());
    each_backend(|s| {
        let results = validate_remote(&s.base, &cases);
        let failed = results.iter().filter(|r| r.outcome.is_err()).count();
        assert_eq!(
            failed,
            0,
            "{}: {}",
            s.backend,
            terminal_report(&cases, &results)
        );
    });
}

#[test]
fn validate_reports_issues_without_storing() {
    each_backend(|s| {
        let valid = vn_patient(&new_cccd());
        let reply = s.post("Patient/$validate", &valid);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let outcome = reply.json();
        assert_eq!(outcome["issue"][0]["severity"], "information", "{outcome}");

        // A bare R4 Patient is fine for R4 but not for VN Core when asked.
        let bare = json!({"resourceType": "Patient", "gender": "female"});
        assert!(expressions(&s.post("Patient/$validate", &bare).json()).is_empty());
        let reply = call(
            "POST",
            &s.url(&format!("Patient/$validate?profile={VN_PATIENT}")),
            &[("Content-Type", "application/fhir+json")],
            Some(&bare.to_string()),
        );
        let errors = expressions(&reply.json());
        assert!(errors.contains(&"Patient.name".to_string()), "{errors:?}");
        assert!(
            errors.contains(&"Patient.birthDate".to_string()),
            "{errors:?}"
        );

        // Parameters: mode update checks the id; the profile may come as a parameter.
        let parameters = json!({"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": {"resourceType": "Patient", "id": "other", "gender": "male"}},
            {"name": "mode", "valueCode": "update"},
            {"name": "profile", "valueUri": "https://fhir.vnfhir.org/StructureDefinition/nothing-here"}]});
        let errors = expressions(&s.post("Patient/p-1/$validate", &parameters).json());
        assert!(errors.contains(&"Patient.id".to_string()), "{errors:?}");
        assert!(
            errors.len() >= 2,
            "the unknown profile is an error too: {errors:?}"
        );

        // mode delete: 404 for nothing to delete, 200 otherwise.
        let delete = json!({"resourceType": "Parameters", "parameter": [{"name": "mode", "valueCode": "delete"}]});
        s.post("Patient/nobody-here/$validate", &delete)
            .outcome(404);
        let id = s.create(&json!({"resourceType": "Patient", "gender": "male"}));
        assert_eq!(
            s.post(&format!("Patient/{id}/$validate"), &delete).status,
            200
        );
        s.post("Patient/$validate", &delete).outcome(400);
        s.post("Patient/$validate?mode=sideways", &bare)
            .outcome(400);
        s.post("Encounter/$validate", &bare).outcome(400);
        let observation =
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "Mạch"}});
        let outcome = s.post("Observation/$validate", &observation).json();
        assert_eq!(outcome["issue"][0]["code"], "not-supported", "{outcome}");
        s.post("Observation/x/$validate", &delete).outcome(404);
    });
}

#[test]
fn writes_claiming_a_profile_are_held_to_it() {
    each_backend(|s| {
        let cccd = new_cccd();
        let mut broken = vn_patient(&cccd);
        for identifier in broken["identifier"].as_array_mut().unwrap() {
            if identifier["system"] == CCCD {
                identifier["value"] = json!(&cccd[..11]);
            }
        }
        let issue = s.post("Patient", &broken).outcome(422);
        assert!(
            issue["expression"][0]
                .as_str()
                .unwrap()
                .starts_with("Patient.identifier"),
            "{issue}"
        );
        assert_eq!(stored(s, &cccd[..11]), 0);

        // In a transaction the whole Bundle is refused, naming the entry.
        let transaction = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": "urn:uuid:3b0c0000-0000-4000-8000-000000000001", "resource": vn_patient(&cccd), "request": {"method": "POST", "url": "Patient"}},
            {"fullUrl": "urn:uuid:3b0c0000-0000-4000-8000-000000000002", "resource": broken, "request": {"method": "POST", "url": "Patient"}}]});
        let issue = s.post("", &transaction).outcome(422);
        assert!(
            issue["expression"][0]
                .as_str()
                .unwrap()
                .starts_with("Bundle.entry[1].resource.identifier"),
            "{issue}"
        );
        assert_eq!(stored(s, &cccd), 0);

        let id = s.create(&vn_patient(&cccd));
        // A PATCH that breaks the claimed profile changes nothing.
        let reply = call(
            "PATCH",
            &s.url(&format!("Patient/{id}")),
            &[("Content-Type", "application/json-patch+json")],
            Some(&json!([{"op": "remove", "path": "/birthDate"}]).to_string()),
        );
        reply.outcome(422);
        assert!(s.get(&format!("Patient/{id}")).json()["birthDate"].is_string());
    });
}

#[test]
fn conformance_resources_are_served() {
    each_backend(|s| {
        let reply = s.get("StructureDefinition/vn-core-patient");
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["url"], VN_PATIENT);
        assert!(reply.json()["snapshot"]["element"].is_array());
        let found = s
            .get(&format!("StructureDefinition?url={VN_PATIENT}"))
            .json();
        assert_eq!(found["total"], 1);
        assert_eq!(found["entry"][0]["resource"]["id"], "vn-core-patient");
        let code_system = s.get("CodeSystem/ma-loai-kcb").json();
        assert_eq!(
            code_system["url"],
            "https://fhir.vnfhir.org/CodeSystem/ma-loai-kcb"
        );
        assert_eq!(
            s.get("StructureDefinition/Patient").json()["kind"],
            "resource"
        );
        s.get("ValueSet/nothing-here").outcome(404);
        s.get("StructureDefinition?name=x").outcome(400);
        s.get("StructureDefinition").outcome(400);
        s.post("StructureDefinition", &json!({})).outcome(405);

        let statement = s.get("metadata").json();
        let patient = &statement["rest"][0]["resource"][0];
        assert_eq!(patient["supportedProfile"][0], VN_PATIENT);
        assert_eq!(patient["operation"][0]["name"], "validate");
    });
}

#[test]
fn a_server_can_require_the_vn_profiles() {
    for database in [fresh_sqlite(), fresh_postgres()] {
        let mut config = common::config(database);
        config.require_vn_profiles = true;
        let base = start(config);
        let post = |resource: &Value| {
            call(
                "POST",
                &format!("{base}/Patient"),
                &[("Content-Type", "application/fhir+json")],
                Some(&resource.to_string()),
            )
        };
        let issue = post(&json!({"resourceType": "Patient", "gender": "male"})).outcome(422);
        assert!(issue["expression"][0].is_string(), "{issue}");
        assert_eq!(post(&vn_patient(&new_cccd())).status, 201);
    }
}
