//! The console's language bundles (`crates/console/i18n/*.json`) against its keys: none missing,
//! none unknown, none unused in the code or `index.html`, every plural category each language
//! needs, and the same placeholders as English (a translator who drops `{promise}` would hide
//! what was promised).

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::path::PathBuf;

use porchlight_console::i18n::{Catalog, Key, Locale, Plural, PluralRules};
use porchlight_i18n::check::{
    all_key_problems, all_translation_problems, brace_problems, parse_bundle, placeholders, LANGUAGES,
};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bundle_text(tag: &str) -> String {
    let path = crate_dir().join("i18n").join(format!("{tag}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_language_has_every_key_and_nothing_else() {
    let problems = all_key_problems::<Key>(bundle_text);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn counted_strings_have_each_plural_category_and_the_same_placeholders_as_english() {
    let problems = all_translation_problems(bundle_text);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The code that shows strings: the console's Rust sources and its document template.
fn code() -> (String, String) {
    let mut rust = String::new();
    for entry in std::fs::read_dir(crate_dir().join("src")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            rust.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    let html = std::fs::read_to_string(crate_dir().join("index.html")).unwrap();
    (rust, html)
}

/// Every key is shown somewhere: a string nobody shows is a string translators pay for.
#[test]
fn every_key_is_used() {
    let (rust, html) = code();
    let unused: Vec<&str> = Key::ALL
        .iter()
        .map(|k| k.name())
        .filter(|name| !rust.contains(&format!("Key::{name}")) && !html.contains(&format!("{{{{{name}}}}}")))
        .collect();
    assert!(unused.is_empty(), "keys no code uses: {unused:?}");
}

/// `index.html` names only keys that exist (the server leaves an unknown `{{Name}}` as is).
#[test]
fn the_document_template_names_known_keys() {
    let (_, html) = code();
    let names: BTreeSet<&str> = Key::ALL.iter().map(|k| k.name()).collect();
    let used = placeholders(&html);
    assert!(!used.is_empty(), "index.html has its title and loading line as placeholders");
    for name in &used {
        assert!(names.contains(name.as_str()), "index.html names unknown key {{{{{name}}}}}");
    }
}

#[test]
fn every_bundle_parses_into_a_complete_catalog() {
    for tag in LANGUAGES {
        let catalog =
            Catalog::from_json(tag, &porchlight_i18n::to_wire(&bundle_text(tag), &bundle_text("en")).unwrap()).unwrap();
        for key in Key::ALL {
            assert!(catalog.entry(*key).is_some(), "{tag}: {}", key.name());
        }
        assert_eq!(catalog.rules(), PluralRules::of(tag));
    }
}

#[test]
fn counts_pick_the_languages_plural_form() {
    let load = |tag: &str| {
        Locale::new(
            Catalog::from_json(tag, &porchlight_i18n::to_wire(&bundle_text(tag), &bundle_text("en")).unwrap()).unwrap(),
        )
    };
    let en = load("en");
    assert_eq!(en.count(Key::RatingsTotal, 1, &[("days", "30")]), "1 rating in the last 30 days");
    assert_eq!(en.count(Key::RatingStars, 3, &[]), "3 stars");
    let lv = load("lv");
    assert_eq!(lv.count(Key::RatingStars, 1, &[]), "1 zvaigzne");
    // Latvian "one" covers 21, 31 … (not 11); 10 is "zero", which takes the plural here.
    assert_eq!(lv.count(Key::RatingStars, 21, &[]), "21 zvaigzne");
    assert_eq!(lv.count(Key::RatingStars, 11, &[]), "11 zvaigznes");
    assert_eq!(lv.count(Key::RatingStars, 10, &[]), "10 zvaigznes");
    assert_eq!(lv.count(Key::RatingStars, 3, &[]), "3 zvaigznes");
    let ar = load("ar");
    assert_eq!(ar.count(Key::RatingStars, 2, &[]), "نجمتان");
    assert_eq!(ar.count(Key::RatingStars, 3, &[]), "3 نجوم");
    for tag in LANGUAGES {
        let locale = load(tag);
        let rules = PluralRules::of(tag);
        for n in [0u64, 1, 2, 3, 5, 11, 21, 100] {
            let text = locale.count(Key::RatingsTotal, n, &[("days", "30")]);
            assert!(text.contains("30"), "{tag} RatingsTotal({n}) = {text:?} hides the period");
            if rules.select(n) == Plural::Other {
                assert!(text.contains(&n.to_string()), "{tag} RatingsTotal({n}) = {text:?} hides the number");
            }
        }
    }
}

/// Placeholders are well formed in every string (an editor that mirrors right-to-left text
/// could turn `{n}` into `}n{`, which would show as is).
#[test]
fn placeholders_are_well_formed() {
    let problems: Vec<String> =
        LANGUAGES.iter().flat_map(|tag| brace_problems(tag, &parse_bundle(tag, &bundle_text(tag)))).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
