//! MAIL FROM: starts a transaction. Any sender is accepted (a backup MX receives mail from
//! the whole Internet); what is checked is syntax, the parameters we advertise, and a declared
//! SIZE against the largest limit of any relay domain.

use super::address::{self, Domain, PathError};
use super::reply::Reply;
use super::session::{Session, Transaction};
use std::collections::HashSet;

impl Session {
    pub(crate) fn handle_mail(&mut self, args: &str) -> Reply {
        if self.helo.is_none() {
            return Reply::send_helo_first();
        }
        if self.tx.is_some() {
            return Reply::new(503, "5.5.1", "Error: nested MAIL command");
        }
        let Some(path_text) = strip_keyword(args, "FROM:") else {
            return Reply::syntax("MAIL FROM:<address>");
        };
        let (path, rest) = match address::parse_path(path_text) {
            Ok(parsed) => parsed,
            Err(PathError::TooLong) => {
                return Reply::new(501, "5.1.7", "Bad sender address syntax: address too long")
            }
            Err(PathError::Syntax) => return Reply::new(501, "5.1.7", "Bad sender address syntax"),
        };

        let mut declared_size = None;
        let mut smtputf8 = false;
        let Ok(params) = address::parse_params(rest) else {
            return Reply::new(501, "5.5.4", "Error: bad parameter syntax");
        };
        for param in params {
            match (param.keyword.to_ascii_uppercase().as_str(), param.value) {
                ("SIZE", Some(value)) => match value.parse::<u64>() {
                    Ok(size) if value.bytes().all(|b| b.is_ascii_digit()) => {
                        declared_size = Some(size)
                    }
                    _ => return Reply::new(501, "5.5.4", "Bad message size syntax"),
                },
                ("BODY", Some(value)) => {
                    if !value.eq_ignore_ascii_case("7BIT")
                        && !value.eq_ignore_ascii_case("8BITMIME")
                    {
                        return Reply::new(501, "5.5.4", "Unsupported BODY parameter");
                    }
                }
                ("SMTPUTF8", None) => smtputf8 = true,
                ("SIZE" | "BODY" | "SMTPUTF8", _) => {
                    return Reply::new(501, "5.5.4", format!("Bad {} parameter", param.keyword))
                }
                _ => {
                    return Reply::new(
                        555,
                        "5.5.4",
                        format!("Unsupported option: {}", param.keyword),
                    )
                }
            }
        }

        let sender = match &path.mailbox {
            None => String::new(),
            Some(mailbox) => {
                if !smtputf8 && !mailbox.is_ascii() {
                    return Reply::new(
                        553,
                        "5.6.7",
                        "Must declare SMTPUTF8 to send a UTF-8 address",
                    );
                }
                // The source route of a reverse-path may be ignored (RFC 5321 §4.1.1.2).
                match mailbox.domain {
                    Some(Domain::Name(domain)) => format!("{}@{domain}", mailbox.local),
                    Some(Domain::Literal(literal)) => format!("{}@[{literal}]", mailbox.local),
                    None => {
                        return Reply::new(
                            501,
                            "5.1.7",
                            format!("<{}>: Sender address must contain a domain", path.raw),
                        )
                    }
                }
            }
        };

        if declared_size.is_some_and(|size| size > self.ctx.domains.largest_message_size()) {
            return Reply::size_exceeded();
        }

        self.tx = Some(Transaction {
            sender,
            declared_size,
            smtputf8,
            recipients: Vec::new(),
            seen: HashSet::new(),
            overshoot: 0,
        });
        Reply::new(250, "2.1.0", "Ok")
    }
}

/// `args` without a case-insensitive `keyword` prefix and the spaces after it
/// (`MAIL FROM: <a@b>` is common enough to accept).
pub(crate) fn strip_keyword<'a>(args: &'a str, keyword: &str) -> Option<&'a str> {
    let head = args.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    Some(args[keyword.len()..].trim_start_matches(' '))
}
