//! What the console shows about a visitor and their past: a conversation's context, the same
//! visitor's other conversations (by e-mail), and the searchable history of a site.

use async_trait::async_trait;
use porchlight_protocol::{PastConversation, SiteId};
use sqlx::Row;

use super::{SqliteStore, StoreError};

/// A conversation's visitor, as the widget and the visitor told it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitorContext {
    pub page_title: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub email: Option<String>,
    /// The rating given to the chat (the latest, unless undone).
    pub rating: Option<String>,
}

/// A history search: text (in messages, the visitor's e-mail, the page), from when, a rating.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    pub text: Option<String>,
    pub since_ms: i64,
    pub rating: Option<String>,
    pub limit: u32,
}

#[async_trait]
pub trait HistoryStore: Send + Sync {
    async fn visitor_context(&self, conversation_id: &str) -> Result<VisitorContext, StoreError>;

    /// The site's other conversations with this visitor e-mail, newest first.
    async fn conversations_of(
        &self,
        site: &SiteId,
        email: &str,
        except_id: &str,
        limit: u32,
    ) -> Result<Vec<PastConversation>, StoreError>;

    async fn search_history(&self, site: &SiteId, query: &HistoryQuery) -> Result<Vec<PastConversation>, StoreError>;
}

/// The chat's rating of conversation `c`.
const RATING: &str = "(SELECT r.value FROM ratings r WHERE r.context_kind = 'chat' AND r.context_ref = c.id
                        AND r.undone_ms IS NULL ORDER BY r.created_ms DESC LIMIT 1)";

/// Columns of a [`PastConversation`]; `?2` is a LIKE pattern (or NULL): the snippet is the first
/// message that matches it, else the first message.
fn past_columns() -> String {
    format!(
        "c.id, c.site, c.created_ms, c.closed_ms, c.page_path, c.visitor_email,
         (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS messages,
         {RATING} AS rating,
         COALESCE((SELECT substr(m.body, 1, 200) FROM messages m
                   WHERE m.conversation_id = c.id AND m.body LIKE ?2 ESCAPE '\\' ORDER BY m.id LIMIT 1),
                  (SELECT substr(m.body, 1, 200) FROM messages m WHERE m.conversation_id = c.id ORDER BY m.id LIMIT 1),
                  '') AS snippet"
    )
}

fn past(row: &sqlx::sqlite::SqliteRow) -> Result<PastConversation, sqlx::Error> {
    Ok(PastConversation {
        conversation_id: row.try_get("id")?,
        site: row.try_get("site")?,
        created_ms: row.try_get("created_ms")?,
        closed_ms: row.try_get("closed_ms")?,
        page_path: row.try_get("page_path")?,
        visitor_email: row.try_get("visitor_email")?,
        snippet: row.try_get("snippet")?,
        messages: row.try_get("messages")?,
        rating: row.try_get("rating")?,
    })
}

/// `text` as a LIKE pattern matching it anywhere, its own `%`, `_` and `\` taken literally.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
impl HistoryStore for SqliteStore {
    async fn visitor_context(&self, conversation_id: &str) -> Result<VisitorContext, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT c.page_title, c.visitor_locale, c.visitor_time_zone, c.visitor_email, {RATING} AS rating
             FROM conversations c WHERE c.id = ?"
        ))
        .bind(conversation_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(VisitorContext::default()) };
        Ok(VisitorContext {
            page_title: row.try_get("page_title")?,
            locale: row.try_get("visitor_locale")?,
            time_zone: row.try_get("visitor_time_zone")?,
            email: row.try_get("visitor_email")?,
            rating: row.try_get("rating")?,
        })
    }

    async fn conversations_of(
        &self,
        site: &SiteId,
        email: &str,
        except_id: &str,
        limit: u32,
    ) -> Result<Vec<PastConversation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM conversations c
             WHERE c.site = ?1 AND c.visitor_email = ?3 COLLATE NOCASE AND c.id != ?4
             ORDER BY c.created_ms DESC LIMIT ?5",
            past_columns()
        ))
        .bind(site.as_str())
        .bind(None::<String>)
        .bind(email)
        .bind(except_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(past).collect::<Result<_, _>>()?)
    }

    async fn search_history(&self, site: &SiteId, query: &HistoryQuery) -> Result<Vec<PastConversation>, StoreError> {
        let pattern = query.text.as_deref().map(like_pattern);
        let rows = sqlx::query(&format!(
            "SELECT * FROM (
                 SELECT {} FROM conversations c
                 WHERE c.site = ?1 AND c.created_ms >= ?3
                   AND (?2 IS NULL
                        OR c.visitor_email LIKE ?2 ESCAPE '\\' OR c.page_path LIKE ?2 ESCAPE '\\'
                        OR c.page_title LIKE ?2 ESCAPE '\\'
                        OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.body LIKE ?2 ESCAPE '\\'))
             ) WHERE ?4 IS NULL OR rating = ?4
             ORDER BY created_ms DESC LIMIT ?5",
            past_columns()
        ))
        .bind(site.as_str())
        .bind(pattern)
        .bind(query.since_ms)
        .bind(&query.rating)
        .bind(query.limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(past).collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn search_text_is_taken_literally() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("lantern"), "%lantern%");
    }
}
