//! Users, API keys and web sessions, as rows. What is stored is already hashed or sealed by
//! the layer above (`auth`): this module never sees a password, a key or a cookie in clear.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::Catalog;
use crate::model::{unix_now, ApiKey, User, UserId};

/// A user to add: the password already hashed (argon2id) and sealed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub admin: bool,
    pub password_hash: String,
    pub password_sealed: Vec<u8>,
}

/// What checking a password needs.
#[derive(Debug, Clone)]
pub struct StoredPassword {
    pub user: User,
    pub hash: String,
    pub sealed: Vec<u8>,
}

/// Why a user could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("a user named {0:?} exists")]
    Taken(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A key's `last_used_at` is precise to this many seconds (written at most this often).
const LAST_USED_STEP: i64 = 60;

const USER_COLUMNS: &str = "users.id, users.name, users.admin, users.created_at";

fn user(row: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId(row.get(0)?),
        name: row.get(1)?,
        admin: row.get(2)?,
        created_at: row.get::<_, i64>(3)? as u64,
    })
}

fn api_key(row: &Row) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: row.get(0)?,
        user: row.get(1)?,
        name: row.get(2)?,
        created_at: row.get::<_, i64>(3)? as u64,
        last_used_at: row.get::<_, Option<i64>>(4)?.map(|t| t as u64),
    })
}

fn user_named(conn: &Connection, name: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
        [name],
        user,
    )
    .optional()
}

impl Catalog {
    pub async fn user_count(&self) -> anyhow::Result<u64> {
        self.read(|conn| Ok(conn.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))? as u64))
            .await
    }

    /// Adds a user; the first one is always an admin (someone must be able to add the rest).
    pub async fn add_user(&self, new: NewUser) -> Result<User, AddUserError> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            if user_named(&tx, &new.name)?.is_some() {
                return Ok(Err(AddUserError::Taken(new.name)));
            }
            let first = tx.query_row("SELECT count(*) = 0 FROM users", [], |r| r.get::<_, bool>(0))?;
            tx.execute(
                "INSERT INTO users (name, password_hash, password_sealed, admin, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![new.name, new.password_hash, new.password_sealed, new.admin || first, unix_now() as i64],
            )?;
            let added = user_named(&tx, &new.name)?.expect("just added");
            tx.commit()?;
            Ok(Ok(added))
        })
        .await?
    }

    pub async fn users(&self) -> anyhow::Result<Vec<User>> {
        self.read(|conn| {
            let mut statement = conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
            let users = statement.query_map([], user)?.collect::<rusqlite::Result<_>>()?;
            Ok(users)
        })
        .await
    }

    pub async fn user_by_name(&self, name: String) -> anyhow::Result<Option<User>> {
        self.read(move |conn| Ok(user_named(conn, &name)?)).await
    }

    pub async fn stored_password(&self, name: String) -> anyhow::Result<Option<StoredPassword>> {
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {USER_COLUMNS}, password_hash, password_sealed FROM users WHERE name = ?1"),
                    [name],
                    |row| {
                        Ok(StoredPassword {
                            user: user(row)?,
                            hash: row.get(4)?,
                            sealed: row.get(5)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    /// Removes a user with their keys and sessions; false if there was none. The last admin
    /// stays (refused), so the server never loses its administrator.
    /// Removes a user with their keys and sessions. The only admin stays while others remain;
    /// with `keep_an_admin`, always (through the API: a closed server would have nobody to run
    /// it until a restart printed a one-time password).
    pub async fn remove_user(&self, name: String, keep_an_admin: bool) -> anyhow::Result<RemoveUser> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let Some(found) = user_named(&tx, &name)? else {
                return Ok(RemoveUser::NotFound);
            };
            let admins: i64 = tx.query_row("SELECT count(*) FROM users WHERE admin", [], |r| r.get(0))?;
            let others: i64 = tx.query_row("SELECT count(*) FROM users WHERE id != ?1", [found.id.0], |r| r.get(0))?;
            if found.admin && admins == 1 && (others > 0 || keep_an_admin) {
                return Ok(RemoveUser::LastAdmin);
            }
            tx.execute("DELETE FROM users WHERE id = ?1", [found.id.0])?;
            tx.commit()?;
            Ok(RemoveUser::Removed)
        })
        .await
    }

    /// Replaces a user's password and ends their sessions (a stolen cookie stops working).
    pub async fn set_password(&self, id: UserId, hash: String, sealed: Vec<u8>) -> anyhow::Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE users SET password_hash = ?2, password_sealed = ?3 WHERE id = ?1",
                params![id.0, hash, sealed],
            )?;
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id.0])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn add_api_key(
        &self,
        owner: UserId,
        id: String,
        name: String,
        secret_hash: [u8; 32],
    ) -> anyhow::Result<ApiKey> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO api_keys (id, user_id, name, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, owner.0, name, secret_hash.as_slice(), unix_now() as i64],
            )?;
            Ok(conn.query_row(&key_query("api_keys.id = ?1"), [&id], api_key)?)
        })
        .await
    }

    /// Every key, or one user's.
    pub async fn api_keys(&self, owner: Option<UserId>) -> anyhow::Result<Vec<ApiKey>> {
        self.read(move |conn| {
            let mut statement = conn.prepare(&key_query("?1 IS NULL OR api_keys.user_id = ?1"))?;
            let keys = statement
                .query_map([owner.map(|o| o.0)], api_key)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(keys)
        })
        .await
    }

    /// Revokes a key (one of `owner`'s only, if given); false if there was no such key.
    pub async fn revoke_api_key(&self, id: String, owner: Option<UserId>) -> anyhow::Result<bool> {
        self.write(move |conn| {
            Ok(conn.execute(
                "DELETE FROM api_keys WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)",
                params![id, owner.map(|o| o.0)],
            )? > 0)
        })
        .await
    }

    /// The user a key belongs to, noting its use.
    /// The owner of the key with this digest. Read on the reading pool; when the key was last
    /// used is written at most once a minute, so an app's requests seldom wait for the writer
    /// (a scan's batches).
    pub async fn user_by_api_key(&self, secret_hash: [u8; 32]) -> anyhow::Result<Option<User>> {
        let now = unix_now() as i64;
        let found = self
            .read(move |conn| {
                Ok(conn
                    .query_row(
                        &format!(
                            "SELECT {USER_COLUMNS}, api_keys.last_used_at FROM api_keys
                             JOIN users ON users.id = api_keys.user_id WHERE secret_hash = ?1"
                        ),
                        [secret_hash.as_slice()],
                        |row| Ok((user(row)?, row.get::<_, Option<i64>>(4)?)),
                    )
                    .optional()?)
            })
            .await?;
        let Some((owner, last_used)) = found else {
            return Ok(None);
        };
        if last_used.is_none_or(|t| now - t >= LAST_USED_STEP) {
            self.write(move |conn| {
                conn.execute(
                    "UPDATE api_keys SET last_used_at = ?2 WHERE secret_hash = ?1",
                    params![secret_hash.as_slice(), now],
                )?;
                Ok(())
            })
            .await?;
        }
        Ok(Some(owner))
    }

    pub async fn add_session(&self, token_hash: [u8; 32], owner: UserId, expires_at: u64) -> anyhow::Result<()> {
        self.write(move |conn| {
            let now = unix_now() as i64;
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_hash.as_slice(), owner.0, now, expires_at as i64],
            )?;
            Ok(())
        })
        .await
    }

    /// The user of a session that has not expired.
    pub async fn user_by_session(&self, token_hash: [u8; 32]) -> anyhow::Result<Option<User>> {
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {USER_COLUMNS} FROM sessions JOIN users ON users.id = sessions.user_id
                         WHERE token_hash = ?1 AND expires_at > ?2"
                    ),
                    params![token_hash.as_slice(), unix_now() as i64],
                    user,
                )
                .optional()?)
        })
        .await
    }

    pub async fn remove_session(&self, token_hash: [u8; 32]) -> anyhow::Result<()> {
        self.write(move |conn| {
            conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash.as_slice()])?;
            Ok(())
        })
        .await
    }

    /// A consistent copy of the whole catalog at `to`, made while it stays in use (SQLite's
    /// online backup, in one step: WAL readers never block the writer). Written beside `to` and
    /// renamed over it, so a failed backup leaves no half file.
    pub async fn backup_to(&self, to: std::path::PathBuf) -> anyhow::Result<()> {
        self.read(move |conn| {
            let partial = to.with_extension("partial");
            // It holds password hashes and their sealed copies: the owner's alone, from the start.
            let _ = std::fs::remove_file(&partial);
            {
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                options.open(&partial)?;
            }
            let mut copy = Connection::open(&partial)?;
            let result = rusqlite::backup::Backup::new(conn, &mut copy).and_then(|backup| loop {
                // -1: every page in one step (`run_to_completion` insists on a positive count).
                match backup.step(-1)? {
                    rusqlite::backup::StepResult::Done => break Ok(()),
                    _ => std::thread::sleep(std::time::Duration::from_millis(20)),
                }
            });
            drop(copy);
            if let Err(e) = result {
                let _ = std::fs::remove_file(&partial);
                return Err(e.into());
            }
            std::fs::rename(&partial, &to)?;
            Ok(())
        })
        .await
    }
}

fn key_query(filter: &str) -> String {
    format!(
        "SELECT api_keys.id, users.name, api_keys.name, api_keys.created_at, api_keys.last_used_at
         FROM api_keys JOIN users ON users.id = api_keys.user_id WHERE {filter} ORDER BY api_keys.created_at, api_keys.id"
    )
}

/// What removing a user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveUser {
    Removed,
    NotFound,
    /// The only admin (while other users remain, or always when asked to keep one).
    LastAdmin,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(name: &str, admin: bool) -> NewUser {
        NewUser {
            name: name.into(),
            admin,
            password_hash: format!("hash-of-{name}"),
            password_sealed: vec![1, 2, 3],
        }
    }

    async fn catalog() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::TempDir::new().unwrap();
        let catalog = Catalog::open(&dir.path().join("c.sqlite3"), Vec::new()).unwrap();
        (dir, catalog)
    }

    #[tokio::test]
    async fn users_keys_and_sessions_live_and_die_together() {
        let (_dir, catalog) = catalog().await;
        let first = catalog.add_user(new_user("ana", false)).await.unwrap();
        assert!(first.admin, "the first user is an admin");
        let second = catalog.add_user(new_user("bo", false)).await.unwrap();
        assert!(!second.admin);
        assert!(matches!(
            catalog.add_user(new_user("ANA", false)).await,
            Err(AddUserError::Taken(_))
        ));
        let key = catalog
            .add_api_key(second.id, "k1".into(), "phone".into(), [7; 32])
            .await
            .unwrap();
        assert_eq!((key.user.as_str(), key.last_used_at), ("bo", None));
        assert_eq!(catalog.user_by_api_key([7; 32]).await.unwrap(), Some(second.clone()));
        assert!(catalog.api_keys(Some(second.id)).await.unwrap()[0]
            .last_used_at
            .is_some());
        assert_eq!(catalog.user_by_api_key([8; 32]).await.unwrap(), None);
        catalog.add_session([9; 32], second.id, unix_now() + 60).await.unwrap();
        catalog.add_session([10; 32], second.id, unix_now() - 1).await.unwrap();
        assert_eq!(catalog.user_by_session([9; 32]).await.unwrap(), Some(second.clone()));
        assert_eq!(catalog.user_by_session([10; 32]).await.unwrap(), None, "expired");

        assert!(
            !catalog.revoke_api_key("k1".into(), Some(first.id)).await.unwrap(),
            "not ana's"
        );
        assert_eq!(
            catalog.remove_user("ana".into(), false).await.unwrap(),
            RemoveUser::LastAdmin
        );
        assert_eq!(
            catalog.remove_user("bo".into(), false).await.unwrap(),
            RemoveUser::Removed
        );
        assert_eq!(
            catalog.user_by_api_key([7; 32]).await.unwrap(),
            None,
            "keys go with the user"
        );
        assert_eq!(catalog.user_by_session([9; 32]).await.unwrap(), None, "and sessions");
        assert_eq!(
            catalog.remove_user("bo".into(), false).await.unwrap(),
            RemoveUser::NotFound
        );
        assert_eq!(
            catalog.remove_user("ana".into(), true).await.unwrap(),
            RemoveUser::LastAdmin,
            "kept when asked, even alone"
        );
        assert_eq!(
            catalog.remove_user("ana".into(), false).await.unwrap(),
            RemoveUser::Removed
        );
    }

    #[tokio::test]
    async fn a_new_password_ends_the_sessions() {
        let (_dir, catalog) = catalog().await;
        let ana = catalog.add_user(new_user("ana", true)).await.unwrap();
        catalog.add_session([1; 32], ana.id, unix_now() + 60).await.unwrap();
        catalog.set_password(ana.id, "new".into(), vec![9]).await.unwrap();
        assert_eq!(catalog.user_by_session([1; 32]).await.unwrap(), None);
        let stored = catalog.stored_password("ana".into()).await.unwrap().unwrap();
        assert_eq!((stored.hash.as_str(), stored.sealed), ("new", vec![9]));
    }

    #[tokio::test]
    async fn a_backup_is_a_whole_catalog_that_opens() {
        let (dir, catalog) = catalog().await;
        catalog.add_user(new_user("ana", true)).await.unwrap();
        let copy = dir.path().join("copy.sqlite3");
        std::fs::write(&copy, b"an older copy").unwrap();
        catalog.backup_to(copy.clone()).await.unwrap();
        let reopened = Catalog::open(&copy, Vec::new()).unwrap();
        assert_eq!(reopened.users().await.unwrap()[0].name, "ana");
        assert!(!dir.path().join("copy.partial").exists());
    }
}
