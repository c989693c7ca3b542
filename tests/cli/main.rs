//! One integration-test binary: runs the real `tok` in temporary config and data
//! dirs, plus library-level tests of the credentials module against a real keyring.

mod backends;
mod client_retry;
mod common;
mod conventions;
mod credentials;
mod docs;
mod embedded_audit;
mod embedded_concurrency;
mod embedded_failure;
mod embedded_helpers;
mod embedded_instance;
mod embedded_pulsar;
mod embedded_quickstart;
mod embedded_rotate;
mod embedded_tenant;
mod embedded_token;
mod interop;
mod jwt_claims;
mod jwt_create;
mod jwt_create_keys;
mod jwt_decode;
mod jwt_keys;
mod jwt_verify;
mod jwt_verify_keys;
mod profile;
mod profile_config;
mod prompt;
mod roles_cli;
mod server_api;
mod server_authz;
mod server_cli;
mod server_failure;
mod terminal;
mod tokens;
