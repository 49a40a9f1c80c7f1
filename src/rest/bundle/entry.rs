//! One entry of a transaction or batch Bundle, read and checked before anything runs.

use actix_web::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use super::super::error::ApiError;
use super::super::handlers::{checked_id, resource_type, version_tag, Params};
use super::super::search::conditional_params;
use super::super::validate::check_profiles;
use super::super::AppState;
use crate::fhir::outcome::Issue;
use crate::fhir::{check_resource, is_valid_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verb::Get => "GET",
            Verb::Head => "HEAD",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        })
    }
}

/// What `request.url` names.
#[derive(Debug, Clone)]
pub enum Target {
    /// `Patient`: a create.
    Type,
    /// `Patient/123`.
    Instance(String),
    /// `Patient/123/_history/2`.
    Version(String, i64),
    /// `Patient?identifier=…` (or `Patient` for a GET: search everything).
    Search(Params),
}

#[derive(Debug, Clone)]
pub enum PatchDocument {
    Json(Value),
    FhirPath(Value),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub index: usize,
    pub full_url: Option<String>,
    pub verb: Verb,
    pub resource_type: &'static str,
    pub target: Target,
    pub resource: Option<Value>,
    pub patch: Option<PatchDocument>,
    pub if_match: Option<i64>,
    pub if_none_exist: Option<Params>,
}

const ENTRY_ELEMENTS: &[&str] = &[
    "id",
    "extension",
    "modifierExtension",
    "link",
    "fullUrl",
    "resource",
    "search",
    "request",
    "response",
];
const REQUEST_ELEMENTS: &[&str] = &[
    "id",
    "extension",
    "modifierExtension",
    "method",
    "url",
    "ifNoneMatch",
    "ifModifiedSince",
    "ifMatch",
    "ifNoneExist",
];

fn invalid(at: &str, vi: String, en: String) -> ApiError {
    ApiError::one(
        StatusCode::BAD_REQUEST,
        Issue::error("invalid", vi, en).at(at),
    )
}

/// Elements the Bundle definition does not have are errors, as in a single resource.
pub fn unknown_elements(value: &Value, allowed: &[&str], at: &str) -> Result<(), ApiError> {
    let Some(object) = value.as_object() else {
        return Err(invalid(
            at,
            format!("{at} phải là một đối tượng JSON"),
            format!("{at} must be a JSON object"),
        ));
    };
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(ApiError::one(
            StatusCode::BAD_REQUEST,
            Issue::error(
                "structure",
                format!("Phần tử không xác định {at}.{key}"),
                format!("Unknown element {at}.{key}"),
            )
            .at(format!("{at}.{key}")),
        )),
        None => Ok(()),
    }
}

/// Reads `entry` (the JSON of `Bundle.entry[index]`); expressions in errors are relative to
/// the entry (`request.url`, `resource.name`) and labelled by the caller.
pub fn parse(
    state: &AppState,
    base: &str,
    index: usize,
    mut entry: Value,
) -> Result<Entry, ApiError> {
    unknown_elements(&entry, ENTRY_ELEMENTS, "entry")?;
    let resource = entry.get_mut("resource").map(Value::take);
    let request = entry.get("request").ok_or_else(|| {
        invalid(
            "request",
            "Thiếu request (method và url)".into(),
            "The entry has no request (method and url)".into(),
        )
    })?;
    unknown_elements(request, REQUEST_ELEMENTS, "request")?;
    let verb = match request["method"].as_str() {
        Some("GET") => Verb::Get,
        Some("HEAD") => Verb::Head,
        Some("POST") => Verb::Post,
        Some("PUT") => Verb::Put,
        Some("PATCH") => Verb::Patch,
        Some("DELETE") => Verb::Delete,
        other => {
            let other = other.unwrap_or("(none)");
            return Err(invalid(
                "request.method",
                format!("Phương thức {other} không hợp lệ"),
                format!("Invalid request method {other}"),
            ));
        }
    };
    let url = request["url"].as_str().ok_or_else(|| {
        invalid(
            "request.url",
            "Thiếu request.url".into(),
            "The entry has no request.url".into(),
        )
    })?;
    let (resource_type, target) = parse_url(base, url)?;
    let full_url = entry["fullUrl"].as_str().map(str::to_string);
    let if_match = request["ifMatch"]
        .as_str()
        .map(version_tag)
        .transpose()
        .map_err(|e| e.at("request.ifMatch"))?;
    let if_none_exist = request["ifNoneExist"]
        .as_str()
        .map(|query| conditional_params(query.trim_start_matches('?')))
        .transpose()
        .map_err(|e| e.at("request.ifNoneExist"))?;
    let mut parsed = Entry {
        index,
        full_url,
        verb,
        resource_type,
        target,
        resource: None,
        patch: None,
        if_match,
        if_none_exist,
    };
    let wrong_target = || {
        invalid(
            "request.url",
            format!("{url} không dùng được với {verb}"),
            format!("{url} cannot be used with {verb}"),
        )
    };
    match (verb, &parsed.target) {
        (Verb::Post, Target::Type) | (Verb::Put, Target::Instance(_) | Target::Search(_)) => {
            let resource = resource.ok_or_else(|| {
                invalid(
                    "resource",
                    format!("{verb} cần một tài nguyên"),
                    format!("{verb} needs a resource"),
                )
            })?;
            check_resource(&state.schemas, &resource, resource_type)
                .map_err(|issues| ApiError::new(StatusCode::BAD_REQUEST, issues))
                .and_then(|()| check_profiles(state, &resource, resource_type))
                .map_err(|e| ApiError::new(e.status, relative(e.issues, resource_type)))?;
            if let (Target::Instance(id), Verb::Put) = (&parsed.target, verb) {
                if resource["id"].as_str() != Some(id) {
                    return Err(invalid(
                        "resource.id",
                        format!("id của tài nguyên phải là {id}, như trong request.url"),
                        format!("The resource id must be {id}, as in request.url"),
                    ));
                }
            }
            parsed.resource = Some(resource);
        }
        (Verb::Patch, Target::Instance(_) | Target::Search(_)) => {
            parsed.patch = Some(patch_document(resource)?);
        }
        (Verb::Delete, Target::Instance(_) | Target::Search(_)) | (Verb::Get | Verb::Head, _) => {}
        _ => return Err(wrong_target()),
    }
    Ok(parsed)
}

/// `Patient.name` of a resource → `resource.name` of its entry.
fn relative(issues: Vec<Issue>, resource_type: &str) -> Vec<Issue> {
    issues
        .into_iter()
        .map(|mut issue| {
            issue.expression = Some(match issue.expression.as_deref() {
                Some(path) => match path.strip_prefix(resource_type) {
                    Some(rest) => format!("resource{rest}"),
                    None => format!("resource.{path}"),
                },
                None => "resource".into(),
            });
            issue
        })
        .collect()
}

/// A PATCH entry carries a Binary holding JSON Patch, or a Parameters (FHIRPath Patch).
fn patch_document(resource: Option<Value>) -> Result<PatchDocument, ApiError> {
    let unusable = || {
        invalid(
            "resource",
            "PATCH cần tài nguyên Binary (application/json-patch+json) hoặc Parameters (FHIRPath Patch)".into(),
            "PATCH needs a Binary resource (application/json-patch+json) or a Parameters resource (FHIRPath Patch)".into(),
        )
    };
    let resource = resource.ok_or_else(unusable)?;
    match resource["resourceType"].as_str() {
        Some("Parameters") => Ok(PatchDocument::FhirPath(resource)),
        Some("Binary") if resource["contentType"] == "application/json-patch+json" => {
            let document = resource["data"]
                .as_str()
                .and_then(|data| STANDARD.decode(data).ok())
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .ok_or_else(|| {
                    invalid(
                        "resource.data",
                        "Binary.data phải là JSON Patch mã hóa base64".into(),
                        "Binary.data must be a base64-encoded JSON Patch document".into(),
                    )
                })?;
            Ok(PatchDocument::Json(document))
        }
        _ => Err(unusable()),
    }
}

/// `Patient`, `Patient/1`, `Patient/1/_history/2`, `Patient?…`, relative or under `base`.
fn parse_url(base: &str, url: &str) -> Result<(&'static str, Target), ApiError> {
    let bad = |vi: &str, en: &str| {
        invalid(
            "request.url",
            format!("request.url {url:?} không hợp lệ: {vi}"),
            format!("Invalid request.url {url:?}: {en}"),
        )
    };
    let relative = if url.starts_with("http://") || url.starts_with("https://") {
        url.strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or_else(|| {
                bad(
                    "địa chỉ tuyệt đối phải thuộc máy chủ này",
                    "an absolute URL must be under this server's base",
                )
            })?
    } else {
        url.trim_start_matches('/')
    };
    let (path, query) = match relative.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (relative, None),
    };
    let segments: Vec<&str> = path.split('/').collect();
    let on_url = |e: ApiError| e.at("request.url");
    let resource_type = resource_type(segments[0]).map_err(on_url)?;
    let target = match (segments.as_slice(), query) {
        ([_], Some(query)) => Target::Search(conditional_params(query).map_err(on_url)?),
        ([_], None) => Target::Type,
        ([_, id], None) => {
            checked_id(id).map_err(on_url)?;
            Target::Instance(id.to_string())
        }
        ([_, id, "_history", version], None) if is_valid_id(id) => Target::Version(
            id.to_string(),
            version
                .parse()
                .map_err(|_| bad("phiên bản không hợp lệ", "bad version"))?,
        ),
        _ => {
            return Err(bad(
                "không phải một thao tác được hỗ trợ",
                "not a supported interaction",
            ))
        }
    };
    Ok((resource_type, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_types_instances_versions_and_searches() {
        let base = "http://h/fhir";
        assert!(matches!(
            parse_url(base, "Patient"),
            Ok(("Patient", Target::Type))
        ));
        assert!(
            matches!(parse_url(base, "/Patient/a-1"), Ok(("Patient", Target::Instance(id))) if id == "a-1")
        );
        assert!(
            matches!(parse_url(base, "http://h/fhir/Encounter/e1/_history/3"), Ok(("Encounter", Target::Version(id, 3))) if id == "e1")
        );
        assert!(
            matches!(parse_url(base, "Patient?identifier=x%7C1"), Ok(("Patient", Target::Search(p))) if p == [("identifier".to_string(), "x|1".to_string())])
        );
        assert!(parse_url(base, "http://other/fhir/Patient/1").is_err());
        assert!(parse_url(base, "Observation/1").is_err());
        assert!(parse_url(base, "Patient/bad_id").is_err());
        assert!(parse_url(base, "Patient/1/_history/x").is_err());
    }

    #[test]
    fn resource_issues_become_entry_relative() {
        let issues = vec![Issue::error("structure", "", "").at("Patient.name[0].foo")];
        assert_eq!(
            relative(issues, "Patient")[0].expression.as_deref(),
            Some("resource.name[0].foo")
        );
    }
}
