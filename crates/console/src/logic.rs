//! The console's plain logic, tested natively: waiting times against the posted promise, breach
//! marking, inbox ordering, merging live messages without duplicates, ratings figures.

use porchlight_protocol::{Author, CallbackStatus, ChatMessage, InboxItem, RatingSummary};

/// A duration for operators: `45s`, `3m 05s`, `1h 02m`, `2d 3h`. Negative values count as 0.
pub fn format_duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if secs >= 3600 {
        format!("{}h {m:02}m", secs / 3600)
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// The posted promise, short: `4m`, `90s`, `1h 30m`.
pub fn format_promise(secs: u32) -> String {
    let secs = i64::from(secs);
    match (secs / 3600, secs / 60 % 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m:02}m"),
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

/// `waiting 3m 05s / promised 4m`, or `answered` when the operator wrote last.
pub fn wait_label(item: &InboxItem, now_ms: i64) -> String {
    match waited_ms(item, now_ms) {
        Some(waited) => format!("waiting {} / promised {}", format_duration(waited), format_promise(item.promise_secs)),
        None => format!("answered · promise {}", format_promise(item.promise_secs)),
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
pub fn author_label(author: Author) -> &'static str {
    match author {
        Author::Visitor => "Visitor",
        Author::Operator => "Operator",
        Author::Unknown => "Other",
    }
}

/// `83% positive`, or `no ratings yet`.
pub fn share_label(summary: &RatingSummary) -> String {
    match summary.share_positive {
        Some(share) if summary.total > 0 => format!("{}% positive", (share * 100.0).round() as i64),
        _ if summary.total > 0 => format!("{}% positive", (summary.positive * 100 + summary.total / 2) / summary.total),
        _ => "no ratings yet".to_owned(),
    }
}

/// The statuses an operator may set on a callback, in the order offered.
pub const CALLBACK_STATUSES: [CallbackStatus; 4] =
    [CallbackStatus::Received, CallbackStatus::Scheduled, CallbackStatus::Done, CallbackStatus::Unreachable];

/// Whether a reply may be sent: some text, within the protocol limit.
pub fn reply_problem(body: &str) -> Option<&'static str> {
    if body.trim().is_empty() {
        Some("Write a reply first.")
    } else if body.chars().count() > porchlight_protocol::chat::MAX_MESSAGE_CHARS {
        Some("The reply is too long.")
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

#[cfg(test)]
mod tests {
    use porchlight_protocol::{RatingScale, ValueCount};

    use super::*;

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
        }
    }

    fn message(id: i64) -> ChatMessage {
        ChatMessage { id, client_id: format!("c-{id:08}"), author: Author::Visitor, body: "x".into(), created_ms: id }
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(-5), "0s");
        assert_eq!(format_duration(45_999), "45s");
        assert_eq!(format_duration(185_000), "3m 05s");
        assert_eq!(format_duration(3_720_000), "1h 02m");
        assert_eq!(format_duration(2 * 86_400_000 + 3 * 3_600_000), "2d 3h");
        assert_eq!(format_promise(240), "4m");
        assert_eq!(format_promise(90), "1m 30s");
        assert_eq!(format_promise(45), "45s");
        assert_eq!(format_promise(3600), "1h");
        assert_eq!(format_promise(5400), "1h 30m");
    }

    #[test]
    fn waiting_against_the_promise() {
        let waiting = item("a", Some(1_000), 1_000);
        assert_eq!(wait_label(&waiting, 186_000), "waiting 3m 05s / promised 4m");
        assert!(!is_breached(&waiting, 241_000));
        assert!(is_breached(&waiting, 241_001), "the clock passes the promise between reloads");
        let answered = item("b", None, 1_000);
        assert_eq!(wait_label(&answered, 999_999), "answered · promise 4m");
        assert!(!is_breached(&answered, 999_999));
        let flagged = InboxItem { breached: true, ..item("c", Some(5), 5) };
        assert!(is_breached(&flagged, 6), "the server's verdict stands");
    }

    #[test]
    fn inbox_longest_waiting_first() {
        let mut items =
            vec![item("answered-old", None, 1), item("new", Some(50), 50), item("old", Some(10), 10), item("answered-new", None, 9)];
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
        };
        assert_eq!(share_label(&summary), "no ratings yet");
        summary.total = 6;
        summary.positive = 5;
        summary.share_positive = Some(5.0 / 6.0);
        summary.counts = vec![ValueCount { value: porchlight_protocol::RatingValue::Good, count: 5 }];
        assert_eq!(share_label(&summary), "83% positive");
        summary.share_positive = None;
        assert_eq!(share_label(&summary), "83% positive");
    }

    #[test]
    fn replies_and_typing() {
        assert!(reply_problem("  ").is_some());
        assert!(reply_problem("hello").is_none());
        assert!(reply_problem(&"x".repeat(4001)).is_some());
        assert!(should_send_typing(None, 0.0));
        assert!(!should_send_typing(Some(1000.0), 2000.0));
        assert!(should_send_typing(Some(1000.0), 2500.0));
    }
}
