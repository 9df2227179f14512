//! Business hours: a weekly schedule in the site's IANA time zone plus closure days, turned into
//! concrete openings (pairs of instants) with jiff's time-zone database, so daylight saving
//! time, half-hour and 45-minute offsets and the date line are the database's business, not
//! ours.
//!
//! Everything takes "now" as an argument (Unix ms): no clock is read here.
//!
//! Local times that do not exist (the hour skipped when clocks spring forward) or exist twice
//! (the hour repeated when they fall back) resolve the way RFC 5545 and jiff's `compatible`
//! do: a skipped time moves forward by the gap, a repeated time takes its first occurrence.
//! Business time is counted in real elapsed time, so an opening `00:00-24:00` on a
//! spring-forward day lasts 23 hours.

use std::collections::VecDeque;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

const MINUTES_PER_DAY: u16 = 24 * 60;
/// How far ahead an opening is looked for, in days examined (a closure range counts as one).
/// With at least one open weekday this is never reached; it only bounds pathological input.
const MAX_DAYS_SCANNED: u32 = 3_700;
/// An opening that has not closed within this long (a site open around the clock) reports no
/// closing time.
const MAX_OPENING_MS: i64 = 7 * 24 * 3_600_000;

/// One opening range within a day, in minutes after local midnight. `end` may be 24:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DayRange {
    start: u16,
    end: u16,
}

impl DayRange {
    /// `"09:00-18:00"`; `"00:00-24:00"` is the whole day. A range that crosses midnight must be
    /// split over two days.
    pub fn parse(raw: &str) -> Result<DayRange, String> {
        let format = || format!("{raw:?} is not a range: use HH:MM-HH:MM, e.g. \"09:00-18:00\"");
        let (start, end) = raw.split_once('-').ok_or_else(format)?;
        let start = parse_clock(start.trim()).ok_or_else(format)?;
        let end = parse_clock(end.trim()).ok_or_else(format)?;
        if start == MINUTES_PER_DAY {
            return Err(format!("{raw:?} starts at 24:00: use 00:00 on the next day"));
        }
        if end == start {
            return Err(format!("{raw:?} is empty: it ends when it starts"));
        }
        if end < start {
            return Err(format!(
                "{raw:?} crosses midnight: split it into \"{}-24:00\" on this day and \"00:00-{}\" on the next",
                clock(start),
                clock(end)
            ));
        }
        Ok(DayRange { start, end })
    }

    pub fn new(start_minute: u16, end_minute: u16) -> Option<DayRange> {
        (start_minute < end_minute && end_minute <= MINUTES_PER_DAY)
            .then_some(DayRange { start: start_minute, end: end_minute })
    }
}

impl std::fmt::Display for DayRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", clock(self.start), clock(self.end))
    }
}

/// `"H:MM"` or `"HH:MM"`, 00:00 to 24:00.
fn parse_clock(raw: &str) -> Option<u16> {
    let (h, m) = raw.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !(h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(MINUTES_PER_DAY),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Days the site is closed whatever the weekday says: `"2026-12-24"` or the inclusive range
/// `"2026-12-31..2027-01-02"`, in the site's local calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Closure {
    first: Date,
    last: Date,
}

impl Closure {
    pub fn parse(raw: &str) -> Result<Closure, String> {
        let date = |s: &str| {
            s.trim()
                .parse::<Date>()
                .ok()
                .filter(|_| s.trim().len() == 10)
                .ok_or_else(|| format!("{:?} is not a date: use YYYY-MM-DD", s.trim()))
        };
        let (first, last) = match raw.split_once("..") {
            Some((a, b)) => (date(a)?, date(b)?),
            None => (date(raw)?, date(raw)?),
        };
        if last < first {
            return Err(format!("{raw:?} ends before it starts"));
        }
        Ok(Closure { first, last })
    }

    fn contains(&self, date: Date) -> bool {
        self.first <= date && date <= self.last
    }
}

/// Why a schedule was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("{day}: {a} and {b} overlap")]
    Overlap { day: &'static str, a: DayRange, b: DayRange },
    #[error("no day has opening hours (list at least one day, e.g. mon = [\"09:00-18:00\"])")]
    NeverOpen,
}

pub const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A site's opening schedule, resolved against its time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    tz: TimeZone,
    /// Monday first; each day's ranges sorted and not overlapping.
    week: [Vec<DayRange>; 7],
    closures: Vec<Closure>,
}

/// One stretch of business hours, as instants: `[start_ms, end_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// The local date the range belongs to.
    pub date: Date,
    pub start_ms: i64,
    pub end_ms: i64,
}

impl BusinessHours {
    /// `week` is Monday first. Ranges of a day may touch but not overlap.
    pub fn new(tz: TimeZone, mut week: [Vec<DayRange>; 7], mut closures: Vec<Closure>) -> Result<Self, HoursError> {
        for (day, ranges) in DAY_NAMES.iter().zip(week.iter_mut()) {
            ranges.sort();
            if let Some(pair) = ranges.windows(2).find(|w| w[1].start < w[0].end) {
                return Err(HoursError::Overlap { day, a: pair[0], b: pair[1] });
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err(HoursError::NeverOpen);
        }
        closures.sort();
        Ok(BusinessHours { tz, week, closures })
    }

    /// Monday to Friday, 09:00 to 18:00, no closures: the default when a site lists no hours.
    pub fn weekdays_nine_to_six(tz: TimeZone) -> BusinessHours {
        BusinessHours::with_default_week(tz, Vec::new())
    }

    /// The default week with the given closures.
    pub fn with_default_week(tz: TimeZone, closures: Vec<Closure>) -> BusinessHours {
        let day = vec![DayRange { start: 9 * 60, end: 18 * 60 }];
        let week = [day.clone(), day.clone(), day.clone(), day.clone(), day, Vec::new(), Vec::new()];
        BusinessHours::new(tz, week, closures).expect("the default week is valid")
    }

    pub fn timezone(&self) -> &TimeZone {
        &self.tz
    }

    fn local_date(&self, at_ms: i64) -> Option<Date> {
        let ts = Timestamp::from_millisecond(at_ms).ok()?;
        Some(self.tz.to_datetime(ts).date())
    }

    /// The instant of a local wall-clock time (`minute` may be 24:00, the next midnight).
    fn instant(&self, date: Date, minute: u16) -> Option<i64> {
        let dt = if minute == MINUTES_PER_DAY {
            date.tomorrow().ok()?.at(0, 0, 0, 0)
        } else {
            date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0)
        };
        Some(self.tz.to_ambiguous_timestamp(dt).compatible().ok()?.as_millisecond())
    }

    fn closure_containing(&self, date: Date) -> Option<&Closure> {
        self.closures.iter().find(|c| c.contains(date))
    }

    /// Openings that end after `after_ms`, in order (the first may have begun before it).
    pub fn openings_after(&self, after_ms: i64) -> impl Iterator<Item = Opening> + '_ {
        let mut date = self.local_date(after_ms).and_then(|d| d.yesterday().ok());
        let mut scanned = 0;
        let mut pending: VecDeque<Opening> = VecDeque::new();
        std::iter::from_fn(move || loop {
            if let Some(opening) = pending.pop_front() {
                if opening.end_ms > after_ms {
                    return Some(opening);
                }
                continue;
            }
            let day = date?;
            scanned += 1;
            if scanned > MAX_DAYS_SCANNED {
                return None;
            }
            if let Some(closure) = self.closure_containing(day) {
                date = closure.last.tomorrow().ok();
                continue;
            }
            let weekday = day.weekday().to_monday_zero_offset() as usize;
            for range in &self.week[weekday] {
                let (Some(start_ms), Some(end_ms)) = (self.instant(day, range.start), self.instant(day, range.end))
                else {
                    continue;
                };
                // A range inside the skipped hour of a spring-forward day vanishes.
                if start_ms < end_ms {
                    pending.push_back(Opening { date: day, start_ms, end_ms });
                }
            }
            date = day.tomorrow().ok();
        })
    }

    pub fn is_open(&self, at_ms: i64) -> bool {
        self.openings_after(at_ms).next().is_some_and(|o| o.start_ms <= at_ms)
    }

    /// When the opening `at_ms` falls in ends, joining ranges that touch (`mon` until 24:00 and
    /// `tue` from 00:00 are one opening). `None` when closed, or when it does not close within
    /// a week.
    pub fn closes_ms(&self, at_ms: i64) -> Option<i64> {
        let mut openings = self.openings_after(at_ms);
        let first = openings.next().filter(|o| o.start_ms <= at_ms)?;
        let mut end = first.end_ms;
        for next in openings {
            if next.start_ms > end {
                break;
            }
            end = end.max(next.end_ms);
            if end - at_ms > MAX_OPENING_MS {
                return None;
            }
        }
        Some(end)
    }

    /// When business hours next begin; `None` while open (or if no opening can be found).
    pub fn next_open_ms(&self, at_ms: i64) -> Option<i64> {
        self.openings_after(at_ms).next().filter(|o| o.start_ms > at_ms).map(|o| o.start_ms)
    }

    /// The instant `business_ms` of business time after `from_ms`, counting only open time:
    /// with 09:00-18:00, two hours from 17:50 is 10:50 on the next business day.
    pub fn add_business_time(&self, from_ms: i64, business_ms: i64) -> Option<i64> {
        let mut remaining = business_ms.max(0);
        for opening in self.openings_after(from_ms) {
            let start = opening.start_ms.max(from_ms);
            let available = opening.end_ms - start;
            if remaining <= available {
                return Some(start + remaining);
            }
            remaining -= available;
        }
        None
    }

    /// Business time between two instants: how much of `[from_ms, to_ms)` is open (0 when
    /// `to_ms <= from_ms`). How late a business-hours promise was, in the unit it was made in.
    pub fn business_ms_between(&self, from_ms: i64, to_ms: i64) -> i64 {
        let mut total = 0;
        if to_ms <= from_ms {
            return total;
        }
        for opening in self.openings_after(from_ms) {
            if opening.start_ms >= to_ms {
                break;
            }
            total += opening.end_ms.min(to_ms) - opening.start_ms.max(from_ms);
        }
        total
    }

    /// The close of the `n`th business day after the local date of `at_ms` (a business day is
    /// a date with any opening). `n = 0` means the current business day if it has not closed
    /// yet, else the next one.
    pub fn end_of_business_day(&self, at_ms: i64, n: u32) -> Option<i64> {
        let today = self.local_date(at_ms)?;
        let target = n.max(1);
        let mut count = 0;
        let mut current: Option<(Date, i64)> = None;
        for opening in self.openings_after(at_ms).filter(|o| n == 0 || o.date > today) {
            match current {
                Some((date, end)) if date == opening.date => current = Some((date, end.max(opening.end_ms))),
                Some((_, end)) => {
                    count += 1;
                    if count == target {
                        return Some(end);
                    }
                    current = Some((opening.date, opening.end_ms));
                }
                None => current = Some((opening.date, opening.end_ms)),
            }
        }
        // The scan ended on the target's group (only possible at the scan limit).
        current.filter(|_| count + 1 == target).map(|(_, end)| end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(name: &str) -> TimeZone {
        jiff::tz::db().get(name).unwrap()
    }

    /// A local wall-clock time in `zone` as Unix ms (`compatible` for gaps and folds).
    fn at(zone: &str, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> i64 {
        let dt = jiff::civil::date(y, mo, d).at(h, mi, 0, 0);
        tz(zone).to_ambiguous_timestamp(dt).compatible().unwrap().as_millisecond()
    }

    fn local(zone: &str, ms: i64) -> String {
        let ts = Timestamp::from_millisecond(ms).unwrap();
        tz(zone).to_datetime(ts).strftime("%a %Y-%m-%d %H:%M").to_string()
    }

    fn ranges(list: &[&str]) -> Vec<DayRange> {
        list.iter().map(|r| DayRange::parse(r).unwrap()).collect()
    }

    fn weekdays(zone: &str, day: &[&str], closures: &[&str]) -> BusinessHours {
        let d = ranges(day);
        let week = [d.clone(), d.clone(), d.clone(), d.clone(), d, Vec::new(), Vec::new()];
        BusinessHours::new(tz(zone), week, closures.iter().map(|c| Closure::parse(c).unwrap()).collect()).unwrap()
    }

    fn every_day(zone: &str, day: &[&str]) -> BusinessHours {
        let d = ranges(day);
        BusinessHours::new(tz(zone), std::array::from_fn(|_| d.clone()), Vec::new()).unwrap()
    }

    const H: i64 = 3_600_000;
    const MIN: i64 = 60_000;

    #[test]
    fn ranges_parse_and_bad_ones_say_why() {
        assert_eq!(DayRange::parse("09:00-18:00").unwrap(), DayRange::new(540, 1080).unwrap());
        assert_eq!(DayRange::parse("9:30 - 24:00").unwrap(), DayRange::new(570, 1440).unwrap());
        assert!(DayRange::parse("9-18").unwrap_err().contains("HH:MM-HH:MM"));
        assert!(DayRange::parse("09:00-25:00").unwrap_err().contains("HH:MM-HH:MM"));
        assert!(DayRange::parse("09:60-10:00").is_err());
        assert!(DayRange::parse("10:00-10:00").unwrap_err().contains("empty"));
        let midnight = DayRange::parse("22:00-02:00").unwrap_err();
        assert!(midnight.contains("crosses midnight") && midnight.contains("\"22:00-24:00\""), "{midnight}");
        assert!(DayRange::parse("24:00-24:00").unwrap_err().contains("24:00"));
    }

    #[test]
    fn closures_parse_single_dates_and_inclusive_ranges() {
        let one = Closure::parse("2026-12-24").unwrap();
        assert!(one.contains(jiff::civil::date(2026, 12, 24)));
        assert!(!one.contains(jiff::civil::date(2026, 12, 25)));
        let range = Closure::parse("2026-12-31..2027-01-02").unwrap();
        assert!(range.contains(jiff::civil::date(2027, 1, 2)));
        assert!(Closure::parse("2027-01-02..2026-12-31").unwrap_err().contains("ends before"));
        assert!(Closure::parse("2026-02-30").unwrap_err().contains("YYYY-MM-DD"));
        assert!(Closure::parse("24.12.2026").is_err());
    }

    #[test]
    fn overlapping_ranges_and_a_week_without_hours_are_rejected() {
        let mut week: [Vec<DayRange>; 7] = Default::default();
        week[1] = ranges(&["09:00-12:00", "11:00-14:00"]);
        let err = BusinessHours::new(tz("UTC"), week, Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), "tue: 09:00-12:00 and 11:00-14:00 overlap");
        let err = BusinessHours::new(tz("UTC"), Default::default(), Vec::new()).unwrap_err();
        assert_eq!(err, HoursError::NeverOpen);
    }

    #[test]
    fn two_business_hours_from_1750_are_1050_the_next_business_day() {
        let hours = BusinessHours::weekdays_nine_to_six(tz("Europe/Riga"));
        // Tuesday 2026-03-10, 17:50.
        let due = hours.add_business_time(at("Europe/Riga", 2026, 3, 10, 17, 50), 2 * H).unwrap();
        assert_eq!(local("Europe/Riga", due), "Wed 2026-03-11 10:50");
        // Friday 17:50 → Monday 10:50: the weekend does not count.
        let due = hours.add_business_time(at("Europe/Riga", 2026, 3, 13, 17, 50), 2 * H).unwrap();
        assert_eq!(local("Europe/Riga", due), "Mon 2026-03-16 10:50");
        // Requested while closed (Saturday night): counted from Monday's opening.
        let due = hours.add_business_time(at("Europe/Riga", 2026, 3, 14, 23, 0), 2 * H).unwrap();
        assert_eq!(local("Europe/Riga", due), "Mon 2026-03-16 11:00");
    }

    #[test]
    fn business_time_skips_the_lunch_break_of_a_split_day() {
        let hours = weekdays("Europe/Riga", &["09:00-12:00", "13:00-18:00"], &[]);
        let due = hours.add_business_time(at("Europe/Riga", 2026, 3, 10, 11, 30), 2 * H).unwrap();
        assert_eq!(local("Europe/Riga", due), "Tue 2026-03-10 14:30");
        // During lunch: closed, opens at 13:00, closes at 18:00.
        let lunch = at("Europe/Riga", 2026, 3, 10, 12, 15);
        assert!(!hours.is_open(lunch));
        assert_eq!(local("Europe/Riga", hours.next_open_ms(lunch).unwrap()), "Tue 2026-03-10 13:00");
        let morning = at("Europe/Riga", 2026, 3, 10, 10, 0);
        assert_eq!(local("Europe/Riga", hours.closes_ms(morning).unwrap()), "Tue 2026-03-10 12:00");
    }

    #[test]
    fn closures_skip_single_days_and_ranges() {
        let hours = weekdays("Europe/Riga", &["09:00-18:00"], &["2026-12-24", "2026-12-31..2027-01-02"]);
        // Wednesday 23 Dec 17:00 + 2 h: Thursday 24th is closed, Friday 25th opens.
        let due = hours.add_business_time(at("Europe/Riga", 2026, 12, 23, 17, 0), 2 * H).unwrap();
        assert_eq!(local("Europe/Riga", due), "Fri 2026-12-25 10:00");
        assert!(!hours.is_open(at("Europe/Riga", 2026, 12, 24, 12, 0)));
        // Wednesday 30th after hours: Thu 31st and Fri 1st closed, then the weekend.
        let evening = at("Europe/Riga", 2026, 12, 30, 19, 0);
        assert_eq!(local("Europe/Riga", hours.next_open_ms(evening).unwrap()), "Mon 2027-01-04 09:00");
        // Closures also count against "business days".
        assert_eq!(local("Europe/Riga", hours.end_of_business_day(evening, 1).unwrap()), "Mon 2027-01-04 18:00");
    }

    #[test]
    fn weekend_and_midnight_are_crossed() {
        let hours = BusinessHours::weekdays_nine_to_six(tz("Europe/Riga"));
        let friday_evening = at("Europe/Riga", 2026, 3, 13, 23, 59);
        assert!(!hours.is_open(friday_evening));
        assert_eq!(local("Europe/Riga", hours.next_open_ms(friday_evening).unwrap()), "Mon 2026-03-16 09:00");
        assert_eq!(hours.closes_ms(friday_evening), None);
        // Opening and closing instants are exact: open at 09:00, closed at 18:00.
        assert!(hours.is_open(at("Europe/Riga", 2026, 3, 16, 9, 0)));
        assert!(!hours.is_open(at("Europe/Riga", 2026, 3, 16, 18, 0)));
        assert!(hours.is_open(at("Europe/Riga", 2026, 3, 16, 18, 0) - 1));
    }

    #[test]
    fn ranges_ending_at_midnight_join_the_next_days_first_range() {
        // A night shift split over midnight, as the config requires.
        let mut week: [Vec<DayRange>; 7] = Default::default();
        week[0] = ranges(&["20:00-24:00"]);
        week[1] = ranges(&["00:00-04:00"]);
        let hours = BusinessHours::new(tz("Europe/Riga"), week, Vec::new()).unwrap();
        let monday_night = at("Europe/Riga", 2026, 3, 9, 23, 0);
        assert_eq!(local("Europe/Riga", hours.closes_ms(monday_night).unwrap()), "Tue 2026-03-10 04:00");
        assert!(hours.is_open(at("Europe/Riga", 2026, 3, 10, 0, 0)));
        let due = hours.add_business_time(monday_night, 2 * H).unwrap();
        assert_eq!(local("Europe/Riga", due), "Tue 2026-03-10 01:00");
    }

    #[test]
    fn riga_spring_forward_keeps_business_hours_at_local_wall_clock_times() {
        // Clocks jump 03:00 → 04:00 on Sunday 29 March 2026 (EET +02 → EEST +03).
        let hours = BusinessHours::weekdays_nine_to_six(tz("Europe/Riga"));
        let friday = at("Europe/Riga", 2026, 3, 27, 17, 0);
        let due = hours.add_business_time(friday, 2 * H).unwrap();
        assert_eq!(local("Europe/Riga", due), "Mon 2026-03-30 10:00");
        // Friday 17:00 EET is 15:00 UTC; Monday 10:00 EEST is 07:00 UTC.
        assert_eq!(due, at("UTC", 2026, 3, 30, 7, 0));
        assert_eq!(hours.next_open_ms(at("Europe/Riga", 2026, 3, 28, 12, 0)), Some(at("UTC", 2026, 3, 30, 6, 0)));
    }

    #[test]
    fn riga_spring_forward_day_has_23_business_hours_around_the_clock() {
        let hours = every_day("Europe/Riga", &["00:00-24:00"]);
        let sunday = at("Europe/Riga", 2026, 3, 29, 0, 0);
        let opening = hours.openings_after(sunday).find(|o| o.date == jiff::civil::date(2026, 3, 29)).unwrap();
        assert_eq!(opening.end_ms - opening.start_ms, 23 * H);
        // 24 business hours from Sunday 00:00 end at Monday 01:00 local.
        assert_eq!(local("Europe/Riga", hours.add_business_time(sunday, 24 * H).unwrap()), "Mon 2026-03-30 01:00");
        // Open around the clock: no closing time to report.
        assert_eq!(hours.closes_ms(sunday), None);
    }

    #[test]
    fn riga_fall_back_day_has_25_business_hours_and_office_hours_stay_local() {
        // Clocks go back 04:00 → 03:00 on Sunday 25 October 2026 (EEST +03 → EET +02).
        let always = every_day("Europe/Riga", &["00:00-24:00"]);
        let sunday = at("Europe/Riga", 2026, 10, 25, 0, 0);
        let opening = always.openings_after(sunday).find(|o| o.date == jiff::civil::date(2026, 10, 25)).unwrap();
        assert_eq!(opening.end_ms - opening.start_ms, 25 * H);

        let hours = BusinessHours::weekdays_nine_to_six(tz("Europe/Riga"));
        let due = hours.add_business_time(at("Europe/Riga", 2026, 10, 23, 17, 50), 2 * H).unwrap();
        assert_eq!(local("Europe/Riga", due), "Mon 2026-10-26 10:50");
        assert_eq!(due, at("UTC", 2026, 10, 26, 8, 50));
    }

    #[test]
    fn a_range_starting_in_the_skipped_hour_starts_after_the_gap() {
        // Sunday opening 03:30-05:00 on the spring-forward day: 03:30 does not exist.
        let mut week: [Vec<DayRange>; 7] = Default::default();
        week[6] = ranges(&["03:30-05:00"]);
        let hours = BusinessHours::new(tz("Europe/Riga"), week, Vec::new()).unwrap();
        let saturday = at("Europe/Riga", 2026, 3, 28, 12, 0);
        let open = hours.next_open_ms(saturday).unwrap();
        assert_eq!(local("Europe/Riga", open), "Sun 2026-03-29 04:30");
        assert_eq!(hours.closes_ms(open).map(|c| c - open), Some(30 * MIN));
    }

    #[test]
    fn kathmandu_quarter_hour_offset() {
        // +05:45: 09:00 in Kathmandu is 03:15 UTC.
        let hours = BusinessHours::weekdays_nine_to_six(tz("Asia/Kathmandu"));
        let sunday = at("UTC", 2026, 3, 8, 12, 0);
        assert_eq!(hours.next_open_ms(sunday), Some(at("UTC", 2026, 3, 9, 3, 15)));
        let due = hours.add_business_time(at("Asia/Kathmandu", 2026, 3, 9, 17, 50), 2 * H).unwrap();
        assert_eq!(due, at("UTC", 2026, 3, 10, 5, 5));
    }

    #[test]
    fn st_johns_half_hour_negative_offset_and_its_dst() {
        // Newfoundland: −03:30 in winter, −02:30 from the second Sunday of March (8 March 2026).
        let hours = BusinessHours::weekdays_nine_to_six(tz("America/St_Johns"));
        assert_eq!(hours.next_open_ms(at("UTC", 2026, 3, 1, 0, 0)), Some(at("UTC", 2026, 3, 2, 12, 30)));
        // Friday 6 March 17:50 (−03:30) + 2 h → Monday 9 March 10:50 (−02:30).
        let due = hours.add_business_time(at("America/St_Johns", 2026, 3, 6, 17, 50), 2 * H).unwrap();
        assert_eq!(due, at("UTC", 2026, 3, 9, 13, 20));
        // Late evening local is already the next day in UTC: still Friday's business day.
        let late = at("America/St_Johns", 2026, 3, 5, 22, 0);
        assert_eq!(local("America/St_Johns", hours.end_of_business_day(late, 1).unwrap()), "Fri 2026-03-06 18:00");
    }

    #[test]
    fn kiritimati_and_pago_pago_are_a_day_apart_across_the_date_line() {
        // Kiritimati is +14, Pago Pago −11: the same instant is a different weekday.
        let instant = at("UTC", 2026, 3, 13, 20, 0); // Fri 20:00 UTC
        let kiritimati = BusinessHours::weekdays_nine_to_six(tz("Pacific/Kiritimati"));
        let pago = BusinessHours::weekdays_nine_to_six(tz("Pacific/Pago_Pago"));
        assert_eq!(local("Pacific/Kiritimati", instant), "Sat 2026-03-14 10:00");
        assert_eq!(local("Pacific/Pago_Pago", instant), "Fri 2026-03-13 09:00");
        assert!(!kiritimati.is_open(instant), "Saturday in Kiritimati");
        assert!(pago.is_open(instant), "Friday morning in Pago Pago");
        // Kiritimati next opens Monday 09:00 +14 = Sunday 19:00 UTC.
        assert_eq!(kiritimati.next_open_ms(instant), Some(at("UTC", 2026, 3, 15, 19, 0)));
        // A message left in Kiritimati on Saturday: end of Monday there.
        assert_eq!(
            local("Pacific/Kiritimati", kiritimati.end_of_business_day(instant, 1).unwrap()),
            "Mon 2026-03-16 18:00"
        );
        // Pago Pago closes Friday 18:00 −11 = Saturday 05:00 UTC.
        assert_eq!(pago.closes_ms(instant), Some(at("UTC", 2026, 3, 14, 5, 0)));
    }

    #[test]
    fn end_of_business_day_counts_days_after_today() {
        let hours = weekdays("Europe/Riga", &["09:00-12:00", "13:00-18:00"], &[]);
        let monday = at("Europe/Riga", 2026, 3, 9, 10, 0);
        assert_eq!(local("Europe/Riga", hours.end_of_business_day(monday, 1).unwrap()), "Tue 2026-03-10 18:00");
        assert_eq!(local("Europe/Riga", hours.end_of_business_day(monday, 2).unwrap()), "Wed 2026-03-11 18:00");
        assert_eq!(local("Europe/Riga", hours.end_of_business_day(monday, 0).unwrap()), "Mon 2026-03-09 18:00");
        let friday = at("Europe/Riga", 2026, 3, 13, 10, 0);
        assert_eq!(local("Europe/Riga", hours.end_of_business_day(friday, 1).unwrap()), "Mon 2026-03-16 18:00");
        let saturday = at("Europe/Riga", 2026, 3, 14, 10, 0);
        assert_eq!(local("Europe/Riga", hours.end_of_business_day(saturday, 1).unwrap()), "Mon 2026-03-16 18:00");
        assert_eq!(local("Europe/Riga", hours.end_of_business_day(saturday, 0).unwrap()), "Mon 2026-03-16 18:00");
    }
}
