//! End-to-end tests: the real service on a loopback port, over HTTP, on SQLite by default and
//! on PostgreSQL when `TTHC_TEST_DATABASE_URL` is set. Each test has a database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod announcements;
mod audit;
mod auth;
mod calendar;
mod changes;
mod clients;
mod connections;
mod console;
mod contract;
mod definitions;
mod deploy;
mod dossiers;
mod errors;
mod gains;
mod index_upkeep;
mod instances;
mod judgement;
mod migrations;
mod openapi;
mod operations;
mod periods;
mod petitions;
mod portal_relay;
mod portal_sync;
mod printing;
mod procedures;
mod reporting_duties;
mod reports;
mod rule_sets;
mod scores;
mod scoring;
mod security;
mod sessions;
mod tasks;
mod units;
mod webhooks;
