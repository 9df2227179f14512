//! The string machinery the visitor widget and the operator console share. Each app lists its
//! own keys with [`keys!`] and ships its own bundles (`{tag}.json`, one per language); this
//! crate holds what does not depend on which strings there are:
//!
//! - [`keys!`]: the app's `Key` enum, whose variant names are the bundles' key names;
//! - [`Plural`] and [`PluralRules`]: CLDR cardinal plural rules of our seven languages;
//! - [`Catalog`]: one parsed bundle (`JSON.parse` in the browser, serde_json natively);
//! - [`Locale`]: a `Copy` handle on the catalog for the life of the page, with lookup,
//!   `{name}` placeholders, plural selection and `Intl` numbers.
//!
//! The strings are not compiled into the WASM: the server inlines the user's bundle into the
//! app's document as `<script type="application/json" id="pl-strings">` (a data block, which a
//! strict CSP allows) with `<html lang dir>` set to the language it picked, and
//! [`Locale::from_document`] reads it. So each app's WASM carries only the plural rules and this
//! lookup, whatever the number of languages.
//!
//! A bundle maps each key's name to a string, or, for counted keys, to an object of CLDR plural
//! categories (`"zero"`, `"one"`, `"two"`, `"few"`, `"many"`, `"other"`). That is the source form
//! translators edit. On the wire (what the server inlines) a bundle is a JSON array of the same
//! values in key order ([`to_wire`]), so neither the document nor the WASM carries key names:
//! English's key order is the apps' `Key` order, which the bundle tests check
//! ([`check::order_problems`]). Measured on the widget: −0.5 KB brotli of strings, and the names
//! and their lookup out of the WASM.
//!
//! Everything here is generic over the app's key type, so each app gets exactly the code it
//! uses (monomorphised into its own WASM), as if it were written in the app.

use std::marker::PhantomData;

/// The id of the data block the server inlines a bundle into.
pub const STRINGS_ID: &str = "pl-strings";

/// An app's list of keys, implemented by [`keys!`].
pub trait Keys: Copy + 'static {
    /// Every key, in declaration order (a key's position is its index).
    const ALL: &'static [Self];
    /// The key's name in the bundles.
    fn name(self) -> &'static str;
    /// The key's position in [`Keys::ALL`].
    fn index(self) -> usize;
}

/// Declares an app's `Key` enum: one variant per visible string, named as in the bundles.
/// Doc comments on the variants say what placeholders the string has. The enum also gets
/// inherent `Key::ALL` and `Key::name` (no trait import needed at the call sites).
#[macro_export]
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

        impl $crate::Keys for Key {
            const ALL: &'static [Key] = Key::ALL;

            fn name(self) -> &'static str {
                Key::name(self)
            }

            fn index(self) -> usize {
                self as usize
            }
        }
    };
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

    pub fn from_name(name: &str) -> Option<Plural> {
        [Plural::Zero, Plural::One, Plural::Two, Plural::Few, Plural::Many, Plural::Other]
            .into_iter()
            .find(|p| p.name() == name)
    }
}

/// The cardinal plural rules of our languages (CLDR, integers only: we count minutes, hours,
/// days, seconds, stars, characters, ratings).
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
    /// The text for a category (`Other` for a plain lookup), falling back to `other`.
    // `#[inline]` here and on `fill`: codegened in each app's crate, as when they were the
    // widget's own functions (measured: without it the widget's WASM grows by ~120 bytes).
    #[inline]
    pub fn get(&self, category: Plural) -> &str {
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

/// A parsed bundle: one language's strings for the key list `K`.
#[derive(Debug, Clone)]
pub struct Catalog<K> {
    tag: String,
    rules: PluralRules,
    /// Indexed by the key's position in [`Keys::ALL`] (its discriminant): no hashing code in
    /// the WASM.
    entries: Vec<Option<Entry>>,
    keys: PhantomData<K>,
}

impl<K: Keys> Catalog<K> {
    /// From entries in key order (a key's entry at its position in [`Keys::ALL`]); missing
    /// ones (`None`, or past the end) show as empty text, extra ones are ignored.
    pub fn new(tag: &str, mut entries: Vec<Option<Entry>>) -> Catalog<K> {
        entries.resize(K::ALL.len(), None);
        let tag = if tag.is_empty() { "en".to_owned() } else { tag.to_owned() };
        Catalog { rules: PluralRules::of(primary(&tag)), tag, entries, keys: PhantomData }
    }

    /// From entries by key name, as in a source bundle (tests and tools). Unknown names are
    /// ignored here; the bundle tests report them.
    pub fn from_names<N: AsRef<str>>(tag: &str, raw: impl IntoIterator<Item = (N, Entry)>) -> Catalog<K> {
        let mut entries = vec![None; K::ALL.len()];
        for (name, entry) in raw {
            if let Some(key) = K::ALL.iter().find(|k| k.name() == name.as_ref()) {
                entries[key.index()] = Some(entry);
            }
        }
        Catalog::new(tag, entries)
    }

    /// Parses a bundle on the wire: a JSON array in key order (native: serde_json).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_json(tag: &str, json: &str) -> Result<Catalog<K>, String> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let values = value.as_array().ok_or("a bundle on the wire is a JSON array")?;
        let entries =
            values.iter().enumerate().map(|(at, v)| entry_from_value(&at.to_string(), v)).collect::<Result<_, _>>()?;
        Ok(Catalog::new(tag, entries))
    }

    /// Parses a bundle in its source form, an object keyed by name (native: serde_json).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_bundle(tag: &str, json: &str) -> Result<Catalog<K>, String> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let object = value.as_object().ok_or("a bundle is a JSON object")?;
        let mut raw = Vec::new();
        for (name, v) in object {
            raw.extend(entry_from_value(name, v)?.map(|entry| (name.as_str(), entry)));
        }
        Ok(Catalog::from_names(tag, raw))
    }

    /// Parses a bundle on the wire with the browser's `JSON.parse` (no JSON code in the WASM);
    /// values of the wrong type are skipped.
    #[cfg(target_arch = "wasm32")]
    pub fn from_json(tag: &str, json: &str) -> Result<Catalog<K>, String> {
        use wasm_bindgen::JsCast;
        let value = js_sys::JSON::parse(json).map_err(|_| "bad JSON".to_owned())?;
        let values: js_sys::Array = value.dyn_into().map_err(|_| "a bundle on the wire is a JSON array".to_owned())?;
        Ok(Catalog::new(tag, values.iter().map(entry_from_js).collect()))
    }

    /// Parses a bundle in its source form with `JSON.parse` (the browser tests' English).
    #[cfg(target_arch = "wasm32")]
    pub fn from_bundle(tag: &str, json: &str) -> Result<Catalog<K>, String> {
        use wasm_bindgen::JsCast;
        let value = js_sys::JSON::parse(json).map_err(|_| "bad JSON".to_owned())?;
        let object: js_sys::Object = value.dyn_into().map_err(|_| "a bundle is a JSON object".to_owned())?;
        let pairs = js_sys::Object::entries(&object);
        let raw = pairs.iter().filter_map(|pair| {
            let pair: js_sys::Array = pair.unchecked_into();
            Some((pair.get(0).as_string()?, entry_from_js(pair.get(1))?))
        });
        Ok(Catalog::from_names(tag, raw))
    }

    pub fn entry(&self, key: K) -> Option<&Entry> {
        self.entries.get(key.index())?.as_ref()
    }

    pub fn rules(&self) -> PluralRules {
        self.rules
    }

    /// The BCP 47 tag the bundle was loaded as.
    pub fn tag(&self) -> &str {
        &self.tag
    }
}

/// One value of a bundle: a string, an object of plural forms, or `null` (missing).
#[cfg(not(target_arch = "wasm32"))]
fn entry_from_value(name: &str, value: &serde_json::Value) -> Result<Option<Entry>, String> {
    Ok(Some(match value {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::String(s) => Entry::Text(s.clone()),
        serde_json::Value::Object(forms) => Entry::Counted(
            forms
                .iter()
                .map(|(c, t)| {
                    let category =
                        Plural::from_name(c).ok_or_else(|| format!("{name}: unknown plural category {c}"))?;
                    Ok((category, t.as_str().ok_or_else(|| format!("{name}.{c} is not a string"))?.to_owned()))
                })
                .collect::<Result<_, String>>()?,
        ),
        _ => return Err(format!("{name} is neither a string nor an object")),
    }))
}

/// [`entry_from_value`] on a `JSON.parse` result; anything else is missing.
#[cfg(target_arch = "wasm32")]
fn entry_from_js(value: wasm_bindgen::JsValue) -> Option<Entry> {
    use wasm_bindgen::JsCast;
    if let Some(text) = value.as_string() {
        return Some(Entry::Text(text));
    }
    if !value.is_object() {
        return None;
    }
    let forms = js_sys::Object::entries(value.unchecked_ref())
        .iter()
        .filter_map(|form| {
            let form: js_sys::Array = form.unchecked_into();
            Some((Plural::from_name(&form.get(0).as_string()?)?, form.get(1).as_string()?))
        })
        .collect();
    Some(Entry::Counted(forms))
}

/// A source bundle on the wire: its values in the order of `english`'s keys (the apps' `Key`
/// order), `null` where it lacks one. Both are source bundles of one app.
#[cfg(not(target_arch = "wasm32"))]
pub fn to_wire(bundle: &str, english: &str) -> Result<String, String> {
    let values: serde_json::Map<String, serde_json::Value> = serde_json::from_str(bundle).map_err(|e| e.to_string())?;
    let wire: Vec<&serde_json::Value> =
        key_order(english)?.iter().map(|name| values.get(name).unwrap_or(&serde_json::Value::Null)).collect();
    serde_json::to_string(&wire).map_err(|e| e.to_string())
}

/// A JSON object's key names in the order written (serde_json's own map sorts them).
#[cfg(not(target_arch = "wasm32"))]
pub fn key_order(json: &str) -> Result<Vec<String>, String> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

    struct Names;
    impl<'de> Visitor<'de> for Names {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut names = Vec::new();
            while let Some(name) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                names.push(name);
            }
            Ok(names)
        }
    }
    serde_json::Deserializer::from_str(json).deserialize_map(Names).map_err(|e| e.to_string())
}

/// A tag's primary language subtag (`lv` of `lv-LV`).
pub fn primary(tag: &str) -> &str {
    tag.split(['-', '_']).next().unwrap_or("")
}

/// The user's language: a handle on its [`Catalog`], cheap to copy into every component.
pub struct Locale<K: 'static>(&'static Catalog<K>);

// By hand: derives would want `K: Clone` etc., but only the reference is copied.
impl<K> Clone for Locale<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Locale<K> {}

impl<K> std::fmt::Debug for Locale<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Locale").field(&self.0.tag).finish()
    }
}

impl<K> PartialEq for Locale<K> {
    fn eq(&self, other: &Locale<K>) -> bool {
        self.0.tag == other.0.tag
    }
}
impl<K> Eq for Locale<K> {}

impl<K: Keys> Default for Locale<K> {
    /// English with no strings (only a document served without a bundle, which the server never
    /// does): every key shows nothing.
    fn default() -> Locale<K> {
        Locale::new(Catalog::new("en", Vec::new()))
    }
}

impl<K: Keys> Locale<K> {
    /// Keeps `catalog` for the life of the page (one per page, so leaking is the point).
    pub fn new(catalog: Catalog<K>) -> Locale<K> {
        Locale(Box::leak(Box::new(catalog)))
    }

    /// The bundle the server inlined in the document, in the language it set on `<html>`.
    pub fn from_document() -> Locale<K> {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return Locale::default() };
        let tag = document.document_element().and_then(|e| e.get_attribute("lang")).unwrap_or_default();
        let json = document.get_element_by_id(STRINGS_ID).and_then(|e| e.text_content()).unwrap_or_default();
        match Catalog::from_json(&tag, &json) {
            Ok(catalog) => Locale::new(catalog),
            Err(_) => Locale::default(),
        }
    }

    pub fn catalog(self) -> &'static Catalog<K> {
        self.0
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

    /// A key's text (for a counted key, its `other` form). A missing key shows nothing (the
    /// bundle tests prevent it; showing its name would put every name in the WASM).
    pub fn text(self, key: K) -> &'static str {
        self.0.entry(key).map_or("", |entry| entry.get(Plural::Other))
    }

    /// [`Locale::text`] with `{name}` placeholders replaced.
    pub fn format(self, key: K, args: &[(&str, &str)]) -> String {
        fill(self.text(key), args)
    }

    /// A counted key's form for `n`, with `{n}` as the user's locale writes numbers and the
    /// other placeholders from `args`.
    pub fn count(self, key: K, n: u64, args: &[(&str, &str)]) -> String {
        let template = self.0.entry(key).map_or("", |entry| entry.get(self.0.rules.select(n)));
        let number = self.number(n);
        let mut all = vec![("n", number.as_str())];
        all.extend_from_slice(args);
        fill(template, &all)
    }

    /// `n` in the user's digits (`Intl.NumberFormat`; Arabic gets Arabic-Indic digits).
    pub fn number(self, n: u64) -> String {
        #[cfg(target_arch = "wasm32")]
        {
            let locales = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(self.tag()));
            let format = js_sys::Intl::NumberFormat::new(&locales, &js_sys::Object::new()).format();
            if let Some(s) =
                format.call1(&wasm_bindgen::JsValue::UNDEFINED, &(n as f64).into()).ok().and_then(|s| s.as_string())
            {
                return s;
            }
        }
        n.to_string()
    }

    /// The locale `Intl` should format dates with: the browser's own language when it is a
    /// variant of ours (an `en-GB` user gets a 24-hour clock), else ours.
    pub fn intl_tag(self, browser_language: Option<&str>) -> String {
        match browser_language {
            Some(lang) if primary(lang).eq_ignore_ascii_case(primary(self.tag())) => lang.to_owned(),
            _ => self.tag().to_owned(),
        }
    }
}

/// `template` with each `{name}` replaced by its value.
#[inline]
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

// After the code the WASM carries: declared earlier, it would shift the line numbers in the
// WASM's panic locations, and with them its compressed size.
/// Bundle checks for the apps' tests.
#[cfg(not(target_arch = "wasm32"))]
pub mod check;

#[cfg(test)]
mod tests {
    use super::*;

    keys! {
        Hello,
        /// `{n}` (counted)
        Apples,
        /// `{who}`
        Greeting,
    }

    const BUNDLE: &str = r#"{"Hello": "Hi", "Apples": {"one": "{n} apple", "other": "{n} apples"}, "Greeting": "Hi, {who}!", "Pears": "?"}"#;

    #[test]
    fn keys_have_names_and_indices() {
        assert_eq!(Key::ALL, &[Key::Hello, Key::Apples, Key::Greeting]);
        assert_eq!(Key::Apples.name(), "Apples");
        assert_eq!(<Key as Keys>::index(Key::Greeting), 2);
    }

    #[test]
    fn lookup_placeholders_and_plurals() {
        let en = Locale::new(Catalog::<Key>::from_bundle("en", BUNDLE).unwrap());
        assert_eq!(en.text(Key::Hello), "Hi");
        assert_eq!(en.format(Key::Greeting, &[("who", "Olga")]), "Hi, Olga!");
        assert_eq!(en.count(Key::Apples, 1, &[]), "1 apple");
        assert_eq!(en.count(Key::Apples, 2, &[]), "2 apples");
        assert_eq!(en.text(Key::Apples), "{n} apples", "a plain lookup of a counted key is its other form");
        assert_eq!(en.dir(), "ltr");
        assert_eq!(en.intl_tag(Some("en-GB")), "en-GB");
        assert_eq!(en.intl_tag(Some("lv")), "en");
    }

    #[test]
    fn the_wire_form_is_the_values_in_english_key_order() {
        const ENGLISH: &str =
            r#"{"Hello": "Hi", "Apples": {"one": "{n} apple", "other": "{n} apples"}, "Greeting": "Hi, {who}!"}"#;
        const LATVIAN: &str = r#"{"Greeting": "Sveiki, {who}!", "Hello": "Sveiki"}"#;
        assert_eq!(key_order(ENGLISH).unwrap(), ["Hello", "Apples", "Greeting"], "the order written, not sorted");
        let wire = to_wire(LATVIAN, ENGLISH).unwrap();
        assert_eq!(wire, r#"["Sveiki",null,"Sveiki, {who}!"]"#);
        let lv = Locale::new(Catalog::<Key>::from_json("lv", &wire).unwrap());
        assert_eq!(lv.text(Key::Hello), "Sveiki");
        assert_eq!(lv.format(Key::Greeting, &[("who", "Olga")]), "Sveiki, Olga!");
        assert_eq!(lv.count(Key::Apples, 3, &[]), "", "missing on the wire: nothing shown");
        let en = Locale::new(Catalog::<Key>::from_json("en", &to_wire(ENGLISH, ENGLISH).unwrap()).unwrap());
        assert_eq!(en.count(Key::Apples, 1, &[]), "1 apple");
        assert!(to_wire(LATVIAN, "[]").is_err(), "the reference must be an object");
    }

    #[test]
    fn missing_keys_show_nothing_and_bad_bundles_are_errors() {
        let empty: Locale<Key> = Locale::default();
        assert_eq!(empty.text(Key::Hello), "");
        assert_eq!(empty.tag(), "en");
        assert!(Catalog::<Key>::from_bundle("en", "[1]").is_err());
        assert!(Catalog::<Key>::from_bundle("en", r#"{"Apples": {"several": "x"}}"#).is_err());
        assert!(Catalog::<Key>::from_bundle("en", r#"{"Hello": 5}"#).is_err());
        assert!(Catalog::<Key>::from_json("en", r#"{"Hello": "Hi"}"#).is_err(), "the wire form is an array");
        assert!(Catalog::<Key>::from_json("en", "[5]").is_err());
        let ar = Locale::new(Catalog::<Key>::new("ar-EG", Vec::new()));
        assert_eq!(ar.dir(), "rtl");
        assert_eq!(ar.catalog().rules(), PluralRules::Arabic);
    }

    #[test]
    fn plural_rules_follow_cldr() {
        use Plural::*;
        let pick = |rules: PluralRules, ns: &[u64]| ns.iter().map(|n| rules.select(*n)).collect::<Vec<_>>();
        assert_eq!(pick(PluralRules::OneOther, &[0, 1, 2, 21]), [Other, One, Other, Other]);
        // Latvian: zero for 0, 10–20, 30…; one for 1, 21, 31 but not 11.
        assert_eq!(
            pick(PluralRules::Latvian, &[0, 1, 2, 10, 11, 12, 19, 20, 21, 22, 101, 111]),
            [Zero, One, Other, Zero, Zero, Zero, Zero, Zero, One, Other, One, Zero]
        );
        assert_eq!(pick(PluralRules::OtherOnly, &[0, 1, 2]), [Other, Other, Other]);
        assert_eq!(
            pick(PluralRules::Arabic, &[0, 1, 2, 3, 10, 11, 99, 100, 102, 103, 111]),
            [Zero, One, Two, Few, Few, Many, Many, Other, Other, Few, Many]
        );
    }
}
