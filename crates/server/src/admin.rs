//! Administration the command line does on the database directly (no server needed).

use std::path::Path;

use crate::auth::{self, OperatorRecord};
use crate::clock::{Clock, SystemClock};
use crate::domain::new_id;
use crate::store::{SqliteStore, Store};

/// Creates an operator; returns its id. Refuses a malformed e-mail, a short password and an
/// e-mail that is already taken.
pub async fn add_operator(database: &Path, email: &str, name: &str, password: &str) -> Result<String, String> {
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
    let result = store.add_operator(&operator, SystemClock.now_ms()).await;
    store.close().await;
    match result {
        Ok(true) => Ok(operator.id),
        Ok(false) => Err(format!("an operator with e-mail {email} already exists")),
        Err(e) => Err(format!("cannot store the operator: {e}")),
    }
}
