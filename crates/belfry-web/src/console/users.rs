//! Console pages for people: users and API tokens (admins), the audit log (admins), and each
//! user's own account (second factor, sessions).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use belfry_core::access::{NewUserError, Role, TotpSeed, User, totp_code_ok};
use belfry_core::auth::{ApiToken, Scope};
use serde_json::json;

use super::{Nav, field, page_zone, render, when};
use crate::auth::{Actor, audit};
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    /// name, role, second factor, id
    users: Vec<(String, &'static str, bool, String)>,
    /// id, scope, created
    tokens: Vec<(String, &'static str, String)>,
    new_token: Option<String>,
}

async fn users_page(
    state: &WebState,
    actor: &Actor,
    status: StatusCode,
    errors: Vec<String>,
    new_token: Option<String>,
) -> Result<Response, ApiError> {
    let users =
        state.admin.users().await?.into_iter().map(|u| (u.name, u.role.as_str(), u.totp, u.id)).collect();
    let tz = page_zone(state);
    let tokens = state
        .store
        .tokens()
        .await?
        .into_iter()
        .map(|t| (t.id, t.scope.as_str(), when(&tz, t.created_at)))
        .collect();
    Ok(render(
        status,
        &UsersTpl {
            title: "Users".to_owned(),
            nav: Nav::of(actor),
            errors,
            csrf: actor.csrf().to_owned(),
            users,
            tokens,
            new_token,
        },
    ))
}

/// `GET /admin/users`
pub(crate) async fn users(State(state): State<WebState>, actor: Actor) -> Result<Response, ApiError> {
    users_page(&state, &actor, StatusCode::OK, vec![], None).await
}

/// `POST /admin/users`: adds a user.
pub(crate) async fn create_user(
    State(state): State<WebState>,
    actor: Actor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let name = field(&fields, "name").to_owned();
    let Some(role) = Role::parse(field(&fields, "role")) else {
        return users_page(
            &state,
            &actor,
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["unknown role".to_owned()],
            None,
        )
        .await;
    };
    let user = match User::new(&name, role, field(&fields, "password"), state.clock.now()) {
        Ok(user) => user,
        Err(NewUserError::Random(e)) => return Err(e.into()),
        Err(e) => {
            let error = e.to_string();
            return users_page(&state, &actor, StatusCode::UNPROCESSABLE_ENTITY, vec![error], None).await;
        }
    };
    if state.admin.user_by_name(&user.name).await?.is_some() {
        let error = format!("a user named {} exists", user.name);
        return users_page(&state, &actor, StatusCode::CONFLICT, vec![error], None).await;
    }
    state.admin.save_user(&user).await?;
    audit(
        &state,
        &actor.label,
        "user.create",
        &format!("user:{name}"),
        None,
        Some(json!({"name": name, "role": role.as_str()})),
    )
    .await;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{id}/delete`: removes a user and ends their sessions.
pub(crate) async fn delete_user(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    if actor.user.as_ref().is_some_and(|u| u.id == id) {
        return users_page(
            &state,
            &actor,
            StatusCode::CONFLICT,
            vec!["you cannot delete yourself".to_owned()],
            None,
        )
        .await;
    }
    let Some(user) = state.admin.user(&id).await? else {
        return Err(ApiError::NotFound(format!("no user {id:?}")));
    };
    state.admin.delete_user(&id).await?;
    let _ = state.vault.delete(&user.totp_vault_name()).await;
    audit(
        &state,
        &actor.label,
        "user.delete",
        &format!("user:{}", user.name),
        Some(json!({"name": user.name, "role": user.role.as_str()})),
        None,
    )
    .await;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/tokens`: a new API token, shown once.
pub(crate) async fn create_token(
    State(state): State<WebState>,
    actor: Actor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let Some(scope) = Scope::parse(field(&fields, "scope")) else {
        return users_page(
            &state,
            &actor,
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["unknown scope".to_owned()],
            None,
        )
        .await;
    };
    let (token, secret) = ApiToken::generate(scope, state.clock.now())?;
    state.store.insert_token(&token).await?;
    audit(
        &state,
        &actor.label,
        "token.create",
        &format!("token:{}", token.id),
        None,
        Some(json!({"scope": scope.as_str()})),
    )
    .await;
    users_page(&state, &actor, StatusCode::CREATED, vec![], Some(secret)).await
}

/// `POST /admin/tokens/{id}/delete`: revokes a token at once.
pub(crate) async fn delete_token(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    if !state.store.delete_token(&id).await? {
        return Err(ApiError::NotFound(format!("no token {id:?}")));
    }
    audit(&state, &actor.label, "token.revoke", &format!("token:{id}"), None, None).await;
    Ok(Redirect::to("/admin/users").into_response())
}

struct AuditRow {
    at: String,
    actor: String,
    action: String,
    object: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    entries: Vec<AuditRow>,
    older: Option<i64>,
}

#[derive(serde::Deserialize)]
pub(crate) struct AuditQuery {
    before: Option<i64>,
}

const AUDIT_PAGE: u32 = 100;

/// `GET /admin/audit?before=`
pub(crate) async fn audit_log(
    State(state): State<WebState>,
    actor: Actor,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let entries = state.admin.audit(q.before, AUDIT_PAGE).await?;
    let older = (entries.len() == AUDIT_PAGE as usize).then(|| entries.last().map(|e| e.id)).flatten();
    let tz = page_zone(&state);
    let show = |v: &Option<serde_json::Value>| v.as_ref().map(ToString::to_string).unwrap_or_default();
    let entries = entries
        .iter()
        .map(|e| AuditRow {
            at: when(&tz, e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            object: e.object.clone(),
            before: show(&e.before),
            after: show(&e.after),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &AuditTpl { title: "Audit log".to_owned(), nav: Nav::of(&actor), errors: vec![], entries, older },
    ))
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    totp: bool,
    /// base32 key and otpauth URI while enrolling.
    enrol: Option<(String, String)>,
}

fn pending_name(user: &User) -> String {
    format!("totp_pending:{}", user.id)
}

fn account_page(
    actor: &Actor,
    status: StatusCode,
    enrol: Option<(String, String)>,
    errors: Vec<String>,
) -> Response {
    let totp = actor.user.as_ref().is_some_and(|u| u.totp);
    render(
        status,
        &AccountTpl {
            title: "Account".to_owned(),
            nav: Nav::of(actor),
            errors,
            csrf: actor.csrf().to_owned(),
            totp,
            enrol,
        },
    )
}

/// `GET /admin/account`
pub(crate) async fn account(actor: Actor) -> Response {
    account_page(&actor, StatusCode::OK, None, vec![])
}

/// `POST /admin/account/totp`: a new seed, pending until a code from it is entered.
pub(crate) async fn totp_start(State(state): State<WebState>, actor: Actor) -> Result<Response, ApiError> {
    let Some(user) = &actor.user else { return Err(ApiError::Status(StatusCode::FORBIDDEN)) };
    let seed = TotpSeed::generate().map_err(|_| ApiError::Status(StatusCode::SERVICE_UNAVAILABLE))?;
    state.vault.put(&pending_name(user), seed.as_bytes()).await.map_err(vault_error)?;
    let enrol = (seed.base32(), seed.uri("Belfry", &user.name));
    Ok(account_page(&actor, StatusCode::OK, Some(enrol), vec![]))
}

/// `POST /admin/account/totp/confirm`: turns the second factor on when the code matches.
pub(crate) async fn totp_confirm(
    State(state): State<WebState>,
    actor: Actor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let Some(user) = &actor.user else { return Err(ApiError::Status(StatusCode::FORBIDDEN)) };
    let Some(seed) = state.vault.get(&pending_name(user)).await.map_err(vault_error)? else {
        return Ok(account_page(
            &actor,
            StatusCode::CONFLICT,
            None,
            vec!["start the setup first".to_owned()],
        ));
    };
    let seed = TotpSeed::from_bytes(seed);
    if !totp_code_ok(&seed, field(&fields, "code"), state.clock.now()) {
        let enrol = (seed.base32(), seed.uri("Belfry", &user.name));
        return Ok(account_page(
            &actor,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(enrol),
            vec!["that code does not match; try the next one".to_owned()],
        ));
    }
    state.vault.put(&user.totp_vault_name(), seed.as_bytes()).await.map_err(vault_error)?;
    state.vault.delete(&pending_name(user)).await.map_err(vault_error)?;
    state.admin.save_user(&User { totp: true, ..user.clone() }).await?;
    audit(
        &state,
        &actor.label,
        "user.totp_enable",
        &actor.label,
        Some(json!({"totp": false})),
        Some(json!({"totp": true})),
    )
    .await;
    Ok(Redirect::to("/admin/account").into_response())
}

fn vault_error(e: belfry_core::vault::VaultAccessError) -> ApiError {
    match e {
        belfry_core::vault::VaultAccessError::Store(e) => ApiError::Store(e),
        belfry_core::vault::VaultAccessError::Sealing(e) => {
            tracing::error!(error = %e, "the vault could not be used");
            ApiError::Status(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

struct SubscriberRow {
    id: String,
    address: String,
    components: String,
    confirmed: String,
    since: String,
}

#[derive(Template)]
#[template(path = "console/subscribers.html")]
struct SubscribersTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    csrf: String,
    confirmed: usize,
    pending: usize,
    subscribers: Vec<SubscriberRow>,
}

/// `GET /admin/subscribers` (admin: the addresses are personal data).
pub(crate) async fn subscribers(State(state): State<WebState>, actor: Actor) -> Result<Response, ApiError> {
    let all = state.subscribers.all_subscribers().await?;
    let tz = page_zone(&state);
    let confirmed = all.iter().filter(|s| s.is_confirmed()).count();
    let subscribers = all
        .iter()
        .map(|s| SubscriberRow {
            id: s.id.clone(),
            address: s.kind.key(),
            components: if s.components.is_empty() {
                "all".to_owned()
            } else {
                s.components.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            },
            confirmed: s.confirmed_at.map(|t| when(&tz, t)).unwrap_or_else(|| "no".to_owned()),
            since: when(&tz, s.created_at),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &SubscribersTpl {
            title: "Subscribers".to_owned(),
            nav: Nav::of(&actor),
            errors: vec![],
            csrf: actor.csrf().to_owned(),
            confirmed,
            pending: all.len() - confirmed,
            subscribers,
        },
    ))
}

/// `POST /admin/subscribers/{id}/delete`
pub(crate) async fn delete_subscriber(
    State(state): State<WebState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let Some(subscriber) = state.subscribers.subscriber(&id).await? else {
        return Err(ApiError::NotFound(format!("no subscriber {id:?}")));
    };
    state.subscribers.delete_subscriber(&id).await?;
    let before = json!({"address": subscriber.kind.key()});
    audit(&state, &actor.label, "subscriber.delete", &format!("subscriber:{id}"), Some(before), None).await;
    Ok(Redirect::to("/admin/subscribers").into_response())
}

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsTpl {
    title: String,
    nav: Option<Nav>,
    errors: Vec<String>,
    rows: Vec<(&'static str, String)>,
}

/// `GET /admin/settings` (admin): what the configuration sets, read-only.
pub(crate) async fn settings(State(state): State<WebState>, actor: Actor) -> Response {
    let catalog = state.runtime.catalog();
    let page = &catalog.page;
    let none = || "(not set)".to_owned();
    let readiness = state.runtime.readiness();
    let rows = vec![
        ("Page title", page.title.clone()),
        ("Description", page.description.clone().unwrap_or_else(none)),
        ("Time zone", page.time_zone.clone()),
        ("Public URL", page.public_url.clone().unwrap_or_else(none)),
        ("Logo", page.logo_url.clone().unwrap_or_else(none)),
        (
            "Subscriptions",
            if catalog.alerting.subscribers.is_some() { "open".to_owned() } else { "off".to_owned() },
        ),
        ("Components", catalog.components.len().to_string()),
        ("Monitors", catalog.monitors.len().to_string()),
        ("Channels", catalog.alerting.channels.len().to_string()),
        ("Escalation policies", catalog.alerting.escalations.len().to_string()),
        ("Alert rules", catalog.alerting.rules.len().to_string()),
        ("Scheduler", if readiness.scheduler_running { "running".to_owned() } else { "stopped".to_owned() }),
        ("Schedule lag (p99)", format!("{} ms", readiness.schedule_lag.as_millis())),
    ];
    render(
        StatusCode::OK,
        &SettingsTpl { title: "Settings".to_owned(), nav: Nav::of(&actor), errors: vec![], rows },
    )
}
