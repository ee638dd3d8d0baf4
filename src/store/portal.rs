//! The customer portal (migration 0024): each account's default configuration per mode, and
//! portal sessions.

use super::events::insert_event;
use super::{Db, StoreResult, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::events::Event;
use crate::domain::portal::{PortalConfiguration, PortalSession};

row_struct! {
    struct ConfigurationRow {
        id: String,
        livemode: bool,
        created: i64,
    }
}

impl From<ConfigurationRow> for PortalConfiguration {
    fn from(r: ConfigurationRow) -> PortalConfiguration {
        PortalConfiguration {
            id: r.id,
            livemode: r.livemode,
            created: r.created,
        }
    }
}

/// The caller's default configuration in its mode, if it has one yet.
pub async fn default_configuration(
    db: &Db,
    caller: &Caller,
) -> StoreResult<Option<PortalConfiguration>> {
    let sql = format!(
        "SELECT {} FROM billing_portal_configurations WHERE account_id = $1 AND livemode = $2 \
         AND is_default = TRUE",
        ConfigurationRow::COLUMNS
    );
    let row: Option<ConfigurationRow> = db
        .fetch_optional(&sql, &args![&caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.map(Into::into))
}

/// Writes `configuration` as the caller's default with its `event`, unless the caller has a
/// default already (made meanwhile by another request); returns whether it did.
pub async fn insert_default_configuration(
    db: &Db,
    caller: &Caller,
    configuration: &PortalConfiguration,
    event: &Event,
) -> StoreResult<bool> {
    db.write(async |tx| {
        let inserted = tx
            .execute(
                "INSERT INTO billing_portal_configurations (id, account_id, livemode, is_default, created) \
                 VALUES ($1, $2, $3, TRUE, $4) ON CONFLICT DO NOTHING",
                &args![
                    &configuration.id,
                    &caller.account_id,
                    configuration.livemode,
                    configuration.created
                ],
            )
            .await?
            == 1;
        if inserted {
            insert_event(tx, event).await?;
        }
        Ok(inserted)
    })
    .await
}

row_struct! {
    struct SessionRow {
        id: String,
        account_id: String,
        livemode: bool,
        customer_id: String,
        configuration_id: String,
        return_url: Option<String>,
        locale: Option<String>,
        created: i64,
        expires_at: i64,
    }
}

impl SessionRow {
    fn into_session(self) -> (String, PortalSession) {
        let session = PortalSession {
            id: self.id,
            livemode: self.livemode,
            customer_id: self.customer_id,
            configuration_id: self.configuration_id,
            return_url: self.return_url,
            locale: self.locale,
            created: self.created,
            expires_at: self.expires_at,
        };
        (self.account_id, session)
    }
}

/// Writes a new session and its `billing_portal.session.created` event in one transaction.
pub async fn insert_session(
    db: &Db,
    caller: &Caller,
    session: &PortalSession,
    event: &Event,
) -> StoreResult<()> {
    db.write(async |tx| {
        tx.execute(
            "INSERT INTO billing_portal_sessions (id, account_id, livemode, customer_id, configuration_id, \
             return_url, locale, created, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &args![
                &session.id,
                &caller.account_id,
                session.livemode,
                &session.customer_id,
                &session.configuration_id,
                &session.return_url,
                &session.locale,
                session.created,
                session.expires_at
            ],
        )
        .await?;
        insert_event(tx, event).await
    })
    .await
}

/// A session by its id alone, with its account's id: the id in the portal's URL is the
/// capability, whatever account it belongs to.
pub async fn find_session(db: &Db, id: &str) -> StoreResult<Option<(String, PortalSession)>> {
    let sql = format!(
        "SELECT {} FROM billing_portal_sessions WHERE id = $1",
        SessionRow::COLUMNS
    );
    let row: Option<SessionRow> = db.fetch_optional(&sql, &args![id]).await?;
    Ok(row.map(SessionRow::into_session))
}

/// The customer of the latest completed checkout session of the caller's that carried the
/// Loops `externalCustomerId` `external_id` and ended with a customer: how sessions completed
/// before customers kept their `externalCustomerId` (migration 0024) name theirs.
pub async fn customer_of_external_id(
    db: &Db,
    caller: &Caller,
    external_id: &str,
) -> StoreResult<Option<String>> {
    let row: Option<(String,)> = db
        .fetch_optional(
            "SELECT customer_id FROM checkout_sessions WHERE account_id = $1 AND livemode = $2 \
             AND external_customer_id = $3 AND state = 'completed' AND customer_id IS NOT NULL \
             ORDER BY completed_at DESC, id DESC LIMIT 1",
            &args![&caller.account_id, caller.mode.is_live(), external_id],
        )
        .await?;
    Ok(row.map(|(id,)| id))
}
