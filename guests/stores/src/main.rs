//! stores: one key, looked up in both kinds of read-only key-value store.
//!
//! Contract — any method:
//!   the key is the first `key` query parameter, percent-decoded; `greeting` when the
//!   parameter is absent or empty.
//!   status 200
//!   content-type: application/json
//!   body: pretty-printed JSON (2-space indent) followed by "\n":
//!     {"key": key,
//!      "dictionary": value of key in dictionary `flags`, or null,
//!      "config_store": value of key in config store `settings`, or null}
//!   null also stands for a store that does not exist or a lookup the host refused.

use fastly::{ConfigStore, Error, Request, Response};
use serde::Serialize;

#[derive(Serialize)]
struct Lookup {
    key: String,
    dictionary: Option<String>,
    config_store: Option<String>,
}

// Dictionaries were renamed config stores in the SDK, but they are still a separate set of
// hostcalls (`fastly_dictionary`); this guest uses the old API on purpose to exercise them.
#[allow(deprecated)]
fn dictionary_get(name: &str, key: &str) -> Option<String> {
    let dict = fastly::Dictionary::try_open(name).ok()?;
    dict.try_get(key).ok().flatten()
}

fn config_store_get(name: &str, key: &str) -> Option<String> {
    let store = ConfigStore::try_open(name).ok()?;
    store.try_get(key).ok().flatten()
}

#[fastly::main]
fn main(req: Request) -> Result<Response, Error> {
    // `get_query_parameter` does no percent-decoding; the URL's own query parser does.
    let key = req
        .get_url()
        .query_pairs()
        .find(|(name, _)| name == "key")
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "greeting".to_owned());

    let lookup = Lookup {
        dictionary: dictionary_get("flags", &key),
        config_store: config_store_get("settings", &key),
        key,
    };

    let mut body = serde_json::to_string_pretty(&lookup)?;
    body.push('\n');
    Ok(Response::from_status(200)
        .with_content_type(fastly::mime::APPLICATION_JSON)
        .with_body(body))
}
