//! One integration-test binary: runs the real `tok` in temporary config and data
//! dirs, plus library-level tests of the credentials module against a real keyring.

mod common;
mod credentials;
mod docs;
