//! Development tokens: `POST /dev/token {"userId":1,"name":"alice"}` answers
//! `{"token":"<jwt>"}`, a token for any user, so that the web page can log in
//! without the app's auth server. The composition root turns it on only while the
//! server signs with the built-in development secret (a token anybody can forge
//! anyway); otherwise the endpoint answers 404. `GET /web/config.json` tells the
//! page which of the two it is.

use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::{Endpoint, Request, Response};
use serde::Deserialize;
use serde_json::json;

use crate::json_response;

/// Signs a token for a user id and display name, valid for the given time.
pub type IssueToken = Arc<dyn Fn(u64, &str, Duration) -> anyhow::Result<String> + Send + Sync>;

/// How long a development token lasts.
const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// Largest request body read (a user id and a name need far less).
const MAX_BODY_BYTES: usize = 1024;

/// Longest display name accepted, in characters.
const MAX_NAME_CHARS: usize = 64;

/// The token issuer, present only when development tokens are on.
#[derive(Clone)]
pub struct DevTokens {
    issue: IssueToken,
}

impl DevTokens {
    /// Development tokens signed by `issue`.
    pub fn new(issue: IssueToken) -> Self {
        Self { issue }
    }
}

/// A user id as JSON writes it: a number or a numeric string (as the seed's ids).
#[derive(Deserialize)]
#[serde(untagged)]
enum UserIdField {
    Number(u64),
    Text(String),
}

/// The request body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenRequest {
    user_id: UserIdField,
    name: String,
}

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
struct Invalid(&'static str);

/// The user id and trimmed name of a request body, or why they are unusable.
fn parse(body: &[u8]) -> Result<(u64, String), Invalid> {
    let request: TokenRequest = serde_json::from_slice(body).map_err(|_| {
        Invalid("the body must be {\"userId\": <positive integer>, \"name\": <text>}")
    })?;
    let user = match request.user_id {
        UserIdField::Number(id) => Some(id),
        UserIdField::Text(text) => text.trim().parse().ok(),
    }
    .filter(|id| *id > 0)
    .ok_or(Invalid("userId must be a positive integer"))?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(Invalid("name must have 1 to 64 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid("name must not contain control characters"));
    }
    Ok((user, name.to_owned()))
}

/// `GET /web/config.json`: `{"developmentTokens": true|false}`.
pub(crate) fn config(enabled: bool) -> impl Endpoint<Output = Response> {
    poem::endpoint::make_sync(move |_| {
        json_response::json(StatusCode::OK, &json!({ "developmentTokens": enabled }))
    })
}

/// `POST /dev/token`.
pub(crate) fn endpoint(tokens: Option<DevTokens>) -> impl Endpoint<Output = Response> {
    poem::endpoint::make(move |request: Request| {
        let tokens = tokens.clone();
        async move {
            let Some(tokens) = tokens else {
                return json_response::error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "development tokens are off (the server does not use the development JWT secret)",
                );
            };
            issue(&tokens, request).await
        }
    })
}

async fn issue(tokens: &DevTokens, mut request: Request) -> Response {
    let Ok(body) = request.take_body().into_bytes_limit(MAX_BODY_BYTES).await else {
        tracing::info!("development token refused: body unreadable or over {MAX_BODY_BYTES} bytes");
        return json_response::error(
            StatusCode::BAD_REQUEST,
            "invalid_payload",
            "the body is unreadable or too large",
        );
    };
    let (user, name) = match parse(&body) {
        Ok(parsed) => parsed,
        Err(Invalid(reason)) => {
            tracing::info!(reason, "development token refused");
            return json_response::error(StatusCode::BAD_REQUEST, "invalid_payload", reason);
        }
    };
    match (tokens.issue)(user, &name, TOKEN_TTL) {
        Ok(token) => {
            tracing::info!(user, "development token issued");
            json_response::json(
                StatusCode::OK,
                &json!({
                    "token": token,
                    "userId": user,
                    "name": name,
                    "expiresInSeconds": TOKEN_TTL.as_secs(),
                }),
            )
        }
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "development token not signed");
            json_response::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the token could not be signed",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use poem::test::TestClient;
    use poem::{Route, post};
    use serde_json::Value;

    use super::*;

    fn app(tokens: Option<DevTokens>) -> Route {
        Route::new().at("/dev/token", post(endpoint(tokens)))
    }

    fn fake_issuer() -> DevTokens {
        DevTokens::new(Arc::new(|user, name: &str, _| {
            Ok(format!("token-{user}-{name}"))
        }))
    }

    #[test]
    fn a_numeric_string_id_and_a_padded_name_are_accepted() {
        assert_eq!(
            parse(br#"{"userId":"7","name":" gil "}"#),
            Ok((7, "gil".to_owned()))
        );
    }

    #[test]
    fn zero_empty_long_or_control_names_are_refused() {
        assert!(parse(br#"{"userId":0,"name":"a"}"#).is_err());
        assert!(parse(br#"{"userId":1,"name":"  "}"#).is_err());
        assert!(
            parse(format!(r#"{{"userId":1,"name":"{}"}}"#, "x".repeat(65)).as_bytes()).is_err()
        );
        assert!(parse(br#"{"userId":1,"name":"a\nb"}"#).is_err());
        assert!(parse(b"not json").is_err());
    }

    #[tokio::test]
    async fn a_token_is_issued_when_enabled() {
        let response = TestClient::new(app(Some(fake_issuer())))
            .post("/dev/token")
            .body_json(&json!({"userId": 3, "name": "cho"}))
            .send()
            .await;

        response.assert_status_is_ok();
        let body: Value = response.json().await.value().deserialize();
        assert_eq!(body["token"], "token-3-cho");
    }

    #[tokio::test]
    async fn the_endpoint_is_not_found_when_disabled() {
        TestClient::new(app(None))
            .post("/dev/token")
            .body_json(&json!({"userId": 3, "name": "cho"}))
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_bad_body_gets_a_clear_error() {
        let response = TestClient::new(app(Some(fake_issuer())))
            .post("/dev/token")
            .body("{")
            .send()
            .await;

        response.assert_status(StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.value().deserialize();
        assert_eq!(body["code"], "invalid_payload");
    }
}
