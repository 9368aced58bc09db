//! Extractors whose rejections are our JSON errors (axum's own answer in plain text).

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query};

use crate::error::Error;

#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(Error))]
pub struct ApiPath<T>(pub T);

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::BadRequest(rejection.body_text())
    }
}

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        use axum::extract::path::ErrorKind;
        match rejection {
            // An id's own message ("malformed track id"), without axum's "Invalid URL: ".
            PathRejection::FailedToDeserializePathParams(e) => match e.into_kind() {
                ErrorKind::Message(message) => Error::BadRequest(message),
                kind => Error::BadRequest(kind.to_string()),
            },
            other => Error::BadRequest(other.body_text()),
        }
    }
}

/// `value` (or `default`) if it lies in `min..=max`, else a 400 naming the parameter.
pub fn bounded(name: &str, value: Option<u32>, default: u32, min: u32, max: u32) -> Result<u32, Error> {
    let v = value.unwrap_or(default);
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(Error::BadRequest(format!(
            "{name} must be between {min} and {max} (got {v})"
        )))
    }
}
