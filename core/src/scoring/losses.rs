//! Which units pull a parent's score down, and by how many points: each indicator's lost points
//! at the parent's level shared among its children by the records each one misses.
//!
//! A parent's figures count every record below it, so a child's misses are part of the
//! parent's. An indicator's lost points `L` are shared in proportion to misses: a child with
//! `m` of the parent's `M` misses carries `L × m / M`, and the records kept at the parent unit
//! itself carry the rest. When the children's misses are not part of the parent's count (an
//! indicator counted over procedures, where one procedure serves several units), the points
//! are shared among the children by their own misses alone; when nothing is counted record by
//! record (a ratio entered by hand), the parent keeps them. The shares are not rounded, so that
//! they add up to the parent's loss exactly.

use std::collections::BTreeMap;

use super::Evaluation;

/// One unit's part of a parent's lost points.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Share {
    /// Points by indicator code (only indicators it costs).
    pub points: BTreeMap<String, f64>,
    /// Their sum.
    pub total: f64,
}

impl Share {
    fn add(&mut self, code: &str, points: f64) {
        if points > 0.0 {
            *self.points.entry(code.to_owned()).or_default() += points;
            self.total += points;
        }
    }
}

/// The misses of an indicator given as counts: those the counts state, else denominator −
/// numerator.
fn misses(evaluation: &Evaluation, code: &str) -> Option<u64> {
    evaluation
        .groups
        .iter()
        .flat_map(|g| &g.indicators)
        .find(|i| i.code == code)
        .and_then(|i| {
            i.misses
                .or(Some(i.denominator?.saturating_sub(i.numerator?)))
        })
}

/// Shares the points `parent` lost among `children` (in their order) and the parent unit's own
/// records.
pub fn apportion(parent: &Evaluation, children: &[&Evaluation]) -> (Vec<Share>, Share) {
    let mut shares = vec![Share::default(); children.len()];
    let mut own = Share::default();
    for indicator in parent.groups.iter().flat_map(|g| &g.indicators) {
        let Some(lost) = indicator.points_lost.filter(|l| *l > 0.0) else {
            continue;
        };
        let code = indicator.code.as_str();
        let of_children: Vec<u64> = children
            .iter()
            .map(|c| misses(c, code).unwrap_or(0))
            .collect();
        // Wide: entered figures reach 2^63 - 1 each, and a u64 sum of three wrapped round
        // (each child then carried about the whole loss; a debug build panicked).
        let sum: u128 = of_children.iter().map(|m| u128::from(*m)).sum();
        let total = misses(parent, code)
            .map(u128::from)
            .filter(|m| *m > 0 && sum <= *m);
        let base = match total {
            Some(m) => m,
            None if sum > 0 => sum,
            None => {
                own.add(code, lost);
                continue;
            }
        };
        for (share, m) in shares.iter_mut().zip(&of_children) {
            share.add(code, lost * (*m as f64) / (base as f64));
        }
        if base > sum {
            own.add(code, lost * ((base - sum) as f64) / (base as f64));
        }
    }
    (shares, own)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::{IndicatorScore, evaluate, rule_set};

    fn eval(on_time: (u64, u64), sync: (u64, u64)) -> Evaluation {
        let inputs = serde_json::from_value(serde_json::json!({
            "ON_TIME_PROCESSING": {"numerator": on_time.0, "denominator": on_time.1},
            "DOSSIER_SYNC": {"numerator": sync.0, "denominator": sync.1}
        }))
        .unwrap();
        evaluate(rule_set("qd766").unwrap(), &inputs).unwrap()
    }

    fn lost(e: &Evaluation, code: &str) -> f64 {
        e.groups
            .iter()
            .flat_map(|g| &g.indicators)
            .find(|i| i.code == code)
            .and_then(|i| i.points_lost)
            .unwrap()
    }

    #[test]
    fn shares_follow_the_misses_and_add_up_to_the_parents_loss() {
        // The province: 60 of 100 on time (2 children with 30 and 10 misses, none at the
        // province itself); 90 of 100 synced (children 4 and 2 misses, 4 at the province).
        let p = eval((60, 100), (90, 100));
        let a = eval((20, 50), (46, 50));
        let b = eval((40, 50), (48, 50));
        let (shares, own) = apportion(&p, &[&a, &b]);
        let on_time = lost(&p, "ON_TIME_PROCESSING");
        assert!((shares[0].points["ON_TIME_PROCESSING"] - on_time * 30.0 / 40.0).abs() < 1e-9);
        assert!((shares[1].points["ON_TIME_PROCESSING"] - on_time * 10.0 / 40.0).abs() < 1e-9);
        let sync = lost(&p, "DOSSIER_SYNC");
        assert!((shares[0].points["DOSSIER_SYNC"] - sync * 4.0 / 10.0).abs() < 1e-9);
        assert!((own.points["DOSSIER_SYNC"] - sync * 4.0 / 10.0).abs() < 1e-9);
        let all: f64 = shares.iter().map(|s| s.total).sum::<f64>() + own.total;
        let parent: f64 = on_time + sync;
        assert!((all - parent).abs() < 1e-9, "{all} vs {parent}");
    }

    #[test]
    fn children_with_misses_past_any_sum_share_the_loss_without_wrapping() {
        // Entered figures reach 2^63 - 1: three such children's misses do not fit a u64.
        let big = i64::MAX.unsigned_abs();
        let p = eval((60, 100), (90, 100));
        let child = eval((0, big), (1, 1));
        let (shares, own) = apportion(&p, &[&child, &child, &child]);
        let on_time = lost(&p, "ON_TIME_PROCESSING");
        let given: f64 = shares
            .iter()
            .map(|s| s.points["ON_TIME_PROCESSING"])
            .sum::<f64>()
            + own.points.get("ON_TIME_PROCESSING").copied().unwrap_or(0.0);
        assert!((given - on_time).abs() < 1e-6, "{given} vs {on_time}");
        assert!(
            shares
                .iter()
                .all(|s| s.points["ON_TIME_PROCESSING"] <= on_time / 3.0 + 1e-6),
            "no child carries more than its third"
        );
    }

    #[test]
    fn misses_past_the_denominator_still_add_up_to_the_parents() {
        // DOSSIER_RECEIVING_SATISFACTION: a child with 2 finished dossiers both late and
        // disliked (4 misses, numerator 0), another with 2 fine ones; the parent has 4 misses of
        // 4. The first child carries all the lost points, none stay at the parent.
        let with = |finished: u64, late_unhappy: u64| {
            let mut e = eval((1, 1), (1, 1));
            let inputs = serde_json::from_value(serde_json::json!({
                "DOSSIER_RECEIVING_SATISFACTION": {
                    "numerator": finished.saturating_sub(late_unhappy), "denominator": finished
                }
            }))
            .unwrap();
            let scored = evaluate(rule_set("qd766").unwrap(), &inputs).unwrap();
            let i = scored
                .groups
                .iter()
                .flat_map(|g| &g.indicators)
                .find(|i| i.code == "DOSSIER_RECEIVING_SATISFACTION")
                .unwrap()
                .clone();
            for slot in e.groups.iter_mut().flat_map(|g| &mut g.indicators) {
                if slot.code == i.code {
                    *slot = IndicatorScore {
                        misses: Some(late_unhappy),
                        ..i.clone()
                    };
                }
            }
            e
        };
        let p = with(4, 4);
        let (a, b) = (with(2, 4), with(2, 0));
        let (shares, own) = apportion(&p, &[&a, &b]);
        let lost = lost(&p, "DOSSIER_RECEIVING_SATISFACTION");
        assert!(lost > 0.0);
        assert!((shares[0].points["DOSSIER_RECEIVING_SATISFACTION"] - lost).abs() < 1e-9);
        assert_eq!(own.total, 0.0);
    }

    #[test]
    fn children_counted_apart_share_by_their_own_misses() {
        // Children whose misses exceed the parent's (counted over shared procedures): shared by
        // their own misses, nothing left to the parent.
        let p = eval((60, 100), (100, 100));
        let a = eval((0, 60), (10, 10));
        let b = eval((0, 20), (10, 10));
        let (shares, own) = apportion(&p, &[&a, &b]);
        let on_time = lost(&p, "ON_TIME_PROCESSING");
        assert!((shares[0].total - on_time * 0.75).abs() < 1e-9);
        assert!((shares[1].total - on_time * 0.25).abs() < 1e-9);
        assert_eq!(own.total, 0.0);
    }
}
