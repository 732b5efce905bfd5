//! One HTTP request per attempt: URL checks (the private-address rule of target hosts, at
//! creation and again on the addresses the name resolves to when sending, so a name that
//! later resolves to a private address — DNS rebinding — is refused), a pinned connection to
//! the checked addresses, a bounded time, and a truncated response.

use super::signature;
use mxspool_store::names::{check_target_address, normalize_target_host, parse_ip_literal};
use mxspool_store::webhooks::AttemptResult;
use reqwest::Url;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How much of a response body is kept in the delivery log.
pub const RESPONSE_EXCERPT: usize = 1024;

/// Checks a webhook URL as given by a user: absolute `http`/`https`, a host that obeys the
/// target-host rule (no private or loopback addresses or `localhost` unless allowed), no
/// credentials, no fragment, at most 2000 characters. Returns the URL as it will be used.
pub fn validate_url(input: &str, allow_private: bool) -> Result<Url, String> {
    if input.len() > 2000 {
        return Err("must be at most 2000 characters".to_owned());
    }
    let url = Url::parse(input).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials; authenticate with the signature".to_owned());
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment (#…)".to_owned());
    }
    let host = url
        .host_str()
        .ok_or_else(|| "must name a host".to_owned())?;
    normalize_target_host(host, allow_private).map_err(|e| format!("host {host:?}: {e}"))?;
    Ok(url)
}

/// The addresses a request to `url` may connect to: the host's addresses, all of which must
/// pass the private-address rule (one refused address refuses the URL: a name that mixes
/// public and private addresses is a rebinding attempt or a mistake).
async fn allowed_addresses(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let host = url.host_str().ok_or("the URL names no host")?;
    let port = url.port_or_known_default().ok_or("the URL names no port")?;
    let addrs: Vec<SocketAddr> = match parse_ip_literal(host) {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("{host} has no addresses"));
    }
    for addr in &addrs {
        let ip: IpAddr = addr.ip();
        check_target_address(ip, allow_private)
            .map_err(|e| format!("refused to connect to {host} ({ip}): {e}"))?;
    }
    Ok(addrs)
}

/// A request ready to go.
pub struct Outgoing<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub event_type: &'a str,
    pub delivery_id: i64,
    pub body: &'a [u8],
}

/// Sends one attempt and reports what happened; never fails otherwise. 2xx is success;
/// anything else (another status, no answer in `timeout`, a refused address) is a failure.
/// Redirects are not followed (they could lead to a private address).
pub async fn send(out: &Outgoing<'_>, allow_private: bool, timeout: Duration) -> AttemptResult {
    let failure = |error: String| AttemptResult {
        status_code: None,
        response: None,
        error: Some(error),
    };
    let url = match validate_url(out.url, allow_private) {
        Ok(url) => url,
        Err(e) => return failure(format!("URL refused: {e}")),
    };
    let attempt = async {
        let addrs = allowed_addresses(&url, allow_private).await?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .user_agent(concat!("mxspool-webhooks/", env!("CARGO_PKG_VERSION")));
        if let Some(host) = url.host_str().filter(|h| parse_ip_literal(h).is_none()) {
            // Connect only to the addresses just checked, not to a second resolution.
            builder = builder.resolve_to_addrs(host, &addrs);
        }
        let client = builder.build().map_err(|e| format!("HTTP client: {e}"))?;
        let timestamp = chrono::Utc::now().timestamp();
        let mut response = client
            .post(url.clone())
            .header("content-type", "application/json")
            .header("x-mxspool-event", out.event_type)
            .header("x-mxspool-delivery", out.delivery_id.to_string())
            .header(
                "x-mxspool-signature",
                signature::sign(out.secret, timestamp, out.body),
            )
            .body(out.body.to_vec())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        let mut excerpt = Vec::new();
        while excerpt.len() < RESPONSE_EXCERPT {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) => break,
                // The status is what counts; a body cut short is still an answer.
                Err(_) => break,
            }
        }
        excerpt.truncate(RESPONSE_EXCERPT);
        let text = String::from_utf8_lossy(&excerpt).into_owned();
        Ok::<_, String>((status, text))
    };
    // The client's timeout covers the request; this one also bounds resolution.
    match tokio::time::timeout(timeout + Duration::from_secs(1), attempt).await {
        Err(_) => failure(format!("no answer within {} s", timeout.as_secs())),
        Ok(Err(e)) => failure(e),
        Ok(Ok((status, text))) => AttemptResult {
            status_code: Some(i32::from(status.as_u16())),
            response: Some(text),
            error: (!status.is_success()).then(|| format!("HTTP status {}", status.as_u16())),
        },
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        format!("cannot connect: {}", source_chain(e))
    } else {
        format!("request failed: {}", source_chain(e))
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_public_http_without_credentials() {
        assert!(validate_url("https://hooks.example.com/mxspool", false).is_ok());
        assert!(validate_url("http://hooks.example.com:8080/x?y=1", false).is_ok());
        for bad in [
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://[::1]/",
            "http://localhost:8080/",
            "https://hooks.example.com/#frag",
            "/relative",
        ] {
            assert!(validate_url(bad, false).is_err(), "{bad} was accepted");
        }
        assert!(validate_url("http://127.0.0.1:8080/", true).is_ok());
        assert!(validate_url("http://localhost:8080/", true).is_ok());
    }
}
