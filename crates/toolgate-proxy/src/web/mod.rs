//! HTTP plumbing the endpoints share: parameters, responses, signed cookies, HTML pages.

pub(crate) mod cookies;
pub(crate) mod pages;
pub(crate) mod params;
pub(crate) mod refusal;
pub(crate) mod responses;
