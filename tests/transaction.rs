//! Transactions, batches and PATCH against the real server, on SQLite and on PostgreSQL.

mod common;

use base64::Engine;
use common::{call, each_backend, patient, unique_id, Server, MAX_BODY, MAX_ENTRIES};
use serde_json::{json, Value};

const CCCD: &str = "https://fhir.vnfhir.org/sid/cccd";

fn bundle(kind: &str, entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": kind, "entry": entries})
}

fn post(full_url: &str, resource: Value) -> Value {
    let kind = resource["resourceType"].as_str().unwrap().to_string();
    json!({"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": kind}})
}

fn request(method: &str, url: &str) -> Value {
    json!({"request": {"method": method, "url": url}})
}

fn new_cccd() -> String {
    let digits: String = uuid::Uuid::new_v4()
        .as_u128()
        .to_string()
        .chars()
        .take(12)
        .collect();
    digits
}

fn encounter(subject: &str) -> Value {
    json!({
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": subject},
        "period": {"start": "2026-11-20T08:00:00+07:00"}
    })
}

fn medication_request(subject: &str, encounter: &str) -> Value {
    json!({
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "Paracetamol 500mg"},
        "subject": {"reference": subject},
        "encounter": {"reference": encounter},
        "authoredOn": "2026-11-20T09:00:00+07:00",
        "dosageInstruction": [{"text": "Uống 1 viên x 3 lần/ngày",
            "extension": [{"url": "https://fhir.vnfhir.org/StructureDefinition/ke-don-tai",
                           "valueReference": {"reference": encounter}}]}]
    })
}

/// Resources with this CCCD, as a search sees them.
fn total_with_cccd(s: &Server, cccd: &str) -> i64 {
    let reply = s.get(&format!("Patient?identifier={CCCD}|{cccd}&_total=accurate"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["total"].as_i64().unwrap()
}

fn read(s: &Server, location: &str) -> Value {
    let reference = location.split("/_history").next().unwrap();
    let reply = s.get(reference);
    assert_eq!(reply.status, 200, "{location}: {}", reply.body);
    reply.json()
}

fn statuses(response: &Value) -> Vec<String> {
    response["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response"]["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn transaction_stores_a_visit_and_rewrites_placeholders_everywhere() {
    each_backend(|s| {
        let cccd = new_cccd();
        let (p, e) = (
            "urn:uuid:6c1b3a5e-0000-4000-8000-000000000001",
            "urn:uuid:6c1b3a5e-0000-4000-8000-000000000002",
        );
        let sent = bundle(
            "transaction",
            vec![
                post(
                    "urn:uuid:6c1b3a5e-0000-4000-8000-000000000003",
                    medication_request(p, e),
                ),
                post(e, encounter(p)),
                post(p, patient(&cccd)),
            ],
        );
        let reply = s.post("", &sent);
        assert_eq!(reply.status, 200, "{}: {}", s.backend, reply.body);
        let response = reply.json();
        assert_eq!(response["type"], "transaction-response");
        assert_eq!(statuses(&response), ["201 Created"; 3]);
        let entries = response["entry"].as_array().unwrap();
        for entry in entries {
            assert_eq!(entry["response"]["etag"], "W/\"1\"");
            assert!(entry["response"]["lastModified"].is_string());
        }
        let locations: Vec<&str> = entries
            .iter()
            .map(|e| e["response"]["location"].as_str().unwrap())
            .collect();
        assert!(
            locations[0].starts_with("MedicationRequest/"),
            "{locations:?}"
        );
        let patient_ref = locations[2].split("/_history").next().unwrap();
        let encounter_ref = locations[1].split("/_history").next().unwrap();
        let stored_request = read(s, locations[0]);
        assert_eq!(stored_request["subject"]["reference"], patient_ref);
        assert_eq!(stored_request["encounter"]["reference"], encounter_ref);
        assert_eq!(
            stored_request["dosageInstruction"][0]["extension"][0]["valueReference"]["reference"],
            encounter_ref,
            "nested references are rewritten too"
        );
        assert_eq!(read(s, locations[1])["subject"]["reference"], patient_ref);
        // The projection indexes the rewritten references.
        let found = s.get(&format!("Encounter?subject={patient_ref}")).json();
        assert_eq!(
            found["entry"][0]["resource"]["id"],
            encounter_ref.split('/').nth(1).unwrap()
        );
        // Without a representation preference the response carries no resources.
        assert!(entries[0].get("resource").is_none());
        let asked = call(
            "POST",
            &s.url(""),
            &[FHIR_JSON, ("Prefer", "return=representation")],
            Some(&bundle("transaction", vec![post(p, patient(&new_cccd()))]).to_string()),
        );
        let created = &asked.json()["entry"][0];
        assert_eq!(created["resource"]["meta"]["versionId"], "1", "{created}");
        assert_eq!(
            created["fullUrl"],
            s.url(
                created["response"]["location"]
                    .as_str()
                    .unwrap()
                    .split("/_history")
                    .next()
                    .unwrap()
            )
        );
    });
}

#[test]
fn a_failing_entry_leaves_no_trace_and_is_named() {
    each_backend(|s| {
        let cccd = new_cccd();
        let p = "urn:uuid:0d4f7a58-1111-4000-8000-000000000001";
        let mut bad = encounter(p);
        bad["status"] = json!("xong");
        let reply = s.post(
            "",
            &bundle(
                "transaction",
                vec![
                    post(p, patient(&cccd)),
                    post("urn:uuid:0d4f7a58-1111-4000-8000-000000000002", bad),
                ],
            ),
        );
        let issue = reply.outcome(400);
        assert_eq!(
            issue["expression"][0], "Bundle.entry[1].resource.status",
            "{issue}"
        );
        assert!(
            issue["diagnostics"]
                .as_str()
                .unwrap()
                .contains("urn:uuid:0d4f7a58-1111-4000-8000-000000000002"),
            "{issue}"
        );
        assert_eq!(total_with_cccd(s, &cccd), 0, "{}", s.backend);

        // A failure found only while writing (a stale ifMatch) rolls back the creates too.
        let existing = s.create(&patient(&new_cccd()));
        let mut update = patient(&new_cccd());
        update["id"] = json!(existing);
        let reply = s.post(
            "",
            &bundle(
                "transaction",
                vec![
                    post(p, patient(&cccd)),
                    json!({"resource": update, "request": {"method": "PUT", "url": format!("Patient/{existing}"), "ifMatch": "W/\"7\""}}),
                ],
            ),
        );
        let issue = reply.outcome(412);
        assert_eq!(issue["expression"][0], "Bundle.entry[1]", "{issue}");
        assert_eq!(total_with_cccd(s, &cccd), 0, "{}", s.backend);

        // A placeholder that names no entry.
        let reply = s.post(
            "",
            &bundle(
                "transaction",
                vec![post(
                    p,
                    encounter("urn:uuid:0d4f7a58-1111-4000-8000-00000000dead"),
                )],
            ),
        );
        assert!(reply.outcome(400)["diagnostics"]
            .as_str()
            .unwrap()
            .contains("00000000dead"));
    });
}

#[test]
fn conditional_entries_create_update_delete_and_resolve_references() {
    each_backend(|s| {
        let cccd = new_cccd();
        let condition = format!("identifier={CCCD}|{cccd}");
        let visit = |n: &str| {
            let p = format!("urn:uuid:5a1e0000-0000-4000-8000-00000000000{n}");
            bundle(
                "transaction",
                vec![
                    json!({"fullUrl": p, "resource": patient(&cccd),
                           "request": {"method": "POST", "url": "Patient", "ifNoneExist": condition}}),
                    post(
                        &format!("urn:uuid:5a1e0000-0000-4000-8000-00000000010{n}"),
                        encounter(&p),
                    ),
                ],
            )
        };
        let first = s.post("", &visit("1")).json();
        assert_eq!(statuses(&first), ["201 Created", "201 Created"]);
        let second = s.post("", &visit("2")).json();
        assert_eq!(statuses(&second), ["200 OK", "201 Created"], "{second}");
        let patient_location = first["entry"][0]["response"]["location"].as_str().unwrap();
        assert_eq!(second["entry"][0]["response"]["location"], patient_location);
        let patient_ref = patient_location.split("/_history").next().unwrap();
        let second_encounter = read(
            s,
            second["entry"][1]["response"]["location"].as_str().unwrap(),
        );
        assert_eq!(
            second_encounter["subject"]["reference"], patient_ref,
            "the placeholder points at the match"
        );
        assert_eq!(total_with_cccd(s, &cccd), 1);

        // Conditional update by URL, with the right ifMatch, and a conditional reference.
        let mut changed = patient(&cccd);
        changed["gender"] = json!("female");
        let reply = s.post(
            "",
            &bundle(
                "transaction",
                vec![
                    json!({"resource": changed, "request": {"method": "PUT", "url": format!("Patient?{condition}"), "ifMatch": "W/\"1\""}}),
                    post("urn:uuid:5a1e0000-0000-4000-8000-000000000201", encounter(&format!("Patient?{condition}"))),
                ],
            ),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let response = reply.json();
        assert_eq!(statuses(&response), ["200 OK", "201 Created"]);
        assert_eq!(response["entry"][0]["response"]["etag"], "W/\"2\"");
        assert_eq!(read(s, patient_location)["gender"], "female");
        let third = read(
            s,
            response["entry"][1]["response"]["location"]
                .as_str()
                .unwrap(),
        );
        assert_eq!(third["subject"]["reference"], patient_ref);

        // Conditional delete by URL.
        let reply = s.post(
            "",
            &bundle(
                "transaction",
                vec![request("DELETE", &format!("Patient?{condition}"))],
            ),
        );
        assert_eq!(statuses(&reply.json()), ["200 OK"], "{}", reply.body);
        assert_eq!(s.get(patient_ref).status, 410);

        // Several matches: 412.
        let twin = new_cccd();
        s.create(&patient(&twin));
        s.create(&patient(&twin));
        let reply = s.post(
            "",
            &bundle(
                "transaction",
                vec![request(
                    "DELETE",
                    &format!("Patient?identifier={CCCD}|{twin}"),
                )],
            ),
        );
        assert_eq!(reply.outcome(412)["expression"][0], "Bundle.entry[0]");

        // A misspelt parameter would widen the match: conditional URLs are strict.
        let reply = s.post(
            "",
            &bundle(
                "transaction",
                vec![request(
                    "DELETE",
                    &format!("Patient?identifer={CCCD}|{twin}"),
                )],
            ),
        );
        assert_eq!(
            reply.outcome(400)["expression"][0],
            "Bundle.entry[0].request.url"
        );
        s.delete(&format!("Patient?identifer={CCCD}|{twin}"))
            .outcome(400);
    });
}

#[test]
fn processing_order_lets_reads_see_the_transactions_own_writes() {
    each_backend(|s| {
        let cccd = new_cccd();
        let doomed = s.create(&patient(&new_cccd()));
        let p = "urn:uuid:0cde0000-0000-4000-8000-000000000001";
        let reply = s.post(
            "",
            &bundle(
                "transaction",
                vec![
                    request("GET", &format!("Patient?identifier={CCCD}|{cccd}")),
                    post(p, patient(&cccd)),
                    request("DELETE", &format!("Patient/{doomed}")),
                    request("GET", &format!("Patient/{doomed}/_history/1")),
                ],
            ),
        );
        assert_eq!(reply.status, 200, "{}: {}", s.backend, reply.body);
        let response = reply.json();
        assert_eq!(
            statuses(&response),
            ["200 OK", "201 Created", "200 OK", "200 OK"]
        );
        let searched = &response["entry"][0]["resource"];
        assert_eq!(searched["type"], "searchset");
        assert_eq!(
            searched["entry"].as_array().unwrap().len(),
            1,
            "GET runs after POST: {searched}"
        );
        assert_eq!(response["entry"][3]["resource"]["id"], doomed.as_str());
        assert_eq!(response["entry"][2]["response"]["etag"], "W/\"2\"");

        // The same resource twice in one transaction is refused.
        let reply = s.post(
            "",
            &bundle(
                "transaction",
                vec![
                    request("DELETE", &format!("Patient/{doomed}")),
                    request("DELETE", &format!("Patient/{doomed}")),
                ],
            ),
        );
        assert_eq!(reply.outcome(400)["expression"][0], "Bundle.entry[1]");
    });
}

#[test]
fn batch_entries_succeed_or_fail_on_their_own() {
    each_backend(|s| {
        let cccd = new_cccd();
        let mut bad = patient(&new_cccd());
        bad["gender"] = json!("nam");
        let reply = s.post(
            "",
            &bundle(
                "batch",
                vec![
                    post("urn:uuid:ba7c0000-0000-4000-8000-000000000001", bad),
                    post(
                        "urn:uuid:ba7c0000-0000-4000-8000-000000000002",
                        patient(&cccd),
                    ),
                    request("GET", &format!("Patient/{}", unique_id("missing"))),
                    request("FETCH", "Patient"),
                ],
            ),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let response = reply.json();
        assert_eq!(response["type"], "batch-response");
        assert_eq!(
            statuses(&response),
            [
                "400 Bad Request",
                "201 Created",
                "404 Not Found",
                "400 Bad Request"
            ]
        );
        let outcome = &response["entry"][0]["response"]["outcome"];
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert_eq!(
            outcome["issue"][0]["expression"][0],
            "Bundle.entry[0].resource.gender"
        );
        assert_eq!(
            response["entry"][3]["response"]["outcome"]["issue"][0]["expression"][0],
            "Bundle.entry[3].request.method"
        );
        assert_eq!(total_with_cccd(s, &cccd), 1);
    });
}

const JSON_PATCH: (&str, &str) = ("Content-Type", "application/json-patch+json");
const FHIR_JSON: (&str, &str) = ("Content-Type", "application/fhir+json");

fn patch(s: &Server, path: &str, headers: &[(&str, &str)], body: &Value) -> common::Reply {
    call("PATCH", &s.url(path), headers, Some(&body.to_string()))
}

#[test]
fn patch_with_json_patch_and_fhirpath_patch() {
    each_backend(|s| {
        let id = s.create(&patient(&new_cccd()));
        let path = format!("Patient/{id}");
        let reply = patch(
            s,
            &path,
            &[JSON_PATCH],
            &json!([{"op": "replace", "path": "/gender", "value": "female"}]),
        );
        assert_eq!(reply.status, 200, "{}: {}", s.backend, reply.body);
        assert_eq!(reply.header("etag"), Some("W/\"2\""));
        assert_eq!(reply.json()["gender"], "female");

        let fhirpath = json!({"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
            {"name": "type", "valueCode": "add"}, {"name": "path", "valueString": "Patient"},
            {"name": "name", "valueString": "telecom"},
            {"name": "value", "part": [{"name": "system", "valueCode": "phone"}, {"name": "value", "valueString": "0912345678"}]}]}]});
        let reply = patch(s, &path, &[FHIR_JSON, ("If-Match", "W/\"2\"")], &fhirpath);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["telecom"][0]["value"], "0912345678");
        assert_eq!(reply.json()["meta"]["versionId"], "3");

        // A stale If-Match, a result that is not valid FHIR, a failed test op: nothing changes.
        let stale = patch(
            s,
            &path,
            &[JSON_PATCH, ("If-Match", "W/\"2\"")],
            &json!([{"op": "remove", "path": "/telecom"}]),
        );
        stale.outcome(412);
        let invalid = patch(
            s,
            &path,
            &[JSON_PATCH],
            &json!([{"op": "replace", "path": "/gender", "value": "nam"}]),
        );
        assert_eq!(invalid.outcome(422)["expression"][0], "Patient.gender");
        let failed_test = patch(
            s,
            &path,
            &[JSON_PATCH],
            &json!([{"op": "test", "path": "/gender", "value": "male"}, {"op": "remove", "path": "/name"}]),
        );
        failed_test.outcome(422);
        let renamed = patch(
            s,
            &path,
            &[JSON_PATCH],
            &json!([{"op": "replace", "path": "/id", "value": "other"}]),
        );
        renamed.outcome(422);
        assert_eq!(s.get(&path).json()["meta"]["versionId"], "3");

        patch(s, &path, &[JSON_PATCH], &json!({"op": "replace"})).outcome(400);
        patch(s, &path, &[FHIR_JSON], &json!({"resourceType": "Patient"})).outcome(400);
        patch(s, &path, &[("Content-Type", "text/plain")], &json!([])).outcome(415);
        patch(
            s,
            &format!("Patient/{}", unique_id("nobody")),
            &[JSON_PATCH],
            &json!([]),
        )
        .outcome(404);

        // PATCH inside a transaction: a Binary holding JSON Patch.
        let data = base64::engine::general_purpose::STANDARD
            .encode(json!([{"op": "replace", "path": "/gender", "value": "other"}]).to_string());
        let reply = s.post(
            "",
            &bundle("transaction", vec![json!({"resource": {"resourceType": "Binary", "contentType": "application/json-patch+json", "data": data},
                "request": {"method": "PATCH", "url": path}})]),
        );
        assert_eq!(statuses(&reply.json()), ["200 OK"], "{}", reply.body);
        assert_eq!(s.get(&path).json()["gender"], "other");
    });
}

#[test]
fn limits_and_malformed_bundles_are_clean_4xx() {
    each_backend(|s| {
        let many: Vec<Value> = (0..=MAX_ENTRIES)
            .map(|_| request("GET", "Patient?_count=1"))
            .collect();
        let issue = s.post("", &bundle("batch", many)).outcome(413);
        assert_eq!(issue["expression"][0], "Bundle.entry");

        let huge = "x".repeat(MAX_BODY);
        let mut big = patient(&new_cccd());
        big["name"][0]["text"] = json!(huge);
        s.post(
            "",
            &bundle(
                "transaction",
                vec![post("urn:uuid:b1600000-0000-4000-8000-000000000001", big)],
            ),
        )
        .outcome(413);

        let mut deep = json!("bottom");
        for _ in 0..300 {
            deep = json!([deep]);
        }
        let deep_bundle =
            json!({"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": deep}]});
        s.post("", &deep_bundle).outcome(400);

        let cases = [
            (
                json!({"resourceType": "Bundle", "type": "collection"}),
                "Bundle.type",
            ),
            (json!({"resourceType": "Patient"}), "resourceType"),
            (
                json!({"resourceType": "Bundle", "type": "batch", "entry": {}}),
                "Bundle.entry",
            ),
            (
                json!({"resourceType": "Bundle", "type": "batch", "foo": 1}),
                "Bundle.foo",
            ),
            (
                bundle(
                    "transaction",
                    vec![json!({"resource": patient("001090000009")})],
                ),
                "Bundle.entry[0].request",
            ),
            (bundle("transaction", vec![json!(7)]), "Bundle.entry[0]"),
            (
                bundle("transaction", vec![request("POST", "Patient")]),
                "Bundle.entry[0].resource",
            ),
            (
                bundle(
                    "transaction",
                    vec![request("GET", "http://elsewhere.example/fhir/Patient/1")],
                ),
                "Bundle.entry[0].request.url",
            ),
            (
                bundle("transaction", vec![request("GET", "Observation/1")]),
                "Bundle.entry[0].request.url",
            ),
            (
                bundle(
                    "transaction",
                    vec![json!({"request": {"method": "GET", "url": "Patient/1", "foo": true}})],
                ),
                "Bundle.entry[0].request.foo",
            ),
        ];
        for (body, expression) in cases {
            let reply = s.post("", &body);
            assert!(
                reply.status == 400 || reply.status == 404,
                "{body}: {}",
                reply.body
            );
            let issue = reply.outcome(reply.status);
            assert_eq!(issue["expression"][0], expression, "{body}: {issue}");
        }
        call("POST", &s.url(""), &[FHIR_JSON], Some("{not json")).outcome(400);
        call("GET", &s.url(""), &[], None).outcome(405);
    });
}
