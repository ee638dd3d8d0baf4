//! A real SMTP server for the tests, on a local port: it speaks the protocol to kassa's SMTP
//! client (EHLO, MAIL, RCPT, DATA with dot-stuffing, RSET, QUIT), keeps every message it
//! accepts, and can refuse the next few with a transient 451, as a busy server does.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The whole message, headers and body, as sent.
    pub raw: String,
}

impl Mail {
    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        let message = mail_parser::MessageParser::default().parse(self.raw.as_bytes())?;
        message
            .header_raw(name)
            .map(|value| value.trim().to_string())
    }

    /// The decoded plain text and HTML bodies.
    pub fn bodies(&self) -> (String, String) {
        let message = mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .expect("a MIME message");
        let text = message.body_text(0).unwrap_or_default().to_string();
        let html = message.body_html(0).unwrap_or_default().to_string();
        (text, html)
    }
}

#[derive(Default)]
struct Shared {
    mails: Mutex<Vec<Mail>>,
    refusals: AtomicUsize,
}

pub struct Mailbox {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Mailbox {
    pub async fn start() -> Mailbox {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let accepting = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, accepting.clone()));
            }
        });
        Mailbox { addr, shared }
    }

    /// The URL kassa sends through.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Refuses the next `count` messages with `451` (try again later).
    pub fn refuse_next(&self, count: usize) {
        self.shared.refusals.store(count, Ordering::SeqCst);
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.shared.mails.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until at least `count` messages have arrived, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Mail> {
        for _ in 0..1000 {
            let mails = self.mails();
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "expected {count} emails, got {}: {:?}",
            self.mails().len(),
            self.mails()
        );
    }
}

/// One SMTP conversation.
async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let reply = async |write: &mut tokio::net::tcp::OwnedWriteHalf, text: &str| {
        write.write_all(text.as_bytes()).await.is_ok()
    };
    if !reply(&mut write, "220 mailbox ESMTP ready\r\n").await {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-mailbox\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".to_string(),
            "HELO" | "NOOP" => "250 OK\r\n".to_string(),
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                "250 OK\r\n".to_string()
            }
            "MAIL" => {
                from = address(&line);
                "250 OK\r\n".to_string()
            }
            "RCPT" => {
                to.push(address(&line));
                "250 OK\r\n".to_string()
            }
            "DATA" => {
                let refuse = shared
                    .refusals
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if refuse {
                    "451 4.3.0 mailbox busy, try again later\r\n".to_string()
                } else {
                    if !reply(&mut write, "354 end with <CRLF>.<CRLF>\r\n").await {
                        return;
                    }
                    let mut raw = String::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line == "." {
                            break;
                        }
                        raw.push_str(line.strip_prefix('.').unwrap_or(&line));
                        raw.push_str("\r\n");
                    }
                    let mail = Mail {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        raw,
                    };
                    shared.mails.lock().unwrap().push(mail);
                    "250 OK queued\r\n".to_string()
                }
            }
            "QUIT" => {
                let _ = reply(&mut write, "221 bye\r\n").await;
                return;
            }
            _ => "500 unknown command\r\n".to_string(),
        };
        if !reply(&mut write, &answer).await {
            return;
        }
    }
}

/// The address in `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line.rfind('>').unwrap_or(line.len());
    line[start..end].to_string()
}
