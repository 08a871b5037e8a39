//! The national portal's dossier sync dialect (`DongBoHoSoMC`, `CapNhatTienDoHoSoMC`), as vendor
//! one-stop systems already send it (`PORTAL_RULES.md`, "The sync payload"), mapped onto tthc's
//! dossier model by pure functions: a vendor adds tthc as a second sync target with no new
//! mapping code.
//!
//! A whole-dossier sync carries dates, not events: the events are made from them, each with an
//! id of its own (`dvcqg:received`, `dvcqg:finished` …), so that the same payload again is the
//! same dossier. A progress update carries one event each (`dvcqg:progress:…`). What the payload
//! says that tthc's model has no place for is kept as sent (`portalFields`); what cannot be
//! mapped is reported per item as a gap, never guessed.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::record::{Applicant, ComponentRecord, DossierDetails, DossierWrite, FeeRecord};
use super::{DossierCode, Event, ResultDocument, Status};
use crate::InvalidParam;
use crate::procedure::Channel;

/// The prefix of the ids of events made from a whole-dossier sync.
pub const EVENT_PREFIX: &str = "dvcqg:";
/// The prefix of the ids of events of progress updates: kept when the whole dossier is synced
/// again, since the whole-dossier payload does not list them.
pub const PROGRESS_PREFIX: &str = "dvcqg:progress:";

/// Most supplement requests, components, fees or results a dossier may list.
pub const MAX_LIST: usize = 500;
/// Largest JSON of the fields kept as sent (`portalFields`, a step's payload), in bytes.
pub const MAX_KEPT_BYTES: usize = 8192;
/// The longest actor of a progress step (`NguoiXuLy (ChucDanh)`), in characters, as an event's.
const MAX_ACTOR: usize = 200;
/// The longest note of a progress step (`NoiDungXuLy`), in characters, as an event's.
const MAX_NOTE: usize = 2000;
/// Deepest nesting of a field kept as sent: stored two levels further down (in the details,
/// under `portalFields`), a value nested near serde_json's limit of 128 was stored and could
/// not be read back, and its dossier answered 500 from then on.
pub const MAX_KEPT_DEPTH: usize = 32;

/// Why the fields kept as sent (`other`) cannot be kept: too large, or nested too deep.
fn kept_problem(other: &BTreeMap<String, Value>) -> Option<String> {
    fn depth(v: &Value) -> usize {
        match v {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(fields) => 1 + fields.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    let size: usize = other
        .iter()
        .map(|(k, v)| k.len() + v.to_string().len())
        .sum();
    if size > MAX_KEPT_BYTES {
        return Some(format!(
            "the fields tthc keeps as sent are larger than {MAX_KEPT_BYTES} bytes"
        ));
    }
    if other.values().any(|v| depth(v) > MAX_KEPT_DEPTH) {
        return Some(format!(
            "the fields tthc keeps as sent nest more than {MAX_KEPT_DEPTH} levels deep"
        ));
    }
    None
}

/// A code or amount the portal sends as a number; a string of digits (as some vendors send it)
/// is read too, and an empty one is none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalCode(pub Option<i64>);

impl<'de> Deserialize<'de> for PortalCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(match Value::deserialize(d)? {
            // A whole number written with a decimal point (`8000.0`) is still that number.
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Some(i),
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
                _ => {
                    return Err(serde::de::Error::custom(format!(
                        "expected a whole number, not {n}"
                    )));
                }
            },
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => {
                Some(s.trim().parse().map_err(|_| {
                    serde::de::Error::custom(format!("expected a number, not {s:?}"))
                })?)
            }
            Value::Bool(b) => Some(i64::from(b)),
            Value::Null => None,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "expected a number, not {other}"
                )));
            }
        }))
    }
}

/// A list the portal sends, or `null` for none.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl PortalCode {
    fn is(self, code: i64) -> bool {
        self.0 == Some(code)
    }
}

/// A submitted component (`TaiLieuNop`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalComponent {
    /// The attached file's id.
    #[serde(rename = "TepDinhKemId", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub file_id: Option<Value>,
    /// The attached file's name.
    #[serde(rename = "TenTepDinhKem", default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub file_name: Option<String>,
    /// The component's code in the procedure.
    #[serde(rename = "MaThanhPhanHoSo", default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub component_code: Option<String>,
    /// Where the file can be downloaded.
    #[serde(rename = "DuongDanTaiTepTin", default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub file_url: Option<String>,
    /// 1: digitized data reused.
    #[serde(rename = "DuocSoHoa", default)]
    pub digitized: PortalCode,
    /// 1: taken from the citizen's data store on the portal.
    #[serde(rename = "DuocLayTuKhoDMQG", default)]
    pub from_store: PortalCode,
    /// 1: deleted (not a component any more).
    #[serde(rename = "IsDeleted", default)]
    pub deleted: PortalCode,
}

/// A fee (`DanhSachLePhi`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalFee {
    /// What for.
    #[serde(rename = "TenPhiLePhi", default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub name: Option<String>,
    /// Its code.
    #[serde(rename = "MaPhiLePhi", default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub code: Option<String>,
    /// How it was collected.
    #[serde(rename = "HinhThucThu", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub how: Option<Value>,
    /// The amount in VND.
    #[serde(rename = "Gia", default)]
    pub amount: PortalCode,
    /// Fee or charge.
    #[serde(rename = "LoaiPhiLePhi", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub kind: Option<Value>,
}

/// A supplement request (`DanhSachHoSoBoSung`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalSupplement {
    /// When the supplement was requested (`yyyyMMddHHmmss`).
    #[serde(rename = "NgayBoSung", default)]
    pub requested: Option<String>,
    /// When the supplemented dossier was received back.
    #[serde(rename = "NgayTiepNhanBoSung", default)]
    pub completed: Option<String>,
    /// The request's state.
    #[serde(rename = "TrangThaiBoSung", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub state: Option<Value>,
    /// The due instant before the request.
    #[serde(rename = "NgayHenTraTruoc", default)]
    pub due_before: Option<String>,
    /// The due instant after it.
    #[serde(rename = "NgayHenTraMoi", default)]
    pub due_after: Option<String>,
}

/// A result document (`DanhSachGiayToKetQua`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalResult {
    /// The document's name.
    #[serde(rename = "TenGiayTo", default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub name: Option<String>,
    /// The component code it answers.
    #[serde(rename = "MaThanhPhanHoSo", default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub component_code: Option<String>,
    /// The document's id.
    #[serde(rename = "GiayToId", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub id: Option<Value>,
    /// Where the result file can be downloaded.
    #[serde(rename = "DuongDanTepTinKetQua", default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub file_url: Option<String>,
}

/// A dossier as `DongBoHoSoMC` carries it. Fields tthc does not know are kept as sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "MaHoSo": "000.21.30.H12-260302-0001", "MaTTHC": "1.001193.H12", "TenTTHC": "Đăng ký khai sinh",
    "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": 1, "MaDoiTuong": "001090012345",
    "NgayTiepNhan": "20260302080000", "NgayHenTra": "20260305080000", "TrangThaiHoSo": 10,
    "NgayKetThucXuLy": "20260304100000", "NgayTra": "20260304150000",
    "DonViXuLy": "000.21.30.H12", "KenhThucHien": 2,
    "TaiLieuNop": [{"TenTepDinhKem": "to-khai.pdf", "DuongDanTaiTepTin": "https://dvc.example/f/1", "DuocSoHoa": 1, "DuocLayTuKhoDMQG": 0}],
    "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "Gia": 8000}],
    "DanhSachGiayToKetQua": [{"TenGiayTo": "Giấy khai sinh", "DuongDanTepTinKetQua": "https://dvc.example/kq/1.pdf"}],
    "DuocThanhToanTrucTuyen": 1, "TaiKhoanDuocXacThucVoiVNeID": 1
})))]
pub struct PortalDossier {
    /// The dossier's code.
    #[serde(rename = "MaHoSo", default)]
    pub code: Option<String>,
    /// The national procedure code.
    #[serde(rename = "MaTTHC", default)]
    pub procedure_code: Option<String>,
    /// The applicant's name.
    #[serde(rename = "ChuHoSo", default)]
    pub applicant: Option<String>,
    /// 1 citizen, 2 business.
    #[serde(rename = "LoaiDoiTuong", default)]
    pub applicant_kind: PortalCode,
    /// The applicant's identity number (kept only as a keyed hash and its last 4 characters).
    #[serde(rename = "MaDoiTuong", default)]
    pub applicant_id: Option<String>,
    /// The applicant's e-mail: personal data, not kept.
    #[serde(rename = "Email", default, skip_serializing)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub email: Option<Value>,
    /// The applicant's telephone: personal data, not kept.
    #[serde(rename = "SoDienThoai", default, skip_serializing)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phone: Option<Value>,
    /// Received (`yyyyMMddHHmmss`, local time).
    #[serde(rename = "NgayTiepNhan", default)]
    pub received: Option<String>,
    /// Due.
    #[serde(rename = "NgayHenTra", default)]
    pub due: Option<String>,
    /// The status code, 1–10.
    #[serde(rename = "TrangThaiHoSo", default)]
    pub status: PortalCode,
    /// Returned.
    #[serde(rename = "NgayTra", default)]
    pub returned: Option<String>,
    /// Finished.
    #[serde(rename = "NgayKetThucXuLy", default)]
    pub finished: Option<String>,
    /// The handling unit's code.
    #[serde(rename = "DonViXuLy", default)]
    pub unit: Option<String>,
    /// 1 in person or unknown, 2 online, 3 postal.
    #[serde(rename = "KenhThucHien", default)]
    pub channel: PortalCode,
    /// Submitted components.
    #[serde(rename = "TaiLieuNop", default, deserialize_with = "list")]
    pub components: Vec<PortalComponent>,
    /// Fees.
    #[serde(rename = "DanhSachLePhi", default, deserialize_with = "list")]
    pub fees: Vec<PortalFee>,
    /// Supplement requests.
    #[serde(rename = "DanhSachHoSoBoSung", default, deserialize_with = "list")]
    pub supplements: Vec<PortalSupplement>,
    /// Result documents.
    #[serde(rename = "DanhSachGiayToKetQua", default, deserialize_with = "list")]
    pub results: Vec<PortalResult>,
    /// 1 paid on the national portal, 2 on the province's payment gateway.
    #[serde(rename = "DuocThanhToanTrucTuyen", default)]
    pub paid_online: PortalCode,
    /// 1: a component reuses digitized data.
    #[serde(rename = "HoSoCoThanhPhanSoHoa", default)]
    pub reuses_digitized: PortalCode,
    /// 1: the account was verified with VNeID (population data).
    #[serde(rename = "TaiKhoanDuocXacThucVoiVNeID", default)]
    pub vneid: PortalCode,
    /// Every other field (`TenTTHC`, `MaLinhVuc`, `TrichYeuHoSo`, `GhiChu`, a vendor's own …),
    /// kept as sent.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub other: BTreeMap<String, Value>,
}

/// A progress step as `CapNhatTienDoHoSoMC` carries it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "MaHoSo": "000.21.30.H12-260302-0001", "NguoiXuLy": "Trần Thị Bình", "ChucDanh": "Công chức tư pháp",
    "ThoiDiemXuLy": "20260303091500", "PhongBanXuLy": "Bộ phận một cửa", "NoiDungXuLy": "Chuyển xử lý",
    "TrangThai": 4, "NgayBatDau": "20260302080000", "NgayKetThucTheoQuyDinh": "20260305080000"
})))]
pub struct PortalProgress {
    /// The dossier's code.
    #[serde(rename = "MaHoSo", default)]
    pub code: Option<String>,
    /// Who handled the step.
    #[serde(rename = "NguoiXuLy", default)]
    pub officer: Option<String>,
    /// Their title.
    #[serde(rename = "ChucDanh", default)]
    pub title: Option<String>,
    /// When (`yyyyMMddHHmmss`, local time).
    #[serde(rename = "ThoiDiemXuLy", default)]
    pub at: Option<String>,
    /// The department.
    #[serde(rename = "PhongBanXuLy", default)]
    pub department: Option<String>,
    /// What was done.
    #[serde(rename = "NoiDungXuLy", default)]
    pub content: Option<String>,
    /// The status code after the step, 1–10.
    #[serde(rename = "TrangThai", default)]
    pub status: PortalCode,
    /// When the step started.
    #[serde(rename = "NgayBatDau", default)]
    pub started: Option<String>,
    /// When it was due.
    #[serde(rename = "NgayKetThucTheoQuyDinh", default)]
    pub due: Option<String>,
    /// Every other field, kept in the event's payload.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub other: BTreeMap<String, Value>,
}

/// Something of an item that tthc could not map, and what it did instead.
pub type Gap = String;

/// Reads a portal instant: `yyyyMMddHHmmss`, local time: fourteen digits, since chrono's parser
/// alone takes a field of fewer digits, or spaces between them (until 2026-12-07
/// `"2026030208000"`, its seconds cut off, was read as 08:00:00).
pub fn instant(name: &str, text: &str) -> Result<NaiveDateTime, InvalidParam> {
    let text = text.trim();
    let refused = || {
        InvalidParam::new(
            name,
            format!("{text:?} is not an instant written yyyyMMddHHmmss"),
        )
    };
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S").map_err(|_| refused())
}

/// An optional instant: absent or empty is none.
fn optional_instant(
    name: &str,
    text: Option<&str>,
    invalid: &mut Vec<InvalidParam>,
) -> Option<NaiveDateTime> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    instant(name, text).map_err(|p| invalid.push(p)).ok()
}

/// An instant that [`optional_instant`] reads, refused by the window's rules (`window`) under
/// the portal's own name: storage checks the same, but would name tthc's fields (`receivedAt`,
/// `events[2].at`), which a vendor speaking the portal's dialect never sent.
fn checked(
    name: &str,
    text: Option<&str>,
    rule: impl Fn(&str, NaiveDateTime) -> Option<InvalidParam>,
    invalid: &mut Vec<InvalidParam>,
) -> Option<NaiveDateTime> {
    let at = optional_instant(name, text, invalid)?;
    match rule(name, at) {
        Some(p) => {
            invalid.push(p);
            None
        }
        None => Some(at),
    }
}

fn text(value: Option<&String>) -> Option<String> {
    value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn event(id: &str, status: Status, at: NaiveDateTime) -> Event {
    Event::new(format!("{EVENT_PREFIX}{id}"), status, at)
}

/// The media type a result's file name or link suggests.
fn media_type(link: &str) -> &'static str {
    let lower = link.to_ascii_lowercase();
    let ext = lower
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('.')
        .next()
        .unwrap_or("");
    match ext {
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "rar" => "application/vnd.rar",
        "7z" => "application/x-7z-compressed",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}

/// A dossier write mapped from a whole-dossier sync, with what could not be mapped. `index`
/// names the item in the problems (`data[3].NgayTiepNhan`); an instant that happened must not
/// be after `now` (with the clock slack storage allows) nor before 2000, and a due one must be
/// within the calendar's years, as storage checks them; `identity` turns an identity number
/// into its keyed hash and last 4 characters.
pub fn dossier_write(
    d: &PortalDossier,
    index: usize,
    now: NaiveDateTime,
    identity: impl Fn(&str) -> (String, String),
) -> Result<(DossierWrite, Vec<Gap>), Vec<InvalidParam>> {
    let field = |name: &str| format!("data[{index}].{name}");
    let happened = |name: &str, at| crate::window::happened(name, at, now);
    let mut invalid = Vec::new();
    let mut gaps = Vec::new();
    let code = match text(d.code.as_ref()) {
        None => {
            invalid.push(InvalidParam::new(field("MaHoSo"), "is required"));
            None
        }
        Some(c) => DossierCode::parse(&c)
            .map_err(|r| invalid.push(InvalidParam::new(field("MaHoSo"), r)))
            .ok(),
    };
    let procedure_code = text(d.procedure_code.as_ref());
    if procedure_code.is_none() {
        invalid.push(InvalidParam::new(field("MaTTHC"), "is required"));
    }
    let unit = text(d.unit.as_ref());
    if unit.is_none() {
        invalid.push(InvalidParam::new(
            field("DonViXuLy"),
            "is required: the code of the handling unit in tthc",
        ));
    }
    let received = match text(d.received.as_ref()) {
        None => {
            invalid.push(InvalidParam::new(
                field("NgayTiepNhan"),
                "is required: tthc judges a dossier from its receipt",
            ));
            None
        }
        Some(t) => checked(
            &field("NgayTiepNhan"),
            Some(t.as_str()),
            happened,
            &mut invalid,
        ),
    };
    // After a supplement the portal's `NgayHenTra` is the moved due date (`NgayHenTraMoi`);
    // tthc adds the supplement time itself, so it takes the due date before the first request.
    let due_before = d
        .supplements
        .first()
        .and_then(|s| s.due_before.as_deref())
        .filter(|t| !t.trim().is_empty());
    let due = match due_before {
        Some(t) => checked(
            &field("DanhSachHoSoBoSung[0].NgayHenTraTruoc"),
            Some(t),
            crate::window::due,
            &mut invalid,
        ),
        None => checked(
            &field("NgayHenTra"),
            d.due.as_deref(),
            crate::window::due,
            &mut invalid,
        ),
    };
    for (name, len) in [
        ("TaiLieuNop", d.components.len()),
        ("DanhSachLePhi", d.fees.len()),
        ("DanhSachHoSoBoSung", d.supplements.len()),
        ("DanhSachGiayToKetQua", d.results.len()),
    ] {
        if len > MAX_LIST {
            invalid.push(InvalidParam::new(
                field(name),
                format!("lists at most {MAX_LIST} items"),
            ));
        }
    }
    if d.applicant
        .as_deref()
        .is_some_and(|n| n.chars().count() > 300)
    {
        invalid.push(InvalidParam::new(
            field("ChuHoSo"),
            "is longer than 300 characters",
        ));
    }
    if let Some(id) = text(d.applicant_id.as_ref())
        && !(4..=20).contains(&id.chars().count())
    {
        invalid.push(InvalidParam::new(
            field("MaDoiTuong"),
            "must be 4 to 20 characters (an identity number)",
        ));
    }
    let long = |t: &Option<String>| {
        t.as_ref()
            .is_some_and(|t| t.chars().count() > super::RECORD_TEXT_MAX)
    };
    for (name, too_long) in [
        (
            "TaiLieuNop",
            d.components
                .iter()
                .any(|c| long(&c.file_name) || long(&c.component_code) || long(&c.file_url)),
        ),
        (
            "DanhSachLePhi",
            d.fees.iter().any(|f| long(&f.name) || long(&f.code)),
        ),
        (
            "DanhSachGiayToKetQua",
            d.results
                .iter()
                .any(|r| long(&r.name) || long(&r.component_code) || long(&r.file_url)),
        ),
    ] {
        if too_long {
            invalid.push(InvalidParam::new(
                field(name),
                format!(
                    "each name, code and link at most {} characters",
                    super::RECORD_TEXT_MAX
                ),
            ));
        }
    }
    for f in &d.fees {
        if f.amount.0.is_some_and(|a| a < 0) {
            invalid.push(InvalidParam::new(
                field("DanhSachLePhi"),
                "Gia must not be negative",
            ));
            break;
        }
    }
    if let Some(reason) = kept_problem(&d.other) {
        invalid.push(InvalidParam::new(field("(other fields)"), reason));
    }
    let finished = checked(
        &field("NgayKetThucXuLy"),
        d.finished.as_deref(),
        happened,
        &mut invalid,
    );
    let returned = checked(
        &field("NgayTra"),
        d.returned.as_deref(),
        happened,
        &mut invalid,
    );
    let status = match d.status.0 {
        None => None,
        Some(c) => match u8::try_from(c).ok().and_then(Status::from_code) {
            Some(s) => Some(s),
            None => {
                invalid.push(InvalidParam::new(
                    field("TrangThaiHoSo"),
                    format!("{c} is not a status code (1–10)"),
                ));
                None
            }
        },
    };
    let mut events = Vec::new();
    let mut supplements = Vec::new();
    for (i, s) in d.supplements.iter().enumerate() {
        let requested = checked(
            &field(&format!("DanhSachHoSoBoSung[{i}].NgayBoSung")),
            s.requested.as_deref(),
            happened,
            &mut invalid,
        );
        let completed = checked(
            &field(&format!("DanhSachHoSoBoSung[{i}].NgayTiepNhanBoSung")),
            s.completed.as_deref(),
            happened,
            &mut invalid,
        );
        supplements.push((i, requested, completed));
    }
    let (Some(code), Some(procedure_code), Some(unit), Some(received), true) =
        (code, procedure_code, unit, received, invalid.is_empty())
    else {
        return Err(invalid);
    };

    // The events the dates say. A dossier the portal has as newly registered or not accepted
    // was never received: its history starts with the registration.
    match status {
        Some(Status::NewlyRegistered) => {
            events.push(event("registered", Status::NewlyRegistered, received));
        }
        Some(Status::NotAccepted) => {
            events.push(event("registered", Status::NewlyRegistered, received));
            events.push(event("notAccepted", Status::NotAccepted, received));
            gaps.push(
                "TrangThaiHoSo 3 (not accepted) carries no instant of the refusal: dated at \
                 NgayTiepNhan"
                    .to_owned(),
            );
        }
        _ => events.push(event("received", Status::Received, received)),
    }
    for (i, requested, completed) in supplements {
        match requested {
            Some(at) => events.push(event(
                &format!("supplement:{i}:requested"),
                Status::SupplementRequested,
                at,
            )),
            None => gaps.push(format!(
                "DanhSachHoSoBoSung[{i}] has no NgayBoSung: the request is not stored"
            )),
        }
        if let (Some(_), Some(at)) = (requested, completed) {
            events.push(event(
                &format!("supplement:{i}:completed"),
                Status::Received,
                at,
            ));
        }
    }
    if let Some(at) = finished {
        events.push(event("finished", Status::Finished, at));
    }
    if let Some(at) = returned {
        events.push(event("returned", Status::Returned, at));
    }
    // A status the dates do not show cannot be dated: reported, never invented.
    let dated = |s: Status| events.iter().any(|e| e.status == s);
    if let Some(s) = status
        && !matches!(
            s,
            Status::NewlyRegistered | Status::NotAccepted | Status::Received | Status::Processing
        )
        && !dated(s)
    {
        gaps.push(format!(
            "TrangThaiHoSo {} ({}) has no instant in the payload (NgayKetThucXuLy, NgayTra or \
             DanhSachHoSoBoSung): not stored until a progress update (CapNhatTienDoHoSoMC) \
             dates it",
            s.code(),
            s.as_str()
        ));
    }

    // `HoSoCoThanhPhanSoHoa` says the dossier reused digitized data without saying which
    // component: kept on the dossier, so that one synced without `TaiLieuNop` (as a ministry's
    // system syncs) counts for 4.3 as the portal counts it.
    let components: Vec<ComponentRecord> = d
        .components
        .iter()
        .filter(|c| !c.deleted.is(1))
        .map(|c| {
            let link = text(c.file_url.as_ref());
            ComponentRecord {
                name: text(c.file_name.as_ref())
                    .or_else(|| text(c.component_code.as_ref()))
                    .unwrap_or_else(|| "(không tên)".to_owned()),
                sha256: None,
                digitized: link.is_some() || c.digitized.is(1),
                file_url: link,
                reused: c.digitized.is(1),
                from_citizen_store: c.from_store.is(1),
            }
        })
        .collect();
    let paid_online = d.paid_online.is(1) || d.paid_online.is(2);
    if paid_online && d.fees.is_empty() {
        gaps.push(
            "DuocThanhToanTrucTuyen says paid online but DanhSachLePhi lists no fee: no online \
             payment stored"
                .to_owned(),
        );
    }
    let mut fees: Vec<FeeRecord> = Vec::new();
    for (i, f) in d.fees.iter().enumerate() {
        // Taken as zero, a fee without its amount would make the dossier exempt (PORTAL_RULES
        // 3.6 leaves out the dossiers whose fees are all zero).
        let Some(amount_vnd) = f.amount.0 else {
            gaps.push(format!(
                "DanhSachLePhi[{i}] has no Gia: the fee is not stored"
            ));
            continue;
        };
        fees.push(FeeRecord {
            name: text(f.name.as_ref())
                .or_else(|| text(f.code.as_ref()))
                .unwrap_or_else(|| "(không tên)".to_owned()),
            amount_vnd,
            paid_online,
        });
    }
    let mut results = Vec::new();
    for (i, r) in d.results.iter().enumerate() {
        let Some(link) = text(r.file_url.as_ref()) else {
            gaps.push(format!(
                "DanhSachGiayToKetQua[{i}] has no DuongDanTepTinKetQua: no electronic result \
                 stored"
            ));
            continue;
        };
        results.push(ResultDocument {
            name: text(r.name.as_ref()).unwrap_or_else(|| link.clone()),
            media_type: media_type(&link).to_owned(),
            // The sync payload carries a link, not the file: its size and digest are unknown.
            size_bytes: None,
            sha256: String::new(),
            pages: None,
            signed: false,
            saved_to_citizen_store: false,
        });
    }
    let (identity_hash, identity_last4) =
        text(d.applicant_id.as_ref()).map(|n| identity(&n)).unzip();
    let mut kept = d.other.clone();
    kept.retain(|_, v| !v.is_null());
    let write = DossierWrite {
        code,
        procedure_code,
        unit,
        channel: match d.channel.0 {
            Some(2) => Channel::Online,
            Some(3) => Channel::Postal,
            _ => Channel::InPerson,
        },
        received_at: received,
        details: DossierDetails {
            submitted_at: None,
            applicant: Applicant {
                kind: if d.applicant_kind.is(2) {
                    "organization".to_owned()
                } else {
                    "citizen".to_owned()
                },
                name: text(d.applicant.as_ref()).unwrap_or_default(),
                identity_last4,
                identity_hash,
            },
            financial_obligation: fees.iter().any(|f| f.amount_vnd > 0),
            fees,
            components,
            vneid_verified: d.vneid.is(1),
            population_db_used: d.vneid.is(1),
            reuses_digitized_data: d.reuses_digitized.is(1),
            results,
            vendor_due_at: due,
            // The portal's payload says nothing of when the vendor's record changed.
            revised_at: None,
            sync_error: None,
            portal_fields: kept,
        },
        synced: None,
        rating: None,
        events,
    };
    Ok((write, gaps))
}

/// The event a progress step adds, with the dossier's code. `index` names the item in the
/// problems.
pub fn progress_event(
    p: &PortalProgress,
    index: usize,
    now: NaiveDateTime,
) -> Result<(String, Event), Vec<InvalidParam>> {
    let field = |name: &str| format!("data[{index}].{name}");
    let mut invalid = Vec::new();
    let code = text(p.code.as_ref());
    if code.is_none() {
        invalid.push(InvalidParam::new(field("MaHoSo"), "is required"));
    }
    let at = match text(p.at.as_ref()) {
        None => {
            invalid.push(InvalidParam::new(field("ThoiDiemXuLy"), "is required"));
            None
        }
        Some(t) => checked(
            &field("ThoiDiemXuLy"),
            Some(t.as_str()),
            |name, at| crate::window::happened(name, at, now),
            &mut invalid,
        ),
    };
    let status = match p.status.0 {
        None => {
            invalid.push(InvalidParam::new(field("TrangThai"), "is required"));
            None
        }
        Some(c) => {
            let s = u8::try_from(c).ok().and_then(Status::from_code);
            if s.is_none() {
                invalid.push(InvalidParam::new(
                    field("TrangThai"),
                    format!("{c} is not a status code (1–10)"),
                ));
            }
            s
        }
    };
    if let Some(reason) = kept_problem(&p.other) {
        invalid.push(InvalidParam::new(field("(other fields)"), reason));
    }
    // The bounds of an event pushed through `POST /dossiers/{code}/events` (actor 200
    // characters, note 2000, payload 8 KiB of JSON): unbounded, a step's texts were stored
    // whole, and the dossier could not be pushed back as read.
    let actor = match (text(p.officer.as_ref()), text(p.title.as_ref())) {
        (Some(o), Some(t)) => Some(format!("{o} ({t})")),
        (o, _) => o,
    };
    if actor
        .as_ref()
        .is_some_and(|a| a.chars().count() > MAX_ACTOR)
    {
        invalid.push(InvalidParam::new(
            field("NguoiXuLy"),
            format!("with ChucDanh, is longer than {MAX_ACTOR} characters"),
        ));
    }
    let note = text(p.content.as_ref());
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        invalid.push(InvalidParam::new(
            field("NoiDungXuLy"),
            format!("is longer than {MAX_NOTE} characters"),
        ));
    }
    let mut payload = serde_json::Map::new();
    for (key, value) in [
        ("PhongBanXuLy", p.department.as_ref()),
        ("NgayBatDau", p.started.as_ref()),
        ("NgayKetThucTheoQuyDinh", p.due.as_ref()),
    ] {
        if let Some(v) = value {
            payload.insert(key.to_owned(), Value::String(v.clone()));
        }
    }
    for (key, value) in &p.other {
        payload.insert(key.clone(), value.clone());
    }
    let payload = (!payload.is_empty()).then(|| Value::Object(payload).to_string());
    if payload.as_ref().is_some_and(|p| p.len() > MAX_KEPT_BYTES) {
        let name = if p.department.is_some() {
            "PhongBanXuLy"
        } else {
            "(other fields)"
        };
        invalid.push(InvalidParam::new(
            field(name),
            format!(
                "what the step keeps (PhongBanXuLy, NgayBatDau, NgayKetThucTheoQuyDinh and the \
                 other fields) is larger than {MAX_KEPT_BYTES} bytes as JSON"
            ),
        ));
    }
    let (Some(code), Some(at), Some(status), true) = (code, at, status, invalid.is_empty()) else {
        return Err(invalid);
    };
    Ok((
        code,
        Event {
            id: format!(
                "{PROGRESS_PREFIX}{}:{}",
                at.format("%Y%m%d%H%M%S"),
                status.code()
            ),
            status,
            at,
            new_due: None,
            actor,
            note,
            payload,
        },
    ))
}

/// What tthc holds of a dossier, to send to the portal in its dialect (the relay).
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Code.
    pub code: &'a str,
    /// National procedure code.
    pub procedure_code: &'a str,
    /// Handling unit's code.
    pub unit: &'a str,
    /// Channel.
    pub channel: Channel,
    /// Current status.
    pub status: Option<Status>,
    /// Received (local time).
    pub received_at: NaiveDateTime,
    /// Due instant used for timing (local time).
    pub due_at: Option<NaiveDateTime>,
    /// The due instant after supplement time and apologies (local time).
    pub effective_due_at: Option<NaiveDateTime>,
    /// The history, in instant order.
    pub events: &'a [Event],
    /// The rest.
    pub details: &'a DossierDetails,
}

fn stamp(at: NaiveDateTime) -> String {
    at.format("%Y%m%d%H%M%S").to_string()
}

fn flag(on: bool) -> PortalCode {
    PortalCode(Some(i64::from(on)))
}

/// The `DongBoHoSoMC` item of a stored dossier: the inverse of [`dossier_write`] for what tthc
/// keeps. The fields it kept as sent (`portalFields`: `TenTTHC`, `TrichYeuHoSo` …) go back as
/// they came. Not sent, because tthc does not keep them: the applicant's identity number
/// (`MaDoiTuong`, kept only as a keyed hash), e-mail and telephone, and file links.
pub fn outgoing(d: &Outgoing<'_>) -> PortalDossier {
    let last = |status: Status| {
        d.events
            .iter()
            .rev()
            .find(|e| e.status == status)
            .map(|e| stamp(e.at))
    };
    let supplements: Vec<PortalSupplement> = d
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.status == Status::SupplementRequested)
        .enumerate()
        .map(|(n, (i, e))| PortalSupplement {
            requested: Some(stamp(e.at)),
            completed: d.events[i + 1..]
                .iter()
                .find(|n| n.status != Status::SupplementRequested)
                .map(|n| stamp(n.at)),
            state: None,
            // The due date before the first request, as `dossier_write` reads it back.
            due_before: (n == 0).then_some(d.due_at).flatten().map(stamp),
            due_after: e.new_due.map(stamp),
        })
        .collect();
    // After a supplement the portal's `NgayHenTra` is the moved due date, as `dossier_write`
    // reads it (until 2026-12-07 the relay sent the date before the request, so a dossier
    // finished between the two was late on the portal and on time in tthc).
    let due = if supplements.is_empty() {
        d.due_at
    } else {
        d.effective_due_at.or(d.due_at)
    };
    let details = d.details;
    PortalDossier {
        code: Some(d.code.to_owned()),
        procedure_code: Some(d.procedure_code.to_owned()),
        applicant: Some(details.applicant.name.clone()),
        applicant_kind: PortalCode(Some(if details.applicant.kind == "organization" {
            2
        } else {
            1
        })),
        applicant_id: None,
        email: None,
        phone: None,
        received: Some(stamp(d.received_at)),
        due: due.map(stamp),
        status: PortalCode(d.status.map(|s| i64::from(s.code()))),
        returned: last(Status::Returned),
        finished: last(Status::Finished),
        unit: Some(d.unit.to_owned()),
        channel: PortalCode(Some(match d.channel {
            Channel::InPerson => 1,
            Channel::Online => 2,
            Channel::Postal => 3,
        })),
        components: details
            .components
            .iter()
            .map(|c| PortalComponent {
                file_name: Some(c.name.clone()),
                // The portal reads `DuocSoHoa` as reuse (PORTAL_RULES 4.3) and a file by its
                // link (4.2): a component scanned but not reused goes out with its link only.
                file_url: c.file_url.clone(),
                digitized: flag(c.reused),
                from_store: flag(c.from_citizen_store),
                ..PortalComponent::default()
            })
            .collect(),
        fees: details
            .fees
            .iter()
            .map(|f| PortalFee {
                name: Some(f.name.clone()),
                amount: PortalCode(Some(f.amount_vnd)),
                ..PortalFee::default()
            })
            .collect(),
        supplements,
        results: details
            .results
            .iter()
            .map(|r| PortalResult {
                name: Some(r.name.clone()),
                ..PortalResult::default()
            })
            .collect(),
        paid_online: PortalCode(details.fees.iter().any(|f| f.paid_online).then_some(1)),
        reuses_digitized: flag(
            details.reuses_digitized_data || details.components.iter().any(|c| c.reused),
        ),
        vneid: flag(details.vneid_verified),
        other: details.portal_fields.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::tests::at;

    fn portal(json: Value) -> PortalDossier {
        serde_json::from_value(json).unwrap()
    }

    fn base() -> Value {
        serde_json::json!({
            "MaHoSo": "C1-260302-0001", "MaTTHC": "1.000001", "DonViXuLy": "C1",
            "NgayTiepNhan": "20260302080000", "TrangThaiHoSo": "2", "KenhThucHien": "2"
        })
    }

    /// When the tests' dossiers are mapped: after every instant they name.
    fn now() -> NaiveDateTime {
        at("2026-12-01 00:00")
    }

    fn no_identity(_: &str) -> (String, String) {
        unreachable!("no identity number in these payloads")
    }

    #[test]
    fn codes_are_read_from_numbers_and_strings_of_digits() {
        let c: PortalCode = serde_json::from_str(r#""4""#).unwrap();
        assert_eq!(c, PortalCode(Some(4)));
        assert_eq!(serde_json::from_str::<PortalCode>("4").unwrap(), c);
        assert_eq!(
            serde_json::from_str::<PortalCode>(r#""""#).unwrap(),
            PortalCode(None)
        );
        assert!(serde_json::from_str::<PortalCode>(r#""bốn""#).is_err());
        assert_eq!(
            instant("x", "20260302080000").unwrap(),
            at("2026-03-02 08:00")
        );
        assert_eq!(instant("x", "2026-03-02").unwrap_err().name, "x");
        // Fourteen digits exactly: a stamp cut short, or spaced, is refused, not guessed.
        for cut in [
            "2026030208000",
            "20260302 080000",
            "2026 03 02 08 00 00",
            "202603020800001",
        ] {
            assert!(instant("x", cut).is_err(), "{cut}");
        }
        assert!(instant("x", " 20260302080000 ").is_ok(), "trimmed");
    }

    #[test]
    fn dates_become_events_and_undated_statuses_gaps() {
        let mut d = base();
        d["NgayKetThucXuLy"] = "20260304100000".into();
        d["TrangThaiHoSo"] = 8.into();
        let (w, gaps) = dossier_write(&portal(d), 0, now(), no_identity).unwrap();
        let events: Vec<(&str, Status)> =
            w.events.iter().map(|e| (e.id.as_str(), e.status)).collect();
        assert_eq!(
            events,
            [
                ("dvcqg:received", Status::Received),
                ("dvcqg:finished", Status::Finished)
            ]
        );
        assert_eq!(w.channel, Channel::Online);
        assert_eq!(gaps.len(), 1);
        assert!(gaps[0].starts_with("TrangThaiHoSo 8 (stopped)"), "{gaps:?}");
        // Not accepted: never received.
        let mut refused = base();
        refused["TrangThaiHoSo"] = 3.into();
        let (w, gaps) = dossier_write(&portal(refused), 0, now(), no_identity).unwrap();
        let statuses: Vec<Status> = w.events.iter().map(|e| e.status).collect();
        assert_eq!(statuses, [Status::NewlyRegistered, Status::NotAccepted]);
        assert_eq!(gaps.len(), 1);
    }

    #[test]
    fn a_fee_without_its_amount_is_a_gap_not_an_exemption() {
        let mut d = base();
        d["DanhSachLePhi"] = serde_json::json!([
            {"TenPhiLePhi": "Lệ phí"},
            {"TenPhiLePhi": "Phí", "Gia": ""},
            {"TenPhiLePhi": "Phí in", "Gia": 0}
        ]);
        let (w, gaps) = dossier_write(&portal(d), 0, now(), no_identity).unwrap();
        let kept: Vec<(&str, i64)> = w
            .details
            .fees
            .iter()
            .map(|f| (f.name.as_str(), f.amount_vnd))
            .collect();
        assert_eq!(kept, [("Phí in", 0)]);
        assert_eq!(
            gaps,
            [
                "DanhSachLePhi[0] has no Gia: the fee is not stored",
                "DanhSachLePhi[1] has no Gia: the fee is not stored"
            ]
        );
    }

    #[test]
    fn problems_name_the_item_and_the_field() {
        let mut d = base();
        d["MaHoSo"] = "có dấu".into();
        d["NgayTiepNhan"] = "".into();
        d["DanhSachHoSoBoSung"] = serde_json::json!([{"NgayBoSung": "hôm qua"}]);
        let names = refused(dossier_write(&portal(d), 4, now(), no_identity));
        assert_eq!(
            names,
            [
                "data[4].MaHoSo",
                "data[4].NgayTiepNhan",
                "data[4].DanhSachHoSoBoSung[0].NgayBoSung"
            ]
        );
    }

    #[test]
    fn instants_outside_the_window_are_refused_under_the_portals_names() {
        let mut d = base();
        d["NgayTiepNhan"] = "19990302080000".into();
        d["NgayHenTra"] = "29990302080000".into();
        d["NgayKetThucXuLy"] = "20261201001100".into();
        d["NgayTra"] = "20261201000900".into();
        d["DanhSachHoSoBoSung"] = serde_json::json!([
            {"NgayBoSung": "20270101000000", "NgayTiepNhanBoSung": "20270102000000"}
        ]);
        let names = refused(dossier_write(&portal(d), 2, now(), no_identity));
        assert_eq!(
            names,
            [
                "data[2].NgayTiepNhan",
                "data[2].NgayHenTra",
                "data[2].NgayKetThucXuLy",
                "data[2].DanhSachHoSoBoSung[0].NgayBoSung",
                "data[2].DanhSachHoSoBoSung[0].NgayTiepNhanBoSung"
            ],
            "NgayTra, 9 minutes ahead, is within the clock's slack"
        );
    }

    /// The fields a refusal names.
    fn refused<T: std::fmt::Debug>(r: Result<T, Vec<InvalidParam>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|p| p.name).collect()
    }

    #[test]
    fn a_progress_step_is_one_event_with_its_officer_and_details() {
        let p: PortalProgress = serde_json::from_value(serde_json::json!({
            "MaHoSo": "C1-260302-0001", "NguoiXuLy": "Bình", "ChucDanh": "Công chức",
            "ThoiDiemXuLy": "20260303091500", "NoiDungXuLy": "Chuyển xử lý", "TrangThai": "4",
            "PhongBanXuLy": "Một cửa", "MaBuoc": "B2"
        }))
        .unwrap();
        let (code, e) = progress_event(&p, 0, at("2026-12-01 00:00")).unwrap();
        assert_eq!(code, "C1-260302-0001");
        assert_eq!(e.id, "dvcqg:progress:20260303091500:4");
        assert_eq!(e.status, Status::Processing);
        assert_eq!(e.at, at("2026-03-03 09:15"));
        assert_eq!(e.actor.as_deref(), Some("Bình (Công chức)"));
        let payload: Value = serde_json::from_str(e.payload.as_deref().unwrap()).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({"PhongBanXuLy": "Một cửa", "MaBuoc": "B2"})
        );
        let bad: PortalProgress =
            serde_json::from_value(serde_json::json!({"MaHoSo": "X", "TrangThai": 12})).unwrap();
        let names = refused(progress_event(&bad, 1, at("2026-12-01 00:00")));
        assert_eq!(names, ["data[1].ThoiDiemXuLy", "data[1].TrangThai"]);
        // Texts within an event's bounds (they were stored whole, however long).
        let long: PortalProgress = serde_json::from_value(serde_json::json!({
            "MaHoSo": "C1-260302-0001", "ThoiDiemXuLy": "20260303091500", "TrangThai": 4,
            "NguoiXuLy": "B".repeat(150), "ChucDanh": "C".repeat(60),
            "NoiDungXuLy": "N".repeat(2001), "PhongBanXuLy": "P".repeat(9000)
        }))
        .unwrap();
        let names = refused(progress_event(&long, 2, at("2026-12-01 00:00")));
        assert_eq!(
            names,
            [
                "data[2].NguoiXuLy",
                "data[2].NoiDungXuLy",
                "data[2].PhongBanXuLy"
            ]
        );
        let fits: PortalProgress = serde_json::from_value(serde_json::json!({
            "MaHoSo": "C1-260302-0001", "ThoiDiemXuLy": "20260303091500", "TrangThai": 4,
            "NguoiXuLy": "B".repeat(150), "ChucDanh": "C".repeat(47),
            "NoiDungXuLy": "N".repeat(2000), "PhongBanXuLy": "P".repeat(8000)
        }))
        .unwrap();
        assert!(progress_event(&fits, 2, at("2026-12-01 00:00")).is_ok());
    }

    #[test]
    fn result_links_give_their_media_type() {
        assert_eq!(media_type("https://x/kq/1.PDF?token=2"), "application/pdf");
        assert_eq!(media_type("kq.zip"), "application/zip");
        assert_eq!(media_type("https://x/kq"), "application/octet-stream");
    }

    /// What the relay reads of a stored write, its timing not stored.
    fn outgoing_of(w: &DossierWrite) -> Outgoing<'_> {
        Outgoing {
            code: w.code.as_str(),
            procedure_code: &w.procedure_code,
            unit: &w.unit,
            channel: w.channel,
            status: w.events.last().map(|e| e.status),
            received_at: w.received_at,
            due_at: w.details.vendor_due_at,
            effective_due_at: None,
            events: &w.events,
            details: &w.details,
        }
    }

    /// The payload the relay sends for a stored write.
    fn going_out(w: &DossierWrite) -> PortalDossier {
        outgoing(&outgoing_of(w))
    }

    #[test]
    fn after_a_supplement_the_due_date_goes_out_moved_with_the_one_before() {
        let mut d = base();
        d["TrangThaiHoSo"] = 4.into();
        d["NgayHenTra"] = "20260306090000".into();
        d["DanhSachHoSoBoSung"] = serde_json::json!([{
            "NgayBoSung": "20260303080000", "NgayTiepNhanBoSung": "20260304090000",
            "NgayHenTraTruoc": "20260305080000", "NgayHenTraMoi": "20260306090000"
        }]);
        let (w, _) = dossier_write(&portal(d), 0, now(), no_identity).unwrap();
        assert_eq!(w.details.vendor_due_at, Some(at("2026-03-05 08:00")));
        let mut out = going_out(&w);
        // Without the moved date (a dossier whose timing is not stored), the date before.
        assert_eq!(out.due.as_deref(), Some("20260305080000"));
        out = outgoing(&Outgoing {
            effective_due_at: Some(at("2026-03-06 09:00")),
            ..outgoing_of(&w)
        });
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["NgayHenTra"], "20260306090000");
        assert_eq!(
            json["DanhSachHoSoBoSung"][0]["NgayHenTraTruoc"],
            "20260305080000"
        );
        // Read back, it is the same dossier: judged from the date before the request.
        let again: PortalDossier = serde_json::from_value(json).unwrap();
        let (back, _) = dossier_write(&again, 0, now(), no_identity).unwrap();
        assert_eq!(back.details.vendor_due_at, w.details.vendor_due_at);
    }

    #[test]
    fn a_stored_dossier_goes_out_as_it_would_come_in() {
        let mut d = base();
        d["NgayKetThucXuLy"] = "20260304100000".into();
        d["NgayTra"] = "20260304150000".into();
        d["TrangThaiHoSo"] = 10.into();
        d["NgayHenTra"] = "20260305080000".into();
        d["TenTTHC"] = "Đăng ký khai sinh".into();
        d["DanhSachLePhi"] = serde_json::json!([{"TenPhiLePhi": "Lệ phí", "Gia": 8000}]);
        d["TaiLieuNop"] = serde_json::json!([
            {"TenTepDinhKem": "to-khai.pdf", "DuocSoHoa": 1},
            {"TenTepDinhKem": "cccd.pdf", "DuocLayTuKhoDMQG": 1},
            {"TenTepDinhKem": "ban-sao.pdf", "DuongDanTaiTepTin": "https://x/ban-sao.pdf"}
        ]);
        let (w, _) = dossier_write(&portal(d), 0, now(), no_identity).unwrap();
        let out = going_out(&w);
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["MaHoSo"], "C1-260302-0001");
        assert_eq!(json["TrangThaiHoSo"], 10);
        assert_eq!(json["KenhThucHien"], 2);
        assert_eq!(json["NgayTiepNhan"], "20260302080000");
        assert_eq!(json["NgayKetThucXuLy"], "20260304100000");
        assert_eq!(json["NgayTra"], "20260304150000");
        assert_eq!(json["TenTTHC"], "Đăng ký khai sinh", "kept fields go back");
        assert_eq!(json["DanhSachLePhi"][0]["Gia"], 8000);
        assert_eq!(json["TaiLieuNop"][0]["DuocSoHoa"], 1);
        // Reused is not taken from the citizen's store, nor the other way round.
        assert_eq!(json["TaiLieuNop"][0]["DuocLayTuKhoDMQG"], 0);
        assert_eq!(json["TaiLieuNop"][1]["DuocSoHoa"], 0);
        assert_eq!(json["TaiLieuNop"][1]["DuocLayTuKhoDMQG"], 1);
        // Scanned, not reused: its link, and no reuse.
        assert_eq!(json["TaiLieuNop"][2]["DuocSoHoa"], 0);
        assert_eq!(
            json["TaiLieuNop"][2]["DuongDanTaiTepTin"],
            "https://x/ban-sao.pdf"
        );
        assert!(json.get("Email").is_none());
        // And read again, it is the same dossier.
        let (again, _) = dossier_write(&out, 0, now(), no_identity).unwrap();
        assert_eq!(again.events, w.events);
        assert_eq!(again.channel, w.channel);
        assert_eq!(again.details.fees, w.details.fees);
        assert_eq!(again.details.components, w.details.components);
        assert_eq!(json["HoSoCoThanhPhanSoHoa"], 1, "a component reused");

        // A dossier that says it reused data, without components: the mark goes out, and
        // comes back.
        let mut d = base();
        d["HoSoCoThanhPhanSoHoa"] = 1.into();
        let (w, gaps) = dossier_write(&portal(d), 0, now(), no_identity).unwrap();
        assert!(w.details.reuses_digitized_data);
        assert!(w.details.components.is_empty());
        assert!(gaps.is_empty(), "{gaps:?}");
        let out = going_out(&w);
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["HoSoCoThanhPhanSoHoa"], 1);
        let (again, _) = dossier_write(&out, 0, now(), no_identity).unwrap();
        assert!(again.details.reuses_digitized_data);
        let mut d = base();
        d["HoSoCoThanhPhanSoHoa"] = 0.into();
        let (w, _) = dossier_write(&portal(d), 0, now(), no_identity).unwrap();
        assert!(!w.details.reuses_digitized_data);
    }
}
