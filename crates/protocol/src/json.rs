//! The JSON the widget reads and writes, without serde.
//!
//! The server speaks these types through serde (the derives in each module, which are the
//! contract). The widget cannot afford that: serde_json and one derived deserializer per type
//! were about 30 KB of its brotli payload (measured by cutting them out). So the widget parses
//! into one small [`Json`] tree, reads each type by hand with [`FromJson`], and writes the few
//! bodies it sends with [`JsonObject`]. The tests below hold every reader and writer to the
//! serde form: what serde writes, these read back equal; what these write, serde reads back
//! equal (and, for the bodies, byte for byte).
//!
//! Reading is tolerant the way serde's is with this crate's compatibility rule: unknown fields
//! are ignored, `#[serde(default)]` fields may be missing or `null`, and unknown enum values fall
//! back to `Unknown`. One difference: an optional string or number of the wrong type reads as
//! absent, where serde would refuse the whole body. Numbers are integers: no type the widget
//! reads has a fraction, and a float parser would cost more than this whole module.

use std::collections::BTreeMap;

use crate::availability::{
    Availability, AvailabilityState, CallbackExpectation, ChatExpectation, EstimateBasis, MessageExpectation,
};
use crate::callback::{CallbackFollowUp, CallbackReceipt, CallbackSlot, CallbackSlots, CallbackStatus, NewCallback};
use crate::chat::{
    Author, ChatMessage, ContactSaved, ContactUpdate, ConversationCreated, MessageAck, MessageList, NewConversation,
    NewMessage,
};
use crate::error::{ApiError, ErrorBody, ErrorCode, FieldError, FieldErrorCode, FieldErrors};
use crate::frame::FrameToLoader;
use crate::rating::{NewRating, PageContext, RatingChange, RatingContext, RatingReceipt, RatingScale, RatingValue};
use crate::site::{Promises, SiteConfig, SiteId, Theme};

/// A parsed JSON value. Objects keep their fields in order (a short list beats a map here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// A number with a fraction or an exponent, or too large for `i64`: valid, not readable.
    OtherNumber,
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

static NULL: Json = Json::Null;

/// Deepest nesting [`Json::parse`] follows; deeper input is refused rather than overflowing
/// the stack.
pub const MAX_DEPTH: usize = 32;

impl Json {
    /// The value of a whole JSON text; `None` when it is not valid JSON (or nests too deep).
    pub fn parse(text: &str) -> Option<Json> {
        let mut parser = Parser { bytes: text.as_bytes(), at: 0 };
        let value = parser.value(0)?;
        parser.skip_space();
        (parser.at == parser.bytes.len()).then_some(value)
    }

    /// Where reading `text` stopped: `None` for valid JSON, else the byte offset at which the
    /// reader gave up (for a developer's error message; [`Json::parse`] only says no).
    pub fn error_at(text: &str) -> Option<usize> {
        let mut parser = Parser { bytes: text.as_bytes(), at: 0 };
        if parser.value(0).is_some() {
            parser.skip_space();
            if parser.at == parser.bytes.len() {
                return None;
            }
        }
        Some(parser.at.min(text.len()))
    }

    /// The field `key` of an object; `Null` when absent or when this is not an object.
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map_or(&NULL, |(_, v)| v),
            _ => &NULL,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Json::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn u32(&self) -> Option<u32> {
        self.int().and_then(|n| u32::try_from(n).ok())
    }

    pub fn bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Every item read as `T`; `None` when this is not an array or any item does not read.
    pub fn list<T: FromJson>(&self) -> Option<Vec<T>> {
        match self {
            Json::Array(items) => items.iter().map(T::from_json).collect(),
            _ => None,
        }
    }

    /// An optional field that is a type of its own: `Some(None)` when absent or `null`, `None`
    /// (refused, as serde refuses it) when present but unreadable.
    fn optional<T: FromJson>(&self) -> Option<Option<T>> {
        match self {
            Json::Null => Some(None),
            value => T::from_json(value).map(Some),
        }
    }
}

/// A type read from a [`Json`] tree, as serde would read it from the same text.
pub trait FromJson: Sized {
    fn from_json(value: &Json) -> Option<Self>;

    /// Parses `text` and reads it: `None` for invalid JSON or a value of the wrong shape.
    fn from_json_str(text: &str) -> Option<Self> {
        Self::from_json(&Json::parse(text)?)
    }
}

impl FromJson for String {
    fn from_json(value: &Json) -> Option<String> {
        value.string()
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn next(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn literal(&mut self, word: &[u8], value: Json) -> Option<Json> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| {
            self.at = end;
            value
        })
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_space();
        match *self.bytes.get(self.at)? {
            b'n' => self.literal(b"null", Json::Null),
            b't' => self.literal(b"true", Json::Bool(true)),
            b'f' => self.literal(b"false", Json::Bool(false)),
            b'"' => self.string().map(Json::String),
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if !self.close(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.separator(b']')? {
                            break;
                        }
                    }
                }
                Some(Json::Array(items))
            }
            b'{' => {
                self.at += 1;
                let mut fields = Vec::new();
                if !self.close(b'}') {
                    loop {
                        self.skip_space();
                        if self.bytes.get(self.at) != Some(&b'"') {
                            return None;
                        }
                        let key = self.string()?;
                        self.skip_space();
                        (self.next()? == b':').then_some(())?;
                        fields.push((key, self.value(depth + 1)?));
                        if self.separator(b'}')? {
                            break;
                        }
                    }
                }
                Some(Json::Object(fields))
            }
            _ => self.number(),
        }
    }

    /// Consumes `end` (after space) if it is next: an empty array or object.
    fn close(&mut self, end: u8) -> bool {
        self.skip_space();
        let found = self.bytes.get(self.at) == Some(&end);
        self.at += usize::from(found);
        found
    }

    /// After an item: `Some(false)` for a comma (more follow), `Some(true)` for `end`.
    fn separator(&mut self, end: u8) -> Option<bool> {
        self.skip_space();
        match self.next()? {
            b',' => Some(false),
            b if b == end => Some(true),
            _ => None,
        }
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.at;
        self.at += usize::from(self.bytes.get(self.at) == Some(&b'-'));
        let digits_start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let int_digits = self.at - digits_start;
        if int_digits == 0 || (int_digits > 1 && self.bytes[digits_start] == b'0') {
            return None;
        }
        let mut integral = true;
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            integral = false;
            self.digits()?;
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            integral = false;
            self.at += usize::from(matches!(self.bytes.get(self.at), Some(b'+' | b'-')));
            self.digits()?;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
        Some(if integral { text.parse().map_or(Json::OtherNumber, Json::Int) } else { Json::OtherNumber })
    }

    /// One or more digits.
    fn digits(&mut self) -> Option<()> {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        (self.at > start).then_some(())
    }

    /// A string starting at its opening quote.
    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.next()? {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let escaped = match self.next()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high) {
                                // A surrogate pair: the low half must follow as `\uXXXX`.
                                (self.next()? == b'\\' && self.next()? == b'u').then_some(())?;
                                let low = self.hex4()?;
                                (0xDC00..0xE000).contains(&low).then_some(())?;
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                high
                            };
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    out.extend_from_slice(escaped.encode_utf8(&mut [0; 4]).as_bytes());
                }
                b if b < 0x20 => return None,
                b => out.push(b),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut code = 0;
        for _ in 0..4 {
            code = code * 16 + char::from(self.next()?).to_digit(16)?;
        }
        Some(code)
    }
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[c as usize >> 4]));
                out.push(char::from(HEX[c as usize & 15]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON array of strings (the widget's saved outbox and rating state).
pub fn write_strings(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(&mut out, item);
    }
    out.push(']');
    out
}

/// An object written field by field, in the order serde writes the struct's fields.
pub struct JsonObject(String);

impl Default for JsonObject {
    fn default() -> Self {
        JsonObject(String::from("{"))
    }
}

impl JsonObject {
    fn key(&mut self, key: &str) -> &mut String {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        write_string(&mut self.0, key);
        self.0.push(':');
        &mut self.0
    }

    /// A field whose value is JSON text already.
    pub fn raw(mut self, key: &str, json: &str) -> Self {
        self.key(key).push_str(json);
        self
    }

    pub fn str(mut self, key: &str, value: &str) -> Self {
        write_string(self.key(key), value);
        self
    }

    pub fn int(self, key: &str, value: i64) -> Self {
        self.raw(key, &value.to_string())
    }

    pub fn bool(self, key: &str, value: bool) -> Self {
        self.raw(key, if value { "true" } else { "false" })
    }

    /// `null` when `None` (a plain serde `Option`).
    pub fn opt_str(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.str(key, v),
            None => self.raw(key, "null"),
        }
    }

    pub fn opt_int(self, key: &str, value: Option<i64>) -> Self {
        match value {
            Some(v) => self.int(key, v),
            None => self.raw(key, "null"),
        }
    }

    /// Nothing at all when `None` (`skip_serializing_if = "Option::is_none"`).
    pub fn some_str(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    pub fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// A type written as the same JSON serde writes for it.
pub trait ToJson {
    fn to_json(&self) -> String;
}

fn opt_json<T: ToJson>(value: &Option<T>) -> String {
    value.as_ref().map_or_else(|| "null".to_owned(), T::to_json)
}

// ---- enums: serde's snake_case names; `Unknown` for anything else where the type has one ----

impl FromJson for AvailabilityState {
    fn from_json(value: &Json) -> Option<Self> {
        Some(match value.as_str()? {
            "open" => AvailabilityState::Open,
            "busy" => AvailabilityState::Busy,
            "closed" => AvailabilityState::Closed,
            "nobody_online" => AvailabilityState::NobodyOnline,
            _ => AvailabilityState::Unknown,
        })
    }
}

impl FromJson for EstimateBasis {
    fn from_json(value: &Json) -> Option<Self> {
        Some(match value.as_str()? {
            "history" => EstimateBasis::History,
            "posted" => EstimateBasis::Posted,
            _ => EstimateBasis::Unknown,
        })
    }
}

impl FromJson for CallbackStatus {
    fn from_json(value: &Json) -> Option<Self> {
        value.as_str().map(CallbackStatus::parse)
    }
}

impl FromJson for Author {
    fn from_json(value: &Json) -> Option<Self> {
        Some(match value.as_str()? {
            "visitor" => Author::Visitor,
            "operator" => Author::Operator,
            _ => Author::Unknown,
        })
    }
}

impl FromJson for ErrorCode {
    fn from_json(value: &Json) -> Option<Self> {
        use ErrorCode::*;
        Some(match value.as_str()? {
            "malformed_json" => MalformedJson,
            "missing_idempotency_key" => MissingIdempotencyKey,
            "unauthorized" => Unauthorized,
            "origin_not_allowed" => OriginNotAllowed,
            "site_not_found" => SiteNotFound,
            "not_found" => NotFound,
            "method_not_allowed" => MethodNotAllowed,
            "payload_too_large" => PayloadTooLarge,
            "unsupported_media_type" => UnsupportedMediaType,
            "validation_failed" => ValidationFailed,
            "change_window_closed" => ChangeWindowClosed,
            "idempotency_key_reused" => IdempotencyKeyReused,
            "conflict" => Conflict,
            "rate_limited" => RateLimited,
            "internal" => Internal,
            _ => Unknown,
        })
    }
}

impl FromJson for FieldErrorCode {
    fn from_json(value: &Json) -> Option<Self> {
        Some(match value.as_str()? {
            "required" => FieldErrorCode::Required,
            "too_short" => FieldErrorCode::TooShort,
            "too_long" => FieldErrorCode::TooLong,
            "invalid" => FieldErrorCode::Invalid,
            "unsupported" => FieldErrorCode::Unsupported,
            "not_in_use" => FieldErrorCode::NotInUse,
            "no_country_code" => FieldErrorCode::NoCountryCode,
            _ => FieldErrorCode::Unknown,
        })
    }
}

impl FromJson for RatingScale {
    /// No `Unknown` here: serde refuses a scale it does not know, and so does this.
    fn from_json(value: &Json) -> Option<Self> {
        [RatingScale::Faces3, RatingScale::Thumbs2, RatingScale::Stars5]
            .into_iter()
            .find(|scale| scale.as_str() == value.as_str().unwrap_or_default())
    }
}

impl FromJson for RatingValue {
    fn from_json(value: &Json) -> Option<Self> {
        RatingValue::parse(value.as_str()?)
    }
}

// ---- what the widget reads ----

impl FromJson for SiteId {
    fn from_json(value: &Json) -> Option<Self> {
        SiteId::parse(value.as_str()?).ok()
    }
}

impl FromJson for Promises {
    fn from_json(v: &Json) -> Option<Self> {
        Some(Promises {
            chat_first_reply_secs: v.get("chat_first_reply_secs").u32()?,
            callback_business_hours: v.get("callback_business_hours").u32()?,
            message_reply_business_days: v.get("message_reply_business_days").u32()?,
        })
    }
}

impl FromJson for Theme {
    fn from_json(v: &Json) -> Option<Self> {
        Some(Theme {
            color: v.get("color").string()?,
            text_color: v.get("text_color").string()?,
            dark_color: v.get("dark_color").string(),
            dark_text_color: v.get("dark_text_color").string(),
        })
    }
}

impl FromJson for SiteConfig {
    fn from_json(v: &Json) -> Option<Self> {
        let strings = |key: &str| match v.get(key) {
            Json::Null => Some(Vec::new()),
            list => list.list(),
        };
        Some(SiteConfig {
            site: SiteId::from_json(v.get("site"))?,
            name: v.get("name").string()?,
            greeting: v.get("greeting").string(),
            timezone: v.get("timezone").string()?,
            promises: Promises::from_json(v.get("promises"))?,
            rating_scale: v.get("rating_scale").optional()?.unwrap_or_default(),
            callback_topics: strings("callback_topics")?,
            consent_text: v.get("consent_text").string(),
            default_country: v.get("default_country").string(),
            rating_change_window_secs: v.get("rating_change_window_secs").u32(),
            callback_topic_labels: strings("callback_topic_labels")?,
            launcher_text: v.get("launcher_text").string(),
            locale: v.get("locale").string(),
            theme: v.get("theme").optional()?,
        })
    }
}

impl FromJson for Availability {
    fn from_json(v: &Json) -> Option<Self> {
        let chat = v.get("chat");
        Some(Availability {
            state: AvailabilityState::from_json(v.get("state"))?,
            now_ms: v.get("now_ms").int()?,
            chat: ChatExpectation {
                expected_wait_secs: chat.get("expected_wait_secs").u32()?,
                posted_secs: chat.get("posted_secs").u32()?,
                basis: EstimateBasis::from_json(chat.get("basis"))?,
            },
            callback: CallbackExpectation { due_ms: v.get("callback").get("due_ms").int()? },
            message: MessageExpectation { reply_by_ms: v.get("message").get("reply_by_ms").int()? },
            next_open_ms: v.get("next_open_ms").int(),
            closes_ms: v.get("closes_ms").int(),
        })
    }
}

impl FromJson for MessageAck {
    fn from_json(v: &Json) -> Option<Self> {
        Some(MessageAck {
            id: v.get("id").int()?,
            client_id: v.get("client_id").string()?,
            created_ms: v.get("created_ms").int()?,
        })
    }
}

impl FromJson for ContactSaved {
    fn from_json(v: &Json) -> Option<Self> {
        Some(ContactSaved { email_masked: v.get("email_masked").string()?, reply_by_ms: v.get("reply_by_ms").int()? })
    }
}

impl FromJson for ConversationCreated {
    fn from_json(v: &Json) -> Option<Self> {
        Some(ConversationCreated {
            conversation_id: v.get("conversation_id").string()?,
            token: v.get("token").string()?,
            message: MessageAck::from_json(v.get("message"))?,
        })
    }
}

impl FromJson for ChatMessage {
    fn from_json(v: &Json) -> Option<Self> {
        Some(ChatMessage {
            id: v.get("id").int()?,
            client_id: v.get("client_id").string()?,
            author: Author::from_json(v.get("author"))?,
            body: v.get("body").string()?,
            created_ms: v.get("created_ms").int()?,
            // Absent or null for visitors' messages and from older servers.
            author_name: match v.get("author_name") {
                Json::Null => None,
                name => Some(name.string()?),
            },
        })
    }
}

impl FromJson for MessageList {
    fn from_json(v: &Json) -> Option<Self> {
        Some(MessageList { messages: v.get("messages").list()? })
    }
}

impl FromJson for CallbackSlot {
    fn from_json(v: &Json) -> Option<Self> {
        Some(CallbackSlot { start_ms: v.get("start_ms").int()?, end_ms: v.get("end_ms").int()? })
    }
}

impl FromJson for CallbackSlots {
    fn from_json(v: &Json) -> Option<Self> {
        Some(CallbackSlots {
            timezone: v.get("timezone").string()?,
            slot_minutes: v.get("slot_minutes").u32()?,
            asap_due_ms: v.get("asap_due_ms").int()?,
            slots: v.get("slots").list()?,
        })
    }
}

impl FromJson for CallbackReceipt {
    fn from_json(v: &Json) -> Option<Self> {
        Some(CallbackReceipt {
            reference: v.get("reference").string()?,
            status: CallbackStatus::from_json(v.get("status"))?,
            due_ms: v.get("due_ms").int()?,
            token: v.get("token").string(),
        })
    }
}

impl FromJson for CallbackFollowUp {
    fn from_json(v: &Json) -> Option<Self> {
        Some(CallbackFollowUp {
            reference: v.get("reference").string()?,
            status: CallbackStatus::from_json(v.get("status"))?,
            due_ms: v.get("due_ms").int()?,
            preferred_ms: v.get("preferred_ms").int(),
            created_ms: v.get("created_ms").int()?,
            updated_ms: v.get("updated_ms").int(),
        })
    }
}

impl FromJson for RatingReceipt {
    fn from_json(v: &Json) -> Option<Self> {
        Some(RatingReceipt {
            id: v.get("id").string()?,
            value: RatingValue::from_json(v.get("value"))?,
            created_ms: v.get("created_ms").int()?,
            token: v.get("token").string(),
            changeable_until_ms: v.get("changeable_until_ms").int(),
            undone: v.get("undone").bool().unwrap_or(false),
        })
    }
}

impl FromJson for FieldError {
    fn from_json(v: &Json) -> Option<Self> {
        Some(FieldError {
            field: v.get("field").string()?,
            code: FieldErrorCode::from_json(v.get("code"))?,
            message: v.get("message").string()?,
        })
    }
}

impl FromJson for ApiError {
    fn from_json(v: &Json) -> Option<Self> {
        let e = v.get("error");
        let fields = match e.get("fields") {
            Json::Null => Vec::new(),
            list => list.list()?,
        };
        Some(ApiError {
            error: ErrorBody {
                code: ErrorCode::from_json(e.get("code"))?,
                message: e.get("message").string()?,
                fields: FieldErrors(fields),
            },
        })
    }
}

// ---- what the widget writes ----

impl ToJson for NewMessage {
    fn to_json(&self) -> String {
        JsonObject::default().str("client_id", &self.client_id).str("body", &self.body).finish()
    }
}

impl ToJson for ContactUpdate {
    fn to_json(&self) -> String {
        JsonObject::default().str("email", &self.email).opt_str("locale", self.locale.as_deref()).finish()
    }
}

impl ToJson for PageContext {
    fn to_json(&self) -> String {
        JsonObject::default().str("path", &self.path).opt_str("title", self.title.as_deref()).finish()
    }
}

impl ToJson for NewConversation {
    fn to_json(&self) -> String {
        let mut object =
            JsonObject::default().raw("message", &self.message.to_json()).raw("page", &opt_json(&self.page));
        // Left out when absent, as serde does (`skip_serializing_if`).
        for (key, value) in [("create_key", &self.create_key), ("locale", &self.locale), ("time_zone", &self.time_zone)]
        {
            if let Some(value) = value {
                object = object.str(key, value);
            }
        }
        object.finish()
    }
}

impl ToJson for NewCallback {
    fn to_json(&self) -> String {
        JsonObject::default()
            .str("name", &self.name)
            .str("phone", &self.phone)
            .opt_int("preferred_ms", self.preferred_ms)
            .opt_str("note", self.note.as_deref())
            .opt_str("website", self.website.as_deref())
            .opt_str("country", self.country.as_deref())
            .opt_str("topic", self.topic.as_deref())
            .bool("consent", self.consent)
            .finish()
    }
}

impl ToJson for RatingContext {
    fn to_json(&self) -> String {
        JsonObject::default().str("kind", self.kind.as_str()).opt_str("ref_id", self.ref_id.as_deref()).finish()
    }
}

impl ToJson for NewRating {
    fn to_json(&self) -> String {
        JsonObject::default()
            .str("value", &self.value)
            .str("scale", self.scale.as_str())
            .raw("page", &opt_json(&self.page))
            .opt_str("comment", self.comment.as_deref())
            .raw("context", &opt_json(&self.context))
            .finish()
    }
}

impl ToJson for RatingChange {
    fn to_json(&self) -> String {
        JsonObject::default().str("value", &self.value).opt_str("comment", self.comment.as_deref()).finish()
    }
}

impl ToJson for FrameToLoader {
    fn to_json(&self) -> String {
        let typed = |kind: &str| JsonObject::default().str("type", kind);
        match self {
            FrameToLoader::Ready { text, label, frame_title } => {
                typed("ready").str("text", text).str("label", label).str("frame_title", frame_title)
            }
            FrameToLoader::Theme { color, text_color, text } => typed("theme")
                .some_str("color", color.as_deref())
                .some_str("text_color", text_color.as_deref())
                .some_str("text", text.as_deref()),
            FrameToLoader::Unread { count, label } => {
                typed("unread").int("count", i64::from(*count)).str("label", label)
            }
            FrameToLoader::Close => typed("close"),
            FrameToLoader::Status { state, label } => typed("status").str("state", state.as_str()).str("label", label),
            FrameToLoader::Event { name, detail } => typed("event").str("name", name).raw("detail", &map_json(detail)),
        }
        .finish()
    }
}

fn map_json(map: &BTreeMap<String, String>) -> String {
    map.iter().fold(JsonObject::default(), |object, (k, v)| object.str(k, v)).finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::RatingContextKind;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use std::fmt::Debug;

    /// What serde writes for `value`, this module reads back equal.
    fn reads_like_serde<T: FromJson + Serialize + PartialEq + Debug>(value: T) {
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(T::from_json_str(&text).as_ref(), Some(&value), "reading {text}");
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        assert_eq!(T::from_json_str(&pretty).as_ref(), Some(&value), "reading {pretty}");
    }

    /// What this module writes is byte for byte what serde writes, and serde reads it back.
    fn writes_like_serde<T: ToJson + Serialize + DeserializeOwned + PartialEq + Debug>(value: T) {
        let ours = value.to_json();
        assert_eq!(ours, serde_json::to_string(&value).unwrap());
        assert_eq!(serde_json::from_str::<T>(&ours).unwrap(), value);
    }

    const AWKWARD: &str = "Līga \"Bērziņa\" \\ / ε ไทย 🙂 \n\t\r\u{8}\u{c}\u{1}\u{1f}\u{7f} </script>";

    #[test]
    fn parses_json_values() {
        let text =
            r#" { "a" : [1, -2, 0, 3.5, 1e3, -0.0, 99999999999999999999, true, false, null, "x"], "b": {}, "c": [] } "#;
        let value = Json::parse(text).unwrap();
        assert_eq!(
            value.get("a"),
            &Json::Array(vec![
                Json::Int(1),
                Json::Int(-2),
                Json::Int(0),
                Json::OtherNumber,
                Json::OtherNumber,
                Json::OtherNumber,
                Json::OtherNumber,
                Json::Bool(true),
                Json::Bool(false),
                Json::Null,
                Json::String("x".into()),
            ])
        );
        assert_eq!(value.get("b"), &Json::Object(vec![]));
        assert_eq!(value.get("c"), &Json::Array(vec![]));
        assert_eq!(value.get("missing"), &Json::Null);
        assert_eq!(value.get("a").get("x"), &Json::Null, "a field of a non-object is null");
    }

    #[test]
    fn strings_unescape_like_serde() {
        for s in [AWKWARD, "", "\u{10FFFF}", "\u{FFFD}", "a\u{0}b"] {
            let text = serde_json::to_string(s).unwrap();
            assert_eq!(Json::parse(&text), Some(Json::String(s.into())), "{text}");
            let mut ours = String::new();
            write_string(&mut ours, s);
            assert_eq!(ours, text);
        }
        // Escapes serde never writes but JSON allows.
        assert_eq!(Json::parse(r#""\u00e9\/\ud83d\ude42\u0041""#), Some(Json::String("é/🙂A".into())));
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "tru",
            "nul",
            "\"open",
            "\"bad \\x escape\"",
            "\"\\ud83d alone\"",
            "\"\\udc00\"",
            "\"raw \n newline\"",
            "[1] [2]",
            "{\"a\":1}x",
            "'single'",
            "NaN",
        ] {
            assert_eq!(Json::parse(bad), None, "{bad:?} is not JSON");
            assert_eq!(serde_json::from_str::<serde_json::Value>(bad).ok(), None, "serde agrees about {bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Json::parse(&ok).is_some());
        let hostile = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(Json::parse(&hostile), None);
    }

    fn site_config(full: bool) -> SiteConfig {
        SiteConfig {
            site: SiteId::parse("shop-1").unwrap(),
            name: AWKWARD.into(),
            greeting: full.then(|| "Sveiki!".into()),
            timezone: "Europe/Riga".into(),
            promises: Promises {
                chat_first_reply_secs: 300,
                callback_business_hours: 2,
                message_reply_business_days: 1,
            },
            rating_scale: if full { RatingScale::Stars5 } else { RatingScale::Faces3 },
            callback_topics: if full { vec!["orders".into(), "returns".into()] } else { vec![] },
            consent_text: full.then(|| "We may call you.".into()),
            default_country: full.then(|| "LV".into()),
            rating_change_window_secs: full.then_some(600),
            callback_topic_labels: if full { vec!["Pasūtījumi".into(), "Atgriešana".into()] } else { vec![] },
            launcher_text: full.then(|| "Help".into()),
            locale: full.then(|| "lv".into()),
            theme: full.then(|| Theme::new("#00bb55", Some("#123456")).unwrap()),
        }
    }

    #[test]
    fn reads_every_response_the_widget_reads() {
        reads_like_serde(site_config(true));
        reads_like_serde(site_config(false));
        for state in [
            AvailabilityState::Open,
            AvailabilityState::Busy,
            AvailabilityState::Closed,
            AvailabilityState::NobodyOnline,
        ] {
            for basis in [EstimateBasis::History, EstimateBasis::Posted] {
                reads_like_serde(Availability {
                    state,
                    now_ms: 1_790_000_000_000,
                    chat: ChatExpectation { expected_wait_secs: 45, posted_secs: 300, basis },
                    callback: CallbackExpectation { due_ms: 1_790_060_000_000 },
                    message: MessageExpectation { reply_by_ms: -1 },
                    next_open_ms: (state == AvailabilityState::Closed).then_some(1_790_053_200_000),
                    closes_ms: (state == AvailabilityState::Open).then_some(1_790_003_200_000),
                });
            }
        }
        let ack = MessageAck { id: 9_007_199_254_740_993, client_id: "c-12345678".into(), created_ms: 1 };
        reads_like_serde(ack.clone());
        reads_like_serde(ConversationCreated { conversation_id: "cv_x".into(), token: "t".repeat(43), message: ack });
        reads_like_serde(MessageList::default());
        reads_like_serde(MessageList {
            messages: [Author::Visitor, Author::Operator]
                .into_iter()
                .enumerate()
                .map(|(i, author)| ChatMessage {
                    id: i as i64,
                    client_id: format!("client-{i:04}"),
                    author,
                    body: AWKWARD.into(),
                    created_ms: 1_790_000_000_000 + i as i64,
                    author_name: None,
                })
                .collect(),
        });
        reads_like_serde(CallbackSlots {
            timezone: "Asia/Bangkok".into(),
            slot_minutes: 30,
            asap_due_ms: 5,
            slots: vec![CallbackSlot { start_ms: 1, end_ms: 2 }, CallbackSlot { start_ms: 3, end_ms: 4 }],
        });
        for status in
            [CallbackStatus::Received, CallbackStatus::Scheduled, CallbackStatus::Done, CallbackStatus::Unreachable]
        {
            reads_like_serde(CallbackReceipt {
                reference: "PL-QRZGX6".into(),
                status,
                due_ms: 7,
                token: Some("tok".into()),
            });
            reads_like_serde(CallbackFollowUp {
                reference: "PL-QRZGX6".into(),
                status,
                due_ms: 7,
                preferred_ms: Some(8),
                created_ms: 6,
                updated_ms: None,
            });
        }
        reads_like_serde(CallbackReceipt {
            reference: "PL-1".into(),
            status: CallbackStatus::Received,
            due_ms: 7,
            token: None,
        });
        for value in RatingScale::Stars5.values().iter().chain(RatingScale::Faces3.values()) {
            reads_like_serde(RatingReceipt {
                id: "r_1".into(),
                value: *value,
                created_ms: 1,
                token: Some("k".into()),
                changeable_until_ms: Some(2),
                undone: true,
            });
        }
        reads_like_serde(RatingReceipt {
            id: "r_2".into(),
            value: RatingValue::Good,
            created_ms: 1,
            token: None,
            changeable_until_ms: None,
            undone: false,
        });
        reads_like_serde(ApiError::new(ErrorCode::SiteNotFound, "No such site."));
        let mut fields = FieldErrors::default();
        for code in [
            FieldErrorCode::Required,
            FieldErrorCode::TooShort,
            FieldErrorCode::TooLong,
            FieldErrorCode::Invalid,
            FieldErrorCode::Unsupported,
            FieldErrorCode::NotInUse,
            FieldErrorCode::NoCountryCode,
        ] {
            fields.push("phone", code, AWKWARD);
        }
        reads_like_serde(ApiError::validation(fields));
        use ErrorCode::*;
        for code in [
            MalformedJson,
            MissingIdempotencyKey,
            Unauthorized,
            OriginNotAllowed,
            SiteNotFound,
            NotFound,
            MethodNotAllowed,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            ChangeWindowClosed,
            IdempotencyKeyReused,
            Conflict,
            RateLimited,
            Internal,
        ] {
            reads_like_serde(ApiError::new(code, "x"));
        }
    }

    #[test]
    fn reads_tolerantly_as_the_compatibility_rule_asks() {
        // A newer server: unknown fields, unknown enum values, optional fields left out.
        let newer = r#"{"messages":[{"id":1,"client_id":"c1","author":"bot","body":"hi","created_ms":2,"edited_ms":3}],"more":true}"#;
        let list = MessageList::from_json_str(newer).unwrap();
        assert_eq!(list.messages[0].author, Author::Unknown);
        assert_eq!(serde_json::from_str::<MessageList>(newer).unwrap(), list);
        let error = r#"{"error":{"code":"quota_exceeded","message":"Later."}}"#;
        assert_eq!(ApiError::from_json_str(error), serde_json::from_str(error).ok());
        assert_eq!(ApiError::from_json_str(error).unwrap().error.code, ErrorCode::Unknown);
        let minimal = r#"{"site":"s","name":"n","timezone":"UTC","promises":{"chat_first_reply_secs":1,"callback_business_hours":2,"message_reply_business_days":3}}"#;
        assert_eq!(SiteConfig::from_json_str(minimal), serde_json::from_str(minimal).ok());
        let nulls = r#"{"site":"s","name":"n","timezone":"UTC","greeting":null,"theme":null,"rating_scale":null,"callback_topics":null,"promises":{"chat_first_reply_secs":1,"callback_business_hours":2,"message_reply_business_days":3}}"#;
        assert_eq!(SiteConfig::from_json_str(nulls).unwrap().rating_scale, RatingScale::Faces3);
        // Wrong shapes are refused, as serde refuses them.
        for bad in [
            r#"{"reference":"PL-1","status":"received"}"#,
            r#"{"reference":7,"status":"received","due_ms":1}"#,
            r#"{"reference":"PL-1","status":"received","due_ms":1.5}"#,
            r#"[]"#,
            r#"null"#,
        ] {
            assert_eq!(CallbackReceipt::from_json_str(bad), None, "{bad}");
            assert!(serde_json::from_str::<CallbackReceipt>(bad).is_err(), "serde agrees about {bad}");
        }
        assert_eq!(SiteConfig::from_json_str(&minimal.replace("\"s\"", "\"Not A Site\"")), None);
        assert_eq!(MessageList::from_json_str(r#"{"messages":[{"id":1}]}"#), None, "one bad item spoils the list");
        assert_eq!(RatingReceipt::from_json_str(r#"{"id":"r","value":"6","created_ms":1}"#), None);
    }

    #[test]
    fn writes_every_body_the_widget_sends() {
        let page = PageContext { path: "/pricing?x=\"1\"".into(), title: Some(AWKWARD.into()) };
        let message = NewMessage { client_id: "c-12345678".into(), body: AWKWARD.into() };
        writes_like_serde(message.clone());
        writes_like_serde(ContactUpdate { email: "anna@example.lv".into(), locale: Some("lv".into()) });
        writes_like_serde(ContactUpdate { email: "a\"b@example.lv".into(), locale: None });
        reads_like_serde(ContactSaved { email_masked: "a***@example.lv".into(), reply_by_ms: 7 });
        writes_like_serde(NewConversation {
            message: message.clone(),
            page: Some(page.clone()),
            create_key: None,
            locale: None,
            time_zone: None,
        });
        writes_like_serde(NewConversation {
            message,
            page: Some(PageContext { path: "/".into(), title: None }),
            create_key: Some("3f1c2b9e-8d7a-4c6b-9e5f-0a1b2c3d4e5f".into()),
            locale: Some("lv".into()),
            time_zone: Some("America/Argentina/Buenos_Aires".into()),
        });
        writes_like_serde(NewCallback::default());
        writes_like_serde(NewCallback {
            name: AWKWARD.into(),
            phone: "+371 2000 0000".into(),
            preferred_ms: Some(1_773_131_400_000),
            note: Some("after 5".into()),
            website: Some(String::new()),
            country: Some("LV".into()),
            topic: Some("orders".into()),
            consent: true,
        });
        for scale in [RatingScale::Faces3, RatingScale::Thumbs2, RatingScale::Stars5] {
            for kind in [RatingContextKind::Standalone, RatingContextKind::Chat, RatingContextKind::Callback] {
                writes_like_serde(NewRating {
                    value: scale.values()[0].as_str().into(),
                    scale,
                    page: Some(page.clone()),
                    comment: Some(AWKWARD.into()),
                    context: Some(RatingContext { kind, ref_id: Some("PL-7K3Q9M".into()) }),
                });
            }
        }
        writes_like_serde(NewRating { value: "good".into(), ..NewRating::default() });
        writes_like_serde(RatingChange { value: "bad".into(), comment: None });
        writes_like_serde(RatingChange { value: "5".into(), comment: Some(AWKWARD.into()) });
        let strings = vec![AWKWARD.to_owned(), String::new(), "42".into()];
        assert_eq!(write_strings(&strings), serde_json::to_string(&strings).unwrap());
        assert_eq!(Json::parse(&write_strings(&strings)).unwrap().list::<String>(), Some(strings));
        assert_eq!(write_strings(&[]), "[]");
    }

    #[test]
    fn writes_every_frame_message_like_serde() {
        let states = [
            AvailabilityState::Open,
            AvailabilityState::Busy,
            AvailabilityState::Closed,
            AvailabilityState::NobodyOnline,
        ];
        let mut messages = vec![
            FrameToLoader::Ready { text: AWKWARD.into(), label: "Help".into(), frame_title: "Porchlight".into() },
            FrameToLoader::Theme { color: Some("#00bb55".into()), text_color: Some("#000000".into()), text: None },
            FrameToLoader::Theme { color: None, text_color: None, text: Some(AWKWARD.into()) },
            FrameToLoader::Unread { count: 3, label: "3 unread".into() },
            FrameToLoader::Close,
            FrameToLoader::Event { name: "rating".into(), detail: BTreeMap::new() },
            FrameToLoader::Event {
                name: "callback".into(),
                detail: [("reference".to_owned(), "PL-1".to_owned()), ("z".into(), AWKWARD.into())].into(),
            },
        ];
        messages.extend(states.map(|state| FrameToLoader::Status { state, label: "Open".into() }));
        for message in messages {
            let ours = message.to_json();
            assert_eq!(ours, serde_json::to_string(&message).unwrap());
            assert_eq!(serde_json::from_str::<FrameToLoader>(&ours).unwrap(), message);
        }
    }
}
