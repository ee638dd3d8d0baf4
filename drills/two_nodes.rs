//! Two nodes: two `kassa serve` processes on one PostgreSQL behind a round-robin client.
//! Creates, payments (some sessions paid on both nodes at once), expiry (on both at once) and
//! webhook delivery give no duplicate payment, no duplicate delivery attempt and no lost event.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::harness::{Engine, KassaProcess, TestDatabase};
use crate::receiver::{Receiver, verify};
use crate::shop::{Answer, Shop, count, ids};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kassa_postgres_tests),
    ignore = "KASSA_TEST_POSTGRES_URL is not set; several processes share PostgreSQL, not SQLite"
)]
async fn two_nodes() {
    kassa::delivery::install_tls_provider();
    let (sessions, paid_once, paid_twice, expired) = if crate::full() {
        (400, 150, 150, 50)
    } else {
        (60, 20, 20, 10)
    };
    let database = TestDatabase::new(Engine::Postgres).await;
    let first = KassaProcess::start(&database.url).await;
    let key = first.banner_value("test key").await.unwrap();
    let second = KassaProcess::start(&database.url).await;
    let nodes = [first.base.clone(), second.base.clone()];
    let shop = Shop::new(&key);
    let (receiver, url) = Receiver::start().await;
    let secret = shop.endpoint(&nodes[0], &url, "*").await;

    let mut created = Vec::new();
    for i in 0..sessions {
        match shop.create_session(&nodes[i % 2]).await {
            Answer::Acknowledged(id) => created.push(id),
            other => panic!("creating a session: {other:?}"),
        }
    }
    // Paid on one node, alternating.
    for (i, id) in created[..paid_once].iter().enumerate() {
        let node = &nodes[i % 2];
        let form = acknowledged(shop.open_page(node, id).await);
        assert!(acknowledged(shop.pay(node, id, &form).await), "{id} paid");
    }
    // Paid on both nodes at the same moment: exactly one submission pays.
    for id in &created[paid_once..paid_once + paid_twice] {
        let form = acknowledged(shop.open_page(&nodes[0], id).await);
        let (a, b) = tokio::join!(
            shop.pay(&nodes[0], id, &form),
            shop.pay(&nodes[1], id, &form)
        );
        let paid = [acknowledged(a), acknowledged(b)];
        assert_eq!(paid.iter().filter(|p| **p).count(), 1, "{id} paid once");
    }
    // Expired on both nodes at the same moment.
    let expire_range = paid_once + paid_twice..paid_once + paid_twice + expired;
    for id in &created[expire_range.clone()] {
        let expire = |node: &String| {
            shop.http
                .post(format!("{node}/v1/checkout/sessions/{id}/expire"))
                .bearer_auth(&key)
                .send()
        };
        let (a, b) = tokio::join!(expire(&nodes[0]), expire(&nodes[1]));
        let statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
        assert!(statuses.contains(&200), "{id} expired: {statuses:?}");
    }

    let db = database.open().await;
    let paid: BTreeSet<String> = created[..paid_once + paid_twice].iter().cloned().collect();
    let intents = count(&db, "SELECT COUNT(*) FROM payment_intents").await;
    assert_eq!(
        intents as usize,
        paid.len(),
        "one payment intent per paid session"
    );
    let complete = ids(
        &db,
        "SELECT id FROM checkout_sessions WHERE state = 'completed'",
    )
    .await;
    assert_eq!(complete, paid);
    let completed_events = count(
        &db,
        "SELECT COUNT(*) FROM events WHERE type = 'checkout.session.completed'",
    )
    .await;
    assert_eq!(
        completed_events as usize,
        paid.len(),
        "one completed event per payment"
    );
    let expired_sessions: BTreeSet<String> = created[expire_range].iter().cloned().collect();
    let expired_events = ids(
        &db,
        "SELECT object_id FROM events WHERE type = 'checkout.session.expired'",
    )
    .await;
    assert_eq!(
        expired_events, expired_sessions,
        "one expired event per session"
    );
    let expired_count = count(
        &db,
        "SELECT COUNT(*) FROM events WHERE type = 'checkout.session.expired'",
    )
    .await;
    assert_eq!(expired_count as usize, expired, "no session expired twice");

    let events = ids(&db, "SELECT id FROM events").await;
    let mut delivered = BTreeSet::new();
    for _ in 0..600 {
        delivered = receiver
            .received()
            .iter()
            .map(|d| d.json()["id"].as_str().unwrap().to_string())
            .collect();
        if delivered == events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(delivered, events, "every event delivered");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = receiver.received();
    assert_eq!(received.len(), events.len(), "no delivery attempted twice");
    assert!(received.iter().all(|d| verify(d, &secret)));
    let attempts = count(&db, "SELECT COUNT(*) FROM webhook_attempts").await;
    assert_eq!(attempts as usize, events.len());
    println!(
        "two nodes: {sessions} sessions, {} paid ({paid_twice} on both nodes at once), {expired} \
         expired on both at once; {} events, each delivered once",
        paid.len(),
        events.len()
    );
}

fn acknowledged<T: std::fmt::Debug>(answer: Answer<T>) -> T {
    match answer {
        Answer::Acknowledged(value) => value,
        other => panic!("expected an acknowledged answer, got {other:?}"),
    }
}
