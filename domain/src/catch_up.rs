//! Catching a client up: the events that bring someone who saw a room up to one
//! sequence number to the room's present state, as the live events would have.

use crate::{ChatEvent, Message, Seq};

/// The event that tells a client that has seen a room's events up to `seen` what
/// became of `message`, whose last edit or delete (if any) took `last_change`:
///
/// - posted after `seen` and still live: the message as it is now (edited or not),
///   at its posting seq;
/// - posted at or before `seen`, edited after it: the edit, at that change's seq;
/// - deleted after `seen`, whenever posted: the delete, at that change's seq (a
///   client that never saw the message ignores it, and its seq still counts);
/// - otherwise nothing: the client has seen it as it is.
pub fn catch_up(seen: Seq, message: Message, last_change: Option<Seq>) -> Option<ChatEvent> {
    let changed_since = last_change.filter(|change| *change > seen);
    if message.is_deleted() {
        // A tombstone without a recorded change (written before changes were
        // numbered) is dated by its posting seq.
        let seq = changed_since.or_else(|| (message.seq() > seen).then_some(message.seq()))?;
        return Some(ChatEvent::Deleted { message, seq });
    }
    if message.seq() > seen {
        return Some(ChatEvent::Posted(message));
    }
    changed_since.map(|seq| ChatEvent::Edited { message, seq })
}

/// [`catch_up`] for each message, in the room's order (by event seq).
pub fn catch_up_all(
    seen: Seq,
    messages: impl IntoIterator<Item = (Message, Option<Seq>)>,
) -> Vec<ChatEvent> {
    let mut events: Vec<ChatEvent> = messages
        .into_iter()
        .filter_map(|(message, change)| catch_up(seen, message, change))
        .collect();
    events.sort_by_key(ChatEvent::seq);
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        MessageBody, MessageId, NewMessage, RoomId, RoomRef, Timestamp, UserId, UserProfile,
    };

    const AUTHOR: UserId = UserId::new(1);

    fn posted(id: &str, seq: u64) -> Message {
        NewMessage {
            id: MessageId::parse(id).expect("id"),
            room: RoomRef::Direct(RoomId::new(5)),
            author: UserProfile::anonymous(AUTHOR),
            body: MessageBody::parse("hi").expect("body"),
            parent: None,
            attachment: None,
            sent_at: Timestamp::from_unix_micros(0),
            client_msg_id: None,
        }
        .stored_at(Seq::new(seq))
    }

    fn edited(message: &Message) -> Message {
        message
            .edited(
                AUTHOR,
                MessageBody::parse("edited").expect("body"),
                Timestamp::from_unix_micros(1),
            )
            .expect("edit")
    }

    fn deleted(message: &Message) -> Message {
        message
            .deleted(AUTHOR, Timestamp::from_unix_micros(2))
            .expect("delete")
    }

    #[test]
    fn a_message_posted_after_the_seen_seq_comes_back_as_it_is_now() {
        let message = edited(&posted("a", 12));
        let event = catch_up(Seq::new(10), message.clone(), Some(Seq::new(14)));
        assert_eq!(event, Some(ChatEvent::Posted(message)));
    }

    #[test]
    fn an_older_message_edited_after_the_seen_seq_comes_back_as_its_edit() {
        let message = edited(&posted("a", 3));
        let event = catch_up(Seq::new(10), message.clone(), Some(Seq::new(11)));
        assert_eq!(
            event,
            Some(ChatEvent::Edited {
                message,
                seq: Seq::new(11)
            })
        );
    }

    #[test]
    fn a_message_deleted_after_the_seen_seq_comes_back_as_its_delete() {
        for posted_at in [3, 12] {
            let tombstone = deleted(&posted("a", posted_at));
            let event = catch_up(Seq::new(10), tombstone.clone(), Some(Seq::new(13)));
            assert_eq!(
                event,
                Some(ChatEvent::Deleted {
                    message: tombstone,
                    seq: Seq::new(13)
                })
            );
        }
    }

    #[test]
    fn what_the_client_has_seen_as_it_is_gives_nothing() {
        assert_eq!(catch_up(Seq::new(10), posted("a", 10), None), None);
        let old_edit = edited(&posted("b", 3));
        assert_eq!(catch_up(Seq::new(10), old_edit, Some(Seq::new(9))), None);
        let old_delete = deleted(&posted("c", 4));
        assert_eq!(catch_up(Seq::new(10), old_delete, Some(Seq::new(5))), None);
    }

    #[test]
    fn caught_up_events_run_in_the_rooms_order() {
        let early = posted("early", 2);
        let events = catch_up_all(
            Seq::new(5),
            [
                (posted("late", 9), None),
                (edited(&early), Some(Seq::new(7))),
                (posted("next", 6), None),
            ],
        );
        let seqs: Vec<u64> = events
            .iter()
            .filter_map(ChatEvent::seq)
            .map(Seq::get)
            .collect();
        assert_eq!(seqs, [6, 7, 9]);
    }
}
