//! kill -9 under load: clients create sessions and pay them while `kassa serve` is killed with
//! SIGKILL several times and started again. Afterwards every session and payment that got a
//! 2xx exists, every completed session has its event, and every event is delivered, signed.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::{Engine, KassaProcess, TestDatabase, on_both_engines};
use crate::receiver::{Receiver, verify};
use crate::shop::{Answer, Shop, count, ids};

on_both_engines!(kill_9_under_load);

#[derive(Default)]
struct Acknowledged {
    sessions: Mutex<Vec<String>>,
    payments: Mutex<Vec<String>>,
    unexpected: Mutex<Vec<String>>,
}

async fn kill_9_under_load(engine: Engine) {
    let (kills, clients, between) = if crate::full() {
        (10, 8, 3000)
    } else {
        (3, 4, 1200)
    };
    let database = TestDatabase::new(engine).await;
    let mut server = KassaProcess::start(&database.url).await;
    let base = server.base.clone();
    let addr = base.trim_start_matches("http://").to_string();
    let key = server.banner_value("test key").await.unwrap();
    let (receiver, url) = Receiver::start().await;
    let shop = Arc::new(Shop::new(&key));
    let secret = shop
        .endpoint(&base, &url, "checkout.session.completed")
        .await;

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Acknowledged::default());
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (shop, base, stop, acknowledged) = (
            shop.clone(),
            base.clone(),
            stop.clone(),
            acknowledged.clone(),
        );
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Err(unexpected) = buy(&shop, &base, &acknowledged).await {
                    acknowledged.unexpected.lock().unwrap().push(unexpected);
                }
            }
        }));
    }
    for round in 0..kills {
        tokio::time::sleep(Duration::from_millis(
            between + rand::random_range(0..between),
        ))
        .await;
        server.signal("KILL");
        server.wait().await;
        println!(
            "kill {} of {kills}: {} sessions and {} payments acknowledged so far",
            round + 1,
            acknowledged.sessions.lock().unwrap().len(),
            acknowledged.payments.lock().unwrap().len()
        );
        server = KassaProcess::start_at(&database.url, &addr).await;
    }
    tokio::time::sleep(Duration::from_millis(between)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }

    let unexpected = acknowledged.unexpected.lock().unwrap().clone();
    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:?}");
    let sessions: BTreeSet<String> = acknowledged
        .sessions
        .lock()
        .unwrap()
        .iter()
        .cloned()
        .collect();
    let payments: BTreeSet<String> = acknowledged
        .payments
        .lock()
        .unwrap()
        .iter()
        .cloned()
        .collect();
    assert!(
        !payments.is_empty(),
        "the clients paid sessions between the kills"
    );

    let db = database.open().await;
    let stored = ids(&db, "SELECT id FROM checkout_sessions").await;
    let lost: Vec<_> = sessions.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged sessions lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let complete = ids(
        &db,
        "SELECT id FROM checkout_sessions WHERE state = 'completed'",
    )
    .await;
    let unpaid: Vec<_> = payments.difference(&complete).collect();
    assert!(
        unpaid.is_empty(),
        "{} acknowledged payments lost: {:?}",
        unpaid.len(),
        &unpaid[..unpaid.len().min(5)]
    );
    let intents = ids(
        &db,
        "SELECT checkout_session_id FROM payment_intents WHERE status = 'succeeded'",
    )
    .await;
    assert_eq!(intents, complete, "each completed session has its payment");
    let events = ids(
        &db,
        "SELECT object_id FROM events WHERE type = 'checkout.session.completed'",
    )
    .await;
    assert_eq!(events, complete, "each completed session has its event");
    let event_count = count(
        &db,
        "SELECT COUNT(*) FROM events WHERE type = 'checkout.session.completed'",
    )
    .await;
    assert_eq!(
        event_count as usize,
        complete.len(),
        "one event per session"
    );

    // Deliveries claimed by a killed process come back when their 30 s lease ends.
    let mut delivered = BTreeSet::new();
    for _ in 0..900 {
        delivered = delivered_sessions(&receiver);
        if delivered == complete {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(delivered, complete, "every event delivered");
    assert!(
        receiver.received().iter().all(|d| verify(d, &secret)),
        "every delivery verifies"
    );
    println!(
        "after {kills} kills: {} sessions and {} payments acknowledged, none lost; {} events, all delivered",
        sessions.len(),
        payments.len(),
        complete.len()
    );
    drop(server);
}

/// One customer: a session, its page, its payment. Records what was acknowledged; a request
/// that got no answer (the server was killed) is simply not acknowledged.
async fn buy(shop: &Shop, base: &str, acknowledged: &Acknowledged) -> Result<(), String> {
    let id = match shop.create_session(base).await {
        Answer::Acknowledged(id) => id,
        Answer::Lost => return pause().await,
        Answer::Unexpected(what) => return Err(what),
    };
    acknowledged.sessions.lock().unwrap().push(id.clone());
    let form = match shop.open_page(base, &id).await {
        Answer::Acknowledged(form) => form,
        Answer::Lost => return pause().await,
        Answer::Unexpected(what) => return Err(what),
    };
    match shop.pay(base, &id, &form).await {
        Answer::Acknowledged(true) => acknowledged.payments.lock().unwrap().push(id),
        Answer::Acknowledged(false) => return Err(format!("{id} was not paid by its one payment")),
        Answer::Lost => return pause().await,
        Answer::Unexpected(what) => return Err(what),
    }
    Ok(())
}

/// Waits a moment for a killed server to come back.
async fn pause() -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

/// The sessions a receiver got a `checkout.session.completed` for, answered 2xx.
fn delivered_sessions(receiver: &Receiver) -> BTreeSet<String> {
    receiver
        .received()
        .iter()
        .filter(|d| d.status == 200)
        .map(|d| {
            d.json()["data"]["object"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}
