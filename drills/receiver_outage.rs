//! Receiver outage: the merchant's webhook receiver is down while 1 000 events happen, then
//! comes back on the same address: every event is delivered, each once, each verified.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::harness::{Engine, KassaProcess, TestDatabase, on_both_engines};
use crate::receiver::{Receiver, verify};
use crate::shop::{Shop, count};

on_both_engines!(receiver_outage);

const EVENTS: usize = 1000;

async fn receiver_outage(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let server = KassaProcess::start(&database.url).await;
    let key = server.banner_value("test key").await.unwrap();
    let shop = Arc::new(Shop::new(&key));
    // The receiver's address, with nothing listening on it yet.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = reserved.local_addr().unwrap();
    drop(reserved);
    let url = format!("http://{addr}/webhooks");
    let secret = shop.endpoint(&server.base, &url, "customer.created").await;

    let mut creators = Vec::new();
    for worker in 0..8 {
        let (shop, base) = (shop.clone(), server.base.clone());
        creators.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in (worker..EVENTS).step_by(8) {
                let response = shop
                    .http
                    .post(format!("{base}/v1/customers"))
                    .bearer_auth(&shop.key)
                    .form(&[("name", format!("Customer {i}"))])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let customer: serde_json::Value = response.json().await.unwrap();
                ids.push(customer["id"].as_str().unwrap().to_string());
            }
            ids
        }));
    }
    let mut customers = Vec::new();
    for creator in creators {
        customers.extend(creator.await.unwrap());
    }

    // Every delivery fails its first attempt against the closed port.
    let db = database.open().await;
    let mut refused = 0;
    for _ in 0..1200 {
        refused = count(
            &db,
            "SELECT COUNT(DISTINCT delivery_id) FROM webhook_attempts WHERE status_code IS NULL",
        )
        .await;
        if refused as usize >= EVENTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refused as usize, EVENTS, "each first attempt was refused");
    println!("{EVENTS} events, every first attempt refused; the receiver comes back");

    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let (receiver, _) = Receiver::start_on(listener);
    // The first retry is due 30 s (plus up to 10 % jitter) after the failed attempt.
    for _ in 0..1200 {
        if receiver.received().len() >= EVENTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let deliveries = receiver.received();
    let mut per_customer: BTreeMap<String, usize> = BTreeMap::new();
    for delivery in &deliveries {
        assert!(verify(delivery, &secret), "every delivery verifies");
        let object = delivery.json()["data"]["object"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        *per_customer.entry(object).or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = customers.into_iter().map(|c| (c, 1)).collect();
    assert_eq!(per_customer, expected, "each event delivered once");
    let pending = count(
        &db,
        "SELECT COUNT(*) FROM webhook_deliveries WHERE state <> 'succeeded'",
    )
    .await;
    assert_eq!(pending, 0, "no delivery left pending");
    println!("all {EVENTS} delivered after the outage, each once, each verified");
}
