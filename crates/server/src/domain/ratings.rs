//! Rating reports for operators: the summary (share positive, counts per value, per site-local
//! day, per page) and the CSV export. Pure functions over stored rows; "now" is an argument.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use porchlight_protocol::{
    DaySummary, PageSummary, RatingScale, RatingSummary, RatingValue, RecentRating, ValueCount, RECENT_RATINGS,
};

/// Largest `days` a summary or export accepts.
pub const MAX_REPORT_DAYS: u32 = 366;
pub const DEFAULT_SUMMARY_DAYS: u32 = 30;

/// A stored rating as reports read it (undone ratings are never passed in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRow {
    pub id: String,
    /// As stored; a value the scale no longer has still counts in totals.
    pub value: String,
    pub page_path: Option<String>,
    pub page_title: Option<String>,
    pub comment: Option<String>,
    pub context_kind: String,
    pub context_ref: Option<String>,
    pub created_ms: i64,
    pub updated_ms: Option<i64>,
}

impl RatingRow {
    fn is_positive(&self) -> bool {
        RatingValue::parse(&self.value).is_some_and(RatingValue::is_positive)
    }
}

fn local_date(tz: &TimeZone, ms: i64) -> Option<Date> {
    Some(tz.to_datetime(Timestamp::from_millisecond(ms).ok()?).date())
}

/// Site-local midnight starting the first of `days` calendar days that end today. With
/// `days = 1` that is today's midnight. Days that begin without a midnight (a DST gap at 00:00)
/// begin at the first instant after it.
pub fn window_start_ms(tz: &TimeZone, now_ms: i64, days: u32) -> Option<i64> {
    let today = local_date(tz, now_ms)?;
    let first = today.checked_sub(i64::from(days.max(1) - 1).days()).ok()?;
    Some(tz.to_ambiguous_timestamp(first.at(0, 0, 0, 0)).compatible().ok()?.as_millisecond())
}

fn counts_for(scale: RatingScale, rows: &[&RatingRow]) -> Vec<ValueCount> {
    let mut counts: Vec<ValueCount> = scale.values().iter().map(|&value| ValueCount { value, count: 0 }).collect();
    for row in rows {
        let Some(value) = RatingValue::parse(&row.value) else { continue };
        match counts.iter_mut().find(|c| c.value == value) {
            Some(c) => c.count += 1,
            None => counts.push(ValueCount { value, count: 1 }),
        }
    }
    counts
}

fn share(positive: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| positive as f64 / total as f64)
}

/// One page's figures while summing up.
#[derive(Default)]
struct PageTally<'a> {
    total: u64,
    positive: u64,
    /// The latest title among the page's ratings (rows may come in any order), with its time.
    title: Option<(i64, &'a str)>,
}

/// The summary of `rows` (all created within the window starting at `from_ms`).
pub fn summarize(
    site: &str,
    scale: RatingScale,
    tz: &TimeZone,
    days: u32,
    from_ms: i64,
    now_ms: i64,
    rows: &[RatingRow],
) -> RatingSummary {
    let all: Vec<&RatingRow> = rows.iter().collect();
    let positive = all.iter().filter(|r| r.is_positive()).count() as u64;

    let mut by_day: HashMap<Date, Vec<&RatingRow>> = HashMap::new();
    for row in &all {
        if let Some(date) = local_date(tz, row.created_ms) {
            by_day.entry(date).or_default().push(row);
        }
    }
    let mut per_day = Vec::new();
    if let (Some(mut date), Some(today)) = (local_date(tz, from_ms), local_date(tz, now_ms)) {
        while date <= today {
            let rows = by_day.remove(&date).unwrap_or_default();
            per_day.push(DaySummary {
                date: date.to_string(),
                total: rows.len() as u64,
                positive: rows.iter().filter(|r| r.is_positive()).count() as u64,
                counts: counts_for(scale, &rows),
            });
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
    }

    let mut by_page: HashMap<Option<&str>, PageTally> = HashMap::new();
    for row in &all {
        let tally = by_page.entry(row.page_path.as_deref()).or_default();
        tally.total += 1;
        tally.positive += u64::from(row.is_positive());
        if let Some(title) = row.page_title.as_deref() {
            if tally.title.is_none_or(|(at, _)| row.created_ms >= at) {
                tally.title = Some((row.created_ms, title));
            }
        }
    }
    let mut per_page: Vec<PageSummary> = by_page
        .into_iter()
        .map(|(path, tally)| PageSummary {
            path: path.map(str::to_owned),
            title: tally.title.map(|(_, t)| t.to_owned()),
            total: tally.total,
            positive: tally.positive,
            share_positive: share(tally.positive, tally.total).unwrap_or(0.0),
        })
        .collect();
    per_page.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.path.cmp(&b.path)));

    RatingSummary {
        site: site.to_owned(),
        scale,
        days,
        from_ms,
        to_ms: now_ms,
        total: all.len() as u64,
        positive,
        share_positive: share(positive, all.len() as u64),
        counts: counts_for(scale, &all),
        per_day,
        per_page,
        recent: recent(&all),
    }
}

/// The latest ratings with a comment or a chat or callback behind them, newest first.
fn recent(rows: &[&RatingRow]) -> Vec<RecentRating> {
    let mut said: Vec<&&RatingRow> = rows.iter().filter(|r| r.comment.is_some() || r.context_ref.is_some()).collect();
    said.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then_with(|| b.id.cmp(&a.id)));
    said.into_iter()
        .take(RECENT_RATINGS)
        .map(|r| RecentRating {
            value: r.value.clone(),
            comment: r.comment.clone(),
            context_kind: r.context_kind.clone(),
            context_ref: r.context_ref.clone(),
            page_path: r.page_path.clone(),
            created_ms: r.created_ms,
        })
        .collect()
}

pub const CSV_HEADER: [&str; 12] = [
    "id",
    "created_ms",
    "created_local",
    "updated_ms",
    "value",
    "positive",
    "page_path",
    "page_title",
    "comment",
    "context_kind",
    "context_ref",
    "site",
];

/// The export as CSV (RFC 4180, CRLF line ends), oldest first as given. Local times are in the
/// site's zone, `YYYY-MM-DD HH:MM:SS`.
pub fn to_csv(site: &str, tz: &TimeZone, rows: &[RatingRow]) -> String {
    let mut out = String::new();
    push_record(&mut out, CSV_HEADER.iter().copied());
    for row in rows {
        let local = Timestamp::from_millisecond(row.created_ms)
            .map(|ts| tz.to_datetime(ts).strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let created = row.created_ms.to_string();
        let updated = row.updated_ms.map(|u| u.to_string()).unwrap_or_default();
        push_record(
            &mut out,
            [
                row.id.as_str(),
                &created,
                &local,
                &updated,
                &row.value,
                if row.is_positive() { "1" } else { "0" },
                row.page_path.as_deref().unwrap_or(""),
                row.page_title.as_deref().unwrap_or(""),
                row.comment.as_deref().unwrap_or(""),
                &row.context_kind,
                row.context_ref.as_deref().unwrap_or(""),
                site,
            ],
        );
    }
    out
}

fn push_record<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(cell));
    }
    out.push_str("\r\n");
}

/// One CSV cell. Text a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`,
/// tab or carriage return) gets a leading `'` (OWASP "CSV injection"); then cells with a comma,
/// quote or line break are quoted, with quotes doubled.
///
/// A cell holding bidi controls (an override such as U+202E could make a name reorder what is
/// shown after it) is wrapped in an isolate, FSI … PDI, which ends whatever it opened at its end.
pub fn csv_cell(raw: &str) -> String {
    let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{raw}") } else { raw.to_owned() };
    let bidi =
        |c: char| matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    let guarded = if guarded.contains(bidi) { format!("\u{2068}{guarded}\u{2069}") } else { guarded };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn riga() -> TimeZone {
        jiff::tz::db().get("Europe/Riga").unwrap()
    }

    fn ms(y: i16, mo: i8, d: i8, h: i8) -> i64 {
        riga().to_ambiguous_timestamp(jiff::civil::date(y, mo, d).at(h, 0, 0, 0)).compatible().unwrap().as_millisecond()
    }

    fn row(value: &str, path: Option<&str>, created_ms: i64) -> RatingRow {
        RatingRow {
            id: format!("rt_{created_ms}"),
            value: value.into(),
            page_path: path.map(Into::into),
            page_title: None,
            comment: None,
            context_kind: "standalone".into(),
            context_ref: None,
            created_ms,
            updated_ms: None,
        }
    }

    #[test]
    fn cells_are_escaped_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn a_page_shows_its_latest_title() {
        let now = ms(2026, 3, 10, 12);
        let from = window_start_ms(&riga(), now, 1).unwrap();
        let titled = |title: Option<&str>, value: &str, at: i64| RatingRow {
            page_title: title.map(Into::into),
            ..row(value, Some("/a"), at)
        };
        // Out of time order, as rows may come: the title of the latest rating wins.
        let rows = vec![
            titled(Some("New title"), "good", ms(2026, 3, 10, 10)),
            titled(Some("Old title"), "bad", ms(2026, 3, 10, 8)),
            titled(None, "good", ms(2026, 3, 10, 11)),
            RatingRow { page_title: Some("Untitled path".into()), ..row("good", None, ms(2026, 3, 10, 9)) },
        ];
        let s = summarize("demo", RatingScale::Faces3, &riga(), 1, from, now, &rows);
        let pages: Vec<(Option<&str>, Option<&str>, u64)> =
            s.per_page.iter().map(|p| (p.path.as_deref(), p.title.as_deref(), p.total)).collect();
        assert_eq!(pages, vec![(Some("/a"), Some("New title"), 3), (None, Some("Untitled path"), 1)]);
    }

    #[test]
    fn window_starts_at_site_local_midnight() {
        let now = ms(2026, 3, 10, 1); // 01:00 in Riga is still 9 March in UTC
        assert_eq!(window_start_ms(&riga(), now, 1), Some(ms(2026, 3, 10, 0)));
        assert_eq!(window_start_ms(&riga(), now, 3), Some(ms(2026, 3, 8, 0)));
    }

    #[test]
    fn summary_counts_per_value_day_and_page_with_local_dates() {
        let now = ms(2026, 3, 10, 12);
        let from = window_start_ms(&riga(), now, 2).unwrap();
        let rows = vec![
            row("good", Some("/a"), ms(2026, 3, 9, 0) + 30 * 60_000), // 22:30 UTC on the 8th
            row("bad", Some("/a"), ms(2026, 3, 9, 10)),
            row("good", Some("/b"), ms(2026, 3, 10, 9)),
            row("neutral", None, ms(2026, 3, 10, 11)),
        ];
        let s = summarize("demo", RatingScale::Faces3, &riga(), 2, from, now, &rows);
        assert_eq!((s.total, s.positive, s.share_positive), (4, 2, Some(0.5)));
        let counts: Vec<(RatingValue, u64)> = s.counts.iter().map(|c| (c.value, c.count)).collect();
        assert_eq!(counts, vec![(RatingValue::Bad, 1), (RatingValue::Neutral, 1), (RatingValue::Good, 2)]);
        let days: Vec<(&str, u64, u64)> = s.per_day.iter().map(|d| (d.date.as_str(), d.total, d.positive)).collect();
        assert_eq!(days, vec![("2026-03-09", 2, 1), ("2026-03-10", 2, 1)]);
        let pages: Vec<(Option<&str>, u64, f64)> =
            s.per_page.iter().map(|p| (p.path.as_deref(), p.total, p.share_positive)).collect();
        assert_eq!(pages, vec![(Some("/a"), 2, 0.5), (None, 1, 0.0), (Some("/b"), 1, 1.0)]);
        assert!(s.per_page.iter().all(|p| p.title.is_none()), "no titles given, none made up");
        let empty = summarize("demo", RatingScale::Faces3, &riga(), 2, from, now, &[]);
        assert_eq!(empty.share_positive, None);
        assert_eq!(empty.per_day.len(), 2);
    }

    #[test]
    fn a_bidi_override_in_a_cell_is_isolated_and_cannot_reorder_what_follows() {
        assert_eq!(csv_cell("Anna \u{202E}gnp.exe"), "\u{2068}Anna \u{202E}gnp.exe\u{2069}");
        assert_eq!(csv_cell("plain"), "plain", "nothing to isolate");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("\u{2067}a,b"), "\"\u{2068}\u{2067}a,b\u{2069}\"", "isolated, then quoted");
    }
}
