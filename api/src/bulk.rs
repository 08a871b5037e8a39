//! Bulk bodies (a JSON array or NDJSON) and their per-item answers, shared by every bulk
//! endpoint.

use actix_web::HttpRequest;
use actix_web::web::{self, Bytes};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tthc_core::InvalidParam;
use utoipa::ToSchema;
use validator::Validate;

use crate::error::{ApiError, InvalidParamView};
use crate::http::{is_json, word};

/// Most items in one bulk request.
pub const MAX_BULK_ITEMS: usize = 10_000;
/// Largest bulk body, in bytes.
pub const MAX_BULK_BODY: usize = 64 * 1024 * 1024;

/// The routes that read a body of up to [`MAX_BULK_BODY`] bytes ([`read_body`]); every other
/// body is at most [`crate::http::MAX_JSON_BODY`].
pub const BULK_ROUTES: [&str; 4] = [
    "/api/v1/dossiers/bulk",
    "/api/v1/petitions/bulk",
    "/api/v1/procedures/bulk",
    "/api/v1/portal-sync",
];

/// The largest body the route `pattern` reads, in bytes.
pub fn body_limit(pattern: Option<&str>) -> usize {
    if pattern.is_some_and(|p| BULK_ROUTES.contains(&p)) {
        MAX_BULK_BODY
    } else {
        crate::http::MAX_JSON_BODY
    }
}

/// One item of a bulk body, kept as its JSON text until it is parsed: parsing it straight into
/// its type, rather than through a `serde_json::Value`, was a tenth of the bulk ingest's time.
#[derive(Debug)]
pub struct BulkBodyItem(Box<RawValue>);

impl BulkBodyItem {
    /// The item's `code`, when it has a textual one (to name a refused item).
    pub fn code(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Code {
            code: Option<serde_json::Value>,
        }
        serde_json::from_str::<Code>(self.0.get())
            .ok()?
            .code?
            .as_str()
            .map(str::to_owned)
    }

    /// The item deserialized and validated, naming the fields it refuses.
    pub fn parse<T: DeserializeOwned + Validate>(&self) -> Result<T, ApiError> {
        crate::http::parse_json(self.0.get().as_bytes())
    }
}

/// Reads a whole bulk body, up to [`MAX_BULK_BODY`] bytes.
pub async fn read_body(mut payload: web::Payload) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk: Bytes = chunk.map_err(|e| ApiError::BadRequest {
            code: "unreadableBody",
            detail: format!("the body could not be read: {e}"),
            invalid: Vec::new(),
        })?;
        if body.len() + chunk.len() > MAX_BULK_BODY {
            return Err(ApiError::PayloadTooLarge(format!(
                "a bulk body is at most {MAX_BULK_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads a bulk body: a JSON array, or NDJSON (`application/x-ndjson`, one object per line).
pub async fn read_bulk(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<BulkBodyItem>, ApiError> {
    let content_type = crate::http::content_type(req);
    let ndjson = content_type.starts_with("application/x-ndjson")
        || content_type.starts_with("application/ndjson");
    if !ndjson && !is_json(&content_type) {
        return Err(ApiError::UnsupportedMediaType(
            "send a JSON array (application/json) or NDJSON (application/x-ndjson)".into(),
        ));
    }
    let body = read_body(payload).await?;
    let too_many = || {
        ApiError::invalid(
            "body",
            format!("at most {MAX_BULK_ITEMS} items per request"),
        )
    };
    let items: Vec<Box<RawValue>> = if ndjson {
        std::str::from_utf8(&body)
            .map_err(|_| ApiError::invalid("body", "must be UTF-8"))?
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            // Counted before they are read: a body of millions of `{}` stops at the cap.
            .take(MAX_BULK_ITEMS + 1)
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| ApiError::BadRequest {
                    code: "malformedJson",
                    detail: format!("line {} is not JSON: {e}", i + 1),
                    invalid: vec![InvalidParam::new(format!("line {}", i + 1), e.to_string())],
                })
            })
            .collect::<Result<_, _>>()?
    } else {
        let mut de = serde_json::Deserializer::from_slice(&body);
        at_most_items(&mut de)
            .and_then(|items| de.end().map(|()| items))
            .map_err(|e| {
                if is_past_the_cap(&e) {
                    too_many()
                } else {
                    ApiError::BadRequest {
                        code: "malformedJson",
                        detail: format!("the body is not a JSON array: {e}"),
                        invalid: Vec::new(),
                    }
                }
            })?
    };
    // An item that is not even an object is a malformed request, not a refused record.
    if let Some(i) = items
        .iter()
        .position(|item| !item.get().trim_start().starts_with('{'))
    {
        return Err(ApiError::invalid(
            format!("[{i}]"),
            "every item must be a JSON object",
        ));
    }
    if items.len() > MAX_BULK_ITEMS {
        return Err(too_many());
    }
    Ok(items.into_iter().map(BulkBodyItem).collect())
}

/// A JSON array of at most [`MAX_BULK_ITEMS`] items (each kept as its text, say); past that
/// many an error that [`is_past_the_cap`] tells apart, the rest read no further (a 64 MB body
/// of `{}` held 21 million of them, over a gigabyte, before the count refused it). Also a
/// field's `deserialize_with`, as the portal dialect's `data`.
pub(crate) fn at_most_items<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_seq(AtMost(std::marker::PhantomData))
}

/// Whether `e` is [`at_most_items`]' refusal of an array past the cap.
pub(crate) fn is_past_the_cap(e: &serde_json::Error) -> bool {
    e.is_data() && e.to_string().starts_with(PAST_THE_CAP)
}

/// The visitor of [`at_most_items`].
struct AtMost<T>(std::marker::PhantomData<fn() -> T>);

/// How [`AtMost`]'s error starts.
const PAST_THE_CAP: &str = "more items than";

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for AtMost<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<T>()? {
            if items.len() == MAX_BULK_ITEMS {
                return Err(serde::de::Error::custom(format!(
                    "{PAST_THE_CAP} {MAX_BULK_ITEMS}"
                )));
            }
            items.push(item);
        }
        Ok(items)
    }
}

/// The outcome of one item of a bulk request.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkItem {
    /// Position in the batch (0-based).
    pub index: usize,
    /// The item's code, when it could be read.
    pub code: Option<String>,
    /// `created`, `updated`, `unchanged`, `stale` (dossiers: nothing stored, a newer state is) or
    /// `rejected`.
    pub result: String,
    /// Why it was rejected: the fields and reasons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParamView>,
}

impl BulkItem {
    /// A stored item and what storing it did (`created`, `updated`, `unchanged`, `stale`).
    pub fn done<T: Serialize>(index: usize, code: Option<String>, outcome: &T) -> Self {
        Self {
            index,
            code,
            result: word(outcome),
            invalid_params: Vec::new(),
        }
    }

    /// A refused item with the fields and reasons of `error`.
    pub fn rejected(index: usize, code: Option<String>, error: ApiError) -> Self {
        let invalid = match error {
            ApiError::BadRequest {
                invalid, detail, ..
            } if invalid.is_empty() => vec![InvalidParam::new("item", detail)],
            ApiError::BadRequest { invalid, .. } | ApiError::Unprocessable { invalid, .. } => {
                invalid
            }
            ApiError::Conflict(p) => vec![p],
            other => vec![InvalidParam::new("item", other.to_string())],
        };
        Self {
            index,
            code,
            result: "rejected".into(),
            invalid_params: invalid.into_iter().map(InvalidParamView::from).collect(),
        }
    }
}

/// The outcome of a bulk request: counts, and every item in order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"created": 1, "updated": 0, "unchanged": 1, "stale": 0, "rejected": 1, "items": [
    {"index": 0, "code": "1.001193.H12", "result": "created"},
    {"index": 1, "code": "1.001194.H12", "result": "unchanged"},
    {"index": 2, "code": "1.001195.H12", "result": "rejected", "invalidParams": [{"name": "content.field", "reason": "no field has the code \"XX\""}]}
]}))]
pub struct BulkResult {
    /// Items created.
    pub created: usize,
    /// Items updated.
    pub updated: usize,
    /// Items unchanged.
    pub unchanged: usize,
    /// Items not stored because a newer state of them is stored or comes later in the batch
    /// (dossiers; 0 for other records).
    pub stale: usize,
    /// Items rejected.
    pub rejected: usize,
    /// Every item's outcome, in order.
    pub items: Vec<BulkItem>,
}

impl BulkResult {
    /// Counts the items' outcomes.
    pub fn from_items(items: Vec<BulkItem>) -> Self {
        let count = |r: &str| items.iter().filter(|i| i.result == r).count();
        Self {
            created: count("created"),
            updated: count("updated"),
            unchanged: count("unchanged"),
            stale: count("stale"),
            rejected: count("rejected"),
            items,
        }
    }
}

/// The items of a bulk body parsed into writes, with the places of their answers: items that
/// cannot be parsed (or lack a code) are answered as rejected at once, the rest once stored.
pub struct ParsedBulk<W> {
    results: Vec<Option<BulkItem>>,
    slots: Vec<(usize, String)>,
    /// The writes to store, in order.
    writes: Vec<W>,
}

/// Parses every item of a bulk body as a `T` and turns it into a write with `write`, which
/// answers the item's code and its write, or why it is refused.
pub fn parse_items<T: DeserializeOwned + Validate, W>(
    items: Vec<BulkBodyItem>,
    write: impl Fn(T) -> Result<(String, W), ApiError>,
) -> ParsedBulk<W> {
    let mut parsed = ParsedBulk {
        results: Vec::with_capacity(items.len()),
        slots: Vec::new(),
        writes: Vec::new(),
    };
    for (index, raw) in items.into_iter().enumerate() {
        match raw.parse::<T>().and_then(&write) {
            Ok((code, w)) => {
                parsed.slots.push((index, code));
                parsed.writes.push(w);
                parsed.results.push(None);
            }
            Err(e) => parsed
                .results
                .push(Some(BulkItem::rejected(index, raw.code(), e))),
        }
    }
    parsed
}

impl<W> ParsedBulk<W> {
    /// Splits off the writes to store.
    pub fn take_writes(&mut self) -> Vec<W> {
        std::mem::take(&mut self.writes)
    }

    /// The answer, given the stored writes' outcomes in order.
    pub fn finish<O: Serialize>(
        mut self,
        outcomes: Vec<Result<O, tthc_core::db::StoreError>>,
    ) -> BulkResult {
        for ((index, code), outcome) in self.slots.into_iter().zip(outcomes) {
            self.results[index] = Some(match outcome {
                Ok(o) => BulkItem::done(index, Some(code), &o),
                Err(e) => BulkItem::rejected(index, Some(code), e.into()),
            });
        }
        BulkResult::from_items(self.results.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bulk_route_is_a_post_of_the_document() {
        // A route renamed without this list would be held to the small limit by the
        // idempotency middleware, which reads the body before the handler.
        let doc = serde_json::to_value(crate::openapi::document()).unwrap();
        for route in BULK_ROUTES {
            assert!(doc["paths"][route].get("post").is_some(), "{route}");
            assert_eq!(body_limit(Some(route)), MAX_BULK_BODY);
        }
        assert_eq!(
            body_limit(Some("/api/v1/dossiers/{code}/events")),
            crate::http::MAX_JSON_BODY
        );
        assert_eq!(body_limit(None), crate::http::MAX_JSON_BODY);
    }
}
