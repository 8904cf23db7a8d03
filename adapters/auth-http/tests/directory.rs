//! `HttpUserDirectory` against the fake auth service on a real socket: the request it sends, how
//! profiles are cached and refreshed, and how 4xx, 5xx, timeouts and outages turn into fallback
//! profiles instead of errors.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use application::ports::outbound::UserDirectory;
use chat_adapter_auth_http::{AuthHttpSettings, HttpUserDirectory};
use chat_tests::{FakeAuthService, FakeProfile};
use domain::{UserId, UserProfile};

const ALICE: UserId = UserId::new(1);
const NOBODY: UserId = UserId::new(404);

async fn fake_knowing_alice() -> FakeAuthService {
    FakeAuthService::start(HashMap::from([(
        1,
        FakeProfile::new("alice-from-auth", Some("https://img/alice.png")),
    )]))
    .await
}

/// Short timeouts and backoffs keep the failure tests fast; no pause after failures, so each
/// test sees every call reach the service unless it sets one.
fn settings(fake: &FakeAuthService) -> AuthHttpSettings {
    AuthHttpSettings {
        timeout_ms: 300,
        retries: 2,
        retry_backoff_ms: 10,
        outage_pause_ms: 0,
        ..AuthHttpSettings::new(fake.base_url())
    }
}

fn directory(settings: &AuthHttpSettings) -> HttpUserDirectory {
    HttpUserDirectory::new(settings).expect("valid settings")
}

fn profile(id: UserId, name: &str, image: Option<&str>) -> UserProfile {
    UserProfile {
        id,
        name: name.to_owned(),
        image: image.map(str::to_owned),
    }
}

fn from_auth() -> UserProfile {
    profile(ALICE, "alice-from-auth", Some("https://img/alice.png"))
}

fn from_token() -> UserProfile {
    profile(ALICE, "alice-from-token", None)
}

#[tokio::test]
async fn a_lookup_posts_the_id_list_to_find_id_list_as_the_seed_did() {
    let fake = fake_knowing_alice().await;
    let directory = directory(&settings(&fake));

    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        from_auth()
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/auth-server/find-id-list");
    assert_eq!(request.body, b"[1]");
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["content-length"], "3");
}

#[tokio::test]
async fn a_trailing_slash_in_the_base_url_is_not_doubled() {
    let fake = fake_knowing_alice().await;
    let settings = AuthHttpSettings {
        base_url: format!("{}/", fake.base_url()),
        ..settings(&fake)
    };

    directory(&settings).profile(ALICE).await.expect("profile");

    assert_eq!(fake.requests()[0].path, "/auth-server/find-id-list");
}

#[tokio::test]
async fn a_cached_profile_answers_the_second_lookup_without_a_call() {
    let fake = fake_knowing_alice().await;
    let directory = directory(&settings(&fake));

    let first = directory.profile(ALICE).await.expect("profile");
    let second = directory.profile(ALICE).await.expect("profile");

    assert_eq!(first, from_auth());
    assert_eq!(second, from_auth());
    assert_eq!(fake.lookups(), 1);
}

#[tokio::test]
async fn an_expired_profile_is_asked_for_again_and_the_new_one_is_used() {
    let fake = fake_knowing_alice().await;
    let settings = AuthHttpSettings {
        profile_cache_ttl_seconds: 1,
        ..settings(&fake)
    };
    let directory = directory(&settings);
    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        from_auth()
    );

    fake.set_user(1, FakeProfile::new("alice-renamed", None));
    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        from_auth(),
        "still fresh"
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        profile(ALICE, "alice-renamed", None)
    );
    assert_eq!(fake.lookups(), 2);
}

#[tokio::test]
async fn a_user_the_service_does_not_know_gets_the_token_profile_or_an_anonymous_one() {
    let fake = fake_knowing_alice().await;
    let directory = directory(&settings(&fake));
    let token = profile(NOBODY, "from-token", Some("https://img/t.png"));

    assert_eq!(
        directory.profile(NOBODY).await.expect("profile"),
        UserProfile::anonymous(NOBODY)
    );
    directory.learn(&token).await.expect("learned");
    assert_eq!(directory.profile(NOBODY).await.expect("profile"), token);
    assert_eq!(
        fake.lookups(),
        1,
        "that the service does not know them is cached too"
    );
}

#[tokio::test]
async fn the_service_wins_over_what_the_token_says() {
    let fake = fake_knowing_alice().await;
    let directory = directory(&settings(&fake));

    directory.learn(&from_token()).await.expect("learned");

    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        from_auth()
    );
}

#[tokio::test]
async fn a_4xx_answers_with_the_token_profile_without_retrying() {
    let fake = fake_knowing_alice().await;
    fake.set_outage(Some(400));
    let directory = directory(&settings(&fake));
    directory.learn(&from_token()).await.expect("learned");

    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        from_token()
    );
    assert_eq!(fake.lookups(), 1);
}

#[tokio::test]
async fn a_500_is_retried_and_then_succeeds() {
    let fake = fake_knowing_alice().await;
    fake.fail_next(2);
    let directory = directory(&settings(&fake));

    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        from_auth()
    );
    assert_eq!(fake.lookups(), 3);
}

#[tokio::test]
async fn a_5xx_outlasting_the_retries_answers_with_the_fallback_not_an_error() {
    let fake = fake_knowing_alice().await;
    fake.set_outage(Some(503));
    let directory = directory(&settings(&fake));

    assert_eq!(
        directory.profile(ALICE).await.expect("no error"),
        UserProfile::anonymous(ALICE)
    );
    assert_eq!(fake.lookups(), 3);
    directory.learn(&from_token()).await.expect("learned");
    assert_eq!(
        directory.profile(ALICE).await.expect("no error"),
        from_token()
    );
}

#[tokio::test]
async fn a_slow_service_answers_with_the_fallback_within_the_timeouts() {
    let fake = fake_knowing_alice().await;
    fake.set_delay(Duration::from_secs(5));
    let settings = AuthHttpSettings {
        timeout_ms: 200,
        retries: 1,
        ..settings(&fake)
    };
    let directory = directory(&settings);
    directory.learn(&from_token()).await.expect("learned");

    let started = Instant::now();
    let answer = directory.profile(ALICE).await.expect("no error");
    let elapsed = started.elapsed();

    assert_eq!(answer, from_token());
    // Two attempts of 200 ms and a 10 ms backoff, with room for a slow machine.
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1_500), "{elapsed:?}");
    assert_eq!(fake.lookups(), 2, "a timeout is retried");
}

#[tokio::test]
async fn during_an_outage_an_expired_cached_profile_is_served() {
    let fake = fake_knowing_alice().await;
    // Zero TTL: every call asks the service, the cache only helps during outages.
    let settings = AuthHttpSettings {
        profile_cache_ttl_seconds: 0,
        ..settings(&fake)
    };
    let directory = directory(&settings);
    directory.learn(&from_token()).await.expect("learned");
    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        from_auth()
    );

    fake.set_outage(Some(500));

    assert_eq!(
        directory.profile(ALICE).await.expect("served stale"),
        from_auth(),
        "the expired cache beats the token"
    );
    assert_eq!(
        fake.lookups(),
        1 + 3,
        "the stale answer tried the service first"
    );
}

#[tokio::test]
async fn after_a_failure_the_service_is_left_alone_for_the_outage_pause() {
    let fake = fake_knowing_alice().await;
    fake.set_outage(Some(503));
    let settings = AuthHttpSettings {
        retries: 0,
        outage_pause_ms: 500,
        ..settings(&fake)
    };
    let directory = directory(&settings);
    directory.learn(&from_token()).await.expect("learned");

    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        from_token()
    );
    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        from_token()
    );
    assert_eq!(fake.lookups(), 1, "the second answer did not ask");

    fake.set_outage(None);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        directory.profile(ALICE).await.expect("profile"),
        from_auth()
    );
    assert_eq!(fake.lookups(), 2);
}

#[tokio::test]
async fn a_service_that_is_not_listening_answers_with_the_fallback() {
    let fake = fake_knowing_alice().await;
    let settings = settings(&fake);
    fake.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let directory = directory(&settings);
    directory.learn(&from_token()).await.expect("learned");

    assert_eq!(
        directory.profile(ALICE).await.expect("no error"),
        from_token()
    );
    assert!(directory.ping().await.is_err());
}

#[tokio::test]
async fn ping_succeeds_while_the_service_answers_http() {
    let fake = fake_knowing_alice().await;

    directory(&settings(&fake)).ping().await.expect("reachable");
}

#[test]
fn every_answer_given_without_the_service_is_counted_as_degraded() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let fake = fake_knowing_alice().await;
            let directory = directory(&settings(&fake));
            directory.profile(ALICE).await.expect("from the service");
            directory
                .profile(NOBODY)
                .await
                .expect("unknown, not degraded");
            fake.set_outage(Some(500));
            directory.profile(UserId::new(2)).await.expect("anonymous");
            directory.profile(UserId::new(3)).await.expect("anonymous");
        });
    });

    let rendered = handle.render();
    let line = r#"chat_dependency_degraded_total{dependency="auth_service"} 2"#;
    assert!(rendered.lines().any(|l| l == line), "{rendered}");
}
