//! Why tthc's figures and the national portal's differ, indicator by indicator: the likely
//! causes read from the two sides' counts.

/// One side's figures of an indicator.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Side {
    /// The records that met it.
    pub numerator: Option<u64>,
    /// The records measured.
    pub denominator: Option<u64>,
    /// The points.
    pub score: Option<f64>,
}

/// What else is known of tthc's side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    /// tthc's figure was entered by hand.
    pub entered: bool,
    /// For an indicator counted from dossiers: how many of the period's dossiers were never
    /// synced to the national portal.
    pub unsynced: Option<u64>,
    /// For a closed month: how tthc's live figures moved since the close (numerator,
    /// denominator).
    pub since_close: Option<(i64, i64)>,
}

fn diff(a: u64, b: u64) -> u64 {
    a.abs_diff(b)
}

/// The likely causes of the difference between `tthc` and `official` (empty when they agree).
pub fn causes(tthc: &Side, official: &Side, context: &Context) -> Vec<String> {
    let mut out = Vec::new();
    if official.numerator.is_none() && official.denominator.is_none() && official.score.is_none() {
        out.push("the portal published no figure for it".to_owned());
        return out;
    }
    let same_counts = match (
        tthc.numerator,
        tthc.denominator,
        official.numerator,
        official.denominator,
    ) {
        (Some(a), Some(b), Some(c), Some(d)) => a == c && b == d,
        _ => false,
    };
    let same_score = match (tthc.score, official.score) {
        (Some(a), Some(b)) => (a - b).abs() < 0.005,
        (None, None) => true,
        _ => false,
    };
    if same_score && (same_counts || official.denominator.is_none()) {
        return out;
    }
    if context.entered {
        out.push("tthc's figure was entered by hand".to_owned());
    }
    match (tthc.denominator, official.denominator) {
        (Some(t), Some(o)) if t > o => {
            out.push(format!(
                "tthc counts {} more records than the portal",
                diff(t, o)
            ));
            match context.unsynced {
                Some(u) if u > 0 => out.push(format!(
                    "{u} dossiers of the period were never synced to the national portal, \
                     which counts only what it receives"
                )),
                _ => out.push(
                    "records reached tthc after the portal's cut-off, or the portal left \
                     them out"
                        .to_owned(),
                ),
            }
        }
        (Some(t), Some(o)) if t < o => out.push(format!(
            "the portal counts {} records tthc does not hold: check that the vendor systems \
             push every record to tthc",
            diff(t, o)
        )),
        (Some(d), Some(_)) => {
            if let (Some(t), Some(o)) = (tthc.numerator, official.numerator)
                && t != o
            {
                let (more, side) = if t > o {
                    (t - o, "tthc")
                } else {
                    (o - t, "the portal")
                };
                out.push(format!(
                    "the same {d} records judged differently: {more} more met in {side} \
                     (working-day calendar, pauses and extensions, or statuses changed after \
                     the portal's cut-off)"
                ));
            }
        }
        _ => {
            if let (Some(t), Some(o)) = (tthc.score, official.score) {
                out.push(format!(
                    "the scores differ by {:.2}; the portal published no counts to compare",
                    t - o
                ));
            }
        }
    }
    if let Some((n, d)) = context.since_close
        && (n != 0 || d != 0)
    {
        out.push(format!(
            "late data since the month was closed: live figures moved by {n:+} met of {d:+} \
             records"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(n: u64, d: u64, score: f64) -> Side {
        Side {
            numerator: Some(n),
            denominator: Some(d),
            score: Some(score),
        }
    }

    #[test]
    fn agreeing_figures_have_no_cause() {
        assert!(causes(&side(3, 5, 12.0), &side(3, 5, 12.0), &Context::default()).is_empty());
        let score_only = Side {
            score: Some(12.0),
            ..Side::default()
        };
        assert!(causes(&side(3, 5, 12.0), &score_only, &Context::default()).is_empty());
    }

    #[test]
    fn each_difference_names_its_likely_cause() {
        let more = causes(
            &side(90, 120, 15.0),
            &side(80, 100, 16.0),
            &Context {
                unsynced: Some(20),
                ..Context::default()
            },
        );
        assert_eq!(more[0], "tthc counts 20 more records than the portal");
        assert!(more[1].starts_with("20 dossiers of the period were never synced"));
        let fewer = causes(
            &side(80, 90, 17.0),
            &side(80, 100, 16.0),
            &Context::default(),
        );
        assert!(fewer[0].starts_with("the portal counts 10 records tthc does not hold"));
        let judged = causes(
            &side(85, 100, 17.0),
            &side(80, 100, 16.0),
            &Context {
                entered: true,
                since_close: Some((2, 0)),
                ..Context::default()
            },
        );
        assert_eq!(judged[0], "tthc's figure was entered by hand");
        assert!(
            judged[1].starts_with("the same 100 records judged differently: 5 more met in tthc")
        );
        assert!(judged[2].contains("+2 met of +0 records"));
        let scores = causes(
            &side(85, 100, 17.0),
            &Side {
                score: Some(16.5),
                ..Side::default()
            },
            &Context::default(),
        );
        assert_eq!(
            scores,
            ["the scores differ by 0.50; the portal published no counts to compare"]
        );
        assert_eq!(
            causes(&side(1, 1, 1.0), &Side::default(), &Context::default()),
            ["the portal published no figure for it"]
        );
    }
}
