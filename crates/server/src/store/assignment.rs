//! Who works on which open conversation (`conversations.assignee`) and how much each operator
//! carries (`operators.capacity`).

use async_trait::async_trait;
use porchlight_protocol::SiteId;

use super::{SqliteStore, StoreError};

/// An operator of a site with their open, assigned conversations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorLoad {
    pub id: String,
    pub name: String,
    pub capacity: u32,
    pub open: u32,
}

#[async_trait]
pub trait AssignmentStore: Send + Sync {
    /// Sets (or with `None` clears) who works on the conversation.
    async fn assign(&self, conversation_id: &str, operator_id: Option<&str>) -> Result<(), StoreError>;

    /// Every operator who works on `site`, with their open assigned conversations on any site.
    async fn operator_loads(&self, site: &SiteId) -> Result<Vec<OperatorLoad>, StoreError>;
}

#[async_trait]
impl AssignmentStore for SqliteStore {
    async fn assign(&self, conversation_id: &str, operator_id: Option<&str>) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE conversations SET assignee = ? WHERE id = ?")
            .bind(operator_id)
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn operator_loads(&self, site: &SiteId) -> Result<Vec<OperatorLoad>, StoreError> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT o.id, o.name, o.capacity,
                    (SELECT COUNT(*) FROM conversations c WHERE c.assignee = o.id AND c.closed_ms IS NULL)
             FROM operators o
             WHERE o.all_sites = 1 OR o.id IN (SELECT operator_id FROM operator_sites WHERE site = ?)
             ORDER BY o.id",
        )
        .bind(site.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, capacity, open)| OperatorLoad {
                id,
                name,
                capacity: u32::try_from(capacity).unwrap_or(0),
                open: u32::try_from(open).unwrap_or(0),
            })
            .collect())
    }
}
