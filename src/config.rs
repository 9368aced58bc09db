//! Command line (clap, every flag with an `ANYAUDIO_*` variable) -> validated [`Config`].
//! Nothing below this module reads the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::sources::ytdlp::YtDlpConfig;
use crate::upstream::egress::EgressPolicy;
use crate::upstream::net::{IpFamily, NetConfig, UpstreamProxy};
use crate::upstream::UpstreamLimits;

#[derive(Debug, Parser)]
#[command(name = "anyaudio", version, about = "Self-hosted audio streaming server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan the library, then serve the API, the streams and the web player.
    Serve(Box<ServeArgs>),
    /// Scan the library into the catalog and exit.
    Scan(LibraryArgs),
    /// Write a consistent copy of the catalog (tracks, playlists, users, keys) to FILE; safe
    /// while the server runs.
    Backup(BackupArgs),
    /// Manage users: add, list, remove.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys (`Authorization: Bearer …`): add, list, revoke.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Args)]
pub struct DataArgs {
    /// Where the catalog and the signing key live. Default: the platform data dir (~/.local/share/anyaudio).
    #[arg(long, env = "ANYAUDIO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DataArgs {
    pub fn resolve(self) -> anyhow::Result<PathBuf> {
        match self.data_dir {
            Some(dir) => Ok(dir),
            None => dirs::data_dir()
                .map(|d| d.join("anyaudio"))
                .context("no platform data dir; pass --data-dir"),
        }
    }
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The copy to write (replaced if it exists).
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is asked for on the terminal, or read from stdin.
    Add {
        name: String,
        /// May scan, add sources and imports, and manage users.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of stdin (for scripts).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the users.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Remove a user, with their keys and sessions.
    Remove {
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Set a user's password (asked for, or read from stdin); ends their sessions.
    Password {
        name: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make an API key for a user (one per device or app); it is printed once.
    Add {
        /// Whose key it is.
        user: String,
        /// What it is for ("phone", "kodi").
        #[arg(long, default_value = "key")]
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the keys (all, or one user's).
    List {
        user: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke a key by its id (as `key list` shows it).
    Revoke {
        id: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Args)]
pub struct LibraryArgs {
    /// A music folder to serve; repeat for several. Default: the embedded demo library.
    #[arg(long = "library", env = "ANYAUDIO_LIBRARY", value_delimiter = ',')]
    pub libraries: Vec<PathBuf>,
    /// Where the catalog and the signing key live. Default: the platform data dir (~/.local/share/anyaudio).
    #[arg(long, env = "ANYAUDIO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub library: LibraryArgs,
    /// Address to listen on.
    #[arg(long, env = "ANYAUDIO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// How long a stream_url stays valid, in seconds.
    #[arg(long, env = "ANYAUDIO_TOKEN_TTL", default_value_t = 6 * 3600)]
    pub token_ttl: u64,
    /// On SIGINT/SIGTERM, how many seconds streams in flight get to finish.
    #[arg(long, env = "ANYAUDIO_SHUTDOWN_GRACE", default_value_t = 5)]
    pub shutdown_grace: u64,
    /// Do not scan the library when the server starts.
    #[arg(long, env = "ANYAUDIO_NO_SCAN")]
    pub no_scan: bool,
    /// Bytes a download asks of a remote upstream per request (it is asked in chunks; 64 KiB to
    /// 64 MiB). A listener asks at most 512 KiB at a time.
    #[arg(long, env = "ANYAUDIO_CHUNK_SIZE", default_value_t = 4 * 1024 * 1024)]
    pub chunk_size: u64,
    /// Seconds to wait for an upstream's response headers.
    #[arg(long, env = "ANYAUDIO_UPSTREAM_TIMEOUT", default_value_t = 10)]
    pub upstream_timeout: u64,
    /// Seconds an upstream body may stall before the proxy resumes it with a new request.
    #[arg(long, env = "ANYAUDIO_UPSTREAM_IDLE_TIMEOUT", default_value_t = 15)]
    pub upstream_idle_timeout: u64,
    /// Connect to upstreams (and run yt-dlp) over IPv4 only (`4`) or IPv6 only (`6`): a
    /// googlevideo URL only works from the address family that resolved it.
    #[arg(long, env = "ANYAUDIO_IP_FAMILY", value_parser = parse_family)]
    pub ip_family: Option<IpFamily>,
    /// Send every upstream request, and yt-dlp's (`--proxy`), through this proxy:
    /// `http://[user:pass@]host:port` or `socks5://` / `socks5h://`. googlevideo URLs only work
    /// from the address that resolved them, so both must leave the same way.
    #[arg(long, env = "ANYAUDIO_UPSTREAM_PROXY", value_parser = UpstreamProxy::parse)]
    pub upstream_proxy: Option<UpstreamProxy>,
    /// Answer this host with this address instead of asking DNS, as curl's `--resolve`
    /// (`HOST=IP`, repeat; the URL's port is kept): to pin a CDN node, or a test origin.
    #[arg(long = "resolve", env = "ANYAUDIO_RESOLVE", value_delimiter = ',', value_parser = parse_host_address)]
    pub resolve: Vec<(String, std::net::IpAddr)>,
    /// Let sources (HTTP URLs, playlist and feed entries, redirects, yt-dlp imports) be on
    /// loopback, LAN and other non-public addresses. Off by default: anyone who may add a
    /// source could otherwise read the server's own network through it.
    #[arg(long, env = "ANYAUDIO_ALLOW_PRIVATE_SOURCES")]
    pub allow_private_sources: bool,
    /// A non-public network sources may be on (`10.0.0.0/8`, `192.168.1.20/32`, `fd00::/8`;
    /// repeat): your NAS without opening everything.
    #[arg(long = "allow-source-net", env = "ANYAUDIO_ALLOW_SOURCE_NETS", value_delimiter = ',', value_parser = parse_net)]
    pub allow_source_nets: Vec<ipnet::IpNet>,
    /// The URL people reach the server at (`https://music.example`), behind a reverse proxy:
    /// its host is answered to, a login is always needed, and cookies are `Secure` if https.
    #[arg(long, env = "ANYAUDIO_PUBLIC_URL")]
    pub public_url: Option<url::Url>,
    /// A reverse proxy (address or network) whose `Remote-User` header names the logged-in
    /// user (Authelia, oauth2-proxy, ...); repeat for several. A login is always needed then.
    #[arg(long = "trusted-proxy", env = "ANYAUDIO_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Anyone who reaches the server may search and play without a login (a household, friends);
    /// changes still need an admin.
    #[arg(long, env = "ANYAUDIO_OPEN_LISTENING")]
    pub open_listening: bool,
    /// `/metrics` answers without a credential (a Prometheus on the same network).
    #[arg(long, env = "ANYAUDIO_OPEN_METRICS")]
    pub open_metrics: bool,
    /// Upstream requests in flight at most (each remote stream holds one, two while prefetching).
    #[arg(long, env = "ANYAUDIO_MAX_UPSTREAM_REQUESTS", default_value_t = 1024)]
    pub max_upstream_requests: usize,
    /// Seconds a connection with no request in progress may take to start one (after opening,
    /// or between keep-alive requests); a stream being sent is never cut.
    #[arg(long, env = "ANYAUDIO_IDLE_TIMEOUT", default_value_t = 30)]
    pub idle_timeout: u64,
    /// Seconds a request body may pause between parts.
    #[arg(long, env = "ANYAUDIO_REQUEST_BODY_TIMEOUT", default_value_t = 30)]
    pub request_body_timeout: u64,
    /// Open connections at most (kept below the descriptor limit); more get 503.
    #[arg(long, env = "ANYAUDIO_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Open connections at most from one client address (an IPv6 /64); more get 503. Trusted
    /// proxies are exempt.
    #[arg(long, env = "ANYAUDIO_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 128)]
    pub max_connections_per_address: usize,
    /// Web origins whose pages may read the API and play streams (CORS, GET and HEAD only;
    /// never state changes). None by default: the web player is served by the server itself.
    #[arg(long = "cors-origin", env = "ANYAUDIO_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,
    /// Host names the server answers to besides IP addresses and `localhost` (a request
    /// naming another host is refused: DNS rebinding).
    #[arg(long = "host", env = "ANYAUDIO_HOSTS", value_delimiter = ',')]
    pub hosts: Vec<String>,
    /// Enable YouTube (and every site yt-dlp supports) as a source. Needs yt-dlp installed.
    #[arg(long, env = "ANYAUDIO_YOUTUBE")]
    pub youtube: bool,
    /// The yt-dlp program.
    #[arg(long = "yt-dlp", env = "ANYAUDIO_YT_DLP", default_value = "yt-dlp")]
    pub yt_dlp: PathBuf,
    /// An extra option for every yt-dlp run (repeat; e.g. `--yt-dlp-arg=--js-runtimes --yt-dlp-arg=node`).
    #[arg(
        long = "yt-dlp-arg",
        env = "ANYAUDIO_YT_DLP_ARGS",
        value_delimiter = ' ',
        allow_hyphen_values = true
    )]
    pub yt_dlp_args: Vec<String>,
    /// A yt-dlp config file of yours to use (cookies, extractor arguments, ...); by default
    /// yt-dlp reads no config file. The server's own network options still win.
    #[arg(long = "yt-dlp-config", env = "ANYAUDIO_YT_DLP_CONFIG")]
    pub yt_dlp_config: Option<PathBuf>,
    /// yt-dlp calls at once: warm workers kept (or processes alive, running a process per call).
    #[arg(
        long = "yt-dlp-workers",
        visible_alias = "yt-dlp-concurrency",
        env = "ANYAUDIO_YT_DLP_WORKERS",
        default_value_t = 2
    )]
    pub yt_dlp_workers: usize,
    /// Start yt-dlp for every call instead of keeping workers warm (what happens anyway when
    /// yt-dlp is a standalone build).
    #[arg(long = "yt-dlp-per-call", env = "ANYAUDIO_YT_DLP_PER_CALL")]
    pub yt_dlp_per_call: bool,
    /// The Python interpreter the warm workers run under (by default the one the yt-dlp
    /// launcher names).
    #[arg(long = "yt-dlp-python", env = "ANYAUDIO_YT_DLP_PYTHON")]
    pub yt_dlp_python: Option<PathBuf>,
    /// A warm worker is replaced after this many calls.
    #[arg(
        long = "yt-dlp-worker-max-calls",
        env = "ANYAUDIO_YT_DLP_WORKER_MAX_CALLS",
        default_value_t = 1000
    )]
    pub yt_dlp_worker_max_calls: u32,
    /// A warm worker is replaced once its memory is above this many MiB.
    #[arg(
        long = "yt-dlp-worker-max-memory",
        env = "ANYAUDIO_YT_DLP_WORKER_MAX_MEMORY",
        default_value_t = 512
    )]
    pub yt_dlp_worker_max_memory: u64,
    /// Seconds after which a yt-dlp run is killed.
    #[arg(long = "yt-dlp-timeout", env = "ANYAUDIO_YT_DLP_TIMEOUT", default_value_t = 30)]
    pub yt_dlp_timeout: u64,
    /// YouTube's autocomplete service (empty: local suggestions only).
    #[arg(
        long,
        env = "ANYAUDIO_YOUTUBE_SUGGEST_URL",
        default_value = "https://suggestqueries-clients6.youtube.com/complete/search"
    )]
    pub youtube_suggest_url: String,
    /// A playlist URL (YouTube or any yt-dlp site) to import at start as a predefined playlist (repeat).
    #[arg(long = "youtube-playlist", env = "ANYAUDIO_YOUTUBE_PLAYLISTS", value_delimiter = ',')]
    pub youtube_playlists: Vec<String>,
}

/// The YouTube source's settings.
#[derive(Debug, Clone)]
pub struct YouTubeConfig {
    pub ytdlp: YtDlpConfig,
    pub suggest_url: Option<String>,
    pub playlists: Vec<String>,
}

/// Which music the server indexes.
#[derive(Debug, Clone)]
pub enum Library {
    /// The demo library embedded in the binary, unpacked into the data dir.
    Demo,
    /// The user's folders, canonicalised.
    Folders(Vec<PathBuf>),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub library: Library,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub token_ttl: Duration,
    pub shutdown_grace: Duration,
    pub scan_at_start: bool,
    pub upstream: UpstreamLimits,
    pub max_upstream_requests: usize,
    /// Origins allowed to read cross-origin (`--cors-origin`), as `scheme://host[:port]`.
    pub cors_origins: Vec<String>,
    /// Host names answered besides IP addresses and `localhost` (`--host`).
    pub hosts: Vec<String>,
    /// None: the YouTube source is off.
    pub youtube: Option<YouTubeConfig>,
    /// Outbound connections: address family, fixed host addresses.
    pub net: NetConfig,
    /// Who needs to log in.
    pub access: AccessConfig,
    /// What one connection, and all of them, may hold.
    pub connections: ConnectionLimits,
}

/// Limits on client connections (see `server`).
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub idle_timeout: Duration,
    pub request_body_timeout: Duration,
    pub max_connections: usize,
    pub max_per_address: usize,
    /// Addresses the per-address cap doesn't apply to: the trusted proxies.
    pub exempt: Vec<ipnet::IpNet>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            idle_timeout: Duration::from_secs(30),
            request_body_timeout: Duration::from_secs(30),
            max_connections: 4096,
            max_per_address: 128,
            exempt: Vec::new(),
        }
    }
}

/// Who may use the server without a login, and what vouches for a user.
#[derive(Debug, Clone, Default)]
pub struct AccessConfig {
    pub public_url: Option<url::Url>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub open_listening: bool,
    pub open_metrics: bool,
}

impl Config {
    pub fn from_serve_args(args: ServeArgs) -> anyhow::Result<Self> {
        let (library, data_dir) = validate_library(args.library)?;
        if args.token_ttl < 60 {
            bail!("--token-ttl must be at least 60 seconds (got {})", args.token_ttl);
        }
        if !(64 * 1024..=64 * 1024 * 1024).contains(&args.chunk_size) {
            bail!(
                "--chunk-size must be between 64 KiB and 64 MiB (got {})",
                args.chunk_size
            );
        }
        if args.idle_timeout == 0
            || args.request_body_timeout == 0
            || args.max_connections == 0
            || args.max_connections_per_address == 0
        {
            bail!("--idle-timeout, --request-body-timeout, --max-connections and --max-connections-per-address must be positive");
        }
        if args.upstream_timeout == 0 || args.upstream_idle_timeout == 0 || args.max_upstream_requests == 0 {
            bail!("upstream timeouts and --max-upstream-requests must be positive");
        }
        let upstream = UpstreamLimits {
            chunk_size: args.chunk_size,
            first_byte_timeout: Duration::from_secs(args.upstream_timeout),
            idle_timeout: Duration::from_secs(args.upstream_idle_timeout),
            ..UpstreamLimits::default()
        };
        if args.yt_dlp_workers == 0 || args.yt_dlp_timeout == 0 || args.yt_dlp_worker_max_calls == 0 {
            bail!("--yt-dlp-workers, --yt-dlp-timeout and --yt-dlp-worker-max-calls must be positive");
        }
        if let Some(option) = crate::sources::ytdlp::not_extracting(&args.yt_dlp_args) {
            bail!("--yt-dlp-arg={option} makes yt-dlp do something else than read pages; leave it out");
        }
        if let Some(file) = &args.yt_dlp_config {
            if !file.is_file() {
                bail!("--yt-dlp-config {} is not a readable file", file.display());
            }
        }
        // yt-dlp must leave from the address family the media requests use (googlevideo URLs
        // are bound to the resolving address).
        let mut forced_args: Vec<String> = args
            .ip_family
            .map(|f| f.ytdlp_option().to_owned())
            .into_iter()
            .collect();
        if let Some(proxy) = &args.upstream_proxy {
            forced_args.extend(["--proxy".to_owned(), proxy.as_str().to_owned()]);
        }
        let youtube = args.youtube.then(|| YouTubeConfig {
            ytdlp: YtDlpConfig {
                program: args.yt_dlp,
                config_file: args.yt_dlp_config,
                forced_args,
                extra_args: args.yt_dlp_args.into_iter().filter(|a| !a.is_empty()).collect(),
                workers: args.yt_dlp_workers,
                per_call: args.yt_dlp_per_call,
                python: args.yt_dlp_python,
                worker_max_calls: args.yt_dlp_worker_max_calls,
                worker_max_memory: args.yt_dlp_worker_max_memory.saturating_mul(1024 * 1024),
                timeout: Duration::from_secs(args.yt_dlp_timeout),
            },
            suggest_url: Some(args.youtube_suggest_url).filter(|u| !u.is_empty()),
            playlists: args.youtube_playlists,
        });
        Ok(Config {
            youtube,
            library,
            data_dir,
            listen: args.listen,
            token_ttl: Duration::from_secs(args.token_ttl),
            shutdown_grace: Duration::from_secs(args.shutdown_grace),
            scan_at_start: !args.no_scan,
            upstream,
            max_upstream_requests: args.max_upstream_requests,
            cors_origins: args.cors_origins,
            hosts: args
                .hosts
                .into_iter()
                .chain(args.public_url.as_ref().and_then(|u| u.host_str()).map(str::to_owned))
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            connections: ConnectionLimits {
                idle_timeout: Duration::from_secs(args.idle_timeout),
                request_body_timeout: Duration::from_secs(args.request_body_timeout),
                max_connections: args.max_connections,
                max_per_address: args.max_connections_per_address,
                exempt: args.trusted_proxies.clone(),
            },
            access: AccessConfig {
                public_url: args.public_url,
                trusted_proxies: args.trusted_proxies,
                open_listening: args.open_listening,
                open_metrics: args.open_metrics,
            },
            net: NetConfig {
                egress: EgressPolicy {
                    allow_private: args.allow_private_sources,
                    allowed_nets: args.allow_source_nets,
                },
                family: args.ip_family,
                proxy: args.upstream_proxy,
                hosts: args
                    .resolve
                    .into_iter()
                    .fold(Default::default(), |mut hosts, (host, ip)| {
                        hosts.entry(host).or_insert_with(Vec::new).push(ip);
                        hosts
                    }),
            },
        })
    }

    pub fn from_library_args(args: LibraryArgs) -> anyhow::Result<Self> {
        let (library, data_dir) = validate_library(args)?;
        Ok(Config {
            library,
            data_dir,
            ..Config::defaults()
        })
    }

    /// A config for tests: port 0 on loopback, the given library and data dir.
    pub fn for_tests(library: Vec<PathBuf>, data_dir: PathBuf) -> Self {
        let library = Library::Folders(
            library
                .iter()
                .map(|p| p.canonicalize().expect("test library exists"))
                .collect(),
        );
        Config {
            library,
            data_dir,
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::defaults()
        }
    }

    fn defaults() -> Self {
        Config {
            library: Library::Demo,
            data_dir: PathBuf::from("."),
            listen: "127.0.0.1:8080".parse().unwrap(),
            token_ttl: Duration::from_secs(6 * 3600),
            shutdown_grace: Duration::from_secs(5),
            scan_at_start: true,
            upstream: UpstreamLimits::default(),
            max_upstream_requests: 1024,
            cors_origins: Vec::new(),
            hosts: Vec::new(),
            youtube: None,
            net: NetConfig::default(),
            access: AccessConfig::default(),
            connections: ConnectionLimits::default(),
        }
    }
}

fn parse_host_address(s: &str) -> Result<(String, std::net::IpAddr), String> {
    let (host, ip) = s.split_once('=').ok_or_else(|| format!("{s:?} is not HOST=IP"))?;
    let ip = ip.trim().parse().map_err(|_| format!("{ip:?} is not an IP address"))?;
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b)) {
        return Err(format!("{host:?} is not a host name"));
    }
    Ok((host, ip))
}

fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    s.trim()
        .parse::<ipnet::IpNet>()
        .or_else(|_| s.trim().parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("{s:?} is not a network (10.0.0.0/8) or an address"))
}

fn parse_family(s: &str) -> Result<IpFamily, String> {
    IpFamily::parse(s).ok_or_else(|| format!("{s:?} is not 4 or 6"))
}

fn validate_library(args: LibraryArgs) -> anyhow::Result<(Library, PathBuf)> {
    let library = if args.libraries.is_empty() {
        Library::Demo
    } else {
        let mut folders = Vec::new();
        for dir in args.libraries {
            let canonical = dir
                .canonicalize()
                .with_context(|| format!("library folder {} cannot be opened", dir.display()))?;
            if !canonical.is_dir() {
                bail!("library {} is not a folder", dir.display());
            }
            if !folders.contains(&canonical) {
                folders.push(canonical);
            }
        }
        // A folder inside another would be scanned twice.
        let nested: Vec<PathBuf> = folders
            .iter()
            .filter(|f| folders.iter().any(|o| o != *f && f.starts_with(o)))
            .cloned()
            .collect();
        folders.retain(|f| !nested.contains(f));
        Library::Folders(folders)
    };
    let data_dir = DataArgs {
        data_dir: args.data_dir,
    }
    .resolve()?;
    Ok((library, data_dir))
}

/// A web origin as browsers send it: `scheme://host[:port]`, no path.
fn parse_origin(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value).map_err(|e| format!("{value:?} is not an origin: {e}"))?;
    match url.origin() {
        origin @ url::Origin::Tuple(..) if url.path() == "/" && url.query().is_none() => {
            Ok(origin.ascii_serialization())
        }
        _ => Err(format!(
            "{value:?} is not an origin (scheme://host[:port], nothing after)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_are_origins() {
        assert_eq!(
            parse_origin("https://Player.Example").unwrap(),
            "https://player.example"
        );
        assert_eq!(parse_origin("http://localhost:5173/").unwrap(), "http://localhost:5173");
        for bad in ["player.example", "https://player.example/app", "file:///x", "*"] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn yt_dlp_options_that_do_not_extract_are_refused_and_the_workers_are_set() {
        let serve = |extra: &[&str]| {
            let mut argv = vec![
                "anyaudio",
                "serve",
                "--data-dir",
                "/tmp/anyaudio-config-test",
                "--youtube",
            ];
            argv.extend(extra);
            let Command::Serve(args) = Cli::parse_from(argv).command else {
                panic!("serve")
            };
            Config::from_serve_args(*args)
        };
        for bad in [
            "--yt-dlp-arg=--update",
            "--yt-dlp-arg=--batch-file=urls.txt",
            "--yt-dlp-arg=-U",
        ] {
            let error = serve(&[bad]).unwrap_err().to_string();
            assert!(error.contains("something else than read pages"), "{bad}: {error}");
        }
        let config = serve(&[
            "--yt-dlp-workers",
            "3",
            "--yt-dlp-per-call",
            "--yt-dlp-worker-max-memory",
            "100",
        ])
        .unwrap();
        let ytdlp = config.youtube.unwrap().ytdlp;
        assert_eq!(
            (ytdlp.workers, ytdlp.per_call, ytdlp.worker_max_memory),
            (3, true, 100 << 20)
        );
        // The old name still works.
        let config = serve(&["--yt-dlp-concurrency", "4"]).unwrap();
        assert_eq!(config.youtube.unwrap().ytdlp.workers, 4);
        assert!(serve(&["--yt-dlp-workers", "0"]).is_err());
    }

    #[test]
    fn the_upstream_proxy_and_family_reach_both_clients_and_yt_dlp_after_the_users_options() {
        let cli = Cli::parse_from([
            "anyaudio",
            "serve",
            "--data-dir",
            "/tmp/anyaudio-config-test",
            "--youtube",
            "--yt-dlp-arg=--proxy",
            "--yt-dlp-arg=http://elsewhere:1",
            "--upstream-proxy",
            "socks5h://127.0.0.1:1080",
            "--ip-family",
            "4",
            "--resolve",
            "cdn.example=127.0.0.1",
        ]);
        let Command::Serve(args) = cli.command else {
            panic!("serve")
        };
        let config = Config::from_serve_args(*args).unwrap();
        assert_eq!(
            config.net.proxy.as_ref().map(|p| p.as_str()),
            Some("socks5h://127.0.0.1:1080")
        );
        assert_eq!(config.net.family, Some(IpFamily::V4));
        assert_eq!(
            config.net.hosts["cdn.example"],
            vec!["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]
        );
        let ytdlp = config.youtube.unwrap().ytdlp;
        assert_eq!(ytdlp.extra_args, vec!["--proxy", "http://elsewhere:1"]);
        // yt-dlp takes the last of repeated options; ours come after the user's.
        assert_eq!(
            ytdlp.forced_args,
            vec!["--force-ipv4", "--proxy", "socks5h://127.0.0.1:1080"]
        );
    }

    #[test]
    fn source_networks_parse() {
        assert_eq!(parse_net("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_net("192.168.1.20").unwrap().to_string(), "192.168.1.20/32");
        assert_eq!(parse_net("fd00::/8").unwrap().to_string(), "fd00::/8");
        for bad in ["10.0.0.0/33", "lan", ""] {
            assert!(parse_net(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolve_overrides_parse() {
        assert_eq!(
            parse_host_address("RR1---sn-x.googlevideo.com=127.0.0.1"),
            Ok(("rr1---sn-x.googlevideo.com".to_owned(), "127.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            parse_host_address("cdn.example=::1").map(|(_, ip)| ip),
            Ok("::1".parse().unwrap())
        );
        for bad in ["cdn.example", "cdn.example=localhost", "=127.0.0.1", "a/b=127.0.0.1"] {
            assert!(parse_host_address(bad).is_err(), "{bad}");
        }
    }
}
