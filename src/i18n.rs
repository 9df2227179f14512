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
//! A new language: a new `{tag}.json` here, its [`PluralRules`] in [`PluralRules::of`], and its
//! tag in the server's list (`crates/server/src/locales.rs`).

use porchlight_protocol::FieldErrorCode;

macro_rules! keys {
    ($($(#[$doc:meta])* $key:ident,)*) => {
        /// One visible string. Its name in the bundles is the variant's name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Key {
            $($(#[$doc])* $key,)*
        }

        impl Key {
            pub const ALL: &'static [Key] = &[$(Key::$key,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Key::$key => stringify!($key),)*
                }
            }
        }
    };
}

keys! {
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
    WaitClosed,
    /// `{when}`
    WaitNobody,
    WaitCallMe,
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
    /// Shown while the operator is typing.
    ChatOperatorTyping,
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
    /// The satisfaction prompt after a callback is done.
    RateLegendCallback,
    RateBad,
    RateNeutral,
    RateGood,
    RateThanks,
    RateRecovery,
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

/// A CLDR plural category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plural {
    Zero,
    One,
    Two,
    Few,
    Many,
    Other,
}

impl Plural {
    pub fn name(self) -> &'static str {
        match self {
            Plural::Zero => "zero",
            Plural::One => "one",
            Plural::Two => "two",
            Plural::Few => "few",
            Plural::Many => "many",
            Plural::Other => "other",
        }
    }

    fn from_name(name: &str) -> Option<Plural> {
        [Plural::Zero, Plural::One, Plural::Two, Plural::Few, Plural::Many, Plural::Other].into_iter().find(|p| p.name() == name)
    }
}

/// The cardinal plural rules of our languages (CLDR, integers only: we count minutes, hours,
/// days, seconds, stars and characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluralRules {
    /// English, Italian, Esperanto, Greek: one, other.
    OneOther,
    /// Latvian: zero, one, other.
    Latvian,
    /// Thai: other only.
    OtherOnly,
    /// Arabic: zero, one, two, few, many, other.
    Arabic,
}

impl PluralRules {
    pub fn of(primary_language: &str) -> PluralRules {
        match primary_language {
            "lv" => PluralRules::Latvian,
            "th" => PluralRules::OtherOnly,
            "ar" => PluralRules::Arabic,
            _ => PluralRules::OneOther,
        }
    }

    /// The categories a counted string must have in this language.
    pub fn categories(self) -> &'static [Plural] {
        use Plural::*;
        match self {
            PluralRules::OneOther => &[One, Other],
            PluralRules::Latvian => &[Zero, One, Other],
            PluralRules::OtherOnly => &[Other],
            PluralRules::Arabic => &[Zero, One, Two, Few, Many, Other],
        }
    }

    pub fn select(self, n: u64) -> Plural {
        let (n10, n100) = (n % 10, n % 100);
        match self {
            PluralRules::OneOther if n == 1 => Plural::One,
            PluralRules::OneOther | PluralRules::OtherOnly => Plural::Other,
            PluralRules::Latvian if n10 == 0 || (11..=19).contains(&n100) => Plural::Zero,
            PluralRules::Latvian if n10 == 1 && n100 != 11 => Plural::One,
            PluralRules::Latvian => Plural::Other,
            PluralRules::Arabic => match (n, n100) {
                (0, _) => Plural::Zero,
                (1, _) => Plural::One,
                (2, _) => Plural::Two,
                (_, 3..=10) => Plural::Few,
                (_, 11..=99) => Plural::Many,
                _ => Plural::Other,
            },
        }
    }
}

/// One key's text: a string, or one string per plural category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Text(String),
    Counted(Vec<(Plural, String)>),
}

impl Entry {
    /// The text for count `n`'s category (`Other` for a plain lookup), falling back to `other`.
    fn get(&self, category: Plural) -> &str {
        match self {
            Entry::Text(text) => text,
            Entry::Counted(forms) => forms
                .iter()
                .find(|(c, _)| *c == category)
                .or_else(|| forms.iter().find(|(c, _)| *c == Plural::Other))
                .map_or("", |(_, t)| t.as_str()),
        }
    }
}

/// A parsed bundle: one language's strings.
#[derive(Debug, Clone)]
pub struct Catalog {
    tag: String,
    rules: PluralRules,
    /// Indexed by the key's position in [`Key::ALL`] (its discriminant): no hashing code in
    /// the WASM.
    entries: Vec<Option<Entry>>,
}

impl Catalog {
    /// From a bundle's raw entries (key name → text or category → text). Unknown names and
    /// categories are ignored here; the bundle test reports them.
    pub fn new<'a>(tag: &str, raw: impl IntoIterator<Item = (&'a str, Entry)>) -> Catalog {
        let mut entries = vec![None; Key::ALL.len()];
        for (name, entry) in raw {
            if let Some(key) = Key::ALL.iter().find(|k| k.name() == name) {
                entries[*key as usize] = Some(entry);
            }
        }
        let tag = if tag.is_empty() { "en".to_owned() } else { tag.to_owned() };
        Catalog { rules: PluralRules::of(primary(&tag)), tag, entries }
    }

    /// Parses a bundle's JSON text (native: serde_json; the browser uses `JSON.parse`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_json(tag: &str, json: &str) -> Result<Catalog, String> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let object = value.as_object().ok_or("a bundle is a JSON object")?;
        let mut raw = Vec::new();
        for (name, v) in object {
            let entry = match v {
                serde_json::Value::String(s) => Entry::Text(s.clone()),
                serde_json::Value::Object(forms) => Entry::Counted(
                    forms
                        .iter()
                        .map(|(c, t)| {
                            let category = Plural::from_name(c).ok_or_else(|| format!("{name}: unknown plural category {c}"))?;
                            Ok((category, t.as_str().ok_or_else(|| format!("{name}.{c} is not a string"))?.to_owned()))
                        })
                        .collect::<Result<_, String>>()?,
                ),
                _ => return Err(format!("{name} is neither a string nor an object")),
            };
            raw.push((name.as_str(), entry));
        }
        Ok(Catalog::new(tag, raw))
    }

    /// Parses a bundle's JSON text with the browser's `JSON.parse` (no JSON code in the WASM).
    #[cfg(target_arch = "wasm32")]
    pub fn from_json(tag: &str, json: &str) -> Result<Catalog, String> {
        use wasm_bindgen::JsCast;
        let value = js_sys::JSON::parse(json).map_err(|_| "bad JSON".to_owned())?;
        let object: js_sys::Object = value.dyn_into().map_err(|_| "a bundle is a JSON object".to_owned())?;
        let mut raw = Vec::new();
        for pair in js_sys::Object::entries(&object).iter() {
            let pair: js_sys::Array = pair.unchecked_into();
            let Some(name) = pair.get(0).as_string() else { continue };
            let v = pair.get(1);
            let entry = if let Some(text) = v.as_string() {
                Entry::Text(text)
            } else if v.is_object() {
                let forms = js_sys::Object::entries(v.unchecked_ref())
                    .iter()
                    .filter_map(|form| {
                        let form: js_sys::Array = form.unchecked_into();
                        Some((Plural::from_name(&form.get(0).as_string()?)?, form.get(1).as_string()?))
                    })
                    .collect();
                Entry::Counted(forms)
            } else {
                continue;
            };
            raw.push((name, entry));
        }
        Ok(Catalog::new(tag, raw.iter().map(|(n, e)| (n.as_str(), e.clone()))))
    }

    pub fn entry(&self, key: Key) -> Option<&Entry> {
        self.entries.get(key as usize)?.as_ref()
    }

    pub fn rules(&self) -> PluralRules {
        self.rules
    }
}

fn primary(tag: &str) -> &str {
    tag.split(['-', '_']).next().unwrap_or("")
}

/// The visitor's language: a handle on its [`Catalog`], cheap to copy into every component.
#[derive(Debug, Clone, Copy)]
pub struct Locale(&'static Catalog);

impl PartialEq for Locale {
    fn eq(&self, other: &Locale) -> bool {
        self.0.tag == other.0.tag
    }
}
impl Eq for Locale {}

impl Default for Locale {
    /// English, from the bundle the server inlined when that is English, else with no strings
    /// (only a frame served without a bundle, which the server never does).
    fn default() -> Locale {
        Locale::new(Catalog::new("en", []))
    }
}

/// The English bundle, for tests and tools (not referenced by the shipped app, so not in its
/// WASM).
pub const EN_JSON: &str = include_str!("i18n/en.json");

impl Locale {
    /// Keeps `catalog` for the life of the frame (one per frame, so leaking is the point).
    pub fn new(catalog: Catalog) -> Locale {
        Locale(Box::leak(Box::new(catalog)))
    }

    /// English from [`EN_JSON`], parsed once per thread.
    pub fn en() -> Locale {
        thread_local! {
            static EN: Locale = Locale::new(Catalog::from_json("en", EN_JSON).expect("en.json parses"));
        }
        EN.with(|l| *l)
    }

    /// The bundle the server inlined in the frame document, in the language it set on `<html>`.
    pub fn from_document() -> Locale {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return Locale::default() };
        let tag = document.document_element().and_then(|e| e.get_attribute("lang")).unwrap_or_default();
        let json = document.get_element_by_id("pl-strings").and_then(|e| e.text_content()).unwrap_or_default();
        match Catalog::from_json(&tag, &json) {
            Ok(catalog) => Locale::new(catalog),
            Err(_) => Locale::default(),
        }
    }

    /// BCP 47 tag for `lang` attributes and `Intl`.
    pub fn tag(self) -> &'static str {
        &self.0.tag
    }

    /// `"rtl"` for right-to-left scripts, else `"ltr"`.
    pub fn dir(self) -> &'static str {
        if matches!(primary(self.tag()), "ar" | "he" | "fa" | "ur") {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// A key's text (for a counted key, its `other` form). A missing key shows its name, which
    /// the bundle test prevents.
    pub fn text(self, key: Key) -> &'static str {
        match self.0.entry(key) {
            Some(entry) => entry.get(Plural::Other),
            None => key.name(),
        }
    }

    /// [`Locale::text`] with `{name}` placeholders replaced.
    pub fn format(self, key: Key, args: &[(&str, &str)]) -> String {
        fill(self.text(key), args)
    }

    /// A counted key's form for `n`, with `{n}` as the visitor's locale writes numbers and the
    /// other placeholders from `args`.
    pub fn count(self, key: Key, n: u64, args: &[(&str, &str)]) -> String {
        let template = match self.0.entry(key) {
            Some(entry) => entry.get(self.0.rules.select(n)),
            None => key.name(),
        };
        let number = self.number(n);
        let mut all = vec![("n", number.as_str())];
        all.extend_from_slice(args);
        fill(template, &all)
    }

    /// `n` in the visitor's digits (`Intl.NumberFormat`; Arabic gets Arabic-Indic digits).
    pub fn number(self, n: u64) -> String {
        #[cfg(target_arch = "wasm32")]
        {
            let locales = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(self.tag()));
            let format = js_sys::Intl::NumberFormat::new(&locales, &js_sys::Object::new()).format();
            if let Some(s) = format.call1(&wasm_bindgen::JsValue::UNDEFINED, &(n as f64).into()).ok().and_then(|s| s.as_string()) {
                return s;
            }
        }
        n.to_string()
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
            Some(lang) if primary(lang).eq_ignore_ascii_case(primary(self.tag())) => lang.to_owned(),
            _ => self.tag().to_owned(),
        }
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

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
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
    fn plural_rules_follow_cldr() {
        use Plural::*;
        let pick = |rules: PluralRules, ns: &[u64]| ns.iter().map(|n| rules.select(*n)).collect::<Vec<_>>();
        assert_eq!(pick(PluralRules::OneOther, &[0, 1, 2, 21]), [Other, One, Other, Other]);
        // Latvian: zero for 0, 10–20, 30…; one for 1, 21, 31 but not 11.
        assert_eq!(pick(PluralRules::Latvian, &[0, 1, 2, 10, 11, 12, 19, 20, 21, 22, 101, 111]), [
            Zero, One, Other, Zero, Zero, Zero, Zero, Zero, One, Other, One, Zero
        ]);
        assert_eq!(pick(PluralRules::OtherOnly, &[0, 1, 2]), [Other, Other, Other]);
        assert_eq!(pick(PluralRules::Arabic, &[0, 1, 2, 3, 10, 11, 99, 100, 102, 103, 111]), [
            Zero, One, Two, Few, Few, Many, Many, Other, Other, Few, Many
        ]);
    }

    #[test]
    fn a_missing_key_shows_its_name_and_a_missing_form_falls_back_to_other() {
        let partial = Locale::new(Catalog::new("lv", [("InDays", Entry::Counted(vec![(Plural::Other, "pēc {n} dienām".into())]))]));
        assert_eq!(partial.count(Key::InDays, 1, &[]), "pēc 1 dienām");
        assert_eq!(partial.text(Key::Close), "Close");
        assert_eq!(partial.dir(), "ltr");
        assert_eq!(Locale::new(Catalog::new("ar", [])).dir(), "rtl");
    }
}
