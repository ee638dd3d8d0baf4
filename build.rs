//! Build script: embeds migrations, and decides which test suites can run on this machine.

use std::process::Command;

fn main() {
    // `sqlx::migrate!` embeds these folders; rebuild when they change.
    println!("cargo::rerun-if-changed=migrations");
    // The integration tests run every test on SQLite, and on PostgreSQL as well when
    // KASSA_TEST_POSTGRES_URL names a server. Without it the PostgreSQL variants are reported
    // as ignored, with the reason.
    println!("cargo::rustc-check-cfg=cfg(kassa_postgres_tests)");
    println!("cargo::rerun-if-env-changed=KASSA_TEST_POSTGRES_URL");
    if std::env::var_os("KASSA_TEST_POSTGRES_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=kassa_postgres_tests");
    }
    external_suites();
}

/// The suites written in other languages need Python (with venv), Node.js and Chromium. Where
/// one is missing its tests are reported as ignored, with the reason, so that the test summary
/// says what did not run. Under `CI=true` nothing is ignored: a missing tool fails its suite.
fn external_suites() {
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=KASSA_CHROMIUM");
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let chromium =
        std::env::var("KASSA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    let tools: [(&str, &str, &[&str]); 3] = [
        ("kassa_python", "python3", &["-m", "venv", "--help"]),
        ("kassa_node", "node", &["--version"]),
        ("kassa_chromium", &chromium, &["--version"]),
    ];
    let mut missing = false;
    for (cfg, program, args) in tools {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        let found = Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success());
        if found || in_ci {
            println!("cargo::rustc-cfg={cfg}");
        }
        missing |= !found;
    }
    if missing {
        // Installing a Debian package adds to /usr/bin: look again then.
        println!("cargo::rerun-if-changed=/usr/bin");
    }
}
