//! A webhook receiver for the tests and benchmarks: a real HTTP server on a loopback port that
//! keeps every delivery, answers as told, and checks signatures as Standard Webhooks says. It
//! also stands in for the national portal's sync service: it answers `error_code` as the portal
//! does.

use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200 at once, with the portal's `{"error_code": 0, …}`.
    Take,
    /// 200 at once, with this `error_code` (the portal refusing).
    ErrorCode(i64),
    /// This status at once.
    Refuse(u16),
    /// This status at once, with this body.
    RefuseWith(u16, &'static str),
    /// As `Take`, after this long.
    Slowly(Duration),
    /// As `Take`, once the test calls [`Receiver::release`] (at once after that).
    WhenReleased,
    /// As `ErrorCode`, once the test calls [`Receiver::release`] (at once after that).
    ErrorCodeWhenReleased(i64),
}

/// One request received.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    /// `session` (the portal's).
    pub session: String,
    /// The body as sent.
    pub raw: Vec<u8>,
    /// The body read.
    pub body: Value,
    /// Whether it was answered 2xx.
    pub taken: bool,
    /// When it arrived.
    pub at: Instant,
    /// When it arrived (UTC).
    pub at_utc: chrono::DateTime<chrono::Utc>,
}

impl Delivery {
    /// The changes' sequence numbers.
    pub fn sequences(&self) -> Vec<i64> {
        self.body["changes"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["sequence"].as_i64()).collect())
            .unwrap_or_default()
    }

    /// Whether its signature is that of `secret` over its id, timestamp and body.
    pub fn signed_with(&self, secret: &str) -> bool {
        let Some(key) = secret
            .strip_prefix("whsec_")
            .and_then(|k| STANDARD.decode(k).ok())
        else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.", self.id, self.timestamp).as_bytes());
        mac.update(&self.raw);
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.signature.split(' ').any(|s| s == expected)
    }
}

#[derive(Default)]
struct Inner {
    answer: Option<Answer>,
    deliveries: Vec<Delivery>,
    in_flight: usize,
    max_in_flight: usize,
    /// Changes in the deliveries taken (repeats counted), kept so that waiting is cheap.
    taken_changes: usize,
    /// [`Answer::WhenReleased`] answers now.
    released: bool,
}

/// The receiver.
pub struct Receiver {
    /// Its URL.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    handle: ServerHandle,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    inner: web::Data<Arc<Mutex<Inner>>>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let answer = {
        let mut i = inner.lock().unwrap();
        i.in_flight += 1;
        i.max_in_flight = i.max_in_flight.max(i.in_flight);
        i.answer.unwrap_or(Answer::Take)
    };
    if let Answer::Slowly(d) = answer {
        actix_web::rt::time::sleep(d).await;
    }
    if matches!(
        answer,
        Answer::WhenReleased | Answer::ErrorCodeWhenReleased(_)
    ) {
        while !inner.lock().unwrap().released {
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let taken = matches!(
        answer,
        Answer::Take | Answer::Slowly(_) | Answer::WhenReleased
    );
    {
        let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let mut i = inner.lock().unwrap();
        i.in_flight -= 1;
        if taken && parsed["redelivery"] == Value::Bool(false) {
            i.taken_changes += parsed["changes"].as_array().map_or(0, Vec::len);
        }
        i.deliveries.push(Delivery {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            session: header("session"),
            body: parsed,
            raw: body.to_vec(),
            taken,
            at: Instant::now(),
            at_utc: chrono::Utc::now(),
        });
    }
    match answer {
        Answer::Refuse(status) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                .body("not now")
        }
        Answer::RefuseWith(status, body) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body(body)
        }
        Answer::ErrorCode(code) | Answer::ErrorCodeWhenReleased(code) => HttpResponse::Ok()
            .json(serde_json::json!({"error_code": code, "message": "Hệ thống đang bảo trì"})),
        _ => HttpResponse::Ok().json(serde_json::json!({"error_code": 0, "message": "Thành công"})),
    }
}

impl Receiver {
    /// Starts a receiver that takes every delivery.
    pub fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        let data = inner.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let srv = HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::new(data.clone()))
                        .app_data(web::PayloadConfig::new(64 << 20))
                        .default_service(web::to(receive))
                })
                .workers(2)
                .listen(listener)
                .unwrap()
                .run();
                tx.send(srv.handle()).unwrap();
                let _ = srv.await;
            });
        });
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            inner,
            handle: rx.recv().unwrap(),
        }
    }

    /// Answers the next deliveries so.
    pub fn answer(&self, answer: Answer) {
        self.inner.lock().unwrap().answer = Some(answer);
    }

    /// Every request so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner.lock().unwrap().deliveries.clone()
    }

    /// How many changes the deliveries taken held (a batch sent again counted again); cheap.
    pub fn taken_changes(&self) -> usize {
        self.inner.lock().unwrap().taken_changes
    }

    /// Lets the requests held by [`Answer::WhenReleased`] be answered, and those after them at
    /// once.
    pub fn release(&self) {
        self.inner.lock().unwrap().released = true;
    }

    /// The requests it is answering now (arrived, not yet answered).
    pub fn in_flight(&self) -> usize {
        self.inner.lock().unwrap().in_flight
    }

    /// The most requests it was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.inner.lock().unwrap().max_in_flight
    }

    /// The sequence numbers of the changes taken, first arrival of each, in arrival order
    /// (redeliveries of dead letters left out).
    pub fn taken_sequences(&self) -> Vec<i64> {
        let mut seen = std::collections::HashSet::new();
        self.deliveries()
            .iter()
            .filter(|d| d.taken && d.body["redelivery"] == Value::Bool(false))
            .flat_map(Delivery::sequences)
            .filter(|s| seen.insert(*s))
            .collect()
    }

    /// Waits up to `timeout` for `done` to hold of the deliveries so far.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&[Delivery]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.deliveries()) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}
