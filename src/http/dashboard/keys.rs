//! `/dashboard/keys`: the account's secret keys in the selected mode: list, create (the secret
//! shown once, with a copy button) and revoke.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Signed, failure, layout, see_other, signed_form, signed_in, when};
use crate::domain::accounts;
use crate::http::AppState;
use crate::http::pages::escape;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
}

async fn render(state: &AppState, signed: &Signed, created: Option<&str>) -> Response {
    let session = &signed.session;
    let keys = match accounts::list_keys(&state.db, &session.account_id).await {
        Ok(keys) => keys,
        Err(error) => return failure(error),
    };
    let csrf = escape(&session.csrf_token);
    let mut main = String::new();
    if let Some(secret) = created {
        main.push_str(&format!(
            "<div class=\"notice\" role=\"status\"><h2>Your new key</h2>\
             <p>Copy it now: it is shown only this once.</p>\
             <p><code id=\"new-key\">{}</code> <button type=\"button\" class=\"secondary small\" data-copy=\"#new-key\">Copy</button></p></div>",
            escape(secret)
        ));
    }
    main.push_str(&format!(
        "<form method=\"post\" action=\"/dashboard/keys\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"primary\">Create a {} key</button></form>",
        session.mode
    ));
    let keys: Vec<_> = keys
        .into_iter()
        .filter(|k| k.mode == session.mode)
        .collect();
    if keys.is_empty() {
        main.push_str("<p class=\"empty\">No keys in this mode yet — create one.</p>");
    } else {
        main.push_str(
            "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Key</th><th scope=\"col\">Created</th>\
             <th scope=\"col\">Last used</th><th scope=\"col\">Status</th><th scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr></thead><tbody>",
        );
        for key in keys {
            let action = match key.revoked {
                Some(_) => String::new(),
                None => format!(
                    "<form method=\"post\" action=\"/dashboard/keys/{id}/revoke\" data-confirm=\"Revoke {redacted}? Requests with it will be refused at once.\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\" class=\"danger small\">Revoke</button></form>",
                    id = escape(&key.id),
                    redacted = escape(&key.redacted),
                ),
            };
            main.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
                escape(&key.redacted),
                when(key.created),
                key.last_used.map(when).unwrap_or_else(|| "never".into()),
                match key.revoked {
                    Some(at) => format!("revoked {}", when(at)),
                    None => "active".into(),
                },
            ));
        }
        main.push_str("</tbody></table></div>");
    }
    layout(signed, "/dashboard/keys", "API keys", &main)
}

/// The account's secret keys in the selected mode.
#[utoipa::path(get, path = "/dashboard/keys", tag = "Pages",
    responses((status = 200, description = "The keys (HTML, redacted)."), (status = 303, description = "Not signed in.")))]
pub async fn list_keys(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Ok(signed) => render(&state, &signed, None).await,
        Err(response) => response,
    }
}

/// Creates a key in the selected mode and shows its secret, once.
#[utoipa::path(post, path = "/dashboard/keys", tag = "Pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 200, description = "The keys, with the new secret shown once (HTML)."), (status = 403, description = "No CSRF token.")))]
pub async fn create_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let session = &signed.session;
    match accounts::create_key(
        &state.db,
        &session.account_id,
        session.mode,
        state.clock.now(),
    )
    .await
    {
        Ok(created) => render(&state, &signed, Some(&created.secret)).await,
        Err(error) => failure(error),
    }
}

/// Revokes a key of this account: the next request with it gets 401, in every process.
#[utoipa::path(post, path = "/dashboard/keys/{id}/revoke", tag = "Pages", params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "Back to the keys."), (status = 404, description = "Not a key of this account.")))]
pub async fn revoke_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let session = &signed.session;
    // Only a key of this account, in this mode: another account's id is simply not found.
    let owned = match accounts::list_keys(&state.db, &session.account_id).await {
        Ok(keys) => keys.iter().any(|k| k.id == id && k.mode == session.mode),
        Err(error) => return failure(error),
    };
    if !owned {
        return failure(crate::domain::DomainError::not_found("api_key", &id));
    }
    match accounts::revoke_key(&state.db, &id, state.clock.now()).await {
        Ok(_) => see_other("/dashboard/keys"),
        Err(error) => failure(error),
    }
}
