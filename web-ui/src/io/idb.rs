//! The stores' persistence in the browser: IndexedDB database `edgeplay`, object store `rows`,
//! one row per record, keyed by `Change::key()`, its value the change as JSON. A run's changes
//! are written in one transaction, so a failed write (quota, say) leaves nothing half-written.

use futures_channel::mpsc;
use futures_util::StreamExt;
use host_core::Change;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget, IdbDatabase, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

const DATABASE: &str = "edgeplay";
const ROWS: &str = "rows";

#[derive(Clone)]
pub struct Db(IdbDatabase);

type Listener = Closure<dyn FnMut(Event)>;

/// Waits for the first of `ok` and `failures` to fire on `target`: `Ok` for `ok`.
async fn first_event(target: &EventTarget, ok: &str, failures: &[&str]) -> Result<(), ()> {
    let (tx, mut rx) = mpsc::unbounded::<bool>();
    let names = std::iter::once(ok).chain(failures.iter().copied());
    let listeners: Vec<(&str, Listener)> = names
        .map(|name| {
            let (tx, is_ok) = (tx.clone(), name == ok);
            (name, Listener::new(move |_| drop(tx.unbounded_send(is_ok))))
        })
        .collect();
    for (name, listener) in &listeners {
        let _ = target.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
    }
    let outcome = rx.next().await.unwrap_or(false);
    for (name, listener) in &listeners {
        let _ = target.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
    }
    if outcome { Ok(()) } else { Err(()) }
}

fn describe(error: Option<web_sys::DomException>) -> String {
    error.map_or_else(|| "IndexedDB: the operation failed".into(), |e| format!("IndexedDB: {}: {}", e.name(), e.message()))
}

/// An exception an IndexedDB call threw (a closed connection, a value it cannot store).
fn thrown(error: JsValue) -> String {
    match error.dyn_into::<web_sys::DomException>() {
        Ok(e) => describe(Some(e)),
        Err(other) => format!("IndexedDB: {other:?}"),
    }
}

async fn request(request: IdbRequest) -> Result<JsValue, String> {
    match first_event(&request, "success", &["error"]).await {
        Ok(()) => request.result().map_err(thrown),
        Err(()) => Err(describe(request.error().ok().flatten())),
    }
}

/// Waits for a readwrite transaction to be committed.
async fn committed(transaction: &IdbTransaction) -> Result<(), String> {
    first_event(transaction, "complete", &["abort", "error"]).await.map_err(|()| describe(transaction.error()))
}

impl Db {
    pub async fn open() -> Result<Db, String> {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let factory = scope.indexed_db().ok().flatten().ok_or("IndexedDB is not available here")?;
        let open: IdbOpenDbRequest = factory.open_with_u32(DATABASE, 1).map_err(thrown)?;
        let upgrade = Listener::new(move |event: Event| {
            let request: IdbOpenDbRequest = event.target().expect("the open request").unchecked_into();
            if let Ok(db) = request.result() {
                let _ = db.unchecked_into::<IdbDatabase>().create_object_store(ROWS);
            }
        });
        open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let db: IdbDatabase = request(open.clone().into()).await?.unchecked_into();
        open.set_onupgradeneeded(None);
        // Another page deleting the database (a test starting afresh) must not wait on us.
        let close = Listener::new({
            let db = db.clone();
            move |_| db.close()
        });
        db.set_onversionchange(Some(close.as_ref().unchecked_ref()));
        close.forget();
        Ok(Db(db))
    }

    fn rows(&self, mode: IdbTransactionMode) -> Result<(IdbTransaction, IdbObjectStore), String> {
        let transaction = self.0.transaction_with_str_and_mode(ROWS, mode).map_err(thrown)?;
        let store = transaction.object_store(ROWS).map_err(thrown)?;
        Ok((transaction, store))
    }

    /// Every persisted change (rows that no longer parse are skipped: a newer format, say).
    pub async fn load(&self) -> Result<Vec<Change>, String> {
        let (_, store) = self.rows(IdbTransactionMode::Readonly)?;
        let rows: js_sys::Array = request(store.get_all().map_err(thrown)?).await?.unchecked_into();
        Ok(rows.iter().filter_map(|row| serde_json::from_str(&row.as_string()?).ok()).collect())
    }

    /// Writes `changes` in one transaction and waits until it is committed. A KV deletion is
    /// kept as a tombstone row (so a seeded key stays deleted); a cache deletion removes its row.
    pub async fn write(&self, changes: &[Change]) -> Result<(), String> {
        if changes.is_empty() {
            return Ok(());
        }
        let (transaction, store) = self.rows(IdbTransactionMode::Readwrite)?;
        for change in changes {
            let key = JsValue::from(change.key());
            let queued = match change {
                Change::CacheDelete { .. } => store.delete(&key),
                _ => {
                    let row = serde_json::to_string(change).map_err(|e| e.to_string())?;
                    store.put_with_key(&row.into(), &key)
                }
            };
            if let Err(e) = queued {
                let _ = transaction.abort();
                return Err(thrown(e));
            }
        }
        committed(&transaction).await
    }

    /// Removes every row.
    pub async fn clear(&self) -> Result<(), String> {
        let (transaction, store) = self.rows(IdbTransactionMode::Readwrite)?;
        store.clear().map_err(thrown)?;
        committed(&transaction).await
    }
}
