//! Library state: `/healthz`, `/api/v1/stats`, `/api/v1/scan`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::catalog::ScanReport;
use crate::error::{Error, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    pub version: &'static str,
    pub tracks: u64,
    pub scanning: bool,
    pub sources: SourcesHealth,
}

#[derive(Serialize, ToSchema)]
pub struct SourcesHealth {
    pub youtube: SourceHealth,
}

#[derive(Serialize, ToSchema)]
pub struct SourceHealth {
    pub enabled: bool,
    pub available: bool,
    /// The yt-dlp version, when available.
    pub version: Option<String>,
    /// Why the source cannot work, when it cannot.
    pub reason: Option<String>,
    /// What yt-dlp finds for YouTube extraction (null when the source is off or unavailable).
    pub environment: Option<crate::sources::ytdlp::Environment>,
    /// How yt-dlp runs: warm workers, or a process per call and why (null when the source is
    /// off or unavailable).
    pub execution: Option<crate::sources::ytdlp::Execution>,
}

#[utoipa::path(get, path = "/healthz", tag = "library", responses((status = 200, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, Error> {
    let (tracks, _, _) = state.catalog.stats().await?;
    let scanning = state.catalog.scan_status().await?.is_some_and(|r| r.running);
    let youtube = match &state.youtube {
        None => SourceHealth {
            enabled: false,
            available: false,
            version: None,
            reason: Some("not enabled (--youtube)".into()),
            environment: None,
            execution: None,
        },
        Some(source) => match source.availability() {
            Ok(version) => SourceHealth {
                enabled: true,
                available: true,
                version: Some(version),
                reason: None,
                environment: Some(source.environment()),
                execution: Some(source.execution()),
            },
            Err(reason) => SourceHealth {
                enabled: true,
                available: false,
                version: None,
                reason: Some(reason),
                environment: None,
                execution: None,
            },
        },
    };
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        tracks,
        scanning,
        sources: SourcesHealth { youtube },
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Stats {
    pub tracks: u64,
    pub albums: u64,
    pub artists: u64,
    pub last_scan: Option<ScanReport>,
}

#[utoipa::path(get, path = "/api/v1/stats", tag = "library", responses((status = 200, body = Stats)))]
pub async fn stats(State(state): State<AppState>) -> Result<Json<Stats>, Error> {
    let (tracks, albums, artists) = state.catalog.stats().await?;
    let last_scan = state.catalog.scan_status().await?;
    Ok(Json(Stats {
        tracks,
        albums,
        artists,
        last_scan,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ScanStatus {
    /// Whether this request started a scan (false: one was already running).
    pub started: bool,
    pub scan: Option<ScanReport>,
}

#[utoipa::path(get, path = "/api/v1/scan", tag = "library", responses((status = 200, body = ScanStatus)))]
pub async fn scan_status(State(state): State<AppState>) -> Result<Json<ScanStatus>, Error> {
    Ok(Json(ScanStatus {
        started: false,
        scan: state.catalog.scan_status().await?,
    }))
}

/// Starts a rescan in the background (202); search and streaming go on meanwhile.
#[utoipa::path(post, path = "/api/v1/scan", tag = "library",
    responses((status = 202, body = ScanStatus), (status = 500, body = ErrorBody)))]
pub async fn start_scan(State(state): State<AppState>) -> Result<(StatusCode, Json<ScanStatus>), Error> {
    let started = state.catalog.start_scan();
    Ok((
        StatusCode::ACCEPTED,
        Json(ScanStatus {
            started,
            scan: state.catalog.scan_status().await?,
        }),
    ))
}

/// Prometheus metrics: requests, bytes, upstream time to first byte, resumes, re-resolutions,
/// errors, streams in flight.
pub async fn metrics() -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::render(),
    )
}
