//! The visitor's clock and time formatting (browser only: `Date` and `Intl`).

use wasm_bindgen::JsValue;

use crate::i18n::{Key, Locale};
use crate::wait::Day;

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Minutes ahead of UTC in the visitor's zone, now.
pub fn utc_offset_min() -> i64 {
    -(js_sys::Date::new_0().get_timezone_offset() as i64)
}

/// Minutes ahead of UTC in the visitor's zone at `ms`.
fn offset_at(ms: i64) -> i64 {
    -(date(ms).get_timezone_offset() as i64)
}

fn date(ms: i64) -> js_sys::Date {
    js_sys::Date::new(&JsValue::from_f64(ms as f64))
}

/// An instant in the visitor's zone and language, worded by [`Day`]: "14:30 today",
/// "Monday at 09:00", "Monday, 6 April at 09:00".
pub fn format_when(ms: i64, locale: Locale) -> String {
    let now = now_ms();
    let time = intl(ms, locale, &[("timeStyle", "short")]);
    match Day::of(now, offset_at(now), ms, offset_at(ms)) {
        Day::Today => locale.format(Key::WhenToday, &[("time", &time)]),
        day => {
            let mut parts = vec![("weekday", "long")];
            if day == Day::Other {
                parts.extend([("day", "numeric"), ("month", "long")]);
            }
            locale.format(Key::WhenDay, &[("day", &intl(ms, locale, &parts)), ("time", &time)])
        }
    }
}

/// A time of day in the visitor's zone and language ("14:30"), for a message.
pub fn format_time(ms: i64, locale: Locale) -> String {
    intl(ms, locale, &[("timeStyle", "short")])
}

/// The visitor's IANA time zone (`Europe/Riga`), as the browser reports it.
pub fn time_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into()).ok()?.as_string()
}

/// `Intl.DateTimeFormat` with `options`, in the visitor's zone (no tz data in the WASM).
fn intl(ms: i64, locale: Locale, options: &[(&str, &str)]) -> String {
    let browser_language = web_sys::window().and_then(|w| w.navigator().language());
    let tag = locale.intl_tag(browser_language.as_deref());
    let object = js_sys::Object::new();
    for (k, v) in options {
        let _ = js_sys::Reflect::set(&object, &(*k).into(), &(*v).into());
    }
    let locales = js_sys::Array::of1(&JsValue::from_str(&tag));
    js_sys::Intl::DateTimeFormat::new(&locales, &object)
        .format()
        .call1(&JsValue::UNDEFINED, &date(ms))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}
