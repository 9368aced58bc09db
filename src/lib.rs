//! anyaudio: a self-hosted audio streaming server.
//!
//! The modules are layers, and every arrow points down (`docs/architecture.md` draws them):
//!
//! - `api` (and `web`, the player's assets): HTTP handlers; they parse, call one layer below,
//!   render.
//! - `resolve` (a track id to something playable, cached), `importer` (URLs into the catalog),
//!   `stream` (range-correct answers from a file or through the proxy).
//! - `sources`: where bytes come from (library files, remote URLs, yt-dlp).
//! - `catalog`: the SQLite index; it knows `model` and `formats` only.
//! - `upstream` (other hosts: clients, locators, the range protocol), `formats` (tag and
//!   playlist readers), `model` (ids, tracks, kinds), `error`.
// Denied, not forbidden: the one exception is allowed where it is (`server`'s `SIOCOUTQ`, an
// `ioctl` no safe wrapper offers).
#![deny(unsafe_code)]

pub mod api;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod formats;
pub mod importer;
pub mod model;
pub mod resolve;
pub mod server;
pub mod sources;
pub mod stream;
pub mod telemetry;
pub mod upstream;
pub mod web;

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use api::AppState;
use auth::Auth;
use catalog::Catalog;
use config::{Config, Library};
use importer::Importer;
use resolve::Resolver;
use sources::remote::RemoteSource;
use sources::scaled_covers::ScaledCovers;
use sources::youtube::YouTubeSource;
use stream::proxy::Upstream;
use stream::token::SigningKey;
use upstream::Clients;

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
        let key = SigningKey::from_bytes(auth::secret_file::load_or_create(&config.data_dir.join("stream.key"))?);
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let auth = Auth::open(
            catalog.clone(),
            &config.data_dir,
            config.access.clone(),
            // Named by `--host` (or `--public-url`), it is reached from beyond this machine.
            config.listen.ip().is_loopback() && config.hosts.is_empty(),
        )?;
        first_admin(&auth).await?;
        catalog.load_suggestions().await?;
        if config.scan_at_start {
            catalog.start_scan();
        }
        telemetry::handle(); // install the recorder before anything counts

        let clients = Clients::build(&config.net)?;
        let timeout = config.upstream.first_byte_timeout;
        let remote = RemoteSource::new(clients.control.clone(), timeout, HTTP_PROBE_TTL);
        let upstream = Upstream::new(clients.media, config.upstream.clone(), config.max_upstream_requests);
        let youtube = config.youtube.as_ref().map(|yt| {
            Arc::new(YouTubeSource::new(
                yt.ytdlp.clone(),
                clients.control.clone(),
                timeout,
                yt.suggest_url.clone(),
            ))
        });
        let importer = Importer::new(catalog.clone(), clients.control, timeout, youtube.clone());
        if let (Some(source), Some(yt)) = (&youtube, &config.youtube) {
            let (source, importer, playlists) = (source.clone(), importer.clone(), yt.playlists.clone());
            tokio::spawn(async move {
                if source.check().await.is_ok() {
                    for url in playlists {
                        if let Err(error) = importer.add_ytdlp(&url, true).await {
                            tracing::warn!(url = %upstream::without_password(&url), %error, "could not import a predefined playlist");
                        }
                    }
                }
            });
        }
        let state = AppState::new(api::Services {
            resolver: Resolver::new(catalog.clone(), remote, youtube.clone()),
            auth,
            youtube,
            upstream,
            importer,
            catalog,
            key,
            covers: ScaledCovers::new(
                config.data_dir.join("cache").join("covers"),
                sources::scaled_covers::MAX_BYTES,
            ),
            open_files: stream::local::OpenFiles::default(),
            config: Arc::new(config),
        });
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
    /// the grace period, and closes what is left (see [`server`]).
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        let grace = self.state.config.shutdown_grace;
        let limits = self.state.config.connections.clone();
        let catalog = self.state.catalog.clone();
        let app = api::router(self.state);
        // A scan is no request in flight: it stops at once, its written batches kept (the
        // process could not exit while its thread ran).
        server::serve(self.listener, app, limits, grace, stop, move || catalog.cancel_scan()).await
    }
}

/// How long a remote file's probe (size, validators) is trusted.
const HTTP_PROBE_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// Opens the catalog for the configured library, unpacking the demo library if that is the one.
pub fn open_catalog(config: &Config) -> anyhow::Result<Catalog> {
    catalog::create_data_dir(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let roots = match &config.library {
        Library::Folders(folders) => folders.clone(),
        Library::Demo => vec![demo::unpack(&config.data_dir.join("demo-library"))?.canonicalize()?],
    };
    Catalog::open(&catalog::path_in(&config.data_dir), roots)
}

/// Beyond loopback, a server with no user makes its admin and says the password once (as
/// Jupyter prints its token), so that it is never open to the network.
async fn first_admin(auth: &Auth) -> anyhow::Result<()> {
    if !auth.needs_first_admin().await? {
        return Ok(());
    }
    let password = auth::password::one_time_password();
    auth.add_user("admin".into(), &password, true).await?;
    let mut stderr = std::io::stderr().lock();
    writeln!(
        stderr,
        "\nanyaudio is closed to anyone without a login and had no user: log in as \"admin\" with the password\n\n    {password}\n\nthen change it (the web player's account page, or `anyaudio user password admin`).\n"
    )?;
    Ok(())
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

pub use catalog::path_in as catalog_path;
