//! `fastly_device_detection`: device records from config `device_detection.user_agents`.
//!
//! A User-Agent matches only exactly as written in the config; its record is returned as
//! written. Any other User-Agent has no record: NONE, which the `fastly` crate reports as
//! `None`.

use alloc::string::ToString;

use super::{AbiResult, Cx, Registry};
use crate::status::Status;

pub fn link(r: &mut Registry<'_>) {
    r.func("fastly_device_detection", "lookup", lookup);
}

fn lookup(cx: &mut Cx<'_>, ua: u32, ua_len: u32, buf: u32, buf_len: u32, nwritten: u32) -> AbiResult {
    let user_agent = cx.mem.str(ua, ua_len)?;
    let record = cx.st.config.device_detection.user_agents.get(user_agent).ok_or(Status::None)?;
    let json = record.to_string();
    cx.mem.write_fitting(buf, buf_len, json.as_bytes(), nwritten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::config::Config;
    use crate::state::DownstreamRequest;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15";

    fn guest() -> TestGuest {
        let config = serde_json::json!({ "device_detection": { "user_agents": {
            IPHONE: { "device": { "name": "iPhone", "is_mobile": true }, "os": { "name": "iOS", "major": "17" } }
        } } });
        let config = Config::from_json(&config.to_string()).unwrap();
        TestGuest::with_config(config, DownstreamRequest::get("http://localhost/"))
    }

    #[test]
    fn a_known_user_agent_gets_its_record() {
        let mut g = guest();
        let (p, l) = g.put(IPHONE);
        let (buf, nw) = (g.alloc(256), g.alloc(4));
        assert_eq!(g.status(|cx| lookup(cx, p, l, buf, 256, nw)), Status::Ok);
        let record: serde_json::Value = serde_json::from_str(&g.string_at(buf, g.u32_at(nw))).unwrap();
        assert_eq!(record["device"]["name"], "iPhone");
        assert_eq!(record["os"]["major"], "17");
    }

    #[test]
    fn other_user_agents_have_none_and_short_buffers_learn_the_size() {
        let mut g = guest();
        let (buf, nw) = (g.alloc(8), g.alloc(4));
        let (p, l) = g.put(&IPHONE[..20]);
        assert_eq!(g.status(|cx| lookup(cx, p, l, buf, 8, nw)), Status::None, "no prefix matching");
        let (p, l) = g.put(IPHONE);
        assert_eq!(g.status(|cx| lookup(cx, p, l, buf, 8, nw)), Status::Buflen);
        assert!(g.u32_at(nw) > 8);
    }
}
