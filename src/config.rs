//! Server configuration. Each setting comes from, in order of precedence: a command-line flag,
//! a `KASSA_*` environment variable, the optional TOML config file, the built-in default.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

pub const DEFAULT_ADDR: &str = "127.0.0.1:4242";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./kassa-data/kassa.db";

/// The settings a config file may hold; every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub addr: Option<String>,
    pub public_url: Option<String>,
    pub database_url: Option<String>,
    pub log_format: Option<LogFormat>,
    pub webhooks_allow_private: Option<bool>,
    pub webhooks_test_private: Option<TestPrivate>,
    #[serde(default, deserialize_with = "duration")]
    pub header_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    pub idle_timeout: Option<Duration>,
    pub max_connections: Option<usize>,
    #[serde(default, deserialize_with = "duration")]
    pub shutdown_grace: Option<Duration>,
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    pub smtp_test_mode: Option<bool>,
    #[serde(default, deserialize_with = "duration")]
    pub billing_lease: Option<Duration>,
    pub metrics_addr: Option<String>,
    pub metrics_public: Option<bool>,
}

impl ConfigFile {
    pub fn read(path: &Path) -> anyhow::Result<ConfigFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("invalid config file {}: {e}", path.display()))
    }

    /// Settings given on the command line or in the environment win over this file's.
    pub fn overridden_by(self, over: ConfigFile) -> ConfigFile {
        ConfigFile {
            addr: over.addr.or(self.addr),
            public_url: over.public_url.or(self.public_url),
            database_url: over.database_url.or(self.database_url),
            log_format: over.log_format.or(self.log_format),
            webhooks_allow_private: over.webhooks_allow_private.or(self.webhooks_allow_private),
            webhooks_test_private: over.webhooks_test_private.or(self.webhooks_test_private),
            header_timeout: over.header_timeout.or(self.header_timeout),
            idle_timeout: over.idle_timeout.or(self.idle_timeout),
            max_connections: over.max_connections.or(self.max_connections),
            shutdown_grace: over.shutdown_grace.or(self.shutdown_grace),
            smtp_url: over.smtp_url.or(self.smtp_url),
            smtp_from: over.smtp_from.or(self.smtp_from),
            smtp_test_mode: over.smtp_test_mode.or(self.smtp_test_mode),
            billing_lease: over.billing_lease.or(self.billing_lease),
            metrics_addr: over.metrics_addr.or(self.metrics_addr),
            metrics_public: over.metrics_public.or(self.metrics_public),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Whether test-mode webhook endpoints may target loopback, private and link-local addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TestPrivate {
    /// Test endpoints may target any address, a developer's own machine included.
    #[default]
    Allow,
    /// Test endpoints follow the live rule (for a server shared by several merchants).
    Deny,
}

/// The resolved configuration of a server.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    /// Base of the URLs kassa gives out (hosted pages, payment links), without a trailing slash.
    pub public_url: String,
    pub database_url: String,
    pub log_format: LogFormat,
    /// Whether live-mode webhook endpoints may target loopback, private and link-local
    /// addresses (off: such endpoints are refused, at creation and where names resolve).
    pub webhooks_allow_private: bool,
    /// Whether test-mode endpoints may do so too; `deny` applies the live rule to them.
    pub webhooks_test_private: TestPrivate,
    pub connections: ConnectionLimits,
    /// How often the billing engine looks for due renewals and charges (real time; what is due
    /// follows the server's clock). `None` runs no engine in this server: tests that move a
    /// manual clock run its steps themselves.
    pub billing_interval: Option<Duration>,
    /// How often the server looks for test clocks being advanced. `None` advances none in
    /// this server: tests run the advance themselves.
    pub test_clock_interval: Option<Duration>,
    /// Where receipt emails go out, if anywhere.
    pub smtp: Option<SmtpSettings>,
    /// How often the server looks for receipt emails to send, besides being woken when one is
    /// queued (real time; retries are due by the server's clock).
    pub mail_interval: Duration,
    /// How long a server's claim on a piece of billing work holds (a subscription's renewal, an
    /// invoice's collection, a test clock's advance), in whole seconds: a server that dies
    /// mid-step leaves that work to the others, or to itself restarted, once it runs out.
    pub billing_lease: Duration,
    /// Where a listener of its own serves `/metrics` (and nothing else), if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// Whether the main listener serves `/metrics` too (otherwise it is an unknown route there).
    pub metrics_public: bool,
}

/// The SMTP server receipt emails are sent through, and who they are from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// `smtp://user:pass@host:port` (plain; `?tls=required` for STARTTLS,
    /// `?tls=opportunistic` for STARTTLS when offered) or `smtps://...` (TLS from the start),
    /// as `lettre` reads it.
    pub url: String,
    /// The From address, e.g. `Receipts <receipts@shop.example>`; the default is
    /// `receipts@<the public URL's host>`, named after the merchant.
    pub from: Option<String>,
    /// Whether test-mode payments are emailed receipts too (off by default, as on Stripe: a
    /// test key must not make the server email any address it likes).
    pub test_mode: bool,
}

impl SmtpSettings {
    /// The URL without its password, for logs and the first-start message.
    pub fn redacted(&self) -> String {
        crate::store::redact_url(&self.url)
    }
}

/// How often each server looks for receipt emails to send when nothing wakes it.
pub const MAIL_INTERVAL: Duration = Duration::from_secs(5);

/// How often each server runs the billing engine.
pub const BILLING_INTERVAL: Duration = Duration::from_secs(5);
/// How long a claim on billing work holds by default: far longer than any one step takes.
pub const BILLING_LEASE: Duration =
    Duration::from_secs(crate::domain::billing::engine::LEASE_SECONDS as u64);

/// What a client may hold of the server, and for how long: what keeps slow and hostile
/// clients from exhausting connections, and a shutdown from waiting on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time a client has to send a request's whole head (request line and headers): from the
    /// connection's start, or on a kept-alive connection from the head's first byte. Past it
    /// the connection is closed.
    pub header_timeout: Duration,
    /// Time a kept-alive connection may wait for its next request (no request in flight)
    /// before it is closed.
    pub idle_timeout: Duration,
    /// Most connections open at once; at the cap, the connection that has waited longest for
    /// its client is closed to make room. `None`: computed at start from the open-file limit
    /// (see [`crate::http::server::default_max_connections`]).
    pub max_connections: Option<usize>,
    /// On shutdown, how long requests in flight may take to finish; then every connection
    /// still open is closed.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: None,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl ConnectionLimits {
    fn resolve(settings: &ConfigFile) -> anyhow::Result<ConnectionLimits> {
        let defaults = ConnectionLimits::default();
        let limits = ConnectionLimits {
            header_timeout: settings.header_timeout.unwrap_or(defaults.header_timeout),
            idle_timeout: settings.idle_timeout.unwrap_or(defaults.idle_timeout),
            max_connections: settings.max_connections,
            shutdown_grace: settings.shutdown_grace.unwrap_or(defaults.shutdown_grace),
        };
        for (name, value) in [
            ("header_timeout", limits.header_timeout),
            ("idle_timeout", limits.idle_timeout),
        ] {
            if value.is_zero() {
                anyhow::bail!("invalid {name} '0s': it must be longer than zero");
            }
        }
        if limits.max_connections == Some(0) {
            anyhow::bail!("invalid max_connections '0': it must be at least 1");
        }
        Ok(limits)
    }
}

/// Parses a duration such as `10s`, `250ms` or `1m 30s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e} (expected a duration such as 10s or 250ms)"))
}

/// A config-file duration, written as [`parse_duration`] reads it.
fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// A billing lease as given, checked: at least a second, since claims are stored in whole
/// seconds.
fn billing_lease(given: Option<Duration>) -> anyhow::Result<Duration> {
    let lease = given.unwrap_or(BILLING_LEASE);
    if lease < Duration::from_secs(1) {
        anyhow::bail!(
            "invalid billing_lease '{}': it must be at least 1s (claims are kept in whole seconds)",
            humantime::format_duration(lease)
        );
    }
    Ok(lease)
}

impl Config {
    pub fn resolve(settings: ConfigFile) -> anyhow::Result<Config> {
        let connections = ConnectionLimits::resolve(&settings)?;
        let smtp = smtp_settings(&settings)?;
        let billing_lease = billing_lease(settings.billing_lease)?;
        let addr_text = settings.addr.unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let addr: SocketAddr = addr_text.parse().map_err(|e| {
            anyhow::anyhow!("invalid address '{addr_text}': {e} (expected e.g. 127.0.0.1:4242)")
        })?;
        let public_url = match settings.public_url {
            Some(url) => validate_public_url(&url)?,
            None => format!("http://{addr}"),
        };
        let metrics_addr = match settings.metrics_addr {
            Some(text) => Some(text.parse().map_err(|e| {
                anyhow::anyhow!("invalid metrics_addr '{text}': {e} (expected e.g. 127.0.0.1:9464)")
            })?),
            None => None,
        };
        Ok(Config {
            addr,
            public_url,
            database_url: settings
                .database_url
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            log_format: settings.log_format.unwrap_or_default(),
            webhooks_allow_private: settings.webhooks_allow_private.unwrap_or(false),
            webhooks_test_private: settings.webhooks_test_private.unwrap_or_default(),
            connections,
            billing_interval: Some(BILLING_INTERVAL),
            test_clock_interval: Some(crate::workers::TEST_CLOCK_POLL),
            smtp,
            mail_interval: MAIL_INTERVAL,
            billing_lease,
            metrics_addr,
            metrics_public: settings.metrics_public.unwrap_or(false),
        })
    }

    /// Whether this server emails the receipts of payments in that mode: it has an SMTP
    /// server, and test mode is asked for (`--smtp-test-mode`) or the payment is live.
    pub fn emails_receipts(&self, livemode: bool) -> bool {
        self.smtp.as_ref().is_some_and(|s| livemode || s.test_mode)
    }

    /// [`Config::billing_lease`] in seconds, a fraction rounded up.
    pub fn billing_lease_seconds(&self) -> i64 {
        let lease = self.billing_lease;
        i64::try_from(lease.as_secs()).unwrap_or(i64::MAX) + i64::from(lease.subsec_nanos() > 0)
    }

    /// Which webhook endpoints may target internal addresses, by mode. With `deny`, test mode
    /// follows the live rule, `--webhooks-allow-private` included.
    pub fn webhook_targets(&self) -> crate::domain::webhooks::PrivateTargets {
        crate::domain::webhooks::PrivateTargets {
            live: self.webhooks_allow_private,
            test: self.webhooks_allow_private || self.webhooks_test_private == TestPrivate::Allow,
        }
    }

    /// Whether this server serves `/metrics` anywhere (and so records them).
    pub fn serves_metrics(&self) -> bool {
        self.metrics_addr.is_some() || self.metrics_public
    }

    /// Once the listener is bound: a public URL that was left to its default points at the
    /// address actually bound (`--addr 127.0.0.1:0` picks a port; `0.0.0.0` is reached as
    /// `127.0.0.1`).
    pub fn bound_to(mut self, local: SocketAddr) -> Config {
        if self.public_url == format!("http://{}", self.addr) {
            let mut reachable = local;
            if reachable.ip().is_unspecified() {
                reachable.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            self.public_url = format!("http://{reachable}");
        }
        self.addr = local;
        self
    }

    /// A configuration for a server on `addr` with the given database, defaults otherwise.
    pub fn for_database(addr: SocketAddr, database_url: impl Into<String>) -> Config {
        Config {
            addr,
            public_url: format!("http://{addr}"),
            database_url: database_url.into(),
            log_format: LogFormat::Text,
            webhooks_allow_private: false,
            webhooks_test_private: TestPrivate::Allow,
            connections: ConnectionLimits::default(),
            billing_interval: Some(BILLING_INTERVAL),
            test_clock_interval: Some(crate::workers::TEST_CLOCK_POLL),
            smtp: None,
            mail_interval: MAIL_INTERVAL,
            billing_lease: BILLING_LEASE,
            metrics_addr: None,
            metrics_public: false,
        }
    }
}

/// The SMTP settings, if a URL is given: `smtp://` or `smtps://` with a host.
fn smtp_settings(settings: &ConfigFile) -> anyhow::Result<Option<SmtpSettings>> {
    let Some(url) = settings.smtp_url.clone() else {
        if settings.smtp_from.is_some() || settings.smtp_test_mode.is_some() {
            anyhow::bail!(
                "smtp_from or smtp_test_mode is set but smtp_url is not: receipts need an SMTP server"
            );
        }
        return Ok(None);
    };
    let settings = SmtpSettings {
        url,
        from: settings.smtp_from.clone(),
        test_mode: settings.smtp_test_mode.unwrap_or(false),
    };
    let parsed = url::Url::parse(&settings.url)
        .map_err(|e| anyhow::anyhow!("invalid SMTP URL '{}': {e}", settings.redacted()))?;
    if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host_str().is_none() {
        anyhow::bail!(
            "invalid SMTP URL '{}': expected smtp://user:pass@host:port or smtps://...",
            settings.redacted()
        );
    }
    if let Some(from) = &settings.from {
        crate::mail::parse_from(from)
            .map_err(|e| anyhow::anyhow!("invalid smtp_from '{from}': {e}"))?;
    }
    Ok(Some(settings))
}

fn validate_public_url(url: &str) -> anyhow::Result<String> {
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| {
            anyhow::anyhow!("invalid public URL '{url}': it must start with http:// or https://")
        })?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        anyhow::bail!("invalid public URL '{url}': it needs a host");
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_settings_are_checked() {
        let with = |url: Option<&str>, from: Option<&str>| {
            Config::resolve(ConfigFile {
                smtp_url: url.map(str::to_string),
                smtp_from: from.map(str::to_string),
                ..ConfigFile::default()
            })
        };
        assert!(
            !with(Some("smtp://localhost:1025"), None)
                .unwrap()
                .smtp
                .unwrap()
                .test_mode
        );
        assert_eq!(with(None, None).unwrap().smtp, None);
        let smtp = with(
            Some("smtps://ada:secret@mail.example:465"),
            Some("Shop <r@shop.example>"),
        )
        .unwrap()
        .smtp
        .unwrap();
        assert_eq!(smtp.redacted(), "smtps://ada:***@mail.example:465");
        for (url, from, says) in [
            (Some("http://mail.example"), None, "expected smtp://"),
            (Some("not a url"), None, "invalid SMTP URL"),
            (
                Some("smtp://u:secret@host:99999"),
                None,
                "smtp://u:***@host:99999",
            ),
            (
                Some("smtp://mail.example"),
                Some("nobody"),
                "invalid smtp_from",
            ),
            (None, Some("r@shop.example"), "smtp_url is not"),
        ] {
            let error = with(url, from).unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
        }
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Config::resolve(ConfigFile::default()).unwrap();
        assert_eq!(config.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(config.public_url, "http://127.0.0.1:4242");
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
    }

    #[test]
    fn flags_and_environment_win_over_the_file() {
        let file: ConfigFile = toml::from_str(
            "addr = \"0.0.0.0:9000\"\npublic_url = \"https://pay.example.com/\"\ndatabase_url = \"sqlite://f.db\"",
        )
        .unwrap();
        let over = ConfigFile {
            addr: Some("127.0.0.1:1".into()),
            ..Default::default()
        };
        let config = Config::resolve(file.overridden_by(over)).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:1");
        assert_eq!(config.public_url, "https://pay.example.com");
        assert_eq!(config.database_url, "sqlite://f.db");
    }

    #[test]
    fn test_mode_webhooks_may_target_private_addresses_unless_denied() {
        let defaults = Config::resolve(ConfigFile::default()).unwrap();
        assert_eq!(defaults.webhooks_test_private, TestPrivate::Allow);
        let targets = defaults.webhook_targets();
        assert!(targets.test && !targets.live);

        let file: ConfigFile = toml::from_str("webhooks_test_private = \"deny\"").unwrap();
        let denied = Config::resolve(file.clone()).unwrap().webhook_targets();
        assert!(!denied.test && !denied.live);
        let over = ConfigFile {
            webhooks_test_private: Some(TestPrivate::Allow),
            ..Default::default()
        };
        assert!(
            Config::resolve(file.overridden_by(over))
                .unwrap()
                .webhook_targets()
                .test
        );
        assert!(toml::from_str::<ConfigFile>("webhooks_test_private = \"maybe\"").is_err());
    }

    #[test]
    fn connection_limits_come_from_the_file_and_the_flags() {
        let defaults = Config::resolve(ConfigFile::default()).unwrap().connections;
        assert_eq!(defaults, ConnectionLimits::default());
        assert_eq!(defaults.header_timeout, Duration::from_secs(10));
        assert_eq!(defaults.idle_timeout, Duration::from_secs(60));
        assert_eq!(defaults.shutdown_grace, Duration::from_secs(10));
        assert_eq!(defaults.max_connections, None);

        let file: ConfigFile = toml::from_str(
            "header_timeout = \"250ms\"\nidle_timeout = \"1m 30s\"\nmax_connections = 500\nshutdown_grace = \"0s\"",
        )
        .unwrap();
        let over = ConfigFile {
            header_timeout: Some(Duration::from_secs(3)),
            ..Default::default()
        };
        let limits = Config::resolve(file.overridden_by(over))
            .unwrap()
            .connections;
        assert_eq!(limits.header_timeout, Duration::from_secs(3));
        assert_eq!(limits.idle_timeout, Duration::from_secs(90));
        assert_eq!(limits.max_connections, Some(500));
        assert_eq!(limits.shutdown_grace, Duration::ZERO);
    }

    #[test]
    fn bad_connection_limits_are_explained() {
        let error = toml::from_str::<ConfigFile>("header_timeout = \"10\"")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("header_timeout") && error.contains("10s"),
            "{error}"
        );
        for (settings, name) in [
            (
                ConfigFile {
                    idle_timeout: Some(Duration::ZERO),
                    ..Default::default()
                },
                "idle_timeout",
            ),
            (
                ConfigFile {
                    max_connections: Some(0),
                    ..Default::default()
                },
                "max_connections",
            ),
        ] {
            let error = Config::resolve(settings).unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
        }
    }

    #[test]
    fn the_billing_lease_is_whole_seconds_of_at_least_one() {
        let defaults = Config::resolve(ConfigFile::default()).unwrap();
        assert_eq!(defaults.billing_lease, Duration::from_secs(60));
        assert_eq!(defaults.billing_lease_seconds(), 60);

        let file: ConfigFile = toml::from_str("billing_lease = \"2s\"").unwrap();
        assert_eq!(
            Config::resolve(file.clone())
                .unwrap()
                .billing_lease_seconds(),
            2
        );
        let over = ConfigFile {
            billing_lease: Some(Duration::from_millis(1500)),
            ..Default::default()
        };
        let config = Config::resolve(file.overridden_by(over)).unwrap();
        assert_eq!(
            config.billing_lease_seconds(),
            2,
            "a fraction is rounded up"
        );

        let short = ConfigFile {
            billing_lease: Some(Duration::from_millis(500)),
            ..Default::default()
        };
        let error = Config::resolve(short).unwrap_err().to_string();
        assert!(
            error.contains("billing_lease") && error.contains("500ms"),
            "{error}"
        );
    }

    #[test]
    fn metrics_settings_come_from_the_file_and_the_flags() {
        let defaults = Config::resolve(ConfigFile::default()).unwrap();
        assert_eq!(
            (defaults.metrics_addr, defaults.metrics_public),
            (None, false)
        );
        assert!(!defaults.serves_metrics());
        let file: ConfigFile =
            toml::from_str("metrics_addr = \"127.0.0.1:9464\"\nmetrics_public = true").unwrap();
        let config = Config::resolve(file.clone()).unwrap();
        assert_eq!(config.metrics_addr, Some("127.0.0.1:9464".parse().unwrap()));
        assert!(config.metrics_public && config.serves_metrics());
        let over = ConfigFile {
            metrics_addr: Some("0.0.0.0:1".into()),
            ..Default::default()
        };
        let config = Config::resolve(file.overridden_by(over)).unwrap();
        assert_eq!(config.metrics_addr, Some("0.0.0.0:1".parse().unwrap()));
        let bad = ConfigFile {
            metrics_addr: Some("nowhere".into()),
            ..Default::default()
        };
        let error = Config::resolve(bad).unwrap_err().to_string();
        assert!(error.contains("invalid metrics_addr 'nowhere'"), "{error}");
    }

    #[test]
    fn bad_values_are_explained() {
        let bad_addr = ConfigFile {
            addr: Some("nowhere".into()),
            ..Default::default()
        };
        assert!(
            Config::resolve(bad_addr)
                .unwrap_err()
                .to_string()
                .contains("invalid address")
        );
        let bad_url = ConfigFile {
            public_url: Some("pay.example.com".into()),
            ..Default::default()
        };
        assert!(
            Config::resolve(bad_url)
                .unwrap_err()
                .to_string()
                .contains("http://")
        );
        assert!(toml::from_str::<ConfigFile>("port = 1").is_err());
    }
}
