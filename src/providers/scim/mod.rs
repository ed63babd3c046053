//! SCIM 2.0 (RFC 7643/7644) directories.

mod discovery;

pub use discovery::probe;
