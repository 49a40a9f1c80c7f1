//! The conformance kit: `vnfhir conformance build` regenerates the VN package, and
//! `vnfhir conformance validate --base URL` posts every case of `conformance/cases/` to a FHIR
//! server's `$validate` and reports which give exactly the expected issues.
//!
//! A case is one JSON file: `id`, `title` (`vi`, `en`), `rule` (what it breaks, `valid` when
//! nothing), an optional `profile` (sent as `?profile=`; most cases name theirs in
//! `meta.profile`), the `resource`, and the `expected` issues (`severity`, `code`,
//! `expression`, `rule`). A server passes a case when its OperationOutcome has exactly the
//! expected errors and warnings (same severity, code and expression; information is ignored).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Subcommand;
use serde::Deserialize;
use serde_json::Value;

use super::{generate, Finding};
use crate::fhir::outcome::Severity;

#[derive(Subcommand)]
pub enum ConformanceCommand {
    /// Regenerate fhir-profiles/vn/vn-core.json (snapshots, CodeSystems, ValueSets) from
    /// fhir-profiles/vn/source/ and the BHYT code lists.
    Build {
        /// The repository root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Post every case to {base}/{type}/$validate and report pass/fail.
    Validate {
        /// The server's FHIR base URL, e.g. http://127.0.0.1:8080/fhir
        #[arg(long)]
        base: String,
        /// Folder of cases (searched recursively).
        #[arg(long, default_value = "conformance/cases")]
        cases: PathBuf,
        /// Also write the report as JUnit XML to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
}

#[derive(Debug, Deserialize)]
pub struct Title {
    pub vi: String,
    pub en: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpectedIssue {
    pub severity: String,
    pub code: String,
    pub expression: String,
    pub rule: String,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub id: String,
    pub title: Title,
    pub rule: String,
    #[serde(default)]
    pub profile: Option<String>,
    pub resource: Value,
    pub expected: Vec<ExpectedIssue>,
}

impl Case {
    pub fn resource_type(&self) -> &str {
        self.resource["resourceType"].as_str().unwrap_or("Resource")
    }

    /// The case's suite: its id up to the number (`patient`, `base-r4`, …).
    pub fn suite(&self) -> String {
        self.id
            .split('-')
            .take_while(|part| !part.chars().all(|c| c.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// One issue as a server reported it: severity, code, expression, and the rule when known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Observed {
    pub severity: String,
    pub code: String,
    pub expression: String,
    pub rule: Option<String>,
}

/// Every case under `dir`, sorted by id.
pub fn load_cases(dir: &Path) -> Result<Vec<Case>, String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries =
            std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    let mut cases = files
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_str::<Case>(&text).map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(cases)
}

fn severity_text(severity: Severity) -> &'static str {
    match severity {
        Severity::Fatal => "fatal",
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information => "information",
    }
}

/// The engine's findings in the kit's terms.
pub fn observed_findings(findings: Vec<Finding>) -> Vec<Observed> {
    findings
        .into_iter()
        .map(|f| Observed {
            severity: severity_text(f.issue.severity).to_string(),
            code: f.issue.code.to_string(),
            expression: f.issue.expression.unwrap_or_default(),
            rule: Some(f.rule),
        })
        .collect()
}

/// The issues of an OperationOutcome (first expression of each; `location` as a fallback).
pub fn observed_outcome(outcome: &Value) -> Vec<Observed> {
    outcome["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|issue| Observed {
            severity: issue["severity"].as_str().unwrap_or_default().to_string(),
            code: issue["code"].as_str().unwrap_or_default().to_string(),
            expression: issue["expression"][0]
                .as_str()
                .or(issue["location"][0].as_str())
                .unwrap_or_default()
                .to_string(),
            rule: None,
        })
        .collect()
}

/// `Ok` when the errors and warnings observed are exactly those expected (rules compared
/// too when the observation has them); otherwise what differs.
pub fn check(case: &Case, observed: &[Observed]) -> Result<(), String> {
    let with_rules = observed.iter().all(|o| o.rule.is_some());
    let line = |severity: &str, code: &str, expression: &str, rule: Option<&str>| match rule {
        Some(rule) if with_rules => format!("{severity} {code} {expression} [{rule}]"),
        _ => format!("{severity} {code} {expression}"),
    };
    let mut expected: Vec<String> = case
        .expected
        .iter()
        .map(|e| line(&e.severity, &e.code, &e.expression, Some(&e.rule)))
        .collect();
    let mut found: Vec<String> = observed
        .iter()
        .filter(|o| o.severity == "error" || o.severity == "warning" || o.severity == "fatal")
        .map(|o| line(&o.severity, &o.code, &o.expression, o.rule.as_deref()))
        .collect();
    expected.sort();
    found.sort();
    if expected == found {
        return Ok(());
    }
    let missing: Vec<&String> = expected.iter().filter(|e| !found.contains(e)).collect();
    let extra: Vec<&String> = found.iter().filter(|f| !expected.contains(f)).collect();
    let mut report = String::new();
    for m in missing {
        let _ = writeln!(report, "  thiếu / missing:    {m}");
    }
    for e in extra {
        let _ = writeln!(report, "  thừa / unexpected:  {e}");
    }
    if report.is_empty() {
        report = format!("  expected {expected:?}\n  found    {found:?}\n");
    }
    Err(report)
}

/// Runs a `conformance` command; `Ok(false)` when cases failed.
pub fn run(command: &ConformanceCommand) -> Result<bool, String> {
    match command {
        ConformanceCommand::Build { root } => {
            let path = generate::write(root)?;
            println!("wrote {}", path.display());
            Ok(true)
        }
        ConformanceCommand::Validate { base, cases, junit } => {
            let cases = load_cases(cases)?;
            let results = validate_remote(base.trim_end_matches('/'), &cases);
            print!("{}", terminal_report(&cases, &results));
            if let Some(path) = junit {
                std::fs::write(path, junit_report(&cases, &results))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Ok(results.iter().all(|r| r.outcome.is_ok()))
        }
    }
}

pub struct CaseResult {
    pub outcome: Result<(), String>,
    pub elapsed: Duration,
}

/// Posts each case to `{base}/{type}/$validate` (with `?profile=` when the case names one).
pub fn validate_remote(base: &str, cases: &[Case]) -> Vec<CaseResult> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    cases
        .iter()
        .map(|case| {
            let started = Instant::now();
            let outcome = post(&agent, base, case)
                .and_then(|outcome| check(case, &observed_outcome(&outcome)));
            CaseResult {
                outcome,
                elapsed: started.elapsed(),
            }
        })
        .collect()
}

fn post(agent: &ureq::Agent, base: &str, case: &Case) -> Result<Value, String> {
    let url = format!("{base}/{}/$validate", case.resource_type());
    let mut request = agent
        .post(&url)
        .header("Content-Type", "application/fhir+json")
        .header("Accept", "application/fhir+json");
    if let Some(profile) = &case.profile {
        request = request.query("profile", profile);
    }
    let mut response = request
        .send(case.resource.to_string())
        .map_err(|e| format!("  POST {url}: {e}\n"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("  POST {url}: {e}\n"))?;
    let outcome: Value = serde_json::from_str(&body).map_err(|_| {
        format!(
            "  POST {url} → {status}, not JSON: {}\n",
            body.chars().take(200).collect::<String>()
        )
    })?;
    if outcome["resourceType"] != "OperationOutcome" {
        return Err(format!(
            "  POST {url} → {status}, not an OperationOutcome\n"
        ));
    }
    Ok(outcome)
}

/// `PASS`/`FAIL` per case, with what differs, then a total.
pub fn terminal_report(cases: &[Case], results: &[CaseResult]) -> String {
    let mut out = String::new();
    let mut failed = 0;
    for (case, result) in cases.iter().zip(results) {
        match &result.outcome {
            Ok(()) => {
                let _ = writeln!(out, "PASS  {}", case.id);
            }
            Err(why) => {
                failed += 1;
                let _ = writeln!(
                    out,
                    "FAIL  {}  ({} / {})  rule: {}",
                    case.id, case.title.vi, case.title.en, case.rule
                );
                out.push_str(why);
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} đạt, {} không đạt / {} passed, {} failed",
        cases.len() - failed,
        failed,
        cases.len() - failed,
        failed
    );
    out
}

/// The results as JUnit XML, one testsuite per case folder.
pub fn junit_report(cases: &[Case], results: &[CaseResult]) -> String {
    let escape = |text: &str| quick_xml::escape::escape(text).into_owned();
    let mut suites: Vec<(String, Vec<(&Case, &CaseResult)>)> = Vec::new();
    for (case, result) in cases.iter().zip(results) {
        let suite = case.suite();
        match suites.iter_mut().find(|(name, _)| *name == suite) {
            Some((_, members)) => members.push((case, result)),
            None => suites.push((suite, vec![(case, result)])),
        }
    }
    let failures = results.iter().filter(|r| r.outcome.is_err()).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"vnfhir conformance\" tests=\"{}\" failures=\"{failures}\">",
        cases.len()
    );
    for (name, members) in suites {
        let failed = members.iter().filter(|(_, r)| r.outcome.is_err()).count();
        let time: f64 = members.iter().map(|(_, r)| r.elapsed.as_secs_f64()).sum();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" time=\"{time:.3}\">",
            escape(&name),
            members.len()
        );
        for (case, result) in members {
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&name),
                escape(&case.id),
                result.elapsed.as_secs_f64()
            );
            match &result.outcome {
                Ok(()) => xml.push_str("/>\n"),
                Err(why) => {
                    let _ = writeln!(
                        xml,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        escape(&format!("{} (rule {})", case.title.en, case.rule)),
                        escape(why)
                    );
                }
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::fhir::outcome::operation_outcome;
    use crate::validation::Validator;

    /// A one-thread HTTP server whose `$validate` answers with the engine's OperationOutcome.
    fn serve_validate(requests: usize) -> String {
        let validator = Validator::load("https://fhir.vnfhir.org").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/fhir", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().take(requests) {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                    if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:")
                    {
                        length = value.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let resource: Value = serde_json::from_slice(&body).unwrap();
                let profile = request_line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|target| target.split_once("profile="))
                    .map(|(_, p)| p.replace("%3A", ":").replace("%2F", "/"));
                let profiles: Vec<&str> = profile.iter().map(String::as_str).collect();
                let answer =
                    operation_outcome(&validator.validate(&resource, &profiles)).to_string();
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .unwrap();
            }
        });
        base
    }

    fn case(
        id: &str,
        resource: Value,
        profile: Option<&str>,
        expected: Vec<ExpectedIssue>,
    ) -> Case {
        Case {
            id: id.into(),
            title: Title {
                vi: "thử <1>".into(),
                en: "test <1>".into(),
            },
            rule: "min".into(),
            profile: profile.map(str::to_string),
            resource,
            expected,
        }
    }

    #[test]
    fn the_kit_posts_cases_and_reports_pass_fail_on_the_terminal_and_in_junit() {
        let base = serve_validate(2);
        let missing_gender = ExpectedIssue {
            severity: "error".into(),
            code: "required".into(),
            expression: "Patient.gender".into(),
            rule: "min".into(),
        };
        let patient = serde_json::json!({"resourceType": "Patient", "text": {"status": "generated",
            "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}, "birthDate": "1990"});
        let cases = [
            // The VN profile, given as ?profile=, requires the gender (and more).
            case(
                "patient-001-x",
                patient.clone(),
                Some("https://fhir.vnfhir.org/StructureDefinition/vn-core-patient"),
                vec![missing_gender.clone()],
            ),
            // Plain R4 does not: the expected issue is missing from the answer.
            case("base-r4-001-y", patient, None, vec![missing_gender]),
        ];
        let results = validate_remote(&base, &cases);
        let first = results[0].outcome.as_ref().unwrap_err();
        assert!(
            first.contains("unexpected:  error required Patient.name"),
            "{first}"
        );
        assert!(!first.contains("missing:"), "{first}");
        let second = results[1].outcome.as_ref().unwrap_err();
        assert!(
            second.contains("missing:    error required Patient.gender"),
            "{second}"
        );
        let terminal = terminal_report(&cases, &results);
        assert!(terminal.contains("FAIL  patient-001-x"));
        assert!(terminal.ends_with("0 passed, 2 failed\n"), "{terminal}");
        let junit = junit_report(&cases, &results);
        assert!(
            junit.contains("<testsuites name=\"vnfhir conformance\" tests=\"2\" failures=\"2\">")
        );
        assert!(junit.contains("<testsuite name=\"patient\" tests=\"1\" failures=\"1\""));
        assert!(junit.contains("<testsuite name=\"base-r4\" tests=\"1\" failures=\"1\""));
        assert!(junit.contains("test &lt;1&gt; (rule min)"), "{junit}");
    }

    #[test]
    fn check_compares_errors_and_warnings_and_ignores_information() {
        let expected = ExpectedIssue {
            severity: "warning".into(),
            code: "invariant".into(),
            expression: "Patient".into(),
            rule: "dom-6".into(),
        };
        let c = case("patient-002-z", Value::Null, None, vec![expected]);
        let outcome = serde_json::json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "warning", "code": "invariant", "expression": ["Patient"]},
            {"severity": "information", "code": "informational", "diagnostics": "All OK"}]});
        assert!(check(&c, &observed_outcome(&outcome)).is_ok());
        let wrong_rule = vec![Observed {
            severity: "warning".into(),
            code: "invariant".into(),
            expression: "Patient".into(),
            rule: Some("dom-5".into()),
        }];
        assert!(check(&c, &wrong_rule).is_err());
        assert_eq!(c.suite(), "patient");
    }
}
