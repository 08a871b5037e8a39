//! Start-up: connect and migrate the database, settle the token key and the bootstrap client,
//! then serve HTTP.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, ErrorHandlers, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use tthc_core::db::audit::Actor;
use tthc_core::db::clients::{self, ClientInsertForm, ClientUpdateForm};
use tthc_core::db::index_upkeep::{self, Upkeep};
use tthc_core::db::{Backend, Database, StoreError, settings};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{JwtKeys, Scope, generate_secret, hash_secret, verify_secret};
use crate::config::Config;
use crate::error::{ApiError, problem_for_framework_errors};
use crate::http::MAX_JSON_BODY;
use crate::identity::IdentityKey;
use crate::middleware::{Metrics, observe};
use crate::state::AppState;
use crate::{openapi, routes};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(String);

impl From<StoreError> for StartError {
    fn from(e: StoreError) -> Self {
        Self(format!("database: {e}"))
    }
}

/// Id of the bootstrap client.
pub const ADMIN_CLIENT_ID: &str = "admin";

/// The state a started service shares, and the admin secret when one was generated now (to be
/// shown once).
pub struct Prepared {
    /// The application state.
    pub state: AppState,
    /// A freshly generated secret of the `admin` client.
    pub generated_admin_secret: Option<String>,
}

/// Opens and migrates the database, settles the token key and the `admin` client.
pub fn prepare(config: Config) -> Result<Prepared, StartError> {
    let db = open_database(&config)?;
    let secret = match &config.jwt_secret {
        Some(s) => s.clone(),
        None => {
            let mut conn = db.conn()?;
            settings::get_or_init(&mut conn, "jwt_secret", || {
                format!("{}{}", generate_secret(), generate_secret())
            })?
        }
    };
    let generated_admin_secret = ensure_admin(&db, config.admin_client_secret.as_deref())?;
    // Read after the admin client is settled: resetting its secret revokes its tokens.
    let revocations = Arc::new(crate::auth::Revocations::load(&db)?);
    let identity = identity_key(&config)?;
    let metrics = Metrics::new().map_err(|e| StartError(format!("metrics: {e}")))?;
    Ok(Prepared {
        state: AppState {
            jwt: JwtKeys::new(secret.as_bytes(), config.token_ttl)
                .with_previous(config.jwt_previous_secrets.iter().map(|k| k.as_bytes())),
            revocations,
            db,
            config: Arc::new(config),
            metrics,
            routes: Arc::new(openapi::RouteIndex::from_document(&openapi::document())),
            // One thread: it also takes sign-ins one at a time against their limits
            // (auth::sign_in), so a burst of guesses cannot pass them in flight.
            hasher: crate::auth::Hasher::start(1)
                .map_err(|e| StartError(format!("starting the hashing thread: {e}")))?,
            sign_in_limits: Arc::default(),
            identity,
            unit_paths: Arc::default(),
        },
        generated_admin_secret,
    })
}

/// The identity numbers' hashing key: `TTHC_IDENTITY_KEY`, or on SQLite a key kept in a file
/// beside the database (`tthc.db.identity-key`, made on first start, readable by its owner only),
/// so that a stolen database file alone does not hold it. PostgreSQL needs the variable: several
/// instances must share one key.
pub fn identity_key(config: &Config) -> Result<IdentityKey, StartError> {
    if let Some(key) = &config.identity_key {
        return Ok(IdentityKey::new(key.as_bytes()));
    }
    match config.database_url.backend {
        tthc_core::db::Backend::Postgres => Err(StartError(
            "TTHC_IDENTITY_KEY must be set with PostgreSQL (at least 32 characters, the same for \
             every instance); see README.md, Security"
                .into(),
        )),
        tthc_core::db::Backend::Sqlite => {
            let path = format!("{}.identity-key", config.database_url.target);
            let fail = |e: std::io::Error| StartError(format!("identity key file {path}: {e}"));
            // Twice at most: a second process starting at the same moment may make the file
            // between our read and our write; then its key, whole, is read the second time.
            for _ in 0..2 {
                match std::fs::read_to_string(&path) {
                    Ok(text) if text.trim().len() >= crate::config::MIN_SECRET_LEN => {
                        return Ok(IdentityKey::new(text.trim().as_bytes()));
                    }
                    Ok(_) => {
                        return Err(StartError(format!(
                            "identity key file {path}: shorter than {} characters",
                            crate::config::MIN_SECRET_LEN
                        )));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        let key = format!("{}{}", generate_secret(), generate_secret());
                        match publish_private(&path, &key) {
                            Ok(()) => {
                                tracing::info!(%path, "identity key generated; back it up with the database");
                                return Ok(IdentityKey::new(key.as_bytes()));
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                            Err(e) => return Err(fail(e)),
                        }
                    }
                    Err(e) => return Err(fail(e)),
                }
            }
            Err(StartError(format!(
                "identity key file {path}: made and gone again while starting"
            )))
        }
    }
}

/// Makes the file `path`, readable by its owner only, holding `text`, unless it exists
/// (`AlreadyExists`). It appears whole or not at all: written under a name of its own first,
/// then linked to `path`, which fails if `path` exists, so that a process starting beside this
/// one never reads it half-written. Where the file system makes no hard links (some network and
/// FUSE ones), it is written in place, as before: a process starting at the same moment may
/// then read it half-written.
fn publish_private(path: &str, text: &str) -> std::io::Result<()> {
    let draft = format!("{path}.{}-{}.new", std::process::id(), generate_secret());
    write_private(&draft, text)?;
    let linked = std::fs::hard_link(&draft, path);
    // The draft goes either way; the key lives on under `path` when it was linked.
    let _ = std::fs::remove_file(&draft);
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => write_private(path, text),
        linked => linked,
    }?;
    // The link is made durable with its directory, since the database may soon hold hashes
    // made with the key. Some file systems refuse to sync a directory; the key is in place.
    #[cfg(unix)]
    if let Some(dir) = std::path::Path::new(path).parent() {
        let dir = if dir.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            dir
        };
        if let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
            tracing::warn!(error = %e, "could not flush the identity key file's directory");
        }
    }
    Ok(())
}

/// Writes the new file `path`, readable by its owner only, and flushes it to disk; removes it
/// again when that fails, so that no part of it is left for a later start to read.
fn write_private(path: &str, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// Opens the database and applies pending migrations.
pub fn open_database(config: &Config) -> Result<Database, StartError> {
    let db = Database::open(&config.database_url, config.db_pool_size)?;
    let applied = db.migrate()?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    match db.messages_untranslated() {
        Ok(Ok(())) => {}
        Ok(Err(setting)) => tracing::warn!(
            lc_messages = %setting,
            "PostgreSQL's messages may not be in English and this role may not change that: a \
             write waiting past the lock timeout would be answered 500 instead of 503; run \
             ALTER ROLE <role> SET lc_messages = 'C' as a superuser, then restart tthc"
        ),
        Err(e) => tracing::warn!(error = %e, "could not read PostgreSQL's lc_messages"),
    }
    Ok(db)
}

/// Makes sure the `admin` client exists with every scope and every unit. Its secret is
/// `TTHC_ADMIN_CLIENT_SECRET` when set (reset to it if it differs, and the client enabled again
/// if it was disabled: the operator can always recover it); otherwise one is generated on first
/// start and returned, to be shown once.
pub fn ensure_admin(db: &Database, configured: Option<&str>) -> Result<Option<String>, StartError> {
    let mut conn = db.conn()?;
    let actor = Actor::system("bootstrap admin client");
    let scopes: Vec<String> = Scope::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    let hash = |s: &str| hash_secret(s).map_err(|e| StartError(e.to_string()));
    match clients::find_row(&mut conn, ADMIN_CLIENT_ID)? {
        None => {
            let secret = configured.map_or_else(generate_secret, str::to_owned);
            let form = ClientInsertForm {
                id: ADMIN_CLIENT_ID.into(),
                name: "Administrator (bootstrap)".into(),
                secret_hash: hash(&secret)?,
                scopes,
                units: Vec::new(),
                all_units: true,
            };
            match clients::create(&mut conn, &actor, &form) {
                Ok(_) => Ok(configured.is_none().then_some(secret)),
                // Another instance created it at the same moment; its secret stands.
                Err(StoreError::Conflict(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        Some(row) => {
            let reset = configured.filter(|s| !verify_secret(s, &row.secret_hash));
            let scopes_differ = row
                .scopes
                .split_whitespace()
                .ne(scopes.iter().map(String::as_str));
            let reenable = configured.is_some() && row.disabled;
            if reset.is_some() || scopes_differ || !row.all_units || reenable {
                let form = ClientUpdateForm {
                    scopes: Some(scopes),
                    all_units: Some(true),
                    disabled: reenable.then_some(false),
                    secret_hash: reset.map(hash).transpose()?,
                    ..ClientUpdateForm::default()
                };
                clients::update(&mut conn, &actor, ADMIN_CLIENT_ID, &form, None)?;
            }
            Ok(None)
        }
    }
}

fn cors(origins: &[String]) -> Cors {
    // Requests from other origins are answered without CORS headers rather than refused, so
    // that same-origin callers (Swagger UI) are never blocked; browsers enforce the rest.
    let cors = Cors::default()
        .block_on_origin_mismatch(false)
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::ACCEPT,
        ])
        .allowed_header("x-audit-reason")
        .allowed_header("x-request-id")
        .allowed_header("idempotency-key")
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::ALLOW,
            header::CONTENT_DISPOSITION,
        ])
        .expose_headers(["x-request-id", "idempotent-replayed"])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        return cors.allow_any_origin();
    }
    origins
        .iter()
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}

/// Builds the HTTP server on `listener`, and starts this instance's webhook deliverer, its
/// reading of revoked tokens and, on PostgreSQL, its index upkeep. All run on the current actix system, the server when awaited;
/// the others stop with the system.
pub fn build_server(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let deliverer =
        crate::webhooks::deliverer::Deliverer::new(state.db.clone(), state.config.webhooks)
            .map_err(std::io::Error::other)?;
    actix_web::rt::spawn(Arc::new(deliverer).run());
    if let Err(e) = state.revocations.refresh(&state.db) {
        tracing::warn!(error = %e, "reading the revoked tokens failed");
    }
    actix_web::rt::spawn(state.revocations.clone().keep_current(state.db.clone()));
    if let Some(every) = state.config.index_upkeep
        && state.db.backend() == Backend::Postgres
    {
        actix_web::rt::spawn(keep_indexes_compact(state.db.clone(), every));
    }
    let doc = openapi::document();
    let workers = state.config.workers;
    let pool_size = state.config.db_pool_size as usize;
    let origins = state.config.cors_origins.clone();
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        // The document's route comes before the /api/v1 scope: a scope answers every path
        // under its prefix, so routes registered after it there are never reached.
        let (app, _) = App::new()
            .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", doc.clone()))
            .route("/docs", web::get().to(redirect_to_docs))
            .into_utoipa_app()
            .configure(routes::configure)
            .split_for_parts();
        app.app_data(data.clone())
            .app_data(web::PayloadConfig::new(MAX_JSON_BODY))
            .default_service(web::to(no_route))
            .wrap(from_fn(crate::idempotency::replay))
            .wrap(from_fn(crate::middleware::refuse_control_characters))
            .wrap(from_fn(crate::middleware::conditional_get))
            .wrap(Compress::default())
            .wrap(cors(&origins))
            .wrap(ErrorHandlers::new().default_handler(problem_for_framework_errors))
            .wrap(from_fn(crate::middleware::security_headers))
            .wrap(from_fn(observe))
    })
    .listen(listener)?;
    let workers = workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    // Database work runs on each worker's blocking threads, and needs a pooled connection:
    // threads beyond the pool only wait for one, and on a small machine their scheduling was
    // what stretched the slowest answers under load.
    server = server
        .workers(workers)
        .worker_max_blocking_threads((pool_size / workers).max(1));
    Ok(server.run())
}

/// How long after start an instance first looks for loose indexes: after a start's own load
/// (migrations, the demo), and soon enough to finish a round a restart interrupted.
const FIRST_UPKEEP: Duration = Duration::from_secs(600);

/// Rounds of index upkeep, the first [`FIRST_UPKEEP`] after start, then every `every`; when
/// another instance is in a round, this one skips it. Each round runs on a thread of its own,
/// not the runtime's blocking pool: the runtime waits for its blocking tasks when it shuts
/// down, and a rebuild at the country's size takes minutes, which would hold a stopping
/// instance past its supervisor's patience. Stopped mid-round, the process exits without it.
async fn keep_indexes_compact(db: Database, every: Duration) {
    let mut wait = FIRST_UPKEEP.min(every);
    loop {
        actix_web::rt::time::sleep(wait).await;
        wait = every;
        let db = db.clone();
        let (done, round) = tokio::sync::oneshot::channel();
        let started = std::thread::Builder::new()
            .name("index-upkeep".into())
            .spawn(move || {
                let _ = done.send(index_upkeep::keep_compact(
                    &db,
                    &index_upkeep::Policy::default(),
                ));
            });
        if let Err(e) = started {
            tracing::warn!(error = %e, "index upkeep could not start");
            continue;
        }
        match round.await {
            Ok(Ok(Upkeep::Done {
                dropped,
                rebuilt,
                failed,
            })) => {
                for index in dropped {
                    tracing::info!(%index, "dropped an interrupted index rebuild's leftover");
                }
                for r in rebuilt {
                    tracing::info!(
                        index = %r.name,
                        bytes_before = r.bytes_before,
                        bytes_after = r.bytes_after,
                        seconds = r.took.as_secs_f64(),
                        "rebuilt a loose index"
                    );
                }
                for (index, error) in failed {
                    tracing::warn!(%index, %error, "rebuilding a loose index failed");
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "index upkeep failed"),
            Err(e) => tracing::warn!(error = %e, "index upkeep stopped"),
        }
    }
}

async fn redirect_to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// Requests no route takes: 405 with `Allow` when the path exists with other methods, else 404
/// (also when it takes this method, but a path parameter is not of its form, such as a decision
/// id that is not a number).
async fn no_route(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let allow = state.routes.allow(req.path());
    if allow
        .as_deref()
        .is_some_and(|methods| methods.split(", ").any(|m| m == req.method().as_str()))
    {
        return Err(ApiError::NotFound(format!("no resource at {}", req.path())));
    }
    let allow = allow.or_else(|| {
        // Paths outside the document (Swagger UI's) are read-only.
        req.resource_map()
            .has_resource(req.path())
            .then(|| "GET".to_owned())
    });
    Err(match allow {
        Some(allow) => ApiError::MethodNotAllowed {
            detail: format!("{} is not allowed on {}", req.method(), req.path()),
            allow,
        },
        None => ApiError::NotFound(format!("no resource at {}", req.path())),
    })
}

/// Prepares and serves until the process is stopped.
pub async fn serve(prepared: Prepared) -> Result<(), StartError> {
    let bind = prepared.state.config.bind;
    let listener =
        TcpListener::bind(bind).map_err(|e| StartError(format!("TTHC_BIND {bind}: {e}")))?;
    tracing::info!(%bind, docs = %format!("http://{bind}/docs/"), "tthc is listening");
    build_server(prepared.state, listener)
        .map_err(|e| StartError(format!("starting the HTTP server: {e}")))?
        .await
        .map_err(|e| StartError(format!("HTTP server: {e}")))
}
