//! The console's plain logic, tested natively: waiting times against the posted promise, breach
//! marking, inbox ordering, merging live messages without duplicates, ratings figures. Every
//! text goes through the operator's [`Locale`] (the tests use English).

use porchlight_protocol::{Author, CallbackStatus, CannedReply, ChatMessage, InboxItem, RatingSummary, RatingValue};

use crate::i18n::{padded, percent, Key, Locale};

/// A duration for operators: `45s`, `3m 05s`, `1h 02m`, `2d 3h` in English. Negative values
/// count as 0.
pub fn format_duration(locale: Locale, ms: i64) -> String {
    let secs = (ms.max(0) / 1000) as u64;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let n = |v: u64| locale.number(v);
    let p = |v: u64| padded(locale, v, 2);
    if d > 0 {
        locale.format(Key::DurDaysHours, &[("d", &n(d)), ("h", &n(h))])
    } else if secs >= 3600 {
        locale.format(Key::DurHoursMinutes, &[("h", &n(secs / 3600)), ("m", &p(m))])
    } else if m > 0 {
        locale.format(Key::DurMinutesSeconds, &[("m", &n(m)), ("s", &p(s))])
    } else {
        locale.format(Key::DurSeconds, &[("s", &n(s))])
    }
}

/// The posted promise, short: `4m`, `90s`, `1h 30m` in English.
pub fn format_promise(locale: Locale, secs: u32) -> String {
    let secs = u64::from(secs);
    let n = |v: u64| locale.number(v);
    let p = |v: u64| padded(locale, v, 2);
    match (secs / 3600, secs / 60 % 60, secs % 60) {
        (0, 0, s) => locale.format(Key::DurSeconds, &[("s", &n(s))]),
        (0, m, 0) => locale.format(Key::DurMinutes, &[("m", &n(m))]),
        (0, m, s) => locale.format(Key::DurMinutesSeconds, &[("m", &n(m)), ("s", &p(s))]),
        (h, 0, _) => locale.format(Key::DurHours, &[("h", &n(h))]),
        (h, m, _) => locale.format(Key::DurHoursMinutes, &[("h", &n(h)), ("m", &p(m))]),
    }
}

/// How long the visitor has waited for a reply at `now_ms`; `None` when nobody is waiting.
pub fn waited_ms(item: &InboxItem, now_ms: i64) -> Option<i64> {
    item.waiting_since_ms.map(|since| (now_ms - since).max(0))
}

/// Breached at `now_ms`: the server said so when the inbox was read, or the reply-by time has
/// passed since (the console's clock keeps ticking between reloads).
pub fn is_breached(item: &InboxItem, now_ms: i64) -> bool {
    item.waiting_since_ms.is_some() && (item.breached || item.reply_by_ms.is_some_and(|by| now_ms > by))
}

/// `Waiting 3m 05s / promised 4m`, or `Answered · promise 4m` when the operator wrote last.
pub fn wait_label(locale: Locale, item: &InboxItem, now_ms: i64) -> String {
    let promise = format_promise(locale, item.promise_secs);
    match waited_ms(item, now_ms) {
        Some(waited) => {
            locale.format(Key::InboxWaiting, &[("waited", &format_duration(locale, waited)), ("promise", &promise)])
        }
        None => locale.format(Key::InboxAnswered, &[("promise", &promise)]),
    }
}

/// The server's order, kept after local changes: longest waiting first (ties by id), then those
/// nobody waits on, most recent activity first.
pub fn order_inbox(items: &mut [InboxItem]) {
    let activity = |i: &InboxItem| i.last_message.as_ref().map_or(i.created_ms, |m| m.created_ms);
    items.sort_by(|a, b| match (a.waiting_since_ms, b.waiting_since_ms) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.conversation_id.cmp(&b.conversation_id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => activity(b).cmp(&activity(a)),
    });
}

/// Adds `incoming` to `messages` (ordered by server id) without duplicates: a message seen both
/// in a reload and on the live stream is shown once. Returns whether anything was added.
pub fn merge_messages(messages: &mut Vec<ChatMessage>, incoming: impl IntoIterator<Item = ChatMessage>) -> bool {
    let mut added = false;
    for message in incoming {
        match messages.binary_search_by_key(&message.id, |m| m.id) {
            Ok(_) => {}
            Err(at) => {
                messages.insert(at, message);
                added = true;
            }
        }
    }
    added
}

/// Who wrote a message, for its label.
pub fn author_label(locale: Locale, author: Author) -> &'static str {
    locale.text(match author {
        Author::Visitor => Key::AuthorVisitor,
        Author::Operator => Key::AuthorOperator,
        Author::Unknown => Key::AuthorOther,
    })
}

/// `83% positive`, or `No ratings yet`.
pub fn share_label(locale: Locale, summary: &RatingSummary) -> String {
    let share = match summary.share_positive {
        Some(share) if summary.total > 0 => share,
        _ if summary.total > 0 => summary.positive as f64 / summary.total as f64,
        _ => return locale.text(Key::RatingsNone).to_owned(),
    };
    locale.format(Key::RatingsShare, &[("share", &percent(locale, share))])
}

/// `12 ratings in the last 30 days`.
pub fn total_label(locale: Locale, summary: &RatingSummary) -> String {
    locale.count(Key::RatingsTotal, summary.total, &[("days", &locale.number(u64::from(summary.days)))])
}

/// A rating value in words: the faces and thumbs scales by their meaning, stars by number.
pub fn rating_label(locale: Locale, value: RatingValue) -> String {
    let stars = |n: u64| locale.count(Key::RatingStars, n, &[]);
    match value {
        RatingValue::Bad => locale.text(Key::RatingNegative).to_owned(),
        RatingValue::Neutral => locale.text(Key::RatingNeutral).to_owned(),
        RatingValue::Good => locale.text(Key::RatingPositive).to_owned(),
        RatingValue::Star1 => stars(1),
        RatingValue::Star2 => stars(2),
        RatingValue::Star3 => stars(3),
        RatingValue::Star4 => stars(4),
        RatingValue::Star5 => stars(5),
    }
}

/// The statuses an operator may set on a callback, in the order offered.
pub const CALLBACK_STATUSES: [CallbackStatus; 4] =
    [CallbackStatus::Received, CallbackStatus::Scheduled, CallbackStatus::Done, CallbackStatus::Unreachable];

/// A callback status in words (the option's value stays the wire name).
pub fn status_label(locale: Locale, status: CallbackStatus) -> &'static str {
    match status {
        CallbackStatus::Received => locale.text(Key::StatusReceived),
        CallbackStatus::Scheduled => locale.text(Key::StatusScheduled),
        CallbackStatus::Done => locale.text(Key::StatusDone),
        CallbackStatus::Unreachable => locale.text(Key::StatusUnreachable),
        CallbackStatus::Cancelled => locale.text(Key::StatusCancelled),
        // A status newer than this console: its wire name beats nothing.
        CallbackStatus::Unknown => status.as_str(),
    }
}

/// Whether a reply may be sent: some text, within the protocol limit.
pub fn reply_problem(locale: Locale, body: &str) -> Option<&'static str> {
    if body.trim().is_empty() {
        Some(locale.text(Key::ReplyEmpty))
    } else if body.chars().count() > porchlight_protocol::chat::MAX_MESSAGE_CHARS {
        Some(locale.text(Key::ReplyTooLong))
    } else {
        None
    }
}

/// Typing signals go out at most this often while the operator types.
pub const TYPING_EVERY_MS: f64 = 1500.0;
/// The visitor's typing indicator disappears this long after their last signal.
pub const TYPING_SHOWN_MS: f64 = 4000.0;

/// Throttle for the outgoing typing signal: true when one should be sent now.
pub fn should_send_typing(last_sent_ms: Option<f64>, now_ms: f64) -> bool {
    last_sent_ms.is_none_or(|last| now_ms - last >= TYPING_EVERY_MS)
}

/// The canned replies a draft asks for: a draft of `/` and the start of shortcuts (nothing
/// else in the box) lists those replies, in config order.
pub fn canned_matches<'a>(draft: &str, replies: &'a [CannedReply]) -> Vec<&'a CannedReply> {
    match draft.strip_prefix('/') {
        Some(prefix) if !prefix.contains(char::is_whitespace) => {
            replies.iter().filter(|r| r.shortcut.starts_with(&prefix.to_lowercase())).collect()
        }
        _ => Vec::new(),
    }
}

/// What Tab makes of the draft: the text of the reply it names exactly, or of its only match.
pub fn expand_canned(draft: &str, replies: &[CannedReply]) -> Option<String> {
    let matches = canned_matches(draft, replies);
    let exact = matches.iter().find(|r| draft.get(1..) == Some(r.shortcut.as_str()));
    match (exact, matches.as_slice()) {
        (Some(r), _) | (None, [r]) => Some(r.text.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::{RatingScale, ValueCount};

    use super::*;
    use crate::i18n::en;

    fn item(id: &str, waiting: Option<i64>, created: i64) -> InboxItem {
        InboxItem {
            conversation_id: id.into(),
            site: "demo".into(),
            created_ms: created,
            waiting_since_ms: waiting,
            promise_secs: 240,
            reply_by_ms: waiting.map(|w| w + 240_000),
            breached: false,
            last_message: None,
            assignee: None,
            page_path: None,
            visitor_locale: None,
            visitor_email: None,
        }
    }

    fn message(id: i64) -> ChatMessage {
        ChatMessage {
            id,
            client_id: format!("c-{id:08}"),
            author: Author::Visitor,
            body: "x".into(),
            created_ms: id,
            author_name: None,
        }
    }

    #[test]
    fn durations() {
        let en = en();
        assert_eq!(format_duration(en, -5), "0s");
        assert_eq!(format_duration(en, 45_999), "45s");
        assert_eq!(format_duration(en, 185_000), "3m 05s");
        assert_eq!(format_duration(en, 3_720_000), "1h 02m");
        assert_eq!(format_duration(en, 2 * 86_400_000 + 3 * 3_600_000), "2d 3h");
        assert_eq!(format_promise(en, 240), "4m");
        assert_eq!(format_promise(en, 90), "1m 30s");
        assert_eq!(format_promise(en, 45), "45s");
        assert_eq!(format_promise(en, 3600), "1h");
        assert_eq!(format_promise(en, 5400), "1h 30m");
    }

    #[test]
    fn waiting_against_the_promise() {
        let en = en();
        let waiting = item("a", Some(1_000), 1_000);
        assert_eq!(wait_label(en, &waiting, 186_000), "Waiting 3m 05s / promised 4m");
        assert!(!is_breached(&waiting, 241_000));
        assert!(is_breached(&waiting, 241_001), "the clock passes the promise between reloads");
        let answered = item("b", None, 1_000);
        assert_eq!(wait_label(en, &answered, 999_999), "Answered · promise 4m");
        assert!(!is_breached(&answered, 999_999));
        let flagged = InboxItem { breached: true, ..item("c", Some(5), 5) };
        assert!(is_breached(&flagged, 6), "the server's verdict stands");
    }

    #[test]
    fn words_come_from_the_bundle() {
        let en = en();
        assert_eq!(author_label(en, Author::Visitor), "Visitor");
        assert_eq!(author_label(en, Author::Unknown), "Other");
        assert_eq!(status_label(en, CallbackStatus::Unreachable), "Unreachable");
        assert_eq!(status_label(en, CallbackStatus::Unknown), "unknown");
        assert_eq!(rating_label(en, RatingValue::Bad), "Negative");
        assert_eq!(rating_label(en, RatingValue::Star1), "1 star");
        assert_eq!(rating_label(en, RatingValue::Star5), "5 stars");
        // Another language: its own words and plural forms, from its bundle.
        let lv = Locale::new(crate::i18n::Catalog::from_bundle("lv", include_str!("../i18n/lv.json")).unwrap());
        assert_eq!(rating_label(lv, RatingValue::Star1), "1 zvaigzne");
        assert_eq!(format_promise(lv, 90), "1 min 30 s");
    }

    #[test]
    fn inbox_longest_waiting_first() {
        let mut items = vec![
            item("answered-old", None, 1),
            item("new", Some(50), 50),
            item("old", Some(10), 10),
            item("answered-new", None, 9),
        ];
        order_inbox(&mut items);
        let order: Vec<&str> = items.iter().map(|i| i.conversation_id.as_str()).collect();
        assert_eq!(order, ["old", "new", "answered-new", "answered-old"]);
    }

    #[test]
    fn messages_merge_once_in_id_order() {
        let mut log = vec![message(1), message(3)];
        assert!(merge_messages(&mut log, [message(2), message(3)]));
        assert!(!merge_messages(&mut log, [message(1), message(2)]));
        assert_eq!(log.iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn ratings_share() {
        let mut summary = RatingSummary {
            site: "demo".into(),
            scale: RatingScale::Thumbs2,
            days: 30,
            from_ms: 0,
            to_ms: 1,
            total: 0,
            positive: 0,
            share_positive: None,
            counts: vec![],
            per_day: vec![],
            per_page: vec![],
            recent: vec![],
        };
        let en = en();
        assert_eq!(share_label(en, &summary), "No ratings yet");
        assert_eq!(total_label(en, &summary), "0 ratings in the last 30 days");
        summary.total = 6;
        summary.positive = 5;
        summary.share_positive = Some(5.0 / 6.0);
        summary.counts = vec![ValueCount { value: porchlight_protocol::RatingValue::Good, count: 5 }];
        assert_eq!(share_label(en, &summary), "83% positive");
        summary.share_positive = None;
        assert_eq!(share_label(en, &summary), "83% positive");
        assert_eq!(total_label(en, &summary), "6 ratings in the last 30 days");
    }

    #[test]
    fn replies_and_typing() {
        let en = en();
        assert_eq!(reply_problem(en, "  "), Some("Write a reply first."));
        assert!(reply_problem(en, "hello").is_none());
        assert_eq!(reply_problem(en, &"x".repeat(4001)), Some("The reply is too long."));
        assert!(should_send_typing(None, 0.0));
        assert!(!should_send_typing(Some(1000.0), 2000.0));
        assert!(should_send_typing(Some(1000.0), 2500.0));
    }

    #[test]
    fn a_slash_and_a_shortcut_lists_and_expands_canned_replies() {
        let reply = |shortcut: &str, text: &str| CannedReply { shortcut: shortcut.into(), text: text.into() };
        let replies =
            [reply("hours", "We answer 9-18."), reply("help", "How can I help?"), reply("refund", "3-5 days.")];
        let shortcuts =
            |draft: &str| canned_matches(draft, &replies).iter().map(|r| r.shortcut.clone()).collect::<Vec<_>>();
        assert_eq!(shortcuts("/"), ["hours", "help", "refund"]);
        assert_eq!(shortcuts("/h"), ["hours", "help"]);
        assert_eq!(shortcuts("/HO"), ["hours"]);
        assert!(shortcuts("hours").is_empty() && shortcuts("/hours please").is_empty(), "only a bare /shortcut");
        assert_eq!(expand_canned("/r", &replies).as_deref(), Some("3-5 days."), "the only match");
        assert_eq!(expand_canned("/h", &replies), None, "two match: nothing to guess");
        assert_eq!(expand_canned("/help", &replies).as_deref(), Some("How can I help?"));
        assert_eq!(expand_canned("/x", &replies), None);
    }
}
