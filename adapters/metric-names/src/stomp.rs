//! What the STOMP adapter records. Label values are bounded: `command` is a STOMP command
//! name or [`HEARTBEAT`], `reason` one of the caps' reasons. Its refusals and fatal errors
//! are counted in [`crate::errors::ERRORS`].

/// Gauge: WebSocket sessions currently running.
pub const CONNECTIONS: &str = "stomp_connections";
/// Gauge: subscriptions currently registered in the hub.
pub const SUBSCRIPTIONS: &str = "stomp_subscriptions";
/// Counter by [`COMMAND`]: frames and heart-beats read from clients.
pub const FRAMES_RECEIVED: &str = "stomp_frames_received_total";
/// Counter by [`COMMAND`]: frames and heart-beats written to clients.
pub const FRAMES_SENT: &str = "stomp_frames_sent_total";
/// Counter: MESSAGE frames queued for a subscriber.
pub const EVENTS_DELIVERED: &str = "stomp_events_delivered_total";
/// Counter: connections disconnected because their outbound queue stayed full while the
/// others drained (`stomp.slow_consumer_ms`).
pub const SLOW_CONSUMERS: &str = "stomp_slow_consumers_total";
/// Gauge: MESSAGE frames waiting in every connection's outbound queue.
pub const OUTBOUND_QUEUED_FRAMES: &str = "stomp_outbound_queued_frames";
/// Gauge: bytes waiting in every connection's outbound queue (each frame counted whole).
pub const OUTBOUND_QUEUED_BYTES: &str = "stomp_outbound_queued_bytes";
/// Gauge: the most bytes all outbound queues together may hold (`stomp.outbound_budget_bytes`).
pub const OUTBOUND_BUDGET_BYTES: &str = "stomp_outbound_budget_bytes";
/// Gauge: connections whose outbound queue is past its high-water mark.
pub const CONNECTIONS_BEHIND: &str = "stomp_connections_behind";
/// Counter: deliveries not queued because the connection's queue (or the budget) was full;
/// each run of them is announced to the subscription by a `gap` event.
pub const DELIVERIES_DROPPED: &str = "stomp_deliveries_dropped_total";
/// Counter: SENDs that waited for their room's delivery to catch up.
pub const PUBLISHES_DELAYED: &str = "stomp_publishes_delayed_total";
/// Counter by [`REASON`]: sockets and sessions refused over a cap.
pub const CONNECTIONS_REFUSED: &str = "stomp_connections_refused_total";
/// Counter: sessions ended because a client did not take a write in time.
pub const WRITE_TIMEOUTS: &str = "stomp_write_timeouts_total";
/// Counter: subscriptions ended because their user may no longer listen.
pub const SUBSCRIPTIONS_REVOKED: &str = "stomp_subscriptions_revoked_total";
/// Counter: room events replayed to resumed subscriptions (`x-since-seq`).
pub const EVENTS_REPLAYED: &str = "stomp_events_replayed_total";
/// Counter: resumed subscriptions that missed more than the replay limit (a `gap` event).
pub const RESUME_GAPS: &str = "stomp_resume_gaps_total";

/// Label key of the frame counters.
pub const COMMAND: &str = "command";
/// The [`COMMAND`] label value of a heart-beat (a bare EOL, not a frame).
pub const HEARTBEAT: &str = "HEARTBEAT";
/// Label key of [`CONNECTIONS_REFUSED`]: `max_connections`, `per_address`,
/// `unauthenticated`, `per_user` or `sockjs_sessions`.
pub const REASON: &str = "reason";
