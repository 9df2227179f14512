//! Small shared checks. Lengths count Unicode scalar values, not bytes, so a Thai or Greek
//! name gets the same allowance as a Latin one.

use crate::error::{FieldErrorCode, FieldErrors};

pub const MAX_IDEMPOTENCY_KEY: usize = 64;
pub const MIN_IDEMPOTENCY_KEY: usize = 8;

/// An idempotency key or client id: 8–64 characters of `[A-Za-z0-9_-]` (a UUID fits).
pub fn is_valid_key(key: &str) -> bool {
    (MIN_IDEMPOTENCY_KEY..=MAX_IDEMPOTENCY_KEY).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Required text, trimmed, between 1 and `max` characters, without control characters other
/// than newlines and tabs.
pub fn required_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.push(field, FieldErrorCode::Required, message!("{field} is required."));
    } else {
        optional_text(errors, field, trimmed, max);
    }
}

/// Optional text of at most `max` characters.
pub fn optional_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errors.push(field, FieldErrorCode::TooLong, message!("{field} must be at most {max} characters."));
    } else if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        errors.push(field, FieldErrorCode::Invalid, message!("{field} contains control characters."));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(is_valid_key("0b6f9c1e-4a57-4e9e-9a61-3f0f5a7d2c11"));
        assert!(!is_valid_key("short"));
        assert!(!is_valid_key("has space in it"));
        assert!(!is_valid_key(&"a".repeat(65)));
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        let mut errors = FieldErrors::default();
        // 10 Thai characters are 30 bytes.
        required_text(&mut errors, "name", "สวัสดีครับๆ", 11);
        assert!(errors.is_empty(), "{errors:?}");
        required_text(&mut errors, "name", "   ", 10);
        assert_eq!(errors.get("name").unwrap().code, FieldErrorCode::Required);
    }

    #[test]
    fn control_characters_are_rejected() {
        let mut errors = FieldErrors::default();
        optional_text(&mut errors, "note", "a\u{0007}b", 10);
        assert_eq!(errors.get("note").unwrap().code, FieldErrorCode::Invalid);
    }
}
