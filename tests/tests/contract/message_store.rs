//! The `MessageStore` contract against the memory adapter and against Mongo
//! (the shared Secantus server, a fresh database per test), plus what only a shared
//! store can show: two instances writing one room, and an unreachable server.

use std::collections::BTreeSet;
use std::time::Duration;

use adapter_mongo::{MongoSettings, MongoStore};
use application::ports::outbound::{Appended, MessageStore, ReadMarkers, StoreError};
use chat_tests::services;
use domain::{
    ClientMsgId, MessageBody, MessageId, NewMessage, RoomId, RoomKey, RoomRef, Seq, Timestamp,
    UserId, UserProfile,
};
use secrecy::ExposeSecret as _;

/// Settings of a database no other test uses, on the shared server.
fn fresh_settings() -> MongoSettings {
    MongoSettings {
        database: services::unique_name("contract"),
        ..MongoSettings::new(services::mongodb_uri())
    }
}

async fn connect(settings: &MongoSettings) -> MongoStore {
    MongoStore::connect(settings)
        .await
        .expect("the shared MongoDB answers (scripts/services up)")
}

/// A store in a database of its own.
async fn fresh_mongo() -> MongoStore {
    connect(&fresh_settings()).await
}

macro_rules! contract {
    ($($behaviour:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    chat_tests::contract::message_store::$behaviour(
                        adapter_memory::MemoryMessageStore::default(),
                    )
                    .await;
                }
            )*
        }

        mod mongo {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    chat_tests::contract::message_store::$behaviour(
                        super::fresh_mongo().await.messages(),
                    )
                    .await;
                }
            )*
        }
    };
}

contract!(
    each_room_numbers_its_messages_from_one,
    an_appended_message_is_found_as_it_was_stored,
    an_unknown_id_is_not_found,
    find_many_returns_the_stored_ones_in_the_order_asked,
    an_update_takes_the_next_number_of_its_room,
    an_edit_is_persisted,
    a_tombstone_is_persisted,
    updating_a_message_that_was_never_stored_fails,
    newest_first_pages_cover_the_room_exactly_once,
    oldest_first_pages_cover_the_room_exactly_once,
    history_bounds_skip_and_limit_combine,
    history_is_kept_per_room,
    a_page_never_repeats_or_misses_while_messages_are_posted,
    activity_counts_live_messages_of_others_after_the_marker,
    a_deleted_newest_message_still_dates_the_room,
    an_empty_room_has_no_activity,
    activities_of_many_rooms_are_each_rooms_activity_in_the_order_asked,
    activities_of_no_rooms_or_empty_rooms_are_empty,
    concurrent_appends_to_one_room_get_distinct_numbers,
    a_reply_to_a_deleted_parent_keeps_that_mark,
    a_message_stored_with_a_client_key_is_found_by_it,
    a_second_append_with_the_same_key_returns_the_first_and_stores_nothing,
    the_same_key_by_another_author_or_in_another_room_is_another_message,
    events_since_returns_later_posts_and_later_changes_of_older_messages,
    events_since_beyond_the_limit_returns_only_the_newest_seq,
    events_since_the_newest_seq_is_empty,
);

mod mongo_only {
    use super::*;

    fn new_message(room: RoomRef, text: &str) -> NewMessage {
        NewMessage {
            id: MessageId::parse(&uuid::Uuid::new_v4().simple().to_string()).expect("id"),
            room,
            author: UserProfile::anonymous(UserId::new(1)),
            body: MessageBody::parse(text).expect("body"),
            parent: None,
            attachment: None,
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(1_700_000_000_000_000),
        }
    }

    /// A closed loopback port: nothing answers there.
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("address").port()
    }

    fn unreachable_settings() -> MongoSettings {
        MongoSettings {
            connect_timeout_ms: 300,
            server_selection_timeout_ms: 300,
            operation_timeout_ms: 1_000,
            ..MongoSettings::new(format!(
                "mongodb://127.0.0.1:{}/?directConnection=true",
                closed_port()
            ))
        }
    }

    /// Far above the settings' timeouts: only a call that hangs reaches it.
    const HANG: Duration = Duration::from_secs(15);

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_instances_appending_to_one_room_never_share_a_number() {
        // Arrange: two clients on one database, as two server instances would be.
        let settings = fresh_settings();
        let (first, second) = (connect(&settings).await, connect(&settings).await);
        let room = RoomRef::Direct(RoomId::new(chat_tests::unique_id()));

        // Act: 50 appends from each, all at once.
        let mut tasks = Vec::new();
        for (instance, store) in [(1, first.messages()), (2, second.messages())] {
            for n in 0..50 {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    store
                        .append(new_message(
                            room,
                            &format!("instance {instance} message {n}"),
                        ))
                        .await
                        .expect("append")
                        .into_message()
                        .seq()
                        .get()
                }));
            }
        }
        let mut numbers = Vec::new();
        for task in tasks {
            numbers.push(task.await.expect("task"));
        }

        // Assert
        let distinct: BTreeSet<u64> = numbers.iter().copied().collect();
        assert_eq!(distinct.len(), 100, "a number was given twice: {numbers:?}");
        assert_eq!(distinct, (1..=100).collect::<BTreeSet<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_instances_appending_one_client_key_at_once_store_it_once() {
        // Arrange: two clients on one database, as two server instances would be.
        let settings = fresh_settings();
        let (first, second) = (connect(&settings).await, connect(&settings).await);
        let room = RoomRef::Direct(RoomId::new(chat_tests::unique_id()));
        let key = ClientMsgId::parse("same-key").expect("key");

        // Act: five appends from each, all with one key, all at once.
        let mut tasks = Vec::new();
        for store in [first.messages(), second.messages()] {
            for n in 0..5 {
                let (store, key) = (store.clone(), key.clone());
                tasks.push(tokio::spawn(async move {
                    store
                        .append(NewMessage {
                            client_msg_id: Some(key),
                            ..new_message(room, &format!("attempt {n}"))
                        })
                        .await
                        .expect("append")
                }));
            }
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("task"));
        }

        // Assert: one stored, every answer names it.
        let new: Vec<&Appended> = answers
            .iter()
            .filter(|a| matches!(a, Appended::New(_)))
            .collect();
        assert_eq!(new.len(), 1, "stored more than once: {answers:?}");
        let stored = new[0].clone().into_message();
        assert!(
            answers.iter().all(|a| a.clone().into_message() == stored),
            "{answers:?}"
        );
        let page = first
            .messages()
            .history(
                room.key(),
                application::ports::outbound::HistoryQuery {
                    before: None,
                    after: None,
                    order: application::ports::outbound::HistoryOrder::OldestFirst,
                    skip: 0,
                    limit: 20,
                },
            )
            .await
            .expect("history");
        assert_eq!(page, [stored]);
    }

    #[tokio::test]
    async fn an_append_retried_with_the_same_id_returns_the_stored_message() {
        let store = fresh_mongo().await.messages();
        let room = RoomRef::Direct(RoomId::new(chat_tests::unique_id()));
        let message = new_message(room, "sent twice");

        let first = store.append(message.clone()).await.expect("append");
        let retried = store.append(message).await.expect("retried append");

        // Still new to the caller: its first attempt failed, so it has published nothing.
        assert_eq!(retried, first);
        let first = first.into_message();
        let page = store
            .history(
                room.key(),
                application::ports::outbound::HistoryQuery {
                    before: None,
                    after: None,
                    order: application::ports::outbound::HistoryOrder::OldestFirst,
                    skip: 0,
                    limit: 10,
                },
            )
            .await
            .expect("history");
        assert_eq!(page, [first], "stored once");
    }

    #[tokio::test]
    async fn connecting_to_an_unreachable_server_fails_naming_its_host() {
        let settings = unreachable_settings();

        let result = tokio::time::timeout(HANG, MongoStore::connect(&settings))
            .await
            .expect("connect gives up instead of hanging");

        let error = format!("{:#}", result.expect_err("nothing answers"));
        let host = settings
            .uri
            .expose_secret()
            .trim_start_matches("mongodb://")
            .split('/')
            .next()
            .expect("host");
        assert!(error.contains(host), "{error}");
    }

    #[tokio::test]
    async fn an_unreachable_server_makes_every_call_unavailable_instead_of_hanging() {
        let store = MongoStore::connect_lazily(&unreachable_settings())
            .await
            .expect("a client needs no server");
        let (messages, markers) = (store.messages(), store.markers());
        let room = RoomRef::Direct(RoomId::new(5));
        let id = MessageId::parse("m1").expect("id");

        let append = tokio::time::timeout(HANG, messages.append(new_message(room, "lost")))
            .await
            .expect("append gives up");
        let find = tokio::time::timeout(HANG, messages.find(&id))
            .await
            .expect("find gives up");
        let activity = tokio::time::timeout(
            HANG,
            messages.activity(RoomKey::Direct(RoomId::new(5)), UserId::new(1), None),
        )
        .await
        .expect("activity gives up");
        let mark = tokio::time::timeout(
            HANG,
            markers.mark_read(UserId::new(1), room.key(), Seq::FIRST),
        )
        .await
        .expect("mark_read gives up");
        let ping = tokio::time::timeout(HANG, store.ping())
            .await
            .expect("ping gives up");

        assert!(
            matches!(append, Err(StoreError::Unavailable(_))),
            "{append:?}"
        );
        assert!(matches!(find, Err(StoreError::Unavailable(_))), "{find:?}");
        assert!(
            matches!(activity, Err(StoreError::Unavailable(_))),
            "{activity:?}"
        );
        assert!(mark.is_err(), "{mark:?}");
        assert!(ping.is_err(), "ping succeeded on a closed port");
    }
}
