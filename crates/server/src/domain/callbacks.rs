//! Callback rules: phone numbers normalised to E.164 (the `phonenumber` crate, Google's
//! libphonenumber metadata), bookable slots within business hours, and the check that a
//! preferred time is one of them.

use phonenumber::country;
use porchlight_protocol::{CallbackSlot, FieldErrorCode};

use super::hours::BusinessHours;

/// Slot length when a site does not configure one.
pub const DEFAULT_SLOT_MINUTES: u32 = 30;
/// How many business days ahead slots are offered.
pub const SLOT_BUSINESS_DAYS: usize = 5;
/// A slot must start at least this long from now: nobody can plan a call in two minutes.
pub const SLOT_LEAD_MS: i64 = 15 * 60_000;

/// Why a phone number was refused, as the field error the visitor sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneError {
    pub field: &'static str,
    pub code: FieldErrorCode,
    pub message: &'static str,
}

fn phone_error(code: FieldErrorCode, message: &'static str) -> PhoneError {
    PhoneError { field: "phone", code, message }
}

/// A parsed ISO 3166 alpha-2 region, e.g. `"LV"`.
pub fn parse_country(raw: &str) -> Option<country::Id> {
    let upper = raw.trim().to_ascii_uppercase();
    if upper.len() != 2 {
        return None;
    }
    upper.parse::<country::Id>().ok()
}

/// `raw` as typed (international `+…`, `00…`, or national with `region`) → E.164 (`+` and
/// digits). Refuses what cannot be a real number (invalid), and numbers nobody should be asked
/// to call back: premium-rate and shared-cost lines, pagers (unsupported).
/// An E.164 number grouped the way its country writes it internationally (`+371 20 000 000`), for
/// an operator to read; the E.164 form itself when it does not parse.
pub fn display_phone(e164: &str) -> String {
    phonenumber::parse(None, e164)
        .map(|n| n.format().mode(phonenumber::Mode::International).to_string())
        .unwrap_or_else(|_| e164.to_owned())
}

pub fn normalise_phone(raw: &str, region: Option<country::Id>) -> Result<String, PhoneError> {
    // The protocol's check, which also drops the separators: `(+371) 26123456`,
    // `00371 2612 3456`, `+39.06.1234.5678`.
    let compact =
        porchlight_protocol::callback::read_phone(raw).map_err(|(code, message)| phone_error(code, message))?;
    // "00" is the international prefix (no national number starts with it: trunk prefixes are
    // one 0, and area codes never start with 0).
    let compact = match compact.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => compact,
    };
    if !compact.starts_with('+') && region.is_none() {
        return Err(phone_error(FieldErrorCode::NoCountryCode, "phone needs the country code, e.g. +371 2000 0000."));
    }
    let number = phonenumber::parse(region, &compact).map_err(|e| match e {
        phonenumber::ParseError::TooShortNsn | phonenumber::ParseError::TooShortAfterIdd => {
            phone_error(FieldErrorCode::TooShort, "phone has too few digits.")
        }
        phonenumber::ParseError::TooLong => phone_error(FieldErrorCode::TooLong, "phone has too many digits."),
        phonenumber::ParseError::InvalidCountryCode => {
            phone_error(FieldErrorCode::Unsupported, "phone has a country code we cannot call.")
        }
        _ => phone_error(FieldErrorCode::NotInUse, "phone is not a number in use in its country."),
    })?;
    if !phonenumber::is_valid(&number) {
        return Err(phone_error(FieldErrorCode::NotInUse, "phone is not a number in use in its country."));
    }
    let kind = number.number_type(&phonenumber::metadata::DATABASE);
    if matches!(kind, phonenumber::Type::PremiumRate | phonenumber::Type::SharedCost | phonenumber::Type::Pager) {
        return Err(phone_error(FieldErrorCode::Unsupported, "phone is a premium-rate or shared-cost number."));
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// Slots of `slot_minutes` within openings, over the next [`SLOT_BUSINESS_DAYS`] business days
/// (dates with an opening; closures are skipped by the schedule). Slots step in real time from
/// each opening's start, so 09:00, 09:30, … stay on the local half hours across a DST change,
/// and a slot never runs past its opening's end.
pub fn slots(hours: &BusinessHours, now_ms: i64, slot_minutes: u32) -> Vec<CallbackSlot> {
    let slot_ms = i64::from(slot_minutes.max(5)) * 60_000;
    let earliest = now_ms + SLOT_LEAD_MS;
    let mut out = Vec::new();
    let mut dates = Vec::new();
    for opening in hours.openings_after(earliest) {
        if !dates.contains(&opening.date) {
            if dates.len() == SLOT_BUSINESS_DAYS {
                break;
            }
            dates.push(opening.date);
        }
        let mut start = opening.start_ms;
        while start + slot_ms <= opening.end_ms {
            if start >= earliest {
                out.push(CallbackSlot { start_ms: start, end_ms: start + slot_ms });
            }
            start += slot_ms;
        }
    }
    out
}

/// Whether a visitor may pick `preferred_ms`: the start of a slot that fits in one opening
/// and is at least [`SLOT_LEAD_MS`] from now. Any instant inside business hours with room for
/// a slot is accepted, not only the listed starts, so a widget with a slightly stale list is
/// not refused for a minute's difference.
pub fn check_preferred(
    hours: &BusinessHours,
    now_ms: i64,
    preferred_ms: i64,
    slot_minutes: u32,
) -> Result<(), (FieldErrorCode, &'static str)> {
    let slot_ms = i64::from(slot_minutes.max(5)) * 60_000;
    if preferred_ms < now_ms {
        return Err((FieldErrorCode::Invalid, "preferred_ms is in the past."));
    }
    let fits = hours
        .openings_after(preferred_ms)
        .next()
        .is_some_and(|o| o.start_ms <= preferred_ms && preferred_ms + slot_ms <= o.end_ms);
    if !fits {
        return Err((FieldErrorCode::Unsupported, "preferred_ms is outside business hours."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::hours::{Closure, DayRange};

    fn lv() -> Option<country::Id> {
        parse_country("LV")
    }

    /// The table of issue 5: numbers from six countries, national formats, and refusals.
    #[test]
    fn phone_normalisation_table() {
        let ok: &[(&str, Option<&str>, &str)] = &[
            ("+371 2000 0000", None, "+37120000000"),
            ("+371 6700 0000", Some("LV"), "+37167000000"),
            ("2000 0000", Some("LV"), "+37120000000"),
            ("00371 20000000", None, "+37120000000"),
            ("+66 2 123 4567", None, "+6621234567"),
            ("081 234 5678", Some("TH"), "+66812345678"),
            ("+39 06 1234 5678", None, "+390612345678"),
            ("+39 312 345 6789", None, "+393123456789"),
            ("+30 210 123 4567", None, "+302101234567"),
            ("694 123 4567", Some("GR"), "+306941234567"),
            ("+44 20 7946 0018", None, "+442079460018"),
            ("07400 123456", Some("GB"), "+447400123456"),
            ("+1 (212) 736-5000", None, "+12127365000"),
            ("(650) 253-0000", Some("US"), "+16502530000"),
            // The way people write them: the country code in parentheses, dots, "00".
            ("(+371) 26123456", None, "+37126123456"),
            ("+371.2612.3456", None, "+37126123456"),
            ("0039 06 1234 5678", Some("IT"), "+390612345678"),
        ];
        for &(raw, region, e164) in ok {
            let region = region.and_then(parse_country).or(lv());
            assert_eq!(normalise_phone(raw, region).as_deref(), Ok(e164), "{raw}");
        }
        let code = |raw: &str, region: Option<country::Id>| normalise_phone(raw, region).unwrap_err().code;
        assert_eq!(code("call me maybe", lv()), FieldErrorCode::Invalid, "letters");
        assert_eq!(code("+371 20OO 0000", lv()), FieldErrorCode::Invalid, "letter O for zero");
        assert_eq!(code("12345", lv()), FieldErrorCode::TooShort, "too short");
        assert_eq!(code("+371 123", lv()), FieldErrorCode::NotInUse, "incomplete after the country code");
        assert_eq!(code("+371 1234 5678", lv()), FieldErrorCode::NotInUse, "no Latvian number starts with 1");
        assert_eq!(code("371+2612 3456", lv()), FieldErrorCode::Invalid, "a + in the middle");
        assert_eq!(normalise_phone("00371 2612 3456", None).as_deref(), Ok("+37126123456"), "00 with no country");
        assert_eq!(code("+1 2345 6789 0123 4567 89", lv()), FieldErrorCode::TooLong);
        assert_eq!(code("2000 0000", None), FieldErrorCode::NoCountryCode, "national format needs a country");
        assert_eq!(code("+999 1234 5678", lv()), FieldErrorCode::Unsupported, "no such country code");
        assert_eq!(code("+44 909 879 0000", lv()), FieldErrorCode::Unsupported, "UK premium rate");
        assert!(parse_country("lv").is_some());
        assert!(parse_country("XX").is_none() && parse_country("Latvia").is_none());
    }

    fn riga_hours(closures: &[&str]) -> BusinessHours {
        let tz = jiff::tz::db().get("Europe/Riga").unwrap();
        let day = vec![DayRange::parse("09:00-18:00").unwrap()];
        let week = [day.clone(), day.clone(), day.clone(), day.clone(), day, vec![], vec![]];
        BusinessHours::new(tz, week, closures.iter().map(|c| Closure::parse(c).unwrap()).collect()).unwrap()
    }

    fn at(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> i64 {
        let tz = jiff::tz::db().get("Europe/Riga").unwrap();
        tz.to_ambiguous_timestamp(jiff::civil::date(y, mo, d).at(h, mi, 0, 0)).compatible().unwrap().as_millisecond()
    }

    fn local(ms: i64) -> String {
        let tz = jiff::tz::db().get("Europe/Riga").unwrap();
        tz.to_datetime(jiff::Timestamp::from_millisecond(ms).unwrap()).strftime("%a %m-%d %H:%M").to_string()
    }

    #[test]
    fn slots_cover_five_business_days_skip_closures_and_keep_local_times_across_dst() {
        // Thursday 26 March 2026, 17:00 in Riga; clocks spring forward on Sunday the 29th, and
        // Monday the 30th is a closure.
        let hours = riga_hours(&["2026-03-30"]);
        let now = at(2026, 3, 26, 17, 0);
        let list = slots(&hours, now, 30);
        let starts: Vec<String> = list.iter().map(|s| local(s.start_ms)).collect();
        // 17:00 + 15 min lead: 17:30 is the first; the last slot of a day starts at 17:30.
        assert_eq!(starts[0], "Thu 03-26 17:30");
        assert_eq!(starts[1], "Fri 03-27 09:00");
        let days: Vec<&str> = starts.iter().map(|s| &s[..9]).fold(Vec::new(), |mut v, d| {
            if v.last() != Some(&d) {
                v.push(d);
            }
            v
        });
        assert_eq!(days, ["Thu 03-26", "Fri 03-27", "Tue 03-31", "Wed 04-01", "Thu 04-02"]);
        // After the change, still on the local half hours, 18 slots a full day.
        let tuesday: Vec<&String> = starts.iter().filter(|s| s.starts_with("Tue 03-31")).collect();
        assert_eq!(tuesday.len(), 18);
        assert_eq!(tuesday[0], "Tue 03-31 09:00");
        assert_eq!(tuesday[17], "Tue 03-31 17:30");
        assert!(list.iter().all(|s| s.end_ms - s.start_ms == 30 * 60_000));
        // Autumn: clocks fall back on 25 October 2026.
        let list = slots(&hours, at(2026, 10, 23, 18, 0), 30);
        assert_eq!(local(list[0].start_ms), "Mon 10-26 09:00");
        assert_eq!(list[0].start_ms - at(2026, 10, 23, 9, 0), 3 * 24 * 3_600_000 + 3_600_000);
    }

    #[test]
    fn preferred_times_must_fit_in_business_hours() {
        let hours = riga_hours(&["2026-03-11"]);
        let now = at(2026, 3, 10, 10, 0);
        assert_eq!(check_preferred(&hours, now, at(2026, 3, 10, 17, 30), 30), Ok(()));
        assert_eq!(
            check_preferred(&hours, now, at(2026, 3, 10, 17, 45), 30).unwrap_err().0,
            FieldErrorCode::Unsupported
        );
        assert_eq!(
            check_preferred(&hours, now, at(2026, 3, 10, 19, 0), 30).unwrap_err().0,
            FieldErrorCode::Unsupported
        );
        assert_eq!(
            check_preferred(&hours, now, at(2026, 3, 11, 10, 0), 30).unwrap_err().0,
            FieldErrorCode::Unsupported
        );
        assert_eq!(check_preferred(&hours, now, at(2026, 3, 10, 9, 0), 30).unwrap_err().0, FieldErrorCode::Invalid);
    }
}
