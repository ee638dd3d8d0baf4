//! The official Stripe SDKs against kassa: `tests/sdk/run.sh` runs stripe-python and
//! stripe-node (pinned in `tests/sdk/`) against a `kassa serve` of this build, each on a fresh
//! database of the engine under test.

use crate::harness::{Engine, TestDatabase, on_both_engines};

on_both_engines!(
    stripe_python_works_against_kassa,
    stripe_node_works_against_kassa
);

async fn stripe_python_works_against_kassa(engine: Engine) {
    run_suite(engine, "python", "python3").await;
}

async fn stripe_node_works_against_kassa(engine: Engine) {
    run_suite(engine, "node", "node").await;
}

async fn run_suite(engine: Engine, suite: &str, interpreter: &str) {
    let available = std::process::Command::new(interpreter)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        // .ci/run installs both; a developer machine may lack one.
        eprintln!("SKIPPED: `{interpreter}` is not installed, so the {suite} SDK suite cannot run");
        return;
    }
    let database = TestDatabase::new(engine).await;
    let root = env!("CARGO_MANIFEST_DIR");
    let output = tokio::process::Command::new("bash")
        .arg(format!("{root}/tests/sdk/run.sh"))
        .arg(suite)
        .env("KASSA_BIN", env!("CARGO_BIN_EXE_kassa"))
        .env("KASSA_TEST_DATABASE_URL", &database.url)
        .current_dir(root)
        .output()
        .await
        .expect("run tests/sdk/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the {suite} SDK suite failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("{suite}: ")) && stdout.contains(" passed, 0 failed"),
        "{stdout}"
    );
}
