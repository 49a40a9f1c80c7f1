//! `POST {base}/$bhyt-xml-validate`: a GIAMDINHHS, check-in or table 12 file in, an
//! OperationOutcome out, one issue per finding.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use serde_json::{json, Value};

use super::rules::{self, Finding, Level};
use super::spec::Standard;
use super::ReadError;
use crate::fhir::outcome::{operation_outcome, Issue, Severity};
use crate::rest::error::ApiError;
use crate::rest::handlers::read_body;
use crate::rest::negotiation::FHIR_JSON;
use crate::rest::AppState;

/// The CodeSystem of the rule ids of `rules.md`.
pub const RULE_SYSTEM: &str = "https://fhir.vnfhir.org/CodeSystem/bhyt-rule";

#[derive(serde::Deserialize)]
pub struct Query {
    standard: Option<String>,
}

fn finding_issue(finding: &Finding) -> Issue {
    let code = if finding.rule.starts_with("R-GEN-00") {
        "structure"
    } else {
        "business-rule"
    };
    let issue = Issue::error(code, finding.vi.clone(), finding.en.clone()).at(finding.location());
    match finding.level {
        Level::Error => issue,
        Level::Warning => Issue {
            severity: Severity::Warning,
            ..issue
        },
    }
}

/// The OperationOutcome with each issue's rule id as `details.coding` (`None`: no coding).
fn outcome(issues: &[Issue], rule_ids: &[Option<&str>]) -> Value {
    let mut outcome = operation_outcome(issues);
    if let Some(rendered) = outcome["issue"].as_array_mut() {
        for (issue, rule) in rendered.iter_mut().zip(rule_ids) {
            if let Some(rule) = rule {
                issue["details"]["coding"] = json!([{ "system": RULE_SYSTEM, "code": rule }]);
            }
        }
    }
    outcome
}

fn respond(status: StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, FHIR_JSON))
        .body(body.to_string())
}

/// Unreadable input: 400 with the reading rule (R-GEN-001/002) coded.
fn read_error(error: ReadError) -> HttpResponse {
    let mut issue = Issue::error("structure", error.vi, error.en);
    if !error.location.is_empty() {
        issue = issue.at(error.location);
    }
    respond(
        StatusCode::BAD_REQUEST,
        outcome(&[issue], &[Some(error.rule)]),
    )
}

pub async fn validate(
    req: HttpRequest,
    payload: web::Payload,
    query: web::Query<Query>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let standard = match query.standard.as_deref() {
        None => None,
        Some(text) => Some(Standard::parse(text).ok_or_else(|| {
            ApiError::bad_request(
                format!("Tham số standard không hợp lệ: {text} (130 hoặc 4210)"),
                format!("Invalid standard parameter: {text} (use 130 or 4210)"),
            )
        })?),
    };
    let body = read_body(&req, payload, state.config.max_body_bytes).await?;
    // Checking is CPU-bound: keep it off the async worker.
    let checked = web::block(move || rules::check_bytes(&body, standard))
        .await
        .map_err(|e| {
            ApiError::one(
                StatusCode::INTERNAL_SERVER_ERROR,
                Issue::error(
                    "exception",
                    "Lỗi khi kiểm tra tệp",
                    format!("The check failed: {e}"),
                ),
            )
        })?;
    let report = match checked {
        Ok(report) => report,
        Err(error) => return Ok(read_error(error)),
    };
    let mut issues: Vec<Issue> = report.findings.iter().map(finding_issue).collect();
    let mut rule_ids: Vec<Option<&str>> = report.findings.iter().map(|f| Some(f.rule)).collect();
    if issues.is_empty() {
        issues.push(Issue::information(
            format!("Tệp hợp lệ ({} hồ sơ)", report.hoso_count),
            format!("The file passes every check ({} HOSO)", report.hoso_count),
        ));
        rule_ids.push(None);
    }
    Ok(respond(StatusCode::OK, outcome(&issues, &rule_ids)))
}
