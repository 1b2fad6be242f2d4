//! kv: a small app over the KV store `demo` and the secret store `vault`.
//!
//! Contract (every JSON body is pretty-printed, 2-space indent, followed by "\n"; keys in
//! paths are percent-decoded and may contain `/`):
//!   GET    /kv/<key>   200 {"key", "value" (UTF-8, lossy), "metadata" (or null),
//!                             "generation" (a decimal string: it does not fit a JSON number)}
//!   PUT    /kv/<key>   stores the request body. Query: `mode=overwrite|add|append|prepend`,
//!                      `if_generation_match=<generation>`, `ttl=<seconds>`; metadata from
//!                      the `x-kv-metadata` header. 200 with the entry as GET shows it.
//!   DELETE /kv/<key>   204
//!   GET    /kv         lists keys. Query: `prefix`, `limit`, `cursor`.
//!                      200 {"keys": [...], "next_cursor" (or null), "limit"}
//!   GET    /secret/<name>  200 {"name", "exists": true, "length"} — never the secret itself;
//!                      with an `x-guess` header also "matches": whether it equals the secret.
//!                      404 {"name", "exists": false}
//! KV errors: 404 not found, 412 precondition failed (a generation mismatch, or `add` of a key
//! that exists), 400 bad request (a key or option the store refuses), 413 payload too large,
//! 429 too many requests, 500 anything else; body {"error": message}. A query parameter
//! this app cannot read is 400 too. Anything else is 404 {"error": "…usage…"}.

// The error side of a handler is the error response itself, made once per request: its size
// costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use fastly::http::{Method, StatusCode};
use fastly::kv_store::{InsertMode, KVStoreError};
use fastly::{Error, KVStore, Request, Response, SecretStore};
use serde_json::{json, Value};

const STORE: &str = "demo";
const VAULT: &str = "vault";
const USAGE: &str = "try GET|PUT|DELETE /kv/<key>, GET /kv?prefix=&limit=&cursor=, or GET /secret/<name>";

#[fastly::main]
fn main(mut req: Request) -> Result<Response, Error> {
    let path = req.get_path().to_owned();
    let method = req.get_method().clone();
    let response = if path == "/kv" || path == "/kv/" {
        match method {
            Method::GET => list(&req),
            _ => Err(reply(StatusCode::METHOD_NOT_ALLOWED, json!({"error": "lists are GET only"}))),
        }
    } else if let Some(key) = path.strip_prefix("/kv/") {
        let key = percent_decode(key);
        match method {
            Method::GET => read(&key),
            Method::PUT | Method::POST => write(&key, &mut req),
            Method::DELETE => delete(&key),
            _ => Err(reply(StatusCode::METHOD_NOT_ALLOWED, json!({"error": "use GET, PUT or DELETE"}))),
        }
    } else if let Some(name) = path.strip_prefix("/secret/") {
        Ok(secret(&percent_decode(name), &req))
    } else {
        Err(reply(StatusCode::NOT_FOUND, json!({"error": USAGE})))
    };
    Ok(response.unwrap_or_else(|error_response| error_response))
}

/// A handler's answer; `Err` is an error response, so `?` can end a handler early.
type Handled = Result<Response, Response>;

fn reply(status: StatusCode, body: Value) -> Response {
    let mut text = serde_json::to_string_pretty(&body).expect("JSON values serialize");
    text.push('\n');
    Response::from_status(status).with_content_type(fastly::mime::APPLICATION_JSON).with_body(text)
}

fn kv_failure(error: KVStoreError) -> Response {
    let status = match error {
        KVStoreError::ItemNotFound => StatusCode::NOT_FOUND,
        KVStoreError::ItemPreconditionFailed => StatusCode::PRECONDITION_FAILED,
        KVStoreError::ItemBadRequest | KVStoreError::InvalidKey | KVStoreError::InvalidStoreOptions => {
            StatusCode::BAD_REQUEST
        }
        KVStoreError::ItemPayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        KVStoreError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    reply(status, json!({"error": error.to_string()}))
}

fn open_store() -> Result<KVStore, Response> {
    match KVStore::open(STORE) {
        Ok(Some(store)) => Ok(store),
        Ok(None) => Err(reply(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": format!("no KV store {STORE:?}")}))),
        Err(error) => Err(kv_failure(error)),
    }
}

fn query(req: &Request, name: &str) -> Option<String> {
    req.get_url().query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty())
}

fn bad_parameter(name: &str, value: &str) -> Response {
    reply(StatusCode::BAD_REQUEST, json!({"error": format!("cannot read {name}={value:?}")}))
}

/// A numeric query parameter, or a 400 naming it.
fn number<T: std::str::FromStr>(req: &Request, name: &str) -> Result<Option<T>, Response> {
    query(req, name).map(|value| value.parse().map_err(|_| bad_parameter(name, &value))).transpose()
}

fn entry_json(key: &str, store: &KVStore) -> Handled {
    let mut found = store.lookup(key).map_err(kv_failure)?;
    let value = found.take_body_bytes();
    Ok(reply(
        StatusCode::OK,
        json!({
            "key": key,
            "value": String::from_utf8_lossy(&value),
            "metadata": found.metadata().map(|m| String::from_utf8_lossy(&m).into_owned()),
            "generation": found.current_generation().to_string(),
        }),
    ))
}

fn read(key: &str) -> Handled {
    entry_json(key, &open_store()?)
}

fn write(key: &str, req: &mut Request) -> Handled {
    let store = open_store()?;
    let mode = match query(req, "mode").as_deref() {
        None | Some("overwrite") => InsertMode::Overwrite,
        Some("add") => InsertMode::Add,
        Some("append") => InsertMode::Append,
        Some("prepend") => InsertMode::Prepend,
        Some(other) => return Err(bad_parameter("mode", other)),
    };
    let mut insert = store.build_insert().mode(mode);
    if let Some(generation) = number::<u64>(req, "if_generation_match")? {
        insert = insert.if_generation_match(generation);
    }
    if let Some(seconds) = number::<u64>(req, "ttl")? {
        insert = insert.time_to_live(Duration::from_secs(seconds));
    }
    if let Some(metadata) = req.get_header("x-kv-metadata") {
        let metadata = metadata.to_str().map_err(|_| bad_parameter("x-kv-metadata", &format!("{metadata:?}")))?;
        insert = insert.metadata(metadata);
    }
    insert.execute(key, req.take_body()).map_err(kv_failure)?;
    entry_json(key, &store)
}

fn delete(key: &str) -> Handled {
    open_store()?.delete(key).map_err(kv_failure)?;
    Ok(Response::from_status(StatusCode::NO_CONTENT))
}

fn list(req: &Request) -> Handled {
    let store = open_store()?;
    let mut list = store.build_list();
    if let Some(prefix) = query(req, "prefix") {
        list = list.prefix(&prefix);
    }
    if let Some(limit) = number::<u32>(req, "limit")? {
        list = list.limit(limit);
    }
    if let Some(cursor) = query(req, "cursor") {
        list = list.cursor(&cursor);
    }
    let page = list.execute().map_err(kv_failure)?;
    Ok(reply(StatusCode::OK, json!({"keys": page.keys(), "next_cursor": page.next_cursor(), "limit": page.limit()})))
}

fn secret(name: &str, req: &Request) -> Response {
    let vault = match SecretStore::open(VAULT) {
        Ok(vault) => vault,
        Err(error) => return reply(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": error.to_string()})),
    };
    match vault.try_get(name) {
        Ok(Some(secret)) => {
            let plaintext = secret.plaintext();
            let mut body = json!({"name": name, "exists": true, "length": plaintext.len()});
            if let Some(guess) = req.get_header("x-guess") {
                body["matches"] = json!(guess.as_bytes() == plaintext.as_ref());
            }
            reply(StatusCode::OK, body)
        }
        Ok(None) => reply(StatusCode::NOT_FOUND, json!({"name": name, "exists": false})),
        Err(error) => reply(StatusCode::BAD_REQUEST, json!({"error": error.to_string()})),
    }
}

/// `%XX` escapes decoded; malformed ones are kept as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
