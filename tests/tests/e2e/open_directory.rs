//! Without a community service every user may use every room (the open directory): fine for
//! one developer's machine, not for a cluster. Cluster settings without a community service
//! refuse to start unless `community.open = true` says the open directory is wanted.

use chat_tests::{TestServer, refused_start, services};

/// A secret and a service token of production strength, so only the community rule is tested.
const SECRETS: [(&str, &str); 2] = [
    (
        "CHAT_JWT__SECRET",
        "a-production-strength-secret-of-more-than-32-bytes",
    ),
    (
        "CHAT_REST__SERVICE_TOKEN",
        "a-production-strength-service-token-of-32-bytes-or-more",
    ),
];

fn cluster_without_community_service(
    extra: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    let mut env: Vec<(&str, String)> = SECRETS
        .iter()
        .map(|(key, value)| (*key, (*value).to_owned()))
        .collect();
    env.push(("CHAT_REDIS__URL", services::redis_url()));
    env.push((
        "CHAT_REDIS__KEY_PREFIX",
        format!("{}:", services::unique_name("open")),
    ));
    env.extend(extra.iter().cloned());
    env
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter()
        .map(|(key, value)| (*key, value.as_str()))
        .collect()
}

#[test]
fn cluster_settings_without_a_community_service_refuse_to_start_naming_community_open() {
    let env = cluster_without_community_service(&[]);

    let said = refused_start(&borrowed(&env));

    assert!(said.contains("community.open"), "{said}");
    assert!(said.contains("CHAT_COMMUNITY__OPEN"), "{said}");
}

#[test]
fn cluster_settings_with_community_open_start_and_warn_that_the_directory_is_open() {
    let env = cluster_without_community_service(&[("CHAT_COMMUNITY__OPEN", "true".to_owned())]);

    let server = TestServer::start_with(&borrowed(&env));

    let warnings = server.wait_for_log_lines("community.open = true", 1);
    assert_eq!(warnings.len(), 1, "one start-up warning");
    assert!(warnings[0].contains("WARN"), "{}", warnings[0]);
}
