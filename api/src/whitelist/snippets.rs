//! Paste-ready allow-list entries for the filters a primary mail server commonly runs.
//!
//! The point (README, step 3): mail the backup MX relays was accepted on the domain's behalf,
//! so the primary should not apply the checks meant for strangers (RBLs, greylisting, SPF,
//! connection limits, firewalls) to it. The snippets exempt the backup MX from those and keep
//! the relay protection: Postfix's and Exim's entries sit after the "no relaying" rule and
//! accept only the primary's own domains.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::net::IpAddr;
use utoipa::ToSchema;

/// One filter's allow-list entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = WhitelistSnippet)]
pub struct Snippet {
    /// Stable identifier: `postfix`, `exim`, `rspamd`, `spamassassin`, `microsoft365`,
    /// `nftables`, `iptables`.
    pub id: String,
    /// Human label, e.g. `Postfix`.
    pub label: String,
    /// Where the text goes and what to run afterwards.
    pub instructions: String,
    /// The configuration (or, for Microsoft 365, the steps) to paste.
    pub text: String,
}

fn snippet(id: &str, label: &str, instructions: &str, text: String) -> Snippet {
    Snippet {
        id: id.to_owned(),
        label: label.to_owned(),
        instructions: instructions.to_owned(),
        text,
    }
}

fn cidr(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(_) => format!("{ip}/32"),
        IpAddr::V6(_) => format!("{ip}/128"),
    }
}

/// The snippets allowing `ips` (the backup MX `hostname`'s egress addresses) to reach the
/// primary on `ports`. Empty when there is no address to allow.
pub fn build(ips: &[IpAddr], hostname: &str, ports: &[u16]) -> Vec<Snippet> {
    if ips.is_empty() {
        return Vec::new();
    }
    let ports: Vec<u16> = if ports.is_empty() {
        vec![25]
    } else {
        ports.to_vec()
    };
    let v4: Vec<&IpAddr> = ips.iter().filter(|ip| ip.is_ipv4()).collect();
    let v6: Vec<&IpAddr> = ips.iter().filter(|ip| ip.is_ipv6()).collect();
    let cidrs: Vec<String> = ips.iter().map(cidr).collect();
    let header = format!("mxspool backup MX {hostname}");
    vec![
        postfix(ips, &header),
        exim(&cidrs, &header),
        rspamd(&cidrs, &header),
        spamassassin(&cidrs, &header),
        microsoft365(&v4, &v6, hostname),
        nftables(&v4, &v6, &ports, &header),
        iptables(&v4, &v6, &ports, &header),
    ]
}

fn postfix(ips: &[IpAddr], header: &str) -> Snippet {
    let mut text = format!("# /etc/postfix/mxspool_backup_mx.cidr ({header})\n");
    for ip in ips {
        let _ = writeln!(text, "{}\tOK", cidr(ip));
    }
    text.push_str(
        "\n# /etc/postfix/main.cf: after reject_unauth_destination, before your RBL, \
         greylisting and SPF checks\n\
         smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, \
         check_client_access cidr:/etc/postfix/mxspool_backup_mx.cidr\n\
         \n# with postscreen, also skip its tests for the backup MX:\n\
         postscreen_access_list = permit_mynetworks, cidr:/etc/postfix/mxspool_backup_mx_postscreen.cidr\n\
         \n# /etc/postfix/mxspool_backup_mx_postscreen.cidr\n",
    );
    for ip in ips {
        let _ = writeln!(text, "{}\tpermit", cidr(ip));
    }
    snippet(
        "postfix",
        "Postfix",
        "Save the cidr table(s) (cidr tables need no postmap). In main.cf, add \
         `check_client_access cidr:/etc/postfix/mxspool_backup_mx.cidr` to your existing \
         smtpd_recipient_restrictions right after reject_unauth_destination and before the \
         checks meant for strangers (reject_rbl_client, greylisting policy services, SPF); \
         never before reject_unauth_destination, which would let the backup MX relay anywhere. \
         Then run `postfix reload`.",
        text,
    )
}

fn exim(cidrs: &[String], header: &str) -> Snippet {
    // `<;` switches the list separator to `;`, so IPv6 colons need no doubling.
    let text = format!(
        "# {header}\n\
         # main configuration section:\n\
         hostlist mxspool_backup_mx = <; {}\n\
         \n\
         # acl_check_rcpt: after the rule that denies relaying, before RBL, greylisting and SPF checks\n  \
         accept  hosts   = +mxspool_backup_mx\n          \
         domains = +local_domains : +relay_to_domains\n",
        cidrs.join(" ; ")
    );
    snippet(
        "exim",
        "Exim",
        "Put the hostlist in the main section of the Exim configuration and the accept \
         statement in acl_check_rcpt after `require verify = recipient` / the relay check and \
         before dnslists, greylisting and SPF conditions; add `!hosts = +mxspool_backup_mx` to \
         connection-rate or dnslists rules in other ACLs. Then reload Exim.",
        text,
    )
}

fn rspamd(cidrs: &[String], header: &str) -> Snippet {
    let list = cidrs
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        "# /etc/rspamd/local.d/settings.conf ({header})\n\
         mxspool_backup_mx {{\n  \
         id = \"mxspool_backup_mx\";\n  \
         priority = high;\n  \
         ip = [{list}];\n  \
         apply {{\n    \
         # IP-based checks judge the backup MX, not the sender: skip them.\n    \
         groups_disabled = [\"rbl\", \"spf\"];\n    \
         symbols_disabled = [\"GREYLIST_CHECK\", \"GREYLIST_SAVE\"];\n  \
         }}\n\
         }}\n"
    );
    snippet(
        "rspamd",
        "rspamd",
        "Add the rule to /etc/rspamd/local.d/settings.conf and run `rspamadm configtest && \
         systemctl reload rspamd`. Content checks still run; to skip every check for the backup \
         MX instead, replace the apply block with `want_spam = yes;`.",
        text,
    )
}

fn spamassassin(cidrs: &[String], header: &str) -> Snippet {
    let list = cidrs.join(" ");
    let text = format!(
        "# /etc/spamassassin/local.cf ({header})\n\
         trusted_networks {list}\n\
         internal_networks {list}\n"
    );
    snippet(
        "spamassassin",
        "SpamAssassin",
        "Add the lines to local.cf (/etc/spamassassin/ or /etc/mail/spamassassin/). As an MX \
         of your domain the backup belongs in internal_networks, so SpamAssassin judges the \
         host that handed the mail to it. Once internal_networks is set explicitly, list your \
         own mail servers there too (and every internal network must also be trusted). Then \
         restart spamd.",
        text,
    )
}

fn microsoft365(v4: &[&IpAddr], v6: &[&IpAddr], hostname: &str) -> Snippet {
    let list = v4.iter().map(|ip| ip.to_string()).collect::<Vec<_>>();
    let mut text = format!(
        "Microsoft 365 / Exchange Online: allow the backup MX {hostname}\n\
         1. Open the Microsoft Defender portal (https://security.microsoft.com): Email & \
         collaboration > Policies & rules > Threat policies > Anti-spam.\n\
         2. Open \"Connection filter policy (Default)\" and choose \"Edit connection filter\".\n\
         3. Under \"Always allow messages from the following IP addresses or address range\" \
         add: {}\n\
         4. Save.\n\
         \nOr in Exchange Online PowerShell:\n\
         Set-HostedConnectionFilterPolicy -Identity Default -IPAllowList @{{Add={}}}\n",
        if list.is_empty() {
            "(no IPv4 address)".to_owned()
        } else {
            list.join(", ")
        },
        list.iter()
            .map(|ip| format!("\"{ip}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    if !v6.is_empty() {
        let _ = write!(
            text,
            "\nThe IP Allow List takes IPv4 addresses only. For {}, create a mail flow rule \
             (Exchange admin center > Mail flow > Rules): apply if \"the sender IP address is \
             in any of these ranges\" {}, do \"set the spam confidence level (SCL) to Bypass \
             spam filtering\".\n",
            v6.iter()
                .map(|ip| ip.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            v6.iter().map(|ip| cidr(ip)).collect::<Vec<_>>().join(", "),
        );
    }
    text.push_str(
        "\nIf mail reaches Microsoft 365 through the backup MX because the MX record points \
         elsewhere first, also enable Enhanced Filtering for Connectors on the inbound connector \
         and list the backup MX's addresses there, so the original sender's address is judged.\n",
    );
    snippet(
        "microsoft365",
        "Microsoft 365 / Exchange Online",
        "Follow the steps in the Microsoft Defender portal, or run the PowerShell line in an \
         Exchange Online PowerShell session (Connect-ExchangeOnline).",
        text,
    )
}

fn nftables(v4: &[&IpAddr], v6: &[&IpAddr], ports: &[u16], header: &str) -> Snippet {
    let ports = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!("# {header}: let it reach the SMTP port\n");
    if !v4.is_empty() {
        let set = v4
            .iter()
            .map(|ip| ip.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            text,
            "nft insert rule inet filter input ip saddr {{ {set} }} tcp dport {{ {ports} }} accept"
        );
    }
    if !v6.is_empty() {
        let set = v6
            .iter()
            .map(|ip| ip.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            text,
            "nft insert rule inet filter input ip6 saddr {{ {set} }} tcp dport {{ {ports} }} accept"
        );
    }
    snippet(
        "nftables",
        "nftables",
        "Run as root on the primary (adapt `inet filter input` to your table and chain); add \
         the rules to /etc/nftables.conf to keep them across reboots.",
        text,
    )
}

fn iptables(v4: &[&IpAddr], v6: &[&IpAddr], ports: &[u16], header: &str) -> Snippet {
    let port_match = match ports {
        [port] => format!("--dport {port}"),
        many => format!(
            "-m multiport --dports {}",
            many.iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
    };
    let mut text = format!("# {header}: let it reach the SMTP port\n");
    for ip in v4 {
        let _ = writeln!(
            text,
            "iptables -I INPUT -p tcp -s {ip} {port_match} -j ACCEPT"
        );
    }
    for ip in v6 {
        let _ = writeln!(
            text,
            "ip6tables -I INPUT -p tcp -s {ip} {port_match} -j ACCEPT"
        );
    }
    snippet(
        "iptables",
        "iptables",
        "Run as root on the primary; save with `iptables-save` / `ip6tables-save` (or your \
         distribution's netfilter-persistent) to keep the rules across reboots.",
        text,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn text_of(snippets: &[Snippet], id: &str) -> String {
        snippets
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }

    #[test]
    fn every_filter_gets_both_families_in_its_own_syntax() {
        let ips: Vec<IpAddr> = vec![
            "192.0.2.25".parse().unwrap(),
            "2001:db8::25".parse().unwrap(),
        ];
        let s = build(&ips, "backup-mx.example.net", &[25]);
        assert_eq!(s.len(), 7);
        assert!(text_of(&s, "postfix").contains("192.0.2.25/32\tOK\n2001:db8::25/128\tOK\n"));
        assert!(text_of(&s, "exim")
            .contains("hostlist mxspool_backup_mx = <; 192.0.2.25/32 ; 2001:db8::25/128"));
        assert!(text_of(&s, "rspamd").contains("ip = [\"192.0.2.25/32\", \"2001:db8::25/128\"];"));
        assert!(
            text_of(&s, "spamassassin").contains("trusted_networks 192.0.2.25/32 2001:db8::25/128")
        );
        let m365 = text_of(&s, "microsoft365");
        assert!(m365.contains("@{Add=\"192.0.2.25\"}"), "{m365}");
        assert!(
            m365.contains("IPv4 addresses only. For 2001:db8::25"),
            "{m365}"
        );
        assert!(
            text_of(&s, "nftables").contains("ip6 saddr { 2001:db8::25 } tcp dport { 25 } accept")
        );
        assert!(text_of(&s, "iptables")
            .contains("ip6tables -I INPUT -p tcp -s 2001:db8::25 --dport 25 -j ACCEPT"));
    }

    #[test]
    fn several_ports_use_sets_and_multiport() {
        let ips: Vec<IpAddr> = vec!["192.0.2.25".parse().unwrap()];
        let s = build(&ips, "mx", &[25, 2525]);
        assert!(text_of(&s, "nftables").contains("tcp dport { 25, 2525 }"));
        assert!(text_of(&s, "iptables").contains("-m multiport --dports 25,2525"));
        assert!(!text_of(&s, "nftables").contains("ip6"));
        assert!(build(&[], "mx", &[25]).is_empty());
    }
}
