//! The `ReadMarkers` contract against the memory adapter and against Mongo (the
//! shared Secantus server, a fresh database per test).

use adapter_mongo::{MongoSettings, MongoStore};
use chat_tests::services;

/// Markers in a database of their own.
async fn fresh_mongo() -> MongoStore {
    let settings = MongoSettings {
        database: services::unique_name("contract"),
        ..MongoSettings::new(services::mongodb_uri())
    };
    MongoStore::connect(&settings)
        .await
        .expect("the shared MongoDB answers (scripts/services up)")
}

macro_rules! contract {
    ($($behaviour:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    chat_tests::contract::read_markers::$behaviour(
                        adapter_memory::MemoryReadMarkers::default(),
                    )
                    .await;
                }
            )*
        }

        mod mongo {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    chat_tests::contract::read_markers::$behaviour(
                        super::fresh_mongo().await.markers(),
                    )
                    .await;
                }
            )*
        }
    };
}

contract!(
    a_room_never_read_has_no_marker,
    a_marker_records_how_far_the_user_read,
    a_marker_moves_forward,
    a_marker_never_moves_back,
    markers_are_kept_per_user_and_per_room,
    racing_marks_leave_the_highest,
    markers_of_many_rooms_come_back_in_the_order_asked,
);

mod mongo_only {
    use std::time::Duration;

    use application::ports::outbound::ReadMarkers;
    use domain::{RoomId, RoomKey, Seq, UserId};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_instances_marking_one_new_room_at_once_keep_the_highest() {
        let settings = MongoSettings {
            database: services::unique_name("contract"),
            ..MongoSettings::new(services::mongodb_uri())
        };
        let first = MongoStore::connect(&settings)
            .await
            .expect("first")
            .markers();
        let second = MongoStore::connect(&settings)
            .await
            .expect("second")
            .markers();
        let room = RoomKey::Direct(RoomId::new(chat_tests::unique_id()));
        let user = UserId::new(chat_tests::unique_id());

        let mut tasks = Vec::new();
        for seq in 1..=20 {
            let markers = if seq % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tasks.push(tokio::spawn(async move {
                markers.mark_read(user, room, Seq::new(seq)).await
            }));
        }
        for task in tasks {
            task.await.expect("task").expect("marked");
        }

        let marker = tokio::time::timeout(Duration::from_secs(15), first.read_up_to(user, room))
            .await
            .expect("answers")
            .expect("read");
        assert_eq!(marker, Some(Seq::new(20)));
    }
}
