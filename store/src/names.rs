//! Normalisation and validation of DNS names and mail target hosts.
//!
//! Relay domains are stored, compared and matched in one canonical spelling
//! (lower-case A-labels without a trailing dot), so the REST API and the SMTP
//! relay must run every name through the same functions here; otherwise
//! `Example.COM.` and `example.com` would be different domains.
//!
//! Target hosts are where the relay connects to deliver mail. Anything the
//! operating system would accept as an IP address (including the historical
//! `inet_aton` spellings such as `0177.1` or `2130706433`) is recognised as an
//! address and judged as one, so that private or loopback targets cannot be
//! smuggled past the checks in an unusual spelling.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest normalised name in octets, without the trailing dot (RFC 1035 §2.3.4, RFC 2181 §11).
const MAX_NAME_LEN: usize = 253;

/// Longest label in octets (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// Inputs longer than this are refused before any IDNA processing, to bound the work done
/// on hostile input. UTS-46 mapping can drop characters (e.g. soft hyphens), so the raw input
/// may legitimately be somewhat longer than the 253-octet result, but not by this much.
const MAX_INPUT_LEN: usize = 1024;

/// Why a name was refused; Display gives a sentence fit for an API error message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing was given (or only the root dot).
    #[error("name is empty")]
    Empty,
    /// The input starts or ends with whitespace; it is refused rather than trimmed so that
    /// stored values are exactly what the client sent.
    #[error("name may not start or end with whitespace")]
    Whitespace,
    /// The name (or the raw input) is longer than 253 octets.
    #[error("name is {length} octets long; at most 253 are allowed")]
    TooLong {
        /// Length in octets of what was measured.
        length: usize,
    },
    /// One label is longer than 63 octets (after conversion to A-labels).
    #[error("label {label:?} is longer than 63 octets")]
    LabelTooLong {
        /// The offending label.
        label: String,
    },
    /// Two dots in a row, or a leading dot, or more than one trailing dot.
    #[error("name contains an empty label (two dots in a row, or a leading dot)")]
    EmptyLabel,
    /// A label contains something other than letters, digits and hyphens (underscores included).
    #[error("label {label:?} may only contain letters, digits and hyphens")]
    InvalidCharacter {
        /// The offending label.
        label: String,
    },
    /// A label starts or ends with a hyphen.
    #[error("label {label:?} may not start or end with a hyphen")]
    HyphenAtLabelEdge {
        /// The offending label.
        label: String,
    },
    /// Only one label, like `com` or `mail`.
    #[error("name must have at least two labels, like \"example.com\"")]
    SingleLabel,
    /// The last label is numeric (`example.123`, `example.0x1f`), which resolvers may treat as an
    /// IP address and which no top-level domain is.
    #[error("the last label may not be numeric")]
    NumericTld,
    /// An IP address was given where a domain name is required.
    #[error("an IP address is not allowed here; a domain name is required")]
    IpLiteralNotAllowed,
    /// The name was refused by IDNA (UTS-46) processing: bad punycode, disallowed code points,
    /// invalid joiners or bidi rules.
    #[error("name is not a valid internationalised domain name")]
    InvalidIdna,
    /// The input looks like an IP address (brackets, colons, or only numeric labels) but is not a
    /// valid one in any spelling.
    #[error("name looks like an IP address but is not a valid one")]
    InvalidIpLiteral,
    /// A port number was appended (`host:25`); the port is configured separately.
    #[error("a port number may not be given here")]
    PortNotAllowed,
    /// The address (or `localhost` name) is not globally routable and private targets are not
    /// enabled.
    #[error(
        "{addr} is {} {kind} address; set MXSPOOL_ALLOW_PRIVATE_TARGETS=true to allow private targets",
        article(.kind)
    )]
    PrivateAddress {
        /// Canonical spelling of the refused address or name.
        addr: String,
        /// What kind of address it is, e.g. "loopback", "private", "link-local".
        kind: &'static str,
    },
    /// The address can never receive mail (unspecified, "this network", broadcast, multicast),
    /// whatever MXSPOOL_ALLOW_PRIVATE_TARGETS says.
    #[error("{addr} is {} {kind} address and cannot receive mail", article(.kind))]
    UndeliverableAddress {
        /// Canonical spelling of the refused address.
        addr: String,
        /// What kind of address it is, e.g. "unspecified", "multicast".
        kind: &'static str,
    },
    /// An IPv6 address carries a zone id (`fe80::1%eth0`), which only means something on one host.
    #[error("zone ids such as \"%eth0\" are not allowed in IPv6 addresses")]
    ZoneIdNotAllowed,
}

/// The indefinite article for an address kind in an error message.
fn article(kind: &str) -> &'static str {
    // "unique" is the one vowel-initial kind pronounced with a consonant sound.
    if kind.starts_with("uni") {
        return "a";
    }
    match kind.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    }
}

/// Normalise a relay domain name: surrounding whitespace is refused (not trimmed), lower-case,
/// IDNA (UTS-46, to A-labels / punycode, e.g. "Bücher.Example" -> "xn--bcher-kva.example"),
/// strip ONE trailing dot; then validate: total length <= 253, each label 1..=63 octets,
/// letters/digits/hyphen only (after IDNA), no label starting or ending with '-',
/// at least two labels, last label not all-numeric, and not an IP address literal.
/// Underscores are refused. Empty string refused.
///
/// A last label that is a hexadecimal number (`0x1f`) counts as numeric too, as it does for
/// `inet_aton` and URL parsers. Inputs longer than 1024 octets are refused as too long before
/// IDNA processing. The result is idempotent: normalising it again returns it unchanged.
pub fn normalize_domain(input: &str) -> Result<String, NameError> {
    check_raw(input)?;
    if parse_ip_literal(input).is_some() {
        return Err(NameError::IpLiteralNotAllowed);
    }
    if has_port(input) {
        return Err(NameError::PortNotAllowed);
    }
    let name = normalize_labels(input)?;
    let last = last_label(&name);
    if looks_numeric(last) {
        return Err(if parse_ip_literal(&name).is_some() {
            NameError::IpLiteralNotAllowed
        } else {
            NameError::NumericTld
        });
    }
    if !name.contains('.') {
        return Err(NameError::SingleLabel);
    }
    Ok(name)
}

/// Normalise the host part of an email address at SMTP RCPT time: same rules as
/// normalize_domain (so that "Example.COM." and "example.com" compare equal), but it
/// returns None instead of an error. Address literals like "[1.2.3.4]" return None.
pub fn normalize_mail_domain(input: &str) -> Option<String> {
    normalize_domain(input).ok()
}

/// Normalise a target host (the customer's primary mail server): either a hostname
/// (same rules as normalize_domain except single-label names like "mail" are also refused, and
/// "localhost" / anything ending in ".localhost" counts as loopback) or an IP literal.
///
/// IP literals are accepted in every spelling [`parse_ip_literal`] knows and returned in
/// canonical form: IPv4 as a dotted quad, IPv6 as [`Ipv6Addr`]'s Display (no brackets).
/// Names that only become IP addresses after IDNA mapping or trailing-dot removal
/// (fullwidth digits, `127.0.0.1.`) are judged as those addresses. A host whose last label is
/// numeric but that is not a valid IP address in any spelling is refused (`1.2.3.4.5`,
/// `999.1.1.1`), as are IPv6 zone ids and `host:port`.
///
/// When `allow_private` is false, addresses for which [`is_public_address`] is false are refused,
/// as are `localhost` and names ending in `.localhost` (which are then accepted as a single label
/// when `allow_private` is true). Addresses that can never receive mail (unspecified, "this
/// network" 0/8, broadcast, multicast, and IPv6 addresses embedding those) are refused either way.
pub fn normalize_target_host(input: &str, allow_private: bool) -> Result<String, NameError> {
    check_raw(input)?;
    if let Some(ip) = parse_ip_literal(input) {
        return check_ip(ip, allow_private);
    }
    if has_zone_id(input) {
        return Err(NameError::ZoneIdNotAllowed);
    }
    if has_port(input) {
        return Err(NameError::PortNotAllowed);
    }
    if input.starts_with('[') || input.contains(':') {
        return Err(NameError::InvalidIpLiteral);
    }
    let name = normalize_labels(input)?;
    if looks_numeric(last_label(&name)) {
        if let Some(ip) = parse_ip_literal(&name) {
            return check_ip(ip, allow_private);
        }
        return Err(if name.split('.').all(looks_numeric) {
            NameError::InvalidIpLiteral
        } else {
            NameError::NumericTld
        });
    }
    if name == "localhost" || name.ends_with(".localhost") {
        return if allow_private {
            Ok(name)
        } else {
            Err(NameError::PrivateAddress {
                addr: name,
                kind: "loopback",
            })
        };
    }
    if !name.contains('.') {
        return Err(NameError::SingleLabel);
    }
    Ok(name)
}

/// Parse an IP literal in any of the spellings above; None if it is not one.
///
/// Accepted spellings: IPv4 in every form `inet_aton(3)` accepts — one to four parts, each
/// decimal, octal (leading `0`) or hexadecimal (`0x`), with the last part filling the remaining
/// octets (`192.0.2.1`, `3221225985`, `0xC0000201`, `0300.0.02.01`, `192.1`, `192.0.513`);
/// IPv6 as understood by [`Ipv6Addr`]'s parser, including embedded IPv4 (`::ffff:192.0.2.1`);
/// and either of those in brackets (`[192.0.2.1]`, `[2001:db8::1]`), plus the SMTP form
/// `[IPv6:2001:db8::1]` (tag case-insensitive). Surrounding whitespace, trailing dots, zone ids
/// and non-ASCII digits are not accepted.
pub fn parse_ip_literal(input: &str) -> Option<IpAddr> {
    if let Some(inner) = input.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        if let Some(v6) = strip_ipv6_tag(inner) {
            return v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
        }
        return parse_bare_ip(inner);
    }
    parse_bare_ip(input)
}

/// True when mail may be sent to this address without MXSPOOL_ALLOW_PRIVATE_TARGETS
/// (the rules above). The relay will use it on resolved addresses too.
///
/// Refused IPv4: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24 (except the
/// globally reachable 192.0.0.9 and 192.0.0.10), 192.168/16, 198.18/15, 224/4, 240/4 (which
/// includes 255.255.255.255). The documentation ranges 192.0.2/24, 198.51.100/24 and
/// 203.0.113/24 are allowed because tests use them as public examples.
///
/// Refused IPv6: `::`, `::1`, 100::/64 (discard-only), 2001:2::/48 (benchmarking),
/// 64:ff9b:1::/48 (local-use NAT64), fc00::/7, fe80::/10, fec0::/10 (site-local), ff00::/8,
/// and IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96), IPv4-translated
/// (::ffff:0:0:0/96), NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32, client
/// address) addresses whose embedded IPv4 address is refused. 2001:db8::/32 is allowed like the
/// IPv4 documentation ranges.
pub fn is_public_address(ip: IpAddr) -> bool {
    classify(ip).is_none()
}

/// Check an address the relay is about to connect to (a target host or a resolved MX/A/AAAA
/// record): `Ok` when it may be used, the same errors as [`normalize_target_host`] otherwise.
pub fn check_target_address(ip: IpAddr, allow_private: bool) -> Result<(), NameError> {
    check_ip(ip, allow_private).map(|_| ())
}

/// Why an address is not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Not globally routable, but usable when private targets are enabled.
    Private(&'static str),
    /// Never usable as a mail target.
    Undeliverable(&'static str),
}

fn classify(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Refusal> {
    use Refusal::{Private, Undeliverable};
    let [a, b, c, d] = ip.octets();
    match (a, b, c, d) {
        (0, 0, 0, 0) => Some(Undeliverable("unspecified")),
        (0, ..) => Some(Undeliverable("\"this network\"")),
        (255, 255, 255, 255) => Some(Undeliverable("broadcast")),
        (224..=239, ..) => Some(Undeliverable("multicast")),
        (127, ..) => Some(Private("loopback")),
        (10, ..) | (172, 16..=31, ..) | (192, 168, ..) => Some(Private("private")),
        (169, 254, ..) => Some(Private("link-local")),
        (100, 64..=127, ..) => Some(Private("carrier-grade NAT")),
        (198, 18..=19, ..) => Some(Private("benchmarking")),
        (192, 0, 0, 9 | 10) => None,
        (192, 0, 0, _) => Some(Private("special-purpose")),
        (240..=255, ..) => Some(Private("reserved")),
        _ => None,
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Refusal> {
    use Refusal::{Private, Undeliverable};
    if ip.is_unspecified() {
        return Some(Undeliverable("unspecified"));
    }
    if ip.is_loopback() {
        return Some(Private("loopback"));
    }
    if let Some(v4) = embedded_ipv4(ip) {
        return classify_v4(v4);
    }
    let s = ip.segments();
    match s {
        [0xff00..=0xffff, ..] => Some(Undeliverable("multicast")),
        [0xfc00..=0xfdff, ..] => Some(Private("unique local")),
        [0xfe80..=0xfebf, ..] => Some(Private("link-local")),
        [0xfec0..=0xfeff, ..] => Some(Private("site-local")),
        [0x0100, 0, 0, 0, ..] => Some(Private("discard-only")),
        [0x2001, 0x0002, 0, ..] => Some(Private("benchmarking")),
        [0x0064, 0xff9b, 0x0001, ..] => Some(Private("local-use NAT64")),
        _ => None,
    }
}

/// The IPv4 address a packet to `ip` effectively ends up at, for the IPv6 forms that embed one.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let join = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d (:: and ::1 are handled
        // before this is called).
        [0, 0, 0, 0, 0, 0xffff | 0, hi, lo] => Some(join(hi, lo)),
        // IPv4-translated ::ffff:0:a.b.c.d (RFC 2765).
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(join(hi, lo)),
        // Well-known NAT64 prefix 64:ff9b::/96 (RFC 6052).
        [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(join(hi, lo)),
        // 6to4 2002:aabb:ccdd::/48 (RFC 3056).
        [0x2002, hi, lo, ..] => Some(join(hi, lo)),
        // Teredo 2001:0::/32 (RFC 4380): the client address is stored inverted in the last 32 bits.
        [0x2001, 0, _, _, _, _, hi, lo] => Some(join(!hi, !lo)),
        _ => None,
    }
}

/// Canonical spelling of an acceptable target address, or why it is refused.
fn check_ip(ip: IpAddr, allow_private: bool) -> Result<String, NameError> {
    let addr = ip.to_string();
    match classify(ip) {
        None => Ok(addr),
        Some(Refusal::Private(_)) if allow_private => Ok(addr),
        Some(Refusal::Private(kind)) => Err(NameError::PrivateAddress { addr, kind }),
        Some(Refusal::Undeliverable(kind)) => Err(NameError::UndeliverableAddress { addr, kind }),
    }
}

/// Checks on the raw input that come before any interpretation of it.
fn check_raw(input: &str) -> Result<(), NameError> {
    if input.is_empty() {
        return Err(NameError::Empty);
    }
    let edge_is_space = |c: Option<char>| c.is_some_and(char::is_whitespace);
    if edge_is_space(input.chars().next()) || edge_is_space(input.chars().next_back()) {
        return Err(NameError::Whitespace);
    }
    if input.len() > MAX_INPUT_LEN {
        return Err(NameError::TooLong {
            length: input.len(),
        });
    }
    Ok(())
}

/// IDNA-map, lower-case and strip one trailing dot, then check label syntax and total length.
/// Label count and numeric last labels are left to the callers, whose rules differ.
fn normalize_labels(input: &str) -> Result<String, NameError> {
    // Report ASCII punctuation in the label the user wrote, before IDNA turns a Unicode label
    // containing it into an unrecognisable punycode label.
    for label in input.split('.') {
        if label
            .bytes()
            .any(|b| b.is_ascii() && !(b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Err(NameError::InvalidCharacter {
                label: label.to_lowercase(),
            });
        }
    }
    // Non-strict UTS-46: no STD3 deny list, hyphens and DNS length unchecked. Those rules are
    // applied below so that the errors can say which label is wrong.
    let ascii = idna::domain_to_ascii(input).map_err(|_| NameError::InvalidIdna)?;
    let name = match ascii.strip_suffix('.') {
        Some(stripped) => stripped.to_owned(),
        None => ascii,
    };
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    for label in name.split('.') {
        check_label(label)?;
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { length: name.len() });
    }
    Ok(name)
}

/// LDH rule for one A-label.
fn check_label(label: &str) -> Result<(), NameError> {
    if label.is_empty() {
        return Err(NameError::EmptyLabel);
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(NameError::LabelTooLong {
            label: label.to_owned(),
        });
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(NameError::InvalidCharacter {
            label: label.to_owned(),
        });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(NameError::HyphenAtLabelEdge {
            label: label.to_owned(),
        });
    }
    Ok(())
}

fn last_label(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// A label an IPv4 parser would read as a number: decimal digits, or `0x` and hex digits.
fn looks_numeric(label: &str) -> bool {
    match label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"))
    {
        Some(hex) => hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// `inner` without a leading `IPv6:` tag (any case), if it has one.
fn strip_ipv6_tag(inner: &str) -> Option<&str> {
    const TAG: &str = "IPv6:";
    inner
        .get(..TAG.len())
        .filter(|tag| tag.eq_ignore_ascii_case(TAG))
        .and_then(|_| inner.get(TAG.len()..))
}

fn parse_bare_ip(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        parse_inet_aton(s).map(IpAddr::V4)
    }
}

/// IPv4 in every spelling `inet_aton(3)` accepts, without its tolerance of trailing garbage.
fn parse_inet_aton(s: &str) -> Option<Ipv4Addr> {
    let mut parts = [0u32; 4];
    let mut count = 0;
    for part in s.split('.') {
        let slot = parts.get_mut(count)?;
        *slot = parse_inet_aton_part(part)?;
        count += 1;
    }
    let [a, b, c, d] = parts;
    let value = match count {
        1 => a,
        2 if a <= 0xff && b <= 0xff_ffff => (a << 24) | b,
        3 if a <= 0xff && b <= 0xff && c <= 0xffff => (a << 24) | (b << 16) | c,
        4 if a <= 0xff && b <= 0xff && c <= 0xff && d <= 0xff => {
            (a << 24) | (b << 16) | (c << 8) | d
        }
        _ => return None,
    };
    Some(Ipv4Addr::from(value))
}

/// One part of an `inet_aton` address: `0x` hex (possibly with no digits, meaning 0),
/// leading-zero octal, or decimal; None on overflow or stray characters.
fn parse_inet_aton_part(part: &str) -> Option<u32> {
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if let Some(octal) = part.strip_prefix('0') {
            (octal, 8)
        } else if part.is_empty() {
            return None;
        } else {
            (part, 10)
        };
    digits.chars().try_fold(0u32, |value, c| {
        let digit = c.to_digit(radix)?;
        value.checked_mul(radix)?.checked_add(digit)
    })
}

/// True for an IPv6 address with a `%zone` suffix, bare or bracketed.
fn has_zone_id(input: &str) -> bool {
    let inner = input.strip_prefix('[').unwrap_or(input);
    let inner = inner.strip_suffix(']').unwrap_or(inner);
    let inner = strip_ipv6_tag(inner).unwrap_or(inner);
    match inner.split_once('%') {
        Some((addr, _)) => addr.parse::<Ipv6Addr>().is_ok(),
        None => false,
    }
}

/// True for `host:port` or `[literal]:port`, which users paste from other configuration.
fn has_port(input: &str) -> bool {
    let Some((host, port)) = input.rsplit_once(':') else {
        return false;
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || host.is_empty() {
        return false;
    }
    if host.starts_with('[') {
        parse_ip_literal(host).is_some()
    } else {
        !host.contains(':') && !host.contains('[') && !host.contains(']')
    }
}

#[cfg(test)]
// A failed unwrap is a failed test here, which is what it should be.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().unwrap())
    }

    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse().unwrap())
    }

    fn target(s: &str) -> Result<String, NameError> {
        normalize_target_host(s, false)
    }

    fn target_private(s: &str) -> Result<String, NameError> {
        normalize_target_host(s, true)
    }

    fn private(addr: &str, kind: &'static str) -> NameError {
        NameError::PrivateAddress {
            addr: addr.to_owned(),
            kind,
        }
    }

    fn undeliverable(addr: &str, kind: &'static str) -> NameError {
        NameError::UndeliverableAddress {
            addr: addr.to_owned(),
            kind,
        }
    }

    fn label(s: &str) -> String {
        s.to_owned()
    }

    /// A name of exactly `len` octets made of 63-octet labels and a shorter last label.
    fn name_of_length(len: usize) -> String {
        let mut name = String::new();
        while name.len() + 64 < len {
            name.push_str(&"a".repeat(63));
            name.push('.');
        }
        let rest = len - name.len();
        name.push_str(&"b".repeat(rest));
        assert_eq!(name.len(), len);
        name
    }

    // ---- normalize_domain: accepted names ----

    #[test]
    fn plain_domain_is_returned_unchanged() {
        assert_eq!(normalize_domain("example.com").unwrap(), "example.com");
        assert_eq!(
            normalize_domain("mx-1.sub.example.co.uk").unwrap(),
            "mx-1.sub.example.co.uk"
        );
    }

    #[test]
    fn upper_case_is_lowered() {
        assert_eq!(normalize_domain("Example.COM").unwrap(), "example.com");
        assert_eq!(normalize_domain("EXAMPLE.ORG").unwrap(), "example.org");
    }

    #[test]
    fn one_trailing_dot_is_stripped() {
        assert_eq!(normalize_domain("example.com.").unwrap(), "example.com");
        assert_eq!(normalize_domain("Example.COM.").unwrap(), "example.com");
    }

    #[test]
    fn two_trailing_dots_are_refused() {
        assert_eq!(
            normalize_domain("example.com.."),
            Err(NameError::EmptyLabel)
        );
    }

    #[test]
    fn leading_dot_is_refused() {
        assert_eq!(normalize_domain(".example.com"), Err(NameError::EmptyLabel));
    }

    #[test]
    fn consecutive_dots_are_refused() {
        assert_eq!(normalize_domain("example..com"), Err(NameError::EmptyLabel));
    }

    #[test]
    fn lone_dot_is_refused_as_empty() {
        assert_eq!(normalize_domain("."), Err(NameError::Empty));
        assert_eq!(normalize_domain(".."), Err(NameError::EmptyLabel));
    }

    #[test]
    fn numeric_labels_other_than_the_last_are_accepted() {
        assert_eq!(normalize_domain("123.example").unwrap(), "123.example");
        assert_eq!(normalize_domain("1.2.3.example").unwrap(), "1.2.3.example");
        assert_eq!(normalize_domain("example.c0m").unwrap(), "example.c0m");
    }

    #[test]
    fn inner_hyphens_are_accepted() {
        assert_eq!(normalize_domain("a-b.example").unwrap(), "a-b.example");
        assert_eq!(
            normalize_domain("r3---sn.example").unwrap(),
            "r3---sn.example"
        );
    }

    #[test]
    fn normalised_domain_is_idempotent() {
        for input in [
            "Bücher.Example.",
            "EXAMPLE.com",
            "xn--bcher-kva.example",
            "a.b.c.d",
        ] {
            let once = normalize_domain(input).unwrap();
            assert_eq!(normalize_domain(&once).unwrap(), once, "{input}");
        }
    }

    // ---- normalize_domain: IDN ----

    #[test]
    fn unicode_domain_is_converted_to_punycode() {
        assert_eq!(
            normalize_domain("Bücher.Example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            normalize_domain("bücher.example.").unwrap(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn non_latin_domain_is_converted_to_punycode() {
        assert_eq!(
            normalize_domain("例え.テスト").unwrap(),
            "xn--r8jz45g.xn--zckzah"
        );
        assert_eq!(
            normalize_domain("пример.испытание").unwrap(),
            "xn--e1afmkfd.xn--80akhbyknj4f"
        );
    }

    #[test]
    fn punycode_input_is_accepted_and_lowered() {
        assert_eq!(
            normalize_domain("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            normalize_domain("XN--BCHER-KVA.EXAMPLE").unwrap(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn sharp_s_is_kept_nontransitionally() {
        assert_eq!(normalize_domain("faß.de").unwrap(), "xn--fa-hia.de");
    }

    #[test]
    fn fullwidth_letters_and_ideographic_dots_are_mapped() {
        assert_eq!(
            normalize_domain("ｅｘａｍｐｌｅ.com").unwrap(),
            "example.com"
        );
        assert_eq!(
            normalize_domain("example\u{3002}com").unwrap(),
            "example.com"
        );
        assert_eq!(
            normalize_domain("example\u{ff0e}com").unwrap(),
            "example.com"
        );
    }

    #[test]
    fn ideographic_trailing_dot_is_stripped() {
        assert_eq!(
            normalize_domain("example.com\u{3002}").unwrap(),
            "example.com"
        );
    }

    #[test]
    fn soft_hyphen_is_ignored_by_idna() {
        assert_eq!(
            normalize_domain("exam\u{ad}ple.com").unwrap(),
            "example.com"
        );
    }

    #[test]
    fn code_points_ignored_by_uts46_are_dropped() {
        assert_eq!(
            normalize_domain("\u{feff}example.com").unwrap(),
            "example.com"
        );
        assert_eq!(
            normalize_domain("exa\u{200b}mple.com").unwrap(),
            "example.com"
        );
    }

    #[test]
    fn invalid_punycode_is_refused() {
        assert_eq!(normalize_domain("xn--abc.com"), Err(NameError::InvalidIdna));
        assert_eq!(normalize_domain("xn--a.com"), Err(NameError::InvalidIdna));
    }

    #[test]
    fn disallowed_code_points_are_refused() {
        assert_eq!(
            normalize_domain("a\u{80}b.com"),
            Err(NameError::InvalidIdna)
        );
        assert_eq!(
            normalize_domain("a\u{fffd}.com"),
            Err(NameError::InvalidIdna)
        );
        assert_eq!(
            normalize_domain("\u{200d}.com"),
            Err(NameError::InvalidIdna)
        );
    }

    #[test]
    fn non_breaking_space_inside_a_label_is_refused() {
        assert!(matches!(
            normalize_domain("a\u{a0}b.com"),
            Err(NameError::InvalidCharacter { .. })
        ));
    }

    #[test]
    fn idn_label_whose_punycode_exceeds_63_octets_is_refused() {
        let input = format!("{}.example", "ü".repeat(60));
        assert!(matches!(
            normalize_domain(&input),
            Err(NameError::LabelTooLong { .. })
        ));
    }

    // ---- normalize_domain: refused names ----

    #[test]
    fn empty_string_is_refused() {
        assert_eq!(normalize_domain(""), Err(NameError::Empty));
    }

    #[test]
    fn surrounding_whitespace_is_refused_not_trimmed() {
        for input in [
            " example.com",
            "example.com ",
            "\texample.com",
            "example.com\n",
            "example.com\r\n",
            "\u{a0}example.com",
            "example.com\u{3000}",
            " ",
        ] {
            assert_eq!(
                normalize_domain(input),
                Err(NameError::Whitespace),
                "{input:?}"
            );
        }
    }

    #[test]
    fn inner_space_is_refused() {
        assert_eq!(
            normalize_domain("exa mple.com"),
            Err(NameError::InvalidCharacter {
                label: label("exa mple")
            })
        );
    }

    #[test]
    fn underscores_are_refused() {
        assert_eq!(
            normalize_domain("_dmarc.example.com"),
            Err(NameError::InvalidCharacter {
                label: label("_dmarc")
            })
        );
        assert_eq!(
            normalize_domain("mail.ex_ample.com"),
            Err(NameError::InvalidCharacter {
                label: label("ex_ample")
            })
        );
    }

    #[test]
    fn underscore_in_unicode_label_is_reported_as_written() {
        assert_eq!(
            normalize_domain("Bü_cher.de"),
            Err(NameError::InvalidCharacter {
                label: label("bü_cher")
            })
        );
    }

    #[test]
    fn ascii_punctuation_is_refused() {
        for input in [
            "user@example.com",
            "exa%mple.com",
            "exa/mple.com",
            "*.example.com",
            "exa!mple.com",
            "exa+mple.com",
            "exa,mple.com",
            "ex:ample.com",
            "exa\\mple.com",
        ] {
            assert!(
                matches!(
                    normalize_domain(input),
                    Err(NameError::InvalidCharacter { .. })
                ),
                "{input:?}"
            );
        }
    }

    #[test]
    fn control_characters_and_nul_are_refused() {
        for input in [
            "exa\0mple.com",
            "example.com\0",
            "exa\u{7}mple.com",
            "a\nb.com",
            "\u{7f}.com",
        ] {
            assert!(
                matches!(
                    normalize_domain(input),
                    Err(NameError::InvalidCharacter { .. })
                ),
                "{input:?}"
            );
        }
    }

    #[test]
    fn label_starting_with_hyphen_is_refused() {
        assert_eq!(
            normalize_domain("-bad.example"),
            Err(NameError::HyphenAtLabelEdge {
                label: label("-bad")
            })
        );
    }

    #[test]
    fn label_ending_with_hyphen_is_refused() {
        assert_eq!(
            normalize_domain("example.bad-"),
            Err(NameError::HyphenAtLabelEdge {
                label: label("bad-")
            })
        );
        assert_eq!(
            normalize_domain("-.example"),
            Err(NameError::HyphenAtLabelEdge { label: label("-") })
        );
    }

    #[test]
    fn label_of_63_octets_is_accepted() {
        let name = format!("{}.example", "a".repeat(63));
        assert_eq!(normalize_domain(&name).unwrap(), name);
    }

    #[test]
    fn label_of_64_octets_is_refused() {
        let long = "a".repeat(64);
        assert_eq!(
            normalize_domain(&format!("{long}.example")),
            Err(NameError::LabelTooLong { label: long })
        );
    }

    #[test]
    fn name_of_253_octets_is_accepted() {
        let name = name_of_length(253);
        assert_eq!(normalize_domain(&name).unwrap(), name);
    }

    #[test]
    fn name_of_253_octets_with_trailing_dot_is_accepted() {
        let name = name_of_length(253);
        assert_eq!(normalize_domain(&format!("{name}.")).unwrap(), name);
    }

    #[test]
    fn name_of_254_octets_is_refused() {
        let name = name_of_length(254);
        assert_eq!(
            normalize_domain(&name),
            Err(NameError::TooLong { length: 254 })
        );
    }

    #[test]
    fn huge_input_is_refused_without_processing() {
        let huge = "a".repeat(10_000_000);
        assert_eq!(
            normalize_domain(&huge),
            Err(NameError::TooLong { length: 10_000_000 })
        );
        let dots = ".".repeat(100_000);
        assert!(normalize_domain(&dots).is_err());
    }

    #[test]
    fn single_label_is_refused() {
        assert_eq!(normalize_domain("com"), Err(NameError::SingleLabel));
        assert_eq!(normalize_domain("localhost"), Err(NameError::SingleLabel));
        assert_eq!(normalize_domain("com."), Err(NameError::SingleLabel));
    }

    #[test]
    fn numeric_last_label_is_refused() {
        assert_eq!(normalize_domain("example.123"), Err(NameError::NumericTld));
        assert_eq!(normalize_domain("1.2.3.4.5"), Err(NameError::NumericTld));
        assert_eq!(normalize_domain("999.1.1.1"), Err(NameError::NumericTld));
        assert_eq!(normalize_domain("99999999999"), Err(NameError::NumericTld));
    }

    #[test]
    fn hexadecimal_last_label_is_refused() {
        assert_eq!(normalize_domain("example.0x1f"), Err(NameError::NumericTld));
        assert_eq!(normalize_domain("example.0X"), Err(NameError::NumericTld));
    }

    #[test]
    fn ip_literals_are_refused_as_domains() {
        for input in [
            "192.0.2.1",
            "192.0.2.1.",
            "[192.0.2.1]",
            "3221225985",
            "0xC0000201",
            "0300.0.02.01",
            "192.1",
            "192.0.513",
            "2001:db8::1",
            "[2001:db8::1]",
            "[IPv6:2001:db8::1]",
            "::ffff:127.0.0.1",
            "123",
            "１９２.０.２.１",
        ] {
            assert_eq!(
                normalize_domain(input),
                Err(NameError::IpLiteralNotAllowed),
                "{input:?}"
            );
        }
    }

    #[test]
    fn domain_with_port_is_refused() {
        assert_eq!(
            normalize_domain("example.com:25"),
            Err(NameError::PortNotAllowed)
        );
    }

    // ---- normalize_mail_domain ----

    #[test]
    fn mail_domains_differing_in_case_and_trailing_dot_compare_equal() {
        assert_eq!(
            normalize_mail_domain("Example.COM."),
            normalize_mail_domain("example.com")
        );
        assert_eq!(
            normalize_mail_domain("Example.COM.").as_deref(),
            Some("example.com")
        );
    }

    #[test]
    fn unicode_mail_domain_equals_its_punycode() {
        assert_eq!(
            normalize_mail_domain("BÜCHER.example"),
            normalize_mail_domain("xn--bcher-kva.example")
        );
    }

    #[test]
    fn mail_address_literals_return_none() {
        for input in [
            "[1.2.3.4]",
            "[IPv6:2001:db8::1]",
            "[ipv6:::1]",
            "1.2.3.4",
            "[not an address]",
        ] {
            assert_eq!(normalize_mail_domain(input), None, "{input:?}");
        }
    }

    #[test]
    fn invalid_mail_domains_return_none() {
        for input in [
            "",
            " example.com",
            "a..b",
            "com",
            "ex_ample.com",
            "-a.com",
            "a.123",
            "xn--abc.com",
        ] {
            assert_eq!(normalize_mail_domain(input), None, "{input:?}");
        }
    }

    // ---- parse_ip_literal ----

    #[test]
    fn dotted_quad_is_parsed() {
        assert_eq!(parse_ip_literal("192.0.2.1"), Some(v4("192.0.2.1")));
        assert_eq!(parse_ip_literal("0.0.0.0"), Some(v4("0.0.0.0")));
        assert_eq!(
            parse_ip_literal("255.255.255.255"),
            Some(v4("255.255.255.255"))
        );
    }

    #[test]
    fn single_decimal_number_is_parsed_as_ipv4() {
        assert_eq!(parse_ip_literal("3221225985"), Some(v4("192.0.2.1")));
        assert_eq!(parse_ip_literal("0"), Some(v4("0.0.0.0")));
        assert_eq!(parse_ip_literal("4294967295"), Some(v4("255.255.255.255")));
    }

    #[test]
    fn single_hexadecimal_number_is_parsed_as_ipv4() {
        assert_eq!(parse_ip_literal("0xC0000201"), Some(v4("192.0.2.1")));
        assert_eq!(parse_ip_literal("0xc0000201"), Some(v4("192.0.2.1")));
        assert_eq!(parse_ip_literal("0XC0000201"), Some(v4("192.0.2.1")));
        assert_eq!(parse_ip_literal("0x"), Some(v4("0.0.0.0")));
    }

    #[test]
    fn octal_parts_are_parsed() {
        assert_eq!(parse_ip_literal("0300.0.02.01"), Some(v4("192.0.2.1")));
        assert_eq!(parse_ip_literal("0177.0.0.01"), Some(v4("127.0.0.1")));
        assert_eq!(parse_ip_literal("030000001001"), Some(v4("192.0.2.1")));
    }

    #[test]
    fn mixed_radix_parts_are_parsed() {
        assert_eq!(parse_ip_literal("0xc0.0.02.1"), Some(v4("192.0.2.1")));
        assert_eq!(parse_ip_literal("0xC0.0x0.0x2.0x1"), Some(v4("192.0.2.1")));
    }

    #[test]
    fn two_part_form_fills_the_last_24_bits() {
        assert_eq!(parse_ip_literal("192.1"), Some(v4("192.0.0.1")));
        assert_eq!(parse_ip_literal("127.1"), Some(v4("127.0.0.1")));
        assert_eq!(
            parse_ip_literal("192.16777215"),
            Some(v4("192.255.255.255"))
        );
        assert_eq!(parse_ip_literal("192.16777216"), None);
    }

    #[test]
    fn three_part_form_fills_the_last_16_bits() {
        assert_eq!(parse_ip_literal("192.0.513"), Some(v4("192.0.2.1")));
        assert_eq!(parse_ip_literal("192.0.65535"), Some(v4("192.0.255.255")));
        assert_eq!(parse_ip_literal("192.0.65536"), None);
    }

    #[test]
    fn bracketed_ipv4_is_parsed() {
        assert_eq!(parse_ip_literal("[192.0.2.1]"), Some(v4("192.0.2.1")));
        assert_eq!(parse_ip_literal("[3221225985]"), Some(v4("192.0.2.1")));
    }

    #[test]
    fn ipv6_is_parsed_bare_and_bracketed() {
        let expected = Some(v6("2001:db8::1"));
        assert_eq!(parse_ip_literal("2001:db8::1"), expected);
        assert_eq!(parse_ip_literal("2001:DB8:0:0:0:0:0:1"), expected);
        assert_eq!(parse_ip_literal("[2001:db8::1]"), expected);
        assert_eq!(parse_ip_literal("[IPv6:2001:db8::1]"), expected);
        assert_eq!(parse_ip_literal("[ipv6:2001:DB8::1]"), expected);
        assert_eq!(parse_ip_literal("[IPV6:2001:db8::1]"), expected);
    }

    #[test]
    fn ipv6_with_embedded_ipv4_is_parsed() {
        assert_eq!(
            parse_ip_literal("::ffff:127.0.0.1"),
            Some(v6("::ffff:7f00:1"))
        );
        assert_eq!(parse_ip_literal("::127.0.0.1"), Some(v6("::7f00:1")));
    }

    #[test]
    fn invalid_ipv4_spellings_are_not_literals() {
        for input in [
            "256.1.1.1",
            "1.2.3.256",
            "1.2.3.4.5",
            "08.1.1.1",
            "09",
            "1..2.3",
            "1.2.3.",
            ".1.2.3",
            "",
            ".",
            "4294967296",
            "99999999999999999999999999999999",
            "0x100000000",
            "0x1g",
            "+1.2.3.4",
            "-1",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.4\0",
            "１.２.３.４",
            "1.2.3.a",
        ] {
            assert_eq!(parse_ip_literal(input), None, "{input:?}");
        }
    }

    #[test]
    fn invalid_ipv6_spellings_are_not_literals() {
        for input in [
            "fe80::1%eth0",
            "[fe80::1%eth0]",
            "2001:db8:::1",
            "2001:db8::1::2",
            "[2001:db8::1",
            "2001:db8::1]",
            "[[2001:db8::1]]",
            "[IPv6:192.0.2.1]",
            "IPv6:2001:db8::1",
            "[IPv6:]",
            "[]",
            "[",
            "]",
            "::ffff:0127.0.0.1",
            "1:2:3:4:5:6:7:8:9",
            "[2001:db8::1]:25",
        ] {
            assert_eq!(parse_ip_literal(input), None, "{input:?}");
        }
    }

    #[test]
    fn huge_numeric_input_is_not_a_literal() {
        assert_eq!(parse_ip_literal(&"1".repeat(1_000_000)), None);
        assert_eq!(
            parse_ip_literal(&"0".repeat(1_000_000)),
            Some(v4("0.0.0.0"))
        );
        assert_eq!(parse_ip_literal(&":".repeat(1_000_000)), None);
    }

    // ---- normalize_target_host: hostnames ----

    #[test]
    fn target_hostname_is_normalised_like_a_domain() {
        assert_eq!(target("Mail.Example.COM.").unwrap(), "mail.example.com");
        assert_eq!(
            target("mx.Bücher.example").unwrap(),
            "mx.xn--bcher-kva.example"
        );
    }

    #[test]
    fn single_label_target_is_refused() {
        assert_eq!(target("mail"), Err(NameError::SingleLabel));
        assert_eq!(target_private("mail"), Err(NameError::SingleLabel));
    }

    #[test]
    fn target_hostname_with_underscore_is_refused() {
        assert!(matches!(
            target("mail_1.example.com"),
            Err(NameError::InvalidCharacter { .. })
        ));
    }

    #[test]
    fn target_with_numeric_last_label_that_is_no_address_is_refused() {
        assert_eq!(target("1.2.3.4.5"), Err(NameError::InvalidIpLiteral));
        assert_eq!(target("999.1.1.1"), Err(NameError::InvalidIpLiteral));
        assert_eq!(target("1.2.3.0x100"), Err(NameError::InvalidIpLiteral));
        assert_eq!(
            target_private("999.1.1.1"),
            Err(NameError::InvalidIpLiteral)
        );
        assert_eq!(target("mail.123"), Err(NameError::NumericTld));
        assert_eq!(target("mail.0x1f"), Err(NameError::NumericTld));
    }

    #[test]
    fn malformed_bracketed_or_colon_targets_are_refused() {
        for input in [
            "[192.0.2.1",
            "[mail.example.com]",
            "2001:db8:::1",
            "[IPv6:192.0.2.1]",
            "mail:example.com",
        ] {
            assert_eq!(target(input), Err(NameError::InvalidIpLiteral), "{input:?}");
        }
    }

    #[test]
    fn target_with_port_is_refused() {
        for input in [
            "mail.example.com:25",
            "192.0.2.1:25",
            "[2001:db8::1]:25",
            "[192.0.2.1]:2525",
        ] {
            assert_eq!(target(input), Err(NameError::PortNotAllowed), "{input:?}");
        }
    }

    #[test]
    fn target_hostname_named_like_localhost_but_elsewhere_is_accepted() {
        assert_eq!(
            target("localhost.example.com").unwrap(),
            "localhost.example.com"
        );
        assert_eq!(
            target("mylocalhost.example").unwrap(),
            "mylocalhost.example"
        );
    }

    // ---- normalize_target_host: IP spellings and canonical output ----

    #[test]
    fn every_ipv4_spelling_is_returned_as_a_dotted_quad() {
        for input in [
            "192.0.2.1",
            "3221225985",
            "0xC0000201",
            "0300.0.02.01",
            "192.0.513",
            "[192.0.2.1]",
            "192.0.2.1.",
            "１９２.０.２.１",
        ] {
            assert_eq!(target(input).unwrap(), "192.0.2.1", "{input:?}");
        }
        assert_eq!(target("198.1").unwrap(), "198.0.0.1");
        assert_eq!(target_private("192.1").unwrap(), "192.0.0.1");
    }

    #[test]
    fn every_ipv6_spelling_is_returned_in_display_form() {
        for input in [
            "2001:db8::1",
            "2001:DB8:0:0:0:0:0:1",
            "[2001:db8::1]",
            "[IPv6:2001:db8::1]",
            "[ipv6:2001:0db8::0001]",
        ] {
            assert_eq!(target(input).unwrap(), "2001:db8::1", "{input:?}");
        }
    }

    #[test]
    fn public_addresses_are_accepted() {
        assert_eq!(target("8.8.8.8").unwrap(), "8.8.8.8");
        assert_eq!(target("2606:4700::1111").unwrap(), "2606:4700::1111");
        assert_eq!(target("::ffff:8.8.8.8").unwrap(), "::ffff:8.8.8.8");
    }

    #[test]
    fn documentation_ranges_are_accepted_as_public_examples() {
        for input in ["192.0.2.1", "198.51.100.7", "203.0.113.9", "2001:db8::25"] {
            assert!(target(input).is_ok(), "{input}");
        }
    }

    #[test]
    fn zone_ids_are_refused() {
        for input in [
            "fe80::1%eth0",
            "[fe80::1%eth0]",
            "[IPv6:fe80::1%25eth0]",
            "2001:db8::1%1",
        ] {
            assert_eq!(target(input), Err(NameError::ZoneIdNotAllowed), "{input:?}");
            assert_eq!(
                target_private(input),
                Err(NameError::ZoneIdNotAllowed),
                "{input:?}"
            );
        }
    }

    // ---- normalize_target_host: private ranges ----

    #[test]
    fn loopback_is_refused_unless_private_targets_are_allowed() {
        assert_eq!(target("127.0.0.1"), Err(private("127.0.0.1", "loopback")));
        assert_eq!(target_private("127.0.0.1").unwrap(), "127.0.0.1");
        assert_eq!(
            target("127.255.255.254"),
            Err(private("127.255.255.254", "loopback"))
        );
        assert_eq!(target("::1"), Err(private("::1", "loopback")));
        assert_eq!(target_private("[::1]").unwrap(), "::1");
    }

    #[test]
    fn loopback_in_octal_spelling_is_refused() {
        assert_eq!(target("0177.0.0.1"), Err(private("127.0.0.1", "loopback")));
        assert_eq!(target("0177.1"), Err(private("127.0.0.1", "loopback")));
    }

    #[test]
    fn loopback_in_other_ipv4_spellings_is_refused() {
        for input in [
            "2130706433",
            "0x7f000001",
            "0x7F.1",
            "127.1",
            "127.0.1",
            "[127.0.0.1]",
            "127.0.0.1.",
            "１２７.０.０.１",
            "0x7f.0.0.1",
        ] {
            assert_eq!(
                target(input),
                Err(private("127.0.0.1", "loopback")),
                "{input:?}"
            );
            assert_eq!(target_private(input).unwrap(), "127.0.0.1", "{input:?}");
        }
    }

    #[test]
    fn loopback_embedded_in_ipv6_is_refused() {
        for (input, canonical) in [
            ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
            ("::ffff:7f00:1", "::ffff:127.0.0.1"),
            ("[IPv6:::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
            ("::127.0.0.1", "::7f00:1"),
            ("::ffff:0:127.0.0.1", "::ffff:0:7f00:1"),
            ("64:ff9b::127.0.0.1", "64:ff9b::7f00:1"),
            ("2002:7f00:1::1", "2002:7f00:1::1"),
            (
                "2001:0:4136:e378:8000:63bf:80ff:fffe",
                "2001:0:4136:e378:8000:63bf:80ff:fffe",
            ),
        ] {
            assert_eq!(
                target(input),
                Err(private(canonical, "loopback")),
                "{input:?}"
            );
            assert_eq!(target_private(input).unwrap(), canonical, "{input:?}");
        }
    }

    #[test]
    fn private_ranges_embedded_in_ipv6_are_refused() {
        assert_eq!(
            target("::ffff:10.1.2.3"),
            Err(private("::ffff:10.1.2.3", "private"))
        );
        assert_eq!(
            target("64:ff9b::192.168.1.1"),
            Err(private("64:ff9b::c0a8:101", "private"))
        );
        assert_eq!(
            target("2002:a9fe:0101::1"),
            Err(private("2002:a9fe:101::1", "link-local"))
        );
    }

    #[test]
    fn public_addresses_embedded_in_ipv6_are_accepted() {
        assert!(target("64:ff9b::8.8.8.8").is_ok());
        assert!(target("2002:0808:0808::1").is_ok());
        // Teredo client 8.8.8.8, stored inverted.
        assert!(target("2001:0:4136:e378:8000:63bf:f7f7:f7f7").is_ok());
    }

    #[test]
    fn rfc1918_ranges_are_refused() {
        for input in [
            "10.0.0.0",
            "10.255.255.255",
            "172.16.0.0",
            "172.31.255.255",
            "192.168.0.1",
            "192.168.255.255",
        ] {
            assert_eq!(target(input), Err(private(input, "private")), "{input}");
            assert_eq!(target_private(input).unwrap(), input);
        }
    }

    #[test]
    fn addresses_just_outside_private_ranges_are_accepted() {
        for input in [
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "1.0.0.0",
            "192.0.1.255",
            "192.0.0.9",
            "192.0.0.10",
            "192.88.99.1",
        ] {
            assert_eq!(target(input).unwrap(), input, "{input}");
        }
    }

    #[test]
    fn link_local_is_refused() {
        assert_eq!(
            target("169.254.0.1"),
            Err(private("169.254.0.1", "link-local"))
        );
        assert_eq!(
            target("169.254.169.254"),
            Err(private("169.254.169.254", "link-local"))
        );
        assert_eq!(target("fe80::1"), Err(private("fe80::1", "link-local")));
        assert_eq!(target("febf::1"), Err(private("febf::1", "link-local")));
        assert_eq!(target_private("fe80::1").unwrap(), "fe80::1");
    }

    #[test]
    fn shared_address_space_is_refused() {
        assert_eq!(
            target("100.64.0.0"),
            Err(private("100.64.0.0", "carrier-grade NAT"))
        );
        assert_eq!(
            target("100.127.255.255"),
            Err(private("100.127.255.255", "carrier-grade NAT"))
        );
    }

    #[test]
    fn benchmarking_range_is_refused() {
        assert_eq!(
            target("198.18.0.1"),
            Err(private("198.18.0.1", "benchmarking"))
        );
        assert_eq!(
            target("198.19.255.255"),
            Err(private("198.19.255.255", "benchmarking"))
        );
        assert_eq!(
            target("2001:2::1"),
            Err(private("2001:2::1", "benchmarking"))
        );
    }

    #[test]
    fn reserved_range_is_refused_unless_private_targets_are_allowed() {
        assert_eq!(target("240.0.0.1"), Err(private("240.0.0.1", "reserved")));
        assert_eq!(
            target("255.255.255.254"),
            Err(private("255.255.255.254", "reserved"))
        );
        assert_eq!(target_private("240.0.0.1").unwrap(), "240.0.0.1");
    }

    #[test]
    fn ietf_protocol_assignments_are_refused() {
        assert_eq!(
            target("192.0.0.8"),
            Err(private("192.0.0.8", "special-purpose"))
        );
    }

    #[test]
    fn ipv6_non_global_ranges_are_refused() {
        for (input, kind) in [
            ("fc00::1", "unique local"),
            ("fd12:3456:789a::1", "unique local"),
            ("fec0::1", "site-local"),
            ("100::1", "discard-only"),
            ("64:ff9b:1::1", "local-use NAT64"),
        ] {
            assert_eq!(target(input), Err(private(input, kind)), "{input}");
            assert_eq!(target_private(input).unwrap(), input, "{input}");
        }
    }

    #[test]
    fn ipv6_just_outside_unique_local_is_accepted() {
        assert!(target("fbff:ffff::1").is_ok());
        assert!(target("2001:3::1").is_ok());
    }

    #[test]
    fn localhost_names_are_refused_unless_private_targets_are_allowed() {
        for (input, canonical) in [
            ("localhost", "localhost"),
            ("LOCALHOST.", "localhost"),
            ("foo.localhost", "foo.localhost"),
            ("mail.LocalHost.", "mail.localhost"),
            ("ｌｏｃａｌｈｏｓｔ", "localhost"),
        ] {
            assert_eq!(
                target(input),
                Err(private(canonical, "loopback")),
                "{input:?}"
            );
            assert_eq!(target_private(input).unwrap(), canonical, "{input:?}");
        }
    }

    // ---- normalize_target_host: never deliverable ----

    #[test]
    fn unspecified_addresses_are_refused_even_when_private_targets_are_allowed() {
        for (input, canonical) in [
            ("0.0.0.0", "0.0.0.0"),
            ("0", "0.0.0.0"),
            ("0x0", "0.0.0.0"),
            ("00.0", "0.0.0.0"),
            ("[0.0.0.0]", "0.0.0.0"),
            ("::", "::"),
            ("[::]", "::"),
            ("::ffff:0.0.0.0", "::ffff:0.0.0.0"),
        ] {
            let expected = Err(undeliverable(canonical, "unspecified"));
            assert_eq!(target(input), expected, "{input:?}");
            assert_eq!(target_private(input), expected, "{input:?}");
        }
    }

    #[test]
    fn this_network_range_is_refused_even_when_private_targets_are_allowed() {
        let expected = Err(undeliverable("0.1.2.3", "\"this network\""));
        assert_eq!(target("0.1.2.3"), expected);
        assert_eq!(target_private("0.1.2.3"), expected);
    }

    #[test]
    fn broadcast_is_refused_even_when_private_targets_are_allowed() {
        let expected = Err(undeliverable("255.255.255.255", "broadcast"));
        assert_eq!(target("255.255.255.255"), expected);
        assert_eq!(target_private("4294967295"), expected);
    }

    #[test]
    fn multicast_is_refused_even_when_private_targets_are_allowed() {
        for (input, canonical) in [
            ("224.0.0.1", "224.0.0.1"),
            ("239.255.255.255", "239.255.255.255"),
            ("ff02::1", "ff02::1"),
            ("ff0e::101", "ff0e::101"),
            ("::ffff:224.0.0.251", "::ffff:224.0.0.251"),
        ] {
            let expected = Err(undeliverable(canonical, "multicast"));
            assert_eq!(target(input), expected, "{input:?}");
            assert_eq!(target_private(input), expected, "{input:?}");
        }
    }

    // ---- normalize_target_host: garbage ----

    #[test]
    fn garbage_targets_are_refused() {
        for input in [
            "",
            " ",
            "\0",
            "\u{7}",
            "[",
            "]",
            "[]",
            ":",
            "::::",
            "%",
            ".",
            "..",
            "-",
            "http://mail.example.com",
            "mail.example.com/",
            "user@mail.example.com",
        ] {
            assert!(target(input).is_err(), "{input:?}");
            assert!(target_private(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn huge_target_is_refused() {
        assert_eq!(
            target(&"1".repeat(2_000_000)),
            Err(NameError::TooLong { length: 2_000_000 })
        );
        assert_eq!(
            target(&format!("[{}]", ":".repeat(100_000))),
            Err(NameError::TooLong { length: 100_002 })
        );
    }

    // ---- is_public_address / check_target_address ----

    #[test]
    fn public_address_predicate_matches_the_target_rules() {
        for ip in [
            v4("8.8.8.8"),
            v4("192.0.2.1"),
            v4("198.51.100.1"),
            v4("203.0.113.1"),
            v6("2001:db8::1"),
            v6("2606:4700::1111"),
            v6("::ffff:1.1.1.1"),
        ] {
            assert!(is_public_address(ip), "{ip}");
        }
        for ip in [
            v4("127.0.0.1"),
            v4("10.0.0.1"),
            v4("172.16.0.1"),
            v4("192.168.0.1"),
            v4("169.254.0.1"),
            v4("100.64.0.1"),
            v4("0.0.0.0"),
            v4("0.255.255.255"),
            v4("255.255.255.255"),
            v4("224.0.0.1"),
            v4("240.0.0.1"),
            v4("198.18.0.1"),
            v6("::1"),
            v6("::"),
            v6("fc00::1"),
            v6("fe80::1"),
            v6("ff02::1"),
            v6("::ffff:127.0.0.1"),
            v6("::127.0.0.1"),
            v6("64:ff9b::a00:1"),
            v6("2002:c0a8:101::1"),
        ] {
            assert!(!is_public_address(ip), "{ip}");
        }
    }

    #[test]
    fn resolved_addresses_are_checked_like_targets() {
        assert_eq!(check_target_address(v4("8.8.8.8"), false), Ok(()));
        assert_eq!(
            check_target_address(v4("10.0.0.1"), false),
            Err(private("10.0.0.1", "private"))
        );
        assert_eq!(check_target_address(v4("10.0.0.1"), true), Ok(()));
        assert_eq!(
            check_target_address(v6("::"), true),
            Err(undeliverable("::", "unspecified"))
        );
    }

    // ---- messages ----

    #[test]
    fn hyphen_message_names_the_label() {
        let err = normalize_domain("-bad.example").unwrap_err();
        assert_eq!(
            err.to_string(),
            "label \"-bad\" may not start or end with a hyphen"
        );
    }

    #[test]
    fn private_address_message_names_the_setting() {
        let err = target("127.0.0.1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "127.0.0.1 is a loopback address; set MXSPOOL_ALLOW_PRIVATE_TARGETS=true to allow private targets"
        );
    }

    #[test]
    fn messages_use_the_right_article() {
        assert_eq!(
            target("0.0.0.0").unwrap_err().to_string(),
            "0.0.0.0 is an unspecified address and cannot receive mail"
        );
        assert!(target("fc00::1")
            .unwrap_err()
            .to_string()
            .starts_with("fc00::1 is a unique local address;"));
        assert!(target("fe80::1")
            .unwrap_err()
            .to_string()
            .starts_with("fe80::1 is a link-local address;"));
    }

    #[test]
    fn label_in_message_escapes_control_characters() {
        let err = normalize_domain("a\0b.example").unwrap_err();
        assert_eq!(
            err.to_string(),
            "label \"a\\0b\" may only contain letters, digits and hyphens"
        );
    }

    #[test]
    fn every_message_is_a_lower_case_sentence_without_final_period() {
        let errors = [
            NameError::Empty,
            NameError::Whitespace,
            NameError::TooLong { length: 300 },
            NameError::LabelTooLong { label: label("x") },
            NameError::EmptyLabel,
            NameError::InvalidCharacter { label: label("x") },
            NameError::HyphenAtLabelEdge { label: label("x") },
            NameError::SingleLabel,
            NameError::NumericTld,
            NameError::IpLiteralNotAllowed,
            NameError::InvalidIdna,
            NameError::InvalidIpLiteral,
            NameError::PortNotAllowed,
            private("10.0.0.1", "private"),
            undeliverable("::", "unspecified"),
            NameError::ZoneIdNotAllowed,
        ];
        for err in errors {
            let message = err.to_string();
            let first = message.chars().next().unwrap();
            assert!(
                first.is_ascii_lowercase() || first.is_ascii_digit() || first == ':',
                "{message}"
            );
            assert!(!message.ends_with('.'), "{message}");
        }
    }

    // ---- robustness ----

    /// Deterministic xorshift so the garbage test needs no extra dependency and is reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const PIECES: &[&str] = &[
        "a",
        "Z",
        "0",
        "1",
        "9",
        "7f",
        ".",
        ".",
        "-",
        "_",
        ":",
        "::",
        "[",
        "]",
        "%",
        "x",
        "0x",
        "ü",
        "ß",
        "\u{3002}",
        "\u{ad}",
        "\u{200d}",
        "\0",
        " ",
        "\u{a0}",
        "xn--",
        "IPv6:",
        "ff",
        "ffff",
        "１",
        "\u{10ffff}",
        "\u{fffd}",
        "localhost",
        "127",
        "255",
        "256",
        "0177",
        "@",
        "\u{645}",
        "\u{5d0}",
        "\u{300}",
        "ｅ",
    ];

    #[test]
    fn random_garbage_never_panics_and_results_are_stable() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let mut input = String::new();
            for _ in 0..rng.below(12) {
                input.push_str(PIECES[rng.below(PIECES.len())]);
            }
            check_invariants(&input);
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        for _ in 0..20_000 {
            let bytes: Vec<u8> = (0..rng.below(40)).map(|_| rng.next() as u8).collect();
            check_invariants(&String::from_utf8_lossy(&bytes));
        }
    }

    fn check_invariants(input: &str) {
        if let Ok(name) = normalize_domain(input) {
            assert!(name.len() <= MAX_NAME_LEN, "{input:?}");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'.'),
                "{input:?} -> {name:?}"
            );
            assert_eq!(normalize_domain(&name).as_ref(), Ok(&name), "{input:?}");
            assert_eq!(
                normalize_mail_domain(input).as_ref(),
                Some(&name),
                "{input:?}"
            );
        } else {
            assert_eq!(normalize_mail_domain(input), None, "{input:?}");
        }
        for allow_private in [false, true] {
            if let Ok(host) = normalize_target_host(input, allow_private) {
                assert_eq!(
                    normalize_target_host(&host, allow_private).as_ref(),
                    Ok(&host),
                    "{input:?}"
                );
                if let Some(ip) = parse_ip_literal(&host) {
                    assert_eq!(host, ip.to_string(), "{input:?}");
                    if !allow_private {
                        assert!(is_public_address(ip), "{input:?}");
                    }
                }
            }
        }
        if let Some(ip) = parse_ip_literal(input) {
            assert_eq!(parse_ip_literal(&ip.to_string()), Some(ip), "{input:?}");
        }
    }
}
