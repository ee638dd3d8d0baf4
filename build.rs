//! Build script: embeds migrations and decides whether the PostgreSQL test variants can run.

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
}
