//! Metrics: their names, and the process-wide Prometheus recorder (the `metrics` crate)
//! rendered at `/metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "anyaudio_http_requests_total";
pub const HTTP_RESPONSE_BYTES: &str = "anyaudio_http_response_bytes_total";
pub const STREAMS_IN_FLIGHT: &str = "anyaudio_streams_in_flight";
pub const UPSTREAM_STREAMS_IN_FLIGHT: &str = "anyaudio_upstream_streams_in_flight";
pub const PROXIED_BYTES: &str = "anyaudio_upstream_bytes_total";
pub const UPSTREAM_TTFB: &str = "anyaudio_upstream_first_byte_seconds";
pub const RESUMES: &str = "anyaudio_upstream_resumes_total";
pub const UPSTREAM_RETRIES: &str = "anyaudio_upstream_retries_total";
pub const RERESOLUTIONS: &str = "anyaudio_reresolutions_total";
pub const STREAM_ERRORS: &str = "anyaudio_upstream_stream_errors_total";
/// Connections over a cap (`cap`: `total`, `per_address`), answered 503.
pub const CONNECTIONS_REFUSED: &str = "anyaudio_connections_refused_total";
/// yt-dlp calls (`mode`: `workers`, `process`; `outcome`: `ok`, `failed` as yt-dlp said,
/// `broken`: timed out, crashed or could not start).
pub const YT_DLP_CALLS: &str = "anyaudio_yt_dlp_calls_total";
/// How long yt-dlp calls take, by `mode`.
pub const YT_DLP_SECONDS: &str = "anyaudio_yt_dlp_call_seconds";
/// Tasks alive on the runtime (tokio's count): back to its idle level when load ends, or
/// something leaks.
pub const RUNTIME_TASKS: &str = "anyaudio_runtime_alive_tasks";

/// The process-wide recorder (installed once, shared by every server in the process).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(UPSTREAM_TTFB.into()),
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .expect("static buckets")
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(YT_DLP_SECONDS.into()),
                &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
            )
            .expect("static buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (an embedding program): then ours only renders zeros.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// The metrics as Prometheus text, the runtime's gauges read at this moment.
pub fn render() -> String {
    let runtime = tokio::runtime::Handle::current().metrics();
    metrics::gauge!(RUNTIME_TASKS).set(runtime.num_alive_tasks() as f64);
    handle().render()
}

/// Counts one in-flight item in a gauge for as long as it lives.
pub struct InFlight(&'static str);

impl InFlight {
    pub fn new(gauge: &'static str) -> Self {
        metrics::gauge!(gauge).increment(1.0);
        InFlight(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}
