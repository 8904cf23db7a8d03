//! What every call to Mongo shares: a deadline on the whole call, and reading
//! the driver's errors (which of them is a duplicate key).

use std::time::Duration;

use mongodb::error::{Error, ErrorKind, WriteFailure};

/// The server's code for a write refused by a unique index.
const DUPLICATE_KEY: i32 = 11_000;

/// Runs `call`, failing with a clear error if it has not finished within `limit`.
/// The driver's own timeouts cover connecting and server selection; this covers
/// everything else (a server that accepts the request and never answers, retries
/// of several round trips), so no port call waits longer than `limit`.
pub(crate) async fn bounded<T>(
    limit: Duration,
    what: &'static str,
    call: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result.map_err(|error| error.context(format!("MongoDB {what} failed"))),
        Err(_elapsed) => Err(anyhow::anyhow!(
            "MongoDB {what} did not finish within {} ms",
            limit.as_millis()
        )),
    }
}

/// Whether `error` is a write (or upsert) refused by a unique index.
pub(crate) fn is_duplicate_key(error: &Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(failure)) => failure.code == DUPLICATE_KEY,
        ErrorKind::Command(failure) => failure.code == DUPLICATE_KEY,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_call_that_never_answers_fails_at_the_limit() {
        let error = bounded(
            Duration::from_millis(50),
            "find",
            std::future::pending::<anyhow::Result<()>>(),
        )
        .await
        .expect_err("timed out");

        assert!(error.to_string().contains("within 50 ms"), "{error}");
    }

    #[tokio::test]
    async fn a_failing_call_names_the_operation() {
        let error = bounded(Duration::from_secs(1), "insert", async {
            Err::<(), _>(anyhow::anyhow!("boom"))
        })
        .await
        .expect_err("failed");

        assert_eq!(error.to_string(), "MongoDB insert failed");
        assert_eq!(error.root_cause().to_string(), "boom");
    }
}
