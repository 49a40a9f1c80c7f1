//! `POST /` with a Bundle of type `transaction` (all-or-nothing, one database transaction)
//! or `batch` (each entry on its own), and `PATCH /{type}/{id}`, which runs as a one-entry
//! transaction.

mod entry;
mod transaction;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::error::ApiError;
use super::handlers::{
    etag, if_match, instance, prefer_return, read_body, written_response, Call, Return,
};
use super::negotiation::require_json_body;
use super::search::strict;
use super::AppState;
use crate::fhir::datetime::{self, format_instant};
use crate::fhir::outcome::{operation_outcome, Issue};
use crate::store::StoreError;
use entry::{Entry, PatchDocument, Target, Verb};
use transaction::{Context, Failure, Outcome};

const BUNDLE_ELEMENTS: &[&str] = &[
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "identifier",
    "type",
    "timestamp",
    "total",
    "link",
    "entry",
    "signature",
];

fn status_line(status: StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    )
}

/// An entry's error, with the entry named in the message and the expression.
fn labelled(error: ApiError, index: usize, full_url: Option<&str>) -> ApiError {
    let root = format!("Bundle.entry[{index}]");
    let name = match full_url {
        Some(url) => format!("{root} ({url})"),
        None => root.clone(),
    };
    let issues = error
        .issues
        .into_iter()
        .map(|mut issue| {
            issue.vi = format!("{name}: {}", issue.vi);
            issue.en = format!("{name}: {}", issue.en);
            issue.expression = Some(match issue.expression.as_deref() {
                None => root.clone(),
                Some(path) if path.starts_with("resource") || path.starts_with("request") => {
                    format!("{root}.{path}")
                }
                Some(path) if path.starts_with("entry") => {
                    format!("{root}{}", &path["entry".len()..])
                }
                // `Patient.name`: inside the entry's resource.
                Some(path) if path.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    let rest = path.find(['.', '[']).map_or("", |i| &path[i..]);
                    format!("{root}.resource{rest}")
                }
                // A search parameter of the entry's URL.
                Some(_) => format!("{root}.request.url"),
            });
            issue
        })
        .collect();
    ApiError::new(error.status, issues)
}

fn failed(failure: Failure, entries: &[(usize, Option<String>)]) -> ApiError {
    match failure.index {
        Some(index) => {
            let full_url = entries
                .iter()
                .find(|(i, _)| *i == index)
                .and_then(|(_, url)| url.as_deref());
            labelled(failure.error, index, full_url)
        }
        None => failure.error,
    }
}

fn response_entry(base: &str, outcome: &Outcome, verb: Verb, representation: bool) -> Value {
    let mut response = json!({"status": status_line(outcome.status)});
    let mut entry = json!({});
    if let Some(version) = &outcome.version {
        let reference = format!("{}/{}", version.resource_type, version.id);
        response["location"] = json!(format!("{reference}/_history/{}", version.version_id));
        response["etag"] = json!(etag(version));
        response["lastModified"] = json!(format_instant(version.last_updated));
        if !version.is_deleted() {
            entry["fullUrl"] = json!(format!("{base}/{reference}"));
        }
        if representation && verb != Verb::Get {
            if let Some(resource) = version
                .content
                .as_deref()
                .and_then(|c| serde_json::from_str::<Value>(c).ok())
            {
                entry["resource"] = resource;
            }
        }
    }
    if let (Some(body), Verb::Get) = (&outcome.body, verb) {
        entry["resource"] = body.clone();
    }
    entry["response"] = response;
    entry
}

fn error_entry(error: &ApiError) -> Value {
    json!({"response": {
        "status": status_line(error.status),
        "outcome": operation_outcome(&error.issues),
    }})
}

/// `POST /`: a transaction or a batch.
pub async fn process(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let call = Call::new(&req, &state)?;
    require_json_body(&req)?;
    let body = read_body(&req, payload, state.config.max_body_bytes).await?;
    let mut bundle: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            format!("Nội dung không phải JSON hợp lệ: {e}"),
            format!("The body is not valid JSON: {e}"),
        )
    })?;
    if bundle["resourceType"] != "Bundle" {
        return Err(ApiError::one(
            StatusCode::BAD_REQUEST,
            Issue::error(
                "invalid",
                "Địa chỉ gốc chỉ nhận một Bundle kiểu transaction hoặc batch",
                "The base URL takes only a Bundle of type transaction or batch",
            )
            .at("resourceType"),
        ));
    }
    entry::unknown_elements(&bundle, BUNDLE_ELEMENTS, "Bundle")?;
    let atomic = match bundle["type"].as_str() {
        Some("transaction") => true,
        Some("batch") => false,
        other => {
            let other = other.unwrap_or("(none)");
            return Err(ApiError::one(
                StatusCode::BAD_REQUEST,
                Issue::error(
                    "invalid",
                    format!("Bundle.type là {other}; chỉ nhận transaction hoặc batch"),
                    format!("Bundle.type is {other}; only transaction and batch are processed"),
                )
                .at("Bundle.type"),
            ));
        }
    };
    let entries = match bundle.get_mut("entry").map(Value::take) {
        None => Vec::new(),
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            return Err(ApiError::one(
                StatusCode::BAD_REQUEST,
                Issue::error(
                    "structure",
                    "Bundle.entry phải là một mảng",
                    "Bundle.entry must be an array",
                )
                .at("Bundle.entry"),
            ))
        }
    };
    let limit = state.config.max_bundle_entries;
    if entries.len() > limit {
        return Err(ApiError::one(
            StatusCode::PAYLOAD_TOO_LARGE,
            Issue::error(
                "too-costly",
                format!("Bundle có {} mục, vượt giới hạn {limit}", entries.len()),
                format!(
                    "The Bundle has {} entries, over the limit of {limit}",
                    entries.len()
                ),
            )
            .at("Bundle.entry"),
        ));
    }
    let strict = strict(&req);
    // Entries carry no resources unless asked: an ingest would get its bundle back.
    let representation = prefer_return(&req) == Some(Return::Representation);
    let response_type = if atomic {
        "transaction-response"
    } else {
        "batch-response"
    };
    let worker_state = state.clone();
    let worker_call = call.clone();
    let response_entries = web::block(move || {
        let cx = Context {
            state: &worker_state,
            call: &worker_call,
            strict,
        };
        if atomic {
            transaction(&cx, entries, representation)
        } else {
            Ok(batch(&cx, entries, representation))
        }
    })
    .await
    .map_err(|e| ApiError::from_store(StoreError::Database(e.to_string()), "Bundle"))??;
    let response = json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v4().to_string(),
        "meta": {"lastUpdated": format_instant(datetime::now())},
        "type": response_type,
        "link": [{"relation": "self", "url": call.base}],
        "entry": response_entries,
    });
    Ok(call.render.value(HttpResponse::Ok(), &response))
}

/// Reads entry `index`; an error names the entry.
fn parse_entry(cx: &Context, index: usize, json: Value) -> Result<Entry, ApiError> {
    let full_url = json["fullUrl"].as_str().map(str::to_string);
    entry::parse(cx.state, &cx.call.base, index, json)
        .map_err(|e| labelled(e, index, full_url.as_deref()))
}

/// Everything or nothing: one database transaction.
fn transaction(
    cx: &Context,
    entries: Vec<Value>,
    representation: bool,
) -> Result<Vec<Value>, ApiError> {
    let parsed = entries
        .into_iter()
        .enumerate()
        .map(|(index, json)| parse_entry(cx, index, json))
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<(usize, Option<String>)> = parsed
        .iter()
        .map(|e| (e.index, e.full_url.clone()))
        .collect();
    let verbs: Vec<Verb> = parsed.iter().map(|e| e.verb).collect();
    let outcomes = cx
        .state
        .store
        .transaction(&cx.call.ctx, |tx| transaction::run(cx, tx, parsed))
        .map_err(|failure| failed(failure, &names))?;
    Ok(outcomes
        .iter()
        .zip(verbs)
        .map(|(outcome, verb)| response_entry(&cx.call.base, outcome, verb, representation))
        .collect())
}

/// Each entry on its own: a failure is that entry's response and stops nothing else.
fn batch(cx: &Context, entries: Vec<Value>, representation: bool) -> Vec<Value> {
    entries
        .into_iter()
        .enumerate()
        .map(|(index, json)| {
            let run = || {
                let entry = parse_entry(cx, index, json)?;
                let verb = entry.verb;
                let names = [(index, entry.full_url.clone())];
                let mut outcomes = cx
                    .state
                    .store
                    .transaction(&cx.call.ctx, |tx| transaction::run(cx, tx, vec![entry]))
                    .map_err(|failure| failed(failure, &names))?;
                Ok::<_, ApiError>(response_entry(
                    &cx.call.base,
                    &outcomes.remove(0),
                    verb,
                    representation,
                ))
            };
            run().unwrap_or_else(|error| error_entry(&error))
        })
        .collect()
}

/// `PATCH /{type}/{id}` with JSON Patch (`application/json-patch+json`) or FHIRPath Patch
/// (a Parameters resource).
pub async fn patch(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (type_name, id) = path.into_inner();
    let (call, resource_type) = instance(&req, &state, &type_name, &id)?;
    let expected = if_match(&req)?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json_patch = content_type.starts_with("application/json-patch+json");
    if !json_patch {
        require_json_body(&req)?;
    }
    let body = read_body(&req, payload, state.config.max_body_bytes).await?;
    let document: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            format!("Tài liệu PATCH không phải JSON hợp lệ: {e}"),
            format!("The PATCH document is not valid JSON: {e}"),
        )
    })?;
    let entry = Entry {
        index: 0,
        full_url: None,
        verb: Verb::Patch,
        resource_type,
        target: Target::Instance(id),
        resource: None,
        patch: Some(if json_patch {
            PatchDocument::Json(document)
        } else {
            PatchDocument::FhirPath(document)
        }),
        if_match: expected,
        if_none_exist: None,
    };
    let strict = strict(&req);
    let worker_state = state.clone();
    let worker_call = call.clone();
    let mut outcomes = web::block(move || {
        let cx = Context {
            state: &worker_state,
            call: &worker_call,
            strict,
        };
        worker_state
            .store
            .transaction(&worker_call.ctx, |tx| {
                transaction::run(&cx, tx, vec![entry])
            })
            .map_err(|failure| failure.error)
    })
    .await
    .map_err(|e| ApiError::from_store(StoreError::Database(e.to_string()), "PATCH"))??;
    let outcome = outcomes.remove(0);
    match &outcome.version {
        Some(version) => Ok(written_response(&req, &call, StatusCode::OK, version)),
        None => Err(ApiError::from_store(
            StoreError::Database("PATCH wrote nothing".into()),
            "PATCH",
        )),
    }
}
