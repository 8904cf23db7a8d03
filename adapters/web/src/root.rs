//! The page at `/` in front of another endpoint. A poem `Route` lets a catch-all
//! nested at `/` (the REST API's) win over an exact `/` route, so the page cannot
//! be one more route: it wraps the catch-all instead.

use poem::http::Method;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::assets;

/// Serves the page for `GET /` and `HEAD /`; everything else goes to `inner`.
pub struct PageOr<E> {
    inner: E,
}

impl<E> PageOr<E> {
    pub(crate) fn new(inner: E) -> Self {
        Self { inner }
    }
}

impl<E: Endpoint> Endpoint for PageOr<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let is_page = request.uri().path() == crate::PAGE_PATH
            && matches!(*request.method(), Method::GET | Method::HEAD);
        if is_page {
            Ok(assets::page_response(request.headers()))
        } else {
            self.inner
                .call(request)
                .await
                .map(IntoResponse::into_response)
        }
    }
}
