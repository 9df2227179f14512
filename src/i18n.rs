//! Every string the visitor sees, in their language.
//!
//! The strings are not compiled into the WASM: `src/i18n/{tag}.json` holds one bundle per
//! language, and the server inlines the visitor's bundle into the frame document as
//! `<script type="application/json" id="pl-strings">` (a data block, which a strict CSP allows),
//! with `<html lang dir>` set to the language it picked. So the WASM carries only the key
//! names, the plural rules and this lookup, whatever the number of languages; the frame pays for
//! one language, and no extra request is made.
//!
//! A bundle maps each [`Key`]'s name to a string, or, for counted keys, to an object of CLDR
//! plural categories (`"zero"`, `"one"`, `"two"`, `"few"`, `"many"`, `"other"`). Templates use
//! `{name}` placeholders filled by [`Locale::format`] and [`Locale::count`], so translators can
//! move them around. A native test fails on a missing, unknown or unused key and on a missing
//! plural category.
//!
//! The machinery (the `keys!` macro, [`Catalog`], [`PluralRules`], lookup and placeholders) is
//! the `porchlight-i18n` crate, shared with the operator console; this module keeps the
//! widget's own keys and the widget-specific lookups, and re-exports the rest.
//!
//! A new language: a new `{tag}.json` here, its [`PluralRules`] in
//! `porchlight_i18n::PluralRules::of`, and its tag in the server's list
//! (`crates/server/src/locales.rs`).

use porchlight_protocol::FieldErrorCode;

pub use porchlight_i18n::{Entry, Plural, PluralRules};

porchlight_i18n::keys! {
    DefaultSiteName,
    Close,
    /// "about a minute"
    WaitAboutAMinute,
    /// `{n}` minutes (counted)
    WaitMinutes,
    /// `{n}` hours (counted)
    WaitHours,
    /// `{wait}`: one of the three above
    WaitTypical,
    /// `{wait}`
    WaitBusy,
    /// `{when}` (e.g. "Monday at 09:00"), `{in}` (e.g. "in 14 hours")
    WaitClosedBack,
    /// `{when}`: the same when opening is more than [`crate::wait::SAY_IN_WITHIN_MS`] away (a
    /// day and a time say it better than "in 46 hours")
    WaitClosedBackOn,
    WaitClosed,
    /// `{when}`
    WaitNobody,
    WaitCallMe,
    /// The header while this visitor waits for a first answer: `{when}` (their own deadline).
    WaitAnswerBy,
    /// The header once that deadline has passed unanswered.
    WaitRunningLate,
    InAMinute,
    /// `{n}` (counted)
    InMinutes,
    InAnHour,
    /// `{n}` (counted)
    InHours,
    /// `{n}` (counted)
    InDays,
    /// `{time}`: "14:30 today"
    WhenToday,
    /// `{day}`, `{time}`: "Monday at 09:00"
    WhenDay,
    LateSorry,
    /// `{when}`
    LateOffer,
    TabsLabel,
    TabChat,
    TabCallback,
    TabRating,
    Offline,
    Retry,
    /// `{n}` seconds (counted)
    RateLimited,
    RateLimitedMoment,
    SetupError,
    ServerError,
    CheckFields,

    /// The launcher's visible text ("Help").
    LauncherText,
    /// The launcher's accessible name before availability is known.
    LauncherLabel,
    LauncherOnline,
    LauncherBusy,
    LauncherOffline,
    /// `{n}` new messages (counted), added to the launcher's name.
    LauncherUnread,
    /// The frame's `title`.
    FrameTitle,

    ChatIntro,
    ChatLogLabel,
    ChatInputLabel,
    ChatPlaceholder,
    ChatSend,
    ChatSending,
    ChatSent,
    ChatFailed,
    ChatEmpty,
    ChatTooLong,
    /// Screen-reader prefix of an operator's message.
    ChatReply,
    /// The header once an operator has answered in this conversation: `{name}`.
    ChatWith,
    /// The optional e-mail field's label (nobody online, closed, or running late).
    ChatEmailAsk,
    ChatEmailSave,
    /// `{email}` (masked), `{when}`.
    ChatEmailSaved,
    ChatEmailInvalid,
    /// The visitor's own erasure: the link, the question, its two answers, and the outcome.
    ChatDelete,
    ChatDeleteConfirm,
    ChatDeleteYes,
    ChatDeleteNo,
    ChatDeleted,
    /// Shown while the operator is typing.
    ChatOperatorTyping,
    /// The opt-in chime for new replies (a checkbox).
    ChatSound,
    /// Above the rating once the operator has closed the conversation.
    ChatEnded,

    CbIntro,
    CbName,
    CbPhone,
    CbPhoneHint,
    CbWhen,
    CbAsap,
    /// `{when}`
    CbAsapBy,
    CbTopic,
    CbTopicNone,
    CbNote,
    CbOptional,
    CbHoneypot,
    CbSubmit,
    CbSending,
    /// A request kept in the outbox until the server can be reached.
    CbQueued,
    /// A request saved before a reload that the server then refused.
    CbRefused,
    /// `{when}`
    CbThanks,
    /// For a chosen slot: `{from}` (its start, e.g. "today at 12:00"), `{to}` (its end, "12:30")
    CbThanksBetween,
    /// `{reference}`
    CbReference,
    /// `{reference}`, `{when}`
    CbStatusReceived,
    /// `{reference}`, `{when}`
    CbStatusScheduled,
    /// `{reference}`
    CbStatusDone,
    /// `{reference}`
    CbStatusUnreachable,
    /// `{reference}`
    CbStatusCancelled,
    /// The follow-up's button that cancels a booked callback.
    CbCancel,
    ErrConsent,
    ErrNameRequired,
    ErrNameTooLong,
    ErrPhoneRequired,
    ErrPhoneTooShort,
    ErrPhoneTooLong,
    /// Characters other than digits and separators.
    ErrPhoneInvalid,
    /// Well formed, but no line in that country can have it.
    ErrPhoneNotInUse,
    /// A national number where the site has no default country.
    ErrPhoneCountryCode,
    /// Premium-rate, shared-cost, or a country code we cannot call.
    ErrPhoneUnsupported,
    ErrNoteTooLong,
    ErrTextInvalid,
    ErrTimeInvalid,

    RateLegend,
    /// The satisfaction prompt after a callback is done.
    RateLegendCallback,
    RateBad,
    RateNeutral,
    RateGood,
    RateThanks,
    RateRecovery,
    /// The status line of a negative rating (before the recovery offer).
    RateSorry,
    /// The recovery offer's chat button when nobody is online.
    RateLeaveMessage,
    RateChatNow,
    RateCallMe,
    /// `{n}` stars (counted)
    RateStars,
    RatePending,
    RateMore,
    /// `{n}` (counted), `{max}`
    RateCount,
    /// `{max}`
    RateTooLong,
    RateMoreThanks,
    RateUndo,
    RateUndone,
    RateClosed,
}

/// A parsed bundle: one language's strings.
pub type Catalog = porchlight_i18n::Catalog<Key>;

/// The visitor's language: a handle on its [`Catalog`], cheap to copy into every component.
/// The default is English with no strings (only a frame served without a bundle, which the
/// server never does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Locale(porchlight_i18n::Locale<Key>);

/// The English bundle, for tests and tools (not referenced by the shipped app, so not in its
/// WASM).
pub const EN_JSON: &str = include_str!("i18n/en.json");

impl Locale {
    /// Keeps `catalog` for the life of the frame (one per frame, so leaking is the point).
    pub fn new(catalog: Catalog) -> Locale {
        Locale(porchlight_i18n::Locale::new(catalog))
    }

    /// English from [`EN_JSON`], parsed once per thread.
    pub fn en() -> Locale {
        thread_local! {
            static EN: Locale = Locale::new(Catalog::from_bundle("en", EN_JSON).expect("en.json parses"));
        }
        EN.with(|l| *l)
    }

    /// The bundle the server inlined in the frame document, in the language it set on `<html>`.
    pub fn from_document() -> Locale {
        Locale(porchlight_i18n::Locale::from_document())
    }

    /// BCP 47 tag for `lang` attributes and `Intl`.
    pub fn tag(self) -> &'static str {
        self.0.tag()
    }

    /// `"rtl"` for right-to-left scripts, else `"ltr"`.
    pub fn dir(self) -> &'static str {
        self.0.dir()
    }

    /// A key's text (for a counted key, its `other` form). A missing key shows its name, which
    /// the bundle test prevents.
    pub fn text(self, key: Key) -> &'static str {
        self.0.text(key)
    }

    /// [`Locale::text`] with `{name}` placeholders replaced.
    pub fn format(self, key: Key, args: &[(&str, &str)]) -> String {
        self.0.format(key, args)
    }

    /// A counted key's form for `n`, with `{n}` as the visitor's locale writes numbers and the
    /// other placeholders from `args`.
    pub fn count(self, key: Key, n: u64, args: &[(&str, &str)]) -> String {
        self.0.count(key, n, args)
    }

    /// `n` in the visitor's digits (`Intl.NumberFormat`; Arabic gets Arabic-Indic digits).
    pub fn number(self, n: u64) -> String {
        self.0.number(n)
    }

    /// The message shown next to a field for a [`FieldErrorCode`] (from our own validation or a
    /// server 422). `field` is the JSON field name.
    pub fn field_error(self, field: &str, code: FieldErrorCode) -> &'static str {
        use FieldErrorCode::*;
        let key = match (field, code) {
            ("name", Required) => Key::ErrNameRequired,
            ("name", TooLong) => Key::ErrNameTooLong,
            ("phone", Required) => Key::ErrPhoneRequired,
            ("phone", TooShort) => Key::ErrPhoneTooShort,
            ("phone", TooLong) => Key::ErrPhoneTooLong,
            ("phone", NotInUse) => Key::ErrPhoneNotInUse,
            ("phone", NoCountryCode) => Key::ErrPhoneCountryCode,
            ("phone", Unsupported) => Key::ErrPhoneUnsupported,
            ("phone", _) => Key::ErrPhoneInvalid,
            ("note", TooLong) => Key::ErrNoteTooLong,
            ("preferred_ms", _) => Key::ErrTimeInvalid,
            ("consent", _) => Key::ErrConsent,
            ("body" | "message.body", Required) => Key::ChatEmpty,
            ("body" | "message.body", TooLong) => Key::ChatTooLong,
            _ => Key::ErrTextInvalid,
        };
        self.text(key)
    }

    /// The locale `Intl` should format dates with: the browser's own language when it is a
    /// variant of ours (an `en-GB` visitor gets a 24-hour clock), else ours.
    pub fn intl_tag(self, browser_language: Option<&str>) -> String {
        self.0.intl_tag(browser_language)
    }

    /// The launcher's texts, sent to the loader once the frame is up.
    pub fn launcher_ready(self) -> porchlight_protocol::frame::FrameToLoader {
        porchlight_protocol::frame::FrameToLoader::Ready {
            text: self.text(Key::LauncherText).to_owned(),
            label: self.text(Key::LauncherLabel).to_owned(),
            frame_title: self.text(Key::FrameTitle).to_owned(),
        }
    }

    /// The launcher's accessible name with the site's state in words.
    pub fn launcher_status_label(self, state: porchlight_protocol::AvailabilityState) -> String {
        self.launcher_label(Some(state), 0)
    }

    /// The launcher's accessible name: the site's state (when known) and unread messages.
    pub fn launcher_label(self, state: Option<porchlight_protocol::AvailabilityState>, unread: u32) -> String {
        use porchlight_protocol::AvailabilityState::*;
        let base = self.text(match state {
            None => Key::LauncherLabel,
            Some(Open) => Key::LauncherOnline,
            Some(Busy) => Key::LauncherBusy,
            Some(_) => Key::LauncherOffline,
        });
        match unread {
            0 => base.to_owned(),
            n => format!("{base} — {}", self.count(Key::LauncherUnread, u64::from(n), &[])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled() {
        let en = Locale::en();
        assert_eq!(en.count(Key::RateLimited, 30, &[]), "You're sending a lot right now. Please wait 30 seconds.");
        assert_eq!(en.count(Key::RateLimited, 1, &[]), "You're sending a lot right now. Please wait 1 second.");
        assert_eq!(en.format(Key::CbReference, &[("reference", "PL-7K3Q9M")]), "Your reference: PL-7K3Q9M");
        assert_eq!(en.count(Key::RateCount, 12, &[("max", "2000")]), "12 / 2000 characters");
    }

    #[test]
    fn field_errors_by_code() {
        let en = Locale::en();
        assert_eq!(en.field_error("phone", FieldErrorCode::TooShort), "That number looks too short.");
        assert_eq!(en.field_error("phone", FieldErrorCode::Invalid), "Use digits, spaces and + - ( ) only.");
        assert!(en.field_error("phone", FieldErrorCode::NotInUse).starts_with("That isn't a number in use."));
        assert_eq!(en.field_error("phone", FieldErrorCode::NoCountryCode), "Please add the country code, e.g. +44.");
        assert!(en.field_error("phone", FieldErrorCode::Unsupported).starts_with("We can't call this number"));
        assert_eq!(en.field_error("name", FieldErrorCode::Required), "Please tell us your name.");
        assert_eq!(en.field_error("message.body", FieldErrorCode::Required), "Please write a message first.");
        assert_eq!(en.field_error("something_new", FieldErrorCode::Unknown), "Please check this field.");
    }

    #[test]
    fn intl_tag_prefers_the_browser_variant_of_our_language() {
        let en = Locale::en();
        assert_eq!(en.intl_tag(Some("en-GB")), "en-GB");
        assert_eq!(en.intl_tag(Some("lv-LV")), "en");
        assert_eq!(en.intl_tag(None), "en");
    }

    #[test]
    fn a_missing_key_shows_nothing_and_a_missing_form_falls_back_to_other() {
        let partial = Locale::new(Catalog::from_names(
            "lv",
            [("InDays", Entry::Counted(vec![(Plural::Other, "pēc {n} dienām".into())]))],
        ));
        assert_eq!(partial.count(Key::InDays, 1, &[]), "pēc 1 dienām");
        assert_eq!(partial.text(Key::Close), "");
        assert_eq!(partial.dir(), "ltr");
        assert_eq!(Locale::new(Catalog::new("ar", Vec::new())).dir(), "rtl");
    }
}
