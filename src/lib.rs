//! anyaudio: a self-hosted audio streaming server.
//!
//! Data flows one way: `api` -> `resolve` -> `stream`; `api` and `resolve` read the `catalog`.

pub mod api;
pub mod catalog;
pub mod config;
pub mod demo;
pub mod error;
pub mod metrics;
pub mod net;
pub mod playlist_formats;
pub mod resolve;
pub mod sources;
pub mod stream;
pub mod tags;
pub mod web;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use api::AppState;
use catalog::Catalog;
use config::{Config, Library};
use resolve::Resolver;
use sources::http::HttpSource;
use sources::youtube::YouTubeSource;
use stream::proxy::Upstream;
use stream::token::SigningKey;

/// A built server: bound to its port, catalog open, ready to run.
pub struct Application {
    listener: TcpListener,
    addr: std::net::SocketAddr,
    state: AppState,
}

impl Application {
    /// Prepares the data dir, opens the catalog, binds the listener (port 0 picks a free one)
    /// and, unless disabled, starts a background scan. Search answers while it runs.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let catalog = open_catalog(&config)?;
        let key = load_or_create_key(&config.data_dir.join("stream.key"))?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        catalog.load_suggestions().await?;
        if config.scan_at_start {
            catalog.start_scan();
        }
        metrics::handle(); // install the recorder before anything counts

        // Two clients: reqwest for the control plane (probes, imports: redirects, whole
        // documents), hyper with small buffers for the proxy's data plane; one resolver.
        let resolver = net::Resolver::new(config.net.clone());
        let http = control_client(resolver.clone(), &config.net)?;
        let http_source = HttpSource::new(http.clone(), config.upstream.first_byte_timeout, HTTP_PROBE_TTL);
        let upstream = Upstream::new(
            config.upstream.clone(),
            config.max_upstream_requests,
            net::Connector::new(&config.net, resolver),
        );
        let youtube = config.youtube.as_ref().map(|yt| {
            Arc::new(YouTubeSource::new(
                yt.ytdlp.clone(),
                http.clone(),
                config.upstream.first_byte_timeout,
                yt.suggest_url.clone(),
            ))
        });
        if let (Some(source), Some(yt)) = (&youtube, &config.youtube) {
            let (source, catalog, playlists) = (source.clone(), catalog.clone(), yt.playlists.clone());
            tokio::spawn(async move {
                if source.check().await.is_ok() {
                    for url in playlists {
                        if let Err(error) = api::imports::import_listing(&source, &catalog, &url, true).await {
                            tracing::warn!(%url, %error, "could not import a predefined playlist");
                        }
                    }
                }
            });
        }
        let state = AppState {
            resolver: Resolver::new(catalog.clone(), http_source, youtube.clone()),
            youtube,
            upstream,
            http,
            catalog,
            key,
            config: Arc::new(config),
        };
        Ok(Application { listener, addr, state })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    pub fn catalog(&self) -> &Catalog {
        &self.state.catalog
    }

    /// Serves until SIGINT/SIGTERM, then lets requests in flight finish for the grace period.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then stops accepting, lets requests in flight finish for
    /// the grace period, and closes what is left.
    ///
    /// hyper directly rather than `axum::serve`, for one setting: the write buffer of each
    /// connection is capped at [`CONNECTION_BUFFER`], which bounds the memory of a stream.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
        use hyper_util::server::conn::auto;

        let grace = self.state.config.shutdown_grace;
        let app = api::router(self.state);
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .max_buf_size(CONNECTION_BUFFER)
            .timer(TokioTimer::new())
            .header_read_timeout(std::time::Duration::from_secs(30));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        tokio::pin!(stop);
        loop {
            let (stream, _) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(error) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut stop => break,
            };
            let _ = stream.set_nodelay(true);
            let service = hyper_util::service::TowerToHyperService::new(app.clone());
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(error = %error, "connection ended with an error");
                }
            });
        }
        drop(self.listener); // new connections are refused from here on
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down; letting streams in flight finish"
        );
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all connections closed"),
            () = tokio::time::sleep(grace) => tracing::warn!("grace period over; closing the streams still open"),
        }
        Ok(())
    }
}

/// Per-connection write buffer (hyper's default is ~400 KiB): with the proxy's own small
/// buffers, what one stream holds in memory.
const CONNECTION_BUFFER: usize = 64 * 1024;

/// How long a remote file's probe (size, validators) is trusted.
const HTTP_PROBE_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// The client for probes and imports (follows redirects). Each call site sets its own timeout.
fn control_client(resolver: net::Resolver, net: &net::NetConfig) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("anyaudio/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(5))
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .tcp_nodelay(true)
        .dns_resolver(Arc::new(resolver))
        .local_address(net.family.map(net::IpFamily::local_address));
    builder = match &net.proxy {
        Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy.as_str()).context("the upstream proxy")?),
        // Not the environment's HTTP_PROXY either: the media requests would not follow it.
        None => builder.no_proxy(),
    };
    builder.build().context("building the upstream HTTP client")
}

/// Opens the catalog for the configured library, unpacking the demo library if that is the one.
pub fn open_catalog(config: &Config) -> anyhow::Result<Catalog> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let roots = match &config.library {
        Library::Folders(folders) => folders.clone(),
        Library::Demo => vec![demo::unpack(&config.data_dir.join("demo-library"))?.canonicalize()?],
    };
    Catalog::open(&config.data_dir.join("catalog.sqlite3"), roots)
}

/// The token signing key, created on first start (readable by the owner only).
fn load_or_create_key(path: &Path) -> anyhow::Result<SigningKey> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes: [u8; 32] = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("{} is not a 32-byte key; delete it to make a new one", path.display()))?;
            Ok(SigningKey::from_bytes(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::random();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .with_context(|| format!("creating {}", path.display()))?;
            file.write_all(key.as_bytes())?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
}

/// Where the data dir's files are, for tests and tools.
pub fn catalog_path(data_dir: &Path) -> PathBuf {
    data_dir.join("catalog.sqlite3")
}
