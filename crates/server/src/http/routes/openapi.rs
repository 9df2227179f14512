//! `GET /v1/openapi.json`: the published contract, hand-written here beside the routes so any
//! server (the reference one or a site owner's own) can implement it. A test reads the routers'
//! sources and fails when a route is missing here, or documented here but gone.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::app::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/openapi.json", get(openapi_json))
}

async fn openapi_json() -> Response {
    let mut response = Json(document()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// Who may call an operation.
#[derive(Clone, Copy)]
enum Auth {
    Public,
    /// The secret token of a receipt (rating, callback) or conversation.
    Visitor,
    Operator,
    /// The console's session cookie, or the operator token.
    Console,
}

struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: Auth,
    idempotent: bool,
    request: Option<&'static str>,
    /// (status, description, schema name or "" for none, media type)
    responses: &'static [(u16, &'static str, &'static str)],
    query: &'static [(&'static str, &'static str)],
}

const JSON: &str = "application/json";

/// Every `/v1` operation.
fn operations() -> Vec<Op> {
    use Auth::*;
    let op = |method, path, summary, auth, request, responses, query| Op {
        method,
        path,
        summary,
        auth,
        idempotent: false,
        request,
        responses,
        query,
    };
    #[cfg_attr(not(feature = "bench"), allow(unused_mut))]
    let mut ops = vec![
        op("get", "/v1/openapi.json", "This document.", Public, None, &[(200, "The OpenAPI document.", "")], &[]),
        op(
            "get",
            "/v1/sites/{site}/config",
            "The site's public widget configuration, with the site's texts in the visitor's language.",
            Public,
            None,
            &[(200, "The configuration.", "SiteConfig")],
            &[(
                "locale",
                "The visitor's languages, best first, comma-separated BCP 47 tags (e.g. `lv-LV,en`). The site's \
                 texts come in the first of them (by primary subtag) the site has texts for, named in `locale` of \
                 the answer; otherwise the site's default texts and `locale` null.",
            )],
        ),
        op(
            "get",
            "/v1/sites/{site}/availability",
            "Whether someone is there and the expected waits per channel. Strong ETag; If-None-Match gives 304.",
            Public,
            None,
            &[(200, "Availability.", "Availability"), (304, "Not modified.", "")],
            &[],
        ),
        op(
            "put",
            "/v1/sites/{site}/presence",
            "Operator presence (online / away).",
            Operator,
            Some("PresenceUpdate"),
            &[(200, "The stored presence.", "Presence")],
            &[],
        ),
        Op {
            idempotent: true,
            ..op(
                "post",
                "/v1/sites/{site}/ratings",
                "Record a one-click rating. The first answer (201) carries the change token.",
                Public,
                Some("NewRating"),
                &[
                    (201, "Stored.", "RatingReceipt"),
                    (200, "A replay: the rating as it is now, without token.", "RatingReceipt"),
                ],
                &[],
            )
        },
        op(
            "put",
            "/v1/sites/{site}/ratings/{id}",
            "Change the value or add a comment within the change window (Bearer: the rating's token).",
            Visitor,
            Some("RatingChange"),
            &[(200, "The rating as it is now.", "RatingReceipt"), (409, "change_window_closed.", "ApiError")],
            &[],
        ),
        op(
            "delete",
            "/v1/sites/{site}/ratings/{id}",
            "Undo the rating within the change window (Bearer: the rating's token). Soft delete.",
            Visitor,
            None,
            &[(204, "Undone (also when already undone).", ""), (409, "change_window_closed.", "ApiError")],
            &[],
        ),
        op(
            "get",
            "/v1/sites/{site}/ratings/summary",
            "Operator summary of ratings.",
            Operator,
            None,
            &[(200, "The summary.", "RatingSummary")],
            &[("days", "Site-local days ending today, 1-366 (default 30).")],
        ),
        op(
            "get",
            "/v1/sites/{site}/ratings.csv",
            "Operator CSV export of ratings that are not undone.",
            Operator,
            None,
            &[(200, "text/csv; formula-like cells are prefixed with '.", "csv")],
            &[("days", "Only the last N site-local days, 1-366 (default: all).")],
        ),
        op(
            "get",
            "/v1/sites/{site}/promises/summary",
            "The promise ledger: kept, broken and void promises per kind (chat_first_reply, callback, \
             message_reply), the kept rate, the median margin and the worst breaks.",
            Operator,
            None,
            &[(200, "The summary.", "PromiseSummary")],
            &[("days", "Site-local days ending today, 1-366 (default 30).")],
        ),
        op(
            "get",
            "/v1/sites/{site}/promises.csv",
            "Every promise of the window: kind, subject, promised, due, outcome, answered, margin.",
            Operator,
            None,
            &[(200, "text/csv.", "csv")],
            &[("days", "Only the last N site-local days, 1-366 (default: all).")],
        ),
        Op {
            idempotent: true,
            ..op(
                "post",
                "/v1/sites/{site}/callbacks",
                "Request a callback. The first answer (201) carries the follow-up token.",
                Public,
                Some("NewCallback"),
                &[
                    (201, "Stored.", "CallbackReceipt"),
                    (200, "A replay: the original receipt without token.", "CallbackReceipt"),
                ],
                &[],
            )
        },
        op(
            "get",
            "/v1/sites/{site}/callbacks",
            "Operator queue of callbacks, earliest due first.",
            Operator,
            None,
            &[(200, "Callbacks.", "CallbackList")],
            &[("status", "pending (default: received or scheduled), all, received, scheduled, done, unreachable.")],
        ),
        op(
            "get",
            "/v1/sites/{site}/callbacks/slots",
            "Bookable callback slots over the next 5 business days.",
            Public,
            None,
            &[(200, "Slots.", "CallbackSlots")],
            &[],
        ),
        op(
            "get",
            "/v1/sites/{site}/callbacks/{reference}",
            "Follow-up of a callback (Bearer: the receipt's token).",
            Visitor,
            None,
            &[(200, "Status and due time.", "CallbackFollowUp")],
            &[],
        ),
        op(
            "put",
            "/v1/sites/{site}/callbacks/{reference}",
            "The visitor moves their callback (Bearer: the receipt's token): `preferred_ms` a bookable slot start \
             (`…/callbacks/slots`), or null for as soon as possible (due as posted now). Only while received or \
             scheduled; the ledger's promise moves with it; `callback.updated` is sent.",
            Visitor,
            Some("CallbackChange"),
            &[
                (200, "The callback now.", "CallbackFollowUp"),
                (404, "not_found (also for a wrong token).", "ApiError"),
                (409, "conflict: already made, or cancelled.", "ApiError"),
                (422, "validation_failed: preferred_ms is not a bookable time.", "ApiError"),
            ],
            &[],
        ),
        op(
            "delete",
            "/v1/sites/{site}/callbacks/{reference}",
            "The visitor cancels their callback (Bearer: the receipt's token): status `cancelled`, the promise void, \
             `callback.updated` sent. Repeating it answers 204 again.",
            Visitor,
            None,
            &[
                (204, "Cancelled.", ""),
                (404, "not_found (also for a wrong token).", "ApiError"),
                (409, "conflict: the call was already made.", "ApiError"),
            ],
            &[],
        ),
        op(
            "put",
            "/v1/sites/{site}/callbacks/{reference}/status",
            "Operator sets a callback's status.",
            Operator,
            Some("CallbackStatusUpdate"),
            &[(200, "The callback now.", "CallbackFollowUp")],
            &[],
        ),
        op(
            "post",
            "/v1/sites/{site}/conversations",
            "Start a conversation with its first message (idempotent on the message's client_id).",
            Public,
            Some("NewConversation"),
            &[
                (201, "Started.", "ConversationCreated"),
                (
                    200,
                    "A replay with the same create_key: the same conversation and a fresh token.",
                    "ConversationCreated",
                ),
                (409, "conflict: a replay without the first request's create_key (no token is given).", "ApiError"),
                (
                    422,
                    "validation_failed, or idempotency_key_reused (same client_id, another first message).",
                    "ApiError",
                ),
            ],
            &[],
        ),
        op(
            "post",
            "/v1/sites/{site}/conversations/{id}/messages",
            "Add a message (Bearer: the conversation's token; idempotent on client_id).",
            Visitor,
            Some("NewMessage"),
            &[(201, "Stored.", "MessageAck"), (200, "A replay.", "MessageAck")],
            &[],
        ),
        op(
            "get",
            "/v1/sites/{site}/conversations/{id}/messages",
            "Read the conversation (Bearer: the conversation's token).",
            Visitor,
            None,
            &[(200, "Messages, oldest first.", "MessageList")],
            &[("after", "Only messages with a larger id.")],
        ),
        op(
            "get",
            "/v1/sites/{site}/conversations/{id}/events",
            "Live events (text/event-stream): `message` (id = message id, data ChatMessage), `typing` \
             (TypingEvent), `closed` (ConversationClosed). Replays messages after Last-Event-ID (header) or \
             ?after=, then live; keep-alive comments every 15 s. Bearer token, or ?token= for EventSource.",
            Visitor,
            None,
            &[(200, "The event stream.", "sse")],
            &[
                ("after", "Replay messages with a larger id (the Last-Event-ID header wins)."),
                ("token", "The conversation's token, for clients that cannot set headers (EventSource)."),
            ],
        ),
        op(
            "post",
            "/v1/sites/{site}/conversations/{id}/typing",
            "The visitor is typing (Bearer: the conversation's token). Relayed, never stored; 60 a minute.",
            Visitor,
            None,
            &[(204, "Relayed.", "")],
            &[],
        ),
        op(
            "put",
            "/v1/sites/{site}/conversations/{id}/contact",
            "Where replies go if the visitor is not there when they come (Bearer: the conversation's token): \
             an e-mail address, and the visitor's language for the e-mail.",
            Visitor,
            Some("ContactUpdate"),
            &[
                (200, "Saved: the address as shown back and the promised reply time.", "ContactSaved"),
                (404, "not_found (also for a wrong token).", "ApiError"),
                (422, "validation_failed: email required, too long or not an address.", "ApiError"),
            ],
            &[],
        ),
        op(
            "delete",
            "/v1/sites/{site}/conversations/{id}/contact",
            "Forget the visitor's e-mail address for this conversation.",
            Visitor,
            None,
            &[(204, "Removed.", ""), (404, "not_found (also for a wrong token).", "ApiError")],
            &[],
        ),
        op(
            "get",
            "/v1/console/history",
            "A site's conversations of the last `days` (90; 1-366) whose messages, visitor e-mail or page contain \
             `q` (at most 200 characters; ASCII letters match in any case), with chat rating `rating` if given; \
             newest first, at most 50. `site` is required.",
            Console,
            None,
            &[
                (200, "Matching conversations.", "History"),
                (404, "not_found: not one of the operator's sites.", "ApiError"),
                (422, "validation_failed: site missing, days, q or rating invalid.", "ApiError"),
            ],
            &[],
        ),
        op(
            "get",
            "/v1/console/replies",
            "The site's canned replies (`?site=S`), inserted in the console with `/shortcut`.",
            Console,
            None,
            &[
                (200, "In config order.", "CannedReplies"),
                (404, "not_found: not one of the operator's sites.", "ApiError"),
                (422, "validation_failed: site missing.", "ApiError"),
            ],
            &[],
        ),
        op(
            "post",
            "/v1/console/conversations/{id}/transcript",
            "E-mail the whole conversation to the visitor's address (sent once per state of the conversation); \
             the answer names the address, masked.",
            Console,
            None,
            &[
                (202, "Queued.", "TranscriptQueued"),
                (404, "not_found (also another site's).", "ApiError"),
                (409, "conflict: e-mail is off, or the visitor left no address (or stopped e-mails).", "ApiError"),
            ],
            &[],
        ),
        op(
            "post",
            "/v1/sites/{site}/conversations/{id}/transcript",
            "The visitor asks for the conversation by e-mail, to the address they gave (Bearer: the conversation's \
             token); sent once per state of the conversation.",
            Visitor,
            None,
            &[
                (202, "Queued.", "TranscriptQueued"),
                (404, "not_found (also for a wrong token).", "ApiError"),
                (409, "conflict: e-mail is off, or no address was given (or e-mails were stopped).", "ApiError"),
            ],
            &[],
        ),
        op(
            "get",
            "/v1/console/team",
            "The site's operators (`?site=S`), online first, then by name: whether each is online (chose online \
             and their console is alive), their open conversations and capacity. Transfer with \
             `POST /v1/console/conversations/{id}/assign`.",
            Console,
            None,
            &[
                (200, "The team.", "Team"),
                (404, "not_found: not one of the operator's sites.", "ApiError"),
                (422, "validation_failed: site missing.", "ApiError"),
            ],
            &[],
        ),
        op(
            "delete",
            "/v1/sites/{site}/conversations/{id}",
            "\"Delete this conversation\" (Bearer: the conversation's token): its messages, tokens, e-mails \
             and webhook copies are erased; the audit log records that the visitor did it.",
            Visitor,
            None,
            &[(204, "Erased.", ""), (404, "not_found (also for a wrong token, and once erased).", "ApiError")],
            &[],
        ),
        op(
            "post",
            "/v1/console/data/export",
            "Admins: everything held about one person on a site (GDPR Art. 15), as JSON; audited.",
            Console,
            Some("PersonSelector"),
            &[
                (200, "The person's rows, table by table.", "PersonExport"),
                (404, "not_found: not an admin.", "ApiError"),
                (422, "validation_failed: site unknown, or not exactly one valid selector.", "ApiError"),
            ],
            &[],
        ),
        op(
            "post",
            "/v1/console/data/erase",
            "Admins: deletes everything held about one person on a site (GDPR Art. 17); audited.",
            Console,
            Some("PersonSelector"),
            &[
                (200, "Rows removed per table.", "PersonErased"),
                (404, "not_found: not an admin.", "ApiError"),
                (422, "validation_failed: site unknown, or not exactly one valid selector.", "ApiError"),
            ],
            &[],
        ),
        op(
            "get",
            "/v1/console/operators",
            "Admins: every operator account (sites, role, capacity), by e-mail.",
            Console,
            None,
            &[(200, "The accounts.", "OperatorAccounts"), (404, "not_found: not an admin.", "ApiError")],
            &[],
        ),
        op(
            "post",
            "/v1/console/operators",
            "Admins: a new operator account; audited (never the password).",
            Console,
            Some("NewOperator"),
            &[
                (201, "Created.", "OperatorAccount"),
                (404, "not_found: not an admin.", "ApiError"),
                (409, "conflict: an operator with this e-mail already exists.", "ApiError"),
                (422, "validation_failed: e-mail, name, password, sites or capacity.", "ApiError"),
            ],
            &[],
        ),
        op(
            "put",
            "/v1/console/operators/{id}",
            "Admins: replace an operator's sites, role and capacity; audited. Your own admin role stays.",
            Console,
            Some("OperatorAccess"),
            &[
                (200, "Updated.", "OperatorAccount"),
                (404, "not_found: no such operator, or not an admin.", "ApiError"),
                (422, "validation_failed: sites, capacity, or your own admin role.", "ApiError"),
            ],
            &[],
        ),
        op(
            "delete",
            "/v1/console/operators/{id}",
            "Admins: remove an account; its sessions end, its open conversations become unassigned; audited.",
            Console,
            None,
            &[
                (204, "Removed.", ""),
                (404, "not_found: no such operator, or not an admin.", "ApiError"),
                (409, "conflict: your own account.", "ApiError"),
            ],
            &[],
        ),
        op(
            "get",
            "/v1/console/audit",
            "Admins: the latest 500 exports and erasures: who, when, which kind of selector (never its value).",
            Console,
            None,
            &[(200, "Newest first.", "AuditLog"), (404, "not_found: not an admin.", "ApiError")],
            &[],
        ),
        op(
            "get",
            "/v1/console/webhooks/dead",
            "Admins: webhook deliveries still failing `dead_after_hours` after their event; no longer retried.",
            Console,
            None,
            &[(200, "Oldest first.", "DeadWebhooks"), (404, "not_found: not an admin.", "ApiError")],
            &[],
        ),
        op(
            "post",
            "/v1/console/webhooks/dead/retry",
            "Admins: deliver these dead ones again from now on (`ids: null`: all).",
            Console,
            Some("DeadWebhookIds"),
            &[(200, "How many.", "DeadWebhookCount"), (404, "not_found: not an admin.", "ApiError")],
            &[],
        ),
        op(
            "post",
            "/v1/console/webhooks/dead/drop",
            "Admins: delete these dead ones (`ids: null`: all).",
            Console,
            Some("DeadWebhookIds"),
            &[(200, "How many.", "DeadWebhookCount"), (404, "not_found: not an admin.", "ApiError")],
            &[],
        ),
        op(
            "get",
            "/v1/email/stop",
            "The stop link of every e-mail: no more e-mails about that conversation (an HTML page).",
            Public,
            None,
            &[(200, "Stopped.", ""), (404, "Not a valid link.", "")],
            &[("c", "The conversation id."), ("s", "The link's signature.")],
        ),
        op(
            "post",
            "/v1/email/stop",
            "One-click unsubscribe from a mail client (RFC 8058); same as GET.",
            Public,
            None,
            &[(200, "Stopped.", ""), (404, "Not a valid link.", "")],
            &[("c", "The conversation id."), ("s", "The link's signature.")],
        ),
        op(
            "post",
            "/v1/console/login",
            "Operator log-in: sets the HttpOnly, SameSite=Strict porchlight_session cookie. 10 tries a minute per IP.",
            Public,
            Some("OperatorLogin"),
            &[
                (200, "Signed in.", "OperatorMe"),
                (401, "unauthorized: wrong e-mail or password.", "ApiError"),
                (429, "rate_limited.", "ApiError"),
            ],
            &[],
        ),
        op(
            "post",
            "/v1/console/logout",
            "End the session and clear the cookie.",
            Public,
            None,
            &[(204, "Signed out.", "")],
            &[],
        ),
        op(
            "get",
            "/v1/console/me",
            "The signed-in operator and their sites.",
            Console,
            None,
            &[(200, "The operator.", "OperatorMe")],
            &[],
        ),
        op(
            "put",
            "/v1/console/presence",
            "Set the operator's own presence (online / away) for one of their sites. It counts toward the site's \
             availability only while their console is alive (a heartbeat within 60 s).",
            Console,
            Some("ConsolePresenceUpdate"),
            &[(200, "The stored presence.", "Presence")],
            &[],
        ),
        op(
            "get",
            "/v1/console/presence",
            "The operator's own presence choice for a site (away until chosen).",
            Console,
            None,
            &[(200, "The operator's presence.", "Presence")],
            &[("site", "One of the operator's sites.")],
        ),
        op(
            "post",
            "/v1/console/heartbeat",
            "The console is alive: sent every 20 s. Without one for 60 s the operator counts as away.",
            Console,
            None,
            &[(204, "Noted.", "")],
            &[],
        ),
        op(
            "post",
            "/v1/console/leave",
            "The console's tab is closing: the operator is away at once (not after the 60 s expiry) unless \
             another console of theirs keeps its event stream open; their next request brings them back.",
            Console,
            None,
            &[(204, "Away.", "")],
            &[],
        ),
        op(
            "get",
            "/v1/console/inbox",
            "Open conversations, longest waiting first, with the posted promise and breaches.",
            Console,
            None,
            &[(200, "The inbox.", "Inbox")],
            &[
                ("site", "Only this site (default: all the operator's sites)."),
                ("view", "mine, unassigned (also those whose assignee went away) or all (default)."),
            ],
        ),
        op(
            "get",
            "/v1/console/events",
            "Operator events (text/event-stream): message, typing, closed, each with ConsoleEvent data, on the \
             operator's sites. Notifications only: reload the inbox after a reconnect.",
            Console,
            None,
            &[(200, "The event stream.", "sse")],
            &[],
        ),
        op(
            "get",
            "/v1/console/conversations/{id}",
            "A conversation with all its messages.",
            Console,
            None,
            &[(200, "The conversation.", "ConsoleConversation")],
            &[],
        ),
        op(
            "post",
            "/v1/console/conversations/{id}/messages",
            "Reply as operator (idempotent on client_id); delivered live and to webhooks.",
            Console,
            Some("NewMessage"),
            &[(201, "Stored.", "MessageAck"), (200, "A replay.", "MessageAck")],
            &[],
        ),
        op(
            "post",
            "/v1/console/conversations/{id}/typing",
            "The operator is typing: relayed to the visitor, never stored.",
            Console,
            None,
            &[(204, "Relayed.", "")],
            &[],
        ),
        op(
            "post",
            "/v1/console/conversations/{id}/close",
            "Close the conversation (the first close wins); the visitor gets `event: closed`.",
            Console,
            None,
            &[(200, "Closed.", "ConversationClosed")],
            &[],
        ),
        op(
            "post",
            "/v1/console/conversations/{id}/assign",
            "Claim (your own id), transfer (a colleague of the site) or unassign (null).",
            Console,
            Some("AssignUpdate"),
            &[
                (204, "Assigned.", ""),
                (404, "not_found (also another site's).", "ApiError"),
                (422, "validation_failed: not an operator of this site.", "ApiError"),
            ],
            &[],
        ),
    ];
    // The benchmark's no-op write exists only in builds made with the `bench` feature.
    #[cfg(feature = "bench")]
    ops.push(Op {
        idempotent: true,
        ..op(
            "post",
            "/v1/sites/{site}/noop",
            "Reference server only: a rating request checked like POST …/ratings and not stored (benchmarks).",
            Public,
            Some("NewRating"),
            &[(204, "Checked, nothing stored.", "")],
            &[],
        )
    });
    ops
}

/// The (method, path) pairs documented, for the route test.
pub fn documented_routes() -> Vec<(&'static str, &'static str)> {
    operations().iter().map(|o| (o.method, o.path)).collect()
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { JSON: { "schema": schema_ref("ApiError") } } })
}

fn operation(op: &Op) -> Value {
    let mut responses = Map::new();
    for &(status, description, schema) in op.responses {
        let body = match schema {
            "" => json!({ "description": description }),
            "csv" => json!({ "description": description, "content": { "text/csv": { "schema": {"type": "string"} } } }),
            "sse" => json!({ "description": description,
                "content": { "text/event-stream": { "schema": {"type": "string"} } } }),
            name => json!({ "description": description, "content": { JSON: { "schema": schema_ref(name) } } }),
        };
        responses.insert(status.to_string(), body);
    }
    let mut add = |status: u16, description: &str| {
        responses.entry(status.to_string()).or_insert_with(|| error_response(description));
    };
    if op.path.contains("{site}") {
        add(403, "origin_not_allowed: the Origin is not one of the site's origins.");
        add(404, "site_not_found, or not_found for an unknown id.");
    }
    if op.path.contains("{id}") || op.path.contains("{reference}") {
        add(404, "not_found: no such id (or not one of the operator's sites, or a wrong token).");
    }
    if op.request.is_some() {
        add(400, "malformed_json (or missing_idempotency_key).");
        add(413, "payload_too_large (over 16 KiB).");
        add(415, "unsupported_media_type: send application/json.");
        add(422, "validation_failed with field errors.");
    }
    if !matches!(op.auth, Auth::Public) {
        add(401, "unauthorized: missing or wrong bearer token.");
    }
    if matches!(op.method, "post" | "put" | "delete") && op.path.contains("{site}") {
        add(429, "rate_limited; wait the Retry-After header's seconds.");
    }
    add(500, "internal.");
    let mut parameters = Vec::new();
    for name in ["site", "id", "reference"] {
        if op.path.contains(&format!("{{{name}}}")) {
            parameters.push(json!({ "name": name, "in": "path", "required": true, "schema": {"type": "string"} }));
        }
    }
    if op.idempotent {
        parameters.push(json!({ "$ref": "#/components/parameters/IdempotencyKey" }));
    }
    for &(name, description) in op.query {
        parameters.push(json!({ "name": name, "in": "query", "required": false, "description": description,
            "schema": {"type": "string"} }));
    }
    let mut value = json!({
        "summary": op.summary,
        "operationId": format!("{}_{}", op.method, op.path.trim_start_matches("/v1/").replace(['/', '{', '}', '.'], "_")),
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(request) = op.request {
        value["requestBody"] = json!({ "required": true, "content": { JSON: { "schema": schema_ref(request) } } });
    }
    match op.auth {
        Auth::Public => {}
        Auth::Visitor => value["security"] = json!([{ "visitorToken": [] }]),
        Auth::Operator => value["security"] = json!([{ "operatorToken": [] }]),
        Auth::Console => value["security"] = json!([{ "operatorSession": [] }, { "operatorToken": [] }]),
    }
    value
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

fn schemas() -> Value {
    let s = || json!({"type": "string"});
    let n = || json!({"type": "integer", "format": "int64"});
    let ns = || json!({"type": ["string", "null"]});
    let nn = || json!({"type": ["integer", "null"], "format": "int64"});
    let rating_value = json!({"type": "string", "enum": ["bad", "neutral", "good", "1", "2", "3", "4", "5"],
        "description": "A value of the site's `rating_scale` (GET …/config): faces3 takes bad, neutral, good; \
            thumbs2 bad, good; stars5 1 to 5. Any other value is a 422 on `value`."});
    let status = json!({"type": "string", "enum": ["received", "scheduled", "done", "unreachable", "cancelled"]});
    json!({
        "ApiError": object(&["error"], json!({"error": object(&["code", "message"], json!({
            "code": {"type": "string", "enum": ["malformed_json", "missing_idempotency_key", "unauthorized",
                "origin_not_allowed", "site_not_found", "not_found", "method_not_allowed", "payload_too_large",
                "unsupported_media_type", "validation_failed", "change_window_closed", "idempotency_key_reused",
                "conflict", "rate_limited", "internal"]},
            "message": s(),
            "fields": {"type": "array", "items": object(&["field", "code", "message"], json!({
                "field": s(), "code": {"type": "string", "enum": ["required", "too_short", "too_long", "invalid",
                    "unsupported", "not_in_use", "no_country_code"]}, "message": s()}))}}))})),
        "SiteConfig": object(&["site", "name", "timezone", "promises"], json!({"site": s(), "name": s(),
            "greeting": ns(), "timezone": s(), "promises": {"type": "object"},
            "rating_scale": {"type": "string", "enum": ["faces3", "thumbs2", "stars5"]},
            "callback_topics": {"type": "array", "items": s(),
                "description": "The topic values a callback's `topic` must be one of, whatever the language."},
            "callback_topic_labels": {"type": "array", "items": s(), "description": "Display labels of \
                callback_topics in `locale`, same length and order; empty: show the values."},
            "consent_text": ns(), "default_country": ns(), "rating_change_window_secs": nn(),
            "launcher_text": {"type": ["string", "null"], "description": "The site's launcher text; null: the \
                widget's own."},
            "locale": {"type": ["string", "null"], "description": "Primary language subtag of greeting, \
                consent_text, callback_topic_labels and launcher_text; null: the site's default texts."},
            "theme": {"oneOf": [schema_ref("Theme"), {"type": "null"}]}})),
        "Availability": {"type": "object", "description": "See the protocol crate's availability module."},
        "PresenceUpdate": object(&["status"], json!({"status": {"type": "string", "enum": ["online", "away"]}})),
        "Presence": object(&["status", "updated_ms"], json!({"status": s(), "updated_ms": n()})),
        "NewRating": object(&["value"], json!({"value": rating_value,
            "scale": {"type": "string", "enum": ["faces3", "thumbs2", "stars5"]},
            "page": object(&["path"], json!({"path": s(), "title": ns()})),
            "comment": {"type": ["string", "null"], "maxLength": 2000},
            "context": object(&[], json!({"kind": {"type": "string", "enum": ["standalone", "chat", "callback"]},
                "ref_id": ns()}))})),
        "RatingChange": object(&["value"], json!({"value": rating_value,
            "comment": {"type": ["string", "null"], "maxLength": 2000,
                "description": "Absent: keep the stored comment; empty: remove it."}})),
        "RatingReceipt": object(&["id", "value", "created_ms"], json!({"id": s(), "value": rating_value,
            "created_ms": n(), "token": ns(), "changeable_until_ms": nn(), "undone": {"type": "boolean"}})),
        "AssignUpdate": object(&[], json!({"operator_id": ns()})),
        "ContactUpdate": object(&["email"], json!({"email": {"type": "string", "maxLength": 254, "format": "email"},
            "locale": {"type": ["string", "null"], "maxLength": 35}})),
        "ContactSaved": object(&["email_masked", "reply_by_ms"], json!({"email_masked": s(), "reply_by_ms": n()})),
        "PromiseSummary": object(&["site", "days", "from_ms", "now_ms", "kinds"], json!({
            "site": s(), "days": n(), "from_ms": n(), "now_ms": n(),
            "kinds": {"type": "array", "items": object(&["kind", "total", "open", "kept", "broken", "void", "worst"], json!({
                "kind": {"type": "string", "enum": ["chat_first_reply", "callback", "message_reply"]},
                "total": n(), "open": n(), "kept": n(), "broken": n(), "void": n(),
                "kept_rate": {"type": ["number", "null"]}, "median_margin_secs": {"type": ["integer", "null"]},
                "worst": {"type": "array", "items": object(&["subject_id", "due_ms"], json!({
                    "subject_id": s(), "due_ms": n(), "answered_ms": {"type": ["integer", "null"]},
                    "late_secs": {"type": ["integer", "null"]}}))}}))}})),
        "RatingSummary": object(&["site", "days", "total", "positive", "counts", "per_day", "per_page"], json!({
            "site": s(), "scale": s(), "days": n(), "from_ms": n(), "to_ms": n(), "total": n(), "positive": n(),
            "share_positive": {"type": ["number", "null"]},
            "counts": {"type": "array", "items": object(&["value", "count"], json!({"value": s(), "count": n()}))},
            "per_day": {"type": "array", "items": object(&["date", "total", "positive", "counts"], json!({
                "date": {"type": "string", "format": "date"}, "total": n(), "positive": n(),
                "counts": {"type": "array"}}))},
            "per_page": {"type": "array", "items": object(&["path", "total", "positive", "share_positive"], json!({
                "path": ns(), "title": ns(), "total": n(), "positive": n(), "share_positive": {"type": "number"}}))},
            "recent": {"type": "array", "description": "The latest 20 ratings with a comment or a chat/callback behind them.",
                "items": object(&["value", "context_kind", "created_ms"], json!({"value": s(), "comment": ns(),
                    "context_kind": s(), "context_ref": ns(), "page_path": ns(), "created_ms": n()}))}})),
        "NewCallback": object(&["name", "phone"], json!({"name": {"type": "string", "maxLength": 100},
            "phone": {"type": "string", "description": "As typed; normalised to E.164."},
            "country": {"type": ["string", "null"], "description": "ISO 3166 alpha-2 hint for national numbers."},
            "preferred_ms": nn(), "note": ns(), "topic": ns(), "consent": {"type": "boolean"},
            "website": {"type": ["string", "null"], "description": "Honeypot: leave empty."}})),
        "CallbackReceipt": object(&["reference", "status", "due_ms"], json!({"reference": s(), "status": status,
            "due_ms": n(), "token": ns()})),
        "CallbackSlots": object(&["timezone", "slot_minutes", "asap_due_ms", "slots"], json!({"timezone": s(),
            "slot_minutes": n(), "asap_due_ms": n(), "slots": {"type": "array", "items":
                object(&["start_ms", "end_ms"], json!({"start_ms": n(), "end_ms": n()}))}})),
        "CallbackFollowUp": object(&["reference", "status", "due_ms", "created_ms"], json!({"reference": s(),
            "status": status, "due_ms": n(), "preferred_ms": nn(), "created_ms": n(), "updated_ms": nn()})),
        "CallbackStatusUpdate": object(&["status"], json!({"status": status, "due_ms": nn()})),
        "CallbackList": object(&["callbacks"], json!({"callbacks": {"type": "array", "items": object(
            &["reference", "status", "due_ms", "name", "phone", "created_ms"], json!({"reference": s(),
            "status": status, "due_ms": n(), "preferred_ms": nn(), "name": s(), "phone": s(), "phone_display": ns(), "topic": ns(),
            "note": ns(), "created_ms": n(), "updated_ms": nn()}))}})),
        "NewMessage": object(&["client_id", "body"], json!({
            "client_id": {"type": "string", "minLength": 8, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$",
                "description": "The client's id for the message: a repeat with the same id is the same message."},
            "body": {"type": "string", "minLength": 1, "maxLength": porchlight_protocol::chat::MAX_MESSAGE_CHARS,
                "pattern": "\\S", "description": "Trimmed; blank is refused."}})),
        "NewConversation": object(&["message"], json!({"message": schema_ref("NewMessage"),
            "page": object(&["path"], json!({"path": s(), "title": ns()})),
            "create_key": {"type": "string", "minLength": 16, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$"},
            "locale": {"type": "string", "maxLength": 35, "pattern": "^[A-Za-z0-9-]+$",
                "description": "The widget's language, shown in the console."},
            "time_zone": {"type": "string", "maxLength": 64, "pattern": "^[A-Za-z0-9/_+-]+$",
                "description": "The visitor's IANA zone; the console shows their local time. An unknown zone is dropped."}})),
        "MessageAck": object(&["id", "client_id", "created_ms"], json!({"id": n(), "client_id": s(),
            "created_ms": n()})),
        "ConversationCreated": object(&["conversation_id", "token", "message"], json!({"conversation_id": s(),
            "token": s(), "message": schema_ref("MessageAck")})),
        "MessageList": object(&["messages"], json!({"messages": {"type": "array", "items": {"type": "object"}}})),
        "WebhookEvent": object(&["id", "type", "site", "created_ms", "data"], json!({
            "id": {"type": "string", "description": "Event id: deliveries are at least once, dedupe on it."},
            "type": {"type": "string", "enum": ["rating.created", "rating.changed", "callback.created",
                "callback.updated", "message.created"]},
            "site": s(), "created_ms": n(), "data": {"type": "object"}})),
    })
}

/// The live chat and console schemas, and `Theme` (a second `json!` keeps the macro within its
/// recursion limit).
fn chat_schemas() -> Value {
    let s = || json!({"type": "string"});
    let n = || json!({"type": "integer", "format": "int64"});
    let ns = || json!({"type": ["string", "null"]});
    let nn = || json!({"type": ["integer", "null"], "format": "int64"});
    json!({
        "ChatMessage": object(&["id", "client_id", "author", "body", "created_ms"], json!({"id": n(),
            "client_id": s(), "author": {"type": "string", "enum": ["visitor", "operator"]}, "body": s(),
            "created_ms": n()})),
        "Theme": object(&["color", "text_color"], json!({
            "color": {"type": "string", "pattern": "^#[0-9a-f]{6}$", "description": "The brand colour."},
            "text_color": {"type": "string", "enum": ["#ffffff", "#000000"], "description": "Whichever of \
                white and black has the higher WCAG 2.x contrast ratio on `color` (always at least 4.5:1)."},
            "dark_color": {"type": ["string", "null"], "pattern": "^#[0-9a-f]{6}$",
                "description": "Used instead of `color` under prefers-color-scheme: dark; null: `color`."},
            "dark_text_color": {"type": ["string", "null"], "enum": ["#ffffff", "#000000", null]}})),
        "TypingEvent": object(&["author"], json!({"author": {"type": "string", "enum": ["visitor", "operator"]}})),
        "ConversationClosed": object(&["closed_ms"], json!({"closed_ms": n()})),
        "OperatorLogin": object(&["email", "password"], json!({"email": s(), "password": s()})),
        "OperatorMe": object(&["id", "name", "sites"], json!({"id": s(), "email": ns(), "name": s(),
            "sites": {"type": "array", "items": s()}, "admin": {"type": "boolean"}})),
        "ConsolePresenceUpdate": object(&["site", "status"], json!({"site": s(),
            "status": {"type": "string", "enum": ["online", "away"]}})),
        "Inbox": object(&["now_ms", "conversations"], json!({"now_ms": n(), "conversations": {"type": "array",
            "items": object(&["conversation_id", "site", "created_ms", "promise_secs", "breached"], json!({
                "conversation_id": s(), "site": s(), "created_ms": n(), "waiting_since_ms": nn(),
                "promise_secs": n(), "reply_by_ms": nn(), "breached": {"type": "boolean"},
                "last_message": {"oneOf": [schema_ref("ChatMessage"), {"type": "null"}]}}))}})),
        "ConsoleConversation": object(&["conversation_id", "site", "created_ms", "messages", "previous"], json!({
            "conversation_id": s(), "site": s(), "created_ms": n(), "closed_ms": nn(), "page_path": ns(),
            "page_title": ns(), "visitor_email": ns(), "visitor_locale": ns(), "visitor_time_zone": ns(),
            "rating": ns(), "messages": {"type": "array", "items": schema_ref("ChatMessage")},
            "previous": {"type": "array", "items": schema_ref("PastConversation"),
                "description": "The same visitor's other conversations on the site (same e-mail), newest first."}})),
        "PastConversation": object(&["conversation_id", "site", "created_ms", "snippet", "messages"], json!({
            "conversation_id": s(), "site": s(), "created_ms": n(), "closed_ms": nn(), "page_path": ns(),
            "visitor_email": ns(), "snippet": s(), "messages": n(), "rating": ns()})),
        "History": object(&["conversations"], json!({"conversations": {"type": "array",
            "items": schema_ref("PastConversation")}})),
        "CannedReplies": object(&["replies"], json!({"replies": {"type": "array", "items": object(
            &["shortcut", "text"], json!({"shortcut": s(), "text": s()}))}})),
        "OperatorAccount": object(&["id", "email", "name", "sites", "admin", "capacity"], json!({
            "id": s(), "email": s(), "name": s(),
            "sites": {"type": ["array", "null"], "items": s(), "description": "null: every site."},
            "admin": {"type": "boolean"}, "capacity": {"type": "integer", "minimum": 1, "maximum": 50}})),
        "OperatorAccounts": object(&["operators"], json!({"operators": {"type": "array",
            "items": schema_ref("OperatorAccount")}})),
        "NewOperator": object(&["email", "name", "password"], json!({
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "password": {"type": "string", "minLength": 10, "maxLength": 1024},
            "sites": {"type": ["array", "null"], "items": s(), "minItems": 1,
                "description": "Configured site ids; null or absent: every site (always for an admin)."},
            "admin": {"type": "boolean", "default": false},
            "capacity": {"type": "integer", "minimum": 1, "maximum": 50, "default": 3}})),
        "OperatorAccess": object(&["admin", "capacity"], json!({
            "sites": {"type": ["array", "null"], "items": s(), "minItems": 1,
                "description": "Configured site ids; null or absent: every site (always for an admin)."},
            "admin": {"type": "boolean"},
            "capacity": {"type": "integer", "minimum": 1, "maximum": 50}})),
        "CallbackChange": object(&[], json!({"preferred_ms": {"type": ["integer", "null"], "minimum": 1,
            "description": "A slot start from …/callbacks/slots, Unix ms; null: as soon as possible."}})),
        "TranscriptQueued": object(&["to"], json!({"to": {"type": "string", "description": "The address, masked: a***@example.lv."}})),
        "Team": object(&["members"], json!({"members": {"type": "array", "items": object(
            &["id", "name", "online", "open", "capacity"],
            json!({"id": s(), "name": s(), "online": {"type": "boolean"}, "open": n(), "capacity": n()}))}})),
        "ConsoleEvent": object(&["conversation_id", "site"], json!({"conversation_id": s(), "site": s(),
            "message": {"oneOf": [schema_ref("ChatMessage"), {"type": "null"}]},
            "typing": {"oneOf": [schema_ref("TypingEvent"), {"type": "null"}]},
            "closed": {"oneOf": [schema_ref("ConversationClosed"), {"type": "null"}]}})),
    })
}

fn all_schemas() -> Value {
    let mut all = schemas();
    if let (Some(all), Value::Object(more)) = (all.as_object_mut(), chat_schemas()) {
        all.extend(more);
    }
    all
}

/// OpenAPI `links`: what each create's answer lets a client call next, with which values.
fn links() -> [(&'static str, &'static str, &'static str, Value); 4] {
    let id = |path: &str| json!({ "operationId": path, "parameters": {"site": "$request.path.site", "id": "$response.body#/conversation_id"} });
    [
        (
            "/v1/sites/{site}/conversations",
            "post",
            "201",
            json!({
                "Messages": id("get_sites__site__conversations__id__messages"),
                "AddMessage": id("post_sites__site__conversations__id__messages"),
                "Events": id("get_sites__site__conversations__id__events"),
                "Delete": id("delete_sites__site__conversations__id_"),
            }),
        ),
        (
            "/v1/sites/{site}/ratings",
            "post",
            "201",
            json!({
                "Change": { "operationId": "put_sites__site__ratings__id_",
                    "parameters": {"site": "$request.path.site", "id": "$response.body#/id"},
                    "description": "Bearer: `$response.body#/token`." },
                "Undo": { "operationId": "delete_sites__site__ratings__id_",
                    "parameters": {"site": "$request.path.site", "id": "$response.body#/id"} },
            }),
        ),
        (
            "/v1/sites/{site}/callbacks",
            "post",
            "201",
            json!({
                "FollowUp": { "operationId": "get_sites__site__callbacks__reference_",
                    "parameters": {"site": "$request.path.site", "reference": "$response.body#/reference"},
                    "description": "Bearer: `$response.body#/token`." },
            }),
        ),
        (
            "/v1/console/login",
            "post",
            "200",
            json!({
                "Inbox": { "operationId": "get_console_inbox", "description": "With the session cookie just set." },
            }),
        ),
    ]
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for op in operations() {
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method] = operation(&op);
    }
    for (path, method, status, links) in links() {
        if let Some(response) =
            paths.get_mut(path).and_then(|p| p.get_mut(method)).and_then(|o| o["responses"].get_mut(status))
        {
            response["links"] = links;
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Porchlight API",
            "version": "1",
            "description": "The contract between the Porchlight widget and any server implementing it. All \
                instants are Unix milliseconds (UTC). Errors share one shape (ApiError). New fields may be \
                added to any object; clients ignore what they do not know.",
        },
        "paths": paths,
        "webhooks": {
            "event": { "post": {
                "summary": "An accepted event, posted to each of the site's configured webhooks.",
                "description": "Header `Porchlight-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \
                    \"<t>.<body>\")>`; also `Porchlight-Event-Id`. Retried with exponential backoff until a 2xx.",
                "requestBody": { "content": { JSON: { "schema": schema_ref("WebhookEvent") } } },
                "responses": { "200": { "description": "Any 2xx acknowledges the event." } },
            }},
        },
        "components": {
            "schemas": all_schemas(),
            "parameters": {
                "IdempotencyKey": {
                    "name": porchlight_protocol::IDEMPOTENCY_HEADER, "in": "header", "required": true,
                    "description": "8-64 characters of A-Z a-z 0-9 - _, one per logical request. A replay with the \
                        same key returns the original result with 200 and stores nothing new.",
                    "schema": {"type": "string", "minLength": 8, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$"},
                },
            },
            "securitySchemes": {
                "visitorToken": { "type": "http", "scheme": "bearer",
                    "description": "The token of a rating receipt, callback receipt or conversation." },
                "operatorToken": { "type": "http", "scheme": "bearer",
                    "description": "The server's configured operator token." },
                "operatorSession": { "type": "apiKey", "in": "cookie", "name": "porchlight_session",
                    "description": "Set by POST /v1/console/login. State-changing requests must also send \
                        Content-Type: application/json and this server's own Origin." },
            },
        },
    })
}
