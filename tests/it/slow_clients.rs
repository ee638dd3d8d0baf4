//! Slow and hostile clients: a request head must arrive within the header timeout, a kept-alive
//! connection may idle only for the idle timeout, at the connection cap the connections that
//! waited longest for their client make room for new ones, and a shutdown waits for requests
//! in flight no longer than its grace. Real sockets; the timeouts are set tiny and waited for
//! in real time.

use std::time::Duration;

use reqwest::Method;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::harness::{Engine, TestDatabase, TestServer, json_with_status, on_both_engines};

on_both_engines!(
    a_half_sent_head_is_closed_after_the_header_timeout,
    a_trickled_head_gets_no_more_time,
    an_idle_keep_alive_is_closed_after_the_idle_timeout,
    at_the_cap_the_longest_waiting_connections_make_room,
    connections_being_answered_are_never_shed,
    shutdown_finishes_requests_in_flight_and_closes_the_rest_after_the_grace,
);

/// A request head cut short: the blank line that ends it never comes.
pub const HALF_HEAD: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: kassa\r\nAccept: */*\r\n";

/// Long enough for any close the tests wait for; a connection still open then fails the test.
const PATIENCE: Duration = Duration::from_secs(10);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn start(
    engine: Engine,
    header_timeout: Duration,
    idle_timeout: Duration,
    max_connections: Option<usize>,
) -> TestServer {
    let database = TestDatabase::new(engine).await;
    TestServer::start_configured(database, |config| {
        config.connections.header_timeout = header_timeout;
        config.connections.idle_timeout = idle_timeout;
        config.connections.max_connections = max_connections;
    })
    .await
}

/// Opens a connection to `addr` and sends `bytes`.
pub async fn open(addr: &str, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// Waits until the server closes `stream` (end of stream or reset), at most `limit`: what it
/// sent before closing, or `None` if the connection is still open at the limit.
pub async fn closed_within(
    stream: &mut (impl AsyncRead + Unpin),
    limit: Duration,
) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let until_closed = async {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = stream.read(&mut buffer).await {
            received.extend_from_slice(&buffer[..n]);
        }
    };
    tokio::time::timeout(limit, until_closed)
        .await
        .ok()
        .map(|()| received)
}

/// Whether the server has left `stream` open (nothing to read, no end of stream, no reset).
pub fn still_open(stream: &TcpStream) -> bool {
    match stream.try_read(&mut [0u8; 1]) {
        Err(error) => error.kind() == std::io::ErrorKind::WouldBlock,
        Ok(n) => n > 0,
    }
}

/// Reads one whole response (head, and a body of `Content-Length` bytes) from `stream`.
pub async fn read_response(stream: &mut TcpStream) -> String {
    let mut data = Vec::new();
    loop {
        let mut buffer = [0u8; 4096];
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut buffer))
            .await
            .expect("an answer in time")
            .unwrap_or(0);
        assert!(
            n > 0,
            "closed before a whole response: {:?}",
            String::from_utf8_lossy(&data)
        );
        data.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&data).into_owned();
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length = text[..head_end]
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().unwrap())
            })
            .unwrap_or(0);
        if data.len() >= head_end + 4 + length {
            return text;
        }
    }
}

pub fn get_healthz() -> &'static [u8] {
    b"GET /healthz HTTP/1.1\r\nHost: kassa\r\n\r\n"
}

/// The rest of the body [`open_slow_body`] starts.
pub const SLOW_BODY_REST: &[u8] = &[b'x'; 95];

/// Opens a `POST /v1/customers` whose body is announced as 100 bytes and only begun. It asks
/// `Expect: 100-continue` and sends the start of the body once the server says it is waiting
/// for it, so the handler is known to be reading it when this returns.
pub async fn open_slow_body(addr: &str, key: &str) -> TcpStream {
    let head = format!(
        "POST /v1/customers HTTP/1.1\r\nHost: kassa\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\
         Expect: 100-continue\r\n\r\n"
    );
    let mut stream = open(addr, head.as_bytes()).await;
    let mut continue_line = [0u8; 25];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut continue_line))
        .await
        .expect("the server asks for the body")
        .unwrap();
    assert_eq!(&continue_line, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"name=").await.unwrap();
    stream
}

async fn a_half_sent_head_is_closed_after_the_header_timeout(engine: Engine) {
    let server = start(engine, ms(200), Duration::from_secs(30), None).await;
    let addr = server.addr();
    let started = Instant::now();
    let mut silent = open(addr, b"").await;
    let mut half = open(addr, HALF_HEAD).await;

    // A head that arrives in two parts within the timeout is answered.
    let mut whole = open(addr, b"GET /healthz HTTP/1.1\r\n").await;
    tokio::time::sleep(ms(50)).await;
    whole.write_all(b"Host: kassa\r\n\r\n").await.unwrap();
    let response = read_response(&mut whole).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    for (name, stream) in [("half a head", &mut half), ("nothing", &mut silent)] {
        let sent = closed_within(stream, PATIENCE)
            .await
            .unwrap_or_else(|| panic!("a connection that sent {name} is still open"));
        assert!(sent.is_empty(), "closed without an answer: {sent:?}");
    }
    assert!(
        started.elapsed() >= ms(200),
        "closed before the header timeout"
    );
}

async fn a_trickled_head_gets_no_more_time(engine: Engine) {
    let server = start(engine, ms(300), Duration::from_secs(30), None).await;
    let started = Instant::now();
    let (mut reader, mut writer) = open(server.addr(), b"GET /healthz HTTP/1.1\r\n")
        .await
        .into_split();
    // A byte every 50 ms: the head keeps growing but never ends.
    let trickle = tokio::spawn(async move {
        for _ in 0..200 {
            if writer.write_all(b"X").await.is_err() {
                return;
            }
            tokio::time::sleep(ms(50)).await;
        }
    });
    let sent = closed_within(&mut reader, PATIENCE)
        .await
        .expect("a trickled head is closed at its deadline");
    assert!(sent.is_empty(), "{sent:?}");
    assert!(started.elapsed() >= ms(300));
    trickle.abort();
}

async fn an_idle_keep_alive_is_closed_after_the_idle_timeout(engine: Engine) {
    let server = start(engine, ms(200), ms(800), None).await;
    let mut stream = open(server.addr(), get_healthz()).await;
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));

    // Idle for longer than the header timeout: the idle timeout applies between requests.
    tokio::time::sleep(ms(400)).await;
    let sent = Instant::now();
    stream.write_all(get_healthz()).await.unwrap();
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));

    let after = closed_within(&mut stream, PATIENCE)
        .await
        .expect("an idle connection is closed after the idle timeout");
    assert!(after.is_empty(), "{after:?}");
    assert!(sent.elapsed() >= ms(800), "closed before the idle timeout");
}

async fn at_the_cap_the_longest_waiting_connections_make_room(engine: Engine) {
    let long = Duration::from_secs(60);
    let server = start(engine, long, long, Some(8)).await;
    let account = server.account("Shop").await;
    let addr = server.addr().to_string();

    // The cap filled with half-open connections, then four requests whose body is slow.
    let mut half_open = Vec::new();
    for _ in 0..8 {
        half_open.push(open(&addr, HALF_HEAD).await);
    }
    let mut slow = Vec::new();
    for _ in 0..4 {
        slow.push(open_slow_body(&addr, &account.test_key).await);
    }

    // A real client still gets its answers: a session and the health check.
    let session = server
        .form(
            &account,
            Method::POST,
            "/v1/checkout/sessions",
            "mode=payment&success_url=https%3A%2F%2Fshop.example%2Fok\
             &line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=2500\
             &line_items[0][price_data][product_data][name]=Shirt&line_items[0][quantity]=1",
        )
        .await;
    json_with_status(session, 200).await;
    let health = server
        .request(Method::GET, "/healthz")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // Room was made by closing the oldest half-open connections: four for the slow bodies,
    // one for the real client.
    for (i, stream) in half_open.iter_mut().enumerate().take(5) {
        assert!(
            closed_within(stream, PATIENCE).await.is_some(),
            "half-open connection {i} was not shed"
        );
    }

    // More clients, each keeping its connection: the other half-open connections go, then
    // the oldest slow body, whose client is now the one waited on longest, and no other.
    let mut clients = Vec::new();
    let mut oldest_slow_body_shed = false;
    for _ in 0..12 {
        let mut client = open(&addr, get_healthz()).await;
        let response = read_response(&mut client).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        clients.push(client);
        if closed_within(&mut slow[0], ms(500)).await.is_some() {
            oldest_slow_body_shed = true;
            break;
        }
    }
    assert!(oldest_slow_body_shed, "the oldest slow body was never shed");
    for (i, stream) in half_open.iter_mut().enumerate() {
        assert!(
            closed_within(stream, PATIENCE).await.is_some(),
            "half-open connection {i} outlived a slow body"
        );
    }
    for (i, stream) in slow.iter().enumerate().skip(1) {
        assert!(still_open(stream), "slow body {i} was shed out of turn");
    }

    // A newer slow client that finishes its body is answered.
    slow[3].write_all(SLOW_BODY_REST).await.unwrap();
    let response = read_response(&mut slow[3]).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"object\":\"customer\""), "{response}");
}

async fn connections_being_answered_are_never_shed(engine: Engine) {
    let long = Duration::from_secs(60);
    let server = start(engine, long, long, Some(4)).await;
    let account = server.account("Shop").await;
    let addr = server.addr().to_string();
    let request = format!(
        "GET /v1/events/stream HTTP/1.1\r\nHost: kassa\r\nAuthorization: Bearer {}\r\n\r\n",
        account.test_key
    );
    let mut streams = Vec::new();
    for _ in 0..4 {
        let mut stream = open(&addr, request.as_bytes()).await;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        streams.push(stream);
    }

    // Every connection is answering: a new one is closed unanswered, and no stream is cut.
    let mut late = open(&addr, get_healthz()).await;
    let sent = closed_within(&mut late, PATIENCE)
        .await
        .expect("the connection past the cap is closed");
    assert!(sent.is_empty(), "{:?}", String::from_utf8_lossy(&sent));
    for (i, stream) in streams.iter().enumerate() {
        assert!(still_open(stream), "event stream {i} was shed");
    }
}

async fn shutdown_finishes_requests_in_flight_and_closes_the_rest_after_the_grace(engine: Engine) {
    let long = Duration::from_secs(60);
    let database = TestDatabase::new(engine).await;
    let grace = ms(800);
    let mut server = TestServer::start_configured(database, |config| {
        config.connections.header_timeout = long;
        config.connections.idle_timeout = long;
        config.connections.shutdown_grace = grace;
    })
    .await;
    let account = server.account("Shop").await;
    let addr = server.addr().to_string();
    let mut half_open = open(&addr, HALF_HEAD).await;
    let mut idle = open(&addr, get_healthz()).await;
    assert!(read_response(&mut idle).await.starts_with("HTTP/1.1 200"));
    let mut finishing = open_slow_body(&addr, &account.test_key).await;
    let mut stalled = open_slow_body(&addr, &account.test_key).await;

    let started = Instant::now();
    let shutdown = tokio::spawn(async move {
        server.shut_down().await.unwrap();
        started.elapsed()
    });
    // The idle connection closes at once; the request in flight still gets its answer.
    assert!(
        closed_within(&mut idle, grace).await.is_some(),
        "an idle connection is closed when the shutdown starts"
    );
    tokio::time::sleep(ms(100)).await;
    finishing.write_all(SLOW_BODY_REST).await.unwrap();
    let response = read_response(&mut finishing).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    // The half-sent head and the stalled body hold the shutdown only until the grace is over
    // (they would hold it for a minute otherwise); closing the database's pool follows, which
    // on a loaded machine takes a moment.
    let took = tokio::time::timeout(grace + Duration::from_secs(3), shutdown)
        .await
        .expect("the shutdown ends within its grace plus three seconds")
        .unwrap();
    assert!(
        took >= grace,
        "the shutdown waited for the stalled request ({took:?})"
    );
    for (name, stream) in [("half-open", &mut half_open), ("stalled", &mut stalled)] {
        assert!(
            closed_within(stream, ms(100)).await.is_some(),
            "the {name} connection is closed after the grace"
        );
    }
}
