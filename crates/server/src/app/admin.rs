//! Administration the command line does on the database directly (no server needed).

use std::path::Path;

use crate::app::config::Settings;
use crate::app::privacy::Selector;
use crate::domain::accounts::{self, OperatorRecord};
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::{new_id, Site};
use crate::store::privacy::PrivacyStore;
use crate::store::{SqliteStore, Store};

/// Creates an operator; returns its id. Refuses a malformed e-mail, a short password and an
/// e-mail that is already taken.
pub async fn add_operator(
    database: &Path,
    email: &str,
    name: &str,
    password: &str,
    sites: Option<&[String]>,
    admin: bool,
) -> Result<String, String> {
    let email = accounts::normalise_email(email)?;
    let name = accounts::check_name(name)?;
    accounts::check_new_password(password)?;
    let password = password.to_owned();
    let password_hash =
        tokio::task::spawn_blocking(move || accounts::hash_password(&password)).await.map_err(|e| e.to_string())??;
    let store = SqliteStore::open_for_tool(database)
        .await
        .map_err(|e| format!("cannot open database {}: {e}", database.display()))?;
    let operator = OperatorRecord { id: new_id("op"), email: email.clone(), name, password_hash };
    let mut result = store.add_operator(&operator, SystemClock.now_ms()).await;
    if let Ok(true) = result {
        result = store.set_operator_sites(&operator.id, sites, admin).await.map(|()| true);
    }
    store.close().await;
    match result {
        Ok(true) => Ok(operator.id),
        Ok(false) => Err(format!("an operator with e-mail {email} already exists")),
        Err(e) => Err(format!("cannot store the operator: {e}")),
    }
}

/// One line per operator: id, e-mail, name, sites (`*` for every site), `admin` if so.
pub async fn list_operators(database: &Path) -> Result<Vec<String>, String> {
    let store = open(database).await?;
    let result = store.operators().await;
    store.close().await;
    let operators = result.map_err(|e| format!("cannot read operators: {e}"))?;
    Ok(operators
        .into_iter()
        .map(|o| {
            let sites = o.sites.map_or("*".to_owned(), |s| s.join(","));
            let admin = if o.admin { "\tadmin" } else { "" };
            format!("{}\t{}\t{}\t{}\t{} chats{admin}", o.id, o.email, o.name, sites, o.capacity)
        })
        .collect())
}

/// Gives the operator with this e-mail these sites (`None`: every site); an admin stays one.
pub async fn set_operator_sites(database: &Path, email: &str, sites: Option<&[String]>) -> Result<(), String> {
    let (store, id) = operator(database, email).await?;
    let result = async {
        let admin = store.operators().await?.iter().any(|o| o.id == id && o.admin);
        store.set_operator_sites(&id, sites, admin).await
    }
    .await
    .map_err(|e| e.to_string());
    store.close().await;
    result
}

/// `porchlight operator capacity`: how many chats the operator carries at once (1-50).
pub async fn set_operator_capacity(database: &Path, email: &str, chats: u32) -> Result<(), String> {
    let chats = accounts::check_capacity(chats)?;
    let (store, id) = operator(database, email).await?;
    let result = store.set_operator_capacity(&id, chats).await.map(drop).map_err(|e| e.to_string());
    store.close().await;
    result
}

/// The store, and the id of the operator with this e-mail (closed again when there is none).
async fn operator(database: &Path, email: &str) -> Result<(SqliteStore, String), String> {
    let email = accounts::normalise_email(email)?;
    let store = open(database).await?;
    match store.operator_by_email(&email).await {
        Ok(Some(operator)) => Ok((store, operator.id)),
        found => {
            store.close().await;
            Err(found.map_or_else(|e| e.to_string(), |_| format!("no operator with e-mail {email}")))
        }
    }
}

/// `porchlight operator remove`: the account, its sessions, sites and presence; its open
/// conversations become unassigned (history keeps the name on the replies already sent).
pub async fn remove_operator(database: &Path, email: &str) -> Result<(), String> {
    let (store, id) = operator(database, email).await?;
    let result = store.remove_operator(&id).await.map(|_| ()).map_err(|e| e.to_string());
    store.close().await;
    result
}

/// `porchlight operator passwd`: a new password (checked like a new one); logs them out everywhere.
pub async fn set_password(database: &Path, email: &str, password: &str) -> Result<(), String> {
    accounts::check_new_password(password)?;
    let password = password.to_owned();
    let hash =
        tokio::task::spawn_blocking(move || accounts::hash_password(&password)).await.map_err(|e| e.to_string())??;
    let (store, id) = operator(database, email).await?;
    let result = store.set_operator_password(&id, &hash).await.map_err(|e| e.to_string());
    store.close().await;
    result
}

async fn open(database: &Path) -> Result<SqliteStore, String> {
    SqliteStore::open_for_tool(database).await.map_err(|e| format!("cannot open database {}: {e}", database.display()))
}

/// The configured site with this id (the built-in demo site when none are configured).
fn find_site(settings: &Settings, site: &str) -> Result<Site, String> {
    if settings.sites.is_empty() {
        let demo = Site::builtin_demo(0);
        return if demo.id.as_str() == site { Ok(demo) } else { Err(format!("no site {site:?} (only \"demo\")")) };
    }
    settings
        .sites
        .iter()
        .find(|s| s.id.as_str() == site)
        .cloned()
        .ok_or_else(|| format!("no site {site:?} in the configuration"))
}

/// Who a data command is about, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct PersonArgs {
    pub site: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub conversation: Option<String>,
}

fn person(settings: &Settings, who: &PersonArgs) -> Result<(Site, Selector), String> {
    let site = find_site(settings, &who.site)?;
    let selector = Selector::parse(&site, who.email.as_deref(), who.phone.as_deref(), who.conversation.as_deref())
        .map_err(|(field, message)| format!("--{field}: {message}"))?;
    Ok((site, selector))
}

/// The actor the audit log records for the command line: the operating-system user.
fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

/// `porchlight data export`: everything held about the person, as pretty JSON.
pub async fn export_person(settings: &Settings, who: &PersonArgs) -> Result<String, String> {
    let (site, selector) = person(settings, who)?;
    let store = open(&settings.database).await?;
    let result = crate::app::privacy::export(&store, &site, &selector, &cli_actor(), SystemClock.now_ms()).await;
    store.close().await;
    let export = result.map_err(|e| format!("cannot export: {e}"))?;
    serde_json::to_string_pretty(&export).map_err(|e| e.to_string())
}

/// `porchlight data erase`: deletes it; returns one line per table with rows removed.
pub async fn erase_person(settings: &Settings, who: &PersonArgs) -> Result<Vec<String>, String> {
    let (site, selector) = person(settings, who)?;
    let store = open(&settings.database).await?;
    let result = crate::app::privacy::erase(&store, &site, &selector, &cli_actor(), SystemClock.now_ms()).await;
    store.close().await;
    let removed = result.map_err(|e| format!("cannot erase: {e}"))?;
    Ok(removed.into_iter().map(|(table, rows)| format!("{table}\t{rows}")).collect())
}

/// `porchlight webhooks list-failed`: one line per dead delivery.
pub async fn dead_webhooks(database: &Path) -> Result<Vec<String>, String> {
    let store = open(database).await?;
    let result = store.dead_webhooks().await;
    store.close().await;
    let dead = result.map_err(|e| format!("cannot read the webhook outbox: {e}"))?;
    Ok(dead
        .into_iter()
        .map(|d| {
            format!(
                "{}\t{}\t{}\t{}\tattempts={}\t{}",
                d.id,
                d.site,
                d.event_type,
                d.endpoint,
                d.attempts,
                d.last_error.unwrap_or_default()
            )
        })
        .collect())
}

/// `porchlight webhooks retry|drop`: dead deliveries by id (`None`: all); returns how many.
pub async fn revive_or_drop_webhooks(database: &Path, ids: Option<&[i64]>, revive: bool) -> Result<u64, String> {
    let store = open(database).await?;
    let result =
        if revive { store.revive_webhooks(ids, SystemClock.now_ms()).await } else { store.drop_webhooks(ids).await };
    store.close().await;
    result.map_err(|e| format!("cannot update the webhook outbox: {e}"))
}

/// `porchlight backup FILE`: a consistent copy of the live database (it may be serving).
pub async fn backup(database: &Path, target: &Path) -> Result<(), String> {
    if target.exists() {
        return Err(format!("{} exists; give a new file", target.display()));
    }
    let store = open(database).await?;
    let result = store.backup(target).await;
    store.close().await;
    result.map_err(|e| format!("cannot back up into {}: {e}", target.display()))
}
