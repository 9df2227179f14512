//! The language bundles (`src/i18n/*.json`) against the widget's keys: none missing, none
//! unknown, none unused in the code, every plural category each language needs, and the same
//! placeholders as English (a translator who drops `{when}` would hide the promised time).

#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

use porchlight_i18n::check::{all_key_problems, all_translation_problems, LANGUAGES};
use porchlight_widget::i18n::{Catalog, Key, Locale, Plural, PluralRules};

fn bundle_text(tag: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/i18n").join(format!("{tag}.json"));
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

/// Every key is used somewhere in the widget's code: a string nobody shows is a string
/// translators pay for.
#[test]
fn every_key_is_used() {
    let mut code = String::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            code.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    let unused: Vec<&str> =
        Key::ALL.iter().map(|k| k.name()).filter(|name| !code.contains(&format!("Key::{name}"))).collect();
    assert!(unused.is_empty(), "keys no code uses: {unused:?}");
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
    assert_eq!(en.count(Key::InMinutes, 1, &[]), "in 1 minute");
    assert_eq!(en.count(Key::InMinutes, 5, &[]), "in 5 minutes");
    // Each language's forms differ where its rules say they do.
    for tag in LANGUAGES {
        let locale = load(tag);
        let rules = PluralRules::of(tag);
        for n in [0u64, 1, 2, 3, 5, 11, 21, 100] {
            let form = rules.select(n);
            let text = locale.count(Key::InDays, n, &[]);
            if form == Plural::Other {
                assert!(text.contains(&n.to_string()), "{tag} InDays({n}) = {text:?} hides the number");
            }
        }
    }
}
