//! Webhooks: the change feed pushed to subscribers' URLs, signed, retried with back-off, with
//! dead letters kept for redelivery. Delivery runs inside the service ([`deliverer`]); several
//! instances on one database share the work through leases on subscriptions.

pub mod deliverer;
pub mod signature;

use std::net::IpAddr;

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
/// `http` or `https` URL naming a host, without a user name or password; unless
/// `private_networks` allows them, not `localhost` nor an address outside the public internet
/// ([`non_public`]).
pub fn url_problem(url: &str, private_networks: bool) -> Option<String> {
    match reqwest::Url::parse(url) {
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            Some("must be an http or https URL".into())
        }
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("must name a host".into()),
        Ok(u) if !u.username().is_empty() || u.password().is_some() => {
            Some("must not carry a user name or password".into())
        }
        Ok(u) if !private_networks => {
            private_host(&u, &deliverer::proxy_hosts(|v| std::env::var(v).ok()))
        }
        Ok(_) => None,
        Err(e) => Some(format!("is not a URL ({e})")),
    }
}

/// Why the host `u` names is refused while private networks are denied: `localhost`, an
/// outbound proxy's host (`proxies`, which may be private: its name alone resolves to any
/// address), or an address written in the URL that is not public. A name resolving to such an
/// address is refused when it is sent to ([`deliverer::PublicOnly`]).
pub(crate) fn private_host(u: &reqwest::Url, proxies: &[String]) -> Option<String> {
    let host = u.host_str()?;
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return Some(format!(
            "names {host}, this machine (TTHC_WEBHOOK_PRIVATE_NETWORKS=allow permits it)"
        ));
    }
    if proxies.contains(&name) {
        return Some(format!(
            "names {host}, the outbound proxy (TTHC_WEBHOOK_PRIVATE_NETWORKS=allow permits it)"
        ));
    }
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    non_public(ip).then(|| {
        format!(
            "names {ip}, an address outside the public internet \
             (TTHC_WEBHOOK_PRIVATE_NETWORKS=allow permits it)"
        )
    })
}

/// Whether `ip` lies outside the public internet: loopback, private (RFC 1918, IPv6 unique
/// local), link-local (a cloud's metadata address among them), shared (carrier-grade NAT),
/// unspecified, broadcast or "this network"; an IPv4 address mapped into IPv6 as the IPv4 one.
pub fn non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_targets_pass_unless_private_networks_are_allowed() {
        for private in [
            "http://localhost:8080/h",
            "http://app.localhost/h",
            "http://127.0.0.1/h",
            "http://10.1.2.3/h",
            "http://172.16.0.1/h",
            "http://192.168.1.1/h",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/h",
            "http://0.0.0.0/h",
            "http://[::1]/h",
            "http://[fd00::1]/h",
            "http://[fe80::1]/h",
            "http://[::ffff:127.0.0.1]/h",
        ] {
            assert!(url_problem(private, false).is_some(), "{private}");
            assert_eq!(url_problem(private, true), None, "{private}");
        }
        // The outbound proxies' hosts, which may be private, from the variables either case.
        let env = |v: &str| match v {
            "HTTPS_PROXY" => Some("http://Proxy.Internal:3128".to_owned()),
            "http_proxy" => Some("10.0.0.5:8080".to_owned()),
            "ALL_PROXY" => Some("  ".to_owned()),
            _ => None,
        };
        let proxies = deliverer::proxy_hosts(env);
        assert_eq!(proxies, ["proxy.internal", "10.0.0.5"]);
        // The proxy's own host is no target, on any port or scheme.
        for url in ["http://proxy.internal:6379/x", "https://PROXY.internal./x"] {
            let u = reqwest::Url::parse(url).unwrap();
            assert!(private_host(&u, &proxies).is_some(), "{url}");
        }
        let u = reqwest::Url::parse("https://dichvucong.gov.vn/api").unwrap();
        assert_eq!(private_host(&u, &proxies), None);
        for public in [
            "https://dichvucong.gov.vn/api",
            "http://203.0.113.7/h",
            "http://8.8.8.8/h",
            "http://[2001:4860::8888]/h",
            "http://100.128.0.1/h",
        ] {
            assert_eq!(url_problem(public, false), None, "{public}");
        }
    }
}
