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
        Command::Migrate => match server::open_database(&config) {
            Ok(_) => {
                println!("migrations are up to date");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
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
            let prepared = match server::prepare(config) {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            if let Some(secret) = &prepared.generated_admin_secret {
                println!(
                    "Created the bootstrap client 'admin'. Its secret is shown this once:\n\n    {secret}\n\n\
                     Keep it, or set TTHC_ADMIN_CLIENT_SECRET to choose your own."
                );
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
