//! `Idempotency-Key` on POST: the first answer to a key is kept for 24 hours and sent again to
//! the same client when it retries with the same key and the same request, so that a vendor
//! system on a flaky link can retry any POST without doubling its effect. Only answers that the
//! request alone decides are kept ([`decided_by_the_request`]).
//!
//! The caller's token must hold the operation's scope before anything is read, claimed or
//! replayed; answers carrying a secret ([`SecretBearing`]), and those the database's state of
//! the moment decided in part ([`Undecided`]), are never kept; a key whose request
//! died unanswered is free again after [`idempotency::LEASE`]. A request whose write committed
//! but whose answer is not kept (the connection to the database lost at the commit) leaves a
//! 409 `idempotencyKeyTookEffect` under its key: its write transactions mark the key in the
//! same transaction ([`current_mark`]), so a retry never makes the change twice.

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tthc_core::InvalidParam;
use tthc_core::db::idempotency::{self, Claim, Mark, Released, StoredAnswer};

use crate::bulk::body_limit;
use crate::error::ApiError;
use crate::state::AppState;

/// The request header carrying the key.
pub const KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Logged when a request's key was taken over by a retry after its lease lapsed.
const LEASE_LOST: &str =
    "an idempotency key was no longer this request's: its lease lapsed and a retry took it";

/// The header marking a replayed answer.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

tokio::task_local! {
    /// The key the request being answered holds, for [`AppState::run`] to hand to its writes.
    static MARK: Mark;
}

/// The key of the request whose handler is running, if it holds one: its write transactions
/// mark it as having taken effect ([`idempotency::with_mark`]).
pub fn current_mark() -> Option<Mark> {
    MARK.try_with(Clone::clone).ok()
}

/// The answer kept under a key whose request took effect but failed to answer (the connection
/// to the database broke as it committed, or a failure followed its write).
async fn took_effect_answer() -> Option<StoredAnswer> {
    let res = ApiError::KeyTookEffect(InvalidParam::new(
        "Idempotency-Key",
        "the first request with this key took effect, but its answer was lost (the \
         connection to the database broke, or the request failed after its change was made): \
         read what it changed instead of sending it again",
    ))
    .error_response();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = to_bytes(res.into_body()).await.ok()?;
    Some(StoredAnswer {
        status,
        content_type,
        body: body.to_vec(),
    })
}

fn key_of(req: &ServiceRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(&KEY) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(key.to_owned()))
        }
        _ => Err(ApiError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters (a UUID, say)",
        )),
    }
}

/// The claims of the request's token, when it carries a valid one that was not revoked.
/// Without one the handler answers 401 and nothing is kept or replayed.
fn claims_of(req: &ServiceRequest, state: &AppState) -> Option<crate::auth::Claims> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = crate::auth::bearer_token(value)?;
    let claims = state.jwt.verify(token).ok()?;
    state.revocations.check(&claims).is_ok().then_some(claims)
}

/// Whether an answer is one that the request alone decides, and so is kept for a retry with
/// the same key: a success, or a request that breaks the document (400, 413, 415). A refusal
/// the stored records decide (401, 403, 404, 409, 412, 422, …) may go the other way once they
/// change, and a 5xx once the service recovers: a retry runs again.
fn decided_by_the_request(status: StatusCode) -> bool {
    status.is_success()
        || matches!(
            status,
            StatusCode::BAD_REQUEST
                | StatusCode::PAYLOAD_TOO_LARGE
                | StatusCode::UNSUPPORTED_MEDIA_TYPE
        )
}

/// Marks an answer that carries a secret (a client's new secret, a token): it is never kept
/// for replay, so no other token, narrowed or not, can read it back with the same key.
#[derive(Debug, Clone, Copy)]
pub struct SecretBearing;

/// Marks an answer that the request alone did not decide: a bulk item the database could not
/// write at that moment (busy, the connection lost). It is never kept, so that the retry its
/// item asks for, under the same key, is judged again: what the first attempt stored is then
/// `unchanged`.
#[derive(Debug, Clone, Copy)]
pub struct Undecided;

fn request_hash(req: &ServiceRequest, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [
        req.method().as_str().as_bytes(),
        req.path().as_bytes(),
        req.query_string().as_bytes(),
        req.headers()
            .get(header::CONTENT_TYPE)
            .map_or(&b""[..], HeaderValue::as_bytes),
    ] {
        hash.update(part);
        hash.update([0]);
    }
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn replayed(answer: StoredAnswer) -> HttpResponse {
    let mut res = HttpResponse::build(
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    if let Some(media_type) = answer.content_type {
        res.insert_header((header::CONTENT_TYPE, media_type));
    }
    res.insert_header((REPLAYED, "true"));
    res.body(answer.body)
}

/// Replays the first answer to a repeated `Idempotency-Key` on POST; see the module docs.
pub async fn replay(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.method() != Method::POST {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let key = match key_of(&req) {
        Ok(Some(key)) => key,
        Ok(None) => return Ok(next.call(req).await?.map_into_boxed_body()),
        Err(e) => return Ok(req.error_response(e)),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(claims) = claims_of(&req, &state) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // The scope first: a token that may not call the operation gets neither a replayed answer
    // nor a body read in full.
    if !state
        .routes
        .post_allows(req.match_pattern().as_deref(), &claims.scope)
    {
        return Ok(req.error_response(ApiError::Forbidden(
            "the token does not hold the scope this operation needs".into(),
        )));
    }
    let client = claims.sub;

    // The body is read here to hash it, then handed on to the handler unchanged; no further
    // than the route reads one (a bulk route's limit for any route let one request hold 64 MiB).
    let limit = body_limit(req.match_pattern().as_deref());
    let too_large = || ApiError::PayloadTooLarge(format!("the body is larger than {limit} bytes"));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Ok(req.error_response(too_large()));
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Ok(req.error_response(too_large()));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let hash = request_hash(&req, &body);
    req.set_payload(Payload::from(body));

    let claim = {
        let (client, key) = (client.clone(), key.clone());
        let took_effect = took_effect_answer().await;
        state
            .run(move |conn| {
                let Some(took_effect) = took_effect else {
                    return Err(ApiError::Internal(
                        "the answer for a request that took effect could not be built".into(),
                    ));
                };
                Ok(idempotency::claim(
                    conn,
                    &client,
                    &key,
                    &hash,
                    &took_effect,
                )?)
            })
            .await
    };
    let lease = match claim {
        Ok(Claim::New(lease)) => lease,
        Ok(Claim::Replay(answer)) => return Ok(req.into_response(replayed(answer))),
        Ok(Claim::InFlight) => {
            return Ok(req.error_response(ApiError::KeyInFlight(InvalidParam::new(
                "Idempotency-Key",
                "the first request with this key is still being answered; retry later",
            ))));
        }
        Ok(Claim::Mismatch) => {
            return Ok(req.error_response(ApiError::KeyReused(InvalidParam::new(
                "Idempotency-Key",
                "was used for a different request (method, path or body); use a new key",
            ))));
        }
        Err(e) => return Ok(req.error_response(e)),
    };

    // `lost`: the answer failed (a 5xx, or none), so whether the request took effect is what
    // the key must keep. Otherwise the request was answered on purpose: a refusal the records
    // decided is judged again on a retry even when it recorded something (a refused event),
    // and an answer carrying a secret is never kept.
    let forget = |state: web::Data<AppState>, client: String, key: String, lease, lost| async move {
        let answer = if lost {
            took_effect_answer().await
        } else {
            None
        };
        let released = state
            .run(move |conn| {
                Ok(idempotency::release(
                    conn,
                    &client,
                    &key,
                    &lease,
                    answer.as_ref(),
                )?)
            })
            .await;
        match released {
            Ok(Released::Forgotten) => {}
            Ok(Released::TookEffect) => tracing::info!(
                "an idempotency key's request took effect without a kept answer: a retry is told so"
            ),
            Ok(Released::LeaseLost) => tracing::warn!("{LEASE_LOST}"),
            Err(e) => tracing::warn!(error = %e, "could not release an idempotency key"),
        }
    };
    let res = match MARK.scope(lease.mark(&client, &key), next.call(req)).await {
        Ok(res) => res,
        Err(e) => {
            forget(state, client, key, lease, true).await;
            return Err(e);
        }
    };
    let never_kept = {
        let marks = res.response().extensions();
        marks.contains::<SecretBearing>() || marks.contains::<Undecided>()
    };
    if never_kept {
        forget(state, client, key, lease, false).await;
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (head, body) = res.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            forget(state, client, key, lease, true).await;
            return Ok(ServiceResponse::new(
                req,
                ApiError::Internal("the answer's body could not be read".into()).error_response(),
            ));
        }
    };
    if !decided_by_the_request(status) {
        // A retry may succeed: the key is not bound to a failure that the stored records
        // decided (an event's dossier not stored yet, a transition a later event allows) or
        // that the service had. A 5xx that took effect all the same (its answer lost as the
        // connection broke at its commit) keeps an answer saying so.
        forget(state, client, key, lease, status.is_server_error()).await;
    } else {
        let answer = StoredAnswer {
            status: status.as_u16(),
            content_type,
            body: bytes.to_vec(),
        };
        let kept = state
            .run(move |conn| Ok(idempotency::complete(conn, &client, &key, &lease, &answer)?))
            .await;
        match kept {
            Ok(true) => {}
            // Its successor's answer is kept instead.
            Ok(false) => tracing::warn!("{LEASE_LOST}"),
            Err(e) => tracing::warn!(error = %e, "could not keep an idempotent answer"),
        }
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}
