//! SMTP replies: a code, an enhanced status code (RFC 3463) and a sentence.

use std::borrow::Cow;
use std::fmt::Write as _;

/// One reply, possibly multi-line (lines separated by `\n` in `text`).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub code: u16,
    /// Enhanced status code; `None` for the greeting and the answers to EHLO/HELO, which
    /// RFC 2034 leaves without one.
    pub status: Option<&'static str>,
    pub text: Cow<'static, str>,
    /// Whether this reply counts towards the session's error limit.
    pub counts_as_error: bool,
}

impl Reply {
    /// A reply with an enhanced status code; 5xx replies count as client errors.
    pub fn new(code: u16, status: &'static str, text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            code,
            status: Some(status),
            text: text.into(),
            counts_as_error: code >= 500,
        }
    }

    /// A reply without an enhanced status code (greeting, EHLO, HELO).
    pub fn plain(code: u16, text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            code,
            status: None,
            text: text.into(),
            counts_as_error: false,
        }
    }

    /// Makes a temporary refusal count as an error too.
    pub fn counting(mut self) -> Reply {
        self.counts_as_error = true;
        self
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// Appends the reply in wire form.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut lines = self.text.split('\n').peekable();
        let mut text = String::with_capacity(self.text.len() + 16);
        while let Some(line) = lines.next() {
            let sep = if lines.peek().is_some() { '-' } else { ' ' };
            let _ = write!(text, "{}{sep}", self.code);
            if let Some(status) = self.status {
                text.push_str(status);
                text.push(' ');
            }
            text.push_str(line);
            text.push_str("\r\n");
        }
        out.extend_from_slice(text.as_bytes());
    }

    // --- replies used in several places ---

    pub fn ok() -> Reply {
        Reply::new(250, "2.0.0", "Ok")
    }

    pub fn send_helo_first() -> Reply {
        Reply::new(503, "5.5.1", "Error: send HELO/EHLO first")
    }

    pub fn temporary_failure() -> Reply {
        Reply::new(451, "4.3.0", "Temporary failure, try again later")
    }

    pub fn size_exceeded() -> Reply {
        Reply::new(552, "5.3.4", "Message size exceeds fixed limit")
    }

    pub fn line_too_long() -> Reply {
        Reply::new(500, "5.5.2", "Error: line too long")
    }

    pub fn timeout(hostname: &str) -> Reply {
        Reply::new(421, "4.4.2", format!("{hostname} Error: timeout exceeded"))
    }

    pub fn too_many_errors(hostname: &str) -> Reply {
        Reply::new(421, "4.7.0", format!("{hostname} Error: too many errors"))
    }

    pub fn shutting_down(hostname: &str) -> Reply {
        Reply::new(
            421,
            "4.3.2",
            format!("{hostname} Service shutting down, try again later"),
        )
    }

    pub fn syntax(usage: &'static str) -> Reply {
        Reply::new(501, "5.5.4", format!("Syntax: {usage}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(reply: &Reply) -> String {
        let mut out = Vec::new();
        reply.write_to(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn single_line_reply_carries_the_enhanced_code() {
        assert_eq!(
            wire(&Reply::new(550, "5.7.1", "<a@b>: Relay access denied")),
            "550 5.7.1 <a@b>: Relay access denied\r\n"
        );
    }

    #[test]
    fn multi_line_reply_uses_dashes_until_the_last_line() {
        assert_eq!(
            wire(&Reply::plain(250, "mx.example\nPIPELINING\nSMTPUTF8")),
            "250-mx.example\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n"
        );
    }
}
