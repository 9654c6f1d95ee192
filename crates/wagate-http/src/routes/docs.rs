//! The OpenAPI document, generated from the handlers' annotations, as JSON and YAML.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::OpenApi;

use crate::error::{ApiError, ErrorCode};

pub async fn openapi_json(State(doc): State<Arc<OpenApi>>) -> Json<OpenApi> {
    Json((*doc).clone())
}

pub async fn openapi_yaml(State(doc): State<Arc<OpenApi>>) -> Response {
    match doc.to_yaml() {
        Ok(yaml) => ([(header::CONTENT_TYPE, "application/yaml")], yaml).into_response(),
        Err(err) => {
            tracing::error!(%err, "could not render the OpenAPI document as YAML");
            ApiError::new(ErrorCode::Internal, "internal server error").into_response()
        }
    }
}
