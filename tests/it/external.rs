//! Suites written in other languages, run against a `kassa serve` of this build on a fresh
//! database of the engine under test: the official Stripe SDKs (`tests/sdk/run.sh`:
//! stripe-python and stripe-node) and the hosted checkout page in a real headless Chromium
//! (`tests/browser/run.sh`, playwright-core).

use crate::harness::{Engine, TestDatabase, on_both_engines};

on_both_engines!(
    stripe_python_works_against_kassa,
    stripe_node_works_against_kassa,
    hosted_checkout_works_in_chromium,
);

async fn stripe_python_works_against_kassa(engine: Engine) {
    run_suite(engine, "tests/sdk/run.sh", "python", &["python3"]).await;
}

async fn stripe_node_works_against_kassa(engine: Engine) {
    run_suite(engine, "tests/sdk/run.sh", "node", &["node"]).await;
}

async fn hosted_checkout_works_in_chromium(engine: Engine) {
    let chromium = std::env::var("KASSA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    run_suite(
        engine,
        "tests/browser/run.sh",
        "browser",
        &["node", &chromium],
    )
    .await;
}

/// Runs `script` (its summary line starts with `label: `) and asserts every check passed.
async fn run_suite(engine: Engine, script: &str, label: &str, needs: &[&str]) {
    for program in needs {
        let available = std::process::Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !available {
            // .ci/run installs everything; a developer machine may lack some of it.
            eprintln!("SKIPPED: `{program}` is not installed, so the {label} suite cannot run");
            return;
        }
    }
    let database = TestDatabase::new(engine).await;
    let root = env!("CARGO_MANIFEST_DIR");
    let mut command = tokio::process::Command::new("bash");
    command.arg(format!("{root}/{script}"));
    if label != "browser" {
        command.arg(label);
    }
    let output = command
        .env("KASSA_BIN", env!("CARGO_BIN_EXE_kassa"))
        .env("KASSA_TEST_DATABASE_URL", &database.url)
        .current_dir(root)
        .output()
        .await
        .expect("run the suite's script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the {label} suite failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("{label}: ")) && stdout.contains(" passed, 0 failed"),
        "{stdout}"
    );
}
