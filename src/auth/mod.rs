//! Who is asking, and may they? Open on loopback for the person at the machine; closed to
//! everyone else unless they log in.
//!
//! **Open mode**, exactly: no login is asked for only when the server listens on a loopback
//! address, has no user, has none of `--public-url`, `--trusted-proxy` and `--host`, and the
//! request names it by a loopback address or `localhost` and carries no header a proxy adds
//! (`Forwarded`, `Via`, `X-Forwarded-*`, `X-Real-IP`, ...): a reverse proxy on the same
//! machine would otherwise open it to the internet. Everything else needs a credential, except the public
//! paths ([`Access::Public`]: `/healthz`, the web player's files, the login itself, and stream
//! URLs, whose signed token is their credential) and what `--open-listening` opens.
//!
//! The core is [`Auth::authenticate`], a function of (credential, request): the web API calls
//! it with a session cookie or a Bearer key, a later Subsonic layer with its own credentials.

mod attempts;
pub mod password;
pub mod secret_file;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, Method};

use crate::catalog::accounts::{AddUserError, NewUser};
use crate::catalog::Catalog;
use crate::config::AccessConfig;
use crate::error::Error;
use crate::model::{unix_now, User};
use attempts::Attempts;
use password::Sealer;

/// The session cookie's name over plain HTTP.
pub const SESSION_COOKIE: &str = "anyaudio_session";
/// Its name over https: the `__Host-` prefix makes browsers refuse one set by a sibling
/// subdomain or for a narrower path (cookie tossing), RFC 6265bis §4.1.3.2.
pub const SECURE_SESSION_COOKIE: &str = "__Host-anyaudio_session";
/// How long a web login lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// API keys start so, session cookies with `s_`.
pub const KEY_PREFIX: &str = "aa_";

/// Who a per-address count is for (login attempts, connections): an IPv4 address, or an IPv6
/// /64 (one subscriber's network; whoever holds one has 2^64 addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKey {
    V4(u32),
    V6Prefix(u64),
}

impl AddressKey {
    pub fn of(ip: IpAddr) -> AddressKey {
        match ip.to_canonical() {
            IpAddr::V4(v4) => AddressKey::V4(v4.into()),
            IpAddr::V6(v6) => AddressKey::V6Prefix((u128::from(v6) >> 64) as u64),
        }
    }
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: `/healthz`, the web player's files, logging in, signed stream URLs.
    Public,
    /// Searching, reading and playing.
    Listen,
    /// A user's own account: their password, their keys.
    Account,
    /// Changes: scans, sources, imports, users.
    Admin,
    /// `/metrics`: an admin, or anyone with `--open-metrics`.
    Metrics,
}

/// What a request needs, by its method and path. Whatever is not listed is an admin's: a new
/// route is closed until it is classified here.
pub fn access_for(method: &Method, path: &str) -> Access {
    let reading = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    match path {
        "/healthz" => Access::Public,
        "/api/v1/login" | "/api/v1/logout" => Access::Public,
        "/metrics" => Access::Metrics,
        "/api/v1/me" => Access::Listen,
        p if p.starts_with("/stream/") => Access::Public,
        p if p.starts_with("/api/v1/me/") => Access::Account,
        p if p == "/api/v1/users" || p.starts_with("/api/v1/users/") => Access::Admin,
        p if p.starts_with("/api/") => {
            if reading {
                Access::Listen
            } else {
                Access::Admin
            }
        }
        // The web player's files: the app's code, no data; it logs in through the API.
        _ if reading => Access::Public,
        _ => Access::Admin,
    }
}

/// What a request presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    None,
    /// `Authorization: Bearer aa_…`.
    ApiKey(String),
    /// The web player's session cookie.
    Session(String),
    /// `Remote-User` from a `--trusted-proxy` address.
    RemoteUser(String),
    /// A name and password (a login; Subsonic's `u`/`p`).
    Password {
        name: String,
        password: String,
    },
    /// Subsonic's `u`, `t` and `s`: `token` is md5(password + `salt`), in hex.
    Token {
        name: String,
        token: String,
        salt: String,
    },
}

/// How a request proved who it is (the kind of its [`Credential`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Nothing,
    ApiKey,
    Session,
    /// A trusted proxy vouched for the user, on this very request.
    RemoteUser,
    Password,
    Token,
}

impl Credential {
    pub fn via(&self) -> Via {
        match self {
            Credential::None => Via::Nothing,
            Credential::ApiKey(_) => Via::ApiKey,
            Credential::Session(_) => Via::Session,
            Credential::RemoteUser(_) => Via::RemoteUser,
            Credential::Password { .. } => Via::Password,
            Credential::Token { .. } => Via::Token,
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The person at the machine, in open mode: may do anything.
    Local,
    User(User),
    /// No credential, where `--open-listening` lets anyone listen.
    Guest,
}

impl Principal {
    pub fn user(&self) -> Option<&User> {
        match self {
            Principal::User(user) => Some(user),
            _ => None,
        }
    }
}

/// The facts of a request that the decisions read.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub peer: IpAddr,
    pub headers: &'a HeaderMap,
}

impl RequestFacts<'_> {
    /// A proxy says it forwarded the request: RFC 7239 `Forwarded`, `Via` (RFC 9110 §7.6.3),
    /// the X-Forwarded family, or a client-address header of the common proxies and CDNs.
    pub fn forwarded(&self) -> bool {
        const CLIENT_ADDRESS: [&str; 6] = [
            "x-real-ip",
            "x-client-ip",
            "x-cluster-client-ip",
            "cf-connecting-ip",
            "true-client-ip",
            "fastly-client-ip",
        ];
        self.headers.keys().any(|name| {
            let name = name.as_str();
            name == "forwarded" || name == "via" || name.starts_with("x-forwarded-") || CLIENT_ADDRESS.contains(&name)
        })
    }

    /// The request names the server as the machine itself does: a loopback address or
    /// `localhost` (a proxy that adds no header of its own still sends its public name).
    pub fn addressed_locally(&self) -> bool {
        let Some(host) = self.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()) else {
            return true; // HTTP/1.0 without Host: nothing names another site
        };
        let name = match host.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or(""),
            None => host.rsplit_once(':').map_or(host, |(name, _)| name),
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        match name.parse::<IpAddr>() {
            Ok(ip) => ip.to_canonical().is_loopback(),
            Err(_) => name == "localhost" || name.ends_with(".localhost"),
        }
    }

    /// The credential this request presents; `Remote-User` only from a trusted proxy.
    pub fn credential(&self, trusted_proxies: &[ipnet::IpNet]) -> Credential {
        let header = |name: &str| self.headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(key) = header("authorization").and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, key)| key.trim())
        }) {
            return Credential::ApiKey(key.to_owned());
        }
        if trusted_proxies.iter().any(|net| net.contains(&self.peer)) {
            if let Some(name) = header("remote-user").map(str::trim).filter(|n| !n.is_empty()) {
                return Credential::RemoteUser(name.to_owned());
            }
        }
        match self.session_cookie() {
            Some(session) => Credential::Session(session),
            None => Credential::None,
        }
    }

    /// The session cookie's value: the `__Host-` one if there is one.
    pub fn session_cookie(&self) -> Option<String> {
        let pairs: Vec<(&str, &str)> = self
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .collect();
        [SECURE_SESSION_COOKIE, SESSION_COOKIE]
            .iter()
            .find_map(|wanted| pairs.iter().find(|(name, _)| name == wanted))
            .map(|(_, value)| (*value).to_owned())
    }

    /// The client's address: the peer, or behind a trusted proxy the nearest address in
    /// `X-Forwarded-For` that is not a trusted proxy (the entries on the right are the ones the
    /// trusted proxies added; whatever is left of them the client may have written itself).
    pub fn client(&self, trusted_proxies: &[ipnet::IpNet]) -> IpAddr {
        let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
        if !trusted(&self.peer) {
            return self.peer;
        }
        let hops: Vec<&str> = self
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.into_iter().rev() {
            let ip = hop
                .parse::<IpAddr>()
                .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|a| a.ip()));
            match ip {
                Ok(ip) if trusted(&ip) => continue,
                Ok(ip) => return ip,
                // Not an address (`unknown`, a typo): nothing left of it can be believed.
                Err(_) => break,
            }
        }
        self.peer
    }

    /// Whether a session cookie set now should be `Secure`: the server is reached over https.
    pub fn over_tls(&self, access: &AccessConfig) -> bool {
        let by_proxy = access.trusted_proxies.iter().any(|net| net.contains(&self.peer))
            && self
                .headers
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
        by_proxy || access.public_url.as_ref().is_some_and(|u| u.scheme() == "https")
    }
}

/// Whether `principal` may do what `access` asks.
pub fn authorize(principal: &Principal, access: Access, config: &AccessConfig) -> Result<(), Error> {
    let admin = match principal {
        Principal::Local => true,
        Principal::User(user) => user.admin,
        Principal::Guest => false,
    };
    let guest = *principal == Principal::Guest;
    match access {
        Access::Public => Ok(()),
        Access::Metrics if config.open_metrics => Ok(()),
        Access::Listen if guest && !config.open_listening => Err(Error::Unauthenticated),
        Access::Listen => Ok(()),
        Access::Account => match principal {
            Principal::User(_) => Ok(()),
            Principal::Local => Err(Error::AccountRequired),
            Principal::Guest => Err(Error::Unauthenticated),
        },
        Access::Admin | Access::Metrics if admin => Ok(()),
        Access::Admin | Access::Metrics if guest => Err(Error::Unauthenticated),
        Access::Admin | Access::Metrics => Err(Error::AdminRequired),
    }
}

/// Accounts, logins and the decisions; cheap to clone.
#[derive(Clone)]
pub struct Auth {
    catalog: Catalog,
    sealer: Sealer,
    config: Arc<AccessConfig>,
    /// The server listens on loopback only, and no `--host` names it.
    loopback: bool,
    logins_by_address: Arc<Attempts<AddressKey>>,
    logins_by_name: Arc<Attempts<String>>,
    /// Password hashes computed at once: argon2 takes ~19 MiB and tens of milliseconds each,
    /// so a crowd of logins from many addresses waits here rather than filling memory.
    hashing: Arc<tokio::sync::Semaphore>,
}

/// How long a password check waits for a turn before answering `503 busy`.
const HASHING_WAIT: Duration = Duration::from_secs(10);

/// Failed password checks: five at once, then one every twelve seconds, per client address
/// and per user name (so that many addresses can't guess one password faster).
const LOGIN_BURST: u32 = 5;
const LOGIN_PERIOD: Duration = Duration::from_secs(12);

impl Auth {
    pub fn new(catalog: Catalog, sealer: Sealer, config: AccessConfig, loopback: bool) -> Auth {
        Auth {
            catalog,
            sealer,
            config: Arc::new(config),
            loopback,
            logins_by_address: Arc::new(Attempts::new(LOGIN_BURST, LOGIN_PERIOD)),
            logins_by_name: Arc::new(Attempts::new(LOGIN_BURST, LOGIN_PERIOD)),
            hashing: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        }
    }

    /// The accounts of `catalog`, with the key in `data_dir` that seals passwords.
    pub fn open(
        catalog: Catalog,
        data_dir: &std::path::Path,
        config: AccessConfig,
        loopback: bool,
    ) -> anyhow::Result<Auth> {
        let sealer = Sealer::new(secret_file::load_or_create(&data_dir.join("secret.key"))?);
        Ok(Auth::new(catalog, sealer, config, loopback))
    }

    pub fn config(&self) -> &AccessConfig {
        &self.config
    }

    /// Nobody could log in: the server is closed by where it listens or by `--public-url`, and
    /// has no user yet. (Behind `--trusted-proxy` alone, the proxy's first user is the admin.)
    pub async fn needs_first_admin(&self) -> Result<bool, Error> {
        let closed = !self.loopback || self.config.public_url.is_some();
        Ok(closed && self.catalog.user_count().await? == 0)
    }

    /// Open mode (see the module's comment) for this request.
    async fn open_for(&self, facts: &RequestFacts<'_>) -> Result<bool, Error> {
        let closed_by_config =
            !self.loopback || self.config.public_url.is_some() || !self.config.trusted_proxies.is_empty();
        if closed_by_config || facts.forwarded() || !facts.addressed_locally() {
            return Ok(false);
        }
        Ok(self.catalog.user_count().await? == 0)
    }

    /// Who presents `credential` with this request. A credential that is there but wrong is a
    /// `401 bad_credentials`, never a fall-back to open mode or a guest.
    pub async fn authenticate(&self, credential: Credential, facts: &RequestFacts<'_>) -> Result<Principal, Error> {
        let user = match credential {
            Credential::None if self.open_for(facts).await? => return Ok(Principal::Local),
            Credential::None => return Ok(Principal::Guest),
            Credential::ApiKey(key) => self.catalog.user_by_api_key(password::digest(&key)).await?,
            Credential::Session(token) => self.catalog.user_by_session(password::digest(&token)).await?,
            Credential::RemoteUser(name) => Some(self.remote_user(name).await?),
            Credential::Password { name, password } => self.check_password(facts, &name, password).await?,
            Credential::Token { name, token, salt } => self.check_token(facts, &name, &token, &salt).await?,
        };
        user.map(Principal::User).ok_or(Error::BadCredentials)
    }

    /// A reverse proxy's user: made on first sight, as Navidrome does (the first user of a
    /// server is its admin), with a random password nobody knows until it is set.
    async fn remote_user(&self, name: String) -> Result<User, Error> {
        if let Some(user) = self.catalog.user_by_name(name.clone()).await? {
            return Ok(user);
        }
        match self.add_user(name.clone(), &password::one_time_password(), false).await {
            Err(Error::UserExists(_)) => self.catalog.user_by_name(name).await?.ok_or(Error::BadCredentials),
            other => other,
        }
    }

    /// A name and password checked, failures at most as fast as [`LOGIN_PERIOD`] allows after
    /// a burst. The right password is known at once from the copy the account keeps sealed (as
    /// Subsonic's token is): apps that send `p=` with every call must not cost an argon2 hash
    /// each (tens of milliseconds and its memory, by design). Anything else is checked against
    /// the hash on a blocking thread, so a wrong password costs what it always did.
    async fn check_password(
        &self,
        facts: &RequestFacts<'_>,
        name: &str,
        password: String,
    ) -> Result<Option<User>, Error> {
        self.rate_limited(facts, name, async {
            let stored = self.catalog.stored_password(name.to_owned()).await?;
            if let Some(stored) = &stored {
                let sealed = self.sealer.open(&stored.sealed);
                if sealed.is_some_and(|known| password::same_secret(&known, &password)) {
                    return Ok(Some(stored.user.clone()));
                }
            }
            let hash = stored.as_ref().map(|s| s.hash.clone());
            // Without a user, a hash is still computed, so the answer's time doesn't tell
            // whether the name exists.
            let matches = self
                .argon2(move || match hash {
                    Some(hash) => password::verify(&password, &hash),
                    None => {
                        password::verify(&password, DUMMY_HASH.as_str());
                        false
                    }
                })
                .await?;
            Ok(stored.filter(|_| matches).map(|s| s.user))
        })
        .await
    }

    /// Subsonic's token, md5(password + salt), checked against the password the account keeps
    /// sealed; failures limited as password checks are.
    async fn check_token(
        &self,
        facts: &RequestFacts<'_>,
        name: &str,
        token: &str,
        salt: &str,
    ) -> Result<Option<User>, Error> {
        self.rate_limited(facts, name, async {
            let stored = self.catalog.stored_password(name.to_owned()).await?;
            Ok(stored.and_then(|stored| {
                let password = self.sealer.open(&stored.sealed)?;
                password::token_matches(&password, salt, token).then_some(stored.user)
            }))
        })
        .await
    }

    /// Runs a check of a user's secret if the client's address and the name have attempts
    /// left (five at once, then one every [`LOGIN_PERIOD`]); a success gives its attempt back.
    async fn rate_limited(
        &self,
        facts: &RequestFacts<'_>,
        name: &str,
        check: impl std::future::Future<Output = Result<Option<User>, Error>>,
    ) -> Result<Option<User>, Error> {
        // A name no user can have is checked like any other, but never kept as a key.
        let name_key = if name.chars().count() <= MAX_NAME {
            name.to_lowercase()
        } else {
            String::new()
        };
        let client = AddressKey::of(facts.client(&self.config.trusted_proxies));
        let limited = |wait: Duration| Error::TooManyAttempts(wait.as_secs_f64().ceil().max(1.0) as u64);
        self.logins_by_address.take(&client, Instant::now()).map_err(limited)?;
        if let Err(wait) = self.logins_by_name.take(&name_key, Instant::now()) {
            self.logins_by_address.give_back(&client, Instant::now());
            return Err(limited(wait));
        }
        let user = check.await?;
        if user.is_some() {
            self.logins_by_address.give_back(&client, Instant::now());
            self.logins_by_name.give_back(&name_key, Instant::now());
        }
        Ok(user)
    }

    /// A login: the user and a new session's cookie value.
    pub async fn login(&self, name: &str, password: String, facts: &RequestFacts<'_>) -> Result<(User, String), Error> {
        let credential = Credential::Password {
            name: name.to_owned(),
            password,
        };
        let Principal::User(user) = self.authenticate(credential, facts).await? else {
            return Err(Error::BadCredentials);
        };
        let token = password::new_secret("s_");
        let expires = unix_now() + SESSION_TTL.as_secs();
        self.catalog
            .add_session(password::digest(&token), user.id, expires)
            .await?;
        Ok((user, token))
    }

    pub async fn logout(&self, token: &str) -> Result<(), Error> {
        Ok(self.catalog.remove_session(password::digest(token)).await?)
    }

    pub async fn add_user(&self, name: String, password: &str, admin: bool) -> Result<User, Error> {
        check_name(&name)?;
        password::check_strength(password).map_err(Error::BadRequest)?;
        let (hash, sealed) = self.protect(password.to_owned()).await?;
        self.catalog
            .add_user(NewUser {
                name,
                admin,
                password_hash: hash,
                password_sealed: sealed,
            })
            .await
            .map_err(|e| match e {
                AddUserError::Taken(name) => Error::UserExists(name),
                AddUserError::Other(e) => Error::Internal(e),
            })
    }

    /// A user's new password, checked against the current one; their sessions end.
    pub async fn change_password(
        &self,
        user: &User,
        facts: &RequestFacts<'_>,
        current: String,
        new: &str,
    ) -> Result<(), Error> {
        self.confirm_password(user, facts, current).await?;
        self.set_password(user, new).await
    }

    /// The logged-in user's password asked again, before what outlives a session (a new
    /// password, a new key): a stolen cookie alone can't. Rate-limited as logins are.
    pub async fn confirm_password(&self, user: &User, facts: &RequestFacts<'_>, password: String) -> Result<(), Error> {
        match self.check_password(facts, &user.name, password).await? {
            Some(_) => Ok(()),
            None => Err(Error::WrongPassword),
        }
    }

    /// Sets a password without the current one (an admin at the command line).
    pub async fn set_password(&self, user: &User, new: &str) -> Result<(), Error> {
        password::check_strength(new).map_err(Error::BadRequest)?;
        let (hash, sealed) = self.protect(new.to_owned()).await?;
        Ok(self.catalog.set_password(user.id, hash, sealed).await?)
    }

    async fn protect(&self, password: String) -> Result<(String, Vec<u8>), Error> {
        let sealed = self.sealer.seal(&password);
        let hash = self.argon2(move || password::hash(&password)).await?;
        Ok((hash, sealed))
    }

    /// Runs an argon2 computation on a blocking thread, at most [`Auth::hashing`] at once.
    async fn argon2<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let _turn = tokio::time::timeout(HASHING_WAIT, self.hashing.acquire())
            .await
            .map_err(|_| Error::Busy)?
            .expect("the semaphore is never closed");
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::Internal(e.into()))
    }

    /// A new API key for `user`: its public side, and the key itself (shown this once).
    pub async fn add_key(&self, user: &User, name: String) -> Result<(crate::model::ApiKey, String), Error> {
        let name = name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(Error::BadRequest("a key's name is 1 to 64 characters".into()));
        }
        let secret = password::new_secret(KEY_PREFIX);
        let key = self
            .catalog
            .add_api_key(user.id, password::key_id(&secret), name, password::digest(&secret))
            .await?;
        Ok((key, secret))
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

/// The longest user name, in characters.
const MAX_NAME: usize = 64;

/// A user name: what a login form and a `Remote-User` header carry, so printable and short.
fn check_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name.trim() == name
        && name.chars().all(|c| !c.is_control() && c != ':');
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(
            "a user name is 1 to 64 printable characters, without ':' or spaces at its ends".into(),
        ))
    }
}

/// A hash to check against when the name is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| password::hash("no such user"));

#[cfg(test)]
mod tests {
    use super::*;

    fn user(admin: bool) -> Principal {
        Principal::User(User {
            id: crate::model::UserId(1),
            name: "ana".into(),
            admin,
            created_at: 0,
        })
    }

    #[test]
    fn every_route_has_an_access_and_unknown_ones_are_closed() {
        let get = Method::GET;
        let post = Method::POST;
        for (method, path, access) in [
            (&get, "/healthz", Access::Public),
            (&get, "/", Access::Public),
            (&get, "/assets/app.js", Access::Public),
            (&get, "/stream/abc", Access::Public),
            (&post, "/api/v1/login", Access::Public),
            (&get, "/api/v1/search", Access::Listen),
            (&get, "/api/v1/tracks/x/stream_url", Access::Listen),
            (&get, "/api/v1/openapi.json", Access::Listen),
            (&get, "/api/v1/me", Access::Listen),
            (&post, "/api/v1/me/keys", Access::Account),
            (&Method::DELETE, "/api/v1/me/keys/1", Access::Account),
            (&get, "/api/v1/users", Access::Admin),
            (&post, "/api/v1/scan", Access::Admin),
            (&post, "/api/v1/sources/http", Access::Admin),
            (&post, "/api/v1/tracks/import", Access::Admin),
            (&post, "/api/v1/playlists/x/refresh", Access::Admin),
            (&get, "/metrics", Access::Metrics),
            (&post, "/anything-else", Access::Admin),
            (&Method::PUT, "/", Access::Admin),
        ] {
            assert_eq!(access_for(method, path), access, "{method} {path}");
        }
    }

    #[test]
    fn who_may_do_what() {
        let closed = AccessConfig::default();
        let open_listening = AccessConfig {
            open_listening: true,
            ..AccessConfig::default()
        };
        let ok = |p: &Principal, a, c| authorize(p, a, c).is_ok();
        assert!(ok(&Principal::Local, Access::Admin, &closed));
        assert!(ok(&user(true), Access::Admin, &closed));
        assert!(matches!(
            authorize(&user(false), Access::Admin, &closed),
            Err(Error::AdminRequired)
        ));
        assert!(ok(&user(false), Access::Listen, &closed));
        assert!(ok(&user(false), Access::Account, &closed));
        assert!(matches!(
            authorize(&Principal::Local, Access::Account, &closed),
            Err(Error::AccountRequired)
        ));
        assert!(matches!(
            authorize(&Principal::Guest, Access::Listen, &closed),
            Err(Error::Unauthenticated)
        ));
        assert!(ok(&Principal::Guest, Access::Listen, &open_listening));
        assert!(matches!(
            authorize(&Principal::Guest, Access::Admin, &open_listening),
            Err(Error::Unauthenticated)
        ));
        assert!(ok(&Principal::Guest, Access::Public, &closed));
        assert!(!ok(&Principal::Guest, Access::Metrics, &closed));
        assert!(ok(
            &Principal::Guest,
            Access::Metrics,
            &AccessConfig {
                open_metrics: true,
                ..AccessConfig::default()
            }
        ));
    }

    #[test]
    fn credentials_are_read_from_the_request() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let facts = |pairs: &[(&'static str, &str)]| {
            let mut headers = HeaderMap::new();
            for (k, v) in pairs {
                headers.append(*k, v.parse().unwrap());
            }
            headers
        };
        let read = |h: &HeaderMap, trusted: &[ipnet::IpNet]| RequestFacts { peer, headers: h }.credential(trusted);
        assert_eq!(read(&facts(&[]), &trusted), Credential::None);
        assert_eq!(
            read(&facts(&[("authorization", "Bearer aa_xyz")]), &trusted),
            Credential::ApiKey("aa_xyz".into())
        );
        assert_eq!(
            read(&facts(&[("cookie", "a=b; anyaudio_session=s_1")]), &trusted),
            Credential::Session("s_1".into())
        );
        assert_eq!(
            read(&facts(&[("remote-user", "ana")]), &trusted),
            Credential::RemoteUser("ana".into())
        );
        assert_eq!(
            read(&facts(&[("remote-user", "ana")]), &[]),
            Credential::None,
            "untrusted peer"
        );
        let forwarded = facts(&[("x-forwarded-for", "1.2.3.4")]);
        assert!(RequestFacts {
            peer,
            headers: &forwarded
        }
        .forwarded());
        assert!(!RequestFacts {
            peer,
            headers: &facts(&[])
        }
        .forwarded());
        assert!(check_name("ana").is_ok());
        assert!(check_name(" ana").is_err() && check_name("a:b").is_err() && check_name("").is_err());
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_nearest_untrusted_forwarded_address() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let client = |peer: &str, forwarded: &[&str]| {
            let mut headers = HeaderMap::new();
            for value in forwarded {
                headers.append("x-forwarded-for", value.parse().unwrap());
            }
            RequestFacts {
                peer: peer.parse().unwrap(),
                headers: &headers,
            }
            .client(&trusted)
            .to_string()
        };
        assert_eq!(client("10.0.0.5", &[]), "10.0.0.5");
        assert_eq!(client("10.0.0.5", &["203.0.113.9"]), "203.0.113.9");
        // What the client wrote itself is left of what the proxies added.
        assert_eq!(client("10.0.0.5", &["1.1.1.1, 203.0.113.9, 10.0.0.7"]), "203.0.113.9");
        assert_eq!(client("10.0.0.5", &["1.1.1.1", "203.0.113.9:4711"]), "203.0.113.9");
        assert_eq!(client("10.0.0.5", &["[2001:db8::1]:80"]), "2001:db8::1");
        assert_eq!(client("10.0.0.5", &["1.1.1.1, unknown"]), "10.0.0.5");
        // From anyone else the header is the client's own words.
        assert_eq!(client("198.51.100.1", &["203.0.113.9"]), "198.51.100.1");
    }

    /// Who a request with no credential is, on a server made so.
    async fn anonymous(
        loopback: bool,
        config: AccessConfig,
        users: usize,
        headers: &[(&'static str, &str)],
    ) -> Principal {
        let dir = tempfile::TempDir::new().unwrap();
        let catalog = Catalog::open(&dir.path().join("c.sqlite3"), Vec::new()).unwrap();
        // Closed with nobody to log in: a one-time password is printed (Application::build).
        let nobody_could_log_in = (!loopback || config.public_url.is_some()) && users == 0;
        let auth = Auth::new(catalog, Sealer::new([1; 32]), config, loopback);
        for i in 0..users {
            auth.add_user(format!("u{i}"), "a long password", false).await.unwrap();
        }
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().unwrap());
        }
        let facts = RequestFacts {
            peer: "127.0.0.1".parse().unwrap(),
            headers: &map,
        };
        assert_eq!(auth.needs_first_admin().await.unwrap(), nobody_could_log_in);
        auth.authenticate(Credential::None, &facts).await.unwrap()
    }

    #[tokio::test]
    async fn open_mode_is_exactly_loopback_no_user_no_proxy_settings_and_no_forwarding() {
        let none = AccessConfig::default;
        assert_eq!(anonymous(true, none(), 0, &[]).await, Principal::Local);
        // Any one of these closes it.
        assert_eq!(
            anonymous(false, none(), 0, &[]).await,
            Principal::Guest,
            "beyond loopback"
        );
        assert_eq!(anonymous(true, none(), 1, &[]).await, Principal::Guest, "a user");
        let public = AccessConfig {
            public_url: Some("https://music.example".parse().unwrap()),
            ..none()
        };
        assert_eq!(anonymous(true, public, 0, &[]).await, Principal::Guest, "--public-url");
        let proxied = AccessConfig {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..none()
        };
        assert_eq!(
            anonymous(true, proxied, 0, &[]).await,
            Principal::Guest,
            "--trusted-proxy"
        );
        for header in ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"] {
            assert_eq!(
                anonymous(true, none(), 0, &[(header, "x")]).await,
                Principal::Guest,
                "{header}"
            );
        }
    }
}
