//! The demo catalogue: a dozen fields, a few hundred procedures (most localized, some not, some
//! incomplete) and a year of ministry and provincial announcement decisions, some late.
//! Generated deterministically: the same demo every time.

use chrono::{Datelike, NaiveDate, TimeDelta};
use tthc_core::announcement::ItemAction;
use tthc_core::calendar::Measure;
use tthc_core::db::announcements::{self, DecisionItem, DecisionKind, DecisionWrite};
use tthc_core::db::audit::Actor;
use tthc_core::db::procedures::{self, Field, ProcedureWrite};
use tthc_core::db::{DbConnection, StoreError};
use tthc_core::procedure::{
    Channel, Component, Fee, OnlineLevel, ProcedureCode, ProcedureContent, ProcedureLevel,
    ProcedureResult, TimeLimitSpec,
};
use tthc_core::unit::UnitScope;

/// A field: code, name, the department in charge, the ministry, the level, and the objects of
/// its procedures.
struct DemoField {
    code: &'static str,
    name: &'static str,
    department: &'static str,
    ministry: &'static str,
    ministry_code: &'static str,
    level: ProcedureLevel,
    objects: &'static [&'static str],
}

const FIELDS: &[DemoField] = &[
    DemoField {
        code: "HT",
        name: "Hộ tịch",
        department: "000.00.02.H12",
        ministry: "Bộ Tư pháp",
        ministry_code: "BTP",
        level: ProcedureLevel::Commune,
        objects: &[
            "khai sinh",
            "khai tử",
            "kết hôn",
            "nhận cha, mẹ, con",
            "thay đổi, cải chính hộ tịch",
            "giám hộ",
            "xác nhận tình trạng hôn nhân",
        ],
    },
    DemoField {
        code: "CT",
        name: "Chứng thực",
        department: "000.00.02.H12",
        ministry: "Bộ Tư pháp",
        ministry_code: "BTP",
        level: ProcedureLevel::Commune,
        objects: &[
            "bản sao từ bản chính",
            "chữ ký",
            "hợp đồng, giao dịch",
            "bản sao điện tử từ bản chính",
        ],
    },
    DemoField {
        code: "DD",
        name: "Đất đai",
        department: "000.00.06.H12",
        ministry: "Bộ Nông nghiệp và Môi trường",
        ministry_code: "BNNMT",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy chứng nhận quyền sử dụng đất",
            "chuyển mục đích sử dụng đất",
            "gia hạn sử dụng đất",
            "đăng ký biến động đất đai",
            "tách thửa, hợp thửa đất",
        ],
    },
    DemoField {
        code: "TNN",
        name: "Tài nguyên nước",
        department: "000.00.06.H12",
        ministry: "Bộ Nông nghiệp và Môi trường",
        ministry_code: "BNNMT",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy phép khai thác nước mặt",
            "giấy phép khai thác nước dưới đất",
            "giấy phép xả nước thải",
            "giấy phép thăm dò nước dưới đất",
        ],
    },
    DemoField {
        code: "MT",
        name: "Môi trường",
        department: "000.00.06.H12",
        ministry: "Bộ Nông nghiệp và Môi trường",
        ministry_code: "BNNMT",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy phép môi trường",
            "đánh giá tác động môi trường",
            "đăng ký môi trường",
            "chứng nhận cơ sở xử lý chất thải",
        ],
    },
    DemoField {
        code: "XD",
        name: "Xây dựng",
        department: "000.00.07.H12",
        ministry: "Bộ Xây dựng",
        ministry_code: "BXD",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy phép xây dựng",
            "chứng chỉ hành nghề hoạt động xây dựng",
            "thẩm định thiết kế xây dựng",
            "chứng chỉ năng lực hoạt động xây dựng",
        ],
    },
    DemoField {
        code: "KD",
        name: "Thành lập và hoạt động doanh nghiệp",
        department: "000.00.04.H12",
        ministry: "Bộ Tài chính",
        ministry_code: "BTC",
        level: ProcedureLevel::Province,
        objects: &[
            "đăng ký thành lập doanh nghiệp",
            "thay đổi nội dung đăng ký doanh nghiệp",
            "tạm ngừng kinh doanh",
            "giải thể doanh nghiệp",
        ],
    },
    DemoField {
        code: "YT",
        name: "Khám bệnh, chữa bệnh",
        department: "000.00.08.H12",
        ministry: "Bộ Y tế",
        ministry_code: "BYT",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy phép hành nghề khám bệnh, chữa bệnh",
            "giấy phép hoạt động khám bệnh, chữa bệnh",
            "chứng chỉ hành nghề dược",
        ],
    },
    DemoField {
        code: "GD",
        name: "Giáo dục và Đào tạo",
        department: "000.00.09.H12",
        ministry: "Bộ Giáo dục và Đào tạo",
        ministry_code: "BGDĐT",
        level: ProcedureLevel::Province,
        objects: &[
            "thành lập trường trung học phổ thông",
            "công nhận văn bằng",
            "phúc khảo bài thi",
            "cho phép hoạt động giáo dục",
        ],
    },
    DemoField {
        code: "LD",
        name: "Lao động, việc làm",
        department: "000.00.03.H12",
        ministry: "Bộ Nội vụ",
        ministry_code: "BNV",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy phép lao động cho người nước ngoài",
            "trợ cấp thất nghiệp",
            "đăng ký nội quy lao động",
        ],
    },
    DemoField {
        code: "VH",
        name: "Văn hóa",
        department: "000.00.11.H12",
        ministry: "Bộ Văn hóa, Thể thao và Du lịch",
        ministry_code: "BVHTTDL",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy phép tổ chức lễ hội",
            "giấy phép kinh doanh karaoke",
            "công nhận điểm du lịch",
        ],
    },
    DemoField {
        code: "KHCN",
        name: "Khoa học và Công nghệ",
        department: "000.00.10.H12",
        ministry: "Bộ Khoa học và Công nghệ",
        ministry_code: "BKHCN",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy phép xuất bản bản tin",
            "chứng nhận doanh nghiệp khoa học và công nghệ",
            "đăng ký kết quả nhiệm vụ khoa học",
        ],
    },
    // Every department handles some procedures, so that every unit has activity; the fields
    // above carry most of the volume.
    DemoField {
        code: "LLTP",
        name: "Lý lịch tư pháp",
        department: "000.00.02.H12",
        ministry: "Bộ Tư pháp",
        ministry_code: "BTP",
        level: ProcedureLevel::Province,
        objects: &["phiếu lý lịch tư pháp"],
    },
    DemoField {
        code: "VP",
        name: "Kiểm soát thủ tục hành chính",
        department: "000.00.01.H12",
        ministry: "Văn phòng Chính phủ",
        ministry_code: "VPCP",
        level: ProcedureLevel::Province,
        objects: &["phản hồi kết quả giải quyết thủ tục hành chính"],
    },
    DemoField {
        code: "TM",
        name: "Thương mại",
        department: "000.00.05.H12",
        ministry: "Bộ Công Thương",
        ministry_code: "BCT",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy phép bán lẻ rượu",
            "giấy phép bán lẻ sản phẩm thuốc lá",
            "giấy chứng nhận đủ điều kiện kinh doanh xăng dầu",
        ],
    },
    DemoField {
        code: "TG",
        name: "Tôn giáo",
        department: "000.00.12.H12",
        ministry: "Bộ Dân tộc và Tôn giáo",
        ministry_code: "BDTTG",
        level: ProcedureLevel::Province,
        objects: &[
            "đăng ký sinh hoạt tôn giáo tập trung",
            "chấp thuận tổ chức cuộc lễ ngoài cơ sở tôn giáo",
        ],
    },
    DemoField {
        code: "KNTC",
        name: "Giải quyết khiếu nại, tố cáo",
        department: "000.00.13.H12",
        ministry: "Thanh tra Chính phủ",
        ministry_code: "TTCP",
        level: ProcedureLevel::Province,
        objects: &["giải quyết khiếu nại lần đầu", "giải quyết tố cáo"],
    },
    DemoField {
        code: "KCN",
        name: "Đầu tư trong khu công nghiệp",
        department: "000.00.14.H12",
        ministry: "Bộ Tài chính",
        ministry_code: "BTC",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy chứng nhận đăng ký đầu tư trong khu công nghiệp",
            "giấy phép lao động cho người nước ngoài trong khu công nghiệp",
        ],
    },
    DemoField {
        code: "ANTT",
        name: "An ninh trật tự",
        department: "000.00.15.H12",
        ministry: "Bộ Công an",
        ministry_code: "BCA",
        level: ProcedureLevel::Province,
        objects: &[
            "giấy phép sử dụng pháo hoa",
            "giấy chứng nhận đủ điều kiện về an ninh, trật tự",
        ],
    },
    DemoField {
        code: "NG",
        name: "Ngoại vụ",
        department: "000.00.16.H12",
        ministry: "Bộ Ngoại giao",
        ministry_code: "BNG",
        level: ProcedureLevel::Province,
        objects: &[
            "văn bản cho phép tổ chức hội nghị quốc tế",
            "văn bản cho phép đoàn ra",
        ],
    },
    DemoField {
        code: "HCC",
        name: "Dịch vụ hành chính công",
        department: "000.00.17.H12",
        ministry: "Văn phòng Chính phủ",
        ministry_code: "VPCP",
        level: ProcedureLevel::Province,
        objects: &["bản sao điện tử kết quả giải quyết thủ tục hành chính"],
    },
    DemoField {
        code: "QP",
        name: "Quốc phòng",
        department: "000.00.18.H12",
        ministry: "Bộ Quốc phòng",
        ministry_code: "BQP",
        level: ProcedureLevel::Province,
        objects: &[
            "chứng nhận đăng ký phương tiện kỹ thuật dự bị động viên",
            "xác nhận hoàn thành nghĩa vụ quân sự",
        ],
    },
    DemoField {
        code: "XDDT",
        name: "Đầu tư xây dựng",
        department: "000.00.19.H12",
        ministry: "Bộ Xây dựng",
        ministry_code: "BXD",
        level: ProcedureLevel::Province,
        objects: &["thẩm định báo cáo nghiên cứu khả thi đầu tư xây dựng"],
    },
    DemoField {
        code: "DTPT",
        name: "Đầu tư phát triển",
        department: "000.00.20.H12",
        ministry: "Bộ Tài chính",
        ministry_code: "BTC",
        level: ProcedureLevel::Province,
        objects: &["hồ sơ vay vốn đầu tư phát triển"],
    },
];

const VERBS: &[&str] = &["Cấp", "Cấp lại", "Gia hạn", "Điều chỉnh", "Đăng ký"];

/// xorshift64: small, fast and the same on every platform.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

pub(super) fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn content(rng: &mut Rng, field: &DemoField, name: String, units: Vec<String>) -> ProcedureContent {
    let online = match rng.below(3) {
        0 => OnlineLevel::Information,
        1 => OnlineLevel::Partial,
        _ => OnlineLevel::Full,
    };
    let mut c = ProcedureContent {
        name,
        field: field.code.into(),
        levels: vec![field.level],
        handling_units: units,
        time_limit: Some(TimeLimitSpec {
            amount: [1.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0][rng.below(7) as usize],
            measure: Measure::WorkingDays,
        }),
        fees: Some(if rng.chance(40) {
            vec![]
        } else {
            vec![Fee {
                name: "Lệ phí".into(),
                amount_vnd: 10_000 * (1 + rng.below(50) as i64),
                fee_type: "charge".into(),
                channel: None,
            }]
        }),
        channels: if online == OnlineLevel::Information {
            vec![Channel::InPerson, Channel::Postal]
        } else {
            vec![Channel::InPerson, Channel::Online, Channel::Postal]
        },
        online_level: Some(online),
        components: vec![
            Component {
                name: "Đơn đề nghị (theo mẫu)".into(),
                required: true,
                copies: 1,
            },
            Component {
                name: "Giấy tờ chứng minh nhân thân".into(),
                required: true,
                copies: 1,
            },
        ],
        result: Some(ProcedureResult {
            name: "Văn bản chấp thuận".into(),
            paper: true,
            electronic: rng.chance(70),
        }),
        legal_basis: vec![format!("Nghị định số {}/2025/NĐ-CP", 100 + rng.below(200))],
        target_subjects: vec!["Công dân Việt Nam".into(), "Tổ chức".into()],
        steps: vec![
            "Nộp hồ sơ".into(),
            "Tiếp nhận và kiểm tra".into(),
            "Giải quyết".into(),
            "Trả kết quả".into(),
        ],
        internal_process: None,
        electronic_process: None,
    };
    // About one procedure in eight is published with a part missing, as in real catalogues.
    match rng.below(16) {
        0 => c.fees = None,
        1 => c.legal_basis.clear(),
        _ => {}
    }
    c
}

/// What loading the catalogue created.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogueSummary {
    /// Procedures, national and localized.
    pub procedures: usize,
    /// Announcement decisions, ministries' and the province's.
    pub decisions: usize,
    /// The procedures the province's units handle, for the demo dossiers.
    pub offered: Vec<Offered>,
}

/// A procedure the province's units handle: what the demo dossiers are made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Offered {
    /// The code in force in the province (the localized one when there is one).
    pub code: String,
    /// The units handling it.
    pub units: Vec<String>,
    /// Its time limit in working days.
    pub working_days: f64,
    /// Whether it is offered online.
    pub online: bool,
    /// Whether it carries a fee.
    pub fee: bool,
}

/// Loads the catalogue and a year (2026) of decisions. `communes` are the communes' codes.
pub fn load(conn: &mut DbConnection, communes: &[&str]) -> Result<CatalogueSummary, StoreError> {
    let actor = Actor::system("demo catalogue");
    let all = UnitScope::All;
    let mut rng = Rng(0x7661_7660_2026_1121);
    let mut summary = CatalogueSummary::default();
    for f in FIELDS {
        procedures::put_field(
            conn,
            &actor,
            &Field {
                code: f.code.into(),
                name: f.name.into(),
            },
        )?;
    }
    // National procedures 1.00NNNN, most with a localized copy .H12.
    let mut national: Vec<(String, usize)> = Vec::new();
    let mut serial = 1000;
    for (fi, f) in FIELDS.iter().enumerate() {
        for object in f.objects {
            for verb in VERBS {
                serial += 1;
                if rng.chance(20) {
                    continue;
                }
                let name = format!("{verb} {object}");
                // Every commune handles the commune-level procedures (civil status, certification).
                let units: Vec<String> = match f.level {
                    ProcedureLevel::Commune => communes.iter().map(|c| (*c).to_owned()).collect(),
                    _ => vec![f.department.to_owned()],
                };
                let code = format!("1.{serial:06}");
                let parse = |c: &str| {
                    ProcedureCode::parse(c)
                        .map_err(|e| StoreError::Setup(format!("demo code {c}: {e}")))
                };
                let national_content = content(&mut rng, f, name.clone(), units.clone());
                procedures::write(
                    conn,
                    &actor,
                    &all,
                    &ProcedureWrite {
                        code: parse(&code)?,
                        content: national_content.clone(),
                        valid_from: day(2025, 7, 1),
                        decision: Some(format!("{}/QĐ-{}", 100 + rng.below(900), f.ministry_code)),
                        published_on: Some(Some(day(2025, 7, 10))),
                    },
                    None,
                )?;
                summary.procedures += 1;
                // Natural resources are localized least, as in the seed's province.
                let localize = if matches!(f.code, "TNN" | "MT" | "DD") {
                    45
                } else {
                    85
                };
                let offered = Offered {
                    code: code.clone(),
                    units: national_content.handling_units.clone(),
                    working_days: national_content.time_limit.map_or(5.0, |t| t.amount),
                    online: national_content.online_level != Some(OnlineLevel::Information),
                    fee: national_content
                        .fees
                        .as_ref()
                        .is_some_and(|fees| !fees.is_empty()),
                };
                if rng.chance(localize) {
                    summary.offered.push(Offered {
                        code: format!("{code}.H12"),
                        ..offered
                    });
                    procedures::write(
                        conn,
                        &actor,
                        &all,
                        &ProcedureWrite {
                            code: parse(&format!("{code}.H12"))?,
                            content: national_content,
                            valid_from: day(2025, 8, 1),
                            decision: Some(format!("{}/QĐ-UBND", 1000 + rng.below(900))),
                            published_on: Some(Some(day(2025, 8, 6))),
                        },
                        None,
                    )?;
                    summary.procedures += 1;
                } else {
                    summary.offered.push(offered);
                }
                national.push((code, fi));
            }
        }
    }
    // Two ministry decisions a month in 2026 up to November; the province answers most of them,
    // some late, a few not yet.
    let mut number = 0;
    for month in 1..=11u32 {
        for half in 0..2u32 {
            number += 1;
            let fi = rng.below(FIELDS.len() as u64) as usize;
            let f = &FIELDS[fi];
            let signed = day(2026, month, 3 + half * 12 + rng.below(5) as u32);
            let effective = rng
                .chance(60)
                .then(|| signed + TimeDelta::days(20 + rng.below(40) as i64));
            let codes: Vec<&String> = national
                .iter()
                .filter(|(_, i)| *i == fi)
                .map(|(c, _)| c)
                .take(1 + rng.below(3) as usize)
                .collect();
            let items = codes
                .iter()
                .map(|c| {
                    Ok(DecisionItem {
                        procedure_code: ProcedureCode::parse(c).map_err(StoreError::Setup)?,
                        action: ItemAction::Amended,
                        name: None,
                        replaces: None,
                        content: None,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let ministry_number = format!("{}/QĐ-{}", 100 + number * 37 % 900, f.ministry_code);
            announcements::create(
                conn,
                &actor,
                &all,
                &DecisionWrite {
                    kind: DecisionKind::Ministry,
                    number: ministry_number.clone(),
                    title: format!(
                        "Công bố thủ tục hành chính được sửa đổi, bổ sung lĩnh vực {}",
                        f.name
                    ),
                    issuer: f.ministry.into(),
                    signed_on: signed,
                    effective_on: effective,
                    unit: Some(f.department.into()),
                    implements: vec![],
                    internal_process: None,
                    published_on: None,
                    notes: None,
                    items,
                },
            )?;
            summary.decisions += 1;
            // Recent decisions may still be pending; older ones are answered after 2–15 days.
            let answered = signed < day(2026, 10, 25) && rng.chance(85);
            if !answered {
                continue;
            }
            let delay = 2 + rng.below(14) as i64;
            let province_signed = signed + TimeDelta::days(delay);
            let publish_delay = 1 + rng.below(12) as i64;
            let published = rng
                .chance(90)
                .then(|| province_signed + TimeDelta::days(publish_delay));
            let mut province_items = Vec::new();
            for c in &codes {
                let name = format!(
                    "{} (sửa đổi {}/{})",
                    national_name(conn, c)?,
                    month,
                    signed.year()
                );
                let mut changed = content(&mut rng, f, name, vec![f.department.to_owned()]);
                if f.level == ProcedureLevel::Commune {
                    changed.handling_units = communes.iter().map(|c| (*c).to_owned()).collect();
                }
                province_items.push(DecisionItem {
                    procedure_code: ProcedureCode::parse(&format!("{c}.H12"))
                        .map_err(StoreError::Setup)?,
                    action: ItemAction::Amended,
                    name: None,
                    replaces: None,
                    content: Some(changed),
                });
            }
            let decision = announcements::create(
                conn,
                &actor,
                &all,
                &DecisionWrite {
                    kind: DecisionKind::Province,
                    number: format!("{}/QĐ-UBND", 2000 + number * 11),
                    title: format!("Công bố danh mục thủ tục hành chính lĩnh vực {}", f.name),
                    issuer: "000.00.00.H12".into(),
                    signed_on: province_signed,
                    effective_on: None,
                    unit: Some(f.department.into()),
                    implements: vec![ministry_number],
                    internal_process: Some((
                        format!("{}/QĐ-UBND", 2001 + number * 11),
                        province_signed,
                    )),
                    published_on: published,
                    notes: Some(format!("Tờ trình của {}", f.department)),
                    items: province_items,
                },
            )?;
            summary.decisions += 1;
            // Apply the decision when its procedures were localized; an amendment of a procedure
            // the province never localized creates its localized copy.
            announcements::apply(conn, &actor, &all, decision.id)?;
        }
    }
    Ok(summary)
}

fn national_name(conn: &mut DbConnection, code: &str) -> Result<String, StoreError> {
    Ok(procedures::get(conn, code, day(2026, 1, 1), true)?
        .current
        .content
        .name)
}
