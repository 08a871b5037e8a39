//! Dossiers synced in the national portal's dialect (`POST /portal-sync`): the same results as
//! the native API, vendors' messy histories stored and reported, progress steps in any order,
//! grants, and the portal's answer shape.

use serde_json::{Value, json};
use tthc_tests::{Status, TestApp};

use crate::procedures::seed;

/// A dossier of 1.000001 (3 working days) at C1 as a vendor syncs it to the portal: received
/// Monday 2 March 08:00, a supplement requested Tuesday 09:00 and supplied Wednesday 10:00,
/// finished Friday 6 March 10:00, returned at 15:00.
pub(crate) fn portal_dossier(code: &str) -> Value {
    json!({
        "MaHoSo": code, "MaTTHC": "1.000001", "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "HT", "TenLinhVuc": "Hộ tịch", "ChuHoSo": "Nguyễn Văn An",
        "LoaiDoiTuong": "1", "MaDoiTuong": "001090012345", "Email": "an@example.vn",
        "SoDienThoai": "0912345678", "TrichYeuHoSo": "Đăng ký khai sinh cho con",
        "NgayTiepNhan": "20260302080000", "NgayHenTra": "20260305080000",
        "TrangThaiHoSo": 10, "NgayKetThucXuLy": "20260306100000", "NgayTra": "20260306150000",
        "DonViXuLy": "C1", "KenhThucHien": 2, "GhiChu": null,
        "TaiLieuNop": [
            {"TepDinhKemId": 11, "TenTepDinhKem": "to-khai.pdf", "MaThanhPhanHoSo": "TK",
             "DuongDanTaiTepTin": "https://mc.example/f/11", "DuocSoHoa": 1, "DuocLayTuKhoDMQG": 1},
            {"TepDinhKemId": 12, "TenTepDinhKem": "cu.pdf", "IsDeleted": 1}
        ],
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "MaPhiLePhi": "LP", "Gia": "8000", "LoaiPhiLePhi": 1}],
        "DanhSachHoSoBoSung": [{"NgayBoSung": "20260303090000", "NgayTiepNhanBoSung": "20260304100000",
                                "TrangThaiBoSung": 2}],
        "DanhSachGiayToKetQua": [{"TenGiayTo": "Giấy khai sinh", "GiayToId": 9,
                                  "DuongDanTepTinKetQua": "https://mc.example/kq/9.pdf"}],
        "DuocThanhToanTrucTuyen": 1, "HoSoCoThanhPhanSoHoa": 1, "TaiKhoanDuocXacThucVoiVNeID": 1,
        "MaNhaCungCap": "VNPT-iGate"
    })
}

/// [`portal_dossier`] still open: received, handed to processing, nothing after.
pub(crate) fn open_portal_dossier(code: &str) -> Value {
    let mut open = portal_dossier(code);
    for key in ["NgayKetThucXuLy", "NgayTra"] {
        open[key] = Value::Null;
    }
    open["DanhSachHoSoBoSung"] = json!([]);
    open["DanhSachGiayToKetQua"] = json!([]);
    open["TrangThaiHoSo"] = json!(4);
    open
}

/// The same dossier in tthc's own JSON.
fn native_dossier(code: &str) -> Value {
    let at = |d: &str| format!("2026-03-{d}+07:00");
    json!({
        "code": code, "procedureCode": "1.000001", "unit": "C1", "channel": "online",
        "receivedAt": at("02T08:00:00"), "dueAt": at("05T08:00:00"),
        "applicant": {"kind": "citizen", "name": "Nguyễn Văn An", "identityNumber": "001090012345"},
        "fees": [{"name": "Lệ phí", "amountVnd": 8000, "paidOnline": true}],
        "financialObligation": true,
        "components": [{"name": "to-khai.pdf", "digitized": true, "reused": true, "fromCitizenStore": true}],
        "vneidVerified": true, "populationDbUsed": true, "reusesDigitizedData": true,
        "results": [{"name": "Giấy khai sinh", "mediaType": "application/pdf", "sha256": ""}],
        "events": [
            {"id": "1", "status": "received", "at": at("02T08:00:00")},
            {"id": "2", "status": "supplementRequested", "at": at("03T09:00:00")},
            {"id": "3", "status": "received", "at": at("04T10:00:00")},
            {"id": "4", "status": "finished", "at": at("06T10:00:00")},
            {"id": "5", "status": "returned", "at": at("06T15:00:00")}
        ]
    })
}

fn sync(app: &TestApp, token: &str, service: &str, data: Value) -> Value {
    let r = app.post(
        "/api/v1/portal-sync",
        token,
        &json!({"service": service, "isUpdating": false, "data": data}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    r.body
}

fn dossier(app: &TestApp, token: &str, code: &str) -> Value {
    let r = app.get(&format!("/api/v1/dossiers/{code}"), token);
    assert_eq!(r.status, Status::OK, "{}", r.text);
    r.body
}

/// A dossier's finish event.
fn finish_of(d: &Value) -> Value {
    d["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["status"] == "finished")
        .unwrap()
        .clone()
}

/// The statuses of a dossier's events, in order.
fn statuses(d: &Value) -> Vec<&str> {
    d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect()
}

/// The result of each item of a request in the portal's dialect to `path`.
fn item_results(app: &TestApp, token: &str, path: &str, service: &str, data: Value) -> Vec<String> {
    let r = app.post(path, token, &json!({"service": service, "data": data}));
    assert_eq!(r.status, Status::OK, "{}", r.text);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["result"].as_str().unwrap().to_owned())
        .collect()
}

/// What judging a dossier gave: everything but its code, ids and bookkeeping.
fn judged(d: &Value) -> Value {
    let events: Vec<(Value, Value)> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["status"].clone(), e["at"].clone()))
        .collect();
    let components: Vec<(Value, Value, Value)> = d["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["digitized"].clone(),
                c["reused"].clone(),
                c["fromCitizenStore"].clone(),
            )
        })
        .collect();
    json!({
        "status": d["status"], "statusCode": d["statusCode"], "channel": d["channel"],
        "dueAt": d["dueAt"], "ruleDueAt": d["ruleDueAt"], "effectiveDueAt": d["effectiveDueAt"],
        "endedAt": d["endedAt"], "timing": d["timing"], "flags": d["flags"],
        "fees": d["fees"], "financialObligation": d["financialObligation"],
        "vneidVerified": d["vneidVerified"], "populationDbUsed": d["populationDbUsed"],
        "reusesDigitizedData": d["reusesDigitizedData"], "applicant": d["applicant"], "results": d["results"],
        "components": components, "events": events
    })
}

#[test]
fn a_vendors_payload_is_stored_as_the_native_api_stores_it() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let answer = sync(
        &app,
        &admin,
        "DongBoHoSoMC",
        json!([portal_dossier("C1-260302-0001")]),
    );
    assert_eq!(answer["error_code"], 0, "{answer}");
    assert_eq!(answer["message"], "1/1 hồ sơ đã được tiếp nhận");
    assert_eq!(answer["data"][0]["MaHoSo"], "C1-260302-0001");
    assert_eq!(answer["data"][0]["result"], "created");
    let r = app.post(
        "/api/v1/dossiers/bulk",
        &admin,
        &json!([native_dossier("C1-260302-0002")]),
    );
    assert_eq!(r.body["created"], 1, "{}", r.text);
    let from_portal = dossier(&app, &admin, "C1-260302-0001");
    let native = dossier(&app, &admin, "C1-260302-0002");
    assert_eq!(judged(&from_portal), judged(&native));
    // Worked by hand: due Thursday 08:00 plus the supplement's working time (Tuesday 09:00 to
    // Wednesday 10:00, 9 working hours) is Friday 09:00; finished at 10:00, late.
    assert_eq!(from_portal["effectiveDueAt"], "2026-03-06T09:00:00+07:00");
    assert_eq!(from_portal["timing"], "finishedLate");
    assert_eq!(from_portal["status"], "returned");
    assert_eq!(from_portal["applicant"]["identityLast4"], "2345");
    // What tthc has no field for is kept as sent; personal data and nulls are not.
    let kept = &from_portal["portalFields"];
    assert_eq!(kept["TrichYeuHoSo"], "Đăng ký khai sinh cho con");
    assert_eq!(kept["MaNhaCungCap"], "VNPT-iGate");
    assert_eq!(kept["TenTTHC"], "Đăng ký khai sinh");
    for gone in [
        "Email",
        "SoDienThoai",
        "GhiChu",
        "MaDoiTuong",
        "NgayTiepNhan",
    ] {
        assert!(kept.get(gone).is_none(), "{gone} kept: {kept}");
    }
    assert_eq!(native["portalFields"], json!({}));
    // The same payload again changes nothing.
    let again = sync(
        &app,
        &admin,
        "DongBoHoSoMC",
        json!([portal_dossier("C1-260302-0001")]),
    );
    assert_eq!(again["data"][0]["result"], "unchanged", "{again}");
    assert_eq!(dossier(&app, &admin, "C1-260302-0001")["version"], 1);
    // The finish, dated by a progress step too, is the same step: not a second finish.
    let step = sync(
        &app,
        &admin,
        "CapNhatTienDoHoSoMC",
        json!([{"MaHoSo": "C1-260302-0001", "ThoiDiemXuLy": "20260306100000", "TrangThai": 9}]),
    );
    assert_eq!(step["data"][0]["result"], "duplicate", "{step}");
    let d = dossier(&app, &admin, "C1-260302-0001");
    assert_eq!(d["refusedEvents"], json!([]));
    assert_eq!(d["version"], 1);
}

/// PORTAL_RULES 4.3: a dossier synced from a ministry's system says it reused digitized data
/// with `HoSoCoThanhPhanSoHoa` alone, without `TaiLieuNop`; it counts as reusing, and the relay
/// sends the mark back.
#[test]
fn a_dossier_that_says_it_reused_data_counts_without_its_components() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let bare = |code: &str, reused: i64| {
        let mut d = portal_dossier(code);
        let o = d.as_object_mut().unwrap();
        o.remove("TaiLieuNop");
        o.insert("HoSoCoThanhPhanSoHoa".into(), json!(reused));
        d
    };
    let answer = sync(
        &app,
        &admin,
        "DongBoHoSoMC",
        json!([bare("C1-260302-0011", 1), bare("C1-260302-0012", 0)]),
    );
    assert_eq!(answer["error_code"], 0, "{answer}");
    // Nothing is missing from the payload: no gap is reported.
    assert_eq!(answer["data"][0]["gaps"], Value::Null, "{answer}");
    let reused = dossier(&app, &admin, "C1-260302-0011");
    assert_eq!(reused["reusesDigitizedData"], true);
    assert_eq!(reused["components"], json!([]));
    assert_eq!(
        dossier(&app, &admin, "C1-260302-0012")["reusesDigitizedData"],
        false
    );
    // The native API takes the same mark.
    let mut native = native_dossier("C1-260302-0013");
    native["components"] = json!([]);
    let r = app.post("/api/v1/dossiers/bulk", &admin, &json!([native]));
    assert_eq!(r.body["created"], 1, "{}", r.text);
    let s = app.get("/api/v1/units/C1/scores/2026-03", &admin);
    assert_eq!(s.status, Status::OK, "{}", s.text);
    let (numerator, denominator, _) = crate::scores::counts(&s.body, "REUSED_DIGITIZED_DATA");
    assert_eq!((numerator, denominator), (json!(2), json!(3)), "{}", s.text);
}

/// After a supplement the portal's `NgayHenTra` is the moved due date: tthc takes the one
/// before the request (`NgayHenTraTruoc`) and adds the supplement time itself, once.
#[test]
fn the_due_date_before_a_supplement_is_the_one_judged() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let mut moved = portal_dossier("C1-260302-0041");
    moved["NgayHenTra"] = json!("20260306090000");
    moved["DanhSachHoSoBoSung"][0]["NgayHenTraTruoc"] = json!("20260305080000");
    moved["DanhSachHoSoBoSung"][0]["NgayHenTraMoi"] = json!("20260306090000");
    sync(&app, &admin, "DongBoHoSoMC", json!([moved]));
    let d = dossier(&app, &admin, "C1-260302-0041");
    assert_eq!(d["dueAt"], "2026-03-05T08:00:00+07:00");
    assert_eq!(d["effectiveDueAt"], "2026-03-06T09:00:00+07:00");
    assert_eq!(d["timing"], "finishedLate");
    assert!(
        !d["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("dueDateDisagrees"))
    );
    // Mirrored to the portal: synced as of its last step, and the same payload again is
    // unchanged.
    let mirrored = |payload: &Value| {
        let r = app.post(
            "/api/v1/portal-sync?mirrorsPortal=true",
            &admin,
            &json!({"service": "DongBoHoSoMC", "data": [payload]}),
        );
        assert_eq!(r.status, Status::OK, "{}", r.text);
        r.body["data"][0]["result"].as_str().unwrap().to_owned()
    };
    let mut payload = portal_dossier("C1-260302-0042");
    payload["TaiLieuNop"] = Value::Null;
    payload["DanhSachLePhi"] = json!([{"TenPhiLePhi": "Lệ phí", "Gia": 8000.0}]);
    assert_eq!(mirrored(&payload), "created");
    assert_eq!(mirrored(&payload), "unchanged");
    let d = dossier(&app, &admin, "C1-260302-0042");
    assert_eq!(d["syncedAt"], "2026-03-06T15:00:00+07:00");
    assert_eq!(d["syncedStatus"], "returned");
    assert_eq!(d["components"], json!([]));
    assert_eq!(d["fees"][0]["amountVnd"], 8000);
    assert_eq!(d["financialObligation"], true);
}

/// A vendor mirroring its progress steps to the portal (`?mirrorsPortal=true`): a dossier the
/// portal holds is synced as of the step, and not left `syncBehind` (until 2026-12-07 it was);
/// one the portal never received stays unsynced.
#[test]
fn mirrored_progress_steps_keep_a_synced_dossier_in_step() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let post = |path: &str, service: &str, data: Value| {
        let r = app.post(path, &admin, &json!({"service": service, "data": data}));
        assert_eq!(r.status, Status::OK, "{}", r.text);
        assert_eq!(r.body["error_code"], 0, "{}", r.text);
    };
    let mirrored = "/api/v1/portal-sync?mirrorsPortal=true";
    let step =
        |code: &str| json!([{"MaHoSo": code, "ThoiDiemXuLy": "20260304100000", "TrangThai": 9}]);
    let flags = |d: &Value| -> Vec<String> {
        d["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect()
    };
    // Synced whole, then a step sent to tthc alone: behind the portal's record.
    let (alone, both, never) = ("C1-260302-0051", "C1-260302-0052", "C1-260302-0053");
    for code in [alone, both] {
        post(mirrored, "DongBoHoSoMC", json!([open_portal_dossier(code)]));
    }
    post("/api/v1/portal-sync", "CapNhatTienDoHoSoMC", step(alone));
    let d = dossier(&app, &admin, alone);
    assert_eq!(d["status"], "finished");
    assert_eq!(d["syncedStatus"], "received", "{d}");
    assert!(flags(&d).contains(&"syncBehind".to_owned()), "{d}");
    // The same step mirrored: synced as of it, with the status it gives.
    post(mirrored, "CapNhatTienDoHoSoMC", step(both));
    let d = dossier(&app, &admin, both);
    assert_eq!(d["status"], "finished");
    assert_eq!(d["syncedStatus"], "finished", "{d}");
    assert_eq!(d["syncedAt"], "2026-03-04T10:00:00+07:00");
    assert!(!flags(&d).contains(&"syncBehind".to_owned()), "{d}");
    // Never synced: the portal holds no dossier to add the step to.
    post(
        "/api/v1/portal-sync",
        "DongBoHoSoMC",
        json!([open_portal_dossier(never)]),
    );
    post(mirrored, "CapNhatTienDoHoSoMC", step(never));
    let d = dossier(&app, &admin, never);
    assert_eq!(d["status"], "finished");
    assert_eq!(d["syncedAt"], Value::Null, "{d}");
}

#[test]
fn messy_vendor_histories_are_stored_flagged_and_reported_item_by_item() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    // Returned with no finished step: stored, flagged.
    let mut returned_only = portal_dossier("C1-260302-0011");
    returned_only["NgayKetThucXuLy"] = json!("");
    returned_only["DanhSachHoSoBoSung"] = json!([]);
    // Stopped, but the payload does not say when: stored as received, the gap reported.
    let mut stopped = portal_dossier("C1-260302-0012");
    for key in ["NgayKetThucXuLy", "NgayTra"] {
        stopped[key] = Value::Null;
    }
    stopped["DanhSachHoSoBoSung"] = json!([]);
    stopped["TrangThaiHoSo"] = json!("8");
    stopped["DanhSachGiayToKetQua"] = json!([{"TenGiayTo": "Quyết định", "GiayToId": 3}]);
    // Malformed: an instant not written yyyyMMddHHmmss, a status that does not exist.
    let mut malformed = portal_dossier("C1-260302-0013");
    malformed["NgayTiepNhan"] = json!("2026-03-02 08:00");
    malformed["TrangThaiHoSo"] = json!(11);
    // Not even an object of the dialect.
    let answer = sync(
        &app,
        &admin,
        "DongBoHoSoMC",
        json!([returned_only, stopped, malformed, {"MaHoSo": 7}]),
    );
    assert_eq!(answer["error_code"], 1, "{answer}");
    assert_eq!(answer["message"], "2/4 hồ sơ đã được tiếp nhận");
    let items = answer["data"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(
        (&items[0]["result"], &items[1]["result"]),
        (&json!("created"), &json!("created"))
    );
    let gaps = items[1]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    assert!(
        gaps[0]
            .as_str()
            .unwrap()
            .starts_with("TrangThaiHoSo 8 (stopped)")
    );
    assert!(gaps[1].as_str().unwrap().contains("DuongDanTepTinKetQua"));
    assert_eq!(items[2]["error_code"], 1);
    assert_eq!(items[2]["result"], "rejected");
    let names: Vec<&str> = items[2]["invalidParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["data[2].NgayTiepNhan", "data[2].TrangThaiHoSo"]);
    assert_eq!(items[3]["error_code"], 1);
    assert_eq!(items[3]["MaHoSo"], Value::Null);
    // What only storage can judge is named in the portal's terms too (until 2026-12-07 as
    // tthc's: `procedureCode`, `receivedAt`, `events[1].at`), before or after storage looks.
    let mut unknown = portal_dossier("C1-260302-0015");
    unknown["MaTTHC"] = json!("9.999999");
    let mut ahead = portal_dossier("C1-260302-0016");
    ahead["NgayTiepNhan"] = json!("20990302080000");
    let mut finished_ahead = portal_dossier("C1-260302-0017");
    finished_ahead["NgayKetThucXuLy"] = json!("20990304100000");
    let answer = sync(
        &app,
        &admin,
        "DongBoHoSoMC",
        json!([unknown, ahead, finished_ahead]),
    );
    let named: Vec<(&str, &str)> = answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["invalidParams"].as_array().unwrap())
        .map(|p| (p["name"].as_str().unwrap(), p["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        named,
        [
            ("data[0].MaTTHC", "no procedure has the code 9.999999"),
            ("data[1].NgayTiepNhan", "is in the future"),
            ("data[2].NgayKetThucXuLy", "is in the future"),
        ],
        "{answer}"
    );
    // A step of a dossier tthc does not hold: the step named whole.
    let answer = sync(
        &app,
        &admin,
        "CapNhatTienDoHoSoMC",
        json!([{"MaHoSo": "C1-260302-0099", "ThoiDiemXuLy": "20260305090000", "TrangThai": 4}]),
    );
    assert_eq!(answer["data"][0]["result"], "rejected", "{answer}");
    assert_eq!(answer["data"][0]["invalidParams"][0]["name"], "data[0]");
    // Nothing of the refused items was stored.
    app.get("/api/v1/dossiers/C1-260302-0013", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");

    let returned = dossier(&app, &admin, "C1-260302-0011");
    assert_eq!(returned["status"], "returned");
    assert!(
        returned["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("missingSteps")),
        "{}",
        returned["flags"]
    );
    let stopped = dossier(&app, &admin, "C1-260302-0012");
    assert_eq!(stopped["status"], "received");
    assert_eq!(stopped["results"], json!([]));

    // A name longer than a stored detail takes: refused, the list named, as in the native API.
    let mut long = portal_dossier("C1-260302-0014");
    long["TaiLieuNop"][0]["TenTepDinhKem"] = json!("Đ".repeat(1_001));
    let answer = sync(&app, &admin, "DongBoHoSoMC", json!([long]));
    let items = answer["data"].as_array().unwrap();
    assert_eq!(items[0]["result"], "rejected", "{answer}");
    assert_eq!(
        items[0]["invalidParams"][0]["name"], "data[0].TaiLieuNop",
        "{answer}"
    );
}

#[test]
fn progress_steps_arrive_in_any_order_and_outlive_the_next_whole_sync() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let open = open_portal_dossier("C1-260302-0021");
    let first = sync(&app, &admin, "DongBoHoSoMC", json!([open]));
    assert_eq!(first["data"][0]["result"], "created");
    let step = |at: &str, status: i64, content: &str| {
        json!({"MaHoSo": "C1-260302-0021", "NguoiXuLy": "Trần Thị Bình", "ChucDanh": "Công chức tư pháp",
               "ThoiDiemXuLy": at, "PhongBanXuLy": "Bộ phận một cửa", "NoiDungXuLy": content,
               "TrangThai": status, "NgayBatDau": "20260302080000", "NgayKetThucTheoQuyDinh": "20260305080000"})
    };
    // The finish arrives before the step that preceded it, then once more; one step names an
    // unknown dossier; a receipt after the finish breaks the transition rules.
    let answer = sync(
        &app,
        &admin,
        "CapNhatTienDoHoSoMC",
        json!([
            step("20260304100000", 9, "Ký duyệt"),
            step("20260302090000", 4, "Chuyển xử lý"),
            step("20260304100000", 9, "Ký duyệt"),
            {"MaHoSo": "C1-999999-0001", "ThoiDiemXuLy": "20260302090000", "TrangThai": 4},
            step("20260304120000", 2, "Tiếp nhận lại"),
        ]),
    );
    let results: Vec<&str> = answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        ["added", "added", "duplicate", "rejected", "setAside"],
        "{answer}"
    );
    assert_eq!(answer["error_code"], 1);
    let d = dossier(&app, &admin, "C1-260302-0021");
    assert_eq!(d["status"], "finished");
    assert_eq!(d["timing"], "finishedEarly");
    let finish = finish_of(&d);
    assert_eq!(finish["actor"], "Trần Thị Bình (Công chức tư pháp)");
    assert_eq!(finish["note"], "Ký duyệt");
    assert_eq!(finish["payload"]["PhongBanXuLy"], "Bộ phận một cửa");
    assert_eq!(d["refusedEvents"].as_array().unwrap().len(), 1);
    assert!(
        d["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("refusedEvents"))
    );
    // The vendor syncs the whole dossier again, still without the steps: they stay.
    let again = sync(&app, &admin, "DongBoHoSoMC", json!([open]));
    assert_eq!(again["error_code"], 0, "{again}");
    let d = dossier(&app, &admin, "C1-260302-0021");
    assert_eq!(d["status"], "finished");
    assert_eq!(d["events"].as_array().unwrap().len(), 3, "{}", d["events"]);
}

#[test]
fn grants_the_mirror_flag_and_the_envelope() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let (_, sttt) = app.client(
        "vendor-sttt",
        &["dossiers:write", "dossiers:read"],
        &["STTTT"],
    );
    // A client of another unit cannot sync C1's dossiers, and learns nothing of them.
    let answer = sync(
        &app,
        &sttt,
        "DongBoHoSoMC",
        json!([portal_dossier("C1-260302-0031")]),
    );
    assert_eq!(answer["data"][0]["result"], "rejected", "{answer}");
    // Named as the vendor sent it, not as tthc stores it (`unit` until 2026-12-07).
    assert_eq!(
        answer["data"][0]["invalidParams"][0]["name"],
        "data[0].DonViXuLy"
    );
    app.get("/api/v1/dossiers/C1-260302-0031", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    // The same payload sent to the portal too: synced now, with its status.
    let r = app.post(
        "/api/v1/portal-sync?mirrorsPortal=true",
        &admin,
        &json!({"service": "DongBoHoSoMC", "data": [portal_dossier("C1-260302-0031")]}),
    );
    assert_eq!(r.status, Status::OK, "{}", r.text);
    let d = dossier(&app, &admin, "C1-260302-0031");
    assert_eq!(d["syncedStatus"], "returned");
    assert!(d["syncedAt"].is_string());
    // Without the flag the portal's side is unknown: not synced.
    sync(
        &app,
        &admin,
        "DongBoHoSoMC",
        json!([portal_dossier("C1-260302-0032")]),
    );
    assert_eq!(
        dossier(&app, &admin, "C1-260302-0032")["syncedAt"],
        Value::Null
    );
    // The envelope: an unknown service, a body that is not one, a token without the scope.
    app.post(
        "/api/v1/portal-sync",
        &admin,
        &json!({"service": "LayDanhSachHoSo", "data": []}),
    )
    .assert_problem(Status::BAD_REQUEST, "malformedJson");
    // A control character in a value refuses its item; in a member name, the request.
    let mut value = portal_dossier("C1-260302-0034");
    value["ChuHoSo"] = json!("An\u{0}");
    let answer = sync(&app, &admin, "DongBoHoSoMC", json!([value]));
    assert_eq!(answer["data"][0]["result"], "rejected", "{answer}");
    assert_eq!(
        answer["data"][0]["invalidParams"][0]["name"],
        "data[0].ChuHoSo"
    );
    let mut controlled = portal_dossier("C1-260302-0033");
    controlled["Ghi\u{1}Chu"] = json!("x");
    app.post(
        "/api/v1/portal-sync",
        &admin,
        &json!({"service": "DongBoHoSoMC", "data": [controlled]}),
    )
    .assert_problem(Status::BAD_REQUEST, "validationFailed");
    app.post("/api/v1/portal-sync", &admin, &json!([1, 2]))
        .assert_problem(Status::BAD_REQUEST, "malformedJson");
    let (_, reader) = app.client("reader", &["dossiers:read"], &["P"]);
    app.post(
        "/api/v1/portal-sync",
        &reader,
        &json!({"service": "DongBoHoSoMC", "data": []}),
    )
    .assert_problem(Status::FORBIDDEN, "insufficientScope");
}

/// What a request may hold is bounded before it is read whole: items are counted as they are
/// read, problems named up to a number, and a field kept as sent is nested at most 32 deep (one
/// nested near serde_json's limit was stored, could not be read back, and its dossier answered
/// 500 from then on).
#[test]
fn a_sync_request_is_bounded_as_it_is_read() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    // 10,001 items, none an object: refused for their number, not one problem each.
    let body = format!(
        "{{\"service\":\"DongBoHoSoMC\",\"data\":[{}1]}}",
        "1,".repeat(10_000)
    );
    let r = tthc_tests::Reply::from(
        app.raw()
            .post(app.url("/api/v1/portal-sync"))
            .bearer_auth(&admin)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .unwrap(),
    );
    assert_eq!(
        r.invalid_names(),
        ["data"],
        "{}",
        &r.text[..r.text.len().min(500)]
    );
    assert!(r.text.contains("at most 10000 items"), "{}", r.text);
    // Sixty refused member names: fifty named, the rest counted.
    let mut named = portal_dossier("C1-260302-0035");
    for i in 0..60 {
        named[format!("Ghi{i}\u{1}Chu")] = json!("x");
    }
    let r = app.post(
        "/api/v1/portal-sync",
        &admin,
        &json!({"service": "DongBoHoSoMC", "data": [named]}),
    );
    r.assert_problem(Status::BAD_REQUEST, "validationFailed");
    let params = r.body["invalidParams"].as_array().unwrap();
    assert_eq!(params.len(), 51, "{}", r.text);
    assert!(
        params[50]["reason"].as_str().unwrap().contains("10 more"),
        "{}",
        r.text
    );
    // A field kept as sent nested 40 or 126 deep: its item is refused, nothing stored.
    let mut deep = portal_dossier("C1-260302-0036");
    for levels in [40, 126] {
        deep["X"] =
            serde_json::from_str(&format!("{}{}", "[".repeat(levels), "]".repeat(levels))).unwrap();
        let answer = sync(&app, &admin, "DongBoHoSoMC", json!([deep]));
        assert_eq!(answer["data"][0]["result"], "rejected", "{answer}");
        assert!(
            answer["data"][0]["invalidParams"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("nest more than 32"),
            "{answer}"
        );
    }
    app.get("/api/v1/dossiers/C1-260302-0036", &admin)
        .assert_problem(Status::NOT_FOUND, "notFound");
    // 260 supplements are 520 events: past the 500 a dossier holds, however they arrive.
    let mut many = portal_dossier("C1-260302-0037");
    many["DanhSachHoSoBoSung"] = json!(
        (0..260)
            .map(|i| {
                let at = |m: u32| format!("20260303{:02}{:02}00", 8 + m / 60, m % 60);
                json!({"NgayBoSung": at(2 * i), "NgayTiepNhanBoSung": at(2 * i + 1),
                       "TrangThaiBoSung": 2})
            })
            .collect::<Vec<_>>()
    );
    let answer = sync(&app, &admin, "DongBoHoSoMC", json!([many]));
    assert_eq!(answer["data"][0]["result"], "rejected", "{answer}");
    assert!(
        answer.to_string().contains("at most 500 events"),
        "{answer}"
    );
    // No one field of the item holds its events: the item is named whole.
    assert_eq!(answer["data"][0]["invalidParams"][0]["name"], "data[0]");
    // A dossier holding 500 events takes no step more: the step named whole, the reason saying
    // the events are what is full (until 2026-12-07 it said `id`).
    many["MaHoSo"] = json!("C1-260302-0038");
    many["DanhSachHoSoBoSung"] = json!(
        (0..249)
            .map(|i| {
                let at = |m: u32| format!("20260303{:02}{:02}00", 8 + m / 60, m % 60);
                // The last request unanswered: 3 dated steps and 497 supplement events.
                if i == 248 {
                    json!({"NgayBoSung": at(2 * i)})
                } else {
                    json!({"NgayBoSung": at(2 * i), "NgayTiepNhanBoSung": at(2 * i + 1)})
                }
            })
            .collect::<Vec<_>>()
    );
    let answer = sync(&app, &admin, "DongBoHoSoMC", json!([many]));
    assert_eq!(answer["data"][0]["result"], "created", "{answer}");
    let answer = sync(
        &app,
        &admin,
        "CapNhatTienDoHoSoMC",
        json!([{"MaHoSo": "C1-260302-0038", "ThoiDiemXuLy": "20260305090000", "TrangThai": 4}]),
    );
    assert_eq!(answer["data"][0]["result"], "rejected", "{answer}");
    assert_eq!(
        (
            &answer["data"][0]["invalidParams"][0]["name"],
            &answer["data"][0]["invalidParams"][0]["reason"]
        ),
        (
            &json!("data[0]"),
            &json!("events: a dossier holds at most 500 events")
        ),
        "{answer}"
    );
    // As deep as the dialect's own limit allows: stored and read back.
    deep["X"] = serde_json::from_str(&format!("{}{}", "[".repeat(32), "]".repeat(32))).unwrap();
    let answer = sync(&app, &admin, "DongBoHoSoMC", json!([deep]));
    assert_eq!(answer["data"][0]["result"], "created", "{answer}");
    dossier(&app, &admin, "C1-260302-0036");
}

/// [`portal_dossier`] as synced at an earlier status: 4 (in handling, before the finish) or 9
/// (finished, before the result was handed over), without the dates and results of later ones.
fn portal_dossier_at(code: &str, status: i64) -> Value {
    let mut d = portal_dossier(code);
    let later: &[&str] = match status {
        4 => &["NgayKetThucXuLy", "NgayTra", "DanhSachGiayToKetQua"],
        _ => &["NgayTra", "DanhSachGiayToKetQua"],
    };
    for field in later {
        d.as_object_mut().unwrap().remove(*field);
    }
    d["TrangThaiHoSo"] = json!(status);
    d
}

#[test]
fn an_older_sync_landing_after_a_newer_one_stores_nothing() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0031";
    // The sync sent while the dossier was in handling, and the one sent when it was returned.
    let older = portal_dossier_at(code, 4);
    let newer = portal_dossier(code);
    let result = |answer: &Value| answer["data"][0]["result"].clone();
    assert_eq!(
        result(&sync(&app, &admin, "DongBoHoSoMC", json!([older]))),
        "created"
    );
    assert_eq!(
        result(&sync(&app, &admin, "DongBoHoSoMC", json!([newer]))),
        "updated"
    );
    let returned = dossier(&app, &admin, code);
    assert_eq!(returned["status"], "returned");
    // The retry of the first lands last.
    assert_eq!(
        result(&sync(&app, &admin, "DongBoHoSoMC", json!([older]))),
        "stale"
    );
    assert_eq!(dossier(&app, &admin, code), returned);
}

/// The progress steps a whole sync keeps tell nothing of how old the sync is: a late retry of an
/// early sync is stale even when a step came after the newer sync, and a newer sync with the same
/// dated steps is stored even when a progress step came after it.
#[test]
fn progress_steps_kept_by_a_sync_do_not_decide_whether_it_is_older() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0032";
    let received = portal_dossier_at(code, 4);
    let mut finished = portal_dossier_at(code, 9);
    let step = |at: &str, status: i64| {
        json!({"MaHoSo": code, "NguoiXuLy": "Trần Thị Bình", "ThoiDiemXuLy": at,
               "NoiDungXuLy": "Bước xử lý", "TrangThai": status})
    };
    let result = |answer: &Value| answer["data"][0]["result"].clone();
    assert_eq!(
        result(&sync(&app, &admin, "DongBoHoSoMC", json!([received]))),
        "created"
    );
    sync(
        &app,
        &admin,
        "CapNhatTienDoHoSoMC",
        json!([step("20260302090000", 4)]),
    );
    assert_eq!(
        result(&sync(
            &app,
            &admin,
            "DongBoHoSoMC",
            json!([finished.clone()])
        )),
        "updated"
    );
    // The result is handed over: a progress step after the newer sync.
    let handed = sync(
        &app,
        &admin,
        "CapNhatTienDoHoSoMC",
        json!([step("20260306150000", 10)]),
    );
    assert_eq!(result(&handed), "added", "{handed}");
    let before = dossier(&app, &admin, code);
    assert_eq!(before["status"], "returned");
    // The retry of the first sync lands last: stale, the finish stays.
    assert_eq!(
        result(&sync(&app, &admin, "DongBoHoSoMC", json!([received]))),
        "stale"
    );
    assert_eq!(dossier(&app, &admin, code), before);
    // The finished sync again with its result document: newer, stored.
    finished["DanhSachGiayToKetQua"] = portal_dossier(code)["DanhSachGiayToKetQua"].clone();
    assert_eq!(
        result(&sync(&app, &admin, "DongBoHoSoMC", json!([finished]))),
        "updated"
    );
    let after = dossier(&app, &admin, code);
    assert_eq!(after["status"], "returned");
    assert_eq!(after["results"].as_array().map(Vec::len), Some(1));
}

/// A whole sync that adds a date writes its event and keeps the stored rows, the progress steps
/// kept after its own events among them: each is read by its instant, whatever its number.
#[test]
fn a_whole_sync_that_adds_a_date_keeps_the_stored_event_rows() {
    use diesel::prelude::*;
    use tthc_core::db::schema::{dossier_events as e, dossiers as d};
    use tthc_core::db::{Database, DatabaseUrl};

    let test_db = tthc_tests::TestDb::new();
    let app = TestApp::spawn_on(&test_db.url);
    let admin = seed(&app);
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    let code = "C1-260302-0022";
    // The stored rows: status, number and when each was written, by instant.
    let rows = || -> Vec<(String, i32, chrono::NaiveDateTime)> {
        e::table
            .inner_join(d::table.on(d::id.eq(e::dossier_id)))
            .filter(d::code.eq(code))
            .select((e::status, e::seq, e::received_at))
            .order((e::at.asc(), e::seq.asc()))
            .load(&mut *db.conn().unwrap())
            .unwrap()
    };
    let open = open_portal_dossier(code);
    assert_eq!(
        sync(&app, &admin, "DongBoHoSoMC", json!([open]))["data"][0]["result"],
        "created"
    );
    let step = json!({"MaHoSo": code, "NguoiXuLy": "Trần Thị Bình", "ThoiDiemXuLy": "20260302090000",
                      "NoiDungXuLy": "Chuyển xử lý", "TrangThai": 4});
    let added = sync(&app, &admin, "CapNhatTienDoHoSoMC", json!([step]));
    assert_eq!(added["data"][0]["result"], "added", "{added}");
    let before = rows();
    let statuses = |rows: &[(String, i32, chrono::NaiveDateTime)]| -> Vec<String> {
        rows.iter().map(|(s, _, _)| s.clone()).collect()
    };
    assert_eq!(statuses(&before), ["received", "processing"], "{before:?}");
    std::thread::sleep(std::time::Duration::from_millis(20));

    // The finish date comes with the next whole sync; the step stays after the sync's events.
    let mut finished = open;
    finished["NgayKetThucXuLy"] = json!("20260304100000");
    finished["TrangThaiHoSo"] = json!(9);
    let r = sync(&app, &admin, "DongBoHoSoMC", json!([finished.clone()]));
    assert_eq!(r["data"][0]["result"], "updated", "{r}");
    let after = rows();
    assert_eq!(
        statuses(&after),
        ["received", "processing", "finished"],
        "{after:?}"
    );
    assert_eq!(after[..2], before[..], "the stored rows were written again");
    assert!(after[2].2 > before[1].2, "{after:?}");
    let stored = dossier(&app, &admin, code);
    let read: Vec<&str> = stored["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(read, ["received", "processing", "finished"], "{stored}");
    assert_eq!(stored["status"], "finished");
    // The same sync again: unchanged.
    let again = sync(&app, &admin, "DongBoHoSoMC", json!([finished]));
    assert_eq!(again["data"][0]["result"], "unchanged", "{again}");
}

/// Two whole syncs of one dossier in one request, after a progress step: the later one taken
/// keeps the step too, as when synced one after the other.
#[test]
fn every_whole_sync_of_a_code_in_a_request_keeps_the_progress_steps() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0023";
    let open = open_portal_dossier(code);
    sync(&app, &admin, "DongBoHoSoMC", json!([open]));
    let step = json!({"MaHoSo": code, "ThoiDiemXuLy": "20260302090000", "TrangThai": 4,
                      "NoiDungXuLy": "Chuyển xử lý"});
    let added = sync(&app, &admin, "CapNhatTienDoHoSoMC", json!([step]));
    assert_eq!(added["data"][0]["result"], "added", "{added}");
    let mut finished = open.clone();
    finished["NgayKetThucXuLy"] = json!("20260304100000");
    finished["TrangThaiHoSo"] = json!(9);
    let mut tidied = open;
    tidied["GhiChu"] = json!("đã rà soát");
    let r = sync(&app, &admin, "DongBoHoSoMC", json!([tidied, finished]));
    let results: Vec<&str> = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["stale", "updated"], "{r}");
    let d = dossier(&app, &admin, code);
    assert_eq!(statuses(&d), ["received", "processing", "finished"], "{d}");
}

/// A client syncing a code stored under a unit outside its grant learns nothing of the stored
/// dossier: the progress steps kept by a whole sync are not lent to it, so a dossier with 499
/// steps is answered as one with none.
#[test]
fn a_dossier_outside_the_grant_lends_no_steps_to_a_whole_sync() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let (stepped, bare) = ("C1-260302-0024", "C1-260302-0025");
    for code in [stepped, bare] {
        sync(
            &app,
            &admin,
            "DongBoHoSoMC",
            json!([open_portal_dossier(code)]),
        );
    }
    let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let steps: Vec<Value> = (0..499)
        .map(|i| {
            let when = at + chrono::TimeDelta::minutes(i);
            json!({"MaHoSo": stepped, "ThoiDiemXuLy": when.format("%Y%m%d%H%M%S").to_string(),
                   "TrangThai": 4, "NoiDungXuLy": format!("Bước {i}")})
        })
        .collect();
    let added = sync(&app, &admin, "CapNhatTienDoHoSoMC", json!(steps));
    let results = added["data"].as_array().unwrap();
    assert!(results.iter().all(|i| i["result"] == "added"), "{added}");
    let (_, sttt) = app.client("vendor-sttt", &["dossiers:write"], &["STTTT"]);
    let answer = |code: &str| {
        let mut d = portal_dossier(code);
        d["DonViXuLy"] = json!("STTTT");
        let item = sync(&app, &sttt, "DongBoHoSoMC", json!([d]))["data"][0].to_string();
        serde_json::from_str::<Value>(&item.replace(code, "CODE")).unwrap()
    };
    let (with_steps, without) = (answer(stepped), answer(bare));
    assert_ne!(with_steps["result"], "created", "{with_steps}");
    assert_eq!(with_steps, without, "told apart by its steps");
}

#[test]
fn a_whole_sync_after_progress_steps_keeps_what_they_said() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let post =
        |path: &str, service: &str, data: Value| item_results(&app, &admin, path, service, data);
    let mirrored = "/api/v1/portal-sync?mirrorsPortal=true";
    let step = |code: &str, at: &str, status: i64, content: &str| {
        json!({"MaHoSo": code, "NguoiXuLy": "Trần Thị Bình", "ChucDanh": "Công chức tư pháp",
               "ThoiDiemXuLy": at, "PhongBanXuLy": "Bộ phận một cửa", "NoiDungXuLy": content,
               "TrangThai": status})
    };

    // Both services mirrored; the steps arrive newest first; then the same whole sync again.
    let x = "C1-260302-0061";
    post(mirrored, "DongBoHoSoMC", json!([open_portal_dossier(x)]));
    let added = post(
        mirrored,
        "CapNhatTienDoHoSoMC",
        json!([
            step(x, "20260304100000", 9, "Ký duyệt"),
            step(x, "20260302090000", 4, "Chuyển xử lý"),
        ]),
    );
    assert_eq!(added, ["added", "added"]);
    let again = post(mirrored, "DongBoHoSoMC", json!([open_portal_dossier(x)]));
    assert_eq!(again, ["unchanged"], "the same sync again, the steps kept");
    let d = dossier(&app, &admin, x);
    assert_eq!(d["status"], "finished");
    assert_eq!(d["syncedStatus"], "finished", "{d}");
    assert_eq!(d["syncedAt"], "2026-03-04T10:00:00+07:00");
    assert!(
        !d["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("syncBehind")),
        "{d}"
    );

    // A finish sent as a step, then the whole sync that dates it: one finish, the step's.
    let y = "C1-260302-0062";
    post(
        "/api/v1/portal-sync",
        "DongBoHoSoMC",
        json!([open_portal_dossier(y)]),
    );
    let added = post(
        "/api/v1/portal-sync",
        "CapNhatTienDoHoSoMC",
        json!([step(y, "20260306100000", 9, "Ký duyệt")]),
    );
    assert_eq!(added, ["added"]);
    let whole = post(
        "/api/v1/portal-sync",
        "DongBoHoSoMC",
        json!([portal_dossier(y)]),
    );
    assert_eq!(whole, ["updated"]);
    let d = dossier(&app, &admin, y);
    assert_eq!(d["status"], "returned");
    let finishes: Vec<&Value> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "finished")
        .collect();
    assert_eq!(finishes.len(), 1, "{}", d["events"]);
    assert_eq!(finishes[0]["actor"], "Trần Thị Bình (Công chức tư pháp)");
    assert_eq!(finishes[0]["note"], "Ký duyệt");
    assert_eq!(finishes[0]["payload"]["PhongBanXuLy"], "Bộ phận một cửa");
    // The step corrected, after the sync dated it: what it says now replaces what it said.
    let mut corrected = step(y, "20260306100000", 9, "Ký duyệt lại");
    corrected["NguoiXuLy"] = json!("Lê Văn Cường");
    let again = post(
        "/api/v1/portal-sync",
        "CapNhatTienDoHoSoMC",
        json!([corrected.clone()]),
    );
    assert_eq!(again, ["added"]);
    let d = dossier(&app, &admin, y);
    let finish = finish_of(&d);
    assert_eq!(
        finish["actor"], "Lê Văn Cường (Công chức tư pháp)",
        "{finish}"
    );
    assert_eq!(finish["note"], "Ký duyệt lại");
    let again = post(
        "/api/v1/portal-sync",
        "CapNhatTienDoHoSoMC",
        json!([corrected]),
    );
    assert_eq!(again, ["duplicate"]);
    let whole = post(
        "/api/v1/portal-sync",
        "DongBoHoSoMC",
        json!([portal_dossier(y)]),
    );
    assert_eq!(whole, ["unchanged"]);
}

#[test]
fn a_late_step_that_contradicts_the_stored_ones_is_refused_and_they_stand() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0060";
    sync(&app, &admin, "DongBoHoSoMC", json!([portal_dossier(code)]));
    let before = dossier(&app, &admin, code);
    assert_eq!(before["status"], "returned");
    // Withdrawn on the 5th, a day before the stored finish: it would set the finish and the
    // return aside.
    let answer = sync(
        &app,
        &admin,
        "CapNhatTienDoHoSoMC",
        json!([
            {"MaHoSo": code, "ThoiDiemXuLy": "20260305090000", "TrangThai": 7},
            {"MaHoSo": code, "ThoiDiemXuLy": "20260302090000", "TrangThai": 4}
        ]),
    );
    assert_eq!(answer["error_code"], 1, "{answer}");
    assert_eq!(answer["data"][0]["result"], "rejected", "{answer}");
    assert_eq!(
        answer["data"][0]["invalidParams"][0]["name"],
        "data[0].ThoiDiemXuLy"
    );
    // A step that contradicts nothing stored is still added.
    assert_eq!(answer["data"][1]["result"], "added", "{answer}");
    let after = dossier(&app, &admin, code);
    assert_eq!(after["status"], "returned");
    assert_eq!(after["endedAt"], before["endedAt"]);
    assert_eq!(after["timing"], before["timing"]);
    assert_eq!(after["refusedEvents"], before["refusedEvents"], "{after}");
}

#[test]
fn a_correction_after_a_finish_step_and_its_sync_is_stored_not_judged_stale() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0063";
    let post = |service: &str, data: Value| -> String {
        let body = sync(&app, &admin, service, data);
        body["data"][0]["result"].as_str().unwrap().to_owned()
    };
    post("DongBoHoSoMC", json!([open_portal_dossier(code)]));
    let finish = json!([{"MaHoSo": code, "ThoiDiemXuLy": "20260306100000", "TrangThai": 9,
                          "NguoiXuLy": "Trần Thị Bình", "NoiDungXuLy": "Ký duyệt"}]);
    assert_eq!(post("CapNhatTienDoHoSoMC", finish), "added");
    // The whole sync dates the finish, and a supplement request by mistake.
    let mut with_supplement = portal_dossier(code);
    with_supplement["NgayTra"] = Value::Null;
    with_supplement["TrangThaiHoSo"] = json!(9);
    with_supplement["DanhSachHoSoBoSung"] = json!([{"NgayBoSung": "20260303090000"}]);
    assert_eq!(post("DongBoHoSoMC", json!([with_supplement])), "updated");
    // The vendor's correction drops the supplement request.
    let mut corrected = with_supplement.clone();
    corrected["DanhSachHoSoBoSung"] = json!([]);
    assert_eq!(post("DongBoHoSoMC", json!([corrected])), "updated");
    let d = dossier(&app, &admin, code);
    assert!(!statuses(&d).contains(&"supplementRequested"), "{d}");
    let finish = finish_of(&d);
    assert_eq!(finish["note"], "Ký duyệt", "{finish}");
    assert_eq!(d["endedAt"], "2026-03-06T10:00:00+07:00");
}

#[test]
fn steps_not_mirrored_never_count_as_synced_and_a_requests_order_does_not_decide() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let mirrored = "/api/v1/portal-sync?mirrorsPortal=true";
    let post =
        |path: &str, service: &str, data: Value| item_results(&app, &admin, path, service, data);
    // Synced whole and mirrored; a finish sent to tthc alone; the same mirrored sync again:
    // the portal still holds the open dossier.
    let x = "C1-260302-0064";
    post(mirrored, "DongBoHoSoMC", json!([open_portal_dossier(x)]));
    let step = json!([{"MaHoSo": x, "ThoiDiemXuLy": "20260304100000", "TrangThai": 9}]);
    assert_eq!(
        post("/api/v1/portal-sync", "CapNhatTienDoHoSoMC", step),
        ["added"]
    );
    post(mirrored, "DongBoHoSoMC", json!([open_portal_dossier(x)]));
    let d = dossier(&app, &admin, x);
    assert_eq!(d["status"], "finished");
    assert_eq!(d["syncedStatus"], "received", "{d}");
    assert!(
        d["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("syncBehind")),
        "{d}"
    );
    // The same sync without the flag: tthc does not know what the portal holds, and keeps
    // what it recorded.
    let unflagged = item_results(
        &app,
        &admin,
        "/api/v1/portal-sync",
        "DongBoHoSoMC",
        json!([open_portal_dossier(x)]),
    );
    assert_eq!(unflagged, ["unchanged"]);
    let after = dossier(&app, &admin, x);
    assert_eq!(after["syncedStatus"], "received", "{after}");
    assert_eq!(after["syncedAt"], d["syncedAt"], "{after}");

    // Received, asked for a supplement, received again; two steps between the last two, in
    // either order: the same answers, each judged against the stored history. A financial
    // obligation alone would set the second receipt aside (it cannot follow one); a second
    // supplement request alone is refused itself (one cannot follow another).
    let supplemented = |code: &str| {
        let mut d = portal_dossier(code);
        for key in ["NgayKetThucXuLy", "NgayTra"] {
            d[key] = Value::Null;
        }
        d["DanhSachGiayToKetQua"] = json!([]);
        d["TrangThaiHoSo"] = json!(4);
        d
    };
    let steps = |code: &str| {
        vec![
            json!({"MaHoSo": code, "ThoiDiemXuLy": "20260303120000", "TrangThai": 6}),
            json!({"MaHoSo": code, "ThoiDiemXuLy": "20260303150000", "TrangThai": 5}),
        ]
    };
    let (a, b) = ("C1-260302-0065", "C1-260302-0066");
    post(
        "/api/v1/portal-sync",
        "DongBoHoSoMC",
        json!([supplemented(a), supplemented(b)]),
    );
    let forward = post(
        "/api/v1/portal-sync",
        "CapNhatTienDoHoSoMC",
        json!(steps(a)),
    );
    let mut reversed = steps(b);
    reversed.reverse();
    let mut backward = post(
        "/api/v1/portal-sync",
        "CapNhatTienDoHoSoMC",
        json!(reversed),
    );
    backward.reverse();
    assert_eq!(forward, backward);
    assert_eq!(forward, ["rejected", "setAside"]);
    let history = |code: &str| -> Vec<(Value, Value)> {
        dossier(&app, &admin, code)["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["status"].clone(), e["at"].clone()))
            .collect()
    };
    assert_eq!(history(a), history(b));
}

#[test]
fn steps_that_together_would_set_stored_ones_aside_are_refused_together() {
    let app = TestApp::spawn();
    let admin = seed(&app);
    let code = "C1-260302-0067";
    // Received, asked for a supplement on the 3rd (never received back), finished and returned
    // on the 6th.
    let mut d = portal_dossier(code);
    d["DanhSachHoSoBoSung"] = json!([{"NgayBoSung": "20260303090000", "TrangThaiBoSung": 1}]);
    sync(&app, &admin, "DongBoHoSoMC", json!([d]));
    let before = dossier(&app, &admin, code);
    assert_eq!(before["status"], "returned", "{before}");
    // Processing alone fits; a refusal to receive alone is set aside by itself; together they
    // would set the stored finish and return aside (nothing may follow the refusal).
    let results = item_results(
        &app,
        &admin,
        "/api/v1/portal-sync",
        "CapNhatTienDoHoSoMC",
        json!([
            {"MaHoSo": code, "ThoiDiemXuLy": "20260303120000", "TrangThai": 4},
            {"MaHoSo": code, "ThoiDiemXuLy": "20260303150000", "TrangThai": 3}
        ]),
    );
    assert_eq!(results, ["rejected", "rejected"]);
    let after = dossier(&app, &admin, code);
    assert_eq!(after["status"], "returned");
    assert_eq!(after["endedAt"], before["endedAt"]);
    assert_eq!(after["events"], before["events"]);
}
