//! Typed helpers over the byte-level store, so callers don't hand-roll serde at every call site.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Namespace, StateStore, StoreError};

/// JSON (de)serializing versions of the [`StateStore`] operations; implemented for every store.
#[async_trait]
pub trait StateStoreJson: StateStore {
    /// [`StateStore::put`] with a JSON-encoded value.
    async fn put_json<V: Serialize + Sync + ?Sized>(
        &self,
        ns: Namespace,
        key: &str,
        value: &V,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let bytes = encode(ns, value)?;
        self.put(ns, key, &bytes, ttl).await
    }

    /// [`StateStore::put_new`] with a JSON-encoded value.
    async fn put_new_json<V: Serialize + Sync + ?Sized>(
        &self,
        ns: Namespace,
        key: &str,
        value: &V,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let bytes = encode(ns, value)?;
        self.put_new(ns, key, &bytes, ttl).await
    }

    /// [`StateStore::get`] decoding JSON.
    async fn get_json<V: DeserializeOwned>(&self, ns: Namespace, key: &str) -> Result<Option<V>, StoreError> {
        match self.get(ns, key).await? {
            Some(bytes) => decode(ns, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// [`StateStore::take`] decoding JSON; the entry is consumed even if decoding fails.
    async fn take_json<V: DeserializeOwned>(&self, ns: Namespace, key: &str) -> Result<Option<V>, StoreError> {
        match self.take(ns, key).await? {
            Some(bytes) => decode(ns, &bytes).map(Some),
            None => Ok(None),
        }
    }
}

impl<S: StateStore + ?Sized> StateStoreJson for S {}

fn encode<V: Serialize + ?Sized>(ns: Namespace, value: &V) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|source| StoreError::Codec {
        action: "encode",
        ns,
        source,
    })
}

fn decode<V: DeserializeOwned>(ns: Namespace, bytes: &[u8]) -> Result<V, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Codec {
        action: "decode",
        ns,
        source,
    })
}
