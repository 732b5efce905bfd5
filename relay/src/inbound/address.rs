//! Strict parsing of the `<path>` and `ESMTP parameters` of MAIL FROM and RCPT TO
//! (RFC 5321 §4.1.2, RFC 6531 for UTF-8).
//!
//! The parser keeps everything the relay check needs to see: whether a source route was
//! given, whether the local part was quoted and what it says once unquoted, and whether the
//! domain is an address literal. (smtp-proto's parser silently drops source routes and quotes,
//! which would hide exactly the tricks an open-relay probe uses.)

use std::borrow::Cow;

/// Longest mailbox accepted (RFC 5321 §4.5.3.1.3: a path is at most 256 octets).
const MAX_MAILBOX: usize = 254;

/// A reverse-path or forward-path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Path<'a> {
    /// The text between `<` and `>`, as given.
    pub raw: &'a str,
    /// `<@a.example,@b.example:user@c.example>`.
    pub source_route: bool,
    /// `None` for the null path `<>`.
    pub mailbox: Option<Mailbox<'a>>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Mailbox<'a> {
    /// The local part as given, quotes included.
    pub local: &'a str,
    /// The local part with quotes and backslash escapes removed.
    pub local_value: Cow<'a, str>,
    pub domain: Option<Domain<'a>>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Domain<'a> {
    Name(&'a str),
    /// `[192.0.2.1]`, `[IPv6:…]`: the text between the brackets.
    Literal(&'a str),
}

impl Mailbox<'_> {
    pub fn is_ascii(&self) -> bool {
        self.local.is_ascii()
            && match self.domain {
                Some(Domain::Name(d)) | Some(Domain::Literal(d)) => d.is_ascii(),
                None => true,
            }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PathError {
    Syntax,
    TooLong,
}

/// Parses `<…>` at the start of `input`; returns the path and the rest of the input (which
/// must be empty or start with a space).
pub(crate) fn parse_path(input: &str) -> Result<(Path<'_>, &str), PathError> {
    let b = input.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    if at(0) != b'<' {
        return Err(PathError::Syntax);
    }
    let mut i = 1;
    if at(i) == b'>' {
        let rest = after_path(input, i + 1)?;
        return Ok((
            Path {
                raw: "",
                source_route: false,
                mailbox: None,
            },
            rest,
        ));
    }

    // A-d-l ":"  (source route)
    let mut source_route = false;
    if at(i) == b'@' {
        source_route = true;
        loop {
            i += 1; // the '@'
            let start = i;
            while is_domain_char(at(i)) {
                i += 1;
            }
            if i == start {
                return Err(PathError::Syntax);
            }
            match at(i) {
                b',' if at(i + 1) == b'@' => i += 1,
                b':' => {
                    i += 1;
                    break;
                }
                _ => return Err(PathError::Syntax),
            }
        }
    }
    let mailbox_start = i;

    // Local-part = Dot-string / Quoted-string
    let local_start = i;
    let local_value: Cow<'_, str> = if at(i) == b'"' {
        i += 1;
        let mut value = String::new();
        loop {
            let c = at(i);
            match c {
                b'\\' => {
                    let next = at(i + 1);
                    if !(0x20..=0x7e).contains(&next) {
                        return Err(PathError::Syntax);
                    }
                    value.push(char::from(next));
                    i += 2;
                }
                b'"' => {
                    i += 1;
                    break;
                }
                0x20..=0x7e => {
                    value.push(char::from(c));
                    i += 1;
                }
                0x80..=0xff => {
                    // A UTF-8 sequence (RFC 6531); copy the whole character.
                    let ch = input[i..].chars().next().ok_or(PathError::Syntax)?;
                    value.push(ch);
                    i += ch.len_utf8();
                }
                _ => return Err(PathError::Syntax),
            }
        }
        Cow::Owned(value)
    } else {
        while is_atext(at(i)) || at(i) == b'.' {
            i += 1;
        }
        if i == local_start {
            return Err(PathError::Syntax);
        }
        Cow::Borrowed(&input[local_start..i])
    };
    let local = &input[local_start..i];

    // "@" ( Domain / address-literal ), or nothing (`<postmaster>`).
    let domain = match at(i) {
        b'@' => {
            i += 1;
            if at(i) == b'[' {
                let start = i + 1;
                i = start;
                while matches!(at(i), 0x21..=0x5a | 0x5e..=0x7e) {
                    i += 1;
                }
                if at(i) != b']' || i == start {
                    return Err(PathError::Syntax);
                }
                let literal = &input[start..i];
                i += 1;
                Some(Domain::Literal(literal))
            } else {
                let start = i;
                while is_domain_char(at(i)) {
                    i += 1;
                }
                if i == start {
                    return Err(PathError::Syntax);
                }
                Some(Domain::Name(&input[start..i]))
            }
        }
        b'>' => None,
        _ => return Err(PathError::Syntax),
    };
    if at(i) != b'>' {
        return Err(PathError::Syntax);
    }
    if i - mailbox_start > MAX_MAILBOX {
        return Err(PathError::TooLong);
    }
    let raw = &input[1..i];
    let rest = after_path(input, i + 1)?;
    Ok((
        Path {
            raw,
            source_route,
            mailbox: Some(Mailbox {
                local,
                local_value,
                domain,
            }),
        },
        rest,
    ))
}

fn after_path(input: &str, i: usize) -> Result<&str, PathError> {
    let rest = input.get(i..).ok_or(PathError::Syntax)?;
    if rest.is_empty() || rest.starts_with(' ') {
        Ok(rest)
    } else {
        Err(PathError::Syntax)
    }
}

/// RFC 5322 atext, plus any UTF-8 byte (RFC 6531 UTF8-non-ascii).
fn is_atext(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&c) || c >= 0x80
}

/// Letters, digits, hyphens and dots, plus underscores (seen in the wild) and UTF-8 (U-labels).
fn is_domain_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_' || c >= 0x80
}

/// One `keyword[=value]` ESMTP parameter.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Param<'a> {
    pub keyword: &'a str,
    pub value: Option<&'a str>,
}

/// Splits the parameters after a path; `Err` on malformed ones.
pub(crate) fn parse_params(rest: &str) -> Result<Vec<Param<'_>>, ()> {
    let mut params = Vec::new();
    for word in rest.split(' ').filter(|w| !w.is_empty()) {
        let (keyword, value) = match word.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (word, None),
        };
        let keyword_ok = keyword
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && keyword
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-');
        let value_ok =
            value.is_none_or(|v| !v.is_empty() && v.bytes().all(|c| c > 0x20 && c != b'='));
        if !keyword_ok || !value_ok {
            return Err(());
        }
        params.push(Param { keyword, value });
    }
    Ok(params)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mailbox(input: &str) -> Mailbox<'_> {
        match parse_path(input) {
            Ok((path, _)) => path.mailbox.unwrap_or_else(|| panic!("null path: {input}")),
            Err(e) => panic!("{input}: {e:?}"),
        }
    }

    #[test]
    fn plain_address_splits_into_local_part_and_domain() {
        let m = mailbox("<User.Name+tag@Relay.Example>");
        assert_eq!(m.local, "User.Name+tag");
        assert_eq!(m.domain, Some(Domain::Name("Relay.Example")));
    }

    #[test]
    fn null_path_has_no_mailbox_and_keeps_the_parameters() {
        let (path, rest) = parse_path("<> SIZE=10").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(path.mailbox, None);
        assert_eq!(rest, " SIZE=10");
    }

    #[test]
    fn source_route_is_reported() {
        let (path, _) = parse_path("<@a.example,@b.example:user@relay.example>")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(path.source_route);
        assert_eq!(path.raw, "@a.example,@b.example:user@relay.example");
        assert_eq!(
            path.mailbox.map(|m| m.domain),
            Some(Some(Domain::Name("relay.example")))
        );
    }

    #[test]
    fn quoted_local_part_is_unquoted_for_inspection() {
        let m = mailbox(r#"<"user@other.example"@relay.example>"#);
        assert_eq!(m.local, r#""user@other.example""#);
        assert_eq!(m.local_value, "user@other.example");
        let m = mailbox(r#"<"us\@er"@relay.example>"#);
        assert_eq!(m.local_value, "us@er");
    }

    #[test]
    fn address_literal_is_recognised() {
        let m = mailbox("<user@[127.0.0.1]>");
        assert_eq!(m.domain, Some(Domain::Literal("127.0.0.1")));
    }

    #[test]
    fn address_without_domain_parses_with_none() {
        let m = mailbox("<postmaster>");
        assert_eq!(m.domain, None);
    }

    #[test]
    fn malformed_paths_are_syntax_errors() {
        for input in [
            "user@relay.example",
            "<user@relay.example",
            "<user@other.example@relay.example>",
            "<@relay.example>",
            "<user@>",
            "<@a.example:>",
            "<us er@relay.example>",
            "<user@relay.example>x",
            "<\"unterminated@relay.example>",
            "<user@[]>",
            "<user@rel\u{1}ay.example>",
        ] {
            assert!(parse_path(input).is_err(), "{input:?} parsed");
        }
    }

    #[test]
    fn overlong_mailbox_is_refused() {
        let input = format!("<{}@relay.example>", "a".repeat(250));
        assert_eq!(parse_path(&input).err(), Some(PathError::TooLong));
    }

    #[test]
    fn utf8_mailbox_parses() {
        let m = mailbox("<jöran@bücher.example>");
        assert!(!m.is_ascii());
        assert_eq!(m.domain, Some(Domain::Name("bücher.example")));
    }

    #[test]
    fn parameters_split_into_keywords_and_values() {
        assert_eq!(
            parse_params(" SIZE=100  BODY=8BITMIME SMTPUTF8"),
            Ok(vec![
                Param {
                    keyword: "SIZE",
                    value: Some("100")
                },
                Param {
                    keyword: "BODY",
                    value: Some("8BITMIME")
                },
                Param {
                    keyword: "SMTPUTF8",
                    value: None
                },
            ])
        );
        assert!(parse_params(" SIZE=").is_err());
        assert!(parse_params(" =x").is_err());
    }
}
