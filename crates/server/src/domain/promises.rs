//! The promise ledger's rules, without I/O: what a kept or broken promise is, how the posted chat
//! estimate learns from breaks, and the summary operators read.
//!
//! A promise is recorded when a visitor acts on one (sends a chat message, books a callback,
//! leaves a message while nobody is online). It resolves *kept* when the answer came by its
//! deadline, *broken* when the deadline passed first (at once, by the sweeper, so operators and
//! webhooks hear of it while it can still be mended), or *void* when there was nothing left to
//! keep (the conversation was closed unanswered before the deadline).

use std::collections::{BTreeMap, HashMap};

use porchlight_protocol::{DayPromises, OperatorPromises, PromiseBreak, PromiseKindSummary};

/// The three expectations the widget posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PromiseKind {
    /// "A person usually answers in about 5 minutes."
    ChatFirstReply,
    /// "We'll call you by Tuesday 11:00."
    Callback,
    /// "We'll reply by Monday 11:00" (a message left while nobody was online).
    MessageReply,
}

impl PromiseKind {
    pub const ALL: [PromiseKind; 3] = [PromiseKind::ChatFirstReply, PromiseKind::Callback, PromiseKind::MessageReply];

    pub fn as_str(self) -> &'static str {
        match self {
            PromiseKind::ChatFirstReply => "chat_first_reply",
            PromiseKind::Callback => "callback",
            PromiseKind::MessageReply => "message_reply",
        }
    }

    pub fn parse(raw: &str) -> Option<PromiseKind> {
        PromiseKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Kept,
    Broken,
    Void,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Kept => "kept",
            Outcome::Broken => "broken",
            Outcome::Void => "void",
        }
    }

    pub fn parse(raw: &str) -> Option<Outcome> {
        [Outcome::Kept, Outcome::Broken, Outcome::Void].into_iter().find(|o| o.as_str() == raw)
    }
}

/// The answer came at `answered_ms`: kept when by the deadline. The margin is how much time was
/// left (negative: how late).
pub fn resolve(due_ms: i64, answered_ms: i64) -> (Outcome, i64) {
    let margin = due_ms - answered_ms;
    (if margin >= 0 { Outcome::Kept } else { Outcome::Broken }, margin)
}

/// One promise as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub kind: PromiseKind,
    /// The conversation id or the callback reference.
    pub subject_id: String,
    pub promised_ms: i64,
    pub due_ms: i64,
    pub outcome: Option<Outcome>,
    /// When the answer came (also after a break).
    pub resolved_ms: Option<i64>,
    /// Why a void promise is void (`closed_unanswered`).
    pub void_reason: Option<String>,
    /// Who answered it (an operator id), when someone did.
    pub operator_id: Option<String>,
}

/// The smallest number of resolved chat promises calibration looks at.
pub const MIN_CALIBRATION_SAMPLES: usize = 10;
/// How many recent resolved chat promises calibration looks at.
pub const CALIBRATION_WINDOW: usize = 50;

/// The chat wait to post. While the recent kept rate is at or above `target_kept` the estimate
/// stands. Below it, the posted figure rises to the wait that `target_kept` of those visitors
/// actually had (rounded up to a minute), so the promise is kept again; it never goes below
/// `estimate_secs`, which itself never goes below the site's configured promise. `recent` holds
/// each resolved promise's actual wait (seconds from the visitor's message to the first reply)
/// and whether it was kept.
pub fn calibrated_secs(estimate_secs: u32, recent: &[(i64, bool)], target_kept: f64) -> u32 {
    if recent.len() < MIN_CALIBRATION_SAMPLES {
        return estimate_secs;
    }
    let kept = recent.iter().filter(|(_, kept)| *kept).count();
    if kept as f64 / recent.len() as f64 >= target_kept {
        return estimate_secs;
    }
    let mut waits: Vec<i64> = recent.iter().map(|(wait, _)| (*wait).max(0)).collect();
    waits.sort_unstable();
    // Nearest rank: the smallest wait that `target_kept` of the visitors had at most.
    let rank = ((target_kept * waits.len() as f64).ceil() as usize).clamp(1, waits.len());
    let needed = waits[rank - 1];
    let minutes = (needed + 59) / 60;
    let needed = u32::try_from(minutes * 60).unwrap_or(u32::MAX);
    needed.max(estimate_secs)
}

/// The business time to add to a callback's or a message's posted due time. While the recent
/// kept rate of that kind is at or above `target_kept` (or fewer than
/// [`MIN_CALIBRATION_SAMPLES`] were decided), nothing. Below it, the lateness that `target_kept`
/// of those promises stayed within (kept ones count as 0), rounded up to a whole business hour:
/// posted that much later, the promise would have been kept that often. `recent_late_ms` holds each
/// decided promise's lateness in business time (0 when kept).
pub fn calibration_extra_business_ms(recent_late_ms: &[i64], target_kept: f64) -> i64 {
    if recent_late_ms.len() < MIN_CALIBRATION_SAMPLES {
        return 0;
    }
    let kept = recent_late_ms.iter().filter(|late| **late <= 0).count();
    if kept as f64 / recent_late_ms.len() as f64 >= target_kept {
        return 0;
    }
    let mut late: Vec<i64> = recent_late_ms.iter().map(|l| (*l).max(0)).collect();
    late.sort_unstable();
    let rank = ((target_kept * late.len() as f64).ceil() as usize).clamp(1, late.len());
    const HOUR_MS: i64 = 3_600_000;
    (late[rank - 1] + HOUR_MS - 1) / HOUR_MS * HOUR_MS
}

/// Per kind: counts, the kept rate among decided promises, the median margin and the five worst
/// breaks.
pub fn summarize(rows: &[LedgerRow]) -> Vec<PromiseKindSummary> {
    PromiseKind::ALL
        .into_iter()
        .map(|kind| {
            let of_kind: Vec<&LedgerRow> = rows.iter().filter(|r| r.kind == kind).collect();
            let count = |o: Outcome| of_kind.iter().filter(|r| r.outcome == Some(o)).count() as u32;
            let (kept, broken, void) = (count(Outcome::Kept), count(Outcome::Broken), count(Outcome::Void));
            let decided = kept + broken;
            let mut margins: Vec<i64> = of_kind
                .iter()
                .filter(|r| matches!(r.outcome, Some(Outcome::Kept | Outcome::Broken)))
                .filter_map(|r| r.resolved_ms.map(|at| r.due_ms - at))
                .collect();
            margins.sort_unstable();
            let median_margin_secs = (!margins.is_empty()).then(|| margins[(margins.len() - 1) / 2] / 1000);
            let mut worst: Vec<PromiseBreak> = of_kind
                .iter()
                .filter(|r| r.outcome == Some(Outcome::Broken))
                .map(|r| PromiseBreak {
                    subject_id: r.subject_id.clone(),
                    due_ms: r.due_ms,
                    answered_ms: r.resolved_ms,
                    late_secs: r.resolved_ms.map(|at| (at - r.due_ms) / 1000),
                })
                .collect();
            // Unanswered breaks first (still open), then the latest answers.
            worst.sort_by_key(|b| std::cmp::Reverse(b.late_secs.unwrap_or(i64::MAX)));
            worst.truncate(5);
            PromiseKindSummary {
                kind: kind.as_str().to_owned(),
                total: of_kind.len() as u32,
                open: of_kind.iter().filter(|r| r.outcome.is_none()).count() as u32,
                kept,
                broken,
                void,
                kept_rate: (decided > 0).then(|| f64::from(kept) / f64::from(decided)),
                median_margin_secs,
                worst,
            }
        })
        .collect()
}

fn kept_rate(kept: u32, broken: u32) -> Option<f64> {
    (kept + broken > 0).then(|| f64::from(kept) / f64::from(kept + broken))
}

/// Per operator who answered: how many of the promises they answered were kept, and their median
/// margin. `names` maps operator ids to display names. Most promises first.
pub fn by_operator(rows: &[LedgerRow], names: &HashMap<String, String>) -> Vec<OperatorPromises> {
    let mut per: BTreeMap<&str, Vec<&LedgerRow>> = BTreeMap::new();
    for row in rows.iter().filter(|r| matches!(r.outcome, Some(Outcome::Kept | Outcome::Broken))) {
        if let Some(id) = row.operator_id.as_deref() {
            per.entry(id).or_default().push(row);
        }
    }
    let mut out: Vec<OperatorPromises> = per
        .into_iter()
        .map(|(id, answered)| {
            let kept = answered.iter().filter(|r| r.outcome == Some(Outcome::Kept)).count() as u32;
            let broken = answered.len() as u32 - kept;
            let mut margins: Vec<i64> = answered.iter().filter_map(|r| r.resolved_ms.map(|at| r.due_ms - at)).collect();
            margins.sort_unstable();
            OperatorPromises {
                operator_id: id.to_owned(),
                name: names.get(id).cloned(),
                kept,
                broken,
                kept_rate: kept_rate(kept, broken),
                median_margin_secs: (!margins.is_empty()).then(|| margins[(margins.len() - 1) / 2] / 1000),
            }
        })
        .collect();
    out.sort_by_key(|o| std::cmp::Reverse(o.kept + o.broken));
    out
}

/// Per site-local day a promise was made: its outcomes so far. Oldest first.
pub fn by_day(rows: &[LedgerRow], tz: &jiff::tz::TimeZone) -> Vec<DayPromises> {
    let mut per: BTreeMap<String, DayPromises> = BTreeMap::new();
    for row in rows {
        let Ok(at) = jiff::Timestamp::from_millisecond(row.promised_ms) else { continue };
        let day = tz.to_datetime(at).date().to_string();
        let entry = per.entry(day.clone()).or_insert(DayPromises {
            day,
            kept: 0,
            broken: 0,
            void: 0,
            open: 0,
            kept_rate: None,
        });
        match row.outcome {
            Some(Outcome::Kept) => entry.kept += 1,
            Some(Outcome::Broken) => entry.broken += 1,
            Some(Outcome::Void) => entry.void += 1,
            None => entry.open += 1,
        }
    }
    per.into_values().map(|d| DayPromises { kept_rate: kept_rate(d.kept, d.broken), ..d }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_by_the_deadline_is_kept_and_a_late_one_broken_by_how_much() {
        assert_eq!(resolve(1_000, 1_000), (Outcome::Kept, 0));
        assert_eq!(resolve(1_000, 400), (Outcome::Kept, 600));
        assert_eq!(resolve(1_000, 61_000), (Outcome::Broken, -60_000));
    }

    #[test]
    fn calibration_rises_after_a_run_of_breaks_and_never_goes_below_the_estimate() {
        let kept_fast: Vec<(i64, bool)> = vec![(60, true); 20];
        assert_eq!(calibrated_secs(300, &kept_fast, 0.9), 300, "all kept: the estimate stands");
        assert_eq!(calibrated_secs(300, &kept_fast[..5], 0.9), 300, "too few to learn from");
        // 15 kept within 5 minutes, 5 broken at 9-13 minutes: 75% kept, target 90%.
        let mut late: Vec<(i64, bool)> = vec![(240, true); 15];
        late.extend([(540, false), (600, false), (660, false), (720, false), (780, false)]);
        // The 90th percentile of 20 waits (rank 18) is 660 s: post 11 minutes.
        assert_eq!(calibrated_secs(300, &late, 0.9), 660);
        // Once kept again (the breaks age out), back to the estimate.
        let mut recovered = late.clone();
        recovered.drain(15..19);
        recovered.extend(vec![(100, true); 30]);
        assert_eq!(calibrated_secs(300, &recovered, 0.9), 300);
        // Never below the estimate even if the actual waits were short.
        let short_but_broken: Vec<(i64, bool)> = vec![(10, false); 20];
        assert_eq!(calibrated_secs(300, &short_but_broken, 0.9), 300);
    }

    #[test]
    fn the_summary_counts_honestly_per_kind() {
        let row = |kind, outcome, due_ms, resolved_ms: Option<i64>| LedgerRow {
            kind,
            subject_id: format!("s{due_ms}"),
            promised_ms: 0,
            due_ms,
            outcome,
            resolved_ms,
            void_reason: None,
            operator_id: None,
        };
        let rows = vec![
            row(PromiseKind::ChatFirstReply, Some(Outcome::Kept), 300_000, Some(100_000)),
            row(PromiseKind::ChatFirstReply, Some(Outcome::Kept), 300_000, Some(200_000)),
            row(PromiseKind::ChatFirstReply, Some(Outcome::Broken), 300_000, Some(420_000)),
            row(PromiseKind::ChatFirstReply, Some(Outcome::Broken), 310_000, None),
            row(PromiseKind::ChatFirstReply, Some(Outcome::Void), 320_000, None),
            row(PromiseKind::ChatFirstReply, None, 330_000, None),
            row(PromiseKind::Callback, Some(Outcome::Kept), 1_000, Some(1_000)),
        ];
        let summary = summarize(&rows);
        let chat = &summary[0];
        assert_eq!((chat.total, chat.open, chat.kept, chat.broken, chat.void), (6, 1, 2, 2, 1));
        assert_eq!(chat.kept_rate, Some(0.5), "void and open promises are not counted as kept");
        assert_eq!(chat.median_margin_secs, Some(100), "margins 200, 100, -120 s");
        assert_eq!(chat.worst[0].late_secs, None, "still unanswered comes first");
        assert_eq!(chat.worst[1].late_secs, Some(120));
        assert_eq!(summary[1].kept_rate, Some(1.0));
        assert_eq!(summary[2].total, 0);
        assert_eq!(summary[2].kept_rate, None);
    }

    #[test]
    fn per_operator_and_per_day_count_what_each_answered_and_when_it_was_promised() {
        let riga = jiff::tz::db().get("Europe/Riga").unwrap();
        // 2026-03-10 23:30 and 2026-03-11 00:30 in Riga (UTC+2).
        let (late_evening, after_midnight) = (1_773_178_200_000, 1_773_181_800_000);
        let row = |operator: Option<&str>, outcome, promised_ms: i64, margin_ms: i64| LedgerRow {
            kind: PromiseKind::ChatFirstReply,
            subject_id: format!("s{promised_ms}{margin_ms}"),
            promised_ms,
            due_ms: promised_ms + 300_000,
            outcome,
            resolved_ms: outcome.filter(|o| *o != Outcome::Void).map(|_| promised_ms + 300_000 - margin_ms),
            void_reason: None,
            operator_id: operator.map(str::to_owned),
        };
        let rows = vec![
            row(Some("op_ann"), Some(Outcome::Kept), late_evening, 120_000),
            row(Some("op_ann"), Some(Outcome::Kept), late_evening, 60_000),
            row(Some("op_ann"), Some(Outcome::Broken), after_midnight, -30_000),
            row(Some("op_bob"), Some(Outcome::Kept), after_midnight, 10_000),
            row(None, Some(Outcome::Void), after_midnight, 0),
            row(None, None, after_midnight, 0),
        ];
        let names = HashMap::from([("op_ann".to_owned(), "Ann".to_owned())]);
        let operators = by_operator(&rows, &names);
        assert_eq!(operators.len(), 2);
        assert_eq!((operators[0].name.as_deref(), operators[0].kept, operators[0].broken), (Some("Ann"), 2, 1));
        assert_eq!(operators[0].median_margin_secs, Some(60));
        assert_eq!((operators[1].operator_id.as_str(), operators[1].name.as_deref()), ("op_bob", None));
        let days = by_day(&rows, &riga);
        let counts: Vec<(&str, u32, u32, u32, u32)> =
            days.iter().map(|d| (d.day.as_str(), d.kept, d.broken, d.void, d.open)).collect();
        assert_eq!(counts, [("2026-03-10", 2, 0, 0, 0), ("2026-03-11", 1, 1, 1, 1)]);
        assert_eq!(days[1].kept_rate, Some(0.5));
    }

    #[test]
    fn callback_and_message_promises_move_later_by_whole_business_hours_only_when_too_many_broke() {
        const H: i64 = 3_600_000;
        let kept = vec![0; 20];
        assert_eq!(calibration_extra_business_ms(&kept, 0.9), 0);
        assert_eq!(calibration_extra_business_ms(&[5 * H; 9], 0.9), 0, "too few to learn from");
        // 15 kept, 5 late by 30 min to 3 h: 75% kept < 90%. The 18th of 20 was 1.5 h late → 2 h.
        let mut mixed = vec![0; 15];
        mixed.extend([H / 2, H, 3 * H / 2, 5 * H / 2, 3 * H]);
        assert_eq!(calibration_extra_business_ms(&mixed, 0.9), 2 * H);
        // At 75% target the 15th value (0) is enough: back to the configured promise.
        assert_eq!(calibration_extra_business_ms(&mixed, 0.75), 0);
        // A few minutes late still moves a whole hour: promises are posted in hours.
        let mut slightly = vec![0; 8];
        slightly.extend([60_000; 12]);
        assert_eq!(calibration_extra_business_ms(&slightly, 0.9), H);
    }
}
