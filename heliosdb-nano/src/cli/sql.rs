//! `serve` (the PostgreSQL server on an encrypted database) and
//! `user add|passwd|remove|list` (its SCRAM users, stored hashed in the
//! encrypted store). Passwords come from a prompt, or from standard input
//! when it is not a terminal; never from the command line.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use heliosdb_server::users;

use super::keysrc::{self, KeyArgs};
use super::Target;

/// `heliosdb-nano user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a server user (password from a prompt, or stdin when it is not a terminal).
    Add {
        /// User name.
        name: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Change a user's password.
    Passwd {
        /// User name.
        name: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Remove a user.
    Remove {
        /// User name.
        name: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// List the users.
    List {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        keys: KeyArgs,
    },
}

fn open(target: &Target, keys: &KeyArgs) -> anyhow::Result<heliosdb_core::StorageEngine> {
    let (path, config, from_file) = target.resolve()?;
    let storage = keysrc::open_existing(&path, &config, from_file, keys)?;
    // Users stored before verifiers held what a login can be made from:
    // any `user` command converts them (as `serve` does).
    let converted = users::migrate(&storage)?;
    if converted > 0 {
        eprintln!("converted {converted} stored user(s) to SCRAM verifiers");
    }
    Ok(storage)
}

/// Runs a `user` subcommand.
pub fn user(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add { name, target, keys } => {
            let storage = open(&target, &keys)?;
            let pw = keysrc::read_password_prompt(&format!("Password for {name}: "), true)?;
            users::add_user(&storage, &name, &pw)?;
            println!("user '{name}' added");
        }
        UserCommand::Passwd { name, target, keys } => {
            let storage = open(&target, &keys)?;
            let pw = keysrc::read_password_prompt(&format!("New password for {name}: "), true)?;
            users::set_password(&storage, &name, &pw)?;
            println!("password of '{name}' changed");
        }
        UserCommand::Remove { name, target, keys } => {
            let storage = open(&target, &keys)?;
            users::remove_user(&storage, &name)?;
            println!("user '{name}' removed");
        }
        UserCommand::List { target, keys } => {
            let storage = open(&target, &keys)?;
            for u in users::list_users(&storage)? {
                println!("{u}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `heliosdb-nano serve`: serves until Ctrl-C or SIGTERM.
pub fn serve(target: &Target, keys: &KeyArgs) -> anyhow::Result<ExitCode> {
    let (path, config, from_file) = target.resolve()?;
    let storage = Arc::new(keysrc::open_existing(&path, &config, from_file, keys)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let server = &config.server;
    eprintln!(
        "serving {} on {}:{} ({}; {})",
        path.display(),
        server.host,
        server.port,
        if server.ssl_enabled || server.ssl.enabled {
            "TLS required"
        } else {
            "no TLS"
        },
        if storage.is_encrypted() {
            "encrypted at rest"
        } else {
            "NOT encrypted at rest"
        }
    );
    rt.block_on(heliosdb_server::serve(
        storage,
        server,
        heliosdb_server::shutdown_signal(),
    ))?;
    eprintln!("server stopped");
    Ok(ExitCode::SUCCESS)
}
