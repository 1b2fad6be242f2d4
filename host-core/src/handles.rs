//! The handle table: every object a guest refers to by number.
//!
//! One numbering for all kinds, because `fastly_async_io::select` takes bodies and pending
//! requests in one list. A handle of the wrong kind is BADF, exactly like an unknown one.
//! Numbers are never reused within a request, so a stale handle cannot reach a new object.

use alloc::string::String;
use alloc::vec::Vec;

use crate::abi::AbiError;
use crate::body::Body;
use crate::http::{RequestHead, ResponseHead};
use crate::io::IoId;
use crate::status::Status;
use crate::stores::kv::{KvEntry, KvError};

#[derive(Debug)]
pub enum Handle {
    Request(RequestHead),
    Response(ResponseHead),
    Body(Body),
    /// A backend request in flight or done.
    PendingRequest(PendingRequest),
    Dictionary(String),
    ConfigStore(String),
    LogEndpoint(String),
    /// A `fastly_cache` / `fastly_http_cache` lookup, transaction or replace.
    Cache(crate::cache::handle::Entry),
    /// An ACL from config `acls`, by name.
    Acl(String),
    /// A promise of the next client request for this instance (`next_request`).
    RequestPromise,
    /// An open KV store, by name (`fastly_kv_store` and the older `fastly_object_store`).
    KvStore(String),
    /// KV operations complete when they are made (the stores are in memory); these hold each
    /// result until the guest waits for it.
    KvLookup(Result<Option<KvEntry>, KvError>),
    KvInsert(Result<(), KvError>),
    KvDelete(Result<(), KvError>),
    /// The list page as the JSON body the guest will read.
    KvList(Result<Vec<u8>, KvError>),
    /// An open secret store, by name.
    SecretStore(String),
    /// A secret's plaintext: from a store, or made by the guest with `from_bytes`.
    Secret(Vec<u8>),
}

impl Handle {
    /// A KV operation the guest can wait for with `fastly_async_io` (always ready here).
    pub fn is_kv_pending(&self) -> bool {
        matches!(self, Handle::KvLookup(_) | Handle::KvInsert(_) | Handle::KvDelete(_) | Handle::KvList(_))
    }
}

#[derive(Debug)]
pub struct PendingRequest {
    pub io: IoId,
    /// Header changes to make to the response once it arrives (`pending_req_header_*`).
    pub response_header_edits: Vec<HeaderEdit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderEdit {
    Append(String, Vec<u8>),
    Insert(String, Vec<u8>),
    Remove(String),
}

#[derive(Debug, Default)]
pub struct HandleTable {
    /// Slot 0 is never used, so no live handle is 0.
    slots: Vec<Option<Handle>>,
}

macro_rules! accessors {
    ($($variant:ident($ty:ty) => $get:ident, $get_mut:ident, $take:ident;)*) => {$(
        pub fn $get(&self, handle: u32) -> Result<&$ty, AbiError> {
            match self.get(handle) {
                Some(Handle::$variant(value)) => Ok(value),
                _ => Err(Status::Badf.into()),
            }
        }
        pub fn $get_mut(&mut self, handle: u32) -> Result<&mut $ty, AbiError> {
            match self.get_mut(handle) {
                Some(Handle::$variant(value)) => Ok(value),
                _ => Err(Status::Badf.into()),
            }
        }
        /// Removes the handle, returning its object: the guest can no longer use it.
        pub fn $take(&mut self, handle: u32) -> Result<$ty, AbiError> {
            self.$get(handle)?;
            match self.remove(handle) {
                Some(Handle::$variant(value)) => Ok(value),
                _ => unreachable!("checked above"),
            }
        }
    )*};
}

impl HandleTable {
    pub fn new() -> Self {
        HandleTable { slots: alloc::vec![None] }
    }

    pub fn insert(&mut self, handle: Handle) -> u32 {
        self.slots.push(Some(handle));
        (self.slots.len() - 1) as u32
    }

    pub fn get(&self, handle: u32) -> Option<&Handle> {
        self.slots.get(handle as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, handle: u32) -> Option<&mut Handle> {
        self.slots.get_mut(handle as usize)?.as_mut()
    }

    pub fn remove(&mut self, handle: u32) -> Option<Handle> {
        self.slots.get_mut(handle as usize)?.take()
    }

    /// Live handles, for the end-of-request sweep.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut Handle)> {
        self.slots.iter_mut().enumerate().filter_map(|(i, s)| Some((i as u32, s.as_mut()?)))
    }

    accessors! {
        Request(RequestHead) => request, request_mut, take_request;
        Response(ResponseHead) => response, response_mut, take_response;
        Body(Body) => body, body_mut, take_body;
        PendingRequest(PendingRequest) => pending_request, pending_request_mut, take_pending_request;
        Dictionary(String) => dictionary, dictionary_mut, take_dictionary;
        ConfigStore(String) => config_store, config_store_mut, take_config_store;
        LogEndpoint(String) => log_endpoint, log_endpoint_mut, take_log_endpoint;
        Acl(String) => acl, acl_mut, take_acl;
        KvStore(String) => kv_store, kv_store_mut, take_kv_store;
        KvLookup(Result<Option<KvEntry>, KvError>) => kv_lookup, kv_lookup_mut, take_kv_lookup;
        KvInsert(Result<(), KvError>) => kv_insert, kv_insert_mut, take_kv_insert;
        KvDelete(Result<(), KvError>) => kv_delete, kv_delete_mut, take_kv_delete;
        KvList(Result<Vec<u8>, KvError>) => kv_list, kv_list_mut, take_kv_list;
        SecretStore(String) => secret_store, secret_store_mut, take_secret_store;
        Secret(Vec<u8>) => secret, secret_mut, take_secret;
        Cache(crate::cache::handle::Entry) => cache_entry, cache_entry_mut, take_cache_entry;
    }
}
