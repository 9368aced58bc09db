//! The commands that manage a data dir without a server: `backup`, `user …`, `key …`. They
//! work on the same catalog file, so they can run beside a running server (SQLite's WAL).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::auth::Auth;
use crate::catalog::accounts::RemoveUser;
use crate::catalog::Catalog;
use crate::config::{AccessConfig, BackupArgs, DataArgs, KeyCommand, UserCommand};
use crate::error::Error;

/// The catalog of a data dir that has one: these commands never make an empty one, so that a
/// mistyped `--data-dir` is an error rather than a second, empty server.
fn existing_catalog(data: DataArgs) -> anyhow::Result<(Catalog, PathBuf)> {
    let dir = data.resolve()?;
    let path = crate::catalog::path_in(&dir);
    if !path.is_file() {
        bail!(
            "{} has no catalog: start the server once with this --data-dir, or pass the right one",
            dir.display()
        );
    }
    Ok((Catalog::open(&path, Vec::new())?, dir))
}

/// The accounts of a data dir; with `create`, a new data dir and catalog are made (the first
/// admin may be added before the server ever starts).
fn accounts(data: DataArgs, create: bool) -> anyhow::Result<Auth> {
    let (catalog, dir) = if create {
        let dir = data.resolve()?;
        crate::catalog::create_data_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        (Catalog::open(&crate::catalog::path_in(&dir), Vec::new())?, dir)
    } else {
        existing_catalog(data)?
    };
    Auth::open(catalog, &dir, AccessConfig::default(), true)
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let (catalog, dir) = existing_catalog(args.data)?;
    let file = absolute(&args.file)?;
    // Over the live catalog (or its WAL), the copy would replace the file the server has open.
    let live = crate::catalog::path_in(&dir);
    let parent_of = |p: &Path| p.parent().and_then(|d| d.canonicalize().ok());
    let same_dir = parent_of(&file).is_some() && parent_of(&file) == parent_of(&live);
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if same_dir && name.starts_with("catalog.sqlite3") {
        bail!("{} is the live catalog: write the copy elsewhere", file.display());
    }
    catalog.backup_to(file.clone()).await?;
    let (tracks, _, _) = catalog.stats().await?;
    let users = catalog.user_count().await?;
    println!(
        "wrote {} ({tracks} tracks, {users} users); keep secret.key with it to keep the passwords",
        file.display()
    );
    Ok(())
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()?.join(path)
    })
}

/// An [`Error`] of the auth layer as a command's error: its message, which is ours.
fn plain(e: Error) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            admin,
            password_stdin,
            data,
        } => {
            let auth = accounts(data, true)?;
            let password = read_password(password_stdin)?;
            let user = auth.add_user(name, &password, admin).await.map_err(plain)?;
            println!("added {}{}", user.name, if user.admin { " (admin)" } else { "" });
        }
        UserCommand::List { data } => {
            let (catalog, _) = existing_catalog(data)?;
            for user in catalog.users().await? {
                println!("{}\t{}", user.name, if user.admin { "admin" } else { "user" });
            }
        }
        UserCommand::Remove { name, data } => {
            let (catalog, _) = existing_catalog(data)?;
            match catalog.remove_user(name.clone(), false).await? {
                RemoveUser::Removed => println!("removed {name}, with their keys and sessions"),
                RemoveUser::NotFound => bail!("no user named {name:?}"),
                RemoveUser::LastAdmin => bail!("{}", Error::LastAdmin),
            }
        }
        UserCommand::Password {
            name,
            password_stdin,
            data,
        } => {
            let auth = accounts(data, false)?;
            let user = named(auth.catalog(), &name).await?;
            let password = read_password(password_stdin)?;
            auth.set_password(&user, &password).await.map_err(plain)?;
            println!("set the password of {}; their sessions ended", user.name);
        }
    }
    Ok(())
}

pub async fn key(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Add { user, name, data } => {
            let auth = accounts(data, false)?;
            let owner = named(auth.catalog(), &user).await?;
            let (key, secret) = auth.add_key(&owner, name).await.map_err(plain)?;
            eprintln!(
                "key {} for {} (shown once; send it as `Authorization: Bearer …`):",
                key.id, key.user
            );
            println!("{secret}");
        }
        KeyCommand::List { user, data } => {
            let (catalog, _) = existing_catalog(data)?;
            let owner = match user {
                Some(name) => Some(named(&catalog, &name).await?.id),
                None => None,
            };
            for key in catalog.api_keys(owner).await? {
                let used = key
                    .last_used_at
                    .map_or("never used".to_owned(), |t| format!("last used {t}"));
                println!("{}\t{}\t{}\t{used}", key.id, key.user, key.name);
            }
        }
        KeyCommand::Revoke { id, data } => {
            let (catalog, _) = existing_catalog(data)?;
            if !catalog.revoke_api_key(id.clone(), None).await? {
                bail!("no key {id:?} (see `anyaudio key list`)");
            }
            println!("revoked {id}");
        }
    }
    Ok(())
}

/// The user called `name`, or an error saying there is none.
async fn named(catalog: &Catalog, name: &str) -> anyhow::Result<crate::model::User> {
    catalog
        .user_by_name(name.to_owned())
        .await?
        .with_context(|| format!("no user named {name:?}"))
}

/// A new password: the first line of stdin with `--password-stdin`, else asked twice on the
/// terminal without echo.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("password: ")?;
    let again = rpassword::prompt_password("again: ")?;
    std::io::stderr().flush()?;
    if first != again {
        bail!("the passwords differ");
    }
    Ok(first)
}
