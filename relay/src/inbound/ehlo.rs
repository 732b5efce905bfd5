//! EHLO and HELO: the client names itself; EHLO lists the extensions.

use super::reply::Reply;
use super::session::{Helo, Session};

/// Longest client name kept (a domain name is at most 255 octets).
const MAX_HELO: usize = 255;

impl Session {
    pub(crate) fn handle_ehlo(&mut self, args: &str, extended: bool) -> Reply {
        if args.is_empty() || args.len() > MAX_HELO {
            return Reply::syntax(if extended {
                "EHLO hostname"
            } else {
                "HELO hostname"
            });
        }
        // EHLO in the middle of a transaction resets it (RFC 5321 §4.1.4).
        self.tx = None;
        self.helo = Some(Helo {
            name: args.to_owned(),
            extended,
        });
        let hostname = self.hostname();
        if !extended {
            return Reply::plain(250, hostname.to_owned());
        }
        let mut text = String::with_capacity(128);
        text.push_str(hostname);
        text.push_str("\nPIPELINING");
        match self.ctx.domains.largest_message_size() {
            // "SIZE 0" would announce that there is no limit.
            0 => text.push_str("\nSIZE"),
            size => text.push_str(&format!("\nSIZE {size}")),
        }
        text.push_str("\n8BITMIME\nENHANCEDSTATUSCODES\nSMTPUTF8");
        if self.tls.is_none() && self.ctx.tls.is_some() {
            text.push_str("\nSTARTTLS");
        }
        Reply::plain(250, text)
    }
}
