//! Every error leaves the server as an OperationOutcome.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::fhir::outcome::{operation_outcome, Issue};
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub issues: Vec<Issue>,
}

impl ApiError {
    pub fn new(status: StatusCode, issues: Vec<Issue>) -> ApiError {
        ApiError { status, issues }
    }

    pub fn one(status: StatusCode, issue: Issue) -> ApiError {
        ApiError::new(status, vec![issue])
    }

    /// Sets the expression of the issues that have none.
    pub fn at(mut self, expression: &str) -> ApiError {
        for issue in &mut self.issues {
            issue
                .expression
                .get_or_insert_with(|| expression.to_string());
        }
        self
    }

    pub fn bad_request(vi: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::one(StatusCode::BAD_REQUEST, Issue::error("invalid", vi, en))
    }

    pub fn unknown_type(resource_type: &str) -> ApiError {
        ApiError::one(
            StatusCode::NOT_FOUND,
            Issue::error(
                "not-supported",
                format!("Loại tài nguyên không được hỗ trợ: {resource_type}"),
                format!("Unknown or unsupported resource type: {resource_type}"),
            ),
        )
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::one(
            StatusCode::NOT_FOUND,
            Issue::error(
                "not-found",
                format!("Không tìm thấy {what}"),
                format!("{what} was not found"),
            ),
        )
    }

    pub fn from_store(error: StoreError, what: &str) -> ApiError {
        match error {
            StoreError::UnknownType(t) => ApiError::unknown_type(&t),
            StoreError::NotFound => ApiError::not_found(what),
            StoreError::Gone(version) => ApiError::one(
                StatusCode::GONE,
                Issue::error(
                    "deleted",
                    format!("{what} đã bị xóa (phiên bản {})", version.version_id),
                    format!("{what} was deleted (version {})", version.version_id),
                ),
            ),
            StoreError::VersionConflict { expected, current } => {
                let (vi, en) = current.map_or(("chưa có".to_string(), "none".to_string()), |v| {
                    (v.to_string(), v.to_string())
                });
                ApiError::one(
                    StatusCode::PRECONDITION_FAILED,
                    Issue::error(
                        "conflict",
                        format!(
                            "Xung đột phiên bản của {what}: If-Match là {expected}, phiên bản hiện tại: {vi}"
                        ),
                        format!(
                            "Version conflict on {what}: If-Match is {expected}, the current version: {en}"
                        ),
                    ),
                )
            }
            StoreError::Database(message) => {
                log::error!("database error on {what}: {message}");
                ApiError::one(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Issue::error(
                        "transient",
                        "Cơ sở dữ liệu tạm thời không phục vụ được, vui lòng thử lại",
                        format!("The database could not complete the request: {message}"),
                    ),
                )
            }
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = self.issues.first().map_or("", |i| i.en.as_str());
        write!(f, "{}: {first}", self.status)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .insert_header((header::CONTENT_TYPE, super::negotiation::FHIR_JSON))
            .body(operation_outcome(&self.issues).to_string())
    }
}
