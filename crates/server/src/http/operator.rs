//! Who is asking in the console: a signed-in operator (session cookie, CSRF-checked) or
//! automation with the operator token, and which sites they may see.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::accounts::{SESSION_COOKIE, SESSION_TTL_MS};
use crate::domain::origin::Origin;
use crate::domain::Token;
use crate::http::guard::is_own_origin;

/// A signed-in operator (session cookie) or automation (operator bearer token).
#[derive(Debug, Clone)]
pub struct ConsoleOperator {
    pub id: String,
    pub email: Option<String>,
    pub name: String,
    /// The sites they work on; `None`: every site.
    pub sites: Option<Vec<String>>,
}

/// A [`ConsoleOperator`] who is an admin; anyone else gets 404 before the body is read.
pub struct AdminOperator(pub ConsoleOperator);

impl FromRequestParts<AppState> for AdminOperator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let operator = ConsoleOperator::from_request_parts(parts, state).await?;
        operator.require_admin(state).await?;
        Ok(AdminOperator(operator))
    }
}

/// The id of the configured operator token (automation), which speaks for every site.
const AUTOMATION_ID: &str = "operator-token";

impl ConsoleOperator {
    /// Automation with the operator token, not a person.
    pub fn is_automation(&self) -> bool {
        self.id == AUTOMATION_ID
    }

    pub fn can_see(&self, site: &str) -> bool {
        self.sites.as_ref().is_none_or(|sites| sites.iter().any(|s| s == site))
    }

    /// Admins only (an operator marked admin, or the operator token): others get 404, as for a
    /// route that is not theirs.
    pub async fn require_admin(&self, state: &AppState) -> Result<(), AppError> {
        if self.is_automation() || state.store().is_admin(&self.id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Who did it, for the audit log: their e-mail, or the automation's id.
    pub fn actor(&self) -> String {
        self.email.clone().unwrap_or_else(|| self.id.clone())
    }

    /// 404 for a site that is not theirs, as for one that does not exist.
    pub fn check_site(&self, site: &str) -> Result<(), AppError> {
        if self.can_see(site) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

impl FromRequestParts<AppState> for ConsoleOperator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let value = value.to_str().map_err(|_| AppError::Unauthorized)?;
            let (scheme, token) = value.trim().split_once(' ').ok_or(AppError::Unauthorized)?;
            if scheme.eq_ignore_ascii_case("bearer") && state.is_operator(token.trim()) {
                return Ok(ConsoleOperator {
                    id: AUTOMATION_ID.into(),
                    email: None,
                    name: "Operator token".into(),
                    sites: None,
                });
            }
            return Err(AppError::Unauthorized);
        }
        let token = session_token(&parts.headers).ok_or(AppError::Unauthorized)?;
        let operator = state
            .store()
            .session_operator(&token.hash(), state.clock().now_ms())
            .await?
            .ok_or(AppError::Unauthorized)?;
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            check_csrf(state, &parts.headers)?;
        }
        state.liveness().touch(&operator.id, state.clock().now_ms());
        let sites = state.store().operator_sites(&operator.id).await?;
        let operator = ConsoleOperator { id: operator.id, email: Some(operator.email), name: operator.name, sites };
        // Every `/v1/sites/{site}/…` route an operator may use is limited to their sites here,
        // once, rather than in each handler.
        if let Some(site) = crate::domain::origin::site_segment(parts.uri.path()) {
            operator.check_site(site)?;
        }
        Ok(operator)
    }
}

pub fn session_token(headers: &HeaderMap) -> Option<Token> {
    session_from_cookies(headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()))
}

/// A state-changing request that relies on the cookie must come from this server's own pages:
/// `Origin` present and ours, and a JSON content type (which a cross-site form cannot send
/// without a CORS preflight).
pub fn check_csrf(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    check_origin(state, headers, true)?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if json {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType)
    }
}

pub fn check_origin(state: &AppState, headers: &HeaderMap, required: bool) -> Result<(), AppError> {
    match headers.get(header::ORIGIN) {
        None if required => Err(AppError::OriginNotAllowed),
        None => Ok(()),
        Some(raw) => {
            let origin = raw.to_str().ok().and_then(|o| Origin::parse(o).ok()).ok_or(AppError::OriginNotAllowed)?;
            if is_own_origin(state, &origin, headers) {
                Ok(())
            } else {
                Err(AppError::OriginNotAllowed)
            }
        }
    }
}

/// The `Set-Cookie` value of a new session.
pub fn session_cookie(token: &Token, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        token.clone().into_string(),
        SESSION_TTL_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn cleared_cookie(secure: bool) -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

/// The session cookie's value among a request's `Cookie` headers.
pub fn session_from_cookies<'a>(cookie_headers: impl Iterator<Item = &'a str>) -> Option<Token> {
    cookie_headers
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| Token::from_bearer(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_http_only_strict_and_found_again() {
        let token = Token::from_bearer("abc");
        let cookie = session_cookie(&token, true);
        assert!(cookie.contains("HttpOnly; SameSite=Strict; Path=/") && cookie.ends_with("; Secure"), "{cookie}");
        assert!(!session_cookie(&token, false).contains("Secure"));
        let found = session_from_cookies(["a=1; porchlight_session=abc", "b=2"].into_iter()).unwrap();
        assert_eq!(found, token);
        assert!(session_from_cookies(["porchlight_session="].into_iter()).is_none());
    }
}
