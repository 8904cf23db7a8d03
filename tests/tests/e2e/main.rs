//! End-to-end tests: the real `chat-server` binary, driven by real WebSocket STOMP clients.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod auth;
mod auth_service;
mod channels;
mod chat;
mod cluster;
mod community_service;
mod delivery_order;
mod descriptor_limits;
mod file_access;
mod files;
mod idempotent_sends;
mod limits;
mod lobby;
mod migrate;
mod open_directory;
mod operations;
mod overload;
mod protocol;
mod refusals;
mod rest;
mod resume;
mod revocation;
mod room_limits;
mod secure_defaults;
mod shutdown;
mod sockjs;
mod state_server;
mod web;
