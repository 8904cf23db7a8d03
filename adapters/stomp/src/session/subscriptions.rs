//! SUBSCRIBE (with `x-since-seq`, a replay of what the client missed) and
//! UNSUBSCRIBE, and authorising subscriptions again (periodically,
//! and when a group's member list changes), so a removed member stops hearing it.

use std::collections::HashSet;
use std::time::Duration;

use std::sync::Arc;

use application::ports::inbound::RequestKind;
use application::usecases::{ListenError, Replay, ReplayCommand};
use domain::{Audience, RoomKey, Seq, UserId};

use super::{Flow, Session};
use crate::destination::{Listen, audience_destination, parse_listen};
use crate::event_json::event_body;
use crate::frame::{Frame, Version};
use crate::gap_notice::gap_body;
use crate::hub::Delivery;
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
        let since = match since_seq(frame, audience) {
            Ok(since) => since,
            Err(refusal) => return self.refuse(&refusal, Some(&destination), receipt).await,
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
                if since.is_some() {
                    // Before the hub sees it, so no live event passes the seam unheld.
                    self.seams.replaying(&id);
                }
                self.server.hub.subscribe(&self.mailbox, &id, audience);
                self.subscriptions.insert(id.clone(), audience);
                match since {
                    Some((room, seen)) => self.replay(user, &id, room, seen, receipt).await,
                    None => self.receipt(receipt).await,
                }
            }
            Err(error) => {
                self.refuse(&Refusal::from(error), Some(&destination), receipt)
                    .await
            }
        }
    }

    /// Sends a resumed subscription what it missed since `seen` (or a gap), then
    /// the live events held meanwhile that the replay did not cover, then the
    /// SUBSCRIBE's RECEIPT. A replay that is refused ends the subscription; the
    /// refusal answers the SUBSCRIBE instead of the RECEIPT.
    async fn replay(
        &mut self,
        user: UserId,
        id: &str,
        room: RoomKey,
        seen: Seq,
        receipt: Option<&str>,
    ) -> Flow {
        let audience = room.audience();
        let command = ReplayCommand {
            reader: user,
            room,
            seen,
            limit: self.server.settings.resume_limit,
        };
        let replay = match self.server.chat.reading.replay(command).await {
            Ok(replay) => replay,
            Err(error) => {
                self.subscriptions.remove(id);
                self.server.hub.unsubscribe(self.mailbox.id, id, audience);
                self.seams.forget(id);
                let destination = audience_destination(audience);
                return self
                    .refuse(&Refusal::from(error), Some(&destination), receipt)
                    .await;
            }
        };
        let destination: Arc<str> = Arc::from(audience_destination(audience));
        let subscription: Arc<str> = Arc::from(id);
        let through = replay.through();
        let replayed: Vec<Delivery> = match replay {
            Replay::Events { events, .. } => {
                metrics::counter!(metric::EVENTS_REPLAYED)
                    .increment(u64::try_from(events.len()).unwrap_or(u64::MAX));
                events
                    .iter()
                    .map(|event| Delivery {
                        destination: destination.clone(),
                        subscription: subscription.clone(),
                        body: event_body(event),
                        seq: event.seq(),
                    })
                    .collect()
            }
            Replay::Gap { from, to } => {
                metrics::counter!(metric::RESUME_GAPS).increment(1);
                tracing::info!(%audience, %from, %to, "resume beyond the replay limit: gap");
                vec![Delivery {
                    destination: destination.clone(),
                    subscription: subscription.clone(),
                    body: gap_body(audience, from, to),
                    seq: None,
                }]
            }
        };
        let released = self.seams.caught_up(id, through);
        for delivery in replayed.into_iter().chain(released) {
            if let Flow::Stop = self.write_delivery(delivery).await {
                return Flow::Stop;
            }
        }
        self.receipt(receipt).await
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
            self.seams.forget(id);
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
            self.seams.forget(&id);
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

/// The `x-since-seq` header of a SUBSCRIBE: the room and the last seq the client has
/// seen of it (a decimal integer, 0 for none). Only room destinations have seqs.
fn since_seq(frame: &Frame, audience: Audience) -> Result<Option<(RoomKey, Seq)>, Refusal> {
    let Some(raw) = frame.header("x-since-seq") else {
        return Ok(None);
    };
    let room = match audience {
        Audience::Direct(room) => RoomKey::Direct(room),
        Audience::Group(channel) => RoomKey::Channel(channel),
        Audience::Community(_) => {
            return Err(Refusal::new(
                "invalid_since_seq",
                "x-since-seq applies only to /topic/direct/{id} and /topic/group/{id}",
            ));
        }
    };
    let digits = raw.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::new(
            "invalid_since_seq",
            format!(
                "x-since-seq must be a non-negative integer, got `{}`",
                quoted(raw)
            ),
        ));
    }
    digits
        .parse::<u64>()
        .map(|n| Some((room, Seq::new(n))))
        .map_err(|_| {
            Refusal::new(
                "invalid_since_seq",
                format!("x-since-seq `{}` is too large", quoted(raw)),
            )
        })
}
