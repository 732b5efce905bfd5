//! The `Received:` trace header (RFC 5321 §4.4) put on top of every accepted message.

use super::session::TlsInfo;
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// What the header records.
pub(crate) struct Trace<'a> {
    pub helo: &'a str,
    /// Whether the client used EHLO (ESMTP) or HELO (SMTP).
    pub extended: bool,
    pub client_ip: IpAddr,
    /// Reverse DNS name of the client, when known.
    pub client_name: Option<&'a str>,
    pub hostname: &'a str,
    pub tls: Option<&'a TlsInfo>,
    pub smtputf8: bool,
    /// Named only when the message has exactly one recipient (as Postfix does), so a
    /// header does not disclose the other recipients.
    pub recipient: Option<&'a str>,
    pub date: DateTime<Utc>,
}

/// The header, folded, ending in CRLF. The queue id is not included: it is assigned by
/// the database only when the message is committed, after this header is part of it.
pub(crate) fn header(t: &Trace<'_>) -> String {
    // RFC 3848 / RFC 6531 protocol names.
    let protocol = match (t.smtputf8, t.extended, t.tls.is_some()) {
        (true, _, true) => "UTF8SMTPS",
        (true, _, false) => "UTF8SMTP",
        (false, _, true) => "ESMTPS",
        (false, true, false) => "ESMTP",
        (false, false, false) => "SMTP",
    };
    let mut h = format!(
        "Received: from {} ({} [{}])\r\n",
        t.helo,
        t.client_name.unwrap_or("unknown"),
        t.client_ip
    );
    if let Some(tls) = t.tls {
        h.push_str(&format!(
            "\t(using {} with cipher {})\r\n",
            tls.protocol, tls.cipher
        ));
    }
    h.push_str(&format!("\tby {} (mxspool) with {protocol}", t.hostname));
    if let Some(rcpt) = t.recipient {
        h.push_str(&format!("\r\n\tfor <{rcpt}>"));
    }
    h.push_str(&format!("; {}\r\n", t.date.to_rfc2822()));
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn header_names_client_server_protocol_and_recipient() {
        let date = Utc
            .with_ymd_and_hms(2026, 11, 28, 10, 0, 0)
            .single()
            .unwrap_or_default();
        let tls = TlsInfo {
            protocol: "TLSv1.3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
        };
        let h = header(&Trace {
            helo: "client.example",
            extended: true,
            client_ip: IpAddr::from([192, 0, 2, 1]),
            client_name: None,
            hostname: "mx.example",
            tls: Some(&tls),
            smtputf8: false,
            recipient: Some("user@relay.example"),
            date,
        });
        assert_eq!(
            h,
            "Received: from client.example (unknown [192.0.2.1])\r\n\
             \t(using TLSv1.3 with cipher TLS13_AES_256_GCM_SHA384)\r\n\
             \tby mx.example (mxspool) with ESMTPS\r\n\
             \tfor <user@relay.example>; Sat, 28 Nov 2026 10:00:00 +0000\r\n"
        );
    }
}
