//! Client ids and idempotency keys: UUIDs from `crypto.randomUUID()`, or built from
//! `crypto.getRandomValues()` where `randomUUID` is missing (it needs a secure context).

/// A fresh random UUID (v4), valid as a protocol client id / idempotency key.
pub fn new_key() -> String {
    let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) else { return fallback_key() };
    let has_random_uuid = js_sys::Reflect::get(&crypto, &"randomUUID".into()).is_ok_and(|f| f.is_function());
    if has_random_uuid {
        return crypto.random_uuid();
    }
    let mut bytes = [0u8; 16];
    match crypto.get_random_values_with_u8_array(&mut bytes) {
        Ok(_) => uuid_v4(bytes),
        Err(_) => fallback_key(),
    }
}

/// Without any crypto (never expected in a browser): time plus `Math.random`, still unique enough
/// to tell one submission from another.
fn fallback_key() -> String {
    let mut bytes = [0u8; 16];
    let now = js_sys::Date::now() as u64;
    bytes[..8].copy_from_slice(&now.to_le_bytes());
    let rand = (js_sys::Math::random() * u64::MAX as f64) as u64;
    bytes[8..].copy_from_slice(&rand.to_le_bytes());
    uuid_v4(bytes)
}

/// Formats 16 random bytes as a version-4 UUID.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0x0f), 16).unwrap_or('0'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(porchlight_protocol::validate::is_valid_key(&id));
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }
}
