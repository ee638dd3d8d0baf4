//! Suites written in other languages, run against a `kassa serve` of this build on a fresh
//! database of the engine under test: the official Stripe SDKs (`tests/sdk/run.sh`:
//! stripe-python and stripe-node), a Python client generated from kassa's `/openapi.json`
//! (`tests/sdk/run.sh generated`), and the hosted checkout page in a real headless Chromium
//! (`tests/browser/run.sh`, playwright-core).

use crate::harness::{Engine, TestDatabase};

/// Declares a suite's test on both engines; where the build found its tools missing it is
/// ignored with `$missing` as the reason (`build.rs`; never under `CI=true`).
macro_rules! suite {
    ($name:ident, $tools:meta, $missing:literal, $run:expr) => {
        pub mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not($tools), ignore = $missing)]
            async fn sqlite() {
                ($run)(Engine::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(kassa_postgres_tests),
                ignore = "KASSA_TEST_POSTGRES_URL is not set, so the PostgreSQL variant is skipped"
            )]
            #[cfg_attr(all(kassa_postgres_tests, not($tools)), ignore = $missing)]
            async fn postgres() {
                ($run)(Engine::Postgres).await
            }
        }
    };
}

suite!(
    stripe_python_works_against_kassa,
    kassa_python,
    "python3 with venv is not installed, so the stripe-python suite is skipped (install it, then build again)",
    |engine| run_suite(engine, "tests/sdk/run.sh", "python")
);
suite!(
    generated_python_client_runs_a_checkout,
    kassa_python,
    "python3 with venv is not installed, so the generated client's suite is skipped (install it, then build again)",
    |engine| run_suite(engine, "tests/sdk/run.sh", "generated")
);
suite!(
    stripe_node_works_against_kassa,
    kassa_node,
    "node is not installed, so the stripe-node suite is skipped (install it, then build again)",
    |engine| run_suite(engine, "tests/sdk/run.sh", "node")
);
suite!(
    hosted_checkout_works_in_chromium,
    all(kassa_node, kassa_chromium),
    "node or Chromium (/usr/bin/chromium, or KASSA_CHROMIUM) is not installed, so the browser suite is skipped (install them, then build again)",
    |engine| run_suite(engine, "tests/browser/run.sh", "browser")
);

/// Runs `script` (its summary line starts with `label: `) and asserts every check passed. A
/// tool missing now fails the suite: the build found it, or `CI=true` requires it.
async fn run_suite(engine: Engine, script: &str, label: &str) {
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
