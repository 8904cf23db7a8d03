//! STOMP protocol versions and their negotiation.

use std::fmt;

/// A STOMP protocol version. Ordered oldest to newest so negotiation can pick the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    V1_0,
    V1_1,
    V1_2,
}

impl Version {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_0 => "1.0",
            Self::V1_1 => "1.1",
            Self::V1_2 => "1.2",
        }
    }

    /// Chooses the highest version both sides support from an `accept-version` header value
    /// (`"1.0,1.1,1.2"`). `None` header means 1.0, since 1.0 clients do not send it; returns
    /// `None` if nothing is in common.
    #[must_use]
    pub fn negotiate(accept_version: Option<&str>) -> Option<Version> {
        let Some(offered) = accept_version else {
            return Some(Self::V1_0);
        };
        offered
            .split(',')
            .filter_map(|token| Self::parse(token.trim()))
            .max()
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::V1_0, Self::V1_1, Self::V1_2]
            .into_iter()
            .find(|version| version.as_str() == text)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Version;

    #[test]
    fn versions_render_as_their_protocol_numbers() {
        assert_eq!(Version::V1_0.as_str(), "1.0");
        assert_eq!(Version::V1_1.as_str(), "1.1");
        assert_eq!(Version::V1_2.to_string(), "1.2");
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        assert_eq!(Version::negotiate(Some("1.0,1.1,1.2")), Some(Version::V1_2));
        assert_eq!(Version::negotiate(Some("1.1,1.0")), Some(Version::V1_1));
    }

    #[test]
    fn a_missing_accept_version_header_means_stomp_1_0() {
        assert_eq!(Version::negotiate(None), Some(Version::V1_0));
    }

    #[test]
    fn negotiation_ignores_versions_the_server_does_not_know() {
        assert_eq!(Version::negotiate(Some("1.1,2.0")), Some(Version::V1_1));
    }

    #[test]
    fn negotiation_tolerates_spaces_around_versions() {
        assert_eq!(Version::negotiate(Some("1.0, 1.2 ")), Some(Version::V1_2));
    }

    #[test]
    fn negotiation_fails_when_no_offered_version_is_supported() {
        assert_eq!(Version::negotiate(Some("2.0,3.1")), None);
        assert_eq!(Version::negotiate(Some("")), None);
    }
}
