//! Every string the visitor sees. English only for now: a new language is a new [`Locale`]
//! variant, a `match` arm in [`Locale::from_tag`] and one more table function like [`en`].
//!
//! Templates use `{name}` placeholders filled by [`Locale::format`], so translators can move
//! them around.

use porchlight_protocol::FieldErrorCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
}

/// One visible string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    DefaultSiteName,
    Close,
    /// "about a minute"
    WaitAboutAMinute,
    /// `{n}` minutes
    WaitMinutes,
    /// `{n}` hours
    WaitHours,
    /// `{wait}`: one of the three above
    WaitTypical,
    /// `{wait}`
    WaitBusy,
    /// `{when}` (e.g. "Monday at 09:00"), `{in}` (e.g. "in 14 hours")
    WaitClosedBack,
    WaitClosed,
    /// `{when}`
    WaitNobody,
    WaitCallMe,
    InAMinute,
    /// `{n}`
    InMinutes,
    InAnHour,
    /// `{n}`
    InHours,
    /// `{n}`
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
    /// `{n}` seconds
    RateLimited,
    RateLimitedMoment,
    SetupError,
    ServerError,
    CheckFields,

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
    /// `{when}`
    CbThanks,
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
    ErrConsent,
    ErrNameRequired,
    ErrNameTooLong,
    ErrPhoneRequired,
    ErrPhoneTooShort,
    ErrPhoneTooLong,
    ErrPhoneInvalid,
    ErrNoteTooLong,
    ErrTextInvalid,
    ErrTimeInvalid,

    RateLegend,
    RateBad,
    RateNeutral,
    RateGood,
    RateThanks,
    RateRecovery,
    RateChatNow,
    RateCallMe,
    RateStar,
    /// `{n}`
    RateStars,
    RatePending,
    RateMore,
    /// `{n}`, `{max}`
    RateCount,
    RateTooLong,
    RateMoreThanks,
    RateUndo,
    RateUndone,
    RateClosed,
}

impl Locale {
    /// The widget's language from the frame's `locale` param (`"en"`, `"en-GB"`, …).
    /// Unknown or missing languages fall back to English.
    #[allow(clippy::match_single_binding)] // one arm per language as they arrive
    pub fn from_tag(tag: Option<&str>) -> Locale {
        let primary = tag.unwrap_or("").split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            _ => Locale::En,
        }
    }

    /// BCP 47 tag for `lang` attributes and `Intl`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
        }
    }

    pub fn text(self, key: Key) -> &'static str {
        match self {
            Locale::En => en(key),
        }
    }

    /// [`Locale::text`] with `{name}` placeholders replaced.
    pub fn format(self, key: Key, args: &[(&str, &str)]) -> String {
        fill(self.text(key), args)
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
        match browser_language {
            Some(lang) if lang.split('-').next().is_some_and(|p| p.eq_ignore_ascii_case(self.tag())) => lang.to_owned(),
            _ => self.tag().to_owned(),
        }
    }
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

fn en(key: Key) -> &'static str {
    match key {
        Key::DefaultSiteName => "Support",
        Key::Close => "Close",
        Key::WaitAboutAMinute => "about a minute",
        Key::WaitMinutes => "about {n} minutes",
        Key::WaitHours => "about {n} hours",
        Key::WaitTypical => "Typically replies in {wait}",
        Key::WaitBusy => "Busy right now: {wait}. Prefer a callback?",
        Key::WaitClosedBack => "We're closed. Back {when} ({in}, your time). Leave a message or book a callback.",
        Key::WaitClosed => "We're closed. Leave a message or book a callback.",
        Key::WaitNobody => "Nobody is online right now. We'll reply by {when}.",
        Key::WaitCallMe => "Request a callback",
        Key::InAMinute => "in a minute",
        Key::InMinutes => "in {n} minutes",
        Key::InAnHour => "in an hour",
        Key::InHours => "in {n} hours",
        Key::InDays => "in {n} days",
        Key::WhenToday => "{time} today",
        Key::WhenDay => "{day} at {time}",
        Key::LateSorry => "Sorry — this is taking longer than we said.",
        Key::LateOffer => "We can call you back, or you can leave your message here and we'll reply by {when}.",
        Key::TabsLabel => "How would you like to reach us?",
        Key::TabChat => "Chat",
        Key::TabCallback => "Call me",
        Key::TabRating => "Rate",
        Key::Offline => "We can't reach our server right now. What you type is kept — try again in a moment.",
        Key::Retry => "Retry",
        Key::RateLimited => "You're sending a lot right now. Please wait {n} seconds.",
        Key::RateLimitedMoment => "You're sending a lot right now. Please wait a moment.",
        Key::SetupError => "This help widget isn't set up correctly.",
        Key::ServerError => "Something went wrong on our side. Sorry! Try again.",
        Key::CheckFields => "Please check the highlighted fields.",

        Key::ChatIntro => "Hi! Send us a message and we'll reply here.",
        Key::ChatLogLabel => "Conversation",
        Key::ChatInputLabel => "Your message",
        Key::ChatPlaceholder => "Type your message…",
        Key::ChatSend => "Send",
        Key::ChatSending => "Sending…",
        Key::ChatSent => "Sent",
        Key::ChatFailed => "Not sent",
        Key::ChatEmpty => "Please write a message first.",
        Key::ChatTooLong => "That message is too long. Please shorten it.",
        Key::ChatReply => "Reply:",

        Key::CbIntro => "Leave your number and we'll call you back.",
        Key::CbName => "Your name",
        Key::CbPhone => "Phone number",
        Key::CbPhoneHint => "Include the country code if you're abroad, e.g. +44.",
        Key::CbWhen => "When should we call?",
        Key::CbAsap => "As soon as possible",
        Key::CbAsapBy => "As soon as possible (by {when})",
        Key::CbTopic => "Topic",
        Key::CbTopicNone => "Choose a topic (optional)",
        Key::CbNote => "Anything we should know?",
        Key::CbOptional => "(optional)",
        Key::CbHoneypot => "Leave this field empty",
        Key::CbSubmit => "Call me back",
        Key::CbSending => "Sending…",
        Key::CbThanks => "Thanks! We'll call you by {when}.",
        Key::CbReference => "Your reference: {reference}",
        Key::CbStatusReceived => "Your callback {reference} is booked: we'll call you by {when}.",
        Key::CbStatusScheduled => "Your callback {reference} is scheduled for {when}.",
        Key::CbStatusDone => "Your callback {reference} is done. Thanks for talking to us!",
        Key::CbStatusUnreachable => "We tried to call you ({reference}) but couldn't reach you. Sorry!",
        Key::ErrConsent => "Please tick the box so we may call you.",
        Key::ErrNameRequired => "Please tell us your name.",
        Key::ErrNameTooLong => "That name is too long.",
        Key::ErrPhoneRequired => "Please enter your phone number.",
        Key::ErrPhoneTooShort => "That number looks too short.",
        Key::ErrPhoneTooLong => "That number looks too long.",
        Key::ErrPhoneInvalid => "Use digits, spaces and + - ( ) only.",
        Key::ErrNoteTooLong => "That note is too long. Please shorten it.",
        Key::ErrTextInvalid => "Please check this field.",
        Key::ErrTimeInvalid => "Please pick another time.",

        Key::RateLegend => "How are we doing?",
        Key::RateBad => "Bad",
        Key::RateNeutral => "Okay",
        Key::RateGood => "Good",
        Key::RateThanks => "Thank you!",
        Key::RateRecovery => "Sorry about that. Want to chat now or get a call back?",
        Key::RateChatNow => "Chat now",
        Key::RateCallMe => "Call me back",
        Key::RateStar => "1 star",
        Key::RateStars => "{n} stars",
        Key::RatePending => "Saved — we'll send it when you're back online.",
        Key::RateMore => "Tell us more",
        Key::RateCount => "{n} / {max} characters",
        Key::RateTooLong => "That's too long. Please keep it under {max} characters.",
        Key::RateMoreThanks => "Thanks — we've passed it on.",
        Key::RateUndo => "Undo",
        Key::RateUndone => "Your rating was removed.",
        Key::RateClosed => "This rating can no longer be changed.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_locales_fall_back_to_english() {
        assert_eq!(Locale::from_tag(Some("en-GB")), Locale::En);
        assert_eq!(Locale::from_tag(Some("xx")), Locale::En);
        assert_eq!(Locale::from_tag(None), Locale::En);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            Locale::En.format(Key::RateLimited, &[("n", "30")]),
            "You're sending a lot right now. Please wait 30 seconds."
        );
        assert_eq!(Locale::En.format(Key::CbReference, &[("reference", "PL-7K3Q9M")]), "Your reference: PL-7K3Q9M");
    }

    #[test]
    fn field_errors_by_code() {
        assert_eq!(Locale::En.field_error("phone", FieldErrorCode::TooShort), "That number looks too short.");
        assert_eq!(Locale::En.field_error("name", FieldErrorCode::Required), "Please tell us your name.");
        assert_eq!(Locale::En.field_error("message.body", FieldErrorCode::Required), "Please write a message first.");
        assert_eq!(Locale::En.field_error("something_new", FieldErrorCode::Unknown), "Please check this field.");
    }

    #[test]
    fn intl_tag_prefers_the_browser_variant_of_our_language() {
        assert_eq!(Locale::En.intl_tag(Some("en-GB")), "en-GB");
        assert_eq!(Locale::En.intl_tag(Some("lv-LV")), "en");
        assert_eq!(Locale::En.intl_tag(None), "en");
    }
}
