//! Fixed one-minute windows over all callers, for the endpoints that store something for an
//! unauthenticated request (registrations, sign-in transactions): a flood cannot fill the store.

use std::time::Duration;

use toolgate_store::{Namespace, StoreError};

use crate::proxy::ProxyState;

/// Counts one more `bucket` event in the current minute; `false` once `limit` is exceeded.
pub(crate) async fn admit(state: &ProxyState, bucket: &str, limit: u64) -> Result<bool, StoreError> {
    let minute = state.clock.now_unix().div_euclid(60);
    let count = state
        .grants
        .store()
        .incr(Namespace::RATE, &format!("{bucket}:{minute}"), Duration::from_secs(60))
        .await?;
    Ok(count <= limit)
}
