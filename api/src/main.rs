//! `tthc`: the service's command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tthc_api::config::{Config, LogFormat};
use tthc_api::{demo, openapi, server};

/// tthc: control of a province's administrative procedures and its Decision 766 index.
///
/// Configuration comes from TTHC_* environment variables; see README.md.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve {
        /// Load the demo province first when it is not loaded yet.
        #[arg(long)]
        demo: bool,
        /// How many dossiers the demo year has.
        #[arg(long, default_value_t = demo::DEFAULT_DOSSIERS)]
        demo_dossiers: usize,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document (the content of openapi/openapi.json).
    Openapi,
    /// Copy the SQLite database, while the service runs, into a new file and exit.
    Backup {
        /// The new file.
        to: std::path::PathBuf,
    },
    /// Ask the running service whether it is ready (`GET /readyz` on TTHC_BIND); exit 0 if so.
    /// For container health checks, without curl in the image.
    Health,
    /// On PostgreSQL, rebuild the indexes loose enough to be worth it (what the service does
    /// every TTHC_INDEX_UPKEEP_HOURS), without blocking the running service, and exit.
    Reindex {
        /// Only list the indexes of over 1 MiB, their packed estimate, their looseness, and
        /// which a round would rebuild.
        #[arg(long)]
        dry_run: bool,
    },
    /// Load the demo province into the database and exit.
    Demo {
        /// How many dossiers the demo year has.
        #[arg(long, default_value_t = demo::DEFAULT_DOSSIERS)]
        dossiers: usize,
    },
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::new(&config.log);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("tthc: {message}");
    ExitCode::FAILURE
}

#[allow(clippy::print_stdout)] // printing is this command's job
fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve {
        demo: false,
        demo_dossiers: demo::DEFAULT_DOSSIERS,
    });
    if let Command::Openapi = command {
        print!("{}", openapi::document_json());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(format!("configuration: {e}")),
    };
    init_logging(&config);
    match command {
        Command::Backup { to } => {
            match server::open_database(&config)
                .and_then(|db| db.backup_to(&to).map_err(server::StartError::from))
            {
                Ok(()) => {
                    println!("backed up into {}", to.display());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Health => match ready(config.bind) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("not ready: {e}")),
        },
        Command::Migrate => match server::open_database(&config) {
            Ok(_) => {
                println!("migrations are up to date");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::Reindex { .. }
            if config.database_url.backend == tthc_core::db::Backend::Sqlite =>
        {
            println!("{NOTHING_ON_SQLITE}");
            ExitCode::SUCCESS
        }
        // Without migrating: a dry run of a newer binary must not change the schema.
        Command::Reindex { dry_run } => {
            match tthc_core::db::Database::open(&config.database_url, 1)
                .map_err(|e| e.to_string())
                .and_then(|db| reindex(&db, dry_run).map_err(|e| e.to_string()))
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Command::Demo { dossiers } => {
            let started = std::time::Instant::now();
            let loaded = server::open_database(&config)
                .and_then(|db| demo::load(&db, dossiers).map_err(Into::into));
            match loaded {
                Ok(s) => {
                    println!(
                        "demo province loaded in {:.1} s: {} units, {} procedures, {} announcement decisions, {} dossiers, {} petitions created, {} months closed, {} reports recorded, {} tasks assigned",
                        started.elapsed().as_secs_f64(),
                        s.units_created,
                        s.procedures_created,
                        s.decisions_created,
                        s.dossiers_created,
                        s.petitions_created,
                        s.months_closed,
                        s.reports_submitted,
                        s.tasks_created
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Serve {
            demo,
            demo_dossiers,
        } => {
            let secret_out = config.admin_secret_out.clone();
            let prepared = match server::prepare(config) {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            if let Some(secret) = &prepared.generated_admin_secret
                && let Err(e) = hand_over_admin_secret(secret, secret_out.as_deref())
            {
                return fail(e);
            }
            if demo {
                match demo::load(&prepared.state.db, demo_dossiers) {
                    Ok(s) if s.units_created > 0 => {
                        tracing::info!(
                            units = s.units_created,
                            dossiers = s.dossiers_created,
                            petitions = s.petitions_created,
                            "demo province loaded"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => return fail(format!("demo: {e}")),
                }
            }
            let system = actix_web::rt::System::new();
            match system.block_on(server::serve(prepared)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Command::Openapi => ExitCode::SUCCESS,
    }
}

/// Where a generated bootstrap secret goes, never into the log stream: the file
/// `TTHC_ADMIN_SECRET_OUT` names; else the terminal, when there is one; else the file
/// `tthc-admin.secret` in the working directory (a service's standard output is usually its
/// log). Files are created readable by the owner only, and never overwritten.
#[allow(clippy::print_stdout)] // the terminal is one of the places the secret may go
fn hand_over_admin_secret(secret: &str, out: Option<&std::path::Path>) -> Result<(), String> {
    use std::io::{IsTerminal, Write};
    let path = match out {
        Some(p) => p.to_path_buf(),
        None if std::io::stdout().is_terminal() => {
            println!(
                "Created the bootstrap client 'admin'. Its secret is shown this once:\n\n    {secret}\n\n\
                 Keep it, or set TTHC_ADMIN_CLIENT_SECRET to choose your own."
            );
            return Ok(());
        }
        None => std::path::PathBuf::from("tthc-admin.secret"),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .map_err(|e| format!("writing the bootstrap secret to {}: {e}", path.display()))?;
    writeln!(file, "{secret}")
        .map_err(|e| format!("writing the bootstrap secret to {}: {e}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "created the bootstrap client 'admin'; its secret is in the file named, readable by this user only"
    );
    Ok(())
}

/// What `tthc reindex` says on SQLite.
const NOTHING_ON_SQLITE: &str =
    "SQLite: nothing to rebuild (VACUUM compacts the whole file, offline)";

/// `tthc reindex`: one round of index upkeep, or with `dry_run` what it would judge.
#[allow(clippy::print_stdout)] // printing is this command's job
fn reindex(db: &tthc_core::db::Database, dry_run: bool) -> Result<(), tthc_core::db::StoreError> {
    use tthc_core::db::index_upkeep::{self, Policy, Upkeep};
    let policy = Policy::default();
    let mb = |bytes: f64| bytes / f64::from(1 << 20);
    if dry_run {
        // The smaller ones too, to see the estimate at work; the policy judges from 16 MiB.
        let states = index_upkeep::index_states(&mut *db.conn()?, 1 << 20)?;
        println!(
            "{:<40} {:>10} {:>10} {:>9}",
            "index (over 1 MiB)", "MiB", "packed", "looseness"
        );
        for s in states {
            let (packed, looseness) = match (s.packed, s.looseness()) {
                (Some(p), Some(l)) => (format!("{:.1}", mb(p)), format!("{l:.2}")),
                _ => ("?".into(), "not analysed".into()),
            };
            let mark = if s.is_loose(&policy) {
                "  loose: to rebuild"
            } else {
                ""
            };
            println!(
                "{:<40} {:>10.1} {packed:>10} {looseness:>9}{mark}",
                s.name,
                mb(s.bytes as f64)
            );
        }
        return Ok(());
    }
    match index_upkeep::keep_compact(db, &policy)? {
        Upkeep::NotPostgres => println!("{NOTHING_ON_SQLITE}"),
        Upkeep::Busy => println!("another instance is rebuilding indexes now; nothing done"),
        Upkeep::Done {
            dropped,
            rebuilt,
            failed,
        } => {
            for name in dropped {
                println!("dropped {name}, left by an interrupted rebuild");
            }
            for r in &rebuilt {
                println!(
                    "rebuilt {}: {:.1} → {:.1} MiB in {:.1} s",
                    r.name,
                    mb(r.bytes_before as f64),
                    mb(r.bytes_after as f64),
                    r.took.as_secs_f64()
                );
            }
            for (name, why) in &failed {
                println!("could not rebuild {name}: {why}");
            }
            if rebuilt.is_empty() && failed.is_empty() {
                println!("no index is loose enough to rebuild");
            }
        }
    }
    Ok(())
}

/// Whether the service listening on `bind` answers `GET /readyz` with 200 within 3 seconds.
fn ready(bind: std::net::SocketAddr) -> Result<(), String> {
    use std::io::{Read, Write};
    let timeout = std::time::Duration::from_secs(3);
    // A service bound to every interface answers on loopback.
    let addr = if bind.ip().is_unspecified() {
        std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), bind.port())
    } else {
        bind
    };
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).map_err(|e| e.to_string())?;
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&head).into_owned())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn a_generated_admin_secret_goes_to_its_file_for_the_owner_only_and_never_over_another() {
        let path = std::env::temp_dir().join(format!("tthc-admin-{}.secret", std::process::id()));
        let _ = std::fs::remove_file(&path);
        super::hand_over_admin_secret("the-secret", Some(&path)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "the-secret\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A second start never overwrites the first secret's file.
        assert!(super::hand_over_admin_secret("another", Some(&path)).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "the-secret\n");
        std::fs::remove_file(&path).unwrap();
    }
}
