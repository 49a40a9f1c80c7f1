//! The entries of a transaction, run inside one database transaction in the order of
//! bundle.html: DELETE, then POST, then PUT and PATCH, then GET and HEAD. All writes after
//! the deletes go to the store in one batch.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use serde_json::Value;

use super::super::error::ApiError;
use super::super::handlers::{Call, Params};
use super::super::search::{conditional_request, failure, parse, searchset, several};
use super::super::validate::check_profiles;
use super::super::AppState;
use super::entry::{Entry, PatchDocument, Target, Verb};
use crate::fhir::outcome::Issue;
use crate::fhir::patch::{apply_fhirpath_patch, apply_json_patch, PatchError};
use crate::fhir::reference::{is_placeholder, references_mut};
use crate::fhir::{check_resource, is_valid_id};
use crate::search::{self as engine};
use crate::store::projection;
use crate::store::{new_id, ApplyError, Change, Found, Method, StoreError, Tx, Version};

/// Why a transaction stopped; `index` names the entry at fault.
#[derive(Debug)]
pub struct Failure {
    pub index: Option<usize>,
    pub error: ApiError,
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Failure {
        Failure {
            index: None,
            error: ApiError::from_store(error, "transaction"),
        }
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Failure {
        StoreError::from(error).into()
    }
}

/// What one entry did.
#[derive(Debug)]
pub struct Outcome {
    pub status: StatusCode,
    /// The version written, deleted or found.
    pub version: Option<Version>,
    /// A GET's answer: the resource or a searchset Bundle.
    pub body: Option<Value>,
}

/// The request-wide settings entries run under.
pub struct Context<'a> {
    pub state: &'a AppState,
    pub call: &'a Call,
    pub strict: bool,
}

fn at(entry: &Entry) -> impl Fn(ApiError) -> Failure + '_ {
    move |error| Failure {
        index: Some(entry.index),
        error,
    }
}

fn store_error<'e>(entry: &'e Entry, id: &str) -> impl Fn(StoreError) -> Failure + 'e {
    let what = format!("{}/{id}", entry.resource_type);
    move |error| at(entry)(ApiError::from_store(error, &what))
}

/// The resources a conditional URL selects (at most two are read: the outcome only tells
/// none, one and several apart).
fn matching(
    cx: &Context,
    tx: &mut Tx,
    resource_type: &'static str,
    params: &Params,
) -> Result<Vec<Found>, ApiError> {
    let request = conditional_request(cx.state, resource_type, params)?;
    engine::search(tx.reader(), &request)
        .map(|page| page.matches)
        .map_err(|e| failure(e, resource_type))
}

/// The one resource a conditional URL of `entry` selects: 404 for none, 412 for several.
fn only_match(cx: &Context, tx: &mut Tx, entry: &Entry, params: &Params) -> Result<Found, Failure> {
    let mut found = matching(cx, tx, entry.resource_type, params).map_err(at(entry))?;
    match found.len() {
        0 => Err(at(entry)(ApiError::not_found(&format!(
            "{}?{}",
            entry.resource_type,
            query_text(params)
        )))),
        1 => Ok(found.remove(0)),
        _ => Err(at(entry)(several(entry.resource_type))),
    }
}

fn query_text(params: &Params) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A resource may be the target of one write only.
fn check_identities(entries: &[Entry]) -> Result<(), Failure> {
    let mut targets = HashSet::new();
    let mut full_urls = HashSet::new();
    for entry in entries {
        let duplicate = |vi: String, en: String| {
            Err(at(entry)(ApiError::one(
                StatusCode::BAD_REQUEST,
                Issue::error("invalid", vi, en),
            )))
        };
        if let Some(full_url) = &entry.full_url {
            if !full_urls.insert(full_url.as_str()) {
                return duplicate(
                    format!("fullUrl {full_url} xuất hiện hai lần"),
                    format!("fullUrl {full_url} appears twice"),
                );
            }
        }
        let writes = !matches!(entry.verb, Verb::Get | Verb::Head | Verb::Post);
        if let (true, Target::Instance(id)) = (writes, &entry.target) {
            let key = format!("{}/{id}", entry.resource_type);
            if !targets.insert(key.clone()) {
                return duplicate(
                    format!("{key} bị thay đổi bởi nhiều mục của giao dịch"),
                    format!("{key} is changed by more than one entry of the transaction"),
                );
            }
        }
    }
    Ok(())
}

/// Applies changes and maps a failed precondition back to its entry.
fn apply(tx: &mut Tx, changes: Vec<Change>, owners: &[&Entry]) -> Result<Vec<Version>, Failure> {
    tx.apply(changes)
        .map(|written| written.into_iter().map(|w| w.version).collect())
        .map_err(|error| match error {
            ApplyError::Change(i, error) => {
                let entry = owners[i];
                let id = match &entry.target {
                    Target::Instance(id) => id.as_str(),
                    _ => "",
                };
                store_error(entry, id)(error)
            }
            ApplyError::Race => Failure {
                index: None,
                error: ApiError::one(
                    StatusCode::CONFLICT,
                    Issue::error(
                        "conflict",
                        "Một tài nguyên của giao dịch vừa bị thay đổi đồng thời; hãy gửi lại",
                        "A resource of the transaction was changed concurrently; send it again",
                    ),
                ),
            },
            ApplyError::Store(error) => error.into(),
        })
}

/// Runs every entry; the caller commits only on `Ok`.
pub fn run(cx: &Context, tx: &mut Tx, mut entries: Vec<Entry>) -> Result<Vec<Outcome>, Failure> {
    check_identities(&entries)?;
    let mut outcomes: HashMap<usize, Outcome> = HashMap::new();
    delete(cx, tx, &entries, &mut outcomes)?;

    // Ids first, so that references between entries can be rewritten before anything is
    // written.
    let mut references: HashMap<String, String> = HashMap::new();
    let mut writes: Vec<(usize, String, Method)> = Vec::new();
    for entry in &entries {
        let id = match (entry.verb, &entry.target) {
            (Verb::Post, _) => {
                if let Some(condition) = &entry.if_none_exist {
                    let name = query_text(condition);
                    tx.lock(&format!("if-none-exist {}?{name}", entry.resource_type))?;
                    let mut found =
                        matching(cx, tx, entry.resource_type, condition).map_err(at(entry))?;
                    if found.len() > 1 {
                        return Err(at(entry)(several(entry.resource_type)));
                    }
                    if let Some(existing) = found.pop() {
                        remember(&mut references, entry, &existing.id);
                        let outcome = Outcome {
                            status: StatusCode::OK,
                            version: Some(existing.into_version()),
                            body: None,
                        };
                        outcomes.insert(entry.index, outcome);
                        continue;
                    }
                }
                (new_id(), Method::Post)
            }
            (Verb::Put, Target::Instance(id)) => (id.clone(), Method::Put),
            (Verb::Put, Target::Search(params)) => {
                let body_id = entry
                    .resource
                    .as_ref()
                    .and_then(|r| r["id"].as_str())
                    .map(str::to_string);
                let mut found = matching(cx, tx, entry.resource_type, params).map_err(at(entry))?;
                let id = match (found.len(), body_id) {
                    (0, Some(id)) if is_valid_id(&id) => id,
                    (0, _) => new_id(),
                    (1, Some(id)) if id != found[0].id => {
                        return Err(at(entry)(ApiError::bad_request(
                            format!(
                                "id {id} khác với tài nguyên khớp điều kiện ({})",
                                found[0].id
                            ),
                            format!(
                                "The id {id} differs from the matching resource ({})",
                                found[0].id
                            ),
                        )))
                    }
                    (1, _) => found.remove(0).id,
                    _ => return Err(at(entry)(several(entry.resource_type))),
                };
                (id, Method::Put)
            }
            (Verb::Patch, Target::Instance(id)) => (id.clone(), Method::Put),
            (Verb::Patch, Target::Search(params)) => {
                (only_match(cx, tx, entry, params)?.id, Method::Put)
            }
            _ => continue,
        };
        remember(&mut references, entry, &id.0);
        writes.push((entry.index, id.0, id.1));
    }

    let mut changes = Vec::with_capacity(writes.len());
    let mut owners = Vec::with_capacity(writes.len());
    for (index, id, method) in writes {
        let position = entries
            .iter()
            .position(|e| e.index == index)
            .unwrap_or_default();
        let entry = &mut entries[position];
        let mut resource = match entry.patch.take() {
            Some(document) => patched(cx, tx, entry, &id, &document)?,
            None => entry.resource.take().unwrap_or_default(),
        };
        resource["id"] = Value::String(id.clone());
        resolve_references(cx, tx, &mut resource, &references).map_err(at(entry))?;
        changes.push(Change {
            projection: projection::find(entry.resource_type)
                .ok_or_else(|| StoreError::UnknownType(entry.resource_type.into()))?,
            id,
            method,
            if_match: entry.if_match,
            resource: Some(resource),
        });
        owners.push(position);
    }
    let owner_entries: Vec<&Entry> = owners.iter().map(|&p| &entries[p]).collect();
    let versions = apply(tx, changes, &owner_entries)?;
    for (entry, version) in owner_entries.iter().zip(versions) {
        let status = match entry.verb {
            Verb::Post => StatusCode::CREATED,
            _ if version.version_id == 1 => StatusCode::CREATED,
            _ => StatusCode::OK,
        };
        outcomes.insert(
            entry.index,
            Outcome {
                status,
                version: Some(version),
                body: None,
            },
        );
    }

    for entry in entries
        .iter()
        .filter(|e| matches!(e.verb, Verb::Get | Verb::Head))
    {
        outcomes.insert(entry.index, read(cx, tx, entry)?);
    }
    let mut ordered: Vec<(usize, Outcome)> = outcomes.into_iter().collect();
    ordered.sort_by_key(|(index, _)| *index);
    Ok(ordered.into_iter().map(|(_, outcome)| outcome).collect())
}

/// `fullUrl` → `Type/id`, for rewriting references of other entries.
fn remember(references: &mut HashMap<String, String>, entry: &Entry, id: &str) {
    if let Some(full_url) = &entry.full_url {
        references.insert(full_url.clone(), format!("{}/{id}", entry.resource_type));
    }
}

fn delete(
    cx: &Context,
    tx: &mut Tx,
    entries: &[Entry],
    outcomes: &mut HashMap<usize, Outcome>,
) -> Result<(), Failure> {
    let mut changes = Vec::new();
    let mut owners = Vec::new();
    for entry in entries.iter().filter(|e| e.verb == Verb::Delete) {
        let id = match &entry.target {
            Target::Search(params) => only_match(cx, tx, entry, params)?.id,
            Target::Instance(id) => id.clone(),
            _ => continue,
        };
        changes.push(Change {
            projection: projection::find(entry.resource_type)
                .ok_or_else(|| StoreError::UnknownType(entry.resource_type.into()))?,
            id,
            method: Method::Delete,
            if_match: entry.if_match,
            resource: None,
        });
        owners.push(entry);
    }
    if changes.is_empty() {
        return Ok(());
    }
    for (entry, version) in owners.iter().zip(apply(tx, changes, &owners)?) {
        outcomes.insert(
            entry.index,
            Outcome {
                status: StatusCode::OK,
                version: Some(version),
                body: None,
            },
        );
    }
    Ok(())
}

/// The current resource with the patch applied, checked as a whole: 422 when the result is
/// not a valid resource.
fn patched(
    cx: &Context,
    tx: &mut Tx,
    entry: &Entry,
    id: &str,
    document: &PatchDocument,
) -> Result<Value, Failure> {
    let resource_type = entry.resource_type;
    // Held to the end of the transaction, so nobody writes between our read and write.
    tx.lock(&format!("{resource_type}/{id}"))?;
    let current = tx.read(resource_type, id).map_err(store_error(entry, id))?;
    let mut resource: Value = serde_json::from_str(current.content.as_deref().unwrap_or("{}"))
        .map_err(|e| StoreError::Database(format!("stored JSON unreadable: {e}")))?;
    let result = match document {
        PatchDocument::Json(document) => apply_json_patch(&mut resource, document),
        PatchDocument::FhirPath(parameters) => {
            apply_fhirpath_patch(&cx.state.schemas, &mut resource, parameters)
        }
    };
    let unprocessable = |issues| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, issues);
    result.map_err(|error| {
        at(entry)(match error {
            PatchError::Malformed(issue) => ApiError::one(StatusCode::BAD_REQUEST, issue),
            PatchError::Unprocessable(issue) => unprocessable(vec![issue]),
        })
    })?;
    if resource["id"] != id || resource["resourceType"] != resource_type {
        return Err(at(entry)(unprocessable(vec![Issue::error(
            "processing",
            "PATCH không được đổi id hay resourceType",
            "A PATCH may not change the id or the resourceType",
        )
        .at(format!("{resource_type}.id"))])));
    }
    // The server sets meta.versionId and meta.lastUpdated again on write.
    check_resource(&cx.state.schemas, &resource, resource_type)
        .map_err(|issues| at(entry)(unprocessable(issues)))?;
    check_profiles(cx.state, &resource, resource_type).map_err(at(entry))?;
    Ok(resource)
}

/// Rewrites `fullUrl` placeholders and conditional references (`Patient?identifier=…`) to
/// `Type/id`; a placeholder that names no entry is an error.
fn resolve_references(
    cx: &Context,
    tx: &mut Tx,
    resource: &mut Value,
    references: &HashMap<String, String>,
) -> Result<(), ApiError> {
    for reference in references_mut(resource) {
        if let Some(target) = references.get(reference.as_str()) {
            *reference = target.clone();
        } else if is_placeholder(reference) {
            return Err(ApiError::bad_request(
                format!("Tham chiếu {reference} không trỏ tới mục nào của Bundle"),
                format!("The reference {reference} matches no fullUrl of the Bundle"),
            ));
        } else if let Some((type_name, query)) = reference.split_once('?') {
            let Some(projection) = projection::find(type_name) else {
                return Err(ApiError::unknown_type(type_name));
            };
            let params = super::super::search::conditional_params(query)?;
            let resource_type = projection.resource_type();
            let found = matching(cx, tx, resource_type, &params)?;
            match found.as_slice() {
                [one] => *reference = one.reference(),
                _ => {
                    return Err(ApiError::one(
                        StatusCode::PRECONDITION_FAILED,
                        Issue::error(
                            "not-found",
                            format!("Tham chiếu có điều kiện {reference} khớp {} tài nguyên (cần đúng 1)", found.len()),
                            format!("The conditional reference {reference} matches {} resources (exactly 1 needed)", found.len()),
                        ),
                    ))
                }
            }
        }
    }
    Ok(())
}

fn read(cx: &Context, tx: &mut Tx, entry: &Entry) -> Result<Outcome, Failure> {
    let version = match &entry.target {
        Target::Instance(id) => tx
            .read(entry.resource_type, id)
            .map_err(store_error(entry, id))?,
        Target::Version(id, version_id) => tx
            .vread(entry.resource_type, id, *version_id)
            .map_err(store_error(entry, id))?,
        Target::Search(params) => return search(cx, tx, entry, params),
        Target::Type => return search(cx, tx, entry, &Vec::new()),
    };
    let body = version
        .content
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    Ok(Outcome {
        status: StatusCode::OK,
        version: Some(version),
        body,
    })
}

fn search(cx: &Context, tx: &mut Tx, entry: &Entry, params: &Params) -> Result<Outcome, Failure> {
    let request = parse(cx.strict, cx.state, entry.resource_type, params).map_err(at(entry))?;
    let page = engine::search(tx.reader(), &request)
        .map_err(|e| at(entry)(failure(e, entry.resource_type)))?;
    Ok(Outcome {
        status: StatusCode::OK,
        version: None,
        body: serde_json::to_value(searchset(cx.call, &request, params, &page)).ok(),
    })
}
