//! `POST /api/v1/portal-sync`: dossiers and their progress in the national portal's own sync
//! dialect (`DongBoHoSoMC`, `CapNhatTienDoHoSoMC`), answered in its answer shape (`error_code`,
//! `message`), so that a vendor adds tthc as a second sync target with no new mapping code. The
//! mapping is `tthc_core::dossier::portal_sync`; storing is `POST /dossiers/bulk`'s.

use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tthc_core::db::dossiers::{self as store, ProgressOutcome};
use tthc_core::dossier::portal_sync::{self as dialect, PortalDossier, PortalProgress};
use tthc_core::dossier::{DossierWrite, Event, Status, current_status};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Scope};
use crate::bulk::{BulkItem, MAX_BULK_ITEMS, read_body};
use crate::error::PROBLEM_JSON as PROBLEM;
use crate::error::{ApiError, InvalidParamView, Problem};
use crate::http::{ValidQuery, word};
use crate::state::AppState;
use tthc_core::db::now_local;

/// A request as vendors send it to the portal.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"service": "DongBoHoSoMC", "isUpdating": false, "data": [{
    "MaHoSo": "000.21.30.H12-260302-0001", "MaTTHC": "1.001193.H12", "ChuHoSo": "Nguyễn Văn An",
    "LoaiDoiTuong": 1, "MaDoiTuong": "001090012345", "NgayTiepNhan": "20260302080000",
    "NgayHenTra": "20260305080000", "TrangThaiHoSo": 10, "NgayKetThucXuLy": "20260304100000",
    "NgayTra": "20260304150000", "DonViXuLy": "000.21.30.H12", "KenhThucHien": 2,
    "TaiLieuNop": [{"TenTepDinhKem": "to-khai.pdf", "DuongDanTaiTepTin": "https://dvc.example/f/1", "DuocSoHoa": 1}],
    "DanhSachGiayToKetQua": [{"TenGiayTo": "Giấy khai sinh", "DuongDanTepTinKetQua": "https://dvc.example/kq/1.pdf"}],
    "TaiKhoanDuocXacThucVoiVNeID": 1
}]}))]
pub struct PortalSyncRequest<'a> {
    /// `DongBoHoSoMC` (whole dossiers, [`PortalDossier`]) or `CapNhatTienDoHoSoMC` (progress
    /// steps, [`PortalProgress`]).
    pub service: PortalService,
    /// Whether the vendor marks these as updates (read, not needed: a dossier is created or
    /// updated by its code).
    #[serde(rename = "isUpdating", default)]
    pub is_updating: Option<bool>,
    /// The dossiers or the steps, at most 10,000 (counted as they are read).
    #[serde(borrow, deserialize_with = "crate::bulk::at_most_items")]
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<&'a RawValue>,
}

/// The portal's sync services tthc takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum PortalService {
    /// Whole dossiers.
    #[serde(rename = "DongBoHoSoMC")]
    WholeDossiers,
    /// Progress steps.
    #[serde(rename = "CapNhatTienDoHoSoMC")]
    Progress,
}

/// Where the dossiers of a whole-dossier sync stand with the portal.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PortalSyncQuery {
    /// `true` when the vendor sends the same payload to the portal (tthc is its second target):
    /// each dossier is recorded as synced as of its latest dated step, with the status its
    /// steps give (the same payload again stays `unchanged`). For progress steps
    /// (`CapNhatTienDoHoSoMC`), only a dossier synced before is: the portal holds no other to
    /// add a step to. Leave it out when tthc is the only target: the dossiers are then not
    /// synced as far as tthc knows.
    pub mirrors_portal: Option<bool>,
}

/// One item's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalSyncItem {
    /// The dossier's code, when it could be read.
    #[serde(rename = "MaHoSo")]
    pub code: Option<String>,
    /// 0 stored, 1 refused (see `invalidParams`).
    pub error_code: i32,
    /// In words.
    pub message: String,
    /// `created`, `updated`, `unchanged`, `stale` (dossiers: an older sync arriving late, or an
    /// item a later one of the same code replaces, whose refused events the later one keeps;
    /// nothing else of it is stored); `added`, `duplicate`, `setAside`
    /// (progress steps the transition rules refuse are kept on the dossier with the reason);
    /// `rejected`.
    pub result: String,
    /// What tthc could not map and what it did instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<String>,
    /// Why the item was refused: the fields (`data[i].NgayTiepNhan` …) and the reasons.
    #[serde(rename = "invalidParams", skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParamView>,
}

/// The portal's answer shape, with one answer per item.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error_code": 0, "message": "1/1 hồ sơ đã được tiếp nhận", "data": [
    {"MaHoSo": "000.21.30.H12-260302-0001", "error_code": 0, "message": "created", "result": "created"}
]}))]
pub struct PortalSyncAnswer {
    /// 0 when every item was stored, 1 when some were refused.
    pub error_code: i32,
    /// In words (Vietnamese, as the portal answers).
    pub message: String,
    /// Every item's answer, in order.
    pub data: Vec<PortalSyncItem>,
}

impl PortalSyncItem {
    fn stored(code: String, result: String, gaps: Vec<String>) -> Self {
        Self {
            code: Some(code),
            error_code: 0,
            message: result.clone(),
            result,
            gaps,
            invalid_params: Vec::new(),
        }
    }

    fn refused(index: usize, code: Option<String>, error: ApiError) -> Self {
        Self::refused_naming(index, code, error, |_| {})
    }

    /// An item storage refused: the fields it names are tthc's (`unit`, `receivedAt`), put in
    /// the portal's terms by `portal_name` (until 2026-12-07 they went out as tthc's).
    fn refused_by_store(
        index: usize,
        code: String,
        error: ApiError,
        portal_name: fn(&str) -> Option<&'static str>,
    ) -> Self {
        Self::refused_naming(index, Some(code), error, |p| match portal_name(&p.name) {
            Some(field) => p.name = format!("data[{index}].{field}"),
            None => {
                // The reason says which part, in tthc's words (`events: a dossier holds at
                // most 500 events`), since the name is now the item's.
                if p.name != "item" {
                    p.reason = format!("{}: {}", p.name, p.reason);
                }
                p.name = format!("data[{index}]");
            }
        })
    }

    fn refused_naming(
        index: usize,
        code: Option<String>,
        error: ApiError,
        rename: impl Fn(&mut InvalidParamView),
    ) -> Self {
        let mut item = BulkItem::rejected(index, code.clone(), error);
        item.invalid_params.iter_mut().for_each(rename);
        Self {
            code,
            error_code: 1,
            message: item
                .invalid_params
                .iter()
                .map(|p| format!("{}: {}", p.name, p.reason))
                .collect::<Vec<_>>()
                .join("; "),
            result: item.result,
            gaps: Vec::new(),
            invalid_params: item.invalid_params,
        }
    }
}

/// The field of a whole sync (`DongBoHoSoMC`) that a field storage names stands for; `None`
/// for what no one field of the item holds (the dossier's events together, say): the item is
/// named whole. Only what storage alone can judge is here: the instants it checks were checked
/// under the portal's names before (`dialect::dossier_write`).
fn dossier_field(tthc: &str) -> Option<&'static str> {
    match tthc {
        "unit" => Some("DonViXuLy"),
        "procedureCode" => Some("MaTTHC"),
        "receivedAt" => Some("NgayTiepNhan"),
        _ => None,
    }
}

/// A progress step (`CapNhatTienDoHoSoMC`) is refused by storage as a whole (its dossier is
/// not held, or holds as many events as a dossier may): no one field is named.
fn step_field(_: &str) -> Option<&'static str> {
    None
}

/// The `MaHoSo` of an item, when it has a textual one.
fn code_of(raw: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct Code {
        #[serde(rename = "MaHoSo")]
        code: Option<serde_json::Value>,
    }
    serde_json::from_str::<Code>(raw.get())
        .ok()?
        .code?
        .as_str()
        .map(str::to_owned)
}

fn parse<T: serde::de::DeserializeOwned>(raw: &RawValue, index: usize) -> Result<T, ApiError> {
    let controls = crate::http::control_problems(raw.get(), &format!("data[{index}]"), false);
    if !controls.is_empty() {
        return Err(ApiError::invalid_params(controls));
    }
    serde_json::from_str(raw.get()).map_err(|e| {
        ApiError::invalid(
            format!("data[{index}]"),
            format!(
                "is not a {} item: {e}",
                std::any::type_name::<T>().rsplit("::").next().unwrap_or("")
            ),
        )
    })
}

fn answer(data: Vec<PortalSyncItem>) -> PortalSyncAnswer {
    let stored = data.iter().filter(|i| i.error_code == 0).count();
    PortalSyncAnswer {
        error_code: i32::from(stored < data.len()),
        message: format!("{stored}/{} hồ sơ đã được tiếp nhận", data.len()),
        data,
    }
}

/// The refusal of a request of more than [`MAX_BULK_ITEMS`] items.
fn too_many() -> ApiError {
    ApiError::invalid(
        "data",
        format!("at most {MAX_BULK_ITEMS} items per request"),
    )
}

/// Sync in the portal's dialect
///
/// Accepts exactly what a vendor's one-stop system sends the national portal:
/// `{"service": "DongBoHoSoMC", "data": [dossier…]}` with the portal's field names,
/// `yyyyMMddHHmmss` local instants and status codes 1–10, or
/// `{"service": "CapNhatTienDoHoSoMC", "data": [step…]}` for progress steps. Each dossier is
/// mapped onto tthc's model (the README's mapping table) and stored with the rules,
/// idempotency, grants and audit of `POST /dossiers/bulk`: the same payload again is
/// `unchanged`, and an older sync landing after a newer one is `stale`; steps may arrive in any order and before or after the dossier's next whole
/// sync, which keeps them. The answer has the portal's shape (`error_code`, `message`) with one
/// answer per item: what was stored, what could not be mapped (`gaps`), and why an item was
/// refused. Fields tthc has no place for are kept on the dossier as sent (`portalFields`).
#[utoipa::path(
    tag = "dossiers",
    params(PortalSyncQuery),
    request_body(content = PortalSyncRequest, description = "`data` holds `PortalDossier` items for `DongBoHoSoMC`, `PortalProgress` items for `CapNhatTienDoHoSoMC`"),
    responses(
        (status = 200, description = "Every item's answer, in the portal's shape", body = PortalSyncAnswer),
        (status = 400, description = "Not JSON, an unknown service, or too many items", body = Problem, content_type = PROBLEM),
        (status = 413, description = "The body is too large", body = Problem, content_type = PROBLEM),
    ),
    security(("bearer" = ["dossiers:write"]))
)]
#[post("/portal-sync")]
pub async fn sync_in_portal_dialect(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<PortalSyncQuery>,
    payload: web::Payload,
) -> Result<web::Json<PortalSyncAnswer>, ApiError> {
    principal.require(Scope::DossiersWrite)?;
    let body = read_body(payload).await?;
    let request: PortalSyncRequest<'_> = serde_json::from_slice(&body).map_err(|e| {
        if crate::bulk::is_past_the_cap(&e) {
            too_many()
        } else {
            ApiError::BadRequest {
                code: "malformedJson",
                detail: format!("the body is not a portal sync request: {e}"),
                invalid: Vec::new(),
            }
        }
    })?;
    // The names of the request's members and of each item's are in the document: one with a
    // control character breaks it. Deeper, an item's values are the portal's, refused item by
    // item.
    let mut invalid =
        crate::http::control_problems(std::str::from_utf8(&body).unwrap_or(""), "body", true);
    // An item that is not even an object makes the request malformed: the first is named.
    if let Some(i) = request
        .data
        .iter()
        .position(|item| !item.get().trim_start().starts_with('{'))
    {
        invalid.push(tthc_core::InvalidParam::new(
            format!("data[{i}]"),
            "must be a JSON object",
        ));
    }
    // Named up to a number, as any answer about control characters; the other items counted.
    let mut more = 0_usize;
    for (i, item) in request.data.iter().enumerate() {
        let found = crate::http::control_problems(item.get(), &format!("data[{i}]"), true);
        if found.is_empty() {
            continue;
        }
        if invalid.len() < crate::http::MAX_NAMED {
            invalid.extend(found);
        } else {
            more += 1;
        }
    }
    if more > 0 {
        invalid.push(tthc_core::InvalidParam::new(
            "data",
            format!("and {more} more items with a control character in a member's name"),
        ));
    }
    if !invalid.is_empty() {
        return Err(ApiError::invalid_params(invalid));
    }
    match request.service {
        PortalService::WholeDossiers => {
            whole_dossiers(
                &state,
                principal,
                &request.data,
                query.0.mirrors_portal == Some(true),
            )
            .await
        }
        PortalService::Progress => {
            progress(
                &state,
                principal,
                &request.data,
                query.0.mirrors_portal == Some(true),
            )
            .await
        }
    }
    .map(web::Json)
}

async fn whole_dossiers(
    state: &AppState,
    principal: Principal,
    data: &[&RawValue],
    mirrors_portal: bool,
) -> Result<PortalSyncAnswer, ApiError> {
    let now = now_local();
    let mut items: Vec<Option<PortalSyncItem>> = Vec::with_capacity(data.len());
    let mut slots: Vec<(usize, String, Vec<String>)> = Vec::new();
    let mut writes: Vec<DossierWrite> = Vec::new();
    for (index, raw) in data.iter().enumerate() {
        let mapped = parse::<PortalDossier>(raw, index).and_then(|d| {
            dialect::dossier_write(&d, index, now, |n| {
                let digest = state.identity.digest(n);
                (digest.hash, digest.last4)
            })
            .map_err(ApiError::invalid_params)
        });
        match mapped {
            Ok((mut write, gaps)) => {
                if mirrors_portal {
                    // Synced as of its latest step, with the status its steps give: the same
                    // payload again is the same write (and `unchanged`), whenever it comes.
                    let status = current_status(&write.events).unwrap_or(Status::Received);
                    let at = write
                        .events
                        .iter()
                        .map(|e| e.at)
                        .max()
                        .unwrap_or(write.received_at);
                    write.synced = Some((at, status));
                }
                slots.push((index, write.code.to_string(), gaps));
                writes.push(write);
                items.push(None);
            }
            Err(e) => items.push(Some(PortalSyncItem::refused(index, code_of(raw), e))),
        }
    }
    let outcomes = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::put_batch_keeping(
                conn,
                &principal.actor(),
                &scope,
                writes,
                |e: &Event| e.id.starts_with(dialect::PROGRESS_PREFIX),
            )?)
        })
        .await?;
    for ((index, code, gaps), outcome) in slots.into_iter().zip(outcomes) {
        items[index] = Some(match outcome {
            Ok(o) => PortalSyncItem::stored(code, word(&o), gaps),
            Err(e) => PortalSyncItem::refused_by_store(index, code, e.into(), dossier_field),
        });
    }
    let items: Vec<PortalSyncItem> = items.into_iter().flatten().collect();
    for item in &items {
        state
            .metrics
            .dossiers
            .with_label_values(&["portalSync", &item.result])
            .inc();
    }
    Ok(answer(items))
}

async fn progress(
    state: &AppState,
    principal: Principal,
    data: &[&RawValue],
    mirrors_portal: bool,
) -> Result<PortalSyncAnswer, ApiError> {
    let now = now_local();
    let mut items: Vec<Option<PortalSyncItem>> = Vec::with_capacity(data.len());
    let mut slots: Vec<(usize, String)> = Vec::new();
    let mut steps: Vec<(String, Event)> = Vec::new();
    for (index, raw) in data.iter().enumerate() {
        let mapped = parse::<PortalProgress>(raw, index).and_then(|p| {
            dialect::progress_event(&p, index, now).map_err(ApiError::invalid_params)
        });
        match mapped {
            Ok((code, event)) => {
                slots.push((index, code.clone()));
                steps.push((code, event));
                items.push(None);
            }
            Err(e) => items.push(Some(PortalSyncItem::refused(index, code_of(raw), e))),
        }
    }
    let outcomes = state
        .run(move |conn| {
            let scope = principal.unit_scope(conn)?;
            Ok(store::add_progress(
                conn,
                &principal.actor(),
                &scope,
                &steps,
                mirrors_portal,
            )?)
        })
        .await?;
    for ((index, code), outcome) in slots.into_iter().zip(outcomes) {
        items[index] = Some(match outcome {
            Ok(ProgressOutcome::Added) => PortalSyncItem::stored(code, "added".into(), Vec::new()),
            Ok(ProgressOutcome::Duplicate) => {
                PortalSyncItem::stored(code, "duplicate".into(), Vec::new())
            }
            Ok(ProgressOutcome::SetAside(reason)) => PortalSyncItem::stored(
                code,
                "setAside".into(),
                vec![format!("kept on the dossier as a refused event: {reason}")],
            ),
            Ok(ProgressOutcome::Contradicts(reason)) => PortalSyncItem::refused(
                index,
                Some(code),
                ApiError::rule(
                    format!("data[{index}].ThoiDiemXuLy"),
                    format!("contradicts the steps stored after it: {reason}"),
                ),
            ),
            Err(e) => PortalSyncItem::refused_by_store(index, code, e.into(), step_field),
        });
    }
    Ok(answer(items.into_iter().flatten().collect()))
}
