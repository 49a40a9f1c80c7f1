//! The FHIR REST contract against the real server, on SQLite and on PostgreSQL.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use common::{call, each_backend, patient, unique_id, MAX_BODY};
use serde_json::{json, Value};

#[test]
fn metadata_lists_what_is_registered() {
    each_backend(|s| {
        let reply = s.get("metadata");
        assert_eq!(reply.status, 200, "{}", s.backend);
        let statement = reply.json();
        assert_eq!(statement["resourceType"], "CapabilityStatement");
        assert_eq!(statement["fhirVersion"], "4.0.1");
        let types: Vec<&str> = statement["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "Patient",
                "Encounter",
                "Immunization",
                "MedicationRequest",
                "StructureDefinition",
                "ValueSet",
                "CodeSystem",
                "NamingSystem"
            ]
        );
        let interactions: Vec<&str> = statement["rest"][0]["resource"][0]["interaction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        for code in [
            "read",
            "vread",
            "update",
            "patch",
            "delete",
            "create",
            "history-instance",
            "history-type",
            "search-type",
        ] {
            assert!(interactions.contains(&code), "{code}");
        }
        let system: Vec<&str> = statement["rest"][0]["interaction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        assert_eq!(system, ["transaction", "batch", "history-system"]);
    });
}

#[test]
fn create_returns_location_etag_and_the_stored_resource() {
    each_backend(|s| {
        let mut sent = patient("001090000001");
        sent["id"] = json!("ignored-on-create");
        let reply = s.post("Patient", &sent);
        assert_eq!(reply.status, 201, "{}: {}", s.backend, reply.body);
        let body = reply.json();
        let id = body["id"].as_str().unwrap();
        assert_ne!(id, "ignored-on-create");
        assert_eq!(body["meta"]["versionId"], "1");
        assert!(body["meta"]["lastUpdated"].as_str().unwrap().ends_with('Z'));
        assert_eq!(body["name"][0]["family"], "Nguyễn");
        assert_eq!(reply.header("etag"), Some("W/\"1\""));
        assert!(reply.header("last-modified").unwrap().ends_with("GMT"));
        let location = reply.header("location").unwrap();
        assert_eq!(location, s.url(&format!("Patient/{id}/_history/1")));
        assert_eq!(s.get(&format!("Patient/{id}")).json(), body);
    });
}

#[test]
fn prefer_return_is_honoured() {
    each_backend(|s| {
        let body = patient("001090000002").to_string();
        let url = s.url("Patient");
        let minimal = call(
            "POST",
            &url,
            &[
                ("Content-Type", "application/fhir+json"),
                ("Prefer", "return=minimal"),
            ],
            Some(&body),
        );
        assert_eq!(minimal.status, 201);
        assert!(minimal.body.is_empty(), "{}", minimal.body);
        assert!(minimal.header("location").is_some());
        let outcome = call(
            "POST",
            &url,
            &[
                ("Content-Type", "application/fhir+json"),
                ("Prefer", "return=OperationOutcome"),
            ],
            Some(&body),
        );
        assert_eq!(outcome.status, 201);
        assert_eq!(outcome.json()["resourceType"], "OperationOutcome");
        assert_eq!(outcome.json()["issue"][0]["severity"], "information");
        let representation = call(
            "POST",
            &url,
            &[
                ("Content-Type", "application/fhir+json"),
                ("Prefer", "return=representation"),
            ],
            Some(&body),
        );
        assert_eq!(representation.json()["resourceType"], "Patient");
    });
}

#[test]
fn decimals_and_element_order_are_kept_exactly() {
    each_backend(|s| {
        let raw = r#"{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"dispenseRequest":{"quantity":{"value":10.50,"unit":"viên"}},"medicationCodeableConcept":{"text":"Paracetamol 500mg"}}"#;
        let reply = call(
            "POST",
            &s.url("MedicationRequest"),
            &[("Content-Type", "application/fhir+json")],
            Some(raw),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        let id = reply.json()["id"].as_str().unwrap().to_string();
        let read = s.get(&format!("MedicationRequest/{id}"));
        assert!(read.body.contains(r#""value":10.50"#), "{}", read.body);
        assert!(
            read.body.contains(r#""dispenseRequest":{"quantity":{"value":10.50,"unit":"viên"}},"medicationCodeableConcept""#),
            "{}",
            read.body
        );
    });
}

#[test]
fn read_vread_and_conditional_read() {
    each_backend(|s| {
        let id = s.create(&patient("001090000003"));
        let path = format!("Patient/{id}");
        let mut changed = s.get(&path).json();
        changed["gender"] = json!("female");
        assert_eq!(s.put(&path, &changed).status, 200);

        let v1 = s.get(&format!("{path}/_history/1"));
        assert_eq!(v1.status, 200);
        assert_eq!(v1.json()["gender"], "male");
        assert_eq!(v1.header("etag"), Some("W/\"1\""));
        let v2 = s.get(&format!("{path}/_history/2"));
        assert_eq!(v2.json()["gender"], "female");
        s.get(&format!("{path}/_history/3")).outcome(404);
        s.get(&format!("{path}/_history/x")).outcome(404);

        let current = s.get(&path);
        assert_eq!(current.header("etag"), Some("W/\"2\""));
        let unchanged = s.get_with(&path, &[("If-None-Match", "W/\"2\"")]);
        assert_eq!(unchanged.status, 304);
        assert!(unchanged.body.is_empty());
        assert_eq!(
            s.get_with(&path, &[("If-None-Match", "W/\"1\"")]).status,
            200
        );

        s.get(&format!("Patient/{}", unique_id("none")))
            .outcome(404);
        let bad = s.get(&format!("Patient/{}", "a".repeat(65))).outcome(400);
        assert_eq!(bad["expression"][0], "id");
        s.get("Patient/a_b").outcome(400);
    });
}

#[test]
fn update_versions_and_update_as_create() {
    each_backend(|s| {
        let id = unique_id("pat");
        let path = format!("Patient/{id}");
        let mut resource = patient("001090000004");
        resource["id"] = json!(id);
        let created = s.put(&path, &resource);
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(
            created.header("location").unwrap(),
            s.url(&format!("{path}/_history/1"))
        );
        resource["active"] = json!(true);
        let updated = s.put(&path, &resource);
        assert_eq!(updated.status, 200);
        assert_eq!(updated.header("etag"), Some("W/\"2\""));
        assert_eq!(updated.json()["meta"]["versionId"], "2");
        assert_eq!(updated.json()["active"], true);

        let ok = s.put_with(&path, &resource, &[("If-Match", "W/\"2\"")]);
        assert_eq!(ok.status, 200);
        assert_eq!(ok.header("etag"), Some("W/\"3\""));
        let stale = s
            .put_with(&path, &resource, &[("If-Match", "W/\"2\"")])
            .outcome(412);
        assert_eq!(stale["code"], "conflict");
        s.put_with(&path, &resource, &[("If-Match", "yesterday")])
            .outcome(400);
        assert_eq!(s.get(&path).header("etag"), Some("W/\"3\""));
    });
}

#[test]
fn update_rejects_mismatched_or_missing_id() {
    each_backend(|s| {
        let id = unique_id("pat");
        let mut resource = patient("001090000005");
        resource["id"] = json!("someone-else");
        let issue = s.put(&format!("Patient/{id}"), &resource).outcome(400);
        assert_eq!(issue["expression"][0], "Patient.id");
        resource.as_object_mut().unwrap().remove("id");
        s.put(&format!("Patient/{id}"), &resource).outcome(400);
        s.get(&format!("Patient/{id}")).outcome(404);
    });
}

#[test]
fn delete_is_a_versioned_tombstone() {
    each_backend(|s| {
        let id = s.create(&patient("001090000006"));
        let path = format!("Patient/{id}");
        let deleted = s.delete(&path);
        assert_eq!(deleted.status, 200);
        assert_eq!(deleted.header("etag"), Some("W/\"2\""));
        assert_eq!(deleted.json()["issue"][0]["severity"], "information");
        s.get(&path).outcome(410);
        s.get(&format!("{path}/_history/2")).outcome(410);
        assert_eq!(s.get(&format!("{path}/_history/1")).status, 200);
        let again = s.delete(&path);
        assert_eq!(again.status, 200);
        assert_eq!(again.header("etag"), Some("W/\"2\""));
        s.delete(&format!("Patient/{}", unique_id("none")))
            .outcome(404);

        let mut revived = patient("001090000006");
        revived["id"] = json!(id);
        let put = s.put(&path, &revived);
        assert_eq!(put.status, 200, "{}", put.body);
        assert_eq!(put.header("etag"), Some("W/\"3\""));
        assert_eq!(s.get(&path).status, 200);

        let other = s.create(&patient("001090000007"));
        let wrong = call(
            "DELETE",
            &s.url(&format!("Patient/{other}")),
            &[("If-Match", "W/\"7\"")],
            None,
        );
        wrong.outcome(412);
        assert_eq!(s.get(&format!("Patient/{other}")).status, 200);
    });
}

#[test]
fn history_at_every_level_with_paging_and_since() {
    each_backend(|s| {
        let id = s.create(&patient("001090000008"));
        let path = format!("Patient/{id}");
        let mut resource = s.get(&path).json();
        for gender in ["female", "other", "unknown"] {
            resource["gender"] = json!(gender);
            assert_eq!(s.put(&path, &resource).status, 200);
        }
        s.delete(&path);

        let history = s.get(&format!("{path}/_history")).json();
        assert_eq!(history["type"], "history");
        assert_eq!(history["total"], 5);
        let entries = history["entry"].as_array().unwrap();
        let versions: Vec<&str> = entries
            .iter()
            .map(|e| e["response"]["etag"].as_str().unwrap())
            .collect();
        assert_eq!(
            versions,
            ["W/\"5\"", "W/\"4\"", "W/\"3\"", "W/\"2\"", "W/\"1\""]
        );
        assert_eq!(entries[0]["request"]["method"], "DELETE");
        assert!(entries[0].get("resource").is_none());
        assert_eq!(entries[1]["resource"]["gender"], "unknown");
        assert_eq!(entries[4]["request"]["method"], "POST");
        assert_eq!(entries[4]["response"]["status"], "201 Created");

        // Follow `next` links two at a time and collect every version once.
        let mut url = s.url(&format!("{path}/_history?_count=2"));
        let mut seen = Vec::new();
        loop {
            let page = call("GET", &url, &[], None).json();
            assert_eq!(page["total"], 5);
            for entry in page["entry"].as_array().unwrap() {
                seen.push(entry["response"]["etag"].as_str().unwrap().to_string());
            }
            let next = page["link"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["relation"] == "next")
                .map(|l| l["url"].as_str().unwrap().to_string());
            match next {
                Some(next) => url = next,
                None => break,
            }
        }
        assert_eq!(seen.len(), 5, "{seen:?}");
        assert_eq!(seen, versions);

        let since = entries[1]["response"]["lastModified"].as_str().unwrap();
        let recent = s
            .get(&format!(
                "{path}/_history?_since={}",
                since.replace('+', "%2B")
            ))
            .json();
        assert!(
            recent["total"].as_i64().unwrap() >= 2 && recent["total"].as_i64().unwrap() < 5,
            "{recent}"
        );

        let by_type = s.get("Patient/_history?_count=100").json();
        assert!(by_type["entry"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["fullUrl"].as_str().unwrap().contains("/Patient/")));
        assert!(by_type["total"].as_i64().unwrap() >= 5);

        let encounter = s.create(
            &json!({"resourceType": "Encounter", "status": "planned", "class": {"code": "AMB"}}),
        );
        let system = s.get("_history?_count=5").json();
        assert!(system["entry"].as_array().unwrap().len() <= 5);
        assert!(system["total"].as_i64().unwrap() >= 6);
        let all = s.get("_history?_count=100").json();
        assert!(all["entry"].as_array().unwrap().iter().any(|e| e["fullUrl"]
            .as_str()
            .unwrap()
            .ends_with(&format!("Encounter/{encounter}"))));

        let bad = s
            .get(&format!("{path}/_history?_since=yesterday"))
            .outcome(400);
        assert_eq!(bad["expression"][0], "_since");
        let bad = s.get(&format!("{path}/_history?_count=-1")).outcome(400);
        assert_eq!(bad["expression"][0], "_count");
        s.get("Observation/_history").outcome(404);
    });
}

#[test]
fn invalid_resources_are_rejected_and_nothing_is_stored() {
    each_backend(|s| {
        let id = unique_id("bad");
        let path = format!("Patient/{id}");
        let put = |body: &str| {
            call(
                "PUT",
                &s.url(&path),
                &[("Content-Type", "application/fhir+json")],
                Some(body),
            )
        };

        let issue = put(&format!(
            r#"{{"resourceType":"Patient","id":"{id}","foo":1}}"#
        ))
        .outcome(400);
        assert_eq!(issue["expression"][0], "Patient.foo");
        let issue = put(&format!(
            r#"{{"resourceType":"Patient","id":"{id}","name":[{{"family":"Lê","bar":true}}]}}"#
        ))
        .outcome(400);
        assert_eq!(issue["expression"][0], "Patient.name[0].bar");
        let issue = put(&format!(
            r#"{{"resourceType":"Patient","id":"{id}","birthDate":"1980-02-30"}}"#
        ))
        .outcome(400);
        assert_eq!(issue["expression"][0], "Patient.birthDate");
        let issue = put(&format!(
            r#"{{"resourceType":"Patient","id":"{id}","gender":"nam"}}"#
        ))
        .outcome(400);
        assert_eq!(issue["expression"][0], "Patient.gender");
        let issue = put(&format!(r#"{{"resourceType":"Encounter","id":"{id}"}}"#)).outcome(400);
        assert_eq!(issue["expression"][0], "resourceType");
        let issue = put(&format!(
            r#"{{"resourceType":"Patient","id":"{id}","name":[]}}"#
        ))
        .outcome(400);
        assert_eq!(issue["expression"][0], "Patient.name");
        put(r#"{"resourceType":"Patient","#).outcome(400);
        put("[1,2,3]").outcome(400);
        put("").outcome(400);
        put(&"[".repeat(10_000)).outcome(400);
        s.get(&path).outcome(404);
        assert_eq!(s.get(&format!("{path}/_history")).json()["total"], 0);
    });
}

#[test]
fn limits_media_types_and_unknown_paths() {
    each_backend(|s| {
        let mut big = patient("001090000009");
        big["name"][0]["text"] = json!("x".repeat(MAX_BODY));
        s.post("Patient", &big).outcome(413);

        let text = call(
            "POST",
            &s.url("Patient"),
            &[("Content-Type", "text/plain")],
            Some("{}"),
        );
        text.outcome(415);
        let xml = call(
            "POST",
            &s.url("Patient"),
            &[("Content-Type", "application/fhir+xml")],
            Some("<Patient/>"),
        );
        xml.outcome(415);

        s.get("Observation/1").outcome(404);
        s.post("Observation", &json!({"resourceType": "Observation"}))
            .outcome(404);
        s.get("nothing/here/at/all/really").outcome(404);
        call("GET", &s.base.replace("/fhir", "/elsewhere"), &[], None).outcome(404);
        call("PATCH", &s.url("Patient/abc"), &[], Some("[]")).outcome(404);
        call("PATCH", &s.url("Patient"), &[], Some("[]")).outcome(405);
    });
}

#[test]
fn content_negotiation() {
    each_backend(|s| {
        let id = s.create(&patient("001090000010"));
        let path = format!("Patient/{id}");
        let plain = s.get_with(&path, &[("Accept", "application/json")]);
        assert_eq!(plain.status, 200);
        assert!(plain
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        let fhir = s.get_with(&path, &[("Accept", "application/fhir+json")]);
        assert!(fhir
            .header("content-type")
            .unwrap()
            .starts_with("application/fhir+json"));
        let browser = s.get_with(
            &path,
            &[("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
        );
        assert_eq!(browser.status, 200);
        s.get_with(&path, &[("Accept", "application/fhir+xml")])
            .outcome(406);
        s.get(&format!("{path}?_format=xml")).outcome(406);
        let formatted = s.get_with(
            &format!("{path}?_format=json"),
            &[("Accept", "application/fhir+xml")],
        );
        assert_eq!(formatted.status, 200);
        let pretty = s.get(&format!("{path}?_pretty=true"));
        assert!(
            pretty.body.contains("\n  \"resourceType\""),
            "{}",
            pretty.body
        );
        assert_eq!(pretty.json(), s.get(&path).json());
    });
}

#[test]
fn all_four_types_round_trip() {
    each_backend(|s| {
        let patient_id = s.create(&patient("001090000011"));
        let subject = json!({"reference": format!("Patient/{patient_id}")});
        let encounter = json!({
            "resourceType": "Encounter",
            "identifier": [{"system": "https://fhir.vnfhir.org/sid/cskcb/01001/ma-lk", "value": unique_id("LK")}],
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "type": [{"coding": [{"system": "https://fhir.vnfhir.org/CodeSystem/ma-loai-kcb", "code": "01"}]}],
            "subject": subject,
            "period": {"start": "2024-05-01T08:00:00+07:00", "end": "2024-05-01T10:00:00+07:00"}
        });
        let encounter_id = s.create(&encounter);
        let immunization = json!({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "08"}]},
            "patient": subject,
            "encounter": {"reference": format!("Encounter/{encounter_id}")},
            "occurrenceDateTime": "2024-05-01T09:00:00+07:00",
            "lotNumber": "LOT-1"
        });
        let request = json!({
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"text": "Amoxicillin 500mg"},
            "subject": subject,
            "authoredOn": "2024-05-01T09:30:00+07:00"
        });
        for resource in [encounter, immunization, request] {
            let kind = resource["resourceType"].as_str().unwrap().to_string();
            let id = s.create(&resource);
            let read = s.get(&format!("{kind}/{id}")).json();
            let mut expected = resource.clone();
            for key in ["id", "meta"] {
                expected[key] = read[key].clone();
            }
            assert_eq!(read, expected, "{} {kind}", s.backend);
        }
    });
}

/// Twenty clients race to update one resource with If-Match: no write is lost.
#[test]
fn concurrent_updates_lose_nothing() {
    each_backend(|s| {
        let id = s.create(&patient("001090000012"));
        let path = format!("Patient/{id}");
        let successes = Arc::new(AtomicUsize::new(0));
        let conflicts = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..20)
            .map(|client| {
                let url = s.url(&path);
                let successes = Arc::clone(&successes);
                let conflicts = Arc::clone(&conflicts);
                thread::spawn(move || {
                    let current = call("GET", &url, &[], None);
                    let etag = current.header("etag").unwrap().to_string();
                    let mut resource: Value = current.json();
                    resource["telecom"] =
                        json!([{"system": "phone", "value": format!("09{client:08}")}]);
                    let reply = call(
                        "PUT",
                        &url,
                        &[
                            ("Content-Type", "application/fhir+json"),
                            ("If-Match", &etag),
                        ],
                        Some(&resource.to_string()),
                    );
                    match reply.status {
                        200 => successes.fetch_add(1, Ordering::SeqCst),
                        412 => conflicts.fetch_add(1, Ordering::SeqCst),
                        other => panic!("unexpected {other}: {}", reply.body),
                    };
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
        let successes = successes.load(Ordering::SeqCst);
        assert_eq!(successes + conflicts.load(Ordering::SeqCst), 20);
        assert!(successes >= 1);
        let version: usize = s.get(&path).json()["meta"]["versionId"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(version, 1 + successes, "{}", s.backend);
        let history = s.get(&format!("{path}/_history?_count=100")).json();
        assert_eq!(history["total"].as_u64().unwrap() as usize, 1 + successes);
    });
}

/// Without If-Match every racing update lands, each as its own version.
#[test]
fn concurrent_blind_updates_all_land() {
    each_backend(|s| {
        let id = unique_id("race");
        let path = format!("Patient/{id}");
        let clients: Vec<_> = (0..20)
            .map(|client| {
                let url = s.url(&path);
                let id = id.clone();
                thread::spawn(move || {
                    let mut resource = patient("001090000013");
                    resource["id"] = json!(id);
                    resource["telecom"] =
                        json!([{"system": "phone", "value": format!("09{client:08}")}]);
                    let reply = call(
                        "PUT",
                        &url,
                        &[("Content-Type", "application/fhir+json")],
                        Some(&resource.to_string()),
                    );
                    assert!(matches!(reply.status, 200 | 201), "{}", reply.body);
                    reply.status
                })
            })
            .collect();
        let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            s.get(&path).json()["meta"]["versionId"],
            "20",
            "{}",
            s.backend
        );
    });
}

/// What REST writes is in the typed tables a hospital's IT staff can query with SQL.
#[test]
fn writes_land_in_relational_tables() {
    use diesel::prelude::*;
    use vnfhir::store::schema::{encounter, patient, patient_name, resource_identifier};

    each_backend(|s| {
        let pool = vnfhir::store::db::pool(&s.database, 1).unwrap();
        let mut conn = pool.get().unwrap();
        let cccd = format!("{:012}", uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000);
        let id = s.create(&patient(&cccd));

        let row: (Option<String>, Option<String>, Option<String>, bool, i64) = patient::table
            .find(&id)
            .select((
                patient::cccd,
                patient::gender,
                patient::birth_date_precision,
                patient::deleted,
                patient::version_id,
            ))
            .first(&mut *conn)
            .unwrap();
        assert_eq!(
            row,
            (
                Some(cccd.clone()),
                Some("male".into()),
                Some("month".into()),
                false,
                1
            )
        );
        let names: Vec<String> = patient_name::table
            .filter(patient_name::patient_id.eq(&id))
            .select(patient_name::search)
            .load(&mut *conn)
            .unwrap();
        assert_eq!(names, ["nguyen van duc"]);
        let found: Vec<String> = resource_identifier::table
            .filter(resource_identifier::resource_type.eq("Patient"))
            .filter(resource_identifier::value.eq(&cccd))
            .select(resource_identifier::resource_id)
            .load(&mut *conn)
            .unwrap();
        assert_eq!(found, std::slice::from_ref(&id));

        let mut changed = s.get(&format!("Patient/{id}")).json();
        changed["name"] = json!([{"text": "Đặng Thị Thủy"}]);
        changed.as_object_mut().unwrap().remove("identifier");
        assert_eq!(s.put(&format!("Patient/{id}"), &changed).status, 200);
        let names: Vec<String> = patient_name::table
            .filter(patient_name::patient_id.eq(&id))
            .select(patient_name::search)
            .load(&mut *conn)
            .unwrap();
        assert_eq!(names, ["dang thi thuy"]);
        let (cccd_now, version): (Option<String>, i64) = patient::table
            .find(&id)
            .select((patient::cccd, patient::version_id))
            .first(&mut *conn)
            .unwrap();
        assert_eq!((cccd_now, version), (None, 2));

        s.delete(&format!("Patient/{id}"));
        let (deleted, content): (bool, Option<String>) = patient::table
            .find(&id)
            .select((patient::deleted, patient::content))
            .first(&mut *conn)
            .unwrap();
        assert!(deleted && content.is_none());
        let names: i64 = patient_name::table
            .filter(patient_name::patient_id.eq(&id))
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(names, 0);

        let ma_lk = unique_id("LK");
        let encounter_id = s.create(&json!({
            "resourceType": "Encounter",
            "identifier": [{"system": "https://fhir.vnfhir.org/sid/cskcb/01001/ma-lk", "value": ma_lk}],
            "status": "in-progress",
            "class": {"code": "IMP"},
            "subject": {"reference": format!("Patient/{id}")},
            "period": {"start": "2024-05-01T08:00:00+07:00"}
        }));
        let (stored_lk, patient_id, start): (
            Option<String>,
            Option<String>,
            Option<chrono::NaiveDateTime>,
        ) = encounter::table
            .find(&encounter_id)
            .select((
                encounter::ma_lk,
                encounter::patient_id,
                encounter::period_start,
            ))
            .first(&mut *conn)
            .unwrap();
        assert_eq!(stored_lk, Some(ma_lk));
        assert_eq!(patient_id, Some(id));
        assert_eq!(start.unwrap().to_string(), "2024-05-01 01:00:00");
    });
}
