//! Use case: who is calling? (REST requests carry the same token as STOMP's CONNECT.)

use std::sync::Arc;

use crate::ports::outbound::{TokenError, TokenVerifier, VerifiedToken};

/// Verifies an access token.
pub struct Authenticate {
    tokens: Arc<dyn TokenVerifier>,
}

impl Authenticate {
    /// Wires the use case to the token verifier.
    pub fn new(tokens: Arc<dyn TokenVerifier>) -> Self {
        Self { tokens }
    }

    /// The verified token, or why it was refused.
    pub fn execute(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.tokens.verify(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::MocksBuilder;

    #[test]
    fn a_refused_token_is_reported_with_its_reason() {
        let mut m = MocksBuilder::new();
        m.tokens
            .expect_verify()
            .returning(|_| Err(TokenError::Expired));
        let m = m.build();

        let result = Authenticate::new(m.tokens).execute("jwt");

        assert_eq!(result, Err(TokenError::Expired));
    }
}
