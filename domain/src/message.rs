//! Messages, replies, edits and deletes, and who may do what to them.

use crate::{
    Attachment, ClientMsgId, FileUrl, MessageBody, MessageId, RoomRef, Seq, Timestamp, UserId,
    UserProfile,
};

/// What a reply shows of its parent, copied from the stored parent when the reply
/// is written (never from the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentSnapshot {
    /// The parent message.
    pub id: MessageId,
    /// The parent's author.
    pub author: UserId,
    /// The parent author's display name at the time of the reply.
    pub author_name: String,
    /// The parent's text, or that it was deleted.
    pub content: ParentContent,
}

/// The parent's text as a reply shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentContent {
    /// The parent's text.
    Text(String),
    /// The parent was deleted; only its tombstone remains.
    Deleted,
}

/// Whether a message still has its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageState {
    /// Visible, possibly edited.
    Live {
        /// The current text.
        body: MessageBody,
        /// When it was last edited.
        edited_at: Option<Timestamp>,
    },
    /// Deleted by its author: a tombstone that keeps id, room, author and times so
    /// that replies can show their parent was deleted.
    Deleted {
        /// When it was deleted.
        at: Timestamp,
    },
}

/// Why a reply was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The parent belongs to another room.
    #[error("message {0} is not in this room")]
    ParentInOtherRoom(MessageId),
    /// The parent was deleted.
    #[error("message {0} was deleted")]
    ParentDeleted(MessageId),
}

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// Only the author may edit.
    #[error("only the author may edit message {0}")]
    NotTheAuthor(MessageId),
    /// A deleted message cannot be edited.
    #[error("message {0} was deleted")]
    Deleted(MessageId),
    /// A file message's text is its file's URL, which only the file store sets.
    #[error("message {0} shares a file and cannot be edited")]
    SharesFile(MessageId),
}

/// Why a delete was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeleteError {
    /// Only the author may delete.
    #[error("only the author may delete message {0}")]
    NotTheAuthor(MessageId),
    /// It is already deleted.
    #[error("message {0} was already deleted")]
    AlreadyDeleted(MessageId),
}

/// A message accepted by a use case but not yet stored: the store assigns its [`Seq`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Its id, generated before storing so retries are idempotent.
    pub id: MessageId,
    /// Where it is posted.
    pub room: RoomRef,
    /// Who wrote it, with the profile shown at the time.
    pub author: UserProfile,
    /// The text.
    pub body: MessageBody,
    /// The parent, for a reply.
    pub parent: Option<ParentSnapshot>,
    /// The shared file's type and thumbnail, for a file message (whose body is the file's URL).
    pub attachment: Option<Attachment>,
    /// The sender's key for it: a repeat with the same key by the same author in the same
    /// room is this message again, never a copy.
    pub client_msg_id: Option<ClientMsgId>,
    /// When the server accepted it.
    pub sent_at: Timestamp,
}

impl NewMessage {
    /// The stored message, once the store has given it its place in the room.
    pub fn stored_at(self, seq: Seq) -> Message {
        Message(MessageParts {
            id: self.id,
            room: self.room,
            author: self.author,
            state: MessageState::Live {
                body: self.body,
                edited_at: None,
            },
            parent: self.parent,
            attachment: self.attachment,
            client_msg_id: self.client_msg_id,
            sent_at: self.sent_at,
            seq,
        })
    }
}

/// Every field of a [`Message`], for stores that rebuild messages they read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageParts {
    /// The id.
    pub id: MessageId,
    /// The room.
    pub room: RoomRef,
    /// The author and the profile shown when it was posted.
    pub author: UserProfile,
    /// Live text or tombstone.
    pub state: MessageState,
    /// The parent snapshot of a reply.
    pub parent: Option<ParentSnapshot>,
    /// The shared file's type and thumbnail, for a file message.
    pub attachment: Option<Attachment>,
    /// The sender's key for it, if the sender gave one.
    pub client_msg_id: Option<ClientMsgId>,
    /// When it was posted.
    pub sent_at: Timestamp,
    /// Its place in the room when it was posted.
    pub seq: Seq,
}

/// A stored message or reply, live or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message(MessageParts);

impl Message {
    /// Rebuilds a stored message.
    pub fn from_parts(parts: MessageParts) -> Self {
        Self(parts)
    }

    /// All fields, for stores that write messages.
    pub fn parts(&self) -> &MessageParts {
        &self.0
    }

    /// The id.
    pub fn id(&self) -> &MessageId {
        &self.0.id
    }

    /// The room.
    pub fn room(&self) -> RoomRef {
        self.0.room
    }

    /// The author's profile as shown when posted.
    pub fn author(&self) -> &UserProfile {
        &self.0.author
    }

    /// Live text or tombstone.
    pub fn state(&self) -> &MessageState {
        &self.0.state
    }

    /// The text, unless deleted.
    pub fn body(&self) -> Option<&MessageBody> {
        match &self.0.state {
            MessageState::Live { body, .. } => Some(body),
            MessageState::Deleted { .. } => None,
        }
    }

    /// When it was last edited, if ever.
    pub fn edited_at(&self) -> Option<Timestamp> {
        match &self.0.state {
            MessageState::Live { edited_at, .. } => *edited_at,
            MessageState::Deleted { .. } => None,
        }
    }

    /// Whether only the tombstone remains.
    pub fn is_deleted(&self) -> bool {
        matches!(self.0.state, MessageState::Deleted { .. })
    }

    /// The parent snapshot, for a reply.
    pub fn parent(&self) -> Option<&ParentSnapshot> {
        self.0.parent.as_ref()
    }

    /// The shared file's type and thumbnail, for a file message.
    pub fn attachment(&self) -> Option<&Attachment> {
        self.0.attachment.as_ref()
    }

    /// The sender's key for it, if the sender gave one.
    pub fn client_msg_id(&self) -> Option<&ClientMsgId> {
        self.0.client_msg_id.as_ref()
    }

    /// When it was posted.
    pub fn sent_at(&self) -> Timestamp {
        self.0.sent_at
    }

    /// Its place in the room when it was posted.
    pub fn seq(&self) -> Seq {
        self.0.seq
    }

    /// This reply as history shows it: the parent snapshot brought up to date with
    /// the parent's current text, or marked deleted when the parent is gone.
    #[must_use]
    pub fn with_current_parent(mut self, parent: Option<&Message>) -> Self {
        if let Some(snapshot) = self.0.parent.as_mut() {
            snapshot.content = match parent.and_then(Message::body) {
                Some(body) => ParentContent::Text(body.as_str().to_owned()),
                None => ParentContent::Deleted,
            };
        }
        self
    }

    /// For a live file message: the URL of its file and of its thumbnail, as stored.
    pub fn file_urls(&self) -> Option<(FileUrl, Option<FileUrl>)> {
        let attachment = self.0.attachment.as_ref()?;
        let file = FileUrl::parse(self.body()?.as_str()).ok()?;
        Some((file, attachment.thumbnail.clone()))
    }

    /// This file message as handed to a reader: its file and thumbnail at the URLs
    /// given (download links that expire), its stored URLs otherwise unchanged.
    /// Any other message is returned as it is.
    #[must_use]
    pub fn with_file_urls(mut self, file: &FileUrl, thumbnail: Option<FileUrl>) -> Self {
        let Some(attachment) = self.0.attachment.as_mut() else {
            return self;
        };
        if let MessageState::Live { body, .. } = &mut self.0.state
            && let Ok(linked) = MessageBody::parse(file.as_str())
        {
            *body = linked;
            attachment.thumbnail = thumbnail;
        }
        self
    }

    /// The snapshot a reply to this message carries, if `room` may reply to it.
    pub fn snapshot_for_reply_in(&self, room: RoomRef) -> Result<ParentSnapshot, ReplyError> {
        if self.0.room != room {
            return Err(ReplyError::ParentInOtherRoom(self.0.id.clone()));
        }
        let Some(body) = self.body() else {
            return Err(ReplyError::ParentDeleted(self.0.id.clone()));
        };
        Ok(ParentSnapshot {
            id: self.0.id.clone(),
            author: self.0.author.id,
            author_name: self.0.author.name.clone(),
            content: ParentContent::Text(body.as_str().to_owned()),
        })
    }

    /// The message with new text, if `editor` is its author and it is not deleted.
    pub fn edited(
        &self,
        editor: UserId,
        body: MessageBody,
        at: Timestamp,
    ) -> Result<Self, EditError> {
        if self.0.author.id != editor {
            return Err(EditError::NotTheAuthor(self.0.id.clone()));
        }
        if self.is_deleted() {
            return Err(EditError::Deleted(self.0.id.clone()));
        }
        if self.0.attachment.is_some() {
            return Err(EditError::SharesFile(self.0.id.clone()));
        }
        let mut parts = self.0.clone();
        parts.state = MessageState::Live {
            body,
            edited_at: Some(at),
        };
        Ok(Self(parts))
    }

    /// The tombstone left when `deleter`, its author, deletes it.
    pub fn deleted(&self, deleter: UserId, at: Timestamp) -> Result<Self, DeleteError> {
        if self.0.author.id != deleter {
            return Err(DeleteError::NotTheAuthor(self.0.id.clone()));
        }
        if self.is_deleted() {
            return Err(DeleteError::AlreadyDeleted(self.0.id.clone()));
        }
        let mut parts = self.0.clone();
        parts.state = MessageState::Deleted { at };
        Ok(Self(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChannelId, CommunityId, RoomId};

    const ALICE: UserId = UserId::new(1);
    const BOB: UserId = UserId::new(2);
    const DM: RoomRef = RoomRef::Direct(RoomId::new(5));

    fn posted_by(author: UserId, text: &str) -> Message {
        NewMessage {
            id: MessageId::parse("m1").expect("id"),
            room: DM,
            author: UserProfile {
                id: author,
                name: "alice".into(),
                image: None,
            },
            body: MessageBody::parse(text).expect("body"),
            parent: None,
            attachment: None,
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(10),
        }
        .stored_at(Seq::FIRST)
    }

    fn body(text: &str) -> MessageBody {
        MessageBody::parse(text).expect("body")
    }

    #[test]
    fn a_file_message_is_handed_out_with_the_links_given_and_a_text_message_unchanged() {
        let mut file = posted_by(ALICE, "/files/a.png").parts().clone();
        file.attachment = Some(Attachment {
            file_type: crate::FileType::parse("image").expect("type"),
            thumbnail: Some(FileUrl::parse("/files/a-thumb.png").expect("url")),
        });
        let file = Message::from_parts(file);
        let link = FileUrl::parse("/files/a.png?sig=1").expect("url");
        let thumb = FileUrl::parse("/files/a-thumb.png?sig=2").expect("url");

        let (stored, stored_thumb) = file.file_urls().expect("a file message");
        let linked = file.with_file_urls(&link, Some(thumb.clone()));
        let text = posted_by(ALICE, "hello").with_file_urls(&link, None);

        assert_eq!(stored.as_str(), "/files/a.png");
        assert_eq!(
            stored_thumb.map(|t| t.to_string()).as_deref(),
            Some("/files/a-thumb.png")
        );
        assert_eq!(linked.body().map(MessageBody::as_str), Some(link.as_str()));
        assert_eq!(
            linked.attachment().and_then(|a| a.thumbnail.clone()),
            Some(thumb)
        );
        assert_eq!(text.body().map(MessageBody::as_str), Some("hello"));
        assert!(text.file_urls().is_none());
    }

    #[test]
    fn a_stored_message_is_live_and_unedited() {
        let message = posted_by(ALICE, "hello");
        assert_eq!(message.body().map(MessageBody::as_str), Some("hello"));
        assert_eq!(message.edited_at(), None);
        assert_eq!(message.seq(), Seq::FIRST);
    }

    #[test]
    fn the_author_can_edit_a_message() {
        let edited = posted_by(ALICE, "helo")
            .edited(ALICE, body("hello"), Timestamp::from_unix_micros(20))
            .expect("author may edit");
        assert_eq!(edited.body().map(MessageBody::as_str), Some("hello"));
        assert_eq!(edited.edited_at(), Some(Timestamp::from_unix_micros(20)));
        assert_eq!(edited.sent_at(), Timestamp::from_unix_micros(10));
    }

    #[test]
    fn a_non_author_cannot_edit_a_message() {
        let err = posted_by(ALICE, "hello")
            .edited(BOB, body("hacked"), Timestamp::from_unix_micros(20))
            .expect_err("refused");
        assert!(matches!(err, EditError::NotTheAuthor(_)));
    }

    #[test]
    fn a_file_message_cannot_be_edited() {
        let mut parts = posted_by(ALICE, "/files/a.png").parts().clone();
        parts.attachment = Some(Attachment {
            file_type: crate::FileType::parse("image").expect("type"),
            thumbnail: None,
        });
        let err = Message::from_parts(parts)
            .edited(ALICE, body("text"), Timestamp::from_unix_micros(20))
            .expect_err("refused");
        assert!(matches!(err, EditError::SharesFile(_)));
    }

    #[test]
    fn a_deleted_message_cannot_be_edited() {
        let tombstone = posted_by(ALICE, "hello")
            .deleted(ALICE, Timestamp::from_unix_micros(20))
            .expect("deleted");
        let err = tombstone
            .edited(ALICE, body("again"), Timestamp::from_unix_micros(30))
            .expect_err("refused");
        assert!(matches!(err, EditError::Deleted(_)));
    }

    #[test]
    fn deleting_leaves_a_tombstone_without_the_text() {
        let tombstone = posted_by(ALICE, "secret")
            .deleted(ALICE, Timestamp::from_unix_micros(20))
            .expect("deleted");
        assert!(tombstone.is_deleted());
        assert_eq!(tombstone.body(), None);
        assert_eq!(tombstone.author().id, ALICE);
        assert_eq!(tombstone.id().as_str(), "m1");
    }

    #[test]
    fn a_non_author_cannot_delete_a_message() {
        let err = posted_by(ALICE, "hello")
            .deleted(BOB, Timestamp::from_unix_micros(20))
            .expect_err("refused");
        assert!(matches!(err, DeleteError::NotTheAuthor(_)));
    }

    #[test]
    fn a_message_cannot_be_deleted_twice() {
        let tombstone = posted_by(ALICE, "hello")
            .deleted(ALICE, Timestamp::from_unix_micros(20))
            .expect("deleted");
        let err = tombstone
            .deleted(ALICE, Timestamp::from_unix_micros(30))
            .expect_err("refused");
        assert!(matches!(err, DeleteError::AlreadyDeleted(_)));
    }

    #[test]
    fn a_reply_snapshot_is_copied_from_the_stored_parent() {
        let snapshot = posted_by(ALICE, "original")
            .snapshot_for_reply_in(DM)
            .expect("same room");
        assert_eq!(snapshot.author, ALICE);
        assert_eq!(snapshot.author_name, "alice");
        assert_eq!(snapshot.content, ParentContent::Text("original".into()));
    }

    #[test]
    fn history_shows_a_reply_with_its_parents_current_state() {
        let parent = posted_by(ALICE, "original");
        let snapshot = parent.snapshot_for_reply_in(DM).expect("snapshot");
        let reply = NewMessage {
            id: MessageId::parse("r1").expect("id"),
            room: DM,
            author: UserProfile::anonymous(BOB),
            body: body("me too"),
            parent: Some(snapshot),
            attachment: None,
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(11),
        }
        .stored_at(Seq::new(2));
        let edited = parent
            .edited(ALICE, body("changed"), Timestamp::from_unix_micros(12))
            .expect("edit");
        let deleted = parent
            .deleted(ALICE, Timestamp::from_unix_micros(13))
            .expect("delete");

        let after_edit = reply.clone().with_current_parent(Some(&edited));
        let after_delete = reply.clone().with_current_parent(Some(&deleted));
        let parent_gone = reply.with_current_parent(None);

        let content = |m: &Message| m.parent().map(|p| p.content.clone());
        assert_eq!(
            content(&after_edit),
            Some(ParentContent::Text("changed".into()))
        );
        assert_eq!(content(&after_delete), Some(ParentContent::Deleted));
        assert_eq!(content(&parent_gone), Some(ParentContent::Deleted));
        assert_eq!(
            after_delete.parent().map(|p| p.author_name.as_str()),
            Some("alice")
        );
    }

    #[test]
    fn a_reply_to_a_parent_in_another_room_is_refused() {
        let other = RoomRef::Channel {
            community: CommunityId::new(3),
            channel: ChannelId::new(12),
        };
        let err = posted_by(ALICE, "original")
            .snapshot_for_reply_in(other)
            .expect_err("refused");
        assert!(matches!(err, ReplyError::ParentInOtherRoom(_)));
    }

    #[test]
    fn a_reply_to_a_deleted_parent_is_refused() {
        let tombstone = posted_by(ALICE, "original")
            .deleted(ALICE, Timestamp::from_unix_micros(20))
            .expect("deleted");
        let err = tombstone.snapshot_for_reply_in(DM).expect_err("refused");
        assert!(matches!(err, ReplyError::ParentDeleted(_)));
    }
}
