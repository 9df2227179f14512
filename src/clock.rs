//! The visitor's clock and time formatting (browser only: `Date` and `Intl`).

use wasm_bindgen::JsValue;

use crate::i18n::Locale;

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Minutes ahead of UTC in the visitor's zone, now.
pub fn utc_offset_min() -> i64 {
    -(js_sys::Date::new_0().get_timezone_offset() as i64)
}

/// A time of day in the visitor's zone and language ("3:45 PM", "15:45"), with the weekday
/// when it is not today ("Tuesday 09:00").
pub fn format_time(ms: i64, locale: Locale) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    let today = js_sys::Date::new_0().to_date_string() == date.to_date_string();
    let browser_language = web_sys::window().and_then(|w| w.navigator().language());
    let tag = locale.intl_tag(browser_language.as_deref());

    let options = js_sys::Object::new();
    let set = |k: &str, v: &str| js_sys::Reflect::set(&options, &k.into(), &v.into()).is_ok();
    let mut ok = set("hour", "numeric") && set("minute", "2-digit");
    if !today {
        ok &= set("weekday", "long");
    }
    let locales = js_sys::Array::of1(&JsValue::from_str(&tag));
    let formatted = ok
        .then(|| js_sys::Intl::DateTimeFormat::new(&locales, &options))
        .and_then(|f| f.format().call1(&JsValue::UNDEFINED, &date).ok())
        .and_then(|s| s.as_string());
    formatted.unwrap_or_else(|| format!("{:02}:{:02}", date.get_hours(), date.get_minutes()))
}
