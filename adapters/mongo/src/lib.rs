//! Mongo adapters of the `MessageStore` and `ReadMarkers` ports, in the seed's
//! collections (`directMessage`, `channelMessage`, `messageTime`) with its field
//! names, so data written by the seed stays readable, plus `roomSequence`: the
//! per-room sequence counters every instance shares.
//!
//! Bootstrap calls [`MongoStore::connect`] once and hands [`MongoStore::messages`] and
//! [`MongoStore::markers`] to the use cases; `chat-server migrate` calls
//! [`MongoStore::number_seed_messages`], which numbers the seed's messages. Every call is
//! bounded by `operation_timeout_ms`; every failure is the port's `Unavailable`.

mod driver;
mod indexes;
mod message_document;
mod message_store;
mod read_markers;
mod rooms;
mod seed_numbering;
mod sequences;
mod settings;
mod store;

pub use message_store::MongoMessageStore;
pub use read_markers::MongoReadMarkers;
pub use seed_numbering::SeedNumbering;
pub use settings::MongoSettings;
pub use store::MongoStore;
