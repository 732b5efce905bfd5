//! Splitting a command line into its verb and argument text.

use super::reply::Reply;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Ehlo,
    Helo,
    Mail,
    Rcpt,
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Help,
    StartTls,
    /// Not offered: AUTH (a backup MX needs none).
    Auth,
    /// Known to SMTP but not implemented here: BDAT (no CHUNKING), EXPN, ETRN, TURN…
    NotImplemented,
    /// HTTP requests sent to the SMTP port (cross-protocol attacks): the session is closed,
    /// as Postfix does with `smtpd_forbidden_commands`.
    Forbidden,
}

/// The verb and the argument text (leading spaces removed). Unknown verbs, lines that are not
/// UTF-8 and arguments with control characters are answered with the returned reply.
pub(crate) fn parse(line: &[u8]) -> Result<(Verb, &str), Reply> {
    let (word, rest) = match line.iter().position(|&b| b == b' ') {
        Some(pos) => (&line[..pos], &line[pos + 1..]),
        None => (line, &[][..]),
    };
    let verb =
        verb(word).ok_or_else(|| Reply::new(500, "5.5.2", "Error: command not recognized"))?;
    if verb == Verb::Forbidden {
        return Ok((verb, ""));
    }
    let args = std::str::from_utf8(rest)
        .map_err(|_| Reply::new(500, "5.5.2", "Error: bad UTF-8 syntax"))?;
    if args.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Reply::new(
            500,
            "5.5.2",
            "Error: control characters are not allowed in commands",
        ));
    }
    Ok((verb, args.trim_start_matches([' ', '\t']).trim_end()))
}

fn verb(word: &[u8]) -> Option<Verb> {
    let mut upper = [0u8; 8];
    if word.is_empty() || word.len() > upper.len() {
        return None;
    }
    for (u, b) in upper.iter_mut().zip(word) {
        *u = b.to_ascii_uppercase();
    }
    Some(match &upper[..word.len()] {
        b"EHLO" => Verb::Ehlo,
        b"HELO" => Verb::Helo,
        b"MAIL" => Verb::Mail,
        b"RCPT" => Verb::Rcpt,
        b"DATA" => Verb::Data,
        b"RSET" => Verb::Rset,
        b"NOOP" => Verb::Noop,
        b"QUIT" => Verb::Quit,
        b"VRFY" => Verb::Vrfy,
        b"HELP" => Verb::Help,
        b"STARTTLS" => Verb::StartTls,
        b"AUTH" => Verb::Auth,
        b"BDAT" | b"EXPN" | b"ETRN" | b"TURN" | b"ATRN" | b"BURL" | b"LHLO" | b"VERB" => {
            Verb::NotImplemented
        }
        b"GET" | b"POST" | b"HEAD" | b"PUT" | b"CONNECT" | b"OPTIONS" => Verb::Forbidden,
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn verbs_are_case_insensitive_and_arguments_trimmed() {
        assert_eq!(
            parse(b"mail FROM:<a@b.example> ").unwrap(),
            (Verb::Mail, "FROM:<a@b.example>")
        );
        assert_eq!(parse(b"StartTLS").unwrap(), (Verb::StartTls, ""));
    }

    #[test]
    fn unknown_verbs_and_control_characters_are_refused() {
        assert_eq!(parse(b"XYZZY").err().map(|r| r.code), Some(500));
        assert_eq!(parse(b"HELO a\0b").err().map(|r| r.code), Some(500));
        assert_eq!(parse(b"HELO a\rb").err().map(|r| r.code), Some(500));
        assert_eq!(parse(b"HELO \xff").err().map(|r| r.code), Some(500));
    }

    #[test]
    fn http_requests_are_recognised() {
        assert_eq!(parse(b"GET / HTTP/1.1").unwrap().0, Verb::Forbidden);
    }
}
