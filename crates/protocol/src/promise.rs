//! The promise ledger's report: `GET /v1/sites/{site}/promises/summary` (console session or
//! operator token) → [`PromiseSummary`]. Kinds: `chat_first_reply`, `callback`, `message_reply`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromiseSummary {
    pub site: String,
    pub days: u32,
    /// Promises made from this instant (ms) on.
    pub from_ms: i64,
    pub now_ms: i64,
    pub kinds: Vec<PromiseKindSummary>,
    /// Every kind together, per operator who answered (kept and broken-then-answered), most
    /// promises first.
    #[serde(default)]
    pub by_operator: Vec<OperatorPromises>,
    /// Every kind together, per site-local day the promise was made, oldest first.
    #[serde(default)]
    pub by_day: Vec<DayPromises>,
}

/// One operator's share of the ledger: the promises they answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorPromises {
    pub operator_id: String,
    /// Their display name; `null` for the operator token (automation) or a removed account.
    pub name: Option<String>,
    pub kept: u32,
    pub broken: u32,
    pub kept_rate: Option<f64>,
    pub median_margin_secs: Option<i64>,
}

/// One day of the ledger, by the day promises were made (the site's time zone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayPromises {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub kept: u32,
    pub broken: u32,
    pub void: u32,
    pub open: u32,
    pub kept_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromiseKindSummary {
    pub kind: String,
    pub total: u32,
    /// Not yet due and not yet answered.
    pub open: u32,
    pub kept: u32,
    pub broken: u32,
    /// Nothing left to keep: the conversation was closed unanswered before its deadline.
    pub void: u32,
    /// kept / (kept + broken); `null` before any promise of the kind was decided.
    pub kept_rate: Option<f64>,
    /// Median time left at the answer (negative: late), seconds.
    pub median_margin_secs: Option<i64>,
    /// The worst breaks: unanswered ones first, then the latest answers.
    pub worst: Vec<PromiseBreak>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseBreak {
    /// The conversation id or the callback reference.
    pub subject_id: String,
    pub due_ms: i64,
    /// When it was answered after all; `null` while still unanswered.
    pub answered_ms: Option<i64>,
    pub late_secs: Option<i64>,
}
