//! E-mail: reaching a visitor who left (an operator's reply, after a short grace, several replies
//! in one e-mail) and alerting operators (a message left while nobody was online, a chat promise
//! that broke). Queued in the durable outbox ([`crate::store::email`]) and sent by [`Worker`]
//! through a real SMTP server with lettre; each e-mail once, retried with backoff, a permanent
//! refusal recorded. Addresses are never logged.

use std::time::Duration;

use hmac::{Hmac, Mac};
use lettre::message::header::{self, ContentType};
use lettre::message::{Mailbox, Message, MessageBuilder};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use porchlight_protocol::{Author, SiteId};
use sha2::Sha256;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::config::{SmtpSettings, SmtpTls};
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::{hex, Site};
use crate::store::email::{Contact, EmailRow, NewEmail};

pub const VISITOR_REPLY: &str = "visitor_reply";
pub const ALERT_MESSAGE_LEFT: &str = "alert_message_left";
pub const ALERT_PROMISE_BROKEN: &str = "alert_promise_broken";
/// To the visitor: the promised reply time passed unanswered; an apology and the new time.
pub const VISITOR_LATE: &str = "visitor_late";
/// The whole conversation, sent to the visitor on request (the operator's button, or the
/// visitor's own request with the conversation's token).
pub const VISITOR_TRANSCRIPT: &str = "visitor_transcript";

/// The longest address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A visitor's e-mail address as stored: trimmed, one `@`, a dotted domain, no spaces, no
/// control characters (so nothing can be smuggled into a header), at most 254 characters.
pub fn parse_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim();
    if email.is_empty() {
        return Err("required");
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err("too_long");
    }
    if email.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"')) {
        return Err("invalid");
    }
    let Some((local, domain)) = email.rsplit_once('@') else { return Err("invalid") };
    if local.is_empty()
        || local.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err("invalid");
    }
    // What lettre would send to must parse as the same address.
    email.parse::<lettre::Address>().map_err(|_| "invalid")?;
    Ok(email.to_owned())
}

/// `a***@example.lv`: enough for the visitor to recognise, nothing for a shoulder-surfer.
pub fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// The stop link's signature: HMAC-SHA256 of the conversation id with the server's secret.
pub fn stop_signature(secret: &str, conversation_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"email-stop:");
    mac.update(conversation_id.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// The key of stop links, made on first use and kept in the database.
pub async fn stop_secret(state: &AppState) -> Result<String, AppError> {
    let secret = state
        .stop_secret()
        .get_or_try_init(|| async {
            state.store().secret("email_stop", crate::domain::Token::generate().into_string()).await
        })
        .await?;
    Ok(secret.clone())
}

pub async fn stop_url(state: &AppState, conversation_id: &str) -> Result<String, AppError> {
    let secret = stop_secret(state).await?;
    let base = state.public_url().as_str().trim_end_matches('/').to_owned();
    Ok(format!("{base}/v1/email/stop?c={conversation_id}&s={}", stop_signature(&secret, conversation_id)))
}

/// The words of a reply e-mail in one language.
struct ReplyTexts {
    subject: &'static str,
    intro: &'static str,
    back: &'static str,
    stop: &'static str,
}

/// The primary language subtag of a visitor's locale (`pt-BR` → `pt`); English without one.
fn language(locale: Option<&str>) -> String {
    locale.unwrap_or("en").split(['-', '_']).next().unwrap_or("en").to_ascii_lowercase()
}

/// Per language (the widget's seven); anything else gets English.
fn reply_texts(locale: Option<&str>) -> ReplyTexts {
    match language(locale).as_str() {
        "lv" => ReplyTexts {
            subject: "Atbilde no {site}",
            intro: "{site} atbildēja uz jūsu ziņu:",
            back: "Lai turpinātu sarunu, atveriet lapu, kurā rakstījāt:",
            stop: "Nesūtīt vairs e-pastus par šo sarunu:",
        },
        "it" => ReplyTexts {
            subject: "Risposta da {site}",
            intro: "{site} ha risposto al tuo messaggio:",
            back: "Per continuare la conversazione, apri la pagina da cui hai scritto:",
            stop: "Non ricevere più e-mail su questa conversazione:",
        },
        "eo" => ReplyTexts {
            subject: "Respondo de {site}",
            intro: "{site} respondis al via mesaĝo:",
            back: "Por daŭrigi la interparolon, malfermu la paĝon, de kiu vi skribis:",
            stop: "Ne plu ricevi retleterojn pri ĉi tiu interparolo:",
        },
        "el" => ReplyTexts {
            subject: "Απάντηση από {site}",
            intro: "Το {site} απάντησε στο μήνυμά σας:",
            back: "Για να συνεχίσετε τη συνομιλία, ανοίξτε τη σελίδα από την οποία γράψατε:",
            stop: "Να μη λαμβάνω άλλα e-mail για αυτή τη συνομιλία:",
        },
        "th" => ReplyTexts {
            subject: "คำตอบจาก {site}",
            intro: "{site} ตอบข้อความของคุณแล้ว:",
            back: "หากต้องการสนทนาต่อ ให้เปิดหน้าที่คุณเขียนถึงเรา:",
            stop: "หยุดรับอีเมลเกี่ยวกับการสนทนานี้:",
        },
        "ar" => ReplyTexts {
            subject: "رد من {site}",
            intro: "ردّ {site} على رسالتك:",
            back: "لمتابعة المحادثة، افتح الصفحة التي كتبت منها:",
            stop: "إيقاف الرسائل الإلكترونية حول هذه المحادثة:",
        },
        _ => ReplyTexts {
            subject: "Reply from {site}",
            intro: "{site} has replied to your message:",
            back: "To carry on the conversation, open the page you wrote from:",
            stop: "Stop e-mails about this conversation:",
        },
    }
}

/// The text of a reply e-mail: the replies not yet e-mailed, quoted with who wrote them.
pub fn reply_email(
    site_name: &str,
    locale: Option<&str>,
    replies: &[(Option<String>, String)],
    page_url: &str,
    stop_url: &str,
) -> (String, String) {
    let t = reply_texts(locale);
    let subject = t.subject.replace("{site}", site_name);
    let mut body = t.intro.replace("{site}", site_name);
    body.push_str("\n\n");
    for (author, text) in replies {
        if let Some(author) = author {
            body.push_str(author);
            body.push_str(":\n");
        }
        for line in text.lines() {
            body.push_str("> ");
            body.push_str(line);
            body.push('\n');
        }
        body.push('\n');
    }
    body.push_str(t.back);
    body.push('\n');
    body.push_str(page_url);
    body.push_str("\n\n-- \n");
    body.push_str(t.stop);
    body.push('\n');
    body.push_str(stop_url);
    body.push('\n');
    (subject, body)
}

/// Whether e-mail is configured at all.
pub fn enabled(state: &AppState) -> bool {
    state.smtp().is_some()
}

/// An operator replied in `conversation_id`: if the visitor gave an e-mail, the reply goes out by
/// e-mail after the grace period unless their panel is open on it by then (later replies within
/// the grace join the same e-mail).
pub async fn reply_posted(
    state: &AppState,
    site: &Site,
    conversation_id: &str,
    message_id: i64,
) -> Result<(), AppError> {
    let Some(smtp) = state.smtp() else { return Ok(()) };
    let Some(to) = visitor_address(state, conversation_id).await? else { return Ok(()) };
    // Queued even while the visitor's panel is open: whether they are still there is decided
    // when the grace period ends (a closed tab's stream is noticed within the keep-alive).
    let now_ms = state.clock().now_ms();
    let email = NewEmail {
        site: site.id.as_str(),
        kind: VISITOR_REPLY,
        dedupe_key: format!("reply:{conversation_id}:{message_id}"),
        to_addr: &to,
        conversation_id: Some(conversation_id),
        send_after_ms: now_ms + smtp.reply_grace.as_millis() as i64,
    };
    state.store().queue_email(email, now_ms).await?;
    Ok(())
}

/// Where e-mails about the conversation go: the visitor's address, unless they stopped them.
async fn visitor_address(state: &AppState, conversation_id: &str) -> Result<Option<String>, AppError> {
    let contact = state.store().contact(conversation_id).await?;
    Ok(contact.and_then(|c| c.email.filter(|_| !c.stopped)))
}

/// A promise to reply in `conversation_id`, due at `due_ms`, broke: a visitor who gave an e-mail
/// hears of it once, with an apology and the time they can now count on.
pub async fn running_late(state: &AppState, site: &SiteId, conversation_id: &str, due_ms: i64) -> Result<(), AppError> {
    if !enabled(state) {
        return Ok(());
    }
    let Some(to) = visitor_address(state, conversation_id).await? else { return Ok(()) };
    let now_ms = state.clock().now_ms();
    let email = NewEmail {
        site: site.as_str(),
        kind: VISITOR_LATE,
        dedupe_key: format!("late:{conversation_id}:{due_ms}"),
        to_addr: &to,
        conversation_id: Some(conversation_id),
        send_after_ms: now_ms,
    };
    state.store().queue_email(email, now_ms).await?;
    Ok(())
}

/// A transcript of `conversation_id` for the visitor, at their address: once per state of the
/// conversation (asking again without new messages sends nothing new). Returns the masked
/// address it goes to. Refused (409) when e-mail is off or there is no address to send to.
pub async fn transcript_requested(state: &AppState, site: &Site, conversation_id: &str) -> Result<String, AppError> {
    if !enabled(state) {
        return Err(AppError::Conflict("E-mail is not set up on this server ([smtp] in the configuration)."));
    }
    let Some(to) = visitor_address(state, conversation_id).await? else {
        return Err(AppError::Conflict(
            "The visitor left no e-mail address, or stopped e-mails about this conversation.",
        ));
    };
    let last = state.store().messages(conversation_id, 0).await?.last().map_or(0, |m| m.id);
    let now_ms = state.clock().now_ms();
    let email = NewEmail {
        site: site.id.as_str(),
        kind: VISITOR_TRANSCRIPT,
        dedupe_key: format!("transcript:{conversation_id}:{last}"),
        to_addr: &to,
        conversation_id: Some(conversation_id),
        send_after_ms: now_ms,
    };
    state.store().queue_email(email, now_ms).await?;
    Ok(mask(&to))
}

/// The words of a transcript e-mail in one language.
struct TranscriptTexts {
    subject: &'static str,
    intro: &'static str,
    you: &'static str,
}

fn transcript_texts(locale: Option<&str>) -> TranscriptTexts {
    match language(locale).as_str() {
        "lv" => TranscriptTexts {
            subject: "Jūsu saruna ar {site}",
            intro: "Lūk, jūsu saruna ar {site}, kā lūdzāt:",
            you: "Jūs",
        },
        "it" => TranscriptTexts {
            subject: "La tua conversazione con {site}",
            intro: "Ecco la tua conversazione con {site}, come richiesto:",
            you: "Tu",
        },
        "eo" => TranscriptTexts {
            subject: "Via interparolo kun {site}",
            intro: "Jen via interparolo kun {site}, kiel vi petis:",
            you: "Vi",
        },
        "el" => TranscriptTexts {
            subject: "Η συνομιλία σας με {site}",
            intro: "Ορίστε η συνομιλία σας με {site}, όπως ζητήσατε:",
            you: "Εσείς",
        },
        "th" => {
            TranscriptTexts {
                subject: "บทสนทนาของคุณกับ {site}", intro: "นี่คือบทสนทนาของคุณกับ {site} ตามที่คุณขอ:", you: "คุณ"
            }
        }
        "ar" => TranscriptTexts {
            subject: "محادثتك مع {site}", intro: "إليك محادثتك مع {site} كما طلبت:", you: "أنت"
        },
        _ => TranscriptTexts {
            subject: "Your conversation with {site}",
            intro: "Here is your conversation with {site}, as you asked:",
            you: "You",
        },
    }
}

/// The text of a transcript: every message with who wrote it and when (in the visitor's zone).
pub fn transcript_email(
    site_name: &str,
    locale: Option<&str>,
    messages: &[(Option<String>, String, String)],
    page_url: &str,
    stop_url: &str,
) -> (String, String) {
    let t = transcript_texts(locale);
    let back = reply_texts(locale);
    let mut body = t.intro.replace("{site}", site_name);
    body.push_str("\n\n");
    for (author, when, text) in messages {
        let who = author.as_deref().unwrap_or(t.you);
        body.push_str(&format!("{who}, {when}:\n"));
        for line in text.lines() {
            body.push_str("> ");
            body.push_str(line);
            body.push('\n');
        }
        body.push('\n');
    }
    body.push_str(back.back);
    body.push('\n');
    body.push_str(page_url);
    body.push_str("\n\n-- \n");
    body.push_str(back.stop);
    body.push('\n');
    body.push_str(stop_url);
    body.push('\n');
    (t.subject.replace("{site}", site_name), body)
}

/// The words of a "we're running late" e-mail in one language.
struct LateTexts {
    subject: &'static str,
    sorry: &'static str,
    by: &'static str,
    callback: &'static str,
}

fn late_texts(locale: Option<&str>) -> LateTexts {
    match language(locale).as_str() {
        "lv" => LateTexts {
            subject: "{site}: mēs kavējamies",
            sorry: "Atvainojiet! Mēs solījām atbildēt līdz {due}, bet vēl neesam atbildējuši.",
            by: "Cilvēks jums atbildēs līdz {when}; atbildi nosūtīsim uz šo adresi.",
            callback: "Ja tas nevar gaidīt, pieprasiet atzvanīšanu lapā, kurā rakstījāt:",
        },
        "it" => LateTexts {
            subject: "{site}: siamo in ritardo",
            sorry: "Ci scusiamo: avevamo promesso di rispondere entro {due} e non l'abbiamo ancora fatto.",
            by: "Una persona ti risponderà entro {when}; ti invieremo la risposta a questo indirizzo.",
            callback: "Se non può aspettare, chiedi di essere richiamato dalla pagina da cui hai scritto:",
        },
        "eo" => LateTexts {
            subject: "{site}: ni malfruas",
            sorry: "Pardonu: ni promesis respondi ĝis {due}, kaj ankoraŭ ne respondis.",
            by: "Homo respondos al vi ĝis {when}; ni sendos la respondon al ĉi tiu adreso.",
            callback: "Se tio ne povas atendi, petu revokon sur la paĝo, de kiu vi skribis:",
        },
        "el" => LateTexts {
            subject: "{site}: καθυστερούμε",
            sorry: "Ζητούμε συγγνώμη: υποσχεθήκαμε απάντηση έως {due} και δεν έχουμε απαντήσει ακόμη.",
            by: "Ένας άνθρωπος θα σας απαντήσει έως {when}· θα στείλουμε την απάντηση σε αυτή τη διεύθυνση.",
            callback: "Αν δεν μπορεί να περιμένει, ζητήστε να σας καλέσουμε από τη σελίδα όπου γράψατε:",
        },
        "th" => LateTexts {
            subject: "{site}: เราตอบช้ากว่าที่แจ้งไว้",
            sorry: "ขออภัย เราสัญญาว่าจะตอบภายใน {due} แต่ยังไม่ได้ตอบ",
            by: "เจ้าหน้าที่จะตอบคุณภายใน {when} และเราจะส่งคำตอบมาที่อีเมลนี้",
            callback: "หากรอไม่ได้ ขอให้เราโทรกลับได้จากหน้าที่คุณเขียนถึงเรา:",
        },
        "ar" => LateTexts {
            subject: "{site}: نحن متأخرون",
            sorry: "نعتذر: وعدنا بالرد قبل {due} ولم نرد بعد.",
            by: "سيرد عليك شخص قبل {when}، وسنرسل الرد إلى هذا العنوان.",
            callback: "إن كان الأمر لا يحتمل الانتظار، اطلب معاودة الاتصال من الصفحة التي كتبت منها:",
        },
        _ => LateTexts {
            subject: "{site}: we're running late",
            sorry: "We're sorry: we promised to answer by {due} and haven't yet.",
            by: "A person will reply by {when}; we'll send the reply to this address.",
            callback: "If it can't wait, ask for a callback on the page you wrote from:",
        },
    }
}

/// The text of a "we're running late" e-mail. Times are already formatted.
pub fn late_email(
    site_name: &str,
    locale: Option<&str>,
    due: &str,
    new_time: &str,
    page_url: &str,
    stop_url: &str,
) -> (String, String) {
    let t = late_texts(locale);
    let subject = t.subject.replace("{site}", site_name);
    let body = format!(
        "{}

{}

{}
{page_url}

-- 
{}
{stop_url}
",
        t.sorry.replace("{due}", due),
        t.by.replace("{when}", new_time),
        t.callback,
        reply_texts(locale).stop,
    );
    (subject, body)
}

/// `ms` as a date and time in `zone`, the zone named (`2026-03-11 09:00 (Europe/Riga)`): the same
/// in every language, and unambiguous for a visitor in another zone.
fn at_in_zone(ms: i64, zone: &jiff::tz::TimeZone, name: &str) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(when) => format!("{} ({name})", zone.to_datetime(when).strftime("%Y-%m-%d %H:%M")),
        Err(_) => String::new(),
    }
}

/// Tells the site's operators, once per conversation and kind (`ALERT_*`).
pub async fn alert_operators(
    state: &AppState,
    site: &SiteId,
    kind: &str,
    conversation_id: &str,
) -> Result<(), AppError> {
    if !enabled(state) {
        return Ok(());
    }
    let now_ms = state.clock().now_ms();
    for to in state.store().operator_emails(site).await? {
        let email = NewEmail {
            site: site.as_str(),
            kind,
            dedupe_key: format!("{kind}:{conversation_id}:{to}"),
            to_addr: &to,
            conversation_id: Some(conversation_id),
            send_after_ms: now_ms,
        };
        state.store().queue_email(email, now_ms).await?;
    }
    Ok(())
}

/// Retry waits: 2 s doubling to 5 minutes; after this many attempts the e-mail has failed.
const MAX_ATTEMPTS: i64 = 12;

fn backoff_ms(attempts: i64) -> i64 {
    (2_000_i64.saturating_mul(1 << attempts.clamp(0, 20))).min(300_000)
}

/// One composed e-mail, or nothing left to send (its replies went out in an earlier one).
struct Composed {
    message: Option<Message>,
    subject: Option<String>,
    emailed_up_to: Option<(String, i64)>,
}

/// What every e-mail to a visitor links: the page they wrote from, and the one-click stop link
/// (also as `List-Unsubscribe`, added to `builder`).
async fn visitor_links(
    state: &AppState,
    site: &Site,
    contact: &Contact,
    conversation_id: &str,
    builder: MessageBuilder,
) -> Result<(MessageBuilder, String, String), String> {
    let page = site.origins.first().map(|o| o.as_str().to_owned()).unwrap_or_default()
        + contact.page_path.as_deref().unwrap_or("/");
    let stop = stop_url(state, conversation_id).await.map_err(|e| e.to_string())?;
    let builder = builder
        .header(ListUnsubscribe(format!("<{stop}>")))
        .header(ListUnsubscribePost("List-Unsubscribe=One-Click".into()));
    Ok((builder, page, stop))
}

async fn compose(state: &AppState, smtp: &SmtpSettings, row: &EmailRow) -> Result<Composed, String> {
    let site = state.site(&row.site).ok_or("the site is no longer configured")?;
    let from: Mailbox = smtp.from.parse().map_err(|e| format!("from: {e}"))?;
    let to: Mailbox = row.to_addr.parse().map_err(|_| "the address does not parse".to_owned())?;
    let mut builder = Message::builder().from(from).to(to);
    if let Some(reply_to) = &smtp.reply_to {
        builder = builder.reply_to(reply_to.parse().map_err(|e| format!("reply_to: {e}"))?);
    }
    let conversation_id = row.conversation_id.clone().unwrap_or_default();
    let (subject, body, emailed_up_to) = match row.kind.as_str() {
        VISITOR_REPLY => {
            let contact = state.store().contact(&conversation_id).await.map_err(|e| e.to_string())?;
            let Some(contact) = contact.filter(|c| !c.stopped && c.email.is_some()) else {
                return Ok(Composed { message: None, subject: None, emailed_up_to: None });
            };
            let messages = state.store().messages(&conversation_id, contact.emailed_up_to).await.map_err(|e| e.to_string())?;
            let replies: Vec<_> = messages.iter().filter(|m| m.author == Author::Operator).collect();
            let Some(last) = replies.last() else {
                return Ok(Composed { message: None, subject: None, emailed_up_to: None });
            };
            let up_to = last.id;
            if state.events().has_listeners(&conversation_id) {
                // The visitor's panel is open on the conversation: they read the replies live.
                return Ok(Composed { message: None, subject: None, emailed_up_to: Some((conversation_id, up_to)) });
            }
            let quoted: Vec<(Option<String>, String)> =
                replies.iter().map(|m| (m.author_name.clone(), m.body.clone())).collect();
            let (linked, page, stop) = visitor_links(state, &site, &contact, &conversation_id, builder).await?;
            builder = linked;
            let (subject, body) = reply_email(&site.name, contact.locale.as_deref(), &quoted, &page, &stop);
            (subject, body, Some((conversation_id.clone(), up_to)))
        }
        ALERT_MESSAGE_LEFT => (
            format!("[{}] A visitor left a message while nobody was online", site.name),
            format!(
                "A visitor on {} wrote while nobody was online. They were promised a reply by the time the widget showed.\n\nOpen the console: {}/console\nConversation: {conversation_id}\n",
                site.name,
                state.public_url().as_str().trim_end_matches('/')
            ),
            None,
        ),
        ALERT_PROMISE_BROKEN => (
            format!("[{}] A visitor has waited past the promised time", site.name),
            format!(
                "A visitor on {} has waited longer than they were told, with no reply yet.\n\nOpen the console: {}/console\nConversation: {conversation_id}\n",
                site.name,
                state.public_url().as_str().trim_end_matches('/')
            ),
            None,
        ),
        VISITOR_LATE => {
            let contact = state.store().contact(&conversation_id).await.map_err(|e| e.to_string())?;
            let Some(contact) = contact.filter(|c| !c.stopped && c.email.is_some()) else {
                return Ok(Composed { message: None, subject: None, emailed_up_to: None });
            };
            // In the visitor's own zone when the widget told it, else the site's.
            let visitor = state.store().visitor_context(&conversation_id).await.map_err(|e| e.to_string())?;
            let (zone, zone_name) = match visitor.time_zone.as_deref().and_then(|z| jiff::tz::db().get(z).ok().map(|tz| (tz, z))) {
                Some((tz, name)) => (tz, name.to_owned()),
                None => (site.hours.timezone().clone(), site.timezone.clone()),
            };
            let due = state.store().last_broken_due(&conversation_id).await.map_err(|e| e.to_string())?;
            let now_ms = state.clock().now_ms();
            let shown = crate::app::ledger::current_availability(state, &site, now_ms).await.map_err(|e| e.to_string())?;
            let (linked, page, stop) = visitor_links(state, &site, &contact, &conversation_id, builder).await?;
            builder = linked;
            let (subject, body) = late_email(
                &site.name,
                contact.locale.as_deref(),
                &at_in_zone(due.unwrap_or(now_ms), &zone, &zone_name),
                &at_in_zone(shown.message.reply_by_ms, &zone, &zone_name),
                &page,
                &stop,
            );
            (subject, body, None)
        }
        VISITOR_TRANSCRIPT => {
            let contact = state.store().contact(&conversation_id).await.map_err(|e| e.to_string())?;
            let Some(contact) = contact.filter(|c| !c.stopped && c.email.is_some()) else {
                return Ok(Composed { message: None, subject: None, emailed_up_to: None });
            };
            let visitor = state.store().visitor_context(&conversation_id).await.map_err(|e| e.to_string())?;
            let zone = visitor.time_zone.as_deref().and_then(|z| jiff::tz::db().get(z).ok().map(|tz| (tz, z.to_owned())));
            let (zone, zone_name) = zone.unwrap_or_else(|| (site.hours.timezone().clone(), site.timezone.clone()));
            let messages = state.store().messages(&conversation_id, 0).await.map_err(|e| e.to_string())?;
            let lines: Vec<(Option<String>, String, String)> = messages
                .iter()
                .map(|m| {
                    // The visitor is "you"; a reply is signed by its operator, else the site.
                    let author = (m.author == Author::Operator).then(|| m.author_name.clone().unwrap_or(site.name.clone()));
                    (author, at_in_zone(m.created_ms, &zone, &zone_name), m.body.clone())
                })
                .collect();
            let (linked, page, stop) = visitor_links(state, &site, &contact, &conversation_id, builder).await?;
            builder = linked;
            let (subject, body) = transcript_email(&site.name, contact.locale.as_deref(), &lines, &page, &stop);
            (subject, body, None)
        }
        other => return Err(format!("unknown e-mail kind {other}")),
    };
    let message = builder
        .subject(subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("cannot build the e-mail: {e}"))?;
    Ok(Composed { message: Some(message), subject: Some(subject), emailed_up_to })
}

/// `List-Unsubscribe` (RFC 2369) and `List-Unsubscribe-Post` (RFC 8058): the mail client's own
/// "unsubscribe" stops e-mails about the conversation.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Debug, Clone)]
struct ListUnsubscribePost(String);

impl header::Header for ListUnsubscribePost {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost(s.to_owned()))
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

fn transport(smtp: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match smtp.tls {
        SmtpTls::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host).map_err(|e| e.to_string())?
        }
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| e.to_string())?,
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
    };
    let mut builder = builder.port(smtp.port).timeout(Some(Duration::from_secs(20)));
    if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// One pass: every due e-mail, oldest first.
pub async fn send_due(state: &AppState, mailer: &AsyncSmtpTransport<Tokio1Executor>, smtp: &SmtpSettings) {
    let now_ms = state.clock().now_ms();
    let due = match state.store().due_emails(now_ms, 20).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the e-mail outbox");
            return;
        }
    };
    for row in due {
        let result = match compose(state, smtp, &row).await {
            Ok(Composed { message: None, emailed_up_to, .. }) => {
                let up_to = emailed_up_to.as_ref().map(|(c, id)| (c.as_str(), *id));
                state.store().email_sent(row.id, None, now_ms, up_to).await
            }
            Ok(Composed { message: Some(message), subject, emailed_up_to }) => match mailer.send(message).await {
                Ok(_) => {
                    tracing::info!(email = row.id, kind = %row.kind, "e-mail sent");
                    let up_to = emailed_up_to.as_ref().map(|(c, id)| (c.as_str(), *id));
                    state.store().email_sent(row.id, subject.as_deref(), state.clock().now_ms(), up_to).await
                }
                Err(e) => {
                    let attempts = row.attempts + 1;
                    let permanent = e.is_permanent() || attempts >= MAX_ATTEMPTS;
                    // The SMTP status code and the kind of failure only: a server's reply text can
                    // quote the address (it is kept in the outbox row, with the address).
                    let code = e.status().map(|c| c.to_string());
                    let what = if e.is_timeout() {
                        "timeout"
                    } else if e.is_transient() {
                        "transient"
                    } else if permanent {
                        "refused"
                    } else {
                        "connection"
                    };
                    tracing::warn!(email = row.id, kind = %row.kind, attempt = attempts, permanent, code = ?code, what, "e-mail not sent");
                    let now = state.clock().now_ms();
                    state
                        .store()
                        .email_failed(row.id, attempts, now + backoff_ms(attempts), permanent, &e.to_string(), now)
                        .await
                }
            },
            Err(why) => {
                tracing::warn!(email = row.id, kind = %row.kind, %why, "e-mail cannot be composed");
                let now = state.clock().now_ms();
                state.store().email_failed(row.id, row.attempts + 1, now, true, &why, now).await
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot update the e-mail outbox");
        }
    }
}

/// How often the outbox is looked at.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

pub struct Worker {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Worker {
    /// `None` without `[smtp]`.
    pub fn spawn(state: AppState) -> Option<Worker> {
        let smtp = state.smtp()?.clone();
        let mailer = match transport(&smtp) {
            Ok(mailer) => mailer,
            Err(e) => {
                tracing::error!(error = %e, "cannot set up SMTP; e-mail is not sent");
                return None;
            }
        };
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            loop {
                send_due(&state, &mailer, &smtp).await;
                state.metrics().email_pass();
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(POLL_INTERVAL) => {}
                }
            }
        });
        Some(Worker { stop: Some(stop), task })
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_nothing_can_reach_a_header() {
        assert_eq!(parse_email("  anna@example.lv "), Ok("anna@example.lv".into()));
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.lv",
            "anna@example",
            "a b@example.lv",
            "anna@example.lv\r\nBcc: x@y.z",
            "anna@example.lv\nSubject: hi",
            "<anna@example.lv>",
            "a@b@example.lv",
            "anna@.lv",
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_email(&format!("{}@example.lv", "a".repeat(250))), Err("too_long"));
        assert_eq!(mask("anna@example.lv"), "a***@example.lv");
    }

    #[test]
    fn a_reply_email_quotes_every_reply_in_the_visitors_language_with_a_stop_link() {
        let replies = vec![
            (Some("Ann".into()), "Yes, in stock.\nShips today.".into()),
            (Some("Ann".into()), "Anything else?".into()),
        ];
        let (subject, body) =
            reply_email("Demo Shop", Some("lv-LV"), &replies, "https://shop.example/lanterns", "https://w/stop");
        assert_eq!(subject, "Atbilde no Demo Shop");
        assert!(body.starts_with("Demo Shop atbildēja uz jūsu ziņu:"), "{body}");
        assert!(body.contains("Ann:\n> Yes, in stock.\n> Ships today.\n"), "{body}");
        assert!(body.contains("> Anything else?"), "{body}");
        assert!(body.contains("https://shop.example/lanterns") && body.ends_with("https://w/stop\n"), "{body}");
        assert_eq!(reply_email("S", Some("xx"), &[], "p", "s").0, "Reply from S");
    }

    #[test]
    fn stop_links_are_signed_per_conversation() {
        assert_eq!(stop_signature("k", "cv_1"), stop_signature("k", "cv_1"));
        assert_ne!(stop_signature("k", "cv_1"), stop_signature("k", "cv_2"));
        assert_ne!(stop_signature("k", "cv_1"), stop_signature("other", "cv_1"));
    }

    #[test]
    fn retries_back_off_to_five_minutes() {
        assert_eq!(backoff_ms(1), 4_000);
        assert_eq!(backoff_ms(30), 300_000);
    }
}
