//! The error envelope (api.md §1.6, D3) and the one mapping from service errors to it.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use wagate_service::ServiceError;

/// The contract's stable machine codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    ValidationError,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    Internal,
    NotImplemented,
    GatewayUnavailable,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::ValidationError => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Self::GatewayUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An error answered to the caller: `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Map<String, Value>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Map::new(),
            retry_after: None,
        }
    }

    /// `400 validation_error` with `details.errors`.
    pub fn validation(message: impl Into<String>, errors: Vec<String>) -> Self {
        let mut err = Self::new(ErrorCode::ValidationError, message);
        if !errors.is_empty() {
            err.details.insert("errors".into(), errors.into());
        }
        err
    }

    pub fn route_not_found() -> Self {
        Self::new(ErrorCode::NotFound, "route not found")
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }
}

/// The envelope as documented in the OpenAPI document.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ErrorBody {
    code: ErrorCode,
    message: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Option<Object>)]
    details: Map<String, Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let retry_after = self.retry_after;
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Unauthorized(msg) => Self::new(ErrorCode::Unauthorized, msg),
            ServiceError::Forbidden(msg) => Self::new(ErrorCode::Forbidden, msg),
            ServiceError::NotFound(msg) => Self::new(ErrorCode::NotFound, msg),
            ServiceError::Validation { message, errors } => Self::validation(message, errors),
            ServiceError::Conflict(msg) => Self::new(ErrorCode::Conflict, msg),
            ServiceError::NotImplemented { message, status } => {
                let mut err = Self::new(ErrorCode::NotImplemented, message);
                if let Some(status) = status {
                    err.details.insert("status".into(), status.into());
                }
                err
            }
            ServiceError::RateLimited { retry_after } => {
                let mut err = Self::new(ErrorCode::RateLimited, "send rate limit exceeded");
                err.details
                    .insert("retryAfterSeconds".into(), retry_after.into());
                err.with_retry_after(retry_after)
            }
            ServiceError::Unavailable(msg) => {
                Self::new(ErrorCode::GatewayUnavailable, msg).with_retry_after(5)
            }
            ServiceError::Internal(source) => {
                tracing::error!(error = %source, "internal failure");
                Self::new(ErrorCode::Internal, "internal server error")
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
