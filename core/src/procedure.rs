//! Administrative procedures (thủ tục hành chính) and what makes their published content
//! complete.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::calendar::Measure;

/// A procedure code: the national code (`1.001234`) or a province's localized copy of it
/// (`1.001234.H12`). 3–40 ASCII letters, digits and dots, starting with a digit.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(pattern = "^[0-9][A-Za-z0-9.]{2,39}$")
)]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ProcedureCode(String);

/// The national code a procedure code as written is based on (`1.001234.H12` → `1.001234`), or
/// the code itself: what [`ProcedureCode::base`] gives, for codes read back from the store.
pub fn base_of(code: &str) -> &str {
    let mut dots = code.match_indices('.').map(|(i, _)| i);
    match (dots.next(), dots.next()) {
        (Some(_), Some(second)) => &code[..second],
        _ => code,
    }
}

impl ProcedureCode {
    /// Checks `code` and wraps it, or says what is wrong.
    pub fn parse(code: &str) -> Result<Self, String> {
        if code.len() < 3 || code.len() > 40 {
            return Err("must be 3 to 40 characters, like 1.001234 or 1.001234.H12".into());
        }
        if !code.as_bytes()[0].is_ascii_digit() {
            return Err("must start with a digit, like 1.001234".into());
        }
        if let Some(bad) = code
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '.'))
        {
            return Err(format!(
                "may contain only ASCII letters, digits and '.' (found {bad:?})"
            ));
        }
        Ok(Self(code.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The national code a localized code is based on (`1.001234.H12` → `1.001234`), or the
    /// code itself.
    pub fn base(&self) -> &str {
        base_of(&self.0)
    }

    /// Whether this is a province's localized code (it has a suffix after the national code).
    pub fn is_localized(&self) -> bool {
        self.base() != self.0
    }
}

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ProcedureCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The administrative level that handles a procedure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProcedureLevel {
    /// Central (ministries).
    Central,
    /// Province.
    Province,
    /// District (before July 2025).
    District,
    /// Commune.
    Commune,
}

/// How a dossier can be submitted.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Channel {
    /// At the one-stop desk.
    InPerson,
    /// Online.
    Online,
    /// By public postal service.
    Postal,
}

/// The online service a procedure offers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OnlineLevel {
    /// Information only.
    Information,
    /// Partly online (dịch vụ công trực tuyến một phần).
    Partial,
    /// Fully online (toàn trình).
    Full,
}

/// A fee or charge.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fee {
    /// What it is for.
    pub name: String,
    /// Amount in VND.
    pub amount_vnd: i64,
    /// `fee` (phí) or `charge` (lệ phí).
    pub fee_type: String,
    /// The channel it applies to; all channels when absent.
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// A component of the dossier the applicant submits.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Component {
    /// Its name.
    pub name: String,
    /// Whether it is required.
    pub required: bool,
    /// Number of copies.
    #[cfg_attr(feature = "openapi", schema(format = Int64, maximum = 4294967295_u64))]
    pub copies: u32,
}

/// The result the applicant receives.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcedureResult {
    /// Its name (e.g. "Giấy khai sinh").
    pub name: String,
    /// Issued on paper.
    pub paper: bool,
    /// Issued electronically.
    pub electronic: bool,
}

/// A time limit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeLimitSpec {
    /// The amount: above 0, at most 1000, in hundredths (whole for calendar days); another is
    /// refused when the procedure is stored (422).
    pub amount: f64,
    /// Its measure.
    pub measure: Measure,
}

/// A decision approving a process (internal or electronic).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcessDecision {
    /// Decision number.
    pub number: String,
    /// Date signed.
    pub date: chrono::NaiveDate,
}

/// The longest procedure name taken: a name heads report lines and spreadsheet cells; the
/// longest in the national database are a few hundred characters.
pub const NAME_MAX: usize = 1_000;

/// The content of one version of a procedure, as published.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcedureContent {
    /// Name.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub name: String,
    /// Field code (lĩnh vực).
    pub field: String,
    /// Levels that handle it.
    #[serde(default)]
    pub levels: Vec<ProcedureLevel>,
    /// Codes of the units that handle it.
    #[serde(default, deserialize_with = "crate::unit::deserialize_codes")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::unit::UnitCode>))]
    pub handling_units: Vec<String>,
    /// Time limit.
    #[serde(default)]
    pub time_limit: Option<TimeLimitSpec>,
    /// Fees; an empty list states that it is free, absent means not stated.
    #[serde(default)]
    pub fees: Option<Vec<Fee>>,
    /// Channels.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Online service level.
    #[serde(default)]
    pub online_level: Option<OnlineLevel>,
    /// Dossier components.
    #[serde(default)]
    pub components: Vec<Component>,
    /// Result.
    #[serde(default)]
    pub result: Option<ProcedureResult>,
    /// Legal basis (documents).
    #[serde(default)]
    pub legal_basis: Vec<String>,
    /// Who may use it.
    #[serde(default)]
    pub target_subjects: Vec<String>,
    /// Steps.
    #[serde(default)]
    pub steps: Vec<String>,
    /// Decision approving the internal process.
    #[serde(default)]
    pub internal_process: Option<ProcessDecision>,
    /// Decision approving the electronic process, as configured in the provincial system.
    #[serde(default)]
    pub electronic_process: Option<ProcessDecision>,
}

/// A part the published content of a procedure must have.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ContentPart {
    /// Name.
    Name,
    /// Sequence of steps.
    Steps,
    /// Method (channels).
    Method,
    /// Dossier components and their count.
    Components,
    /// Time limit.
    TimeLimit,
    /// Target subjects.
    TargetSubjects,
    /// Handling agency.
    HandlingAgency,
    /// Result.
    Result,
    /// Fees (or an explicit statement that there are none).
    Fees,
    /// Legal basis.
    LegalBasis,
}

impl ContentPart {
    /// Every required part, in the order of the national template.
    pub const ALL: [ContentPart; 10] = [
        Self::Name,
        Self::Steps,
        Self::Method,
        Self::Components,
        Self::TimeLimit,
        Self::TargetSubjects,
        Self::HandlingAgency,
        Self::Result,
        Self::Fees,
        Self::LegalBasis,
    ];

    /// The part's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Steps => "steps",
            Self::Method => "method",
            Self::Components => "components",
            Self::TimeLimit => "timeLimit",
            Self::TargetSubjects => "targetSubjects",
            Self::HandlingAgency => "handlingAgency",
            Self::Result => "result",
            Self::Fees => "fees",
            Self::LegalBasis => "legalBasis",
        }
    }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn no_text(items: &[String]) -> bool {
    items.iter().all(|s| blank(s))
}

/// What the 766 index's counting reads of a procedure's stored content: whether a fee is above
/// zero, whether the result is issued on paper, and who it is for. Read from the stored JSON
/// without the rest: the content lists every unit that handles the procedure (for a commune-level
/// one, every commune), each checked when parsed whole, and a score reads every procedure in force
/// in its unit's subtree. Lenient where [`ProcedureContent`] is strict (unknown fields, unit codes
/// unchecked): what was stored was checked when it was written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountedContent {
    #[serde(default)]
    fees: Option<Vec<CountedFee>>,
    #[serde(default)]
    result: Option<CountedResult>,
    /// Who the procedure is for.
    #[serde(default)]
    pub target_subjects: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountedFee {
    amount_vnd: i64,
}

#[derive(Debug, Deserialize)]
struct CountedResult {
    paper: bool,
}

impl CountedContent {
    /// Whether any fee is above zero.
    pub fn has_fees(&self) -> bool {
        self.fees
            .as_ref()
            .is_some_and(|fees| fees.iter().any(|f| f.amount_vnd > 0))
    }

    /// Whether the result is issued on paper.
    pub fn paper_result(&self) -> bool {
        self.result.as_ref().is_some_and(|r| r.paper)
    }
}

/// The required parts that `content` lacks (empty when it is complete).
pub fn missing_parts(content: &ProcedureContent) -> Vec<ContentPart> {
    ContentPart::ALL
        .into_iter()
        .filter(|part| match part {
            ContentPart::Name => blank(&content.name),
            ContentPart::Steps => no_text(&content.steps),
            ContentPart::Method => content.channels.is_empty(),
            ContentPart::Components => {
                content.components.is_empty()
                    || content
                        .components
                        .iter()
                        .any(|c| blank(&c.name) || c.copies == 0)
            }
            ContentPart::TimeLimit => content.time_limit.is_none_or(|t| t.amount <= 0.0),
            ContentPart::TargetSubjects => no_text(&content.target_subjects),
            ContentPart::HandlingAgency => content.handling_units.is_empty(),
            ContentPart::Result => content.result.as_ref().is_none_or(|r| blank(&r.name)),
            ContentPart::Fees => content.fees.is_none(),
            ContentPart::LegalBasis => no_text(&content.legal_basis),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn complete() -> ProcedureContent {
        ProcedureContent {
            name: "Đăng ký khai sinh".into(),
            field: "HT".into(),
            levels: vec![ProcedureLevel::Commune],
            handling_units: vec!["000.21.30.H12".into()],
            time_limit: Some(TimeLimitSpec {
                amount: 1.0,
                measure: Measure::WorkingDays,
            }),
            fees: Some(vec![]),
            channels: vec![Channel::InPerson, Channel::Online],
            online_level: Some(OnlineLevel::Full),
            components: vec![Component {
                name: "Tờ khai đăng ký khai sinh".into(),
                required: true,
                copies: 1,
            }],
            result: Some(ProcedureResult {
                name: "Giấy khai sinh".into(),
                paper: true,
                electronic: true,
            }),
            legal_basis: vec!["Luật Hộ tịch 2014".into()],
            target_subjects: vec!["Công dân Việt Nam".into()],
            steps: vec!["Nộp hồ sơ".into(), "Trả kết quả".into()],
            internal_process: None,
            electronic_process: None,
        }
    }

    #[test]
    fn codes_know_their_base() {
        let national = ProcedureCode::parse("1.001234").unwrap();
        let local = ProcedureCode::parse("1.001234.H12").unwrap();
        assert!(!national.is_localized());
        assert!(local.is_localized());
        assert_eq!(local.base(), "1.001234");
        assert!(ProcedureCode::parse("x.1").is_err());
        assert!(ProcedureCode::parse("1.00 1").is_err());
    }

    #[test]
    fn completeness_lists_every_missing_part() {
        assert!(missing_parts(&complete()).is_empty());
        let mut c = complete();
        c.fees = None;
        c.steps = vec!["  ".into()];
        c.components[0].copies = 0;
        assert_eq!(
            missing_parts(&c),
            [
                ContentPart::Steps,
                ContentPart::Components,
                ContentPart::Fees
            ]
        );
        assert_eq!(missing_parts(&ProcedureContent::default()).len(), 10);
    }

    /// The counting's narrow read agrees with the whole content as stored.
    #[test]
    fn the_counted_read_of_stored_content_agrees_with_the_whole() {
        let read = |c: &ProcedureContent| {
            let stored = serde_json::to_string(c).unwrap();
            let counted: CountedContent = serde_json::from_str(&stored).unwrap();
            (
                counted.has_fees(),
                counted.paper_result(),
                counted.target_subjects,
            )
        };
        let subjects = vec!["Công dân Việt Nam".to_owned()];
        assert_eq!(read(&complete()), (false, true, subjects.clone()));
        let mut c = complete();
        let fee = |amount_vnd| Fee {
            name: "Lệ phí".into(),
            amount_vnd,
            fee_type: "charge".into(),
            channel: None,
        };
        c.fees = Some(vec![fee(0), fee(8_000)]);
        c.result = Some(ProcedureResult {
            name: "Bản điện tử".into(),
            paper: false,
            electronic: true,
        });
        assert_eq!(read(&c), (true, false, subjects));
        c.fees = Some(vec![fee(0)]);
        c.result = None;
        c.target_subjects = vec![];
        assert_eq!(read(&c), (false, false, vec![]));
        assert_eq!(read(&ProcedureContent::default()), (false, false, vec![]));
    }
}
