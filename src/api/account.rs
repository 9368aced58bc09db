//! Who may do what (the `access` middleware in front of every route), and the account
//! routes: logging in and out, one's own password and API keys, and (admins) the users.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{client_addr, ApiJson, ApiPath, ClientAddr};
use super::AppState;
use crate::auth::{
    access_for, authorize, Access, Principal, RequestFacts, Via, SECURE_SESSION_COOKIE, SESSION_COOKIE, SESSION_TTL,
};
use crate::catalog::accounts::RemoveUser;
use crate::error::{Error, ErrorBody};
use crate::model::{ApiKey, User};

/// In front of every route: what the route needs ([`access_for`]), who is asking, and whether
/// they may. The [`Principal`] goes on to the handler.
pub async fn access(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let needs = access_for(request.method(), request.uri().path());
    if needs == Access::Public {
        return next.run(request).await;
    }
    let facts = RequestFacts {
        peer: client_addr(request.extensions()),
        headers: request.headers(),
    };
    let credential = facts.credential(&state.auth.config().trusted_proxies);
    let via = credential.via();
    let decided = match state.auth.authenticate(credential, &facts).await {
        Ok(principal) => authorize(&principal, needs, state.auth.config()).map(|()| principal),
        Err(e) => Err(e),
    };
    match decided {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            request.extensions_mut().insert(via);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct Login {
    pub name: String,
    pub password: String,
}

/// Who the client is.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// `open`: the server is open on loopback (no users yet) and this is the person at the
    /// machine; `user`: logged in; `guest`: listening without a login (`--open-listening`).
    pub mode: &'static str,
    pub user: Option<User>,
    /// May scan, add sources and imports, and manage users.
    pub admin: bool,
}

impl Me {
    fn of(principal: &Principal) -> Me {
        match principal {
            Principal::Local => Me {
                mode: "open",
                user: None,
                admin: true,
            },
            Principal::User(user) => Me {
                mode: "user",
                admin: user.admin,
                user: Some(user.clone()),
            },
            Principal::Guest => Me {
                mode: "guest",
                user: None,
                admin: false,
            },
        }
    }
}

/// `anyaudio_session=…; HttpOnly; SameSite=Strict`; over https `__Host-anyaudio_session=…` and
/// `Secure`.
fn session_cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let (name, secure) = if secure {
        (SECURE_SESSION_COOKIE, "; Secure")
    } else {
        (SESSION_COOKIE, "")
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("a cookie of URL-safe characters")
}

/// Logs in with a name and password; the answer sets the session cookie the web player uses.
/// Attempts are rate-limited per client address and per name (429 with Retry-After).
#[utoipa::path(post, path = "/api/v1/login", tag = "account", request_body = Login,
    responses((status = 200, body = Me, description = "Logged in; Set-Cookie carries the session"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody, description = "Wrong name or password"),
              (status = 429, body = ErrorBody, description = "Too many attempts")))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, Error> {
    let facts = RequestFacts {
        peer,
        headers: &headers,
    };
    let (user, token) = state.auth.login(&login.name, login.password, &facts).await?;
    tracing::info!(user = %user.name, "logged in");
    let cookie = session_cookie(&token, SESSION_TTL.as_secs(), facts.over_tls(state.auth.config()));
    let me = Me::of(&Principal::User(user));
    Ok(([(header::SET_COOKIE, cookie)], Json(me)).into_response())
}

/// Ends this browser's session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "account", responses((status = 204, description = "Logged out; the cookie is cleared")))]
pub async fn logout(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let facts = RequestFacts {
        peer,
        headers: &headers,
    };
    // The session itself, whatever else the request carries (an API key stays valid).
    if let Some(token) = facts.session_cookie() {
        state.auth.logout(&token).await?;
    }
    let cleared = session_cookie("", 0, facts.over_tls(state.auth.config()));
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cleared)]).into_response())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(Extension(principal): Extension<Principal>) -> Json<Me> {
    Json(Me::of(&principal))
}

#[derive(Deserialize, ToSchema)]
pub struct NewPassword {
    pub current: String,
    pub new: String,
}

/// Changes the logged-in user's password; their sessions end (this one too: log in again).
#[utoipa::path(put, path = "/api/v1/me/password", tag = "account", request_body = NewPassword,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Not the current password"), (status = 429, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewPassword>,
) -> Result<StatusCode, Error> {
    let user = principal.user().ok_or(Error::AccountRequired)?;
    let facts = RequestFacts {
        peer,
        headers: &headers,
    };
    state
        .auth
        .change_password(user, &facts, body.current, &body.new)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<ApiKey>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewKey {
    /// What it is for ("phone", "kodi").
    pub name: String,
    /// The user's password: a key outlives the session, so a stolen cookie (or key) alone
    /// can't make one. Not needed behind a trusted proxy's `Remote-User`.
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    pub key: ApiKey,
    /// The key itself, for `Authorization: Bearer`: shown this once, never again.
    pub secret: String,
}

#[utoipa::path(get, path = "/api/v1/me/keys", tag = "account", responses((status = 200, body = KeyList), (status = 401, body = ErrorBody)))]
pub async fn keys(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<KeyList>, Error> {
    let user = principal.user().ok_or(Error::AccountRequired)?;
    Ok(Json(KeyList {
        keys: state.catalog.api_keys(Some(user.id)).await?,
    }))
}

/// A new API key for this user (one per device or app).
#[utoipa::path(post, path = "/api/v1/me/keys", tag = "account", request_body = NewKey,
    responses((status = 201, body = CreatedKey), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "Not your password"), (status = 429, body = ErrorBody)))]
pub async fn add_key(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(via): Extension<Via>,
    ClientAddr(peer): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), Error> {
    let user = principal.user().ok_or(Error::AccountRequired)?;
    if via != Via::RemoteUser {
        let password = body
            .password
            .ok_or_else(|| Error::BadRequest("a new key needs your password".into()))?;
        let facts = RequestFacts {
            peer,
            headers: &headers,
        };
        state.auth.confirm_password(user, &facts, password).await?;
    }
    let (key, secret) = state.auth.add_key(user, body.name).await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { key, secret })))
}

#[utoipa::path(delete, path = "/api/v1/me/keys/{id}", tag = "account",
    params(("id" = String, Path, description = "The key's id, as listed")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, Error> {
    let user = principal.user().ok_or(Error::AccountRequired)?;
    if state.catalog.revoke_api_key(id.clone(), Some(user.id)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::KeyNotFound(id))
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserRequest {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub admin: bool,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "account", responses((status = 200, body = UserList), (status = 403, body = ErrorBody)))]
pub async fn users(State(state): State<AppState>) -> Result<Json<UserList>, Error> {
    Ok(Json(UserList {
        users: state.catalog.users().await?,
    }))
}

/// Adds a user (admins only; the first user of a server is always an admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "account", request_body = NewUserRequest,
    responses((status = 201, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_user(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, Json<User>), Error> {
    let user = state.auth.add_user(body.name, &body.password, body.admin).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Removes a user with their keys and sessions.
#[utoipa::path(delete, path = "/api/v1/users/{name}", tag = "account",
    params(("name" = String, Path, description = "The user's name")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "The last admin")))]
pub async fn remove_user(State(state): State<AppState>, ApiPath(name): ApiPath<String>) -> Result<StatusCode, Error> {
    match state.catalog.remove_user(name.clone(), true).await? {
        RemoveUser::Removed => Ok(StatusCode::NO_CONTENT),
        RemoveUser::NotFound => Err(Error::UserNotFound(name)),
        RemoveUser::LastAdmin => Err(Error::LastAdmin),
    }
}
