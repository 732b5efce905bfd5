//! The whitelist report as plain text (`?format=text`), for a person to read and paste from.

use super::{DomainWhitelist, EgressAddress, Snippet, WhitelistOverview, WhitelistReport};
use std::fmt::Write as _;

fn heading(out: &mut String, title: &str, underline: char) {
    let _ = writeln!(out, "{title}");
    let _ = writeln!(
        out,
        "{}",
        underline.to_string().repeat(title.chars().count())
    );
}

fn egress_section(
    out: &mut String,
    hostname: &str,
    egress: &[EgressAddress],
    problem: Option<&str>,
) {
    let _ = writeln!(out, "Backup MX: {hostname}");
    let _ = writeln!(out);
    heading(out, "Addresses to allow (mxspool sends from these)", '-');
    if egress.is_empty() {
        let _ = writeln!(out, "  (none known)");
    }
    for a in egress {
        let ptr = match &a.ptr {
            Some(name) if a.forward_confirmed => format!("PTR {name} (forward-confirmed)"),
            Some(name) => format!("PTR {name} (NOT forward-confirmed)"),
            None => "no PTR record".to_owned(),
        };
        let _ = writeln!(out, "  {:<39} {ptr}", a.ip);
        if let Some(problem) = &a.dns_problem {
            let _ = writeln!(out, "  {:<39} ! {problem}", "");
        }
    }
    if let Some(problem) = problem {
        let _ = writeln!(out, "  ! {problem}");
    }
    let _ = writeln!(out);
}

fn domain_section(out: &mut String, d: &DomainWhitelist, recent_days: i64) {
    heading(
        out,
        &format!(
            "{}: target {} port {}",
            d.domain, d.target_host, d.target_port
        ),
        '-',
    );
    let _ = writeln!(
        out,
        "Verdicts rest on the last {recent_days} days of delivery attempts and verify probes."
    );
    for a in &d.addresses {
        let _ = writeln!(out, "  {}  {}", a.ip, a.verdict.as_str().to_uppercase());
        let _ = writeln!(out, "    {}", a.reason);
        for e in &a.evidence {
            let code = e.code.map_or("---".to_owned(), |c| c.to_string());
            let stage = e
                .stage
                .as_deref()
                .map(|s| format!(" at {s}"))
                .unwrap_or_default();
            let old = if e.recent { "" } else { " (not recent)" };
            let _ = writeln!(
                out,
                "    {}  {:<8} {code}{stage}{old}  {}",
                e.at.format("%Y-%m-%d %H:%M:%S UTC"),
                e.source.as_str(),
                e.reply
            );
        }
    }
    let _ = writeln!(out);
}

fn snippet_section(out: &mut String, snippets: &[Snippet]) {
    if snippets.is_empty() {
        return;
    }
    heading(out, "Allow-list snippets", '=');
    let _ = writeln!(out);
    for s in snippets {
        heading(out, &s.label, '-');
        let _ = writeln!(out, "{}", s.instructions);
        let _ = writeln!(out);
        out.push_str(&s.text);
        if !s.text.ends_with('\n') {
            out.push('\n');
        }
        let _ = writeln!(out);
    }
}

/// One domain's report.
pub fn report(r: &WhitelistReport) -> String {
    let mut out = String::new();
    heading(
        &mut out,
        &format!("Whitelist report for {}", r.domain.domain),
        '=',
    );
    let _ = writeln!(out, "Generated {}", r.generated_at.to_rfc3339());
    egress_section(
        &mut out,
        &r.backup_mx_hostname,
        &r.egress,
        r.egress_problem.as_deref(),
    );
    domain_section(&mut out, &r.domain, r.recent_days);
    snippet_section(&mut out, &r.snippets);
    out
}

/// A page of the caller's domains.
pub fn overview(r: &WhitelistOverview) -> String {
    let mut out = String::new();
    heading(&mut out, "Whitelist report", '=');
    let _ = writeln!(out, "Generated {}", r.generated_at.to_rfc3339());
    egress_section(
        &mut out,
        &r.backup_mx_hostname,
        &r.egress,
        r.egress_problem.as_deref(),
    );
    if r.items.is_empty() {
        let _ = writeln!(out, "No relay domains.\n");
    }
    for d in &r.items {
        domain_section(&mut out, d, r.recent_days);
    }
    if let Some(cursor) = &r.next_cursor {
        let _ = writeln!(
            out,
            "More domains: repeat the request with cursor={cursor}\n"
        );
    }
    snippet_section(&mut out, &r.snippets);
    out
}
