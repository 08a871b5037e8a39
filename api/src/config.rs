//! Configuration from environment variables, validated at start.

use std::net::SocketAddr;
use std::time::Duration;

use tthc_core::db::DatabaseUrl;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The service's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TTHC_DATABASE_URL`: `sqlite://path` or `postgres://…`.
    pub database_url: DatabaseUrl,
    /// `TTHC_BIND`: address and port to listen on.
    pub bind: SocketAddr,
    /// `TTHC_JWT_SECRET` (or the file `TTHC_JWT_SECRET_FILE` names): key that signs tokens;
    /// generated and kept in the database when unset.
    pub jwt_secret: Option<String>,
    /// `TTHC_JWT_PREVIOUS_SECRETS` (comma-separated, or one per line in the file
    /// `TTHC_JWT_PREVIOUS_SECRETS_FILE` names): keys of before a rotation, still accepted to check
    /// tokens, never used to sign.
    pub jwt_previous_secrets: Vec<String>,
    /// `TTHC_ADMIN_SECRET_OUT`: the file a generated bootstrap secret is written to (mode 0600)
    /// instead of the terminal.
    pub admin_secret_out: Option<std::path::PathBuf>,
    /// `TTHC_ADMIN_CLIENT_SECRET` (or the file `TTHC_ADMIN_CLIENT_SECRET_FILE` names): secret of
    /// the bootstrap client `admin`.
    pub admin_client_secret: Option<String>,
    /// `TTHC_IDENTITY_KEY` (or the file `TTHC_IDENTITY_KEY_FILE` names): key of the identity numbers' keyed hash; required with PostgreSQL,
    /// kept in a file beside an SQLite database when unset.
    pub identity_key: Option<String>,
    /// `TTHC_CORS_ORIGINS`: comma-separated origins allowed to call the API from a browser.
    pub cors_origins: Vec<String>,
    /// `TTHC_TRUSTED_PROXIES`: comma-separated addresses of the load balancers in front of the
    /// service; a connection from one of them is limited by the address its `X-Forwarded-For`
    /// names (the nearest one not itself a proxy of these), not by the proxy's.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `TTHC_LOG`: log filter (`info`, `debug`, `tthc_api=debug,actix_web=info` …).
    pub log: String,
    /// `TTHC_LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
    /// `TTHC_TOKEN_TTL`: lifetime of access tokens, in seconds.
    pub token_ttl: Duration,
    /// `TTHC_DB_POOL_SIZE`: database connections per instance (default 4 on SQLite, 16 on
    /// PostgreSQL); also the number of threads that run database work.
    pub db_pool_size: u32,
    /// `TTHC_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Webhook delivery: `TTHC_WEBHOOK_TIMEOUT`, `TTHC_WEBHOOK_RETRY_MS`,
    /// `TTHC_WEBHOOK_ATTEMPTS`, `TTHC_DELIVERY_POLL_MS`, `TTHC_WEBHOOK_PRIVATE_NETWORKS`.
    pub webhooks: WebhookConfig,
    /// `TTHC_INDEX_UPKEEP_HOURS`: how often an instance on PostgreSQL looks for loose indexes
    /// and rebuilds them (`tthc_core::db::index_upkeep`; default 24, the first round ten
    /// minutes after start; 0 never, for deployments that run `tthc reindex` themselves).
    pub index_upkeep: Option<Duration>,
}

/// How webhooks are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `TTHC_WEBHOOK_TIMEOUT`: seconds a receiver has to answer (default 10).
    pub timeout: Duration,
    /// When to try a failed batch again, and when to give up on it (`TTHC_WEBHOOK_RETRY_MS`,
    /// the first wait, default 10 000, doubling up to an hour; `TTHC_WEBHOOK_ATTEMPTS`,
    /// default 20, about 11 hours).
    pub backoff: tthc_core::delivery::Backoff,
    /// `TTHC_DELIVERY_POLL_MS`: how often an idle deliverer looks for new changes (default
    /// 1000).
    pub poll: Duration,
    /// `TTHC_WEBHOOK_PRIVATE_NETWORKS`: `allow` lets webhooks and the relay deliver to
    /// loopback, private, link-local and other non-public addresses (a receiver on the
    /// province's own network); `deny`, the default, refuses them, so that a client cannot make
    /// the service call its own host or network (a cloud's metadata address, an admin port).
    pub private_networks: bool,
}

impl WebhookConfig {
    /// How long an instance holds a subscription it delivers. It is renewed before each request
    /// (`subscriptions::renew`), so it need only outlast one; it is kept longer than all the
    /// requests of one attempt, each waiting at most the timeout, so that an attempt does not
    /// depend on its renewals arriving in time. A webhook makes two (a dead letter sent again,
    /// then the next batch); the relay to the national portal up to four (each of the two sends
    /// the portal's new dossiers and its updates apart).
    pub fn lease(&self) -> Duration {
        self.timeout * 5 + Duration::from_secs(5)
    }
}

/// A configuration variable with a bad value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    /// The variable.
    pub var: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// Minimum length of `TTHC_JWT_SECRET` and `TTHC_ADMIN_CLIENT_SECRET`.
pub const MIN_SECRET_LEN: usize = 32;

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &str| lookup(var).filter(|v| !v.trim().is_empty());
        let err = |var: &'static str, reason: String| ConfigError { var, reason };

        let database_url = DatabaseUrl::parse(
            &get("TTHC_DATABASE_URL").unwrap_or_else(|| "sqlite://tthc.db".into()),
        )
        .map_err(|r| err("TTHC_DATABASE_URL", r))?;
        let bind = get("TTHC_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|e| err("TTHC_BIND", format!("not an address:port ({e})")))?;
        // A secret is given in `VAR`, or in the file `VAR_FILE` names (a container's or systemd's
        // credentials), never both.
        let given =
            |var: &'static str, file_var: &'static str| -> Result<Option<String>, ConfigError> {
                match (get(var), get(file_var)) {
                    (Some(_), Some(_)) => {
                        Err(err(var, format!("is set, and so is {file_var}: set one")))
                    }
                    (Some(v), None) => Ok(Some(v)),
                    (None, Some(path)) => std::fs::read_to_string(path.trim())
                        .map(|text| Some(text.trim().to_owned()))
                        .map_err(|e| err(file_var, format!("cannot read {path}: {e}"))),
                    (None, None) => Ok(None),
                }
            };
        let long_enough = |var: &'static str, value: Option<String>| match value {
            Some(s) if s.len() < MIN_SECRET_LEN => Err(err(
                var,
                format!("must be at least {MIN_SECRET_LEN} characters"),
            )),
            other => Ok(other),
        };
        let secret =
            |var: &'static str, file_var: &'static str| long_enough(var, given(var, file_var)?);
        let jwt_secret = secret("TTHC_JWT_SECRET", "TTHC_JWT_SECRET_FILE")?;
        // Keys that signed tokens before a rotation: still accepted to check tokens (until the
        // operator removes them, once their tokens have expired), never used to sign.
        let jwt_previous_secrets = match given(
            "TTHC_JWT_PREVIOUS_SECRETS",
            "TTHC_JWT_PREVIOUS_SECRETS_FILE",
        )? {
            Some(list) => list
                .split([',', '\n'])
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| long_enough("TTHC_JWT_PREVIOUS_SECRETS", Some(k.to_owned())))
                .collect::<Result<Option<Vec<String>>, _>>()?
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let admin_client_secret =
            secret("TTHC_ADMIN_CLIENT_SECRET", "TTHC_ADMIN_CLIENT_SECRET_FILE")?;
        let admin_secret_out =
            get("TTHC_ADMIN_SECRET_OUT").map(|p| std::path::PathBuf::from(p.trim()));
        let identity_key = secret("TTHC_IDENTITY_KEY", "TTHC_IDENTITY_KEY_FILE")?;
        let cors_origins = get("TTHC_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if let Some(bad) = cors_origins
            .iter()
            .find(|o| *o != "*" && !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(err(
                "TTHC_CORS_ORIGINS",
                format!("{bad:?} is not an origin like https://example.gov.vn or *"),
            ));
        }
        let mut trusted_proxies = Vec::new();
        for text in get("TTHC_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let ip: std::net::IpAddr = text.parse().map_err(|_| {
                err(
                    "TTHC_TRUSTED_PROXIES",
                    format!("{text:?} is not an IP address like 10.0.0.5 or fd00::5"),
                )
            })?;
            // As the peers are compared: `::ffff:10.0.0.5` is 10.0.0.5.
            trusted_proxies.push(ip.to_canonical());
        }
        let log = get("TTHC_LOG").unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log)
            .map_err(|e| err("TTHC_LOG", format!("not a log filter ({e})")))?;
        let log_format = match get("TTHC_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(err(
                    "TTHC_LOG_FORMAT",
                    format!("must be text or json, not {other:?}"),
                ));
            }
        };
        let number =
            |var: &'static str, default: u64, min: u64, max: u64| -> Result<u64, ConfigError> {
                match get(var) {
                    None => Ok(default),
                    Some(v) => v
                        .trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|n| (min..=max).contains(n))
                        .ok_or_else(|| {
                            err(var, format!("must be a whole number from {min} to {max}"))
                        }),
                }
            };
        let token_ttl = Duration::from_secs(number("TTHC_TOKEN_TTL", 3600, 60, 86_400)?);
        // SQLite work is CPU-bound on this machine: a few connections keep the cores busy, and
        // more only add threads to schedule. PostgreSQL waits on the network: more help.
        let default_pool = match database_url.backend {
            tthc_core::db::Backend::Sqlite => 4,
            tthc_core::db::Backend::Postgres => 16,
        };
        let db_pool_size = u32::try_from(number("TTHC_DB_POOL_SIZE", default_pool, 1, 1000)?)
            .map_err(|_| err("TTHC_DB_POOL_SIZE", "too large".into()))?;
        let workers = match get("TTHC_WORKERS") {
            None => None,
            Some(_) => Some(
                usize::try_from(number("TTHC_WORKERS", 1, 1, 512)?)
                    .map_err(|_| err("TTHC_WORKERS", "too large".into()))?,
            ),
        };
        let retry = Duration::from_millis(number("TTHC_WEBHOOK_RETRY_MS", 10_000, 10, 3_600_000)?);
        let webhooks = WebhookConfig {
            timeout: Duration::from_secs(number("TTHC_WEBHOOK_TIMEOUT", 10, 1, 300)?),
            backoff: tthc_core::delivery::Backoff {
                base: retry,
                cap: retry.max(Duration::from_secs(3600)),
                max_attempts: u32::try_from(number("TTHC_WEBHOOK_ATTEMPTS", 20, 1, 100)?)
                    .map_err(|_| err("TTHC_WEBHOOK_ATTEMPTS", "too large".into()))?,
            },
            poll: Duration::from_millis(number("TTHC_DELIVERY_POLL_MS", 1000, 20, 60_000)?),
            private_networks: match get("TTHC_WEBHOOK_PRIVATE_NETWORKS").as_deref() {
                None | Some("deny") => false,
                Some("allow") => true,
                Some(_) => {
                    return Err(err(
                        "TTHC_WEBHOOK_PRIVATE_NETWORKS",
                        "must be allow or deny".into(),
                    ));
                }
            },
        };
        let index_upkeep = match number("TTHC_INDEX_UPKEEP_HOURS", 24, 0, 8760)? {
            0 => None,
            hours => Some(Duration::from_secs(hours * 3600)),
        };
        Ok(Self {
            webhooks,
            index_upkeep,
            database_url,
            bind,
            jwt_secret,
            jwt_previous_secrets,
            admin_secret_out,
            admin_client_secret,
            identity_key,
            cors_origins,
            trusted_proxies,
            log,
            log_format,
            token_ttl,
            db_pool_size,
            workers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_give_sqlite_on_localhost() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url.target, "tthc.db");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.token_ttl, Duration::from_secs(3600));
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.webhooks.timeout, Duration::from_secs(10));
        assert_eq!(c.webhooks.backoff.max_attempts, 20);
        assert_eq!(c.webhooks.lease(), Duration::from_secs(55));
        assert_eq!(c.index_upkeep, Some(Duration::from_secs(24 * 3600)));
        let off = config(&[("TTHC_INDEX_UPKEEP_HOURS", "0")]).unwrap();
        assert_eq!(off.index_upkeep, None);
        assert!(!c.webhooks.private_networks);
        let inside = config(&[("TTHC_WEBHOOK_PRIVATE_NETWORKS", "allow")]).unwrap();
        assert!(inside.webhooks.private_networks);
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases: &[(&str, &str)] = &[
            ("TTHC_DATABASE_URL", "mysql://x"),
            ("TTHC_BIND", "localhost"),
            ("TTHC_JWT_SECRET", "short"),
            ("TTHC_ADMIN_CLIENT_SECRET", "short"),
            ("TTHC_IDENTITY_KEY", "short"),
            ("TTHC_CORS_ORIGINS", "example.com"),
            ("TTHC_LOG", "[["),
            ("TTHC_LOG_FORMAT", "xml"),
            ("TTHC_TOKEN_TTL", "0"),
            ("TTHC_DB_POOL_SIZE", "many"),
            ("TTHC_WORKERS", "-1"),
            ("TTHC_WEBHOOK_TIMEOUT", "0"),
            ("TTHC_INDEX_UPKEEP_HOURS", "-2"),
            ("TTHC_WEBHOOK_RETRY_MS", "1"),
            ("TTHC_WEBHOOK_ATTEMPTS", "101"),
            ("TTHC_DELIVERY_POLL_MS", "soon"),
            ("TTHC_WEBHOOK_PRIVATE_NETWORKS", "yes"),
            ("TTHC_JWT_SECRET_FILE", "/no/such/file"),
            ("TTHC_JWT_PREVIOUS_SECRETS", "short"),
        ];
        for (var, value) in cases {
            let e = config(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, *var, "{value}");
        }
    }

    #[test]
    fn origins_are_split_and_trimmed() {
        let c = config(&[(
            "TTHC_CORS_ORIGINS",
            "https://a.gov.vn, http://localhost:5173",
        )])
        .unwrap();
        assert_eq!(
            c.cors_origins,
            ["https://a.gov.vn", "http://localhost:5173"]
        );
    }

    #[test]
    fn secrets_come_from_files_and_rotated_keys_are_listed() {
        let dir = std::env::temp_dir().join(format!("tthc-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("jwt");
        std::fs::write(&key, "a-key-from-a-file-of-32-characters-or-more\n").unwrap();
        let previous = dir.join("previous");
        std::fs::write(
            &previous,
            "an-old-key-of-at-least-32-characters-1\n\nan-old-key-of-at-least-32-characters-2\n",
        )
        .unwrap();
        let key_path = key.to_string_lossy().into_owned();
        let previous_path = previous.to_string_lossy().into_owned();
        let c = config(&[
            ("TTHC_JWT_SECRET_FILE", &key_path),
            ("TTHC_JWT_PREVIOUS_SECRETS_FILE", &previous_path),
            ("TTHC_ADMIN_SECRET_OUT", "/run/tthc/admin.secret"),
        ])
        .unwrap();
        // Trimmed of the file's line end.
        assert_eq!(
            c.jwt_secret.as_deref(),
            Some("a-key-from-a-file-of-32-characters-or-more")
        );
        assert_eq!(
            c.jwt_previous_secrets,
            [
                "an-old-key-of-at-least-32-characters-1",
                "an-old-key-of-at-least-32-characters-2"
            ]
        );
        assert_eq!(
            c.admin_secret_out.as_deref(),
            Some(std::path::Path::new("/run/tthc/admin.secret"))
        );
        // The variable and its file together are ambiguous.
        let both = config(&[
            (
                "TTHC_JWT_SECRET",
                "a-key-in-a-variable-of-32-characters-at-least",
            ),
            ("TTHC_JWT_SECRET_FILE", &key_path),
        ])
        .unwrap_err();
        assert_eq!(both.var, "TTHC_JWT_SECRET");
        let listed = config(&[(
            "TTHC_JWT_PREVIOUS_SECRETS",
            "an-old-key-of-at-least-32-characters-1, an-old-key-of-at-least-32-characters-2",
        )])
        .unwrap();
        assert_eq!(listed.jwt_previous_secrets.len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
