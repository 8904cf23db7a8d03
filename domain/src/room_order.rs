//! Strict per-room order of delivered room events, whatever order the bus brings them in.
//!
//! Two writers of one room may store their events with seqs 5 and 6 and publish them the
//! other way round, and the seed's topic split sends a room's posts, edits and files over
//! different partitions, so the bus alone cannot order a room. Seqs are dense (the store
//! hands out each one once), so a missing seq is either still on its way or was allocated by
//! a writer that died or failed before publishing. [`RoomOrder`] releases each room's events
//! in strictly increasing seq: an event after a missing seq is held until the missing one
//! arrives or the hold expires; then the missing seq is skipped (its message, if stored, is in
//! history). An event older than what its room already released is late and is not released.
//!
//! A missing seq is usually a message that was stored and is only slow to come through the
//! bus (a broker hiccup, a writer killed between store and publish, a publish that failed
//! and was refused): after `probe_after` the caller is asked to look the gap up in the store
//! ([`RoomOrder::due_probes`]) and hands back what it found ([`RoomOrder::probed`]), which is
//! released in its place; its bus copy, if it ever comes, is then late. Only a seq whose
//! message is not in the store (its writer died before storing it) waits the whole hold.
//!
//! A room not seen before (after a restart, or forgotten after long silence) has no known
//! position: its first event is held for a shorter bounded time (`first_hold`, long enough
//! for two writers racing, not for a broker outage) unless it is the room's first (`seq` 1),
//! since an older event may still be on its way.
//!
//! Pure and clock-free: the caller passes the time of every call.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::{RoomKey, Seq};

/// How long gaps are waited for and how many rooms are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderLimits {
    /// Longest time an event waits for a missing seq before it is skipped.
    pub hold: Duration,
    /// Longest time the first event seen of a room waits for an older one.
    pub first_hold: Duration,
    /// How long a gap waits before the store is asked for it (and again after each answer
    /// that did not fill it).
    pub probe_after: Duration,
    /// Most events held in one room; beyond it the oldest gap is skipped at once, so a
    /// busy room behind a dead writer cannot grow memory without bound, and a released hold
    /// fits in a subscriber's outbound queue. Half full, the gap is looked up at once.
    pub max_held_per_room: usize,
    /// Most rooms whose position is remembered; when full, the longest-silent tenth is
    /// forgotten at once.
    pub max_rooms: usize,
}

/// What one call released, in delivery order, and what it gave up on.
#[derive(Debug, PartialEq, Eq)]
pub struct Released<E> {
    /// Events to deliver now, each room's in increasing seq.
    pub events: Vec<E>,
    /// Seqs skipped because they did not arrive within the hold.
    pub skipped: u64,
    /// The runs of seqs skipped, each room's in order: their subscribers never get them
    /// live, so they are told to read the room again.
    pub skipped_runs: Vec<SkippedRun>,
    /// Events dropped because their room had already moved past them.
    pub late: u64,
}

/// Seqs `from..=to` of `room`, skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedRun {
    /// The room.
    pub room: RoomKey,
    /// The first seq skipped.
    pub from: Seq,
    /// The last seq skipped.
    pub to: Seq,
}

impl<E> Default for Released<E> {
    fn default() -> Self {
        Self {
            events: Vec::new(),
            skipped: 0,
            skipped_runs: Vec::new(),
            late: 0,
        }
    }
}

/// One room's position and the events waiting for a missing seq.
#[derive(Debug)]
struct Line<E> {
    /// The seq the room expects next; `None` until the room's position is known.
    next: Option<Seq>,
    held: BTreeMap<Seq, E>,
    /// When the held events stop waiting.
    hold_until: Option<Instant>,
    /// When the store is next asked for the gap; `None` while a probe is out.
    probe_at: Option<Instant>,
    last_seen: Instant,
}

/// Missing seqs of a room to look up in the store: those after `after` and before `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The room.
    pub room: RoomKey,
    /// The last seq released.
    pub after: Seq,
    /// The oldest seq held.
    pub before: Seq,
}

/// The delivery position of every room recently seen, and the events held back.
#[derive(Debug)]
pub struct RoomOrder<E> {
    limits: OrderLimits,
    rooms: HashMap<RoomKey, Line<E>>,
}

impl<E> RoomOrder<E> {
    /// Nothing known about any room yet.
    pub fn new(limits: OrderLimits) -> Self {
        Self {
            limits,
            rooms: HashMap::new(),
        }
    }

    /// An event of `room` with `seq` arrived at `now`: what can be delivered now.
    pub fn offer(&mut self, room: RoomKey, seq: Seq, event: E, now: Instant) -> Released<E> {
        if !self.rooms.contains_key(&room) {
            self.make_room_for_one();
        }
        let known = self.rooms.contains_key(&room);
        let hold = if known {
            self.limits.hold
        } else {
            self.limits.first_hold
        };
        let max_held = self.limits.max_held_per_room;
        let line = self.rooms.entry(room).or_insert_with(|| Line {
            next: (seq == Seq::FIRST).then_some(Seq::FIRST),
            held: BTreeMap::new(),
            hold_until: None,
            probe_at: None,
            last_seen: now,
        });
        line.last_seen = now;
        let mut released = Released::default();
        if line.next.is_some_and(|next| seq < next) || line.held.contains_key(&seq) {
            released.late = 1;
            return released;
        }
        line.held.insert(seq, event);
        line.release_ready(&mut released);
        if line.held.len() > max_held {
            line.skip_to_oldest_held(room, &mut released);
        }
        // A busy room fills its hold before `probe_after`: ask the store at once, while there
        // is still room to wait for the answer.
        if line.held.len() >= max_held.div_ceil(2)
            && let Some(at) = line.probe_at
        {
            line.probe_at = Some(at.min(now));
        }
        if line.held.is_empty() {
            line.hold_until = None;
            line.probe_at = None;
        } else if line.hold_until.is_none() {
            line.hold_until = Some(now + hold);
            line.probe_at = line.next.map(|_| now + self.limits.probe_after);
        }
        released
    }

    /// The gaps whose probe is due by `now`; each is marked as being probed until
    /// [`probed`](Self::probed) answers it.
    pub fn due_probes(&mut self, now: Instant) -> Vec<Gap> {
        let mut gaps = Vec::new();
        for (room, line) in &mut self.rooms {
            if line.probe_at.is_none_or(|at| at > now) {
                continue;
            }
            line.probe_at = None;
            if let (Some(after), Some((&before, _))) = (line.next, line.held.first_key_value()) {
                gaps.push(Gap {
                    room: *room,
                    after: Seq::new(after.get() - 1),
                    before,
                });
            }
        }
        gaps
    }

    /// The store's answer to the probe of `room`'s gap: the events it holds there, each with
    /// its seq. They are released in their place; a gap still open is probed again later.
    pub fn probed(&mut self, room: RoomKey, found: Vec<(Seq, E)>, now: Instant) -> Released<E> {
        let mut released = Released::default();
        let Some(line) = self.rooms.get_mut(&room) else {
            return released;
        };
        for (seq, event) in found {
            if line.next.is_some_and(|next| seq >= next) {
                line.held.entry(seq).or_insert(event);
            }
        }
        line.release_ready(&mut released);
        if line.held.is_empty() {
            line.hold_until = None;
            line.probe_at = None;
        } else {
            line.probe_at = Some(now + self.limits.probe_after);
        }
        released
    }

    /// Gives up waiting in every room whose hold expired by `now`.
    pub fn expire(&mut self, now: Instant) -> Released<E> {
        let mut released = Released::default();
        let hold = self.limits.hold;
        for (room, line) in &mut self.rooms {
            while line.hold_until.is_some_and(|until| until <= now) {
                line.skip_to_oldest_held(*room, &mut released);
                line.hold_until = (!line.held.is_empty()).then_some(now + hold);
                line.probe_at = line.hold_until.map(|_| now + self.limits.probe_after);
            }
        }
        released
    }

    /// When the earliest hold expires, if any event is held.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.rooms
            .values()
            .flat_map(|line| [line.hold_until, line.probe_at])
            .flatten()
            .min()
    }

    /// How many rooms are remembered.
    pub fn rooms(&self) -> usize {
        self.rooms.len()
    }

    /// How many events wait for a missing seq, over every room.
    pub fn held(&self) -> usize {
        self.rooms.values().map(|line| line.held.len()).sum()
    }

    /// Forgets the longest-silent tenth of the rooms without held events when the table is full.
    fn make_room_for_one(&mut self) {
        if self.rooms.len() < self.limits.max_rooms {
            return;
        }
        // The longest-silent tenth at once, so that a full table is scanned once per tenth of
        // its size in new rooms, not once per new room.
        let mut idle: Vec<(Instant, RoomKey)> = self
            .rooms
            .iter()
            .filter(|(_, line)| line.held.is_empty())
            .map(|(room, line)| (line.last_seen, *room))
            .collect();
        let forget = (self.limits.max_rooms / 10).clamp(1, idle.len().max(1));
        if forget < idle.len() {
            idle.select_nth_unstable(forget);
        }
        // When every remembered room is waiting, the table grows by one rather than drop
        // held events; each of those rooms frees itself within the hold.
        for (_, room) in idle.into_iter().take(forget) {
            self.rooms.remove(&room);
        }
    }
}

impl<E> Line<E> {
    /// Moves the events that follow the room's position without a gap into `released`.
    fn release_ready(&mut self, released: &mut Released<E>) {
        while let Some(next) = self.next
            && let Some(event) = self.held.remove(&next)
        {
            released.events.push(event);
            self.next = Some(next.next());
        }
    }

    /// Skips the missing seqs before the oldest held event, then releases what follows.
    fn skip_to_oldest_held(&mut self, room: RoomKey, released: &mut Released<E>) {
        let Some((&oldest, _)) = self.held.first_key_value() else {
            return;
        };
        if let Some(next) = self.next
            && next < oldest
        {
            released.skipped += oldest.get() - next.get();
            released.skipped_runs.push(SkippedRun {
                room,
                from: next,
                to: Seq::new(oldest.get() - 1),
            });
        }
        self.next = Some(oldest);
        self.release_ready(released);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RoomId;

    const HOLD: Duration = Duration::from_secs(5);
    const FIRST_HOLD: Duration = Duration::from_millis(300);
    const PROBE_AFTER: Duration = Duration::from_millis(500);
    const ROOM: RoomKey = RoomKey::Direct(RoomId::new(5));
    const OTHER: RoomKey = RoomKey::Direct(RoomId::new(6));

    fn order() -> RoomOrder<u64> {
        RoomOrder::new(OrderLimits {
            hold: HOLD,
            first_hold: FIRST_HOLD,
            probe_after: PROBE_AFTER,
            max_held_per_room: 100,
            max_rooms: 1_000,
        })
    }

    /// Offers seq `n` as event `n`.
    fn offer(order: &mut RoomOrder<u64>, room: RoomKey, n: u64, at: Instant) -> Vec<u64> {
        order.offer(room, Seq::new(n), n, at).events
    }

    /// A room whose position is known: it has released seq `n`.
    fn known_at(order: &mut RoomOrder<u64>, n: u64, at: Instant) {
        for seq in 1..=n {
            offer(order, ROOM, seq, at);
        }
    }

    #[test]
    fn events_in_order_are_released_at_once() {
        let (mut order, t) = (order(), Instant::now());
        assert_eq!(offer(&mut order, ROOM, 1, t), [1]);
        assert_eq!(offer(&mut order, ROOM, 2, t), [2]);
        assert_eq!(order.next_deadline(), None);
    }

    #[test]
    fn an_event_that_overtook_an_earlier_one_waits_for_it() {
        let (mut order, t) = (order(), Instant::now());
        known_at(&mut order, 4, t);

        assert!(offer(&mut order, ROOM, 6, t).is_empty());
        assert_eq!(order.next_deadline(), Some(t + PROBE_AFTER));
        assert_eq!(offer(&mut order, ROOM, 5, t), [5, 6]);
        assert_eq!(order.next_deadline(), None);
    }

    #[test]
    fn a_seq_that_never_arrives_is_skipped_when_the_hold_expires() {
        let (mut order, t) = (order(), Instant::now());
        known_at(&mut order, 4, t);
        offer(&mut order, ROOM, 6, t);
        offer(&mut order, ROOM, 7, t + HOLD / 2);

        assert!(order.expire(t + HOLD / 2).events.is_empty());
        let released = order.expire(t + HOLD);

        assert_eq!(released.events, [6, 7]);
        assert_eq!(released.skipped, 1);
        assert_eq!(order.next_deadline(), None);
    }

    #[test]
    fn an_event_arriving_after_its_seq_was_skipped_is_late_and_not_released() {
        let (mut order, t) = (order(), Instant::now());
        known_at(&mut order, 4, t);
        offer(&mut order, ROOM, 6, t);
        order.expire(t + HOLD);

        let released = order.offer(ROOM, Seq::new(5), 5, t + HOLD * 2);

        assert!(released.events.is_empty());
        assert_eq!(released.late, 1);
    }

    #[test]
    fn a_repeated_event_is_not_released_twice() {
        let (mut order, t) = (order(), Instant::now());
        known_at(&mut order, 4, t);
        offer(&mut order, ROOM, 6, t);

        assert_eq!(order.offer(ROOM, Seq::new(6), 6, t).late, 1);
        assert_eq!(order.offer(ROOM, Seq::new(4), 4, t).late, 1);
    }

    #[test]
    fn two_gaps_in_a_row_each_wait_at_most_one_hold() {
        let (mut order, t) = (order(), Instant::now());
        known_at(&mut order, 1, t);
        offer(&mut order, ROOM, 3, t);
        offer(&mut order, ROOM, 5, t);

        let first = order.expire(t + HOLD);
        assert_eq!(first.events, [3]);
        assert_eq!(order.next_deadline(), Some(t + HOLD + PROBE_AFTER));
        let second = order.expire(t + HOLD * 2);
        assert_eq!(second.events, [5]);
        assert_eq!(first.skipped + second.skipped, 2);
    }

    #[test]
    fn a_gap_is_looked_up_in_the_store_and_what_is_found_is_released_in_its_place() {
        let (mut order, t) = (order(), Instant::now());
        known_at(&mut order, 4, t);
        offer(&mut order, ROOM, 7, t);

        assert!(order.due_probes(t).is_empty(), "not yet");
        let gaps = order.due_probes(t + PROBE_AFTER);
        assert_eq!(
            gaps,
            [Gap {
                room: ROOM,
                after: Seq::new(4),
                before: Seq::new(7)
            }]
        );
        assert!(
            order.due_probes(t + PROBE_AFTER).is_empty(),
            "one probe at a time"
        );
        let released = order.probed(
            ROOM,
            vec![(Seq::new(5), 5), (Seq::new(6), 6)],
            t + PROBE_AFTER,
        );

        assert_eq!(released.events, [5, 6, 7]);
        assert_eq!(order.next_deadline(), None);
        assert_eq!(
            order.offer(ROOM, Seq::new(5), 5, t + HOLD).late,
            1,
            "the bus copy is late"
        );
    }

    #[test]
    fn a_gap_the_store_cannot_fill_is_probed_again_then_skipped_at_the_hold() {
        let (mut order, t) = (order(), Instant::now());
        known_at(&mut order, 4, t);
        offer(&mut order, ROOM, 6, t);
        order.due_probes(t + PROBE_AFTER);

        assert!(
            order
                .probed(ROOM, Vec::new(), t + PROBE_AFTER)
                .events
                .is_empty()
        );
        assert_eq!(order.next_deadline(), Some(t + PROBE_AFTER * 2));
        assert_eq!(order.due_probes(t + PROBE_AFTER * 2).len(), 1);
        let released = order.expire(t + HOLD);
        assert_eq!(released.events, [6]);
        assert_eq!(released.skipped, 1);
    }

    #[test]
    fn the_first_event_seen_of_a_room_is_not_probed_for() {
        let (mut order, t) = (order(), Instant::now());
        offer(&mut order, ROOM, 41, t);

        assert!(order.due_probes(t + FIRST_HOLD).is_empty());
        assert_eq!(order.next_deadline(), Some(t + FIRST_HOLD));
    }

    #[test]
    fn the_first_event_of_a_room_is_released_at_once() {
        let (mut order, t) = (order(), Instant::now());
        assert_eq!(offer(&mut order, ROOM, 1, t), [1]);
    }

    #[test]
    fn the_first_event_seen_of_a_room_with_history_waits_for_an_older_one_still_on_its_way() {
        let (mut order, t) = (order(), Instant::now());

        assert!(offer(&mut order, ROOM, 41, t).is_empty());
        assert!(offer(&mut order, ROOM, 40, t).is_empty());
        assert_eq!(order.next_deadline(), Some(t + FIRST_HOLD));
        let released = order.expire(t + FIRST_HOLD);

        assert_eq!(released.events, [40, 41]);
        assert_eq!(released.skipped, 0);
        assert_eq!(offer(&mut order, ROOM, 42, t + FIRST_HOLD), [42]);
    }

    #[test]
    fn rooms_wait_independently() {
        let (mut order, t) = (order(), Instant::now());
        known_at(&mut order, 1, t);
        offer(&mut order, ROOM, 3, t);

        assert_eq!(offer(&mut order, OTHER, 1, t), [1]);
        assert_eq!(offer(&mut order, OTHER, 2, t), [2]);
    }

    #[test]
    fn a_room_holding_too_many_events_skips_its_gap_at_once() {
        let mut order = RoomOrder::new(OrderLimits {
            hold: HOLD,
            first_hold: FIRST_HOLD,
            probe_after: PROBE_AFTER,
            max_held_per_room: 2,
            max_rooms: 10,
        });
        let t = Instant::now();
        known_at(&mut order, 1, t);
        offer(&mut order, ROOM, 3, t);
        offer(&mut order, ROOM, 4, t);

        let released = order.offer(ROOM, Seq::new(5), 5, t);

        assert_eq!(released.events, [3, 4, 5]);
        assert_eq!(released.skipped, 1);
    }

    #[test]
    fn a_room_whose_hold_is_half_full_asks_the_store_at_once() {
        let mut order = RoomOrder::new(OrderLimits {
            hold: HOLD,
            first_hold: FIRST_HOLD,
            probe_after: PROBE_AFTER,
            max_held_per_room: 4,
            max_rooms: 10,
        });
        let t = Instant::now();
        known_at(&mut order, 1, t);
        offer(&mut order, ROOM, 3, t);
        assert!(order.due_probes(t).is_empty());

        offer(&mut order, ROOM, 4, t);

        assert_eq!(order.due_probes(t).len(), 1);
    }

    #[test]
    fn a_full_table_forgets_its_longest_silent_tenth_at_once() {
        let mut order = RoomOrder::new(OrderLimits {
            hold: HOLD,
            first_hold: FIRST_HOLD,
            probe_after: PROBE_AFTER,
            max_held_per_room: 10,
            max_rooms: 20,
        });
        let t = Instant::now();
        for (n, room) in (1..=20).enumerate() {
            let at = t + Duration::from_millis(u64::try_from(n).expect("small"));
            offer(&mut order, RoomKey::Direct(RoomId::new(room)), 1, at);
        }

        offer(&mut order, RoomKey::Direct(RoomId::new(21)), 1, t + HOLD);

        assert_eq!(order.rooms(), 19, "rooms 1 and 2 forgotten, 21 added");
        assert!(offer(&mut order, RoomKey::Direct(RoomId::new(1)), 2, t + HOLD).is_empty());
        assert_eq!(
            offer(&mut order, RoomKey::Direct(RoomId::new(3)), 2, t + HOLD),
            [2]
        );
    }

    #[test]
    fn the_longest_silent_room_is_forgotten_when_the_table_is_full() {
        let mut order = RoomOrder::new(OrderLimits {
            hold: HOLD,
            first_hold: FIRST_HOLD,
            probe_after: PROBE_AFTER,
            max_held_per_room: 10,
            max_rooms: 2,
        });
        let t = Instant::now();
        offer(&mut order, ROOM, 1, t);
        offer(&mut order, OTHER, 1, t + HOLD);

        offer(&mut order, RoomKey::Direct(RoomId::new(7)), 1, t + HOLD * 2);

        assert_eq!(order.rooms(), 2);
        // Forgotten, ROOM's next event is treated as the first seen again: it waits.
        assert!(offer(&mut order, ROOM, 2, t + HOLD * 3).is_empty());
        assert_eq!(order.next_deadline(), Some(t + HOLD * 3 + FIRST_HOLD));
    }

    #[test]
    fn a_skip_names_its_room_and_the_seqs_skipped() {
        let mut order = order();
        let t = Instant::now();
        order.offer(ROOM, Seq::new(1), 1, t);
        order.offer(ROOM, Seq::new(4), 4, t);

        let released = order.expire(t + HOLD);

        assert_eq!(
            released.skipped_runs,
            [SkippedRun {
                room: ROOM,
                from: Seq::new(2),
                to: Seq::new(3)
            }]
        );
        assert_eq!(released.events, [4]);
    }
}
