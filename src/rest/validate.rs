//! Profile validation over REST: validate-on-write, `$validate`, and the conformance
//! resources the engine holds (`GET /StructureDefinition/{id}`, `?url=`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::error::ApiError;
use super::handlers::{
    blocking, checked_id, invalid_param, read_body, resource_type as stored_type, Call,
};
use super::negotiation::require_json_body;
use super::AppState;
use crate::fhir::datetime::{self, format_instant};
use crate::fhir::outcome::{operation_outcome, Issue, Severity};

/// The types whose conformance resources are served read-only.
pub const CONFORMANCE_TYPES: &[&str] = &[
    "StructureDefinition",
    "ValueSet",
    "CodeSystem",
    "NamingSystem",
];

fn blocks(issues: &[Issue]) -> bool {
    issues
        .iter()
        .any(|i| matches!(i.severity, Severity::Error | Severity::Fatal))
}

/// The profiles a write is held to: those in `meta.profile` (the engine reads them), and the
/// VN Core profile of the type when the server requires it.
fn required_profiles<'s>(state: &'s AppState, resource_type: &str) -> Vec<&'s str> {
    if state.config.require_vn_profiles {
        state
            .validator
            .vn_profile(resource_type)
            .into_iter()
            .collect()
    } else {
        Vec::new()
    }
}

/// Validate-on-write: 422 with every issue when the resource breaks a profile it claims
/// (or the required VN Core profile). A resource that claims none is left to the base checks.
pub fn check_profiles(
    state: &AppState,
    resource: &Value,
    resource_type: &str,
) -> Result<(), ApiError> {
    let profiles = required_profiles(state, resource_type);
    let declares = resource["meta"]["profile"]
        .as_array()
        .is_some_and(|p| !p.is_empty());
    if profiles.is_empty() && !declares {
        return Ok(());
    }
    let issues = state.validator.validate(resource, &profiles);
    if blocks(&issues) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, issues));
    }
    Ok(())
}

/// `$validate` input: the resource, the mode and the profile, from the body or the URL.
struct Request {
    resource: Option<Value>,
    mode: String,
    profile: Option<String>,
}

fn parameter_value(parameter: &Value) -> Option<&str> {
    parameter
        .as_object()?
        .iter()
        .find(|(k, _)| k.starts_with("value"))
        .and_then(|(_, v)| v.as_str())
}

fn read_request(call: &Call, body: Value) -> Request {
    let mut request = Request {
        resource: None,
        mode: call.param("mode").unwrap_or("create").to_string(),
        profile: call.param("profile").map(str::to_string),
    };
    if body["resourceType"] != "Parameters" {
        request.resource = Some(body);
        return request;
    }
    for parameter in body["parameter"].as_array().into_iter().flatten() {
        match parameter["name"].as_str() {
            Some("resource") => request.resource = parameter.get("resource").cloned(),
            Some("mode") => {
                if let Some(mode) = parameter_value(parameter) {
                    request.mode = mode.to_string();
                }
            }
            Some("profile") => request.profile = parameter_value(parameter).map(str::to_string),
            _ => {}
        }
    }
    request
}

fn outcome_response(call: &Call, mut issues: Vec<Issue>) -> HttpResponse {
    if issues.is_empty() {
        issues.push(Issue::information(
            "Không phát hiện lỗi nào khi kiểm tra",
            "No issues were found by the validation",
        ));
    }
    call.render
        .value(HttpResponse::Ok(), &operation_outcome(&issues))
}

/// `POST /{type}/$validate`.
pub async fn validate_type(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    validate(req, path.into_inner(), None, payload, state).await
}

/// `POST /{type}/{id}/$validate`.
pub async fn validate_instance(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (type_name, id) = path.into_inner();
    checked_id(&id)?;
    validate(req, type_name, Some(id), payload, state).await
}

async fn validate(
    req: HttpRequest,
    type_name: String,
    id: Option<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let call = Call::new(&req, &state)?;
    // Any type may be validated; the engine says which it has no definition for.
    let resource_type = type_name.as_str();
    require_json_body(&req)?;
    let body = read_body(&req, payload, state.config.max_body_bytes).await?;
    let body: Value = if body.is_empty() {
        json!({"resourceType": "Parameters"})
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(
                format!("Nội dung không phải JSON hợp lệ: {e}"),
                format!("The body is not valid JSON: {e}"),
            )
        })?
    };
    let request = read_request(&call, body);
    match (request.mode.as_str(), &id) {
        ("delete", Some(id)) => {
            // Nothing refers back to a resource here, so a delete is refused only when
            // there is nothing to delete.
            let ctx = call.ctx.clone();
            let what = format!("{resource_type}/{id}");
            let resource_type = stored_type(resource_type)?;
            let id = id.clone();
            blocking(&state, what, move |s| {
                s.store.read(&ctx, resource_type, &id)
            })
            .await?;
            return Ok(outcome_response(&call, Vec::new()));
        }
        ("delete", None) => {
            return Err(invalid_param(
                "mode",
                "delete",
                "cần địa chỉ /{type}/{id}/$validate",
                "needs /{type}/{id}/$validate",
            ))
        }
        ("create" | "update", _) => {}
        (other, _) => {
            return Err(invalid_param(
                "mode",
                other,
                "chỉ nhận create, update hoặc delete",
                "must be create, update or delete",
            ))
        }
    }
    let resource = request.resource.ok_or_else(|| {
        ApiError::one(
            StatusCode::BAD_REQUEST,
            Issue::error(
                "required",
                "Cần một tài nguyên để kiểm tra",
                "A resource to validate is needed",
            )
            .at("Parameters.parameter"),
        )
    })?;
    if resource["resourceType"] != resource_type {
        return Err(ApiError::one(
            StatusCode::BAD_REQUEST,
            Issue::error(
                "invalid",
                format!("Địa chỉ yêu cầu một {resource_type}"),
                format!("The URL expects a {resource_type}"),
            )
            .at("resourceType"),
        ));
    }
    let mut issues = Vec::new();
    if let (Some(id), "update") = (&id, request.mode.as_str()) {
        if resource["id"].as_str() != Some(id) {
            issues.push(
                Issue::error(
                    "invalid",
                    format!("Khi cập nhật, id của tài nguyên phải là {id}"),
                    format!("For an update the resource id must be {id}"),
                )
                .at(format!("{resource_type}.id")),
            );
        }
    }
    let mut profiles = required_profiles(&state, resource_type);
    if let Some(profile) = &request.profile {
        profiles.push(profile);
    }
    issues.extend(state.validator.validate(&resource, &profiles));
    Ok(outcome_response(&call, issues))
}

/// `GET /{StructureDefinition|ValueSet|CodeSystem|NamingSystem}/{id}`.
pub async fn read_conformance(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let call = Call::new(&req, &state)?;
    let (resource_type, id) = path.into_inner();
    match state.validator.conformance_resource(&resource_type, &id) {
        Some(resource) => Ok(call.render.value(HttpResponse::Ok(), resource)),
        None => Err(ApiError::not_found(&format!("{resource_type}/{id}"))),
    }
}

/// `GET /{StructureDefinition|…}?url=…` (a canonical, optionally `|version`) or `?_id=…`.
pub async fn search_conformance(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let call = Call::new(&req, &state)?;
    let resource_type = path.into_inner();
    let mut found: Vec<&Value> = Vec::new();
    let mut searched = false;
    for (name, value) in &call.params {
        match name.as_str() {
            "url" => found.extend(state.validator.conformance_by_url(&resource_type, value)),
            "_id" => found.extend(state.validator.conformance_resource(&resource_type, value)),
            "_format" | "_pretty" => continue,
            other => {
                return Err(invalid_param(
                    other,
                    value,
                    "tài nguyên định nghĩa chỉ tìm được theo url hoặc _id",
                    "conformance resources are searched by url or _id only",
                ))
            }
        }
        searched = true;
    }
    if !searched {
        return Err(ApiError::one(
            StatusCode::BAD_REQUEST,
            Issue::error(
                "required",
                format!("Tìm {resource_type} cần tham số url hoặc _id"),
                format!("Searching {resource_type} needs a url or _id parameter"),
            ),
        ));
    }
    let entries: Vec<Value> = found
        .iter()
        .map(|resource| {
            json!({
                "fullUrl": format!("{}/{resource_type}/{}", call.base, resource["id"].as_str().unwrap_or_default()),
                "resource": resource,
                "search": {"mode": "match"},
            })
        })
        .collect();
    let query = req.query_string();
    let bundle = json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v4().to_string(),
        "meta": {"lastUpdated": format_instant(datetime::now())},
        "type": "searchset",
        "total": entries.len(),
        "link": [{"relation": "self", "url": format!("{}/{resource_type}?{query}", call.base)}],
        "entry": entries,
    });
    Ok(call.render.value(HttpResponse::Ok(), &bundle))
}
