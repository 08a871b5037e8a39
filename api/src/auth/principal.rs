//! The caller of a request: from its bearer token (machines), or from the session cookie that
//! signing in to the console sets (people).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use tthc_core::db::audit::Actor;
use tthc_core::db::{DbConnection, units};
use tthc_core::unit::UnitScope;

use super::{Claims, Scope, UnitPaths};
use crate::error::ApiError;
use crate::http::audit_reason;
use crate::middleware::RequestId;
use crate::state::AppState;

/// The cookie that carries a person's session: the same signed token a client gets, HttpOnly
/// (scripts cannot read it), `SameSite=Strict` (other sites' pages cannot send it). The
/// `__Host-` prefix makes browsers keep it only as set by this host over a secure origin, with
/// `Secure`, `Path=/` and no `Domain`: a page of a sibling subdomain, or one served over plain
/// HTTP on the network, cannot set a cookie of this name (a session of its choosing).
pub const SESSION_COOKIE: &str = "__Host-tthc_session";

/// The header a request authenticated by the session cookie must carry when it changes
/// something (any method but GET, HEAD and OPTIONS). A page of another site cannot add it to a
/// request without the service's CORS consent: a second guard against cross-site requests.
pub const CSRF_HEADER: &str = "X-Requested-With";

/// Refuses a change made with the session cookie without [`CSRF_HEADER`].
pub fn require_csrf_header(req: &HttpRequest) -> Result<(), ApiError> {
    if req.headers().contains_key(CSRF_HEADER) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "a change made with the session cookie must carry the header {CSRF_HEADER}"
        )))
    }
}

/// What a list reads within: the caller's units, and the tree path of the unit it is filtered
/// to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListScope {
    /// The caller's units.
    pub scope: UnitScope,
    /// The path of the unit the list is filtered to, if it is.
    pub unit_path: Option<String>,
}

impl ListScope {
    /// Whether it names no unit's path (every unit, no unit filter): none can be stale.
    fn has_no_path(&self) -> bool {
        self.scope == UnitScope::All && self.unit_path.is_none()
    }
}

/// An authenticated caller: a client, its grant, and the end user it acts for.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's claims.
    pub claims: Claims,
    /// The `X-Audit-Reason` of the request.
    pub reason: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

impl Principal {
    /// Refuses with 403 a person signed in to the console: `what` (a subscription, a relay)
    /// is owned by the API client that makes it and delivered with that client's grant, and
    /// one owned by a person was held for ever, owned by no client.
    pub fn require_client(&self, what: &str) -> Result<(), ApiError> {
        if self
            .claims
            .sub
            .starts_with(tthc_core::db::users::SUBJECT_PREFIX)
        {
            Err(ApiError::Forbidden(format!(
                "{what} belongs to an API client, whose grant its deliveries are read with; a \
                 person signed in to the console cannot own one"
            )))
        } else {
            Ok(())
        }
    }

    /// Refuses with 403 unless the token holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self
            .claims
            .scope
            .split_whitespace()
            .any(|s| s == scope.as_str())
        {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this operation needs the scope {}, which the token does not hold",
                scope.as_str()
            )))
        }
    }

    /// Refuses, 403, a caller not granted every unit: `what` changes something every unit
    /// shares (a rule, a setting, a frozen month), which no unit-limited caller may decide for
    /// the others. Says why.
    pub fn require_every_unit(&self, what: &str) -> Result<(), ApiError> {
        if self.claims.all_units {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "{what}: it needs a client granted every unit"
            )))
        }
    }

    /// Who to record in the audit trail.
    pub fn actor(&self) -> Actor {
        Actor {
            client_id: self.claims.sub.clone(),
            end_user_id: self.claims.uid.clone(),
            end_user_name: self.claims.uname.clone(),
            reason: self.reason.clone(),
            request_id: self.request_id.clone(),
        }
    }

    /// The units this caller may see and act on, resolved to their current tree paths (units
    /// move, codes do not).
    pub fn unit_scope(&self, conn: &mut DbConnection) -> Result<UnitScope, ApiError> {
        if self.claims.all_units {
            return Ok(UnitScope::All);
        }
        Ok(UnitScope::Within(units::paths_of(
            conn,
            &self.claims.units,
        )?))
    }

    /// The caller's units, and the tree path of the unit a list is filtered to (`unit`, which
    /// must exist: `None` when it does not, and so nothing matches), read now and remembered in
    /// `paths`.
    pub fn list_scope(
        &self,
        conn: &mut DbConnection,
        unit: Option<&tthc_core::unit::UnitCode>,
        paths: &UnitPaths,
    ) -> Result<Option<ListScope>, ApiError> {
        let scope = if self.claims.all_units {
            UnitScope::All
        } else {
            let found = units::codes_and_paths(conn, &self.claims.units)?;
            for (code, path) in &found {
                paths.remember(code, path);
            }
            UnitScope::Within(found.into_iter().map(|(_, path)| path).collect())
        };
        let Some(code) = unit else {
            return Ok(Some(ListScope {
                scope,
                unit_path: None,
            }));
        };
        match units::find_row(conn, code.as_str())? {
            Some(row) => {
                paths.remember(&row.code, &row.path);
                Ok(Some(ListScope {
                    scope,
                    unit_path: Some(row.path),
                }))
            }
            None => {
                paths.forget(code.as_str());
                Ok(None)
            }
        }
    }

    /// [`Principal::list_scope`] from the paths remembered in `paths`, without a query; `None`
    /// when one is not remembered, or when the caller holds several units (a stale path among
    /// them would leave a page short rather than empty: see [`UnitPaths`]).
    fn remembered_list_scope(
        &self,
        unit: Option<&tthc_core::unit::UnitCode>,
        paths: &UnitPaths,
    ) -> Option<ListScope> {
        let scope = if self.claims.all_units {
            UnitScope::All
        } else {
            let [code] = self.claims.units.as_slice() else {
                return None;
            };
            UnitScope::Within(vec![paths.get(code)?])
        };
        let unit_path = match unit {
            None => None,
            Some(code) => Some(paths.get(code.as_str())?),
        };
        Some(ListScope { scope, unit_path })
    }

    /// A list's page, read by `page` within the caller's units and the unit it is filtered to:
    /// first with their paths as remembered in `paths` (the page's statement alone, where
    /// reading the paths first cost a round trip or two more), and when that finds nothing,
    /// which a stale path gives (and only an empty page), again with the paths read now if
    /// they differ.
    pub fn read_list<T>(
        &self,
        conn: &mut DbConnection,
        unit: Option<&tthc_core::unit::UnitCode>,
        paths: &UnitPaths,
        mut page: impl FnMut(&mut DbConnection, ListScope) -> Result<Vec<T>, ApiError>,
    ) -> Result<Vec<T>, ApiError> {
        let mut read_with = None;
        if let Some(remembered) = self.remembered_list_scope(unit, paths) {
            let rows = page(conn, remembered.clone())?;
            if !rows.is_empty() || remembered.has_no_path() {
                return Ok(rows);
            }
            read_with = Some(remembered);
        }
        match self.list_scope(conn, unit, paths)? {
            // The same paths: the page read is the answer.
            Some(now) if read_with.as_ref() == Some(&now) => Ok(Vec::new()),
            Some(now) => page(conn, now),
            None => Ok(Vec::new()),
        }
    }

    fn from_request_sync(req: &HttpRequest) -> Result<Self, ApiError> {
        let unauthorized = |detail: &str| ApiError::Unauthorized {
            code: "invalidToken",
            detail: detail.into(),
        };
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
        let Some(value) = req.headers().get(header::AUTHORIZATION) else {
            return Self::from_session(req, state);
        };
        let text = value
            .to_str()
            .map_err(|_| unauthorized("the Authorization header is not ASCII"))?;
        let token = bearer_token(text)
            .ok_or_else(|| unauthorized("the Authorization header must be: Bearer <token>"))?;
        let claims = state.jwt.verify(token)?;
        state.revocations.check(&claims)?;
        Ok(Self {
            claims,
            reason: audit_reason(req)?,
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        })
    }
}

impl Principal {
    /// The caller of a request without an `Authorization` header: the session cookie's, if any.
    fn from_session(req: &HttpRequest, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = |detail: &str| ApiError::Unauthorized {
            code: "invalidToken",
            detail: detail.into(),
        };
        let cookie = req.cookie(SESSION_COOKIE).ok_or_else(|| {
            unauthorized(
                "this operation needs an access token (Authorization: Bearer <token>) or a \
                 session (sign in with POST /api/v1/auth/session)",
            )
        })?;
        let safe = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
        if !safe {
            require_csrf_header(req)?;
        }
        let claims = state.jwt.verify(cookie.value())?;
        state.revocations.check(&claims)?;
        Ok(Self {
            claims,
            reason: audit_reason(req)?,
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        })
    }
}

/// Whether a request carries credentials: a bearer token or a session cookie.
pub fn has_credentials(req: &HttpRequest) -> bool {
    req.headers().contains_key(header::AUTHORIZATION) || req.cookie(SESSION_COOKIE).is_some()
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(value: &str) -> Option<&str> {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::from_request_sync(req))
    }
}

/// A caller who may be anonymous: `None` without an `Authorization` header or session cookie.
/// A bad token is still refused with 401, never taken for anonymous.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

impl MaybePrincipal {
    /// Whether the caller holds `scope`.
    pub fn holds(&self, scope: Scope) -> bool {
        self.0.as_ref().is_some_and(|p| p.require(scope).is_ok())
    }
}

impl FromRequest for MaybePrincipal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if has_credentials(req) {
            ready(Principal::from_request_sync(req).map(|p| Self(Some(p))))
        } else {
            ready(Ok(Self(None)))
        }
    }
}
