//! The CapabilityStatement, generated from the registered projections.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::error::ApiError;
use super::negotiation::negotiate;
use super::validate::CONFORMANCE_TYPES;
use super::AppState;
use crate::fhir::datetime::{format_instant, now};
use crate::search::registry::registry;
use crate::store::projection::PROJECTIONS;
use crate::validation::Validator;

/// What each stored type supports today.
const TYPE_INTERACTIONS: &[&str] = &[
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
];

pub fn capability_statement(base: &str, validator: &Validator) -> Value {
    let mut resources: Vec<Value> = PROJECTIONS
        .iter()
        .map(|p| {
            let name = p.resource_type();
            let definitions = registry().definitions(name);
            let search_params: Vec<Value> = definitions
                .iter()
                .filter(|d| d.supported.is_some())
                .map(|d| json!({"name": d.code, "definition": d.url, "type": d.kind, "documentation": d.description}))
                .collect();
            let references = |source: &str| -> Vec<String> {
                registry()
                    .definitions(source)
                    .iter()
                    .filter(|d| d.supported.is_some_and(|s| s.reference_rows().is_some()))
                    .map(|d| format!("{source}:{}", d.code))
                    .collect()
            };
            let rev_includes: Vec<String> = PROJECTIONS
                .iter()
                .flat_map(|source| {
                    registry()
                        .definitions(source.resource_type())
                        .iter()
                        .filter(|d| d.supported.is_some_and(|s| s.reference_rows().is_some()))
                        .filter(|d| d.targets.iter().any(|t| t == name))
                        .map(|d| format!("{}:{}", source.resource_type(), d.code))
                        .collect::<Vec<_>>()
                })
                .collect();
            json!({
                "type": name,
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{name}"),
                "interaction": TYPE_INTERACTIONS.iter().map(|code| json!({"code": code})).collect::<Vec<_>>(),
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": true,
                "conditionalCreate": true,
                "conditionalRead": "not-supported",
                "conditionalUpdate": true,
                "conditionalDelete": "single",
                "searchInclude": references(name),
                "searchRevInclude": rev_includes,
                "searchParam": search_params,
                "supportedProfile": validator.vn_profile(name).into_iter().collect::<Vec<_>>(),
                "operation": [{"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}],
            })
        })
        .collect();
    resources.extend(CONFORMANCE_TYPES.iter().map(|name| {
        json!({
            "type": name,
            "profile": format!("http://hl7.org/fhir/StructureDefinition/{name}"),
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {"name": "url", "definition": format!("http://hl7.org/fhir/SearchParameter/{name}-url"), "type": "uri"},
                {"name": "_id", "definition": "http://hl7.org/fhir/SearchParameter/Resource-id", "type": "token"},
            ],
        })
    }));
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
        "patchFormat": ["application/json-patch+json", "application/fhir+json"],
        "rest": [{
            "mode": "server",
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "history-system"}],
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
        &capability_statement(&state.base_url(&req), &state.validator),
    ))
}
