//! Administration the command line does on the database directly (no server needed).

use std::path::Path;

use crate::auth::{self, OperatorRecord};
use crate::clock::{Clock, SystemClock};
use crate::domain::new_id;
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
    let email = auth::normalise_email(email)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("the name must be 1-100 characters".into());
    }
    auth::check_new_password(password)?;
    let password = password.to_owned();
    let password_hash =
        tokio::task::spawn_blocking(move || auth::hash_password(&password)).await.map_err(|e| e.to_string())??;
    let store =
        SqliteStore::open(database).await.map_err(|e| format!("cannot open database {}: {e}", database.display()))?;
    let operator = OperatorRecord { id: new_id("op"), email: email.clone(), name: name.to_owned(), password_hash };
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
            format!("{}\t{}\t{}\t{}{}", o.id, o.email, o.name, sites, if o.admin { "\tadmin" } else { "" })
        })
        .collect())
}

/// Gives the operator with this e-mail these sites (`None`: every site).
pub async fn set_operator_sites(database: &Path, email: &str, sites: Option<&[String]>) -> Result<(), String> {
    let email = auth::normalise_email(email)?;
    let store = open(database).await?;
    let result = async {
        let operator = store.operator_by_email(&email).await.map_err(|e| e.to_string())?;
        let operator = operator.ok_or_else(|| format!("no operator with e-mail {email}"))?;
        store.set_operator_sites(&operator.id, sites, false).await.map_err(|e| e.to_string())
    }
    .await;
    store.close().await;
    result
}

async fn open(database: &Path) -> Result<SqliteStore, String> {
    SqliteStore::open(database).await.map_err(|e| format!("cannot open database {}: {e}", database.display()))
}
