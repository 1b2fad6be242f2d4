//! Clocks and randomness from the browser, for host-core's `Platform`.

use wasm_bindgen::JsCast;

pub struct BrowserPlatform;

fn performance() -> Option<web_sys::Performance> {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok()?.dyn_into().ok()
}

impl host_core::Platform for BrowserPlatform {
    fn monotonic_ms(&self) -> f64 {
        performance().map_or_else(js_sys::Date::now, |p| p.now())
    }

    fn unix_time_ns(&self) -> u64 {
        (js_sys::Date::now() * 1_000_000.0) as u64
    }

    fn fill_random(&self, buf: &mut [u8]) {
        let crypto: Option<web_sys::Crypto> =
            js_sys::Reflect::get(&js_sys::global(), &"crypto".into()).ok().and_then(|c| c.dyn_into().ok());
        // getRandomValues takes at most 64 KiB at a time.
        for chunk in buf.chunks_mut(65536) {
            if let Some(crypto) = &crypto {
                let _ = crypto.get_random_values_with_u8_array(chunk);
            }
        }
    }
}
