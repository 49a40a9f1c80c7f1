//! `POST /fhir/$bhyt-xml-validate` on the real server.

mod common;

use vnfhir::bhyt::sample::{dossier, envelope};

const XML: (&str, &str) = ("Content-Type", "application/xml");

#[test]
fn validate_reports_findings_and_rejects_bad_input() {
    common::each_backend(|s| {
        let url = format!("{}/$bhyt-xml-validate", s.base);
        let clean = envelope(vec![dossier("LK1", 2, 2, false)]).to_xml();
        let reply = common::call("POST", &url, &[XML], Some(&clean));
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["issue"][0]["severity"], "information");

        let broken = clean.replace(
            "<SOLUONGHOSO>1</SOLUONGHOSO>",
            "<SOLUONGHOSO>2</SOLUONGHOSO>",
        );
        let body = common::call("POST", &url, &[XML], Some(&broken)).json();
        let issue = &body["issue"][0];
        assert_eq!(issue["details"]["coding"][0]["code"], "R-X-022");
        assert_eq!(
            issue["details"]["coding"][0]["system"],
            "https://fhir.vnfhir.org/CodeSystem/bhyt-rule"
        );
        assert_eq!(issue["expression"][0], "GIAMDINHHS.SOLUONGHOSO");

        let issue = common::call("POST", &url, &[XML], Some("<GIAMDINHHS><THONG")).outcome(400);
        assert_eq!(issue["details"]["coding"][0]["code"], "R-GEN-001");
        let forced = common::call("POST", &format!("{url}?standard=9"), &[XML], Some(&clean));
        forced.outcome(400);
        let big = "x".repeat(common::MAX_BODY + 1);
        common::call("POST", &url, &[XML], Some(&big)).outcome(413);
    });
}
