//! Who may use the server: users (listeners or admins) and their API keys.

use serde::Serialize;
use utoipa::ToSchema;

/// A user's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// A user, as the API shows one (never a password or a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    #[serde(skip)]
    pub id: UserId,
    pub name: String,
    /// May scan, add sources and imports, and manage users.
    pub admin: bool,
    /// Unix seconds.
    pub created_at: u64,
}

/// An API key's public side: which key it is, never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiKey {
    /// What revokes it.
    pub id: String,
    pub user: String,
    /// What it is for ("phone").
    pub name: String,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
}
