//! The server's own routes, one file each.

pub mod health;
pub mod protected_resource;
pub mod whoami;
