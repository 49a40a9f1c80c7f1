//! The FHIR RESTful interactions: create, read, vread, update, delete and history.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use serde_json::{json, Value};

use super::error::ApiError;
use super::negotiation::{negotiate, require_json_body, Render};
use super::AppState;
use crate::fhir::datetime::{self, format_http_date, format_instant};
use crate::fhir::outcome::{operation_outcome, Issue};
use crate::fhir::{is_valid_id, parse_resource};
use crate::store::{
    projection, HistoryQuery, HistoryScope, Method, RequestContext, StoreError, Version,
};

pub(crate) type Params = Vec<(String, String)>;

/// Everything a handler needs from the request line and headers.
#[derive(Clone)]
pub(crate) struct Call {
    pub ctx: RequestContext,
    pub params: Params,
    pub render: Render,
    pub base: String,
}

impl Call {
    pub fn new(req: &HttpRequest, state: &AppState) -> Result<Call, ApiError> {
        let params = web::Query::<Params>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .map_err(|e| {
                ApiError::bad_request(
                    format!("Chuỗi truy vấn không hợp lệ: {e}"),
                    format!("Malformed query string: {e}"),
                )
            })?;
        let render = negotiate(req, &params)?;
        let request_id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Ok(Call {
            ctx: RequestContext {
                caller: "anonymous".into(),
                facility: None,
                request_id,
            },
            params,
            render,
            base: state.base_url(req),
        })
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn resource_type(name: &str) -> Result<&'static str, ApiError> {
    projection::find(name)
        .map(|p| p.resource_type())
        .ok_or_else(|| ApiError::unknown_type(name))
}

/// The request, the stored type and the checked id of `/{type}/{id}…` routes.
pub(crate) fn instance(
    req: &HttpRequest,
    state: &AppState,
    type_name: &str,
    id: &str,
) -> Result<(Call, &'static str), ApiError> {
    let call = Call::new(req, state)?;
    let resource_type = resource_type(type_name)?;
    checked_id(id)?;
    Ok((call, resource_type))
}

pub(crate) fn checked_id(id: &str) -> Result<(), ApiError> {
    if is_valid_id(id) {
        return Ok(());
    }
    Err(ApiError::one(
        StatusCode::BAD_REQUEST,
        Issue::error(
            "invalid",
            format!("Mã định danh (id) không hợp lệ: {id:?}; chỉ gồm A-Z, a-z, 0-9, '-', '.' và tối đa 64 ký tự"),
            format!("Invalid id {id:?}: use 1-64 characters of A-Z, a-z, 0-9, '-' and '.'"),
        )
        .at("id"),
    ))
}

/// Runs a blocking store call off the async workers.
pub(crate) async fn blocking<T, F>(
    state: &web::Data<AppState>,
    what: String,
    f: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&AppState) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let state = state.clone();
    web::block(move || f(&state))
        .await
        .map_err(|e| ApiError::from_store(StoreError::Database(e.to_string()), &what))?
        .map_err(|e| ApiError::from_store(e, &what))
}

pub(crate) async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let too_large = || {
        ApiError::one(
            StatusCode::PAYLOAD_TOO_LARGE,
            Issue::error(
                "too-costly",
                format!("Nội dung vượt quá giới hạn {limit} byte"),
                format!("The body exceeds the limit of {limit} bytes"),
            ),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    payload
        .to_bytes_limited(limit)
        .await
        .map_err(|_| too_large())?
        .map_err(|e| {
            ApiError::bad_request(
                format!("Không đọc được nội dung yêu cầu: {e}"),
                format!("Could not read the request body: {e}"),
            )
        })
}

/// The resource from the body, checked for type, schema and model.
pub(crate) async fn resource_body(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    resource_type: &str,
) -> Result<Value, ApiError> {
    require_json_body(req)?;
    let body = read_body(req, payload, state.config.max_body_bytes).await?;
    let resource = parse_resource(&state.schemas, &body, resource_type)
        .map_err(|issues| ApiError::new(StatusCode::BAD_REQUEST, issues))?;
    super::validate::check_profiles(state, &resource, resource_type)?;
    Ok(resource)
}

/// `If-Match: W/"3"` (or `"3"`) → 3.
pub(crate) fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    version_tag(value.to_str().unwrap_or("")).map(Some)
}

/// An ETag as `If-Match` gives it: `W/"3"` (or `"3"`) → 3.
pub(crate) fn version_tag(text: &str) -> Result<i64, ApiError> {
    let text = text.trim();
    let bare = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    bare.parse::<i64>().map_err(|_| {
        ApiError::bad_request(
            format!("If-Match không hợp lệ: {text}; dạng đúng là W/\"<phiên bản>\""),
            format!("Invalid If-Match {text}; expected W/\"<versionId>\""),
        )
    })
}

pub(crate) fn etag(version: &Version) -> String {
    format!("W/\"{}\"", version.version_id)
}

fn version_url(base: &str, version: &Version) -> String {
    format!(
        "{base}/{}/{}/_history/{}",
        version.resource_type, version.id, version.version_id
    )
}

fn with_version_headers(
    mut builder: HttpResponseBuilder,
    version: &Version,
) -> HttpResponseBuilder {
    builder
        .insert_header((header::ETAG, etag(version)))
        .insert_header((
            header::LAST_MODIFIED,
            format_http_date(version.last_updated),
        ));
    builder
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Return {
    Minimal,
    Representation,
    OperationOutcome,
}

/// `Prefer: return=…`; `None` when the client did not say.
pub(crate) fn prefer_return(req: &HttpRequest) -> Option<Return> {
    let prefer = req
        .headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|p| p.trim().strip_prefix("return="))
        .next();
    prefer.map(|p| match p.trim_matches('"') {
        "minimal" => Return::Minimal,
        "OperationOutcome" => Return::OperationOutcome,
        _ => Return::Representation,
    })
}

/// The body of a create or update response, as `Prefer: return=` asks.
pub(crate) fn written_response(
    req: &HttpRequest,
    call: &Call,
    status: StatusCode,
    version: &Version,
) -> HttpResponse {
    let mut builder = with_version_headers(HttpResponse::build(status), version);
    builder.insert_header((header::LOCATION, version_url(&call.base, version)));
    let content = version.content.as_deref().unwrap_or("{}");
    match prefer_return(req).unwrap_or(Return::Representation) {
        Return::Minimal => builder.finish(),
        Return::Representation => call.render.text(builder, content),
        Return::OperationOutcome => {
            let what = format!("{}/{}", version.resource_type, version.id);
            let issue = Issue::information(
                format!("Đã lưu {what}, phiên bản {}", version.version_id),
                format!("Stored {what}, version {}", version.version_id),
            );
            call.render.value(builder, &operation_outcome(&[issue]))
        }
    }
}

pub async fn create(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let call = Call::new(&req, &state)?;
    let resource_type = resource_type(&path)?;
    let resource = resource_body(&req, payload, &state, resource_type).await?;
    if let Some(condition) = req.headers().get("if-none-exist") {
        let condition = condition.to_str().unwrap_or("").to_string();
        return super::search::create_if_none_exist(
            &req,
            &call,
            &state,
            resource_type,
            resource,
            &condition,
        )
        .await;
    }
    let ctx = call.ctx.clone();
    let version = blocking(&state, resource_type.to_string(), move |s| {
        s.store.create(&ctx, resource_type, resource)
    })
    .await?;
    Ok(written_response(&req, &call, StatusCode::CREATED, &version))
}

pub async fn update(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (type_name, id) = path.into_inner();
    let (call, resource_type) = instance(&req, &state, &type_name, &id)?;
    let expected = if_match(&req)?;
    let resource = resource_body(&req, payload, &state, resource_type).await?;
    match resource.get("id").and_then(Value::as_str) {
        Some(body_id) if body_id == id => {}
        body_id => {
            return Err(ApiError::one(
                StatusCode::BAD_REQUEST,
                Issue::error(
                    "invalid",
                    format!(
                        "id trong tài nguyên ({}) phải trùng với id trên địa chỉ ({id})",
                        body_id.unwrap_or("trống")
                    ),
                    format!(
                        "The resource id ({}) must match the id in the URL ({id})",
                        body_id.unwrap_or("missing")
                    ),
                )
                .at(format!("{resource_type}.id")),
            ))
        }
    }
    store_update(&req, &call, &state, resource_type, id, resource, expected).await
}

/// Stores an update and answers 200, or 201 when it created the resource.
pub(crate) async fn store_update(
    req: &HttpRequest,
    call: &Call,
    state: &web::Data<AppState>,
    resource_type: &'static str,
    id: String,
    resource: Value,
    expected: Option<i64>,
) -> Result<HttpResponse, ApiError> {
    let ctx = call.ctx.clone();
    let what = format!("{resource_type}/{id}");
    let written = blocking(state, what, move |s| {
        s.store.update(&ctx, resource_type, &id, resource, expected)
    })
    .await?;
    let status = if written.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(written_response(req, call, status, &written.version))
}

pub async fn read(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (type_name, id) = path.into_inner();
    let (call, resource_type) = instance(&req, &state, &type_name, &id)?;
    let ctx = call.ctx.clone();
    let what = format!("{resource_type}/{id}");
    let version = blocking(&state, what, move |s| {
        s.store.read(&ctx, resource_type, &id)
    })
    .await?;
    let current = etag(&version);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == current || t.trim() == "*")
        });
    let builder = with_version_headers(
        HttpResponse::build(if unchanged {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        }),
        &version,
    );
    if unchanged {
        let mut builder = builder;
        return Ok(builder.finish());
    }
    Ok(call
        .render
        .text(builder, version.content.as_deref().unwrap_or("{}")))
}

pub async fn vread(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (type_name, id, vid) = path.into_inner();
    let (call, resource_type) = instance(&req, &state, &type_name, &id)?;
    let what = format!("{resource_type}/{id}/_history/{vid}");
    let Ok(version_id) = vid.parse::<i64>() else {
        return Err(ApiError::not_found(&what));
    };
    let ctx = call.ctx.clone();
    let version = blocking(&state, what, move |s| {
        s.store.vread(&ctx, resource_type, &id, version_id)
    })
    .await?;
    let builder = with_version_headers(HttpResponse::Ok(), &version);
    Ok(call
        .render
        .text(builder, version.content.as_deref().unwrap_or("{}")))
}

pub async fn delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (type_name, id) = path.into_inner();
    let (call, resource_type) = instance(&req, &state, &type_name, &id)?;
    let expected = if_match(&req)?;
    store_delete(&call, &state, resource_type, id, expected).await
}

/// Deletes and answers 200 with an informational OperationOutcome and the tombstone's ETag.
pub(crate) async fn store_delete(
    call: &Call,
    state: &web::Data<AppState>,
    resource_type: &'static str,
    id: String,
    expected: Option<i64>,
) -> Result<HttpResponse, ApiError> {
    let ctx = call.ctx.clone();
    let what = format!("{resource_type}/{id}");
    let version = blocking(state, what.clone(), move |s| {
        s.store.delete(&ctx, resource_type, &id, expected)
    })
    .await?;
    let issue = Issue::information(
        format!("Đã xóa {what} (phiên bản {})", version.version_id),
        format!("Deleted {what} (version {})", version.version_id),
    );
    let builder = with_version_headers(HttpResponse::Ok(), &version);
    Ok(call.render.value(builder, &operation_outcome(&[issue])))
}

pub async fn history_system(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    history(req, state, HistoryScope::System).await
}

pub async fn history_type(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let resource_type = resource_type(&path)?;
    history(req, state, HistoryScope::Type(resource_type.into())).await
}

pub async fn history_instance(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (type_name, id) = path.into_inner();
    let resource_type = resource_type(&type_name)?;
    checked_id(&id)?;
    history(req, state, HistoryScope::Instance(resource_type.into(), id)).await
}

pub(crate) fn invalid_param(name: &str, value: &str, vi: &str, en: &str) -> ApiError {
    ApiError::one(
        StatusCode::BAD_REQUEST,
        Issue::error(
            "invalid",
            format!("Tham số {name}={value} không hợp lệ: {vi}"),
            format!("Invalid parameter {name}={value}: {en}"),
        )
        .at(name),
    )
}

async fn history(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: HistoryScope,
) -> Result<HttpResponse, ApiError> {
    let call = Call::new(&req, &state)?;
    let count = match call.param("_count") {
        None => state.config.default_count,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|c| *c >= 0)
            .ok_or_else(|| {
                invalid_param(
                    "_count",
                    text,
                    "phải là số nguyên không âm",
                    "must be a non-negative integer",
                )
            })?
            .min(state.config.max_count),
    };
    let since = call
        .param("_since")
        .map(|text| {
            datetime::parse_date_time(text)
                .map(|s| s.start)
                .ok_or_else(|| {
                    invalid_param(
                        "_since",
                        text,
                        "phải là một thời điểm FHIR",
                        "must be a FHIR instant",
                    )
                })
        })
        .transpose()?;
    let before = call
        .param("_cursor")
        .map(|text| {
            text.parse::<i64>().map_err(|_| {
                invalid_param(
                    "_cursor",
                    text,
                    "con trỏ trang không hợp lệ",
                    "not a page cursor from this server",
                )
            })
        })
        .transpose()?;
    let query = HistoryQuery {
        scope: scope.clone(),
        since,
        count,
        before,
    };
    let ctx = call.ctx.clone();
    let page = blocking(&state, "history".into(), move |s| {
        s.store.history(&ctx, &query)
    })
    .await?;

    let path = match &scope {
        HistoryScope::System => "/_history".to_string(),
        HistoryScope::Type(t) => format!("/{t}/_history"),
        HistoryScope::Instance(t, id) => format!("/{t}/{id}/_history"),
    };
    let link_query = |cursor: Option<i64>| {
        let mut parts = vec![format!("_count={count}")];
        if let Some(since) = call.param("_since") {
            parts.push(format!("_since={}", urlencode(since)));
        }
        if let Some(cursor) = cursor {
            parts.push(format!("_cursor={cursor}"));
        }
        format!("{}{path}?{}", call.base, parts.join("&"))
    };
    let mut links = vec![json!({"relation": "self", "url": link_query(before)})];
    if page.has_more {
        if let Some((seq, _)) = page.entries.last() {
            links.push(json!({"relation": "next", "url": link_query(Some(*seq))}));
        }
    }
    let entries: Vec<Value> = page
        .entries
        .iter()
        .map(|(_, version)| history_entry(&call.base, version))
        .collect();
    let bundle = json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v4().to_string(),
        "meta": {"lastUpdated": format_instant(datetime::now())},
        "type": "history",
        "total": page.total,
        "link": links,
        "entry": entries,
    });
    Ok(call.render.value(HttpResponse::Ok(), &bundle))
}

fn history_entry(base: &str, version: &Version) -> Value {
    let resource_url = format!("{}/{}", version.resource_type, version.id);
    let mut entry = json!({
        "fullUrl": format!("{base}/{resource_url}"),
        "request": {
            "method": version.method.as_str(),
            "url": if version.method == Method::Post { version.resource_type.clone() } else { resource_url },
        },
        "response": {
            "status": match version.method {
                Method::Post => "201 Created",
                Method::Put if version.version_id == 1 => "201 Created",
                Method::Put | Method::Delete => "200 OK",
            },
            "etag": etag(version),
            "lastModified": format_instant(version.last_updated),
        },
    });
    if let Some(resource) = version
        .content
        .as_deref()
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
    {
        entry["resource"] = resource;
    }
    entry
}

pub(crate) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Any other method on a known path.
pub async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::one(
        StatusCode::METHOD_NOT_ALLOWED,
        Issue::error(
            "not-supported",
            format!(
                "Phương thức {} không được hỗ trợ tại {}",
                req.method(),
                req.path()
            ),
            format!("Method {} is not supported on {}", req.method(), req.path()),
        ),
    ))
}

/// Any path the server does not serve.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(req.path()))
}
