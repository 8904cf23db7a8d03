//! SUBSCRIBE and UNSUBSCRIBE, and authorising subscriptions again (periodically,
//! and when a group's member list changes), so a removed member stops hearing it.

use std::collections::HashSet;
use std::time::Duration;

use application::ports::inbound::RequestKind;
use application::usecases::ListenError;
use domain::{Audience, UserId};

use super::{Flow, Session};
use crate::destination::{Listen, audience_destination, parse_listen};
use crate::frame::{Frame, Version};
use crate::refusal::{Fatal, Refusal};
use crate::refusal_budget::quoted;
use crate::transport::OutboundSink;
use metric_names::stomp as metric;

impl<O: OutboundSink> Session<O> {
    pub(super) async fn subscribe(
        &mut self,
        user: UserId,
        frame: &Frame,
        receipt: Option<&str>,
    ) -> Flow {
        let Some(destination) = frame.header("destination") else {
            return self
                .fail(
                    Fatal::MissingHeader,
                    "SUBSCRIBE needs a destination header",
                    receipt,
                )
                .await;
        };
        // STOMP 1.0 made `id` optional; the destination then names the subscription.
        let id = match (frame.header("id"), self.version) {
            (Some(id), _) => id.to_owned(),
            (None, Version::V1_0) => destination.to_owned(),
            (None, _) => {
                return self
                    .fail(
                        Fatal::MissingHeader,
                        "SUBSCRIBE needs an id header",
                        receipt,
                    )
                    .await;
            }
        };
        let destination = destination.to_owned();
        let audience = match parse_listen(&destination) {
            Some(Listen::Errors) => {
                self.error_queue = Some(id);
                return self.receipt(receipt).await;
            }
            Some(Listen::Audience(audience)) => audience,
            None => {
                let refusal = Refusal::new(
                    "unknown_destination",
                    format!("cannot subscribe to `{}`", quoted(&destination)),
                );
                return self.refuse(&refusal, Some(&destination), receipt).await;
            }
        };
        if self.subscriptions.contains_key(&id) {
            let refusal = Refusal::new(
                "duplicate_subscription",
                format!("subscription id `{}` is already in use", quoted(&id)),
            );
            return self.refuse(&refusal, Some(&destination), receipt).await;
        }
        if self.subscriptions.len() >= self.server.settings.max_subscriptions {
            let refusal = Refusal::new("too_many_subscriptions", "subscription limit reached");
            return self.refuse(&refusal, Some(&destination), receipt).await;
        }
        // Each SUBSCRIBE costs a directory lookup: it spends the user's allowance first.
        if let Err(limited) = self
            .server
            .chat
            .access
            .admit(user, RequestKind::Subscribe)
            .await
        {
            return self
                .refuse(&Refusal::from(limited), Some(&destination), receipt)
                .await;
        }
        match self
            .server
            .chat
            .access
            .authorize_listen(user, audience)
            .await
        {
            Ok(()) => {
                self.server.hub.subscribe(&self.mailbox, &id, audience);
                self.subscriptions.insert(id, audience);
                self.receipt(receipt).await
            }
            Err(error) => {
                self.refuse(&Refusal::from(error), Some(&destination), receipt)
                    .await
            }
        }
    }

    pub(super) async fn unsubscribe(&mut self, frame: &Frame, receipt: Option<&str>) -> Flow {
        let Some(id) = frame.header("id").or_else(|| frame.header("destination")) else {
            return self
                .fail(
                    Fatal::MissingHeader,
                    "UNSUBSCRIBE needs an id header",
                    receipt,
                )
                .await;
        };
        if self.error_queue.as_deref() == Some(id) {
            self.error_queue = None;
        } else if let Some(audience) = self.subscriptions.remove(id) {
            self.server.hub.unsubscribe(self.mailbox.id, id, audience);
        }
        self.receipt(receipt).await
    }

    pub(super) fn reauthorize_interval(&self) -> Duration {
        Duration::from_millis(self.server.settings.reauthorize_interval_ms)
    }

    /// Authorises subscriptions again: all of them (`changed` is `None`), or those a
    /// change of these groups' member lists may affect (a community's change affects
    /// its channels, which only the directory knows). A subscription its user may
    /// no longer hear ends, with a `subscription_revoked` notice on the error queue;
    /// one the directory cannot vouch for right now is kept until the next check.
    pub(super) async fn reauthorize(&mut self, changed: Option<&HashSet<Audience>>) -> Flow {
        let Some(user) = self.open.as_ref().map(|open| open.user) else {
            return Flow::Continue;
        };
        let community_changed = changed
            .is_some_and(|groups| groups.iter().any(|g| matches!(g, Audience::Community(_))));
        let due: Vec<(String, Audience)> = self
            .subscriptions
            .iter()
            .filter(|(_, audience)| {
                changed.is_none_or(|groups| {
                    groups.contains(audience)
                        || (community_changed && matches!(audience, Audience::Group(_)))
                })
            })
            .map(|(id, audience)| (id.clone(), *audience))
            .collect();
        for (id, audience) in due {
            let error = match self
                .server
                .chat
                .access
                .authorize_listen(user, audience)
                .await
            {
                Ok(()) => continue,
                Err(ListenError::Unavailable(cause)) => {
                    tracing::warn!(error = ?cause, %audience, "subscription not authorised again; kept until the next check");
                    continue;
                }
                Err(error) => error,
            };
            if self.subscriptions.remove(&id).is_none() {
                continue;
            }
            self.server.hub.unsubscribe(self.mailbox.id, &id, audience);
            metrics::counter!(metric::SUBSCRIPTIONS_REVOKED).increment(1);
            tracing::info!(%audience, %error, "subscription revoked");
            let notice = Refusal::new(
                "subscription_revoked",
                format!("{error}; subscription `{}` ended", quoted(&id)),
            );
            notice.record();
            let destination = audience_destination(audience);
            if let Flow::Stop = self.tell_error(&notice, Some(&destination), None).await {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }
}
