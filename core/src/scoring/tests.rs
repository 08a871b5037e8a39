use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn qd766() -> &'static RuleSet {
    rule_set("qd766").unwrap()
}

fn indicator(code: &str) -> &'static Indicator {
    qd766().indicator(code).unwrap().1
}

fn inputs(items: &[(&str, Input)]) -> BTreeMap<String, Input> {
    items.iter().map(|(c, i)| (c.to_string(), *i)).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

// ---- the shipped data ----

#[test]
fn shipped_rule_sets_parse_and_are_valid() {
    for result in parse_shipped() {
        assert!(result.is_ok(), "{}", result.unwrap_err());
    }
    assert_eq!(rule_sets().count(), SHIPPED.len());
}

#[test]
fn qd766_has_the_decision_s_groups_and_points() {
    let set = qd766();
    assert_eq!(set.applies_from, d("2022-06-23"));
    assert_eq!(set.source, "Quyết định 766/QĐ-TTg ngày 23/6/2022");
    assert!(set.problems().is_empty(), "{:?}", set.problems());
    assert_eq!(set.max_score(), 100.0);
    let groups: Vec<(&str, &str, f64)> = set
        .groups
        .iter()
        .map(|g| (g.code.as_str(), g.name_vi.as_str(), g.max_score))
        .collect();
    assert_eq!(
        groups,
        vec![
            ("TRANSPARENCY", "Công khai, minh bạch", 18.0),
            ("PROGRESS", "Tiến độ giải quyết", 20.0),
            ("ONLINE_SERVICE", "Dịch vụ trực tuyến", 12.0),
            ("ONLINE_PAYMENT", "Thanh toán trực tuyến", 10.0),
            ("DIGITIZATION", "Số hóa hồ sơ", 22.0),
            ("SATISFACTION", "Mức độ hài lòng", 18.0),
        ]
    );
}

#[test]
fn qd766_indicators_are_as_decided() {
    use Scoring::{FullAt, Linear};
    use ZeroPolicy::{Full, NotApplicable, Zero};
    let full_at = |threshold| FullAt { threshold };
    let expected = [
        (
            "TRANSPARENCY",
            "PUBLISH_ON_TIME",
            6.0,
            Linear,
            NotApplicable,
        ),
        (
            "TRANSPARENCY",
            "PUBLIC_UPDATE_ON_TIME",
            4.0,
            Linear,
            NotApplicable,
        ),
        (
            "TRANSPARENCY",
            "PUBLIC_CONTENT_FULL",
            2.0,
            Linear,
            NotApplicable,
        ),
        ("TRANSPARENCY", "DOSSIER_SYNC", 6.0, Linear, NotApplicable),
        ("PROGRESS", "ON_TIME_PROCESSING", 20.0, Linear, Zero),
        (
            "ONLINE_SERVICE",
            "ONLINE_SERVICE_PROVIDED",
            2.0,
            full_at(80.0),
            Zero,
        ),
        (
            "ONLINE_SERVICE",
            "ONLINE_SERVICE_WITH_DOSSIERS",
            4.0,
            Linear,
            Zero,
        ),
        (
            "ONLINE_SERVICE",
            "ONLINE_DOSSIER_SUBMISSION",
            6.0,
            full_at(50.0),
            Zero,
        ),
        (
            "ONLINE_PAYMENT",
            "ONLINE_PAYMENT_DOSSIER",
            6.0,
            Linear,
            Zero,
        ),
        (
            "ONLINE_PAYMENT",
            "ONLINE_PAYMENT_FORMALITY",
            2.0,
            full_at(80.0),
            Zero,
        ),
        (
            "ONLINE_PAYMENT",
            "PAYMENT_INTEGRATED_FORMALITY",
            2.0,
            full_at(80.0),
            Zero,
        ),
        (
            "DIGITIZATION",
            "ORIGINAL_RESULT_AVAILABLE",
            6.0,
            Linear,
            NotApplicable,
        ),
        (
            "DIGITIZATION",
            "SO_HOA_GIAY_TO_GIAI_QUYET",
            4.0,
            Linear,
            NotApplicable,
        ),
        (
            "DIGITIZATION",
            "ELECTRONIC_CERTIFIED_COPY",
            2.0,
            Linear,
            NotApplicable,
        ),
        (
            "DIGITIZATION",
            "REUSED_DIGITIZED_DATA",
            2.0,
            full_at(80.0),
            NotApplicable,
        ),
        (
            "DIGITIZATION",
            "SYNCED_WITH_DVCQG_PERSONAL_STORAGE",
            4.0,
            Linear,
            NotApplicable,
        ),
        (
            "DIGITIZATION",
            "CITIZEN_DATA_CONNECTED_DOSSIER",
            2.0,
            Linear,
            NotApplicable,
        ),
        (
            "DIGITIZATION",
            "CITIZEN_DATA_CONNECTED_FORMALITY",
            2.0,
            Linear,
            NotApplicable,
        ),
        (
            "SATISFACTION",
            "PETITION_PROCESSING_ON_TIME",
            6.0,
            Linear,
            Full,
        ),
        (
            "SATISFACTION",
            "PETITION_HANDLING_SATISFACTION",
            6.0,
            Linear,
            Full,
        ),
        (
            "SATISFACTION",
            "DOSSIER_RECEIVING_SATISFACTION",
            6.0,
            full_at(90.0),
            Zero,
        ),
    ];
    let actual: Vec<_> = qd766()
        .groups
        .iter()
        .flat_map(|g| {
            g.indicators.iter().map(move |i| {
                (
                    g.code.as_str(),
                    i.code.as_str(),
                    i.max_score,
                    i.scoring,
                    i.zero_denominator,
                )
            })
        })
        .collect();
    assert_eq!(actual, expected);
    for (_, code, ..) in expected {
        let i = indicator(code);
        assert!(!i.name_vi.is_empty() && !i.name_en.is_empty() && i.description.contains('/'));
    }
}

#[test]
fn the_rule_set_in_force_depends_on_the_date() {
    let shipped = RuleSets::shipped();
    assert!(shipped.in_force(d("2022-06-22")).is_none());
    assert_eq!(shipped.in_force(d("2022-06-23")).unwrap().code, "qd766");
    assert_eq!(shipped.in_force(d("2026-08-15")).unwrap().code, "qd766");
    assert!(rule_set("qd999").is_none());
    assert!(qd766().indicator("NOPE").is_none());
    let (group, ind) = qd766().indicator("REUSED_DIGITIZED_DATA").unwrap();
    assert_eq!((group.code.as_str(), ind.max_score), ("DIGITIZATION", 2.0));
}

#[test]
fn the_check_finds_broken_rule_sets() {
    let mut broken = qd766().clone();
    broken.groups[0].max_score = 19.0;
    let problems = broken.problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("TRANSPARENCY has a maximum of 19 but its indicators sum to 18"));
    assert!(problems[1].contains("totals 101 points"));

    let mut broken = qd766().clone();
    broken.groups[1].indicators[0].code = "PUBLISH_ON_TIME".into();
    assert_eq!(broken.problems(), vec!["code PUBLISH_ON_TIME is repeated"]);

    let mut broken = qd766().clone();
    broken.groups[2].indicators[0].scoring = Scoring::FullAt { threshold: 0.0 };
    assert_eq!(broken.problems().len(), 1);

    assert!(parse_rule_set("x.json", "{\"code\": \"x\"}").is_err());
    let with_typo = SHIPPED[0].1.replacen("\"nameEn\"", "\"nameEng\"", 1);
    assert!(
        parse_rule_set("x.json", &with_typo).is_err(),
        "unknown fields refused"
    );
}

#[test]
fn scoring_kinds_deserialize_tagged() {
    let linear: Scoring = serde_json::from_str(r#"{"kind":"linear"}"#).unwrap();
    assert_eq!(linear, Scoring::Linear);
    let full: Scoring = serde_json::from_str(r#"{"kind":"fullAt","threshold":80}"#).unwrap();
    assert_eq!(full, Scoring::FullAt { threshold: 80.0 });
    let na: ZeroPolicy = serde_json::from_str(r#""notApplicable""#).unwrap();
    assert_eq!(na, ZeroPolicy::NotApplicable);
}

// ---- scoring functions ----

#[test]
fn linear_is_proportional_and_capped() {
    assert!(close(Scoring::Linear.points(6.0, 0.75), 4.5));
    assert!(close(Scoring::Linear.points(20.0, 0.0), 0.0));
    assert!(close(Scoring::Linear.points(20.0, 1.0), 20.0));
    assert!(
        close(Scoring::Linear.points(6.0, 1.5), 6.0),
        "capped at max"
    );
    assert!(close(Scoring::Linear.points(6.0, -0.5), 0.0));
    assert!(close(Scoring::Linear.points(6.0, f64::NAN), 0.0));
}

#[test]
fn full_at_is_proportional_below_the_threshold_and_full_from_it() {
    let at80 = Scoring::FullAt { threshold: 80.0 };
    assert!(
        close(at80.points(2.0, 0.40), 1.0),
        "half the threshold, half the points"
    );
    assert!(close(at80.points(2.0, 0.60), 1.5));
    assert!(close(at80.points(2.0, 0.80), 2.0), "at the threshold");
    assert!(close(at80.points(2.0, 0.95), 2.0), "above: capped");
    assert!(close(at80.points(2.0, 0.0), 0.0));
    let at50 = Scoring::FullAt { threshold: 50.0 };
    assert!(close(at50.points(6.0, 0.30), 3.6));
    let at90 = Scoring::FullAt { threshold: 90.0 };
    assert!(close(at90.points(6.0, 0.45), 3.0));
}

#[test]
fn zero_denominator_policies() {
    assert_eq!(ZeroPolicy::Zero.points(20.0), Some(0.0));
    assert_eq!(ZeroPolicy::Full.points(6.0), Some(6.0));
    assert_eq!(ZeroPolicy::NotApplicable.points(6.0), None);

    let zero = score_indicator(
        indicator("ON_TIME_PROCESSING"),
        Input::counts(0, 0).check("X").unwrap(),
    );
    assert_eq!(
        (zero.score, zero.points_lost, zero.ratio),
        (Some(0.0), Some(20.0), None)
    );
    assert_eq!((zero.numerator, zero.denominator), (Some(0), Some(0)));

    let full = score_indicator(
        indicator("PETITION_PROCESSING_ON_TIME"),
        Figures {
            numerator: 0,
            denominator: 0,
        },
    );
    assert_eq!((full.score, full.points_lost), (Some(6.0), Some(0.0)));

    let dissatisfied = score_indicator(
        indicator("DOSSIER_RECEIVING_SATISFACTION"),
        Figures {
            numerator: 0,
            denominator: 0,
        },
    );
    assert_eq!(dissatisfied.score, Some(0.0));

    let na = score_indicator(
        indicator("DOSSIER_SYNC"),
        Figures {
            numerator: 0,
            denominator: 0,
        },
    );
    assert_eq!((na.score, na.points_lost, na.ratio), (None, None, None));
    assert_eq!(points_if(indicator("DOSSIER_SYNC"), 0, 0), 0.0);
}

#[test]
fn the_worked_example_indicator() {
    let s = score_indicator(
        indicator("ON_TIME_PROCESSING"),
        Figures {
            numerator: 144_625,
            denominator: 184_513,
        },
    );
    assert_eq!(s.ratio, Some(78.38));
    assert_eq!(s.score, Some(15.68));
    assert_eq!(s.points_lost, Some(4.32));
    assert_eq!(s.max_score, 20.0);
    assert_eq!(s.scoring, Scoring::Linear);
    assert!(close(
        points_if(indicator("ON_TIME_PROCESSING"), 144_625, 184_513),
        20.0 * 144_625.0 / 184_513.0
    ));

    let copy = score_indicator(
        indicator("ELECTRONIC_CERTIFIED_COPY"),
        Measure::Ratio(100.0),
    );
    assert_eq!(
        (copy.ratio, copy.score, copy.points_lost),
        (Some(100.0), Some(2.0), Some(0.0))
    );
    assert_eq!((copy.numerator, copy.denominator), (None, None));
}

#[test]
fn gains_from_fixing_records() {
    let on_time = indicator("ON_TIME_PROCESSING");
    let gain = points_if(on_time, 144_625 + 1_000, 184_513) - points_if(on_time, 144_625, 184_513);
    assert!(close(gain, 20_000.0 / 184_513.0), "{gain}");
    assert!((gain - 0.1084).abs() < 1e-4);
    // Full at 50%: nothing to win back above the threshold.
    let online = indicator("ONLINE_DOSSIER_SUBMISSION");
    assert_eq!(points_if(online, 60, 100) - points_if(online, 55, 100), 0.0);
    assert!(close(
        points_if(online, 50, 100) - points_if(online, 40, 100),
        1.2
    ));
    // More than the denominator counts as all of it.
    assert_eq!(points_if(on_time, 10, 5), 20.0);
}

#[test]
fn rounding_is_to_two_decimals() {
    assert_eq!(round2(15.676_402), 15.68);
    assert_eq!(round2(0.857_142), 0.86);
    assert_eq!(round2(2.0), 2.0);
    assert!(round2(-0.001).is_sign_positive(), "no -0");
}

// ---- evaluate ----

#[test]
fn the_worked_example_evaluation() {
    let result = evaluate(
        qd766(),
        &inputs(&[
            ("ON_TIME_PROCESSING", Input::counts(144_625, 184_513)),
            ("ELECTRONIC_CERTIFIED_COPY", Input::ratio(100.0)),
        ]),
    )
    .unwrap();
    assert_eq!(result.rule_set, "qd766");
    assert_eq!(result.max_score, 100.0);
    // 15.6764… + 2 = 17.6764… → 17.68.
    assert_eq!(result.score, Some(17.68));
    assert_eq!(result.groups.len(), 6);
    let group = |code: &str| result.groups.iter().find(|g| g.code == code).unwrap();
    let progress = group("PROGRESS");
    assert_eq!((progress.score, progress.max_score), (Some(15.68), 20.0));
    let digitization = group("DIGITIZATION");
    assert_eq!(
        (digitization.score, digitization.max_score),
        (Some(2.0), 22.0)
    );
    assert_eq!(digitization.indicators.len(), 7);
    let unscored: Vec<_> = digitization
        .indicators
        .iter()
        .filter(|i| i.score.is_none())
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(unscored.len(), 6);
    assert!(!unscored.contains(&"ELECTRONIC_CERTIFIED_COPY"));
    for code in [
        "TRANSPARENCY",
        "ONLINE_SERVICE",
        "ONLINE_PAYMENT",
        "SATISFACTION",
    ] {
        let g = group(code);
        assert_eq!(g.score, None, "{code}");
        assert!(
            g.indicators
                .iter()
                .all(|i| i.score.is_none() && i.points_lost.is_none() && i.ratio.is_none())
        );
    }
    let petition = &group("SATISFACTION").indicators[0];
    assert_eq!(petition.max_score, 6.0);

    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["score"], 17.68);
    assert_eq!(json["ruleSet"], "qd766");
    assert_eq!(json["groups"][1]["indicators"][0]["pointsLost"], 4.32);
    assert_eq!(
        json["groups"][1]["indicators"][0]["scoring"]["kind"],
        "linear"
    );
    assert_eq!(
        json["groups"][2]["indicators"][0]["scoring"]["threshold"],
        80.0
    );
    assert!(json["groups"][0]["score"].is_null());
}

#[test]
fn no_input_at_all_scores_null() {
    let result = evaluate(qd766(), &BTreeMap::new()).unwrap();
    assert_eq!(result.score, None);
    assert_eq!(result.max_score, 100.0);
    assert!(result.groups.iter().all(|g| g.score.is_none()));
    let listed: usize = result.groups.iter().map(|g| g.indicators.len()).sum();
    assert_eq!(listed, 21);
}

#[test]
fn not_applicable_counts_zero_and_keeps_the_group_maximum() {
    let result = evaluate(
        qd766(),
        &inputs(&[
            ("ORIGINAL_RESULT_AVAILABLE", Input::counts(0, 0)),
            ("ELECTRONIC_CERTIFIED_COPY", Input::counts(1, 2)),
        ]),
    )
    .unwrap();
    let g = &result.groups[4];
    assert_eq!(
        (g.code.as_str(), g.score, g.max_score),
        ("DIGITIZATION", Some(1.0), 22.0)
    );
    assert_eq!(g.indicators[0].score, None);
    assert_eq!(g.indicators[0].points_lost, None);
    assert_eq!(g.indicators[2].ratio, Some(50.0));
    assert_eq!(result.score, Some(1.0));

    // A group whose only input is not applicable scores 0, not null.
    let only_na = evaluate(qd766(), &inputs(&[("DOSSIER_SYNC", Input::counts(0, 0))])).unwrap();
    assert_eq!(only_na.groups[0].score, Some(0.0));
    assert_eq!(only_na.score, Some(0.0));
}

#[test]
fn groups_and_totals_round_the_unrounded_sum() {
    // Each transparency indicator at 1/7: 0.857…, 0.571…, 0.285…, 0.857… published as
    // 0.86 + 0.57 + 0.29 + 0.86 = 2.58, but the group is 18/7 = 2.571… → 2.57.
    let sevenths = Input::counts(1, 7);
    let result = evaluate(
        qd766(),
        &inputs(&[
            ("PUBLISH_ON_TIME", sevenths),
            ("PUBLIC_UPDATE_ON_TIME", sevenths),
            ("PUBLIC_CONTENT_FULL", sevenths),
            ("DOSSIER_SYNC", sevenths),
        ]),
    )
    .unwrap();
    let g = &result.groups[0];
    let published: Vec<_> = g.indicators.iter().map(|i| i.score.unwrap()).collect();
    assert_eq!(published, vec![0.86, 0.57, 0.29, 0.86]);
    assert_eq!(g.indicators[0].ratio, Some(14.29));
    assert_eq!(g.score, Some(2.57));
    assert_eq!(result.score, Some(2.57));
}

#[test]
fn every_problem_is_reported_with_its_field() {
    let errors = evaluate(
        qd766(),
        &inputs(&[
            ("BOGUS", Input::counts(1, 2)),
            ("ON_TIME_PROCESSING", Input::counts(5, 4)),
            (
                "ONLINE_DOSSIER_SUBMISSION",
                Input {
                    numerator: Some(1),
                    denominator: Some(2),
                    ratio: Some(50.0),
                    times: None,
                },
            ),
            ("DOSSIER_SYNC", Input::default()),
            ("PUBLISH_ON_TIME", Input::ratio(101.0)),
            ("PUBLIC_CONTENT_FULL", Input::ratio(f64::NAN)),
            (
                "PUBLIC_UPDATE_ON_TIME",
                Input {
                    times: None,
                    numerator: Some(3),
                    ..Input::default()
                },
            ),
            ("ELECTRONIC_CERTIFIED_COPY", Input::ratio(100.0)),
        ]),
    )
    .unwrap_err();
    let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "inputs.BOGUS",
            "inputs.DOSSIER_SYNC",
            "inputs.ONLINE_DOSSIER_SUBMISSION",
            "inputs.ON_TIME_PROCESSING.numerator",
            "inputs.PUBLIC_CONTENT_FULL.ratio",
            "inputs.PUBLIC_UPDATE_ON_TIME",
            "inputs.PUBLISH_ON_TIME.ratio",
        ]
    );
    assert_eq!(
        errors[0].reason,
        "unknown indicator BOGUS of rule set qd766"
    );
    assert_eq!(errors[1].reason, "give numerator and denominator, or ratio");
    assert_eq!(errors[2].reason, "give numerator and denominator, or ratio");
    assert_eq!(
        errors[3].reason,
        "the numerator (5) exceeds the denominator (4)"
    );
    assert!(errors[6].reason.contains("from 0 to 100"));
}

#[test]
fn inputs_deserialize_strictly() {
    let counts: Input = serde_json::from_str(r#"{"numerator": 3, "denominator": 4}"#).unwrap();
    assert_eq!(counts, Input::counts(3, 4));
    let ratio: Input = serde_json::from_str(r#"{"ratio": 78.38}"#).unwrap();
    assert_eq!(ratio, Input::ratio(78.38));
    assert!(serde_json::from_str::<Input>(r#"{"numerator": 3, "denom": 4}"#).is_err());
    assert!(serde_json::from_str::<Input>(r#"{"numerator": -3, "denominator": 4}"#).is_err());
    let map: BTreeMap<String, Input> =
        serde_json::from_str(r#"{"ON_TIME_PROCESSING": {"numerator": 1, "denominator": 1}}"#)
            .unwrap();
    let result = evaluate(qd766(), &map).unwrap();
    assert_eq!(result.score, Some(20.0));
}

#[cfg(feature = "openapi")]
#[test]
fn openapi_schemas_carry_the_examples() {
    use utoipa::PartialSchema;
    let input = serde_json::to_value(Input::schema()).unwrap();
    assert_eq!(input["example"]["numerator"], 144_625);
    let evaluation = serde_json::to_value(Evaluation::schema()).unwrap();
    assert_eq!(evaluation["example"]["score"], 15.68);
    let scoring = serde_json::to_string(&Scoring::schema()).unwrap();
    assert!(
        scoring.contains("fullAt") && scoring.contains("threshold"),
        "{scoring}"
    );
}

/// The indicator `code`'s score in `e`.
fn scored<'a>(e: &'a Evaluation, code: &str) -> &'a IndicatorScore {
    e.groups
        .iter()
        .flat_map(|g| &g.indicators)
        .find(|i| i.code == code)
        .unwrap()
}

#[test]
fn a_share_multiplies_the_ratio_of_counts() {
    let sync = Factor {
        numerator: 4,
        denominator: 5,
    };
    let e = evaluate(
        qd766(),
        &inputs(&[
            // 40 of 100 online (full marks from 50%) × 80% synced = 32% → 6 × 32/50 = 3.84.
            ("ONLINE_DOSSIER_SUBMISSION", Input::scaled(40, 100, sync)),
            // Nothing synced: the product is 0.
            (
                "ON_TIME_PROCESSING",
                Input::scaled(
                    10,
                    10,
                    Factor {
                        numerator: 0,
                        denominator: 0,
                    },
                ),
            ),
        ]),
    )
    .unwrap();
    let online = scored(&e, "ONLINE_DOSSIER_SUBMISSION");
    assert_eq!(online.numerator, Some(40));
    assert_eq!(online.ratio, Some(32.0));
    assert_eq!(online.score, Some(3.84));
    assert_eq!(online.times, Some(sync));
    assert_eq!(scored(&e, "ON_TIME_PROCESSING").score, Some(0.0));
    // A share above one, or a share of a ratio, is refused with its field.
    let bad = evaluate(
        qd766(),
        &inputs(&[
            (
                "ONLINE_DOSSIER_SUBMISSION",
                Input::scaled(
                    1,
                    2,
                    Factor {
                        numerator: 3,
                        denominator: 2,
                    },
                ),
            ),
            (
                "DOSSIER_SYNC",
                Input {
                    times: Some(sync),
                    ..Input::ratio(50.0)
                },
            ),
        ]),
    )
    .unwrap_err();
    let fields: Vec<&str> = bad.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        fields,
        [
            "inputs.DOSSIER_SYNC.times",
            "inputs.ONLINE_DOSSIER_SUBMISSION.times.numerator"
        ]
    );
}

#[test]
fn a_level_policy_replaces_the_figure_or_drops_the_indicator() {
    use crate::scoring::counting::LevelPolicy;
    use crate::scoring::counts::{Count, Source, evaluate_counts};
    let count = |n, d| Count::new(n, d, Source::Observed);
    let with = |policy| Count {
        at_level: Some(policy),
        ..count(0, 0)
    };
    let base = BTreeMap::from([
        ("PUBLISH_ON_TIME".to_owned(), count(1, 2)),
        ("ON_TIME_PROCESSING".to_owned(), count(3, 4)),
    ]);
    // 1/2 × 6 + 3/4 × 20 = 18.
    let (plain, _) = evaluate_counts(&base, qd766()).unwrap();
    assert_eq!(plain.score, Some(18.0));
    let mut full = base.clone();
    full.insert("PUBLIC_CONTENT_FULL".into(), with(LevelPolicy::Full));
    full.insert("PUBLIC_UPDATE_ON_TIME".into(), with(LevelPolicy::Zero));
    let (e, sources) = evaluate_counts(&full, qd766()).unwrap();
    assert_eq!(e.score, Some(20.0), "2 points of full content added");
    assert_eq!(scored(&e, "PUBLIC_UPDATE_ON_TIME").score, Some(0.0));
    assert_eq!(e.max_score, 100.0);
    assert_eq!(sources.len(), 4);
    let mut dropped = base.clone();
    dropped.insert("PUBLIC_CONTENT_FULL".into(), with(LevelPolicy::Dropped));
    dropped.insert("PUBLIC_UPDATE_ON_TIME".into(), with(LevelPolicy::Dropped));
    let (e, _) = evaluate_counts(&dropped, qd766()).unwrap();
    assert_eq!(e.score, Some(18.0));
    assert_eq!(e.max_score, 94.0, "4 + 2 points leave the maximum");
    let transparency = e.groups.iter().find(|g| g.code == "TRANSPARENCY").unwrap();
    assert_eq!(transparency.max_score, 12.0);
    assert!(
        transparency
            .indicators
            .iter()
            .all(|i| i.code != "PUBLIC_CONTENT_FULL")
    );
    // A figure with a share is scored with it.
    let mut scaled = base;
    scaled.insert(
        "ONLINE_DOSSIER_SUBMISSION".into(),
        Count {
            times: Some(Factor {
                numerator: 1,
                denominator: 2,
            }),
            ..count(50, 100)
        },
    );
    let (e, _) = evaluate_counts(&scaled, qd766()).unwrap();
    assert_eq!(scored(&e, "ONLINE_DOSSIER_SUBMISSION").score, Some(3.0));
}

#[test]
fn equal_scores_share_the_better_rank() {
    assert_eq!(ranks(&[70.0, 81.5, 70.0, 12.0]), [2, 1, 2, 4]);
    assert!(ranks(&[]).is_empty());
}
