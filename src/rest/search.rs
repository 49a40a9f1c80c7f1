//! Search over REST (`GET /{type}`, `POST /{type}/_search`) and the conditional
//! interactions that use it: create with `If-None-Exist`, update and delete by search.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::error::ApiError;
use super::handlers::{
    blocking, checked_id, if_match, read_body, resource_body, resource_type, store_delete,
    store_update, urlencode, written_response, Call, Params,
};
use super::AppState;
use crate::fhir::datetime::{self, format_instant};
use crate::fhir::elements;
use crate::fhir::outcome::{operation_outcome, Issue};
use crate::search::query::{self, Limits, SearchError, SearchRequest, Summary};
use crate::search::{self as engine, sql, SearchFailure, SearchPage};
use crate::store::{Found, StoreError};

fn invalid(error: SearchError) -> ApiError {
    ApiError::one(
        StatusCode::BAD_REQUEST,
        Issue::error(
            "invalid",
            format!(
                "Tham số tìm kiếm {} không hợp lệ: {}",
                error.param, error.vi
            ),
            format!("Invalid search parameter {}: {}", error.param, error.en),
        )
        .at(error.param),
    )
}

pub(crate) fn failure(error: SearchFailure, what: &str) -> ApiError {
    match error {
        SearchFailure::Invalid(e) => invalid(e),
        SearchFailure::Store(e) => ApiError::from_store(e, what),
    }
}

pub(crate) fn strict(req: &HttpRequest) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == "handling=strict")
}

pub(crate) fn parse(
    strict: bool,
    state: &AppState,
    resource_type: &'static str,
    params: &[(String, String)],
) -> Result<SearchRequest, ApiError> {
    let limits = Limits {
        default_count: state.config.default_count,
        max_count: state.config.max_count,
        strict,
    };
    query::parse(resource_type, params, &limits).map_err(invalid)
}

async fn run(
    state: &web::Data<AppState>,
    call: &Call,
    request: SearchRequest,
) -> Result<(SearchRequest, SearchPage), ApiError> {
    let ctx = call.ctx.clone();
    let what = request.resource_type.to_string();
    let page = {
        let request = request.clone();
        web::block({
            let state = state.clone();
            move || {
                state
                    .store
                    .read_with(&ctx, |db| engine::search(db, &request))
            }
        })
        .await
        .map_err(|e| ApiError::from_store(StoreError::Database(e.to_string()), &what))?
        .map_err(|e| failure(e, &what))?
    };
    Ok((request, page))
}

pub async fn search_get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let call = Call::new(&req, &state)?;
    let resource_type = resource_type(&path)?;
    let params = call.params.clone();
    respond(&req, &call, &state, resource_type, &params).await
}

/// `POST /{type}/_search`: the form body's parameters, plus any in the URL.
pub async fn search_post(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let call = Call::new(&req, &state)?;
    let resource_type = resource_type(&path)?;
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(ApiError::one(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Issue::error(
                "not-supported",
                "Tìm kiếm bằng POST cần nội dung application/x-www-form-urlencoded",
                "POST _search needs an application/x-www-form-urlencoded body",
            ),
        ));
    }
    let body = read_body(&req, payload, state.config.max_body_bytes).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("Nội dung không phải UTF-8", "The body is not UTF-8"))?;
    let mut params = web::Query::<Params>::from_query(text)
        .map(web::Query::into_inner)
        .map_err(|e| {
            ApiError::bad_request(
                format!("Nội dung biểu mẫu không hợp lệ: {e}"),
                format!("Malformed form body: {e}"),
            )
        })?;
    params.extend(call.params.iter().cloned());
    respond(&req, &call, &state, resource_type, &params).await
}

async fn respond(
    req: &HttpRequest,
    call: &Call,
    state: &web::Data<AppState>,
    resource_type: &'static str,
    params: &[(String, String)],
) -> Result<HttpResponse, ApiError> {
    let request = parse(strict(req), state, resource_type, params)?;
    let (request, page) = run(state, call, request).await?;
    let bundle = serde_json::to_string(&searchset(call, &request, params, &page))
        .map_err(|e| ApiError::from_store(StoreError::Database(e.to_string()), resource_type))?;
    Ok(call.render.text(HttpResponse::Ok(), &bundle))
}

fn link(
    call: &Call,
    resource_type: &str,
    params: &[(String, String)],
    cursor: Option<&str>,
) -> String {
    let mut parts: Vec<String> = params
        .iter()
        .filter(|(k, _)| k != "_cursor")
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect();
    if let Some(cursor) = cursor {
        parts.push(format!("_cursor={cursor}"));
    }
    if parts.is_empty() {
        format!("{}/{resource_type}", call.base)
    } else {
        format!("{}/{resource_type}?{}", call.base, parts.join("&"))
    }
}

/// An entry's resource: the stored JSON text as it is, or a reshaped copy.
#[derive(Serialize)]
#[serde(untagged)]
enum EntryResource<'a> {
    Stored(&'a RawValue),
    Shaped(Value),
}

fn shaped<'a>(request: &SearchRequest, found: &'a Found) -> EntryResource<'a> {
    let plain = request.summary == Summary::False && request.elements.is_none();
    if plain {
        if let Ok(raw) = serde_json::from_str::<&RawValue>(&found.content) {
            return EntryResource::Stored(raw);
        }
    }
    let resource: Value = serde_json::from_str(&found.content).unwrap_or(Value::Null);
    let resource_type = found.resource_type.as_str();
    EntryResource::Shaped(match (request.summary, &request.elements) {
        (Summary::True, _) => elements::summary(resource_type, &resource),
        (Summary::Text, _) => elements::text_only(resource_type, &resource),
        (Summary::Data, _) => elements::without_text(&resource),
        (_, Some(names)) => elements::only(resource_type, &resource, names),
        _ => resource,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    full_url: Option<String>,
    resource: EntryResource<'a>,
    search: Value,
}

/// A searchset Bundle that borrows the page's stored JSON: a plain search copies each
/// resource's text into the response instead of parsing and re-serializing it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Searchset<'a> {
    resource_type: &'static str,
    id: String,
    meta: Value,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<i64>,
    link: Vec<Value>,
    entry: Vec<SearchEntry<'a>>,
}

pub(crate) fn searchset<'a>(
    call: &Call,
    request: &SearchRequest,
    params: &[(String, String)],
    page: &'a SearchPage,
) -> Searchset<'a> {
    let resource_type = request.resource_type;
    let own = |cursor: Option<&str>| link(call, resource_type, params, cursor);
    let self_cursor = request.cursor.as_deref();
    let mut links = vec![json!({"relation": "self", "url": own(self_cursor)})];
    if let Some(next) = &page.next {
        links.push(json!({"relation": "next", "url": own(Some(next))}));
    }
    if let Some(previous) = &page.previous {
        links.push(json!({"relation": "previous", "url": own(Some(previous))}));
    }
    let entry = |found: &'a Found, mode: &str| SearchEntry {
        full_url: Some(format!("{}/{}", call.base, found.reference())),
        resource: shaped(request, found),
        search: json!({"mode": mode}),
    };
    let mut entries: Vec<SearchEntry> = page.matches.iter().map(|f| entry(f, "match")).collect();
    entries.extend(page.included.iter().map(|f| entry(f, "include")));
    if !request.ignored.is_empty() {
        let names = request.ignored.join(", ");
        let outcome = operation_outcome(&[Issue {
            severity: crate::fhir::outcome::Severity::Warning,
            code: "not-supported",
            expression: None,
            vi: format!("Đã bỏ qua tham số không được hỗ trợ: {names}"),
            en: format!("Ignored unknown or unsupported parameters: {names}"),
        }]);
        entries.push(SearchEntry {
            full_url: None,
            resource: EntryResource::Shaped(outcome),
            search: json!({"mode": "outcome"}),
        });
    }
    Searchset {
        resource_type: "Bundle",
        id: uuid::Uuid::new_v4().to_string(),
        meta: json!({"lastUpdated": format_instant(datetime::now())}),
        kind: "searchset",
        total: page.total,
        link: links,
        entry: entries,
    }
}

/// The resources a conditional interaction's query selects (at most two are read: the
/// outcome only distinguishes none, one and several).
async fn matches(
    call: &Call,
    state: &web::Data<AppState>,
    resource_type: &'static str,
    query: &str,
) -> Result<Vec<Found>, ApiError> {
    let params = conditional_params(query)?;
    let request = conditional_request(state, resource_type, &params)?;
    let (_, page) = run(state, call, request).await?;
    Ok(page.matches)
}

/// The search of a conditional interaction: strict, because an ignored misspelt parameter
/// would widen the match; at most two rows, because the outcome only tells none, one and
/// several apart.
pub(crate) fn conditional_request(
    state: &AppState,
    resource_type: &'static str,
    params: &[(String, String)],
) -> Result<SearchRequest, ApiError> {
    let mut request = parse(true, state, resource_type, params)?;
    request.count = 2;
    request.total = query::Total::None;
    request.sort.clear();
    request.includes.clear();
    request.revincludes.clear();
    Ok(request)
}

pub(crate) fn conditional_params(query: &str) -> Result<Params, ApiError> {
    let params = web::Query::<Params>::from_query(query)
        .map(web::Query::into_inner)
        .map_err(|e| {
            ApiError::bad_request(
                format!("Điều kiện không hợp lệ: {e}"),
                format!("Malformed condition: {e}"),
            )
        })?;
    let criteria: Params = params
        .into_iter()
        .filter(|(k, _)| k != "_format" && k != "_pretty")
        .collect();
    if criteria.is_empty() {
        return Err(ApiError::bad_request(
            "Thao tác có điều kiện cần ít nhất một tham số tìm kiếm",
            "A conditional interaction needs at least one search parameter",
        ));
    }
    Ok(criteria)
}

pub(crate) fn several(resource_type: &str) -> ApiError {
    ApiError::one(
        StatusCode::PRECONDITION_FAILED,
        Issue::error(
            "multiple-matches",
            format!("Điều kiện khớp với nhiều hơn một {resource_type}"),
            format!("The condition matches more than one {resource_type}"),
        ),
    )
}

/// `POST /{type}` with `If-None-Exist`: 200 with the match, 201 when none, 412 when several.
pub(crate) async fn create_if_none_exist(
    req: &HttpRequest,
    call: &Call,
    state: &web::Data<AppState>,
    resource_type: &'static str,
    resource: Value,
    condition: &str,
) -> Result<HttpResponse, ApiError> {
    let params = conditional_params(condition)?;
    let request = conditional_request(state, resource_type, &params)?;
    let existing = sql::page_query(&request, state.store.is_postgres(), None, 2, false)
        .ok_or_else(|| ApiError::bad_request("Điều kiện không hợp lệ", "Invalid condition"))?;
    let ctx = call.ctx.clone();
    let outcome = blocking(state, resource_type.to_string(), move |s| {
        s.store
            .create_unless(&ctx, resource_type, resource, &existing)
    })
    .await?;
    match outcome {
        Ok(version) => Ok(written_response(req, call, StatusCode::CREATED, &version)),
        Err(found) if found.len() > 1 => Err(several(resource_type)),
        Err(found) => {
            let found = &found[0];
            let mut builder = HttpResponse::Ok();
            builder
                .insert_header((header::ETAG, format!("W/\"{}\"", found.version_id)))
                .insert_header((
                    header::LOCATION,
                    format!(
                        "{}/{}/_history/{}",
                        call.base,
                        found.reference(),
                        found.version_id
                    ),
                ));
            Ok(call.render.text(builder, &found.content))
        }
    }
}

/// `PUT /{type}?criteria`: update the one match, create when none, 412 when several.
pub async fn conditional_update(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let call = Call::new(&req, &state)?;
    let resource_type = resource_type(&path)?;
    let expected = if_match(&req)?;
    let mut resource = resource_body(&req, payload, &state, resource_type).await?;
    let found = matches(&call, &state, resource_type, req.query_string()).await?;
    let body_id = resource
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let id = match found.as_slice() {
        [] => body_id.unwrap_or_else(crate::store::new_id),
        [one] => match body_id {
            Some(body_id) if body_id != one.id => {
                return Err(ApiError::one(
                    StatusCode::BAD_REQUEST,
                    Issue::error(
                        "invalid",
                        format!(
                        "id trong tài nguyên ({body_id}) khác với tài nguyên khớp điều kiện ({})",
                        one.id
                    ),
                        format!(
                            "The resource id ({body_id}) differs from the matching resource ({})",
                            one.id
                        ),
                    )
                    .at(format!("{resource_type}.id")),
                ))
            }
            _ => one.id.clone(),
        },
        _ => return Err(several(resource_type)),
    };
    checked_id(&id)?;
    resource["id"] = Value::String(id.clone());
    store_update(&req, &call, &state, resource_type, id, resource, expected).await
}

/// `DELETE /{type}?criteria`: delete the one match; 404 when none, 412 when several.
pub async fn conditional_delete(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let call = Call::new(&req, &state)?;
    let resource_type = resource_type(&path)?;
    let found = matches(&call, &state, resource_type, req.query_string()).await?;
    let id = match found.as_slice() {
        [] => {
            return Err(ApiError::not_found(&format!(
                "{resource_type}?{}",
                req.query_string()
            )))
        }
        [one] => one.id.clone(),
        _ => return Err(several(resource_type)),
    };
    store_delete(&call, &state, resource_type, id, None).await
}
