//! Driving ports: what inbound adapters may ask of the chat, one small trait per purpose, so
//! an adapter holds, and its tests mock, only the traits it calls.
//!
//! | port | what it is for | called by |
//! |---|---|---|
//! | [`Access`] | who is calling, their allowance, whether they may listen to an audience | STOMP, REST, file downloads |
//! | [`Sessions`] | opening and closing a STOMP session | STOMP |
//! | [`Messaging`] | posting, replying, editing, deleting, typing | STOMP |
//! | [`Navigation`] | the user opens a room, a channel, home, a community page or a voice channel | STOMP |
//! | [`Reading`] | history, one message, the user's rooms, unread counts and read markers, presence | REST |
//! | [`FileSharing`] | file uploads | REST |
//! | [`Roster`] | what the app's other services report: member lists, channels, voice leaves | REST (`/chat-server`) |
//!
//! Each is an object-safe `async_trait` held as `Arc<dyn …>`; [`crate::Chat`] builds one
//! implementation of each over the use cases. The driven ports' types these signatures and
//! the use cases' commands carry ([`RequestKind`], [`VerifiedToken`], [`HistoryOrder`], …) are
//! re-exported here, so an inbound adapter names only this module and [`crate::usecases`].
//! [`SendLine`] hands out the [`SendTurn`]s that keep one connection's concurrent message
//! changes ([`Messaging`]) in the order it sent them.

mod access;
mod file_sharing;
mod messaging;
mod navigation;
mod reading;
mod roster;
mod send_turn;
mod sessions;

pub use access::{Access, RequestKind, TokenError, VerifiedToken};
pub use file_sharing::{ByteStream, FileSharing};
pub use messaging::Messaging;
pub use navigation::Navigation;
pub use reading::{HistoryOrder, Reading};
pub use roster::Roster;
pub use send_turn::{SendLine, SendTurn};
pub use sessions::Sessions;

#[cfg(any(test, feature = "mocks"))]
pub use {
    access::MockAccess, file_sharing::MockFileSharing, messaging::MockMessaging,
    navigation::MockNavigation, reading::MockReading, roster::MockRoster, sessions::MockSessions,
};
