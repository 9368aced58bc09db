//! The one error type of the HTTP API and its JSON shape:
//! `{"error": {"code": "<stable snake_case code>", "message": "<human text>"}}`.
//!
//! `Display` is what a client reads: our words, never an upstream's error text, a
//! subprocess's output or an error chain. Those are kept as the `#[source]` ([`Cause`]) and go
//! to the log only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Why an upstream or a source failed, for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A detail worth logging that is not an error value of its own (a subprocess's last line, a
/// check that failed).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Detail(pub String);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("track {0} not found")]
    TrackNotFound(String),
    #[error("playlist {0} not found")]
    PlaylistNotFound(String),
    #[error("track {0} has no artwork")]
    ArtworkNotFound(String),
    #[error("no such route: {0}")]
    RouteNotFound(String),
    #[error("this server does not answer to the host {0:?} (start it with --host to add a name)")]
    UnknownHost(String),
    #[error("a page on another origin ({0}) may not change this server's state")]
    CrossOrigin(String),
    #[error("a request that changes state must say Content-Type: application/json (or send X-Requested-With)")]
    SimpleRequest,
    /// A source's address (or a redirect's) is not on the public internet: SSRF.
    #[error("{0} is not a public address; this server fetches sources from the internet only (its operator can allow more with --allow-private-sources or --allow-source-net)")]
    ForbiddenTarget(String),
    #[error("this server needs a login: a session (POST /api/v1/login) or an API key (Authorization: Bearer)")]
    Unauthenticated,
    #[error("the credential is not valid (a wrong password, a revoked key or an ended session)")]
    BadCredentials,
    #[error("this server has too many connections open (from your address, or in all); try again shortly")]
    TooManyConnections,
    #[error("the request's body stopped arriving")]
    RequestTimeout,
    /// Changing one's password with a wrong current one: the request's own login is fine.
    #[error("that is not your current password")]
    WrongPassword,
    #[error("only an admin may do this")]
    AdminRequired,
    #[error("this needs a user's account (the server has no users yet: add one with `anyaudio user add`)")]
    AccountRequired,
    #[error("too many login attempts; try again in {0} seconds")]
    TooManyAttempts(u64),
    #[error("a user named {0:?} exists")]
    UserExists(String),
    #[error("no user named {0:?}")]
    UserNotFound(String),
    #[error("no API key {0:?}")]
    KeyNotFound(String),
    #[error("the last admin can't be removed while other users remain")]
    LastAdmin,
    #[error("the request body is larger than this server takes")]
    PayloadTooLarge,
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    #[error("unknown stream token")]
    UnknownToken,
    #[error("stream token signature is invalid")]
    ForgedToken,
    #[error("stream token has expired; ask for a new stream_url")]
    ExpiredToken,
    #[error("the media file for track {0} is gone; a rescan will drop it")]
    MediaGone(String),
    /// The media's origin failed: `message` says how in our words.
    #[error("upstream failed: {message}")]
    Upstream {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    #[error("upstream timed out: {0}")]
    UpstreamTimeout(String),
    /// A source (yt-dlp, a probe) could not give what was asked: `message` says why.
    #[error("{message}")]
    SourceFailed {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    #[error("source unavailable: {0}")]
    SourceUnavailable(String),
    #[error("too many streams in flight; try again shortly")]
    Busy,
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("this is a live stream; only videos that have ended can be played")]
    LiveStream,
    #[error("{}", match .0 { Some(at) => format!("not available yet: it starts {} (unix time {at})", httpdate::fmt_http_date(crate::model::from_unix(*at))), None => "not available yet (an upcoming premiere or live event)".to_owned() })]
    NotYetAvailable(Option<u64>),
    #[error("this video is age-restricted; yt-dlp needs the cookies of a signed-in account (--yt-dlp-arg=--cookies --yt-dlp-arg=FILE)")]
    AgeRestricted,
    #[error("this video is for the channel's members only")]
    MembersOnly,
    #[error("this video is unavailable: {0}")]
    VideoUnavailable(&'static str),
    #[error("this video is DRM-protected and cannot be played")]
    DrmProtected,
    #[error("YouTube asks this server to sign in to confirm it is not a bot; give yt-dlp cookies (see the README)")]
    SignInRequired,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn upstream(message: impl Into<String>) -> Error {
        Error::Upstream {
            message: message.into(),
            cause: None,
        }
    }

    pub fn upstream_because(message: impl Into<String>, cause: impl Into<Cause>) -> Error {
        Error::Upstream {
            message: message.into(),
            cause: Some(cause.into()),
        }
    }

    pub fn source_failed(message: impl Into<String>) -> Error {
        Error::SourceFailed {
            message: message.into(),
            cause: None,
        }
    }

    pub fn source_failed_because(message: impl Into<String>, cause: impl Into<Cause>) -> Error {
        Error::SourceFailed {
            message: message.into(),
            cause: Some(cause.into()),
        }
    }

    /// A YouTube or yt-dlp track, search or import while the source is off.
    pub fn youtube_off() -> Error {
        Error::SourceUnavailable("the YouTube source is not enabled (start with --youtube)".into())
    }

    /// This error with `cause` for the log, where it has room for one.
    pub fn because(self, cause: impl Into<Cause>) -> Error {
        match self {
            Error::Upstream { message, .. } => Error::upstream_because(message, cause),
            Error::SourceFailed { message, .. } => Error::source_failed_because(message, cause),
            other => other,
        }
    }

    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::TrackNotFound(_) => (StatusCode::NOT_FOUND, "track_not_found"),
            Error::ArtworkNotFound(_) => (StatusCode::NOT_FOUND, "artwork_not_found"),
            Error::PlaylistNotFound(_) => (StatusCode::NOT_FOUND, "playlist_not_found"),
            Error::RouteNotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::UnknownHost(_) => (StatusCode::MISDIRECTED_REQUEST, "unknown_host"),
            Error::CrossOrigin(_) => (StatusCode::FORBIDDEN, "cross_origin"),
            Error::SimpleRequest => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "json_required"),
            Error::ForbiddenTarget(_) => (StatusCode::FORBIDDEN, "forbidden_target"),
            Error::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Error::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            Error::WrongPassword => (StatusCode::FORBIDDEN, "wrong_password"),
            Error::TooManyConnections => (StatusCode::SERVICE_UNAVAILABLE, "too_many_connections"),
            Error::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Error::AdminRequired => (StatusCode::FORBIDDEN, "admin_required"),
            Error::AccountRequired => (StatusCode::FORBIDDEN, "account_required"),
            Error::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            Error::UserExists(_) => (StatusCode::CONFLICT, "user_exists"),
            Error::UserNotFound(_) => (StatusCode::NOT_FOUND, "user_not_found"),
            Error::KeyNotFound(_) => (StatusCode::NOT_FOUND, "key_not_found"),
            Error::LastAdmin => (StatusCode::CONFLICT, "last_admin"),
            Error::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Error::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Error::UnknownToken => (StatusCode::NOT_FOUND, "unknown_token"),
            Error::ForgedToken => (StatusCode::FORBIDDEN, "forged_token"),
            Error::ExpiredToken => (StatusCode::FORBIDDEN, "expired_token"),
            Error::MediaGone(_) => (StatusCode::NOT_FOUND, "media_gone"),
            Error::Upstream { .. } => (StatusCode::BAD_GATEWAY, "upstream_failed"),
            Error::UpstreamTimeout(_) => (StatusCode::GATEWAY_TIMEOUT, "upstream_timeout"),
            Error::SourceFailed { .. } => (StatusCode::BAD_GATEWAY, "source_failed"),
            Error::SourceUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "source_unavailable"),
            Error::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Error::Unsupported(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unsupported_media"),
            Error::LiveStream => (StatusCode::UNPROCESSABLE_ENTITY, "live_stream"),
            Error::NotYetAvailable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not_yet_available"),
            Error::AgeRestricted => (StatusCode::UNPROCESSABLE_ENTITY, "age_restricted"),
            Error::MembersOnly => (StatusCode::UNPROCESSABLE_ENTITY, "members_only"),
            Error::VideoUnavailable(_) => (StatusCode::NOT_FOUND, "video_unavailable"),
            Error::DrmProtected => (StatusCode::UNPROCESSABLE_ENTITY, "drm_protected"),
            Error::SignInRequired => (StatusCode::SERVICE_UNAVAILABLE, "sign_in_required"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// The error body, as documented in the OpenAPI document.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code (`bad_request`, `track_not_found`, `forged_token`, ...).
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self, causes = %Causes(&self), "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            Error::Unauthenticated | Error::BadCredentials => {
                // RFC 9110 §11.6.1: a 401 says how to authenticate. Bearer, not Basic, so a
                // browser shows no password dialog of its own.
                headers.insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer realm=\"anyaudio\""),
                );
            }
            Error::TooManyAttempts(seconds) => {
                headers.insert(axum::http::header::RETRY_AFTER, seconds.into());
            }
            Error::TooManyConnections => {
                headers.insert(axum::http::header::RETRY_AFTER, 5.into());
                headers.insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
            }
            _ => {}
        }
        response
    }
}

/// An error's `#[source]` chain, for the log: `cause: its cause: ...`.
pub struct Causes<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut next = self.0.source();
        let mut first = true;
        while let Some(cause) = next {
            if !first {
                f.write_str(": ")?;
            }
            write!(f, "{cause}")?;
            first = false;
            next = cause.source();
        }
        Ok(())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
