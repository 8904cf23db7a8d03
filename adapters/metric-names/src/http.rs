//! HTTP requests, recorded by bootstrap's middleware around the routes. The `route` label is
//! the matched route template (or a normalised path), never a raw path.

/// Counter by [`METHOD`], [`ROUTE`] and [`STATUS`]: HTTP requests served.
pub const REQUESTS: &str = "http_requests_total";
/// Histogram in seconds by [`METHOD`], [`ROUTE`] and [`STATUS`]: time to produce a response.
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";
/// Counter: errors accepting a connection (out of file descriptors or memory, …); each is
/// followed by a short pause of the accept loop.
pub const ACCEPT_ERRORS: &str = "http_accept_errors_total";

/// Label key: the request method (a standard method, or `other`).
pub const METHOD: &str = "method";
/// Label key: the route template.
pub const ROUTE: &str = "route";
/// Label key: the response status code.
pub const STATUS: &str = "status";
