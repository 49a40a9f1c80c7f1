//! FHIR search against the real server, on SQLite and on PostgreSQL.

mod common;

use common::{call, each_backend, unique_id, Server};
use serde_json::{json, Value};

const TAG: &str = "urn:vnfhir:test";

/// Resources of one test carry one tag, so searches can be scoped to them.
fn tagged(mut resource: Value, tag: &str) -> Value {
    resource["meta"] = json!({"tag": [{"system": TAG, "code": tag}]});
    resource
}

fn person(tag: &str, family: &str, given: &[&str], gender: &str, birth: &str, cccd: &str) -> Value {
    tagged(
        json!({
            "resourceType": "Patient",
            "identifier": [{"system": "https://fhir.vnfhir.org/sid/cccd", "value": cccd,
                            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NI"}]}}],
            "name": [{"family": family, "given": given}],
            "gender": gender,
            "birthDate": birth,
            "address": [{"city": "Hà Nội", "use": "home"}],
            "maritalStatus": {"text": "Đã kết hôn"}
        }),
        tag,
    )
}

fn search(s: &Server, query: &str) -> Value {
    let reply = s.get(query);
    assert_eq!(reply.status, 200, "{} {query}: {}", s.backend, reply.body);
    reply.json()
}

/// Ids of the `match` entries, in order.
fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["search"]["mode"] == "match")
        .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// Sorted match ids of a search scoped to one test's tag.
fn scoped(s: &Server, resource_type: &str, tag: &str, rest: &str) -> Vec<String> {
    sorted(ids(&search(
        s,
        &format!("{resource_type}?_tag={TAG}|{tag}&{rest}"),
    )))
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The URL of a Bundle's link of `relation`.
fn link_of(bundle: &Value, relation: &str) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == relation)
        .and_then(|l| l["url"].as_str())
        .map(str::to_string)
}

/// Each entry's `search.mode` and resource id.
fn modes(bundle: &Value) -> Vec<(String, String)> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["search"]["mode"].as_str().unwrap().into(),
                e["resource"]["id"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// Every page from `url` on, following `next`; each must report `total` (`Value::Null`: none).
fn pages_from(s: &Server, mut url: String, total: impl Into<Value>) -> Vec<Value> {
    let total = total.into();
    let mut pages = Vec::new();
    loop {
        let page = call("GET", &url, &[], None).json();
        assert_eq!(page["total"], total, "{}", s.backend);
        let next = link_of(&page, "next");
        pages.push(page);
        match next {
            Some(next) => url = next,
            None => return pages,
        }
    }
}

struct People {
    tag: String,
    duc: String,
    thuy: String,
    an: String,
}

fn people(s: &Server) -> People {
    let tag = unique_id("t");
    People {
        duc: s.create(&person(
            &tag,
            "Nguyễn",
            &["Văn", "Đức"],
            "male",
            "1980-05-12",
            "001080000001",
        )),
        thuy: s.create(&person(
            &tag,
            "Đặng",
            &["Thị", "Thủy"],
            "female",
            "1992",
            "001192000002",
        )),
        an: s.create(&person(
            &tag,
            "Trần",
            &["An"],
            "male",
            "2001-11",
            "001201000003",
        )),
        tag,
    }
}

#[test]
fn string_search_ignores_case_and_vietnamese_accents() {
    each_backend(|s| {
        let p = people(s);
        let q = |rest: &str| scoped(s, "Patient", &p.tag, rest);
        assert_eq!(q("name=nguyen"), vec![p.duc.clone()]);
        assert_eq!(q("name=NGUY%E1%BB%84N"), vec![p.duc.clone()]);
        assert_eq!(q("name=dang"), vec![p.thuy.clone()]);
        assert_eq!(q("name=thi"), vec![p.thuy.clone()]);
        assert_eq!(q("name=duc"), vec![p.duc.clone()]);
        assert_eq!(q("name=van%20d"), vec![p.duc.clone()]);
        assert_eq!(q("given=thuy"), vec![p.thuy.clone()]);
        assert!(q("family=thuy").is_empty());
        assert_eq!(q("family:exact=%C4%90%E1%BA%B7ng"), vec![p.thuy.clone()]);
        assert!(q("family:exact=dang").is_empty());
        assert_eq!(q("name:contains=uye"), vec![p.duc.clone()]);
        assert_eq!(
            sorted(q("name=nguyen,tran")),
            sorted(vec![p.duc.clone(), p.an.clone()])
        );
        assert_eq!(q("address-city=ha%20noi").len(), 3);
        // `name` and `address` also search the rows of their parts.
        assert_eq!(q("name:exact=%C4%90%E1%BA%B7ng"), vec![p.thuy.clone()]);
        assert_eq!(q("phonetic=dang"), vec![p.thuy.clone()]);
        assert_eq!(q("address=noi").len(), 3);
        assert!(q("address-city=home").is_empty());
        assert_eq!(q("name=nguyen&gender=female"), Vec::<String>::new());
    });
}

#[test]
fn token_search_forms_and_modifiers() {
    each_backend(|s| {
        let p = people(s);
        let q = |rest: &str| scoped(s, "Patient", &p.tag, rest);
        let cccd = "https://fhir.vnfhir.org/sid/cccd";
        assert_eq!(
            q(&format!("identifier={cccd}|001080000001")),
            vec![p.duc.clone()]
        );
        assert_eq!(q("identifier=001080000001"), vec![p.duc.clone()]);
        assert!(q("identifier=|001080000001").is_empty());
        assert_eq!(q(&format!("identifier={cccd}|")).len(), 3);
        assert!(q("identifier=other|001080000001").is_empty());
        assert_eq!(
            q("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|NI|001192000002"),
            vec![p.thuy.clone()]
        );
        assert_eq!(q("gender=male"), sorted(vec![p.duc.clone(), p.an.clone()]));
        assert_eq!(
            q("gender=http://hl7.org/fhir/administrative-gender|female"),
            vec![p.thuy.clone()]
        );
        assert!(q("gender=http://other|female").is_empty());
        assert_eq!(q("gender:not=male"), vec![p.thuy.clone()]);
        assert_eq!(q("address-use=home").len(), 3);
        assert_eq!(q("birthdate:missing=false").len(), 3);
        assert!(q("birthdate:missing=true").is_empty());
        assert_eq!(q("_id=").len(), 3, "an empty value is no filter");
        assert_eq!(
            q(&format!("_id={},{}", p.duc, p.an)),
            sorted(vec![p.duc.clone(), p.an.clone()])
        );
    });
}

#[test]
fn date_search_with_prefixes_and_precision() {
    each_backend(|s| {
        let p = people(s);
        let q = |rest: &str| scoped(s, "Patient", &p.tag, rest);
        assert_eq!(q("birthdate=1980"), vec![p.duc.clone()]);
        assert_eq!(q("birthdate=1980-05"), vec![p.duc.clone()]);
        assert_eq!(q("birthdate=1980-05-12"), vec![p.duc.clone()]);
        assert!(q("birthdate=1980-05-13").is_empty());
        // "1992" covers the whole year: it is not inside one day of it.
        assert!(q("birthdate=1992-06-01").is_empty());
        assert_eq!(q("birthdate=1992"), vec![p.thuy.clone()]);
        assert_eq!(
            q("birthdate=ge1990"),
            sorted(vec![p.thuy.clone(), p.an.clone()])
        );
        assert_eq!(q("birthdate=lt1990-01-01"), vec![p.duc.clone()]);
        assert_eq!(q("birthdate=ge1990&birthdate=lt2000"), vec![p.thuy.clone()]);
        assert_eq!(q("birthdate=sa1992"), vec![p.an.clone()]);
        assert_eq!(q("birthdate=eb1992"), vec![p.duc.clone()]);
        assert_eq!(
            q("birthdate=ne1980-05-12"),
            sorted(vec![p.thuy.clone(), p.an.clone()])
        );
        assert_eq!(q("birthdate=ap2001-11-15"), vec![p.an.clone()]);
        assert_eq!(q("birthdate=ge1990&gender=female"), vec![p.thuy.clone()]);
        let issue = s.get("Patient?birthdate=1980-13").outcome(400);
        assert_eq!(issue["expression"][0], "birthdate");
        s.get("Patient?birthdate=zz1980").outcome(400);
    });
}

fn visit(
    tag: &str,
    patient: &str,
    start: &str,
    end: Option<&str>,
    status: &str,
    days: f64,
) -> Value {
    let mut period = json!({"start": start});
    if let Some(end) = end {
        period["end"] = json!(end);
    }
    tagged(
        json!({
            "resourceType": "Encounter",
            "status": status,
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "type": [{"coding": [{"system": "https://fhir.vnfhir.org/CodeSystem/ma-loai-kcb", "code": "01"}], "text": "Khám bệnh"}],
            "subject": {"reference": format!("Patient/{patient}")},
            "period": period,
            "length": {"value": days, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"}
        }),
        tag,
    )
}

#[test]
fn references_chains_has_periods_and_quantities() {
    each_backend(|s| {
        let p = people(s);
        let tag = &p.tag;
        let e1 = s.create(&visit(
            tag,
            &p.duc,
            "2024-05-01T08:00:00+07:00",
            Some("2024-05-01T10:00:00+07:00"),
            "finished",
            0.1,
        ));
        let e2 = s.create(&visit(
            tag,
            &p.duc,
            "2024-06-10T08:00:00+07:00",
            Some("2024-06-15T10:00:00+07:00"),
            "finished",
            5.0,
        ));
        let e3 = s.create(&visit(
            tag,
            &p.thuy,
            "2024-07-01T08:00:00+07:00",
            None,
            "in-progress",
            1.0,
        ));
        let q = |rest: &str| scoped(s, "Encounter", tag, rest);
        assert_eq!(
            q(&format!("subject=Patient/{}", p.duc)),
            sorted(vec![e1.clone(), e2.clone()])
        );
        assert_eq!(
            q(&format!("patient={}", p.duc)),
            sorted(vec![e1.clone(), e2.clone()])
        );
        assert_eq!(q(&format!("subject:Patient={}", p.thuy)), vec![e3.clone()]);
        assert_eq!(
            q(&format!("subject={}/Patient/{}", s.base, p.thuy)),
            vec![e3.clone()]
        );
        assert_eq!(q("patient.identifier=001192000002"), vec![e3.clone()]);
        assert_eq!(
            q("subject:Patient.name=nguyen"),
            sorted(vec![e1.clone(), e2.clone()])
        );
        assert_eq!(
            q("subject:Patient.birthdate=lt1990"),
            sorted(vec![e1.clone(), e2.clone()])
        );
        assert_eq!(q("date=2024-05"), vec![e1.clone()]);
        assert_eq!(q("date=ge2024-06-01&date=le2024-06-30"), vec![e2.clone()]);
        assert_eq!(
            q("date=gt2024-06-30"),
            vec![e3.clone()],
            "an open period goes on"
        );
        assert_eq!(
            q("date=2024-06-12"),
            Vec::<String>::new(),
            "eq needs the whole period inside"
        );
        // ap widens by a tenth of the distance from now: months, two years on.
        assert!(q("date=ap2024-06-12").contains(&e2));
        assert!(q("date=ap2020-01-01").is_empty());
        assert_eq!(q("status=in-progress"), vec![e3.clone()]);
        assert_eq!(
            q("type=https://fhir.vnfhir.org/CodeSystem/ma-loai-kcb|01").len(),
            3
        );
        assert_eq!(q("type:text=kham").len(), 3);
        assert_eq!(q("length=gt2"), vec![e2.clone()]);
        assert_eq!(q("length=1.0"), vec![e3.clone()]);
        assert_eq!(q("length=le1||d"), sorted(vec![e1.clone(), e3.clone()]));
        assert!(q("length=5||min").is_empty());
        // `patient` shares the `subject` rows, limited to Patient targets.
        let mut grouped = visit(tag, "g1", "2024-08-01T08:00:00+07:00", None, "planned", 1.0);
        grouped["subject"] = json!({"reference": "Group/g1"});
        let e4 = s.create(&grouped);
        assert_eq!(q("patient:missing=true"), vec![e4.clone()]);
        assert_eq!(q("subject=Group/g1"), vec![e4.clone()]);
        assert!(q("patient=g1").is_empty());
        assert!(q("patient:missing=false").iter().all(|e| *e != e4));

        let has = sorted(ids(&search(
            s,
            &format!("Patient?_tag={TAG}|{tag}&_has:Encounter:subject:status=in-progress"),
        )));
        assert_eq!(has, vec![p.thuy.clone()]);
        let has = sorted(ids(&search(
            s,
            &format!("Patient?_tag={TAG}|{tag}&_has:Encounter:patient:date=2024-05"),
        )));
        assert_eq!(has, vec![p.duc.clone()]);
    });
}

#[test]
fn include_revinclude_and_iterate() {
    each_backend(|s| {
        let p = people(s);
        let tag = &p.tag;
        let e1 = s.create(&visit(
            tag,
            &p.duc,
            "2024-05-01T08:00:00+07:00",
            None,
            "finished",
            1.0,
        ));
        let order = s.create(&tagged(
            json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                   "medicationCodeableConcept": {"text": "Paracetamol"},
                   "subject": {"reference": format!("Patient/{}", p.duc)},
                   "encounter": {"reference": format!("Encounter/{e1}")},
                   "authoredOn": "2024-05-01T09:00:00+07:00"}),
            tag,
        ));
        let bundle = search(
            s,
            &format!("Encounter?_tag={TAG}|{tag}&_include=Encounter:patient"),
        );
        assert_eq!(
            modes(&bundle),
            [
                ("match".into(), e1.clone()),
                ("include".into(), p.duc.clone())
            ]
        );

        let bundle = search(
            s,
            &format!("MedicationRequest?_tag={TAG}|{tag}&_include=MedicationRequest:encounter&_include:iterate=Encounter:subject"),
        );
        let included: Vec<&str> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["search"]["mode"] == "include")
            .map(|e| e["resource"]["resourceType"].as_str().unwrap())
            .collect();
        assert_eq!(included, ["Encounter", "Patient"]);

        let bundle = search(s, &format!("Patient?_id={}&_revinclude=MedicationRequest:patient&_revinclude=Encounter:subject", p.duc));
        let mut included: Vec<String> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["search"]["mode"] == "include")
            .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
            .collect();
        included.sort();
        assert_eq!(included, sorted(vec![order.clone(), e1.clone()]));

        // A full first page counts its matches alone, not what the includes add.
        let e2 = s.create(&visit(
            tag,
            &p.thuy,
            "2024-06-01T08:00:00+07:00",
            None,
            "finished",
            1.0,
        ));
        let bundle = search(
            s,
            &format!(
                "Encounter?_tag={TAG}|{tag}&_count=1&_total=accurate&_include=Encounter:patient"
            ),
        );
        let (first, patient) = if e1 < e2 { (e1, &p.duc) } else { (e2, &p.thuy) };
        assert_eq!(
            modes(&bundle),
            [("match".into(), first), ("include".into(), patient.clone())],
            "{}",
            s.backend
        );
        assert_eq!(bundle["total"], 2, "{}", s.backend);
        s.get("Encounter?_include=Encounter:status").outcome(400);
    });
}

#[test]
fn paging_is_stable_in_both_directions_with_sorting() {
    each_backend(|s| {
        let tag = unique_id("page");
        let mut expected = Vec::new();
        for i in 0..7 {
            let birth = format!("19{:02}-01-01", 90 - i % 3);
            let id = s.create(&person(
                &tag,
                "Lê",
                &["Bình"],
                "male",
                &birth,
                &format!("0010000000{i:02}"),
            ));
            expected.push((birth, id));
        }
        // -birthdate, then id ascending as the tie-break.
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
        let url = s.url(&format!(
            "Patient?_tag={TAG}|{tag}&_sort=-birthdate&_count=3&_total=accurate"
        ));
        let pages = pages_from(s, url, 7);
        let seen: Vec<String> = pages.iter().flat_map(ids).collect();
        assert_eq!(seen, expected, "{}", s.backend);
        assert_eq!(pages.len(), 3);
        // Back from the last page to the first.
        let previous = link_of(&pages[2], "previous").unwrap();
        let back = call("GET", &previous, &[], None).json();
        assert_eq!(ids(&back), ids(&pages[1]));
        let first = call("GET", &link_of(&back, "previous").unwrap(), &[], None).json();
        assert_eq!(ids(&first), ids(&pages[0]));
        assert!(link_of(&first, "previous").is_none());

        let by_name = ids(&search(
            s,
            &format!("Patient?_tag={TAG}|{tag}&_sort=family,-_lastUpdated&_count=2"),
        ));
        assert_eq!(by_name.len(), 2);
        s.get(&format!("Patient?_tag={TAG}|{tag}&_cursor=garbage"))
            .outcome(400);
    });
}

#[test]
fn result_controls() {
    each_backend(|s| {
        let p = people(s);
        let base = format!("Patient?_tag={TAG}|{}", p.tag);
        let count = search(s, &format!("{base}&_summary=count"));
        assert_eq!(count["total"], 3);
        assert!(count["entry"].as_array().unwrap().is_empty());
        let none = search(s, &format!("{base}&_total=none"));
        assert!(none.get("total").is_none());
        assert_eq!(ids(&none).len(), 3);
        // Past the first page only an asked-for total: `accurate` counts, `estimate` asks
        // PostgreSQL's planner (SQLite has no estimate and counts).
        assert!(search(s, &format!("{base}&_count=1"))
            .get("total")
            .is_none());
        let accurate = search(s, &format!("{base}&_count=1&_total=accurate"));
        assert_eq!(accurate["total"], 3);
        let estimate = search(s, &format!("{base}&_total=estimate&_count=1"));
        let estimated = estimate["total"].as_i64().expect("an estimated total");
        if s.backend == "sqlite" {
            assert_eq!(estimated, 3);
        } else {
            assert!(estimated >= 1, "{estimate}");
        }
        assert_eq!(ids(&estimate).len(), 1);
        let summary = search(s, &format!("{base}&_summary=true&_count=1"));
        let resource = &summary["entry"][0]["resource"];
        assert!(resource.get("maritalStatus").is_none(), "{resource}");
        assert!(resource.get("name").is_some());
        assert!(resource["meta"]["tag"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["code"] == "SUBSETTED"));
        let elements = search(s, &format!("{base}&_elements=gender&_count=1"));
        let resource = &elements["entry"][0]["resource"];
        assert!(
            resource.get("gender").is_some() && resource.get("name").is_none(),
            "{resource}"
        );

        let get = search(s, &format!("{base}&name=nguyen"));
        let post = call(
            "POST",
            &s.url("Patient/_search"),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&format!("_tag={TAG}%7C{}&name=nguyen", p.tag)),
        );
        assert_eq!(post.status, 200, "{}", post.body);
        assert_eq!(ids(&post.json()), ids(&get));

        let unknown = search(s, &format!("{base}&foo=bar"));
        assert_eq!(ids(&unknown).len(), 3);
        let outcome = unknown["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["search"]["mode"] == "outcome")
            .unwrap();
        assert!(outcome["resource"]["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("foo"));
        let strict = call(
            "GET",
            &s.url(&format!("{base}&foo=bar")),
            &[("Prefer", "handling=strict")],
            None,
        );
        assert_eq!(strict.outcome(400)["expression"][0], "foo");
        s.get("Patient?_count=abc").outcome(400);
        s.get("Patient?_sort=identifier").outcome(400);
        s.get("Patient?gender:contains=m").outcome(400);
    });
}

#[test]
fn conditional_create_update_and_delete() {
    each_backend(|s| {
        let tag = unique_id("cond");
        let cccd = format!("{:012}", uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000);
        let body = person(&tag, "Phạm", &["Hoa"], "female", "1975", &cccd).to_string();
        let condition = format!("identifier=https://fhir.vnfhir.org/sid/cccd|{cccd}");
        let headers = [
            ("Content-Type", "application/fhir+json"),
            ("If-None-Exist", condition.as_str()),
        ];
        let first = call("POST", &s.url("Patient"), &headers, Some(&body));
        assert_eq!(first.status, 201, "{}", first.body);
        let id = first.json()["id"].as_str().unwrap().to_string();
        let again = call("POST", &s.url("Patient"), &headers, Some(&body));
        assert_eq!(again.status, 200);
        assert_eq!(again.json()["id"], id.as_str());

        let mut changed: Value = serde_json::from_str(&body).unwrap();
        changed["gender"] = json!("other");
        let updated = call(
            "PUT",
            &s.url(&format!("Patient?{condition}")),
            &[("Content-Type", "application/fhir+json")],
            Some(&changed.to_string()),
        );
        assert_eq!(updated.status, 200, "{}", updated.body);
        assert_eq!(updated.json()["id"], id.as_str());
        assert_eq!(updated.json()["meta"]["versionId"], "2");

        let fresh = format!(
            "identifier=https://fhir.vnfhir.org/sid/cccd|{}",
            unique_id("none")
        );
        let other = person(&tag, "Phạm", &["Lan"], "female", "1977", "079177000001").to_string();
        let created = call(
            "PUT",
            &s.url(&format!("Patient?{fresh}")),
            &[("Content-Type", "application/fhir+json")],
            Some(&other),
        );
        assert_eq!(created.status, 201, "{}", created.body);

        let twin = s.create(&person(&tag, "Phạm", &["Hoa"], "female", "1975", &cccd));
        let many = call("POST", &s.url("Patient"), &headers, Some(&body));
        many.outcome(412);
        call(
            "PUT",
            &s.url(&format!("Patient?{condition}")),
            &[("Content-Type", "application/fhir+json")],
            Some(&body),
        )
        .outcome(412);
        call("DELETE", &s.url(&format!("Patient?{condition}")), &[], None).outcome(412);
        assert_eq!(s.delete(&format!("Patient/{twin}")).status, 200);
        let deleted = call("DELETE", &s.url(&format!("Patient?{condition}")), &[], None);
        assert_eq!(deleted.status, 200, "{}", deleted.body);
        s.get(&format!("Patient/{id}")).outcome(410);
        call("DELETE", &s.url(&format!("Patient?{condition}")), &[], None).outcome(404);
        call("DELETE", &s.url("Patient"), &[], None).outcome(400);
    });
}

#[test]
fn capability_statement_lists_the_supported_parameters() {
    each_backend(|s| {
        let statement = search(s, "metadata");
        let patient = &statement["rest"][0]["resource"][0];
        let names: Vec<&str> = patient["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for name in [
            "_id",
            "_lastUpdated",
            "_tag",
            "identifier",
            "name",
            "family",
            "given",
            "birthdate",
            "gender",
            "address-city",
        ] {
            assert!(names.contains(&name), "{name}");
        }
        assert!(!names.contains(&"_text") && !names.contains(&"_content"));
        assert!(patient["searchRevInclude"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "Encounter:subject"));
        assert!(patient["interaction"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["code"] == "search-type"));
    });
}

#[test]
fn reference_identifier_modifier() {
    each_backend(|s| {
        let tag = unique_id("ref");
        let licence = unique_id("CCHN");
        let order = s.create(&tagged(
            json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                   "medicationCodeableConcept": {"text": "Amoxicillin"},
                   "subject": {"reference": "Patient/x"},
                   "requester": {"identifier": {"system": "https://fhir.vnfhir.org/sid/cchn", "value": licence}}}),
            &tag,
        ));
        let q = |rest: &str| scoped(s, "MedicationRequest", &tag, rest);
        assert_eq!(
            q(&format!(
                "requester:identifier=https://fhir.vnfhir.org/sid/cchn|{licence}"
            )),
            vec![order.clone()]
        );
        assert_eq!(
            q(&format!("requester:identifier={licence}")),
            vec![order.clone()]
        );
        assert!(q(&format!("requester:identifier=other|{licence}")).is_empty());
        assert!(q("requester:identifier=CCHN").is_empty());
    });
}

/// The load tool's path: a bulk batch, then fresh planner statistics, and the people are
/// found by CCCD, by accent-free name and by address part over REST.
#[test]
fn a_bulk_loaded_population_is_analyzed_and_found() {
    use vnfhir::bench::population;
    use vnfhir::store::{RequestContext, Store};
    each_backend(|s| {
        let store = Store::open(&s.database, 2).unwrap();
        let ctx = RequestContext {
            caller: "test".into(),
            facility: None,
            request_id: unique_id("load"),
        };
        let first = 7_000_000 + std::process::id() as u64 * 10;
        let resources = (first..first + 3).flat_map(population::household).collect();
        assert_eq!(store.create_batch(&ctx, resources).unwrap(), 18);
        store.analyze(&ctx).unwrap();
        let person = population::person(first);
        let cccd = person["identifier"][0]["value"].as_str().unwrap();
        let found = ids(&search(
            s,
            &format!("Patient?identifier=https://fhir.vnfhir.org/sid/cccd|{cccd}"),
        ));
        assert_eq!(found, vec![population::patient_id(first)]);
        let name = vnfhir::fhir::text::search_form(person["name"][0]["text"].as_str().unwrap());
        let by_name = ids(&search(
            s,
            &format!("Patient?name={}&_count=1000", name.replace(' ', "%20")),
        ));
        assert!(by_name.contains(&population::patient_id(first)));
        let visits = ids(&search(
            s,
            &format!("Encounter?patient={}", population::patient_id(first)),
        ));
        assert_eq!(visits.len(), population::VISITS as usize);
    });
}

/// Searches on index tables alone take their ids from the index rows: pages by id in both
/// directions, counts, and never a deleted resource.
#[test]
fn index_only_searches_page_by_id_and_skip_deleted() {
    each_backend(|s| {
        let tag = unique_id("ids");
        let mut live: Vec<String> = (0..5)
            .map(|i| {
                s.create(&person(
                    &tag,
                    "Lý",
                    &["Minh"],
                    "male",
                    "1990-01-01",
                    &format!("0020000000{i:02}"),
                ))
            })
            .collect();
        let gone = live.remove(2);
        assert_eq!(s.delete(&format!("Patient/{gone}")).status, 200);
        live.sort();
        let url = s.url(&format!(
            "Patient?_tag={TAG}|{tag}&name=ly%20minh&_count=2&_total=accurate"
        ));
        let pages = pages_from(s, url, 4);
        let seen: Vec<String> = pages.iter().flat_map(ids).collect();
        assert_eq!(seen, live, "{}", s.backend);
        let previous = link_of(&pages[1], "previous").unwrap();
        assert_eq!(ids(&call("GET", &previous, &[], None).json()), live[..2]);
        // A filter on the type's own columns takes the other path, with the same answer.
        let with_gender = scoped(s, "Patient", &tag, "name=ly%20minh&gender=male");
        assert_eq!(with_gender, live);
        assert!(scoped(s, "Patient", &tag, &format!("_id={gone}")).is_empty());
    });
}

/// Letters only, so the name is one word of its own: no other test's name starts with it.
fn unique_word() -> String {
    unique_id("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| char::from(b'a' + (c.to_digit(16).unwrap() as u8)))
        .take(12)
        .collect()
}

/// Without `_sort`, a name search lists people by the folded name that matched and a
/// birth date search by birth date, each then by id; a person with two matching names comes
/// once. Paging walks that order both ways, and only `_total=accurate` counts past one page.
#[test]
fn searches_without_sort_follow_the_index() {
    each_backend(|s| {
        let tag = unique_id("order");
        let word = unique_word();
        let make = |letters: &[&str], gender: &str, birth: &str| {
            let cccd = format!("0018710000{:02}", letters[0].as_bytes()[0] - b'a');
            let mut patient = person(&tag, "", &["Thị"], gender, birth, &cccd);
            patient["name"] = letters
                .iter()
                .map(|l| json!({"family": format!("{word}{l}"), "given": ["Thị"]}))
                .collect();
            s.create(&patient)
        };
        // Created out of name order; `c` also has a second name further on.
        let e = make(&["e"], "female", "1871-03-20");
        let a = make(&["a"], "female", "1871-03-05");
        let d = make(&["d"], "male", "1871-03-15");
        let c = make(&["c", "g"], "female", "1871-03-20");
        let b = make(&["b"], "female", "1871-03-11");
        // A `text` that is not family and given: the name is found by both.
        let mut nickname = person(&tag, "", &["Thị"], "female", "1871-04-01", "001871000099");
        nickname["name"] = json!([{"text": format!("Bé {word}z"), "family": format!("{word}f"), "given": ["Thị"]}]);
        let f = s.create(&nickname);
        let by_name = vec![
            a.clone(),
            b.clone(),
            c.clone(),
            d.clone(),
            e.clone(),
            f.clone(),
        ];

        let url = s.url(&format!("Patient?name={word}&_count=2"));
        let pages = pages_from(s, url, Value::Null);
        let seen: Vec<String> = pages.iter().flat_map(ids).collect();
        assert_eq!(seen, by_name, "{}", s.backend);
        let back = call("GET", &link_of(&pages[2], "previous").unwrap(), &[], None).json();
        assert_eq!(ids(&back), ids(&pages[1]), "{}", s.backend);
        let first = call("GET", &link_of(&back, "previous").unwrap(), &[], None).json();
        assert_eq!(ids(&first), by_name[..2]);
        let counted = s.url(&format!("Patient?name={word}&_count=2&_total=accurate"));
        assert_eq!(pages_from(s, counted, 6).len(), 3);
        // A first page that holds every match is its own total.
        let all = search(s, &format!("Patient?name={word}"));
        assert_eq!((ids(&all), &all["total"]), (by_name.clone(), &json!(6)));
        assert_eq!(
            ids(&search(s, &format!("Patient?name={word}&gender=female"))),
            [&*a, &*b, &*c, &*e, &*f]
        );
        assert_eq!(
            ids(&search(s, &format!("Patient?given=thi&name={word}"))).len(),
            6
        );
        for name in [
            format!("be%20{word}"),
            format!("{word}f"),
            format!("{word}z"),
        ] {
            let found = ids(&search(s, &format!("Patient?name={name}")));
            assert_eq!(found, [f.as_str()], "{name}");
            assert_eq!(scoped(s, "Patient", &tag, &format!("name={name}")), found);
        }
        assert_eq!(
            ids(&search(s, &format!("Patient?family={word}g"))),
            [c.as_str()]
        );

        let twins = sorted(vec![c.clone(), e.clone()]);
        let by_birth = [a.clone(), b.clone(), twins[0].clone(), twins[1].clone()];
        let url = s.url("Patient?birthdate=1871-03&gender=female&_count=3");
        let pages = pages_from(s, url, Value::Null);
        let seen: Vec<String> = pages.iter().flat_map(ids).collect();
        assert_eq!(seen, by_birth, "{}", s.backend);
        let back = call("GET", &link_of(&pages[1], "previous").unwrap(), &[], None).json();
        assert_eq!(ids(&back), by_birth[..3]);
        assert_eq!(
            ids(&search(s, "Patient?birthdate=le1871-03-15")),
            [&*a, &*b, &*d]
        );
    });
}

/// Generated search SQL stays prepared on its connection, so PostgreSQL parses a repeated
/// search shape once. PostgreSQL only: SQLite's statement cache is not visible from SQL.
#[test]
fn repeated_search_shapes_stay_prepared() {
    use diesel::RunQueryDsl;
    use vnfhir::search::query::{self, Limits};
    use vnfhir::store::db::DbConnection;
    use vnfhir::store::{RequestContext, Store, StoreError};

    #[derive(diesel::QueryableByName)]
    struct Prepared {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let store = Store::open(&common::fresh_postgres(), 1).unwrap();
    store.migrate().unwrap();
    let ctx = RequestContext {
        caller: "test".into(),
        facility: None,
        request_id: unique_id("prepared"),
    };
    let limits = Limits {
        default_count: 20,
        max_count: 100,
        strict: true,
    };
    let prepared = |searches: &[&str]| {
        store
            .read_with(&ctx, |db| -> Result<i64, StoreError> {
                for cccd in searches {
                    let params = [("identifier".to_string(), format!("urn:cccd|{cccd}"))];
                    let request = query::parse("Patient", &params, &limits).unwrap();
                    vnfhir::search::search(db, &request).unwrap();
                }
                let DbConnection::Postgresql(pg) = db else {
                    unreachable!("a PostgreSQL store")
                };
                let rows = diesel::sql_query("SELECT count(*) AS n FROM pg_prepared_statements")
                    .load::<Prepared>(pg)?;
                Ok(rows[0].n)
            })
            .unwrap()
    };
    let once = prepared(&["001090000001"]);
    assert!(once >= 1, "the search's statement is prepared");
    assert_eq!(
        prepared(&["001090000002", "001090000003"]),
        once,
        "other values of the same shape reuse it"
    );
}

/// A searchset carries each stored resource as it was read back, and `_pretty` indents the
/// whole Bundle, the resources inside it too.
#[test]
fn searchset_resources_equal_reads_and_pretty_indents_them() {
    each_backend(|s| {
        let tag = unique_id("pretty");
        let id = s.create(&person(
            &tag,
            "Đỗ",
            &["Hà"],
            "female",
            "1991-02-03",
            "001191000001",
        ));
        let query = format!("Patient?_tag={TAG}|{tag}");
        let compact = search(s, &query);
        assert_eq!(
            compact["entry"][0]["resource"],
            s.get(&format!("Patient/{id}")).json()
        );
        let pretty = s.get(&format!("{query}&_pretty=true"));
        assert_eq!(pretty.status, 200);
        assert!(
            pretty
                .body
                .contains("\n        \"resourceType\": \"Patient\""),
            "{}",
            pretty.body
        );
        assert_eq!(pretty.json()["entry"], compact["entry"]);
    });
}
