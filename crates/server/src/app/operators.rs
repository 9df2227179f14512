//! Operator accounts as admins manage them on the running server (the console's Operators panel):
//! list, create, change sites, role and capacity, remove. The same rules as `porchlight operator`;
//! each change is written to the audit log (who, what, which account; never a password).

use porchlight_protocol::{FieldErrorCode, FieldErrors, NewOperator, OperatorAccess, OperatorAccount};

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::accounts::{self, OperatorRecord, DEFAULT_CAPACITY};
use crate::domain::new_id;
use crate::store::privacy::AuditEntry;
use crate::store::OperatorListing;

fn account(listing: OperatorListing) -> OperatorAccount {
    OperatorAccount {
        id: listing.id,
        email: listing.email,
        name: listing.name,
        sites: listing.sites,
        admin: listing.admin,
        capacity: listing.capacity,
    }
}

pub async fn list(state: &AppState) -> Result<Vec<OperatorAccount>, AppError> {
    Ok(state.store().operators().await?.into_iter().map(account).collect())
}

async fn find(state: &AppState, id: &str) -> Result<OperatorAccount, AppError> {
    list(state).await?.into_iter().find(|o| o.id == id).ok_or(AppError::NotFound)
}

/// Sites, role and capacity checked together; an admin works on every site.
fn check_access(state: &AppState, access: &OperatorAccess, errors: &mut FieldErrors) -> Option<Vec<String>> {
    if let Err(message) = accounts::check_capacity(access.capacity) {
        errors.push("capacity", FieldErrorCode::Invalid, message);
    }
    if access.admin {
        return None;
    }
    let sites = access.sites.clone()?;
    let known = state.site_ids();
    if sites.is_empty() {
        errors.push("sites", FieldErrorCode::Required, "Give at least one site, or null for every site.");
    }
    if let Some(unknown) = sites.iter().find(|s| !known.iter().any(|k| k.as_str() == s.as_str())) {
        errors.push("sites", FieldErrorCode::Unsupported, format!("{unknown:?} is not a configured site."));
    }
    Some(sites)
}

async fn audit(state: &AppState, actor: &str, action: &str, operator_id: &str) -> Result<(), AppError> {
    let entry = AuditEntry {
        at_ms: state.clock().now_ms(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        site: "*".to_owned(),
        selector: format!("operator {operator_id}"),
        rows: 1,
    };
    Ok(state.store().audit(&entry).await?)
}

pub async fn create(state: &AppState, actor: &str, new: NewOperator) -> Result<OperatorAccount, AppError> {
    let mut errors = FieldErrors::default();
    let email =
        accounts::normalise_email(&new.email).map_err(|m| errors.push("email", FieldErrorCode::Invalid, m)).ok();
    let name = accounts::check_name(&new.name).map_err(|m| errors.push("name", FieldErrorCode::Invalid, m)).ok();
    if let Err(message) = accounts::check_new_password(&new.password) {
        errors.push("password", FieldErrorCode::TooShort, message);
    }
    let access =
        OperatorAccess { sites: new.sites, admin: new.admin, capacity: new.capacity.unwrap_or(DEFAULT_CAPACITY) };
    let sites = check_access(state, &access, &mut errors);
    let (Some(email), Some(name)) = (email, name) else { return Err(AppError::Validation(errors)) };
    errors.into_result().map_err(AppError::Validation)?;
    let password = new.password;
    let password_hash = tokio::task::spawn_blocking(move || accounts::hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)?;
    let record = OperatorRecord { id: new_id("op"), email, name, password_hash };
    if !state.store().add_operator(&record, state.clock().now_ms()).await? {
        return Err(AppError::Conflict("An operator with this e-mail address already exists."));
    }
    state.store().set_operator_sites(&record.id, sites.as_deref(), access.admin).await?;
    state.store().set_operator_capacity(&record.id, access.capacity).await?;
    audit(state, actor, "operator.add", &record.id).await?;
    find(state, &record.id).await
}

/// Replaces an operator's sites, role and capacity. An admin cannot take their own admin role
/// away (someone must be left who can give it back).
pub async fn update(
    state: &AppState,
    actor_id: &str,
    actor: &str,
    id: &str,
    access: OperatorAccess,
) -> Result<OperatorAccount, AppError> {
    find(state, id).await?;
    let mut errors = FieldErrors::default();
    let sites = check_access(state, &access, &mut errors);
    if id == actor_id && !access.admin {
        errors.push("admin", FieldErrorCode::Invalid, "You cannot take your own administrator role away.");
    }
    errors.into_result().map_err(AppError::Validation)?;
    state.store().set_operator_sites(id, sites.as_deref(), access.admin).await?;
    state.store().set_operator_capacity(id, access.capacity).await?;
    audit(state, actor, "operator.update", id).await?;
    find(state, id).await
}

/// Removes an account: its sessions end and its open conversations become unassigned.
pub async fn remove(state: &AppState, actor_id: &str, actor: &str, id: &str) -> Result<(), AppError> {
    if id == actor_id {
        return Err(AppError::Conflict("You cannot remove your own account."));
    }
    if !state.store().remove_operator(id).await? {
        return Err(AppError::NotFound);
    }
    state.liveness().forget(id);
    audit(state, actor, "operator.remove", id).await
}
