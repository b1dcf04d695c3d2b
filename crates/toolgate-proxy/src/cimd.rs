//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25
//! "SHOULD"): the client id is an https URL, and the document behind it describes the client.
//!
//! Fetching a URL chosen by an unauthenticated caller is a server-side request forgery risk, so the
//! fetcher refuses non-public addresses (checked on the addresses it actually connects to), follows
//! no redirects, bounds time and size, and caches per `Cache-Control`.

mod address;
mod cache;
mod document;
mod fetcher;
mod url;

pub use address::{AddressClass, classify_address};
pub use document::{CimdDocument, CimdDocumentError};
pub use fetcher::{CimdError, CimdFetcher, CimdFetcherConfig};
pub use url::{CimdUrl, CimdUrlError};
