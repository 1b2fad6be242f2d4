//! IP addresses and CIDR prefixes, as ACL entries and geolocation records are keyed.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A network: an address and how many of its leading bits count. IPv4 and IPv6 prefixes never
/// match each other's addresses (an IPv4-mapped IPv6 address is an IPv6 address here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPrefix {
    /// The address with every bit after `len` cleared: `203.0.113.7/24` is `203.0.113.0/24`.
    network: IpAddr,
    len: u8,
}

impl IpPrefix {
    /// `203.0.113.0/24`, `2001:db8::/32`, or a bare address (a prefix of all its bits).
    pub fn parse(text: &str) -> Result<IpPrefix, &'static str> {
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| "not an IP address or CIDR prefix")?;
        let bits = bit_count(addr);
        let len = match len {
            None => bits,
            // Digits only: `u8`'s parser would also take `+24`.
            Some(len) => match len.parse::<u8>() {
                Ok(n) if n <= bits && len.bytes().all(|b| b.is_ascii_digit()) => n,
                _ if addr.is_ipv4() => return Err("an IPv4 prefix length is 0 to 32"),
                _ => return Err("an IPv6 prefix length is 0 to 128"),
            },
        };
        Ok(IpPrefix { network: masked(addr, len), len })
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.network.is_ipv4() && masked(addr, self.len) == self.network
    }

    /// How many leading bits count: the longer, the more specific.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

/// An address as the ABI passes it: 4 octets for IPv4, 16 for IPv6.
pub fn from_octets(octets: &[u8]) -> Option<IpAddr> {
    match octets.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(octets).ok()?))),
        16 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(octets).ok()?))),
        _ => None,
    }
}

fn bit_count(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

fn masked(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - len as u32).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from_bits(v4.to_bits() & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - len as u32).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & mask))
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn prefixes_parse_to_their_network() {
        for (text, shown) in [
            ("203.0.113.7/24", "203.0.113.0/24"),
            ("203.0.113.7", "203.0.113.7/32"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("2001:db8::1/32", "2001:db8::/32"),
            ("::1", "::1/128"),
        ] {
            assert_eq!(IpPrefix::parse(text).map(|p| p.to_string()), Ok(shown.into()), "{text}");
        }
    }

    #[test]
    fn bad_prefixes_say_why() {
        for (text, why) in [
            ("203.0.113.0/33", "an IPv4 prefix length is 0 to 32"),
            ("2001:db8::/129", "an IPv6 prefix length is 0 to 128"),
            ("203.0.113.0/+8", "an IPv4 prefix length is 0 to 32"),
            ("203.0.113.0/", "an IPv4 prefix length is 0 to 32"),
            ("example.com/8", "not an IP address or CIDR prefix"),
            ("203.0.113", "not an IP address or CIDR prefix"),
        ] {
            assert_eq!(IpPrefix::parse(text), Err(why), "{text}");
        }
    }

    #[test]
    fn containment_stays_within_one_family() {
        let net = IpPrefix::parse("192.168.0.0/16").unwrap();
        assert!(net.contains(ip("192.168.200.1")));
        assert!(!net.contains(ip("192.169.0.1")));
        assert!(!net.contains(ip("::ffff:192.168.200.1")));
        assert!(IpPrefix::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(!IpPrefix::parse("0.0.0.0/0").unwrap().contains(ip("::1")));
        assert!(IpPrefix::parse("2001:db8::/32").unwrap().contains(ip("2001:db8:ffff::9")));
    }

    #[test]
    fn octets_are_4_or_16() {
        assert_eq!(from_octets(&[203, 0, 113, 7]), Some(ip("203.0.113.7")));
        assert_eq!(from_octets(&[0; 16]), Some(ip("::")));
        assert_eq!(from_octets(&[1, 2, 3]), None);
    }
}
