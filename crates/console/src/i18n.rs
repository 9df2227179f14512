//! Every string the operator sees, in their language.
//!
//! Same mechanism as the widget (the shared `porchlight-i18n` crate): `crates/console/i18n/
//! {tag}.json` holds one bundle per language; the server picks the operator's language from
//! `Accept-Language` and inlines that bundle into `console.html` as
//! `<script type="application/json" id="pl-strings">`, with `<html lang dir>` set, and fills the
//! document's own `{{Key}}` placeholders (its title and loading line) from it. The WASM carries
//! the key names only.
//!
//! A native test (`tests/i18n_bundles.rs`) fails on a missing, unknown or unused key, a missing
//! plural category or a placeholder that differs from English.

pub use porchlight_i18n::{Entry, Plural, PluralRules};

porchlight_i18n::keys! {
    /// The product name in the header, on the log-in form and in the document's `<title>`.
    ConsoleTitle,
    /// Shown until the session is checked (also in `index.html` as `{{Loading}}`).
    Loading,
    LoginEmail,
    LoginPassword,
    LoginSubmit,
    LoginWrong,
    /// Label of the site picker (operators of several sites).
    SiteLabel,
    /// The live stream of notifications is connected.
    LiveOn,
    /// The live stream dropped; the console polls until it is back.
    LiveOff,
    Logout,
    PresenceOnline,
    PresenceAway,
    PresenceUnset,
    /// Tooltip of the presence button.
    PresenceHint,
    /// The button that asks the browser for desktop notifications.
    AlertEnable,
    /// A desktop notification's title; its body is the visitor's message.
    AlertNewMessage,
    /// The toggle that turns the alert chime off (and on again) in this browser.
    AlertSound,
    InboxTitle,
    /// The inbox views: assigned to me, nobody's, every open one.
    ViewMine,
    ViewUnassigned,
    ViewAll,
    /// `{name}`: who works on the conversation.
    AssignedTo,
    /// Take the conversation on (assign it to me).
    Claim,
    /// The transfer list: its label, its first (empty) choice, and unassigning.
    TransferTo,
    TransferChoose,
    TransferNobody,
    /// A colleague in the transfer list: `{name}`, `{open}` chats of `{capacity}`.
    TeamOnline,
    /// `{name}`
    TeamAway,
    /// `{name}`: after a transfer.
    Transferred,
    /// The conversation's button that e-mails the visitor the whole conversation.
    TranscriptSend,
    /// `{to}`: the visitor's address, masked.
    TranscriptSent,
    InboxEmpty,
    InboxNoMessages,
    /// `{author}`: one of the Author* strings, `{text}`: the last message.
    InboxPreview,
    /// `{waited}`, `{promise}`: durations (the Dur* strings).
    InboxWaiting,
    /// `{promise}`
    InboxAnswered,
    /// `{promise}`, tooltip of an inbox row.
    InboxPromise,
    InboxBreached,
    /// Compact durations for the inbox: `{d}` days, `{h}` hours, `{m}` minutes, `{s}` seconds.
    /// Minutes and seconds after a larger unit come zero-padded ("3m 05s").
    DurSeconds,
    DurMinutes,
    DurMinutesSeconds,
    DurHours,
    DurHoursMinutes,
    DurDaysHours,
    ConversationTitle,
    ConversationPick,
    /// `{when}`: date and time, from `Intl` in the operator's locale.
    ConversationStarted,
    /// `{when}`, `{page}`: the path of the page the visitor wrote from.
    ConversationStartedOn,
    /// Accessible name of the scrollable message list.
    MessagesLabel,
    AuthorVisitor,
    AuthorOperator,
    AuthorOther,
    VisitorTyping,
    ConversationClosed,
    /// Accessible name of the reply box.
    ReplyLabel,
    ReplyPlaceholder,
    ReplySend,
    ReplyEmpty,
    ReplyTooLong,
    ConversationClose,
    CallbacksTitle,
    CallbacksEmpty,
    CallbacksForbidden,
    /// `{when}`, `{reference}`
    CallbackDue,
    CallbackStatusLabel,
    StatusReceived,
    StatusScheduled,
    StatusDone,
    StatusUnreachable,
    /// A callback the visitor cancelled (not offered to set; shown in the queue).
    StatusCancelled,
    /// A pending callback whose due time has passed.
    CallbackOverdue,
    Refresh,
    RatingsTitle,
    RatingsForbidden,
    /// `{share}`: a percentage from `Intl` ("83%", "٨٣٪").
    RatingsShare,
    RatingsNone,
    /// `{n}` ratings (counted), `{days}`: the period (30).
    RatingsTotal,
    RatingNegative,
    RatingNeutral,
    RatingPositive,
    /// `{n}` stars (counted): a value of the five-star scale.
    RatingStars,
    /// `{value}`: a Rating* label, `{count}`: how many.
    RatingsCountLine,
    /// The ratings panel's list of comments and the chats or callbacks they rate.
    RatingsRecent,
    RatingsOpenChat,
    /// `{reference}`
    RatingsOnCallback,
    /// The promise ledger panel.
    PromisesTitle,
    PromiseKindChat,
    PromiseKindCallback,
    PromiseKindMessage,
    /// `{kind}`, `{kept}`, `{broken}`, `{void}`.
    PromiseLine,
    /// `{rate}`: percent of decided promises kept.
    PromiseRate,
    /// `{minutes}`: how late the answer came.
    PromiseLate,
    PromiseUnanswered,
    /// Per operator: `{name}`, `{kept}` of `{total}` answered promises kept.
    PromiseByOperator,
    /// The name shown for answers sent with the operator token.
    PromiseAutomation,
    /// The visitor behind a conversation: `{title}` of the page they wrote from.
    VisitorPage,
    /// `{lang}`: the widget's language tag (`lv`).
    VisitorLanguage,
    /// `{time}` now in their zone, `{zone}` its IANA name.
    VisitorLocalTime,
    /// `{email}` they gave for replies.
    VisitorEmail,
    /// `{value}`: a Rating* label.
    VisitorRated,
    /// The same visitor's other conversations.
    PreviousTitle,
    /// `{when}`, `{snippet}`: one past conversation (history and earlier conversations).
    PastLine,
    HistoryTitle,
    /// The search field's label.
    HistorySearch,
    HistorySubmit,
    HistoryEmpty,
    /// Under the reply box: how canned replies work.
    CannedHint,
    /// The admins' panel: one person's data (export, erase), dead webhooks, the audit log.
    AdminTitle,
    /// Label of the selector kind; then the three kinds.
    DataKind,
    DataKindEmail,
    DataKindPhone,
    DataKindConversation,
    /// Label of the selector's value.
    DataValue,
    DataExport,
    DataErase,
    /// `{site}`: asked before erasing.
    DataEraseConfirm,
    DataKeep,
    /// `{n}` rows removed (counted).
    DataRemoved,
    /// A 422: not exactly one valid selector.
    DataInvalid,
    /// `{n}` dead webhook deliveries (counted).
    DeadTitle,
    DeadRetry,
    DeadDrop,
    AuditTitle,
    OperatorsTitle,
    /// The admins' Operators panel: its title, one account per line (`{name}`, `{email}`,
    /// `{sites}`: the ids or OperatorsEvery), the capacity field, actions and the add form.
    OperatorsLine,
    OperatorsEvery,
    OperatorsAdminMark,
    OperatorsCapacity,
    OperatorsSave,
    OperatorsRemove,
    OperatorsRemoveAsk,
    OperatorsAdd,
    OperatorsEmail,
    OperatorsName,
    OperatorsPassword,
    OperatorsSites,
    OperatorsIsAdmin,
    OperatorsDone,
    OperatorsExists,
    OperatorsFieldEmail,
    OperatorsFieldName,
    OperatorsFieldPassword,
    OperatorsFieldSites,
    OperatorsFieldCapacity,
    ErrOffline,
    ErrSession,
    ErrTooMany,
    /// `{status}`: the HTTP status code.
    ErrStatus,
    ErrUnexpected,
}

/// A parsed console bundle.
pub type Catalog = porchlight_i18n::Catalog<Key>;

/// The operator's language: cheap to copy into every component.
pub type Locale = porchlight_i18n::Locale<Key>;

/// The English bundle, for native tests (not referenced by the shipped app, so not in its WASM).
pub const EN_JSON: &str = include_str!("../i18n/en.json");

/// English from [`EN_JSON`], parsed once per thread.
pub fn en() -> Locale {
    thread_local! {
        static EN: Locale = Locale::new(Catalog::from_bundle("en", EN_JSON).expect("en.json parses"));
    }
    EN.with(|l| *l)
}

/// `n` in the operator's digits with at least `min_digits` digits ("05", "٠٥"): minutes and
/// seconds of a ticking wait keep their width, so the row does not jitter.
pub fn padded(locale: Locale, n: u64, min_digits: u32) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"minimumIntegerDigits".into(), &f64::from(min_digits).into());
        let _ = js_sys::Reflect::set(&options, &"useGrouping".into(), &false.into());
        if let Some(s) = intl_number(locale.tag(), &options, n as f64) {
            return s;
        }
    }
    let _ = locale;
    format!("{n:0width$}", width = min_digits as usize)
}

/// A share (0.0–1.0) as the operator's locale writes a whole percentage ("83%", "83 %", "٨٣٪").
pub fn percent(locale: Locale, share: f64) -> String {
    let rounded = (share * 100.0).round().clamp(0.0, 100.0);
    #[cfg(target_arch = "wasm32")]
    {
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"style".into(), &"percent".into());
        let _ = js_sys::Reflect::set(&options, &"maximumFractionDigits".into(), &0.into());
        if let Some(s) = intl_number(locale.tag(), &options, rounded / 100.0) {
            return s;
        }
    }
    let _ = locale;
    format!("{}%", rounded as i64)
}

#[cfg(target_arch = "wasm32")]
fn intl_number(tag: &str, options: &js_sys::Object, value: f64) -> Option<String> {
    let locales = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(tag));
    let format = js_sys::Intl::NumberFormat::new(&locales, options).format();
    format.call1(&wasm_bindgen::JsValue::UNDEFINED, &value.into()).ok()?.as_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_lookups() {
        let en = en();
        assert_eq!(en.text(Key::LoginSubmit), "Log in");
        assert_eq!(en.count(Key::RatingsTotal, 1, &[("days", "30")]), "1 rating in the last 30 days");
        assert_eq!(en.count(Key::RatingStars, 4, &[]), "4 stars");
        assert_eq!(padded(en, 5, 2), "05");
        assert_eq!(padded(en, 123, 2), "123");
        assert_eq!(percent(en, 5.0 / 6.0), "83%");
    }
}
