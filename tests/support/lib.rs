//! Test support: a fresh database per test (SQLite file, or a PostgreSQL database when
//! `TTHC_TEST_DATABASE_URL` is set) and the real service on a loopback port.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::mpsc;

use actix_web::dev::ServerHandle;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tthc_api::config::Config;
use tthc_api::server;

pub mod bench;
pub mod contract;
pub mod receiver;

/// The key tokens are signed with in tests.
pub const JWT_SECRET: &str = "test-signing-key-0123456789abcdef0123456789";
/// The identity numbers' hashing key in tests.
pub const IDENTITY_KEY: &str = "test-identity-key-0123456789abcdef0123456";
/// The `admin` client's secret in tests.
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789abcdef012345";

/// Which backend the tests run on.
pub fn postgres_url() -> Option<String> {
    std::env::var("TTHC_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A database of its own for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    sqlite_path: Option<std::path::PathBuf>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match postgres_url() {
            Some(admin_url) => {
                let name = format!("tthc_test_{id}");
                let mut conn =
                    PgConnection::establish(&admin_url).expect("connect to TTHC_TEST_DATABASE_URL");
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap();
                let url = replace_database(&admin_url, &name);
                Self {
                    url,
                    sqlite_path: None,
                    pg: Some((admin_url, name)),
                }
            }
            None => {
                let path = std::env::temp_dir().join(format!("tthc-test-{id}.db"));
                Self {
                    url: format!("sqlite://{}", path.display()),
                    sqlite_path: Some(path),
                    pg: None,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(path) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        if let Some((admin_url, name)) = &self.pg
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The test configuration for a database URL.
pub fn config(database_url: &str) -> Config {
    let vars: HashMap<&str, &str> = HashMap::from([
        ("TTHC_DATABASE_URL", database_url),
        ("TTHC_JWT_SECRET", JWT_SECRET),
        ("TTHC_ADMIN_CLIENT_SECRET", ADMIN_SECRET),
        ("TTHC_IDENTITY_KEY", IDENTITY_KEY),
        ("TTHC_DB_POOL_SIZE", "4"),
        ("TTHC_WORKERS", "1"),
        ("TTHC_LOG", "warn"),
        // The tests' receivers listen on loopback.
        ("TTHC_WEBHOOK_PRIVATE_NETWORKS", "allow"),
    ]);
    Config::from_lookup(|k| vars.get(k).map(|v| (*v).to_owned())).unwrap()
}

/// The real service, started on a loopback port over its own database.
pub struct TestApp {
    pub base: String,
    pub db: tthc_core::db::Database,
    http: Client,
    handle: ServerHandle,
    // Dropped last: the server must stop before its database goes.
    _test_db: Option<TestDb>,
}

impl TestApp {
    /// Starts the service over a fresh database.
    pub fn spawn() -> Self {
        let test_db = TestDb::new();
        let mut app = Self::spawn_on(&test_db.url);
        app._test_db = Some(test_db);
        app
    }

    /// Starts the service over a fresh database, configured by `configure` from its URL.
    pub fn spawn_configured(configure: impl FnOnce(&str) -> Config) -> Self {
        let test_db = TestDb::new();
        let mut app = Self::spawn_with(configure(&test_db.url));
        app._test_db = Some(test_db);
        app
    }

    /// Starts another instance of the service over an existing database.
    pub fn spawn_on(database_url: &str) -> Self {
        Self::spawn_with(config(database_url))
    }

    /// Starts the service with this configuration.
    pub fn spawn_with(config: Config) -> Self {
        let prepared = server::prepare(config).expect("service prepares");
        let db = prepared.state.db.clone();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let srv = server::build_server(prepared.state, listener).unwrap();
                tx.send(srv.handle()).unwrap();
                let _ = srv.await;
            });
        });
        let handle = rx.recv().unwrap();
        Self {
            base: format!("http://127.0.0.1:{port}"),
            db,
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            handle,
            _test_db: None,
        }
    }

    /// Whether the tests run on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        postgres_url().is_some()
    }

    /// A transaction of the test's own holding what a writer in flight would hold: on
    /// PostgreSQL what `pg_lock` locks (e.g. a row, by `SELECT … FOR UPDATE`), on SQLite the
    /// write lock. Requests meanwhile wait for it; `COMMIT` on the connection releases it.
    pub fn hold(&self, pg_lock: &str) -> tthc_core::db::PooledConnection {
        let mut conn = self.db.conn().unwrap();
        if self.is_postgres() {
            conn.batch_execute(&format!("BEGIN; {pg_lock}")).unwrap();
        } else {
            conn.batch_execute("BEGIN IMMEDIATE").unwrap();
        }
        conn
    }

    /// Sends `a` and `b` at once while a transaction of the test's own holds what `pg_lock`
    /// locks ([`TestApp::hold`]), lets go once both wait for it, and returns their answers:
    /// two writers of one record in flight, deterministically interleaved on PostgreSQL.
    pub fn both_while_held(
        &self,
        pg_lock: &str,
        a: impl FnOnce() -> Reply + Send,
        b: impl FnOnce() -> Reply + Send,
    ) -> [Reply; 2] {
        let mut holder = self.hold(pg_lock);
        std::thread::scope(|s| {
            let first = s.spawn(a);
            let second = s.spawn(b);
            self.until_requests_wait(2);
            holder.batch_execute("COMMIT").unwrap();
            [first.join().unwrap(), second.join().unwrap()]
        })
    }

    /// Returns once `n` requests wait for a lock in this test's database: on PostgreSQL as
    /// `pg_locks` shows them (at most 5 s, well inside the service's lock timeout); on SQLite, which shows no waiter, after half a
    /// second.
    pub fn until_requests_wait(&self, n: i64) {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Waiting {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db.conn().unwrap();
        let tthc_core::db::DbConnection::Pg(pg) = &mut *conn else {
            std::thread::sleep(std::time::Duration::from_millis(500));
            return;
        };
        let start = std::time::Instant::now();
        while diesel::sql_query(
            "SELECT count(DISTINCT l.pid) AS n FROM pg_locks l \
             JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE NOT l.granted AND a.datname = current_database()",
        )
        .get_result::<Waiting>(pg)
        .unwrap()
        .n < n
        {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(5),
                "fewer than {n} requests wait for a lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn raw(&self) -> &Client {
        &self.http
    }

    /// A request with an optional token and JSON body.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        self.call_with(method, path, token, body, &[])
    }

    /// [`TestApp::call`] with extra request headers.
    pub fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method_name = method.as_str().to_owned();
        let mut req = self.http.request(method, self.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        Reply::checked(&method_name, req.send().unwrap())
    }

    /// A GET whose body is read as bytes (spreadsheets), asking for `accept`.
    pub fn download(
        &self,
        path: &str,
        token: &str,
        accept: &str,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .header("Accept", accept)
            .send()
            .unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.bytes().unwrap().to_vec())
    }

    pub fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body))
    }

    pub fn patch(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
    }

    /// A token for client `id`, optionally narrowed to `scope`.
    pub fn token_for(&self, id: &str, secret: &str, extra: &[(&str, &str)]) -> Reply {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ];
        form.extend_from_slice(extra);
        Reply::checked(
            "POST",
            self.http
                .post(self.url("/api/v1/auth/token"))
                .form(&form)
                .send()
                .unwrap(),
        )
    }

    /// A token of the bootstrap `admin` client (every scope, every unit).
    pub fn admin_token(&self) -> String {
        let r = self.token_for("admin", ADMIN_SECRET, &[]);
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a client with these scopes and units; returns its secret and a token.
    pub fn client(&self, id: &str, scopes: &[&str], units: &[&str]) -> (String, String) {
        let admin = self.admin_token();
        let r = self.post(
            "/api/v1/clients",
            &admin,
            &json!({"id": id, "name": id, "scopes": scopes, "units": units}),
        );
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let secret = r.body["clientSecret"].as_str().unwrap().to_owned();
        let t = self.token_for(id, &secret, &[]);
        assert_eq!(t.status, StatusCode::OK, "{}", t.body);
        (secret, t.body["access_token"].as_str().unwrap().to_owned())
    }

    /// Creates a unit as admin and asserts it was created.
    pub fn unit(&self, code: &str, level: &str, parent: Option<&str>) -> Value {
        let r = self.post(
            "/api/v1/units",
            &self.admin_token(),
            &json!({"code": code, "name": format!("Đơn vị {code}"), "level": level, "parent": parent}),
        );
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the returned future only waits for it.
        drop(self.handle.stop(false));
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl From<Response> for Reply {
    fn from(r: Response) -> Self {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            body,
        }
    }
}

impl Reply {
    /// The answer to a `method` request, checked against the OpenAPI document.
    pub fn checked(method: &str, r: Response) -> Self {
        let path = r.url().path().to_owned();
        let reply = Self::from(r);
        if let Err(e) = contract::check(
            method,
            &path,
            reply.status.as_u16(),
            reply.header("content-type"),
            &reply.text,
        ) {
            panic!(
                "the answer breaks the OpenAPI document: {e}\n{}",
                reply.text
            );
        }
        reply
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an `application/problem+json` error with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, code: &str) -> &Self {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], status.as_u16(), "{}", self.text);
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert!(
            self.body["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:tthc:problem:")
        );
        assert!(!self.body["detail"].as_str().unwrap().is_empty());
        self
    }

    /// The names of the fields refused.
    pub fn invalid_names(&self) -> Vec<String> {
        self.body["invalidParams"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub use reqwest::Method as HttpMethod;
pub use reqwest::StatusCode as Status;

/// A worksheet read back: its cells as text (numbers as Rust prints them) by absolute position,
/// and its merged ranges as `((first row, first col), (last row, last col))`.
#[derive(Debug)]
pub struct Sheet {
    pub name: String,
    pub cells: Vec<Vec<String>>,
    pub merged: Vec<((u32, u32), (u32, u32))>,
}

impl Sheet {
    /// The cell at `(row, col)`, `""` if empty.
    pub fn at(&self, row: usize, col: usize) -> &str {
        self.cells
            .get(row)
            .and_then(|r| r.get(col))
            .map_or("", String::as_str)
    }

    /// The index of the first row whose cell `col` is `text`.
    pub fn row_of(&self, col: usize, text: &str) -> Option<usize> {
        (0..self.cells.len()).find(|r| self.at(*r, col) == text)
    }
}

/// Opens an XLSX workbook with calamine (a reader independent of the writer) and reads every
/// sheet.
pub fn read_xlsx(bytes: &[u8]) -> Vec<Sheet> {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = book.sheet_names();
    names
        .iter()
        .map(|name| {
            let range = book.worksheet_range(name).unwrap();
            let (rows, cols) = range.end().map_or((0, 0), |(r, c)| (r + 1, c + 1));
            let cells = (0..rows)
                .map(|r| {
                    (0..cols)
                        .map(|c| match range.get_value((r, c)) {
                            Some(Data::String(s)) => s.clone(),
                            Some(Data::Float(f)) => f.to_string(),
                            Some(Data::Int(i)) => i.to_string(),
                            Some(Data::Empty) | None => String::new(),
                            Some(other) => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            let merged = book
                .merge_cells_by_sheet_name(name)
                .unwrap()
                .into_iter()
                .map(|d| (d.start, d.end))
                .collect();
            Sheet {
                name: name.clone(),
                cells,
                merged,
            }
        })
        .collect()
}
