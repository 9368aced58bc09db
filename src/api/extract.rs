//! Extractors whose rejections are our JSON errors (axum's own answer in plain text).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query};
use axum::Json;

use crate::error::Error;

#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(Error))]
pub struct ApiPath<T>(pub T);

/// A JSON body; a malformed one is a 400, one over the size limit a 413.
#[derive(FromRequest)]
#[from_request(via(Json), rejection(Error))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            return Error::PayloadTooLarge;
        }
        // The body stopped arriving (`server`'s request-body timeout): a 408, not a bad body.
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&rejection);
        while let Some(e) = cause {
            if e.is::<tower_http::timeout::TimeoutError>() {
                return Error::RequestTimeout;
            }
            cause = e.source();
        }
        Error::BadRequest(rejection.body_text())
    }
}

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

/// The client's address as the listener saw it (unspecified where no listener put one, which
/// is never loopback: nothing is opened by its absence).
pub struct ClientAddr(pub std::net::IpAddr);

pub fn client_addr(extensions: &axum::http::Extensions) -> std::net::IpAddr {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |c| c.0.ip())
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_addr(&parts.extensions)))
    }
}
