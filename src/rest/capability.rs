//! The CapabilityStatement, generated from the registered projections.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::error::ApiError;
use super::negotiation::negotiate;
use super::AppState;
use crate::fhir::datetime::{format_instant, now};
use crate::store::projection::PROJECTIONS;

/// What each stored type supports today.
const TYPE_INTERACTIONS: &[&str] = &[
    "read",
    "vread",
    "update",
    "delete",
    "history-instance",
    "history-type",
    "create",
];

pub fn capability_statement(base: &str) -> Value {
    let resources: Vec<Value> = PROJECTIONS
        .iter()
        .map(|p| {
            let name = p.resource_type();
            json!({
                "type": name,
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{name}"),
                "interaction": TYPE_INTERACTIONS.iter().map(|code| json!({"code": code})).collect::<Vec<_>>(),
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": true,
                "conditionalCreate": false,
                "conditionalRead": "not-supported",
                "conditionalUpdate": false,
                "conditionalDelete": "not-supported",
            })
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": format_instant(now()),
        "publisher": "vnfhir",
        "kind": "instance",
        "software": {"name": "vnfhir", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "vnfhir: máy chủ FHIR R4 cho dữ liệu y tế Việt Nam / FHIR R4 server for Vietnamese health data", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/json"],
        "rest": [{
            "mode": "server",
            "resource": resources,
            "interaction": [{"code": "history-system"}],
        }],
    })
}

pub async fn metadata(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let render = negotiate(&req, &params)?;
    Ok(render.value(
        HttpResponse::Ok(),
        &capability_statement(&state.base_url(&req)),
    ))
}
