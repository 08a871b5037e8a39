//! Webhooks: the change feed pushed to subscribers' URLs, signed, retried with back-off, with
//! dead letters kept for redelivery. Delivery runs inside the service ([`deliverer`]); several
//! instances on one database share the work through leases on subscriptions.

pub mod deliverer;
pub mod signature;

use serde::Serialize;
use utoipa::ToSchema;

use crate::routes::changes::Change;

/// The body POSTed to a subscription's URL: a batch of changes, oldest first, exactly as
/// `GET /api/v1/changes` lists them. Signed with the headers `webhook-id` (the delivery id,
/// the same for every retry of the batch), `webhook-timestamp` and `webhook-signature` (see
/// the README, Webhooks). A receiver answers 2xx once it has kept the batch; anything else,
/// or no answer in time, is retried.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90.0.1041",
    "subscription": "4b7f0c1e-3d2a-4f7e-9a51-0c8d2e6b1a90",
    "redelivery": false,
    "changes": [{
        "sequence": 1042, "at": "2026-12-03T02:44:00.123456Z", "kind": "update",
        "resourceType": "dossier", "code": "000.21.30.H12-260302-0001", "unit": "000.21.30.H12"
    }]
}))]
pub struct WebhookDelivery {
    /// The delivery id (also the `webhook-id` header): the same for every attempt at this
    /// batch, so that a receiver can drop a batch it has kept already.
    pub id: String,
    /// The subscription.
    pub subscription: String,
    /// Whether this is a dead letter delivered again on request (its changes may come after
    /// later ones).
    pub redelivery: bool,
    /// The changes.
    pub changes: Vec<Change>,
}

/// The delivery id of the batch of `subscription` that starts after feed position `from`.
pub fn delivery_id(subscription: &str, from: tthc_core::db::changes::Position) -> String {
    format!("{subscription}.{}.{}", from.txid, from.id)
}

/// Why `url` cannot receive deliveries (webhooks or the relay), if it cannot: it must be an
/// `http` or `https` URL naming a host, without a user name or password.
pub fn url_problem(url: &str) -> Option<String> {
    match reqwest::Url::parse(url) {
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            Some("must be an http or https URL".into())
        }
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("must name a host".into()),
        Ok(u) if !u.username().is_empty() || u.password().is_some() => {
            Some("must not carry a user name or password".into())
        }
        Ok(_) => None,
        Err(e) => Some(format!("is not a URL ({e})")),
    }
}
