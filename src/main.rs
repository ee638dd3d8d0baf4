//! The `kassa` command: the server and its administration.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use kassa::clock::{Clock, SystemClock};
use kassa::config::{Config, ConfigFile, LogFormat, TestPrivate, parse_duration};
use kassa::domain::Mode;
use kassa::domain::accounts::{self, CreatedAccount, CreatedUser};
use kassa::store::redact_url;

#[derive(Parser)]
#[command(
    name = "kassa",
    version,
    about = "A self-hostable payments checkout server speaking the Loops checkout API and the Stripe API",
    long_about = "A self-hostable payments checkout server. Merchants create products and checkout \
                  sessions through the Loops API (/api/v1, /api/v2, /api/v3) or the Stripe API (/v1) \
                  and send each customer to the session's URL.\n\n\
                  Settings come from flags, then KASSA_* environment variables, then the config file, \
                  then the defaults."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the database is, for the commands that open it (only those offer these options).
/// `global`, so that `kassa keys create ... --database-url URL` works as well.
#[derive(Args)]
struct Storage {
    /// TOML config file with any of: addr, public_url, database_url, log_format,
    /// webhooks_allow_private, webhooks_test_private, header_timeout, idle_timeout,
    /// max_connections, shutdown_grace, smtp_url, smtp_from, smtp_test_mode, billing_lease,
    /// metrics_addr, metrics_public.
    #[arg(long, env = "KASSA_CONFIG", global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Database: `sqlite://PATH` (created if missing) or `postgres://USER@HOST/DB`.
    /// [default: sqlite://./kassa-data/kassa.db]
    #[arg(long, env = "KASSA_DATABASE_URL", global = true, value_name = "URL")]
    database_url: Option<String>,
}

/// A group of administration commands, with the database they work on.
#[derive(Args)]
struct Admin<C: Subcommand> {
    #[command(flatten)]
    storage: Storage,
    #[command(subcommand)]
    command: C,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrates the database first). On an empty database, creates a
    /// default account and prints its keys and dashboard sign-in once.
    Serve(ServeArgs),
    /// Bring the database schema up to date, then exit.
    Migrate(Storage),
    /// Manage accounts.
    Account(Admin<AccountCommand>),
    /// Manage secret API keys.
    Keys(Admin<KeysCommand>),
    /// Manage dashboard users.
    User(Admin<UserCommand>),
    /// Forward an account's events from a kassa server to a local URL, signed like webhooks
    /// (like `stripe listen`): for developing a webhook handler on your machine.
    Listen(ListenArgs),
    /// Pay a test-mode checkout session with a test card, as a customer on its hosted page
    /// would (events and webhooks included): for trying a checkout without a browser. Prints
    /// the session's status and payment status; exits 3 when the card is refused, 1 on errors.
    Pay(PayArgs),
    /// Copy products, prices, customers and payment links from a Stripe-compatible API (Stripe,
    /// or another kassa's /v1) into a kassa account and mode. A second run updates what changed
    /// and creates nothing twice; Ctrl-C stops after the object in hand (exit 130), and running
    /// the same command again goes on. Prints a summary: per kind of object, how many were
    /// created, updated, unchanged and skipped, and why each skipped one was. Reads 100
    /// objects a request; a 429 is retried after its Retry-After (in seconds, at most 60), a 5xx
    /// or a failed connection after 0.5 s, 1 s, 2 s..., five times at most.
    Import(ImportArgs),
}

#[derive(Args)]
struct ImportArgs {
    #[command(flatten)]
    storage: Storage,
    /// The source API's base URL, without /v1: Stripe's, or another kassa server's.
    #[arg(long, value_name = "URL", default_value = "https://api.stripe.com")]
    from: String,
    /// A secret key of the source account that can read its products, prices, customers and
    /// payment links (sk_... or a restricted rk_... key). Never printed or logged.
    #[arg(
        long,
        env = "KASSA_IMPORT_FROM_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    from_api_key: String,
    /// The kassa account the objects are copied into, `acct_...`.
    #[arg(long, value_name = "ACCOUNT_ID")]
    account: String,
    /// The kassa mode they are copied into: `test` or `live`.
    #[arg(long, value_parser = ["test", "live"])]
    mode: String,
    /// Read the source and show what would change (would-create and would-update counts),
    /// writing nothing, not even the record of imported objects.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args)]
struct PayArgs {
    /// The session to pay, `cs_test_...`.
    #[arg(value_name = "SESSION_ID")]
    session: String,
    /// A test card number: 4242424242424242 pays, 4000000000000002 is declined (see the README's
    /// test cards).
    #[arg(long, value_name = "NUMBER")]
    card: String,
    /// The customer's email [default: the session's customer_email].
    #[arg(long)]
    email: Option<String>,
    /// The name on the card.
    #[arg(long)]
    name: Option<String>,
    /// The amount the customer chooses, in minor units (2500 is $25.00), for a line whose price
    /// lets the customer choose.
    #[arg(long, value_name = "MINOR_UNITS")]
    amount: Option<i64>,
    /// The quantity of an adjustable line, by its index: `--quantity 0=3` (repeatable).
    #[arg(long = "quantity", value_name = "LINE=QUANTITY", value_parser = kassa::pay::parse_quantity)]
    quantities: Vec<(usize, i64)>,
    /// A test secret key of the session's account.
    #[arg(
        long,
        env = "KASSA_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    api_key: String,
    /// The kassa server.
    #[arg(
        long,
        env = "KASSA_SERVER",
        default_value = "http://127.0.0.1:4242",
        value_name = "URL"
    )]
    server: String,
}

#[derive(Args)]
struct ListenArgs {
    /// Where to POST each event, such as http://localhost:3000/webhooks.
    #[arg(long, value_name = "URL")]
    forward_to: String,
    /// Only these event types (comma-separated; `checkout.session.*` matches a prefix).
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    events: Vec<String>,
    /// A secret key of the account to follow (test or live).
    #[arg(
        long,
        env = "KASSA_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    api_key: String,
    /// The kassa server.
    #[arg(
        long,
        env = "KASSA_SERVER",
        default_value = "http://127.0.0.1:4242",
        value_name = "URL"
    )]
    server: String,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    storage: Storage,
    /// Address to listen on. [default: 127.0.0.1:4242]
    #[arg(long, env = "KASSA_ADDR", value_name = "HOST:PORT")]
    addr: Option<String>,
    /// Public base URL for the links kassa hands out (hosted checkout pages, payment links).
    /// [default: http://<addr>]
    #[arg(long, env = "KASSA_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Let live-mode webhook endpoints target loopback, private and link-local addresses
    /// (refused by default, so a live endpoint cannot reach inside your network).
    #[arg(long, env = "KASSA_WEBHOOKS_ALLOW_PRIVATE")]
    webhooks_allow_private: bool,
    /// Whether test-mode webhook endpoints may target loopback, private and link-local
    /// addresses: `deny` applies the live rule to them too, for a server shared by merchants
    /// who must not reach inside its network. [default: allow]
    #[arg(
        long,
        env = "KASSA_WEBHOOKS_TEST_PRIVATE",
        value_enum,
        value_name = "RULE"
    )]
    webhooks_test_private: Option<TestPrivate>,
    /// Log format. [default: text]
    #[arg(long, env = "KASSA_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// SMTP server for receipt emails: smtp://user:pass@host:587?tls=required (STARTTLS),
    /// smtps://user:pass@host:465 (TLS), or plain smtp://host:1025 for a local catcher.
    /// Without it, no email is sent.
    #[arg(long, env = "KASSA_SMTP_URL", value_name = "URL")]
    smtp_url: Option<String>,
    /// From address of receipt emails, e.g. "Shop <receipts@shop.example>".
    /// [default: receipts@<public URL's host>, named after the merchant]
    #[arg(long, env = "KASSA_SMTP_FROM", value_name = "ADDRESS")]
    smtp_from: Option<String>,
    /// Email receipts of test-mode payments too (for a mail catcher in development; off by
    /// default, as on Stripe, so that a test key cannot make the server email any address).
    #[arg(long, env = "KASSA_SMTP_TEST_MODE")]
    smtp_test_mode: bool,
    /// How long a server's claim on billing work holds (a subscription's renewal, an invoice's
    /// collection, a test clock's advance): work left by a server that died mid-step is taken
    /// over by another, or by this one restarted, once it runs out. Keep it longer than any one
    /// step takes; at least 1s. [default: 60s]
    #[arg(long, env = "KASSA_BILLING_LEASE", value_name = "DURATION", value_parser = parse_duration)]
    billing_lease: Option<Duration>,
    /// Serve Prometheus metrics at /metrics on a listener of its own at this address (it
    /// serves nothing else), such as 127.0.0.1:9464. [default: none]
    #[arg(long, env = "KASSA_METRICS_ADDR", value_name = "HOST:PORT")]
    metrics_addr: Option<String>,
    /// Serve Prometheus metrics at /metrics on the main listener too, to anyone who can reach
    /// it (without this or --metrics-addr, /metrics is an unknown route and nothing is
    /// recorded).
    #[arg(long, env = "KASSA_METRICS_PUBLIC")]
    metrics_public: bool,
    #[command(flatten)]
    connections: ConnectionArgs,
}

impl ServeArgs {
    fn settings(&self) -> ConfigFile {
        ConfigFile {
            addr: self.addr.clone(),
            public_url: self.public_url.clone(),
            log_format: self.log_format,
            webhooks_allow_private: self.webhooks_allow_private.then_some(true),
            webhooks_test_private: self.webhooks_test_private,
            smtp_url: self.smtp_url.clone(),
            smtp_from: self.smtp_from.clone(),
            smtp_test_mode: self.smtp_test_mode.then_some(true),
            billing_lease: self.billing_lease,
            metrics_addr: self.metrics_addr.clone(),
            metrics_public: self.metrics_public.then_some(true),
            ..self.connections.settings()
        }
    }
}

/// What slow and hostile clients may hold of the server.
#[derive(Args)]
struct ConnectionArgs {
    /// Time a client has to send a request's whole head (request line and headers), from the
    /// connection's start or the head's first byte; then the connection is closed. [default: 10s]
    #[arg(long, env = "KASSA_HEADER_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    header_timeout: Option<Duration>,
    /// Time a kept-alive connection may wait for its next request before it is closed.
    /// [default: 60s]
    #[arg(long, env = "KASSA_IDLE_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    idle_timeout: Option<Duration>,
    /// Most connections open at once; at the cap, the one that has waited longest for its
    /// client is closed to make room. [default: the open-file limit (ulimit -n) less 128, or half of it under 256]
    #[arg(long, env = "KASSA_MAX_CONNECTIONS", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: Option<u64>,
    /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish before every
    /// connection still open is closed. [default: 10s]
    #[arg(long, env = "KASSA_SHUTDOWN_GRACE", value_name = "DURATION", value_parser = parse_duration)]
    shutdown_grace: Option<Duration>,
}

impl ConnectionArgs {
    fn settings(&self) -> ConfigFile {
        ConfigFile {
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self
                .max_connections
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            shutdown_grace: self.shutdown_grace,
            ..ConfigFile::default()
        }
    }
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account with a test key and a live key, printed once.
    Create {
        /// The merchant's name, shown to customers.
        #[arg(long)]
        name: String,
        /// Print one JSON object: {account_id, test_secret_key, live_secret_key}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a dashboard user to an account; their password is generated and printed once.
    Create {
        /// The account the user signs in to, `acct_...`.
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: String,
        /// The email the user signs in with.
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a secret key for an account; the key is printed once.
    Create {
        /// The account the key belongs to, `acct_...`.
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: String,
        /// `test` for a key that sees test-mode data (`sk_test_...`), `live` for live mode.
        #[arg(long, value_parser = ["test", "live"])]
        mode: String,
    },
    /// List an account's keys (redacted), with their ids, creation, last use and status.
    List {
        /// The account whose keys to list, `acct_...`.
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: String,
    },
    /// Revoke a key; requests with it are refused from then on, in every process.
    Revoke {
        /// The key's id, `key_...`, as `kassa keys list` shows it (not the secret itself).
        #[arg(value_name = "KEY_ID")]
        key_id: String,
    },
}

/// mimalloc rather than glibc's malloc: a request allocates and frees many small values on
/// whichever worker thread runs it, which glibc's arenas serve with locks (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let (storage, mut given) = match &cli.command {
        Command::Serve(args) => (Some(&args.storage), args.settings()),
        Command::Migrate(storage) => (Some(storage), ConfigFile::default()),
        Command::Account(admin) => (Some(&admin.storage), ConfigFile::default()),
        Command::Keys(admin) => (Some(&admin.storage), ConfigFile::default()),
        Command::User(admin) => (Some(&admin.storage), ConfigFile::default()),
        Command::Import(args) => (Some(&args.storage), ConfigFile::default()),
        Command::Listen(_) | Command::Pay(_) => (None, ConfigFile::default()),
    };
    let file = match storage.and_then(|s| s.config.as_ref()) {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    given.database_url = storage.and_then(|s| s.database_url.clone());
    let config = Config::resolve(file.overridden_by(given))?;
    init_logging(config.log_format);
    let clock = SystemClock;

    match cli.command {
        Command::Serve(_) => serve(config).await,
        Command::Listen(args) => {
            kassa::listen::check_forward_url(&args.forward_to)?;
            kassa::listen::listen(kassa::listen::ListenOptions {
                server: args.server,
                api_key: args.api_key,
                forward_to: args.forward_to,
                events: args.events,
            })
            .await
        }
        Command::Pay(args) => {
            let outcome = kassa::pay::pay(kassa::pay::PayOptions {
                server: args.server,
                api_key: args.api_key,
                session: args.session,
                card: args.card,
                email: args.email,
                name: args.name,
                amount: args.amount,
                quantities: args.quantities,
            })
            .await?;
            if outcome == kassa::pay::Outcome::Refused {
                // Not 1 (an error) or 2 (a usage error): a script can tell a declined card.
                std::process::exit(3);
            }
            Ok(())
        }
        Command::Import(args) => import(config, args).await,
        Command::Migrate(_) => {
            kassa::app::open_database(&config.database_url).await?;
            println!(
                "The database at {} is up to date.",
                redact_url(&config.database_url)
            );
            Ok(())
        }
        Command::Account(Admin {
            command: AccountCommand::Create { name, json },
            ..
        }) => {
            let db = kassa::app::open_database(&config.database_url).await?;
            let created = accounts::create_account(&db, &name, clock.now()).await?;
            if json {
                let object = serde_json::json!({
                    "account_id": created.account.id,
                    "test_secret_key": created.test_key.secret,
                    "live_secret_key": created.live_key.secret,
                });
                println!("{object}");
            } else {
                println!(
                    "Created account {} ({}).",
                    created.account.id, created.account.name
                );
                println!("  test key  {}", created.test_key.secret);
                println!("  live key  {}", created.live_key.secret);
                println!("The keys are shown only this once; store them now.");
            }
            Ok(())
        }
        Command::User(Admin {
            command: UserCommand::Create { account, email },
            ..
        }) => {
            let db = kassa::app::open_database(&config.database_url).await?;
            let user =
                kassa::domain::dashboard::create_user(&db, &account, &email, clock.now()).await?;
            println!("Created dashboard user {} for {account}:", user.email);
            println!("  password  {}", user.password);
            println!("The password is shown only this once; store it now.");
            Ok(())
        }
        Command::Keys(Admin {
            command: KeysCommand::Create { account, mode },
            ..
        }) => {
            let db = kassa::app::open_database(&config.database_url).await?;
            let mode: Mode = mode.parse().map_err(anyhow::Error::msg)?;
            let created = accounts::create_key(&db, &account, mode, clock.now()).await?;
            println!("Created {} key {} for {account}:", mode, created.key.id);
            println!("  {}", created.secret);
            println!("The key is shown only this once; store it now.");
            Ok(())
        }
        Command::Keys(Admin {
            command: KeysCommand::List { account },
            ..
        }) => {
            let db = kassa::app::open_database(&config.database_url).await?;
            let keys = accounts::list_keys(&db, &account).await?;
            println!(
                "{:<36} {:<5} {:<18} {:<20} {:<20} STATUS",
                "ID", "MODE", "KEY", "CREATED", "LAST USED"
            );
            for key in keys {
                let status = match key.revoked {
                    Some(at) => format!("revoked {}", format_time(at)),
                    None => "active".to_string(),
                };
                println!(
                    "{:<36} {:<5} {:<18} {:<20} {:<20} {status}",
                    key.id,
                    key.mode,
                    key.redacted,
                    format_time(key.created),
                    key.last_used
                        .map(format_time)
                        .unwrap_or_else(|| "never".into()),
                );
            }
            Ok(())
        }
        Command::Keys(Admin {
            command: KeysCommand::Revoke { key_id },
            ..
        }) => {
            let db = kassa::app::open_database(&config.database_url).await?;
            let key = accounts::revoke_key(&db, &key_id, clock.now()).await?;
            println!("Revoked {} ({}).", key.id, key.redacted);
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Bound before the first-start setup, so that a start that cannot listen creates no keys
    // it would never get to print.
    let listener =
        kassa::http::server::bind(config.addr).map_err(|e| cannot_listen(config.addr, &e))?;
    let metrics_listener = match config.metrics_addr {
        Some(addr) => {
            Some(kassa::http::server::bind(addr).map_err(|e| cannot_listen_for_metrics(addr, &e))?)
        }
        None => None,
    };
    if config.serves_metrics() {
        kassa::metrics::install()?;
    }
    let db = kassa::app::open_database(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot open the database at {}",
                redact_url(&config.database_url)
            )
        })?;
    let clock = Arc::new(SystemClock);
    let first_start = accounts::bootstrap(&db, clock.now()).await?;
    let local = listener.local_addr()?;
    let config = config.bound_to(local);
    println!("kassa is listening on http://{local}");
    println!("  public URL  {}", config.public_url);
    println!("  database    {}", redact_url(&config.database_url));
    if let Some(metrics) = &metrics_listener {
        println!("  metrics     http://{}/metrics", metrics.local_addr()?);
    }
    if config.metrics_public {
        println!("  metrics     {}/metrics", config.public_url);
    }
    match &config.smtp {
        Some(smtp) => println!("  receipts    emailed through {}", smtp.redacted()),
        None => println!("  receipts    not emailed (no --smtp-url)"),
    }
    match first_start {
        Some((created, user)) => print_first_start(&config, &created, &user),
        // The first start's keys are shown only once: say how to make another.
        None => {
            let account = accounts::sole_account(&db).await?;
            println!(
                "  API keys    shown only on the first start; make another with: {}",
                key_command(account.as_deref(), &config.database_url)
            );
        }
    }
    tracing::info!(addr = %local, "listening");
    let listeners = kassa::app::Listeners {
        api: listener,
        metrics: metrics_listener,
    };
    kassa::app::serve_on(db, clock, config, listeners, kassa::app::shutdown_signal()).await
}

/// Why `kassa serve` cannot listen for metrics on `addr`, and how to choose another address.
fn cannot_listen_for_metrics(addr: std::net::SocketAddr, error: &std::io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot listen for metrics on {addr}: {error}; choose another address with \
         --metrics-addr HOST:PORT (or KASSA_METRICS_ADDR, or metrics_addr in the config file)"
    )
}

/// `kassa import`: runs the import with Ctrl-C as its stop, prints the summary, and exits 130
/// when it was interrupted (as a shell does for a process ended by SIGINT).
async fn import(config: Config, args: ImportArgs) -> anyhow::Result<()> {
    let mode: Mode = args.mode.parse().map_err(anyhow::Error::msg)?;
    let source = kassa::import::Source::new(&args.from, args.from_api_key)?;
    let db = kassa::app::open_database(&config.database_url).await?;
    let stop = tokio_util::sync::CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
        }
    });
    let options = kassa::import::ImportOptions {
        source,
        account_id: args.account,
        livemode: mode.is_live(),
        dry_run: args.dry_run,
        public_url: config.public_url.clone(),
    };
    let summary = kassa::import::run(&db, Arc::new(SystemClock), options, stop).await;
    db.close().await;
    let summary = summary?;
    println!("{summary}");
    if summary.interrupted {
        std::process::exit(130);
    }
    Ok(())
}

/// Why `kassa serve` cannot listen on `addr`, and how to choose another address.
fn cannot_listen(addr: std::net::SocketAddr, error: &std::io::Error) -> anyhow::Error {
    let why = match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            "the address is already in use (perhaps by another kassa serve)".to_string()
        }
        _ => error.to_string(),
    };
    anyhow::anyhow!(
        "cannot listen on {addr}: {why}; choose another address with --addr HOST:PORT \
         (or KASSA_ADDR, or addr in the config file)"
    )
}

/// The command that makes a test key: for the installation's account when it has only one, on
/// this server's database. A password in the URL is not printed: a `PASSWORD` placeholder
/// stands for it, in capitals like `ACCOUNT_ID`, so that the command is not taken as runnable.
fn key_command(account: Option<&str>, database_url: &str) -> String {
    let mut command = format!(
        "kassa keys create --account {} --mode test",
        account.unwrap_or("ACCOUNT_ID")
    );
    if database_url != kassa::config::DEFAULT_DATABASE_URL {
        let shown = redact_url(database_url).replacen(":***@", ":PASSWORD@", 1);
        command.push_str(&format!(" --database-url {shown}"));
    }
    command
}

fn print_first_start(config: &Config, created: &CreatedAccount, user: &CreatedUser) {
    let base = &config.public_url;
    println!();
    println!("This is a new installation: a default account was created.");
    println!("These secrets are shown only this once; store them now.");
    println!();
    println!("  account        {}", created.account.id);
    println!("  test key       {}", created.test_key.secret);
    println!("  live key       {}", created.live_key.secret);
    println!("  dashboard      {base}/dashboard");
    println!("    email        {}", user.email);
    println!("    password     {}", user.password);
    println!("  API reference  {base}/docs");
    println!();
    println!("Try it:");
    println!(
        "  curl -H \"Authorization: Bearer {}\" {base}/api/v3/account",
        created.test_key.secret
    );
    println!();
}

fn format_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KASSA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colours only for a person at a terminal: a log file or collector would get escape codes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every command says what it does, every option and argument what it is for, as `--help`
    /// shows them.
    #[test]
    fn every_command_and_option_is_described() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if command.get_about().is_none() {
                missing.push(format!("`{path}` has no description"));
            }
            for arg in command.get_arguments() {
                if arg.get_help().is_none() {
                    missing.push(format!("`{path}` {} has no help", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut command = Cli::command();
        command.build();
        let mut missing = Vec::new();
        walk(&command, "kassa", &mut missing);
        assert!(missing.is_empty(), "{missing:#?}");
    }

    /// Each command offers the options it acts on and no others.
    #[test]
    fn commands_offer_only_the_options_they_use() {
        let mut command = Cli::command();
        command.build();
        let options = |path: &[&str]| -> Vec<String> {
            let mut found = &command;
            for name in path {
                found = found.find_subcommand(name).unwrap();
            }
            found
                .get_arguments()
                .filter_map(|a| a.get_long().map(str::to_string))
                .collect()
        };
        for path in [&["listen"][..], &["pay"]] {
            let offered = options(path);
            for unused in ["config", "database-url", "log-format"] {
                assert!(
                    !offered.iter().any(|o| o == unused),
                    "{path:?}: {offered:?}"
                );
            }
        }
        let database = ["config", "database-url"];
        for path in [
            &["serve"][..],
            &["migrate"],
            &["account", "create"],
            &["keys", "create"],
            &["keys", "list"],
            &["keys", "revoke"],
            &["user", "create"],
            &["import"],
        ] {
            let offered = options(path);
            for used in database {
                assert!(offered.iter().any(|o| o == used), "{path:?}: {offered:?}");
            }
            let logs = offered.iter().any(|o| o == "log-format");
            assert_eq!(logs, path == ["serve"], "{path:?}: {offered:?}");
        }
    }

    #[test]
    fn the_key_hint_names_the_account_and_a_database_other_than_the_default() {
        assert_eq!(
            key_command(Some("acct_1"), kassa::config::DEFAULT_DATABASE_URL),
            "kassa keys create --account acct_1 --mode test"
        );
        assert_eq!(
            key_command(None, "postgres://kassa:secret@db/kassa"),
            "kassa keys create --account ACCOUNT_ID --mode test \
             --database-url postgres://kassa:PASSWORD@db/kassa"
        );
    }
}
