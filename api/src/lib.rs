//! # tthc-api
//!
//! The tthc HTTP service: an actix-web REST API over [`tthc_core`], with OAuth2 client-credential
//! tokens, `application/problem+json` errors, an audit trail, Prometheus metrics and an OpenAPI
//! document generated from the routes themselves.
//!
//! [`server::prepare`] opens the database and settles keys; [`server::build_server`] serves.

pub mod auth;
pub mod bulk;
pub mod config;
mod context;
pub mod demo;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod instant;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod server;
pub mod state;
pub mod table;
pub mod webhooks;
