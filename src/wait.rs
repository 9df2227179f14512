//! Posted wait times, as plain logic: which sentence the header shows for an [`Availability`],
//! relative times ("in 14 hours"), which day an instant falls on for the visitor, and when a
//! chat is running late. Times are passed in (an injected clock); `Intl` formatting is a
//! function argument, so everything here runs in native tests. `clock` is the browser side.

use porchlight_protocol::{Availability, AvailabilityState};

use crate::i18n::{Key, Locale};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// How a wait is worded: rounded so it reads like something a person would say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitWording {
    /// Under 90 seconds.
    AboutAMinute,
    /// 2–89 minutes.
    Minutes(u32),
    /// 90 minutes and more, rounded to whole hours (so at least 2).
    Hours(u32),
}

impl WaitWording {
    pub fn from_secs(secs: u32) -> WaitWording {
        if secs < 90 {
            return WaitWording::AboutAMinute;
        }
        let minutes = secs.saturating_add(30) / 60;
        if minutes < 90 {
            WaitWording::Minutes(minutes)
        } else {
            WaitWording::Hours(minutes.saturating_add(30) / 60)
        }
    }

    /// "about 4 minutes".
    pub fn text(self, locale: Locale) -> String {
        match self {
            WaitWording::AboutAMinute => locale.text(Key::WaitAboutAMinute).to_owned(),
            WaitWording::Minutes(n) => count(locale, Key::WaitMinutes, n as i64),
            WaitWording::Hours(n) => count(locale, Key::WaitHours, n as i64),
        }
    }
}

fn count(locale: Locale, key: Key, n: i64) -> String {
    locale.count(key, n.max(0) as u64, &[])
}

/// The header's line before availability is known (or when it can't be fetched): the site's
/// posted promise.
pub fn wait_line(locale: Locale, chat_first_reply_secs: u32) -> String {
    locale.format(Key::WaitTypical, &[("wait", &WaitWording::from_secs(chat_first_reply_secs).text(locale))])
}

/// How far off an opening may be for the closed line to say how long ("in 40 minutes", "in 11
/// hours") besides when.
pub const SAY_IN_WITHIN_MS: i64 = 12 * HOUR_MS;

/// "in 14 hours": from `now_ms` to `at_ms`, rounded to the nearest unit (minutes under an
/// hour, hours under two days, then days).
pub fn relative(locale: Locale, now_ms: i64, at_ms: i64) -> String {
    let ms = (at_ms - now_ms).max(0);
    let minutes = (ms + MINUTE_MS / 2) / MINUTE_MS;
    let hours = (ms + HOUR_MS / 2) / HOUR_MS;
    match (minutes, hours) {
        (..=1, _) => locale.text(Key::InAMinute).to_owned(),
        (..=59, _) => count(locale, Key::InMinutes, minutes),
        (_, ..=1) => locale.text(Key::InAnHour).to_owned(),
        (_, ..=47) => count(locale, Key::InHours, hours),
        _ => count(locale, Key::InDays, (ms + DAY_MS / 2) / DAY_MS),
    }
}

/// Which day an instant falls on, seen from the visitor's "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Day {
    /// The visitor's today: "14:30 today".
    Today,
    /// Within the coming week: the weekday names it ("Monday at 09:00").
    ThisWeek,
    /// Further (or in the past): the weekday alone would be ambiguous, so add the date.
    Other,
}

impl Day {
    /// `*_offset_min`: minutes ahead of UTC in the visitor's zone at each instant (they differ
    /// across a DST change).
    pub fn of(now_ms: i64, now_offset_min: i64, at_ms: i64, at_offset_min: i64) -> Day {
        let day = |ms: i64, off: i64| (ms + off * MINUTE_MS).div_euclid(DAY_MS);
        match day(at_ms, at_offset_min) - day(now_ms, now_offset_min) {
            0 => Day::Today,
            1..=6 => Day::ThisWeek,
            _ => Day::Other,
        }
    }
}

/// The sentence the header shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// Configured promise only (availability not known yet).
    Posted(WaitWording),
    Open(WaitWording),
    Busy(WaitWording),
    Closed {
        back_ms: Option<i64>,
    },
    NobodyOnline {
        reply_by_ms: i64,
    },
}

impl Line {
    pub fn of(a: &Availability) -> Line {
        let wait = WaitWording::from_secs(a.chat.expected_wait_secs);
        match a.state {
            AvailabilityState::Open => Line::Open(wait),
            AvailabilityState::Busy => Line::Busy(wait),
            AvailabilityState::NobodyOnline => Line::NobodyOnline { reply_by_ms: a.message.reply_by_ms },
            // A state this version doesn't know is never shown as open.
            AvailabilityState::Closed | AvailabilityState::Unknown => Line::Closed { back_ms: a.next_open_ms },
        }
    }

    /// `data-state` of the wait line, and the launcher's mark.
    pub fn state(self) -> &'static str {
        match self {
            Line::Posted(_) => "posted",
            Line::Open(_) => "open",
            Line::Busy(_) => "busy",
            Line::Closed { .. } => "closed",
            Line::NobodyOnline { .. } => "nobody_online",
        }
    }

    /// Whether to offer a callback beside the sentence.
    pub fn offers_callback(self) -> bool {
        matches!(self, Line::Busy(_) | Line::Closed { .. })
    }

    /// The sentence. `when` formats an instant in the visitor's zone ("Monday at 09:00").
    pub fn text(self, locale: Locale, now_ms: i64, when: impl Fn(i64) -> String) -> String {
        let wait = |key, w: WaitWording| locale.format(key, &[("wait", &w.text(locale))]);
        match self {
            Line::Posted(w) | Line::Open(w) => wait(Key::WaitTypical, w),
            Line::Busy(w) => wait(Key::WaitBusy, w),
            // "in 40 minutes" helps within half a day; "in 46 hours" makes the visitor count.
            Line::Closed { back_ms: Some(back) } if back - now_ms > SAY_IN_WITHIN_MS => {
                locale.format(Key::WaitClosedBackOn, &[("when", &when(back))])
            }
            Line::Closed { back_ms: Some(back) } => {
                locale.format(Key::WaitClosedBack, &[("when", &when(back)), ("in", &relative(locale, now_ms, back))])
            }
            Line::Closed { back_ms: None } => locale.text(Key::WaitClosed).to_owned(),
            Line::NobodyOnline { reply_by_ms } => locale.format(Key::WaitNobody, &[("when", &when(reply_by_ms))]),
        }
    }
}

/// When a chat message sent at `sent_ms` is late: after the wait the header showed then (the
/// chat estimate while open or busy; the message promise while nobody is there).
pub fn reply_due_ms(shown: Option<&Availability>, posted_secs: u32, sent_ms: i64) -> i64 {
    let after = |secs: u32| sent_ms + i64::from(secs) * 1_000;
    match shown {
        None => after(posted_secs),
        Some(a) => match Line::of(a) {
            Line::NobodyOnline { reply_by_ms } => reply_by_ms.max(sent_ms),
            Line::Closed { .. } => a.message.reply_by_ms.max(sent_ms),
            _ => after(a.chat.expected_wait_secs),
        },
    }
}

/// The visitor's wait for a first reply: set when they send while nobody has answered yet,
/// cleared by an operator's reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LateWatch {
    due_ms: Option<i64>,
}

impl LateWatch {
    /// The visitor sent a message; `due_ms` from [`reply_due_ms`]. An earlier, still running
    /// wait keeps its deadline (the first unanswered message is what they wait on).
    pub fn sent(&mut self, due_ms: i64) {
        self.due_ms.get_or_insert(due_ms);
    }

    pub fn replied(&mut self) {
        self.due_ms = None;
    }

    /// When the first unanswered message should be answered by, while one waits.
    pub fn due_ms(self) -> Option<i64> {
        self.due_ms
    }

    pub fn is_late(self, now_ms: i64) -> bool {
        self.due_ms.is_some_and(|due| now_ms >= due)
    }
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::{CallbackExpectation, ChatExpectation, EstimateBasis, MessageExpectation};

    use super::*;
    use crate::i18n::Catalog;
    use WaitWording::*;

    const NOW: i64 = 1_773_129_600_000; // Tue 2026-03-10 08:00 UTC

    fn availability(state: AvailabilityState, wait_secs: u32) -> Availability {
        Availability {
            state,
            now_ms: NOW,
            chat: ChatExpectation { expected_wait_secs: wait_secs, posted_secs: 240, basis: EstimateBasis::Posted },
            callback: CallbackExpectation { due_ms: NOW + 2 * HOUR_MS },
            message: MessageExpectation { reply_by_ms: NOW + 10 * HOUR_MS },
            next_open_ms: Some(NOW + 14 * HOUR_MS),
            closes_ms: None,
        }
    }

    fn fake_when(ms: i64) -> String {
        format!("<{}h>", (ms - NOW) / HOUR_MS)
    }

    fn sentence(state: AvailabilityState, wait_secs: u32) -> String {
        Line::of(&availability(state, wait_secs)).text(Locale::en(), NOW, fake_when)
    }

    #[test]
    fn closed_says_how_long_only_within_half_a_day() {
        let closed_for = |ms: i64, locale: Locale| {
            let a = Availability { next_open_ms: Some(NOW + ms), ..availability(AvailabilityState::Closed, 240) };
            Line::of(&a).text(locale, NOW, fake_when)
        };
        let en = Locale::en();
        assert_eq!(
            closed_for(40 * MINUTE_MS, en),
            "We're closed. Back <0h> (in 40 minutes, your time). Leave a message or book a callback."
        );
        assert_eq!(
            closed_for(11 * HOUR_MS, en),
            "We're closed. Back <11h> (in 11 hours, your time). Leave a message or book a callback."
        );
        // "in 46 hours" makes the visitor count: the day and time alone.
        assert_eq!(
            closed_for(46 * HOUR_MS, en),
            "We're closed. Back <46h> (your time). Leave a message or book a callback."
        );
        assert_eq!(
            closed_for(46 * HOUR_MS, Locale::new(Catalog::from_bundle("lv", include_str!("i18n/lv.json")).unwrap())),
            "Pašlaik nestrādājam. Atsāksim darbu <46h> (Jūsu laika joslā). Atstājiet ziņu vai piesakiet atzvanu."
        );
    }

    #[test]
    fn boundaries() {
        assert_eq!(WaitWording::from_secs(0), AboutAMinute);
        assert_eq!(WaitWording::from_secs(89), AboutAMinute);
        assert_eq!(WaitWording::from_secs(90), Minutes(2));
        assert_eq!(WaitWording::from_secs(300), Minutes(5));
        assert_eq!(WaitWording::from_secs(89 * 60), Minutes(89));
        assert_eq!(WaitWording::from_secs(90 * 60), Hours(2));
        assert_eq!(WaitWording::from_secs(4 * 3600), Hours(4));
        assert_eq!(WaitWording::from_secs(u32::MAX), Hours(1_193_046));
    }

    #[test]
    fn posted_line() {
        assert_eq!(wait_line(Locale::en(), 300), "Typically replies in about 5 minutes");
        assert_eq!(wait_line(Locale::en(), 45), "Typically replies in about a minute");
        assert_eq!(wait_line(Locale::en(), 3 * 3600), "Typically replies in about 3 hours");
    }

    #[test]
    fn each_state_has_its_sentence() {
        use AvailabilityState::*;
        assert_eq!(sentence(Open, 240), "Typically replies in about 4 minutes");
        assert_eq!(sentence(Busy, 1500), "Busy right now: about 25 minutes. Prefer a callback?");
        assert_eq!(sentence(Closed, 240), "We're closed. Back <14h> (your time). Leave a message or book a callback.");
        assert_eq!(sentence(NobodyOnline, 240), "Nobody is online right now. We'll reply by <10h>.");
        // A newer server's state is never shown as open.
        assert_eq!(Line::of(&availability(Unknown, 60)).state(), "closed");
        let mut never = availability(Closed, 60);
        never.next_open_ms = None;
        assert_eq!(
            Line::of(&never).text(Locale::en(), NOW, fake_when),
            "We're closed. Leave a message or book a callback."
        );
    }

    #[test]
    fn states_and_offers() {
        use AvailabilityState::*;
        let line = |s| Line::of(&availability(s, 60));
        assert_eq!(
            [Open, Busy, Closed, NobodyOnline].map(|s| line(s).state()),
            ["open", "busy", "closed", "nobody_online"]
        );
        assert_eq!([Open, Busy, Closed, NobodyOnline].map(|s| line(s).offers_callback()), [false, true, true, false]);
    }

    #[test]
    fn relative_times_round_to_what_a_person_says() {
        let rel = |ms| relative(Locale::en(), NOW, NOW + ms);
        assert_eq!(rel(-5 * MINUTE_MS), "in a minute");
        assert_eq!(rel(80_000), "in a minute");
        assert_eq!(rel(2 * MINUTE_MS), "in 2 minutes");
        assert_eq!(rel(59 * MINUTE_MS), "in 59 minutes");
        assert_eq!(rel(60 * MINUTE_MS), "in an hour");
        assert_eq!(rel(89 * MINUTE_MS), "in an hour");
        assert_eq!(rel(14 * HOUR_MS + 10 * MINUTE_MS), "in 14 hours");
        assert_eq!(rel(47 * HOUR_MS), "in 47 hours");
        assert_eq!(rel(60 * HOUR_MS), "in 3 days");
    }

    #[test]
    fn days_are_the_visitors_days() {
        // 08:00 UTC. At UTC+2 it's 10:00: 21:00 UTC is 23:00 today; 22:30 UTC is tomorrow.
        assert_eq!(Day::of(NOW, 120, NOW + 13 * HOUR_MS, 120), Day::Today);
        assert_eq!(Day::of(NOW, 120, NOW + 14 * HOUR_MS + 30 * MINUTE_MS, 120), Day::ThisWeek);
        // Across the date line: at UTC+13 it's already 21:00, so 4 hours on is tomorrow…
        assert_eq!(Day::of(NOW, 13 * 60, NOW + 4 * HOUR_MS, 13 * 60), Day::ThisWeek);
        // …and at UTC-11 (Pago Pago) it's 21:00 the day before: 4 hours on is still today.
        assert_eq!(Day::of(NOW, -11 * 60, NOW + 2 * HOUR_MS, -11 * 60), Day::Today);
        // Half- and quarter-hour zones: +05:45 (Kathmandu) 13:45; -03:30 (St. John's) 04:30.
        assert_eq!(Day::of(NOW, 345, NOW + 10 * HOUR_MS + 14 * MINUTE_MS, 345), Day::Today);
        assert_eq!(Day::of(NOW, 345, NOW + 10 * HOUR_MS + 15 * MINUTE_MS, 345), Day::ThisWeek);
        assert_eq!(Day::of(NOW, -210, NOW - 4 * HOUR_MS - 30 * MINUTE_MS, -210), Day::Today);
        assert_eq!(Day::of(NOW, -210, NOW - 4 * HOUR_MS - 31 * MINUTE_MS, -210), Day::Other);
        // A week on needs the date.
        assert_eq!(Day::of(NOW, 0, NOW + 6 * DAY_MS, 0), Day::ThisWeek);
        assert_eq!(Day::of(NOW, 0, NOW + 7 * DAY_MS, 0), Day::Other);
    }

    #[test]
    fn dst_changes_move_midnight() {
        // Riga, Sun 2026-03-29: 03:00 EET (+2) becomes 04:00 EEST (+3) at 01:00 UTC.
        let sat_22_utc = 1_774_735_200_000; // Sat 28 Mar 22:00 UTC = Sun 00:00 EET
        assert_eq!(Day::of(sat_22_utc - MINUTE_MS, 120, sat_22_utc, 120), Day::ThisWeek);
        // Sun 23:30 EEST (20:30 UTC) is still Sunday, though only 22.5 hours after midnight.
        assert_eq!(Day::of(sat_22_utc, 120, sat_22_utc + 22 * HOUR_MS + 30 * MINUTE_MS, 180), Day::Today);
        // Autumn back: Sun 2026-10-25 04:00 EEST → 03:00 EET. Sat 21:00 UTC = Sun 00:00 EEST;
        // Sun 23:30 EET is 21:30 UTC, 24.5 hours later, and still Sunday.
        let sun_midnight = 1_792_875_600_000; // 2026-10-24 21:00 UTC
        assert_eq!(Day::of(sun_midnight, 180, sun_midnight + 24 * HOUR_MS + 30 * MINUTE_MS, 120), Day::Today);
    }

    #[test]
    fn a_chat_is_late_after_the_wait_that_was_shown() {
        let open = availability(AvailabilityState::Open, 240);
        let due = reply_due_ms(Some(&open), 300, NOW);
        assert_eq!(due, NOW + 240_000);
        let mut watch = LateWatch::default();
        assert!(!watch.is_late(NOW + DAY_MS), "nothing sent, nothing late");
        watch.sent(due);
        watch.sent(NOW + 999_999); // a second message doesn't move the deadline
        assert!(!watch.is_late(NOW + 239_999));
        assert!(watch.is_late(NOW + 240_000));
        watch.replied();
        assert!(!watch.is_late(NOW + DAY_MS));
        // Nobody online: the promise shown was the message reply time.
        let away = availability(AvailabilityState::NobodyOnline, 240);
        assert_eq!(reply_due_ms(Some(&away), 300, NOW), NOW + 10 * HOUR_MS);
        assert_eq!(reply_due_ms(Some(&availability(AvailabilityState::Closed, 240)), 300, NOW), NOW + 10 * HOUR_MS);
        // Not known yet: the posted promise.
        assert_eq!(reply_due_ms(None, 300, NOW), NOW + 300_000);
    }
}
