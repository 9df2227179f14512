//! Operator accounts: argon2id password hashes, console sessions and the cookie that carries
//! them.
//!
//! The session cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's
//! page makes the browser send it) and `Secure` when the server is reached over https. Every
//! cookie-authenticated request that changes something must also carry `Content-Type:
//! application/json` and an `Origin` equal to this server's own origin (checked in the
//! extractor), so a CSRF needs both a SameSite bypass and a CORS bypass.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::Rng;

use crate::domain::hex;

pub const SESSION_COOKIE: &str = "porchlight_session";
/// Twelve hours: one working day, then log in again.
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A stored operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRecord {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
}

/// An e-mail address as stored: trimmed and lower-cased, with one `@` and something each side.
pub fn normalise_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && email.len() <= 254
                && !email.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(email)
        }
        _ => Err(format!("{raw:?} is not an e-mail address")),
    }
}

/// Chats an operator may carry at once: at least one, at most this many.
pub const MAX_CAPACITY: u32 = 50;
pub const DEFAULT_CAPACITY: u32 = 3;

/// A display name as stored: trimmed, 1-100 characters.
pub fn check_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err("the name must be 1-100 characters, without control characters".into());
    }
    Ok(name.to_owned())
}

/// Checks a capacity (concurrent chats).
pub fn check_capacity(chats: u32) -> Result<u32, String> {
    if (1..=MAX_CAPACITY).contains(&chats) {
        Ok(chats)
    } else {
        Err(format!("the capacity must be 1-{MAX_CAPACITY} chats"))
    }
}

/// Checks a new password's length (in characters).
pub fn check_new_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!("the password must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!("the password must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

/// argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's minimum), as a PHC
/// string that carries its own parameters and salt. CPU-heavy: call from `spawn_blocking`.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt_bytes: [u8; 16] = rand::thread_rng().gen();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Verifies against `stored`, or against a fixed dummy hash when there is no such operator, so
/// an unknown e-mail costs the same time as a wrong password. CPU-heavy: `spawn_blocking`.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let dummy = dummy_hash();
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    ok && real
}

fn dummy_hash() -> &'static String {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random: [u8; 16] = rand::thread_rng().gen();
        hash_password(&hex(&random)).expect("argon2 hashes a random password")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalise_email("  Ann@Shop.Example ").unwrap(), "ann@shop.example");
        for bad in ["", "ann", "@shop", "ann@", "a b@shop.example", "a@b@c"] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_verify_and_unknown_operators_never_match() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", Some(&hash)));
        assert!(!verify_password("wrong horse battery", Some(&hash)));
        assert!(!verify_password("correct horse battery", None));
        assert!(!verify_password("x", Some("not a phc string")));
    }
}
