//! Content negotiation: `Accept`, `_format`, `_pretty`, `Content-Type`, and rendering.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponseBuilder};
use serde_json::Value;

use super::error::ApiError;
use crate::fhir::outcome::Issue;

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";
const PLAIN_JSON: &str = "application/json; charset=utf-8";

/// How the response body is written.
#[derive(Debug, Clone, Copy)]
pub struct Render {
    pub content_type: &'static str,
    pub pretty: bool,
}

fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json_type(media: &str) -> bool {
    matches!(
        media,
        "application/fhir+json" | "application/json" | "application/json+fhir"
    )
}

fn not_acceptable(what: &str) -> ApiError {
    ApiError::one(
        StatusCode::NOT_ACCEPTABLE,
        Issue::error(
            "not-supported",
            format!("Không hỗ trợ định dạng {what}; máy chủ trả về application/fhir+json"),
            format!("Format {what} is not supported; this server returns application/fhir+json"),
        ),
    )
}

/// Picks the response format from `_format` (which wins) or `Accept`, and `_pretty`.
pub fn negotiate(req: &HttpRequest, params: &[(String, String)]) -> Result<Render, ApiError> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let pretty = param("_pretty") == Some("true");
    let mut content_type = FHIR_JSON;
    if let Some(format) = param("_format") {
        let media = media_type(format);
        match media.as_str() {
            "json" | "application/fhir+json" | "application/json+fhir" => {}
            "application/json" => content_type = PLAIN_JSON,
            _ => return Err(not_acceptable(format)),
        }
    } else if let Some(accept) = req.headers().get(header::ACCEPT) {
        let accept = accept.to_str().unwrap_or("");
        let offered: Vec<String> = accept.split(',').map(media_type).collect();
        let fhir = offered.iter().any(|m| {
            matches!(
                m.as_str(),
                "application/fhir+json" | "application/json+fhir" | "*/*" | "application/*" | ""
            )
        });
        if !fhir {
            if offered.iter().any(|m| m == "application/json") {
                content_type = PLAIN_JSON;
            } else {
                return Err(not_acceptable(accept));
            }
        }
    }
    Ok(Render {
        content_type,
        pretty,
    })
}

/// Rejects request bodies that are not FHIR JSON (a missing Content-Type is read as JSON).
pub fn require_json_body(req: &HttpRequest) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media = media_type(value.to_str().unwrap_or(""));
    if is_json_type(&media) {
        return Ok(());
    }
    Err(ApiError::one(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Issue::error(
            "not-supported",
            format!("Kiểu nội dung {media} không được hỗ trợ; hãy gửi application/fhir+json"),
            format!("Content-Type {media} is not supported; send application/fhir+json"),
        ),
    ))
}

impl Render {
    /// Writes stored JSON text; only `_pretty` needs a re-parse.
    pub fn text(&self, mut builder: HttpResponseBuilder, json: &str) -> actix_web::HttpResponse {
        builder.insert_header((header::CONTENT_TYPE, self.content_type));
        if self.pretty {
            if let Ok(value) = serde_json::from_str::<Value>(json) {
                return self.value(builder, &value);
            }
        }
        builder.body(json.to_string())
    }

    pub fn value(
        &self,
        mut builder: HttpResponseBuilder,
        value: &Value,
    ) -> actix_web::HttpResponse {
        builder.insert_header((header::CONTENT_TYPE, self.content_type));
        let body = if self.pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        };
        builder.body(body.unwrap_or_default())
    }
}
