//! Configuration: defaults, then an optional TOML file (`--config`), then environment variables,
//! then command-line flags, each overriding the one before. A bad value stops start-up with a
//! message naming where it came from (`MXSPOOL_HTTP_ADDR`, `--http-addr`, or `http_addr in
//! mxspool.toml`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The settings every subcommand reads.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: run the embedded PostgreSQL under `data_dir`.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub http_addr: SocketAddr,
    pub smtp_addr: SocketAddr,
    /// The backup MX host name: SMTP banner and the MX record customers publish.
    pub hostname: String,
    /// `None`: generated once and kept in the database.
    pub jwt_secret: Option<String>,
    pub admin_email: String,
    /// Bearer token for `GET /metrics`; `None`: the endpoint answers 404.
    pub metrics_token: Option<String>,
    /// `None`: generated on first start and printed once.
    pub admin_password: Option<String>,
    pub allow_private_targets: bool,
    pub db_pool_size: u32,
    pub http_workers: usize,
    pub log_json: bool,
    /// STARTTLS certificate and key (PEM); `None`: self-signed at start.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Deliver DSNs (`send`) or only log them (`log`).
    pub bounces_log_only: bool,
    /// Nameservers for MX lookups; `None`: the system resolver.
    pub dns_servers: Option<Vec<SocketAddr>>,
    /// The relay's outgoing addresses for the whitelist report; empty: the addresses of
    /// `hostname`.
    pub egress_ips: Vec<std::net::IpAddr>,
    /// Port for deliveries to MX hosts (DSNs); 25 but in tests.
    pub mx_port: u16,
    pub relay_workers: usize,
    pub lease_seconds: u64,
    /// Retry schedule in seconds; `None`: DESIGN.md's default.
    pub retry_schedule: Option<Vec<u64>>,
    pub probe_interval_seconds: f64,
    pub probe_max_seconds: f64,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
}

/// Values given on the command line; `None` when the flag was not used.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Flags {
    /// TOML configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// PostgreSQL URL; without one mxspool runs its own PostgreSQL under --data-dir.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Where the embedded PostgreSQL keeps its data.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Address of the HTTP API.
    #[arg(long, global = true, value_name = "ADDR")]
    pub http_addr: Option<String>,
    /// Address of the SMTP listener.
    #[arg(long, global = true, value_name = "ADDR")]
    pub smtp_addr: Option<String>,
    /// The backup MX host name.
    #[arg(long, global = true, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Accept loopback and private target hosts (labs and tests).
    #[arg(long, global = true, value_name = "BOOL")]
    pub allow_private_targets: Option<String>,
}

/// Every setting, by its file key. The environment variable is `MXSPOOL_` plus the key in
/// upper case (`DATABASE_URL` for `database_url`); a flag, where there is one, is `--` plus the
/// key with dashes.
const KEYS: &[&str] = &[
    "database_url",
    "data_dir",
    "http_addr",
    "smtp_addr",
    "hostname",
    "jwt_secret",
    "admin_email",
    "admin_password",
    "metrics_token",
    "allow_private_targets",
    "db_pool_size",
    "http_workers",
    "log_format",
    "tls_cert",
    "tls_key",
    "bounces",
    "dns_servers",
    "egress_ips",
    "mx_port",
    "relay_workers",
    "lease_seconds",
    "retry_schedule",
    "probe_interval_seconds",
    "probe_max_seconds",
    "max_connections",
    "max_connections_per_ip",
];

/// A configuration value that cannot be used; the message names its source.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct ConfigError {
    pub source_name: String,
    pub message: String,
}

impl ConfigError {
    fn new(source_name: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            source_name: source_name.into(),
            message: message.into(),
        }
    }
}

/// One setting's raw value and where it came from.
struct Raw {
    value: String,
    source: String,
}

impl Raw {
    fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.source.clone(), message)
    }
}

/// Looks settings up in flag, environment, file order, and parses them naming the source.
struct Layers<'a> {
    flags: Vec<(&'static str, String)>,
    file: toml::Table,
    file_name: String,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Layers<'_> {
    fn env_name(key: &str) -> String {
        match key {
            "database_url" => "DATABASE_URL".to_owned(),
            _ => format!("MXSPOOL_{}", key.to_ascii_uppercase()),
        }
    }

    fn raw(&self, key: &str) -> Option<Raw> {
        if let Some((_, v)) = self.flags.iter().find(|(k, _)| *k == key) {
            return Some(Raw {
                value: v.clone(),
                source: format!("--{}", key.replace('_', "-")),
            });
        }
        let env = Self::env_name(key);
        if let Some(v) = (self.env)(&env).filter(|v| !v.is_empty()) {
            return Some(Raw {
                value: v,
                source: env,
            });
        }
        self.file.get(key).map(|v| Raw {
            value: match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            source: format!("{key} in {}", self.file_name),
        })
    }

    fn string(&self, key: &str) -> Option<String> {
        self.raw(key).map(|r| r.value)
    }

    /// The setting run through `parse`, whose error message is prefixed with the source.
    fn with<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        self.raw(key)
            .map(|raw| parse(raw.value.trim()).map_err(|m| raw.error(m)))
            .transpose()
    }

    /// A number (or other `FromStr`) within `range`.
    fn ranged<T>(
        &self,
        key: &str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + std::fmt::Display,
    {
        let value = self.with(key, |v| {
            v.parse::<T>()
                .map_err(|_| format!("{v:?} is not a number"))
                .and_then(|n| {
                    if range.contains(&n) {
                        Ok(n)
                    } else {
                        Err(format!(
                            "must be between {} and {}",
                            range.start(),
                            range.end()
                        ))
                    }
                })
        })?;
        Ok(value.unwrap_or(default))
    }

    fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        self.choice(
            key,
            false,
            &[
                ("true", true),
                ("false", false),
                ("1", true),
                ("0", false),
                ("yes", true),
                ("no", false),
                ("on", true),
                ("off", false),
            ],
        )
    }

    /// One of a few words.
    fn choice<T: Copy>(
        &self,
        key: &str,
        default: T,
        options: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        let value = self.with(key, |v| {
            let lower = v.to_ascii_lowercase();
            options
                .iter()
                .find(|(word, _)| *word == lower)
                .map(|(_, t)| *t)
                .ok_or_else(|| {
                    let words: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
                    format!("{v:?} is not one of: {}", words.join(", "))
                })
        })?;
        Ok(value.unwrap_or(default))
    }

    fn addr(&self, key: &str, default: SocketAddr) -> Result<SocketAddr, ConfigError> {
        let value = self.with(key, |v| {
            v.parse().map_err(|_| {
                format!("{v:?} is not an address (use ip:port, e.g. 127.0.0.1:8080 or [::]:25)")
            })
        })?;
        Ok(value.unwrap_or(default))
    }
}

/// This machine's host name, the default backup MX name.
fn system_hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn parse_hostname(v: &str) -> Result<String, String> {
    let name = v.trim_end_matches('.').to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if valid {
        Ok(name)
    } else {
        Err(format!(
            "{v:?} is not a host name (e.g. backup-mx.example.net)"
        ))
    }
}

fn parse_email(v: &str) -> Result<String, String> {
    let v = v.to_lowercase();
    match v.split_once('@') {
        Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@') => Ok(v),
        _ => Err(format!("{v:?} is not an e-mail address")),
    }
}

fn at_least(chars: usize) -> impl Fn(&str) -> Result<String, String> {
    move |v| {
        if v.chars().count() < chars {
            Err(format!("use at least {chars} characters"))
        } else {
            Ok(v.to_owned())
        }
    }
}

fn parse_nameservers(v: &str) -> Result<Vec<SocketAddr>, String> {
    v.split(',')
        .map(|s| {
            let s = s.trim();
            s.parse::<SocketAddr>()
                .or_else(|_| {
                    s.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .map_err(|_| format!("{s:?} is not a nameserver address (ip or ip:port)"))
        })
        .collect()
}

fn parse_ips(v: &str) -> Result<Vec<std::net::IpAddr>, String> {
    let mut ips = Vec::new();
    for s in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let ip = s
            .parse::<std::net::IpAddr>()
            .map_err(|_| format!("{s:?} is not an IP address"))?;
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    Ok(ips)
}

fn parse_schedule(v: &str) -> Result<Vec<u64>, String> {
    v.split(',')
        .map(|s| {
            parse_duration(s.trim())
                .ok_or_else(|| format!("{s:?} is not a duration (e.g. 30s, 5m, 2h)"))
        })
        .collect()
}

impl Config {
    /// Reads the process environment and the flags.
    pub fn load(flags: &Flags) -> Result<Config, ConfigError> {
        Self::load_with(flags, &|name| std::env::var(name).ok())
    }

    /// Like [`load`](Self::load) with an explicit environment, for tests.
    pub fn load_with(
        flags: &Flags,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let config_path = flags.config.clone().or_else(|| {
            env("MXSPOOL_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let (file, file_name) = match &config_path {
            Some(path) => (read_file(path)?, path.display().to_string()),
            None => (toml::Table::new(), String::new()),
        };
        let given = [
            ("database_url", &flags.database_url),
            ("data_dir", &flags.data_dir),
            ("http_addr", &flags.http_addr),
            ("smtp_addr", &flags.smtp_addr),
            ("hostname", &flags.hostname),
            ("allow_private_targets", &flags.allow_private_targets),
        ];
        let layers = Layers {
            flags: given
                .into_iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
                .collect(),
            file,
            file_name,
            env,
        };
        let default_addr = |s: &str| {
            s.parse::<SocketAddr>()
                .map_err(|e| ConfigError::new("default", e.to_string()))
        };
        let tls_cert = layers.string("tls_cert").map(PathBuf::from);
        let tls_key = layers.string("tls_key").map(PathBuf::from);
        if tls_cert.is_some() != tls_key.is_some() {
            return Err(ConfigError::new(
                "MXSPOOL_TLS_CERT / MXSPOOL_TLS_KEY",
                "set both the certificate and the key, or neither",
            ));
        }
        let probe_interval_seconds = layers.ranged("probe_interval_seconds", 5.0, 0.05..=3600.0)?;
        let probe_max_seconds = layers.ranged("probe_max_seconds", 60.0, 0.05..=3600.0)?;
        if probe_max_seconds < probe_interval_seconds {
            return Err(ConfigError::new(
                "MXSPOOL_PROBE_MAX_SECONDS",
                "must not be below MXSPOOL_PROBE_INTERVAL_SECONDS",
            ));
        }
        Ok(Config {
            database_url: layers.string("database_url"),
            data_dir: PathBuf::from(
                layers
                    .string("data_dir")
                    .unwrap_or_else(|| "mxspool-data".to_owned()),
            ),
            http_addr: layers.addr("http_addr", default_addr("127.0.0.1:8080")?)?,
            smtp_addr: layers.addr("smtp_addr", default_addr("127.0.0.1:2525")?)?,
            hostname: layers
                .with("hostname", parse_hostname)?
                .unwrap_or_else(system_hostname),
            jwt_secret: layers.with("jwt_secret", at_least(32))?,
            admin_email: layers
                .with("admin_email", parse_email)?
                .unwrap_or_else(|| "admin@localhost".to_owned()),
            admin_password: layers.with("admin_password", at_least(12))?,
            metrics_token: layers.with("metrics_token", at_least(16))?,
            allow_private_targets: layers.boolean("allow_private_targets")?,
            db_pool_size: layers.ranged("db_pool_size", 20, 1..=1000)?,
            http_workers: layers.ranged(
                "http_workers",
                std::thread::available_parallelism().map_or(2, |n| n.get()),
                1..=256,
            )?,
            log_json: layers.choice("log_format", false, &[("text", false), ("json", true)])?,
            tls_cert,
            tls_key,
            bounces_log_only: layers.choice("bounces", false, &[("send", false), ("log", true)])?,
            dns_servers: layers.with("dns_servers", parse_nameservers)?,
            egress_ips: layers.with("egress_ips", parse_ips)?.unwrap_or_default(),
            mx_port: layers.ranged("mx_port", 25, 1..=65535)?,
            relay_workers: layers.ranged("relay_workers", 16, 1..=1024)?,
            lease_seconds: layers.ranged("lease_seconds", 60, 1..=3600)?,
            retry_schedule: layers.with("retry_schedule", parse_schedule)?,
            probe_interval_seconds,
            probe_max_seconds,
            max_connections: layers.ranged("max_connections", 1000, 1..=1_000_000)?,
            max_connections_per_ip: layers.ranged("max_connections_per_ip", 50, 1..=1_000_000)?,
        })
    }
}

/// Seconds in "90", "90s", "5m", "2h" or "1d".
fn parse_duration(text: &str) -> Option<u64> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    n.checked_mul(factor).filter(|s| *s > 0)
}

/// Reads the TOML file, refusing keys that are not settings (typos would otherwise be ignored).
fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(format!("--config {name}"), format!("cannot read: {e}")))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| ConfigError::new(name.clone(), e.message().to_owned()))?;
    if let Some(unknown) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(ConfigError::new(
            name,
            format!("unknown setting {unknown:?}; known: {}", KEYS.join(", ")),
        ));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(flags: &Flags, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::load_with(flags, &move |k| env.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = load(&Flags::default(), &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.smtp_addr.to_string(), "127.0.0.1:2525");
        assert_eq!(c.database_url, None);
        assert_eq!(c.data_dir, PathBuf::from("mxspool-data"));
        assert!(!c.allow_private_targets);
    }

    #[test]
    fn flags_override_environment_which_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("mxspool.toml");
        std::fs::write(
            &file,
            "http_addr = \"127.0.0.1:1001\"\nsmtp_addr = \"127.0.0.1:1002\"\nhostname = \"file.example\"\nallow_private_targets = true\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let flags = Flags {
            config: Some(file),
            http_addr: Some("127.0.0.1:3001".to_owned()),
            ..Flags::default()
        };
        let c = load(
            &flags,
            &[
                ("MXSPOOL_HTTP_ADDR", "127.0.0.1:2001"),
                ("MXSPOOL_SMTP_ADDR", "127.0.0.1:2002"),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:3001");
        assert_eq!(c.smtp_addr.to_string(), "127.0.0.1:2002");
        assert_eq!(c.hostname, "file.example");
        assert!(c.allow_private_targets);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let e = load(
            &Flags::default(),
            &[("MXSPOOL_HTTP_ADDR", "not-an-address")],
        )
        .err()
        .unwrap_or_else(|| panic!("accepted a bad address"));
        assert!(e.to_string().starts_with("MXSPOOL_HTTP_ADDR: "), "{e}");
        let e = load(
            &Flags::default(),
            &[("MXSPOOL_ALLOW_PRIVATE_TARGETS", "maybe")],
        )
        .err()
        .unwrap_or_else(|| panic!("accepted a bad boolean"));
        assert!(
            e.to_string().starts_with("MXSPOOL_ALLOW_PRIVATE_TARGETS: "),
            "{e}"
        );
        let e = load(&Flags::default(), &[("MXSPOOL_HOSTNAME", "bad_host!")])
            .err()
            .unwrap_or_else(|| panic!("accepted a bad host name"));
        assert!(e.to_string().starts_with("MXSPOOL_HOSTNAME: "), "{e}");
        let e = load(&Flags::default(), &[("MXSPOOL_JWT_SECRET", "short")])
            .err()
            .unwrap_or_else(|| panic!("accepted a short secret"));
        assert!(e.to_string().starts_with("MXSPOOL_JWT_SECRET: "), "{e}");
    }

    #[test]
    fn relay_settings_parse_and_name_their_variable_when_wrong() {
        let c = load(
            &Flags::default(),
            &[
                ("MXSPOOL_RETRY_SCHEDULE", "1s,2m,1h"),
                ("MXSPOOL_DNS_SERVERS", "127.0.0.1:5353, 127.0.0.2"),
                ("MXSPOOL_BOUNCES", "log"),
                ("MXSPOOL_EGRESS_IPS", "192.0.2.25, 2001:db8::25,192.0.2.25"),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.egress_ips
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>(),
            vec!["192.0.2.25".to_owned(), "2001:db8::25".to_owned()]
        );
        assert_eq!(c.retry_schedule, Some(vec![1, 120, 3600]));
        assert_eq!(
            c.dns_servers
                .map(|v| v.iter().map(|a| a.to_string()).collect::<Vec<_>>()),
            Some(vec!["127.0.0.1:5353".to_owned(), "127.0.0.2:53".to_owned()])
        );
        assert!(c.bounces_log_only);
        for (var, value) in [
            ("MXSPOOL_RETRY_SCHEDULE", "soon"),
            ("MXSPOOL_DNS_SERVERS", "ns1"),
            ("MXSPOOL_EGRESS_IPS", "192.0.2.25, mx.example"),
            ("MXSPOOL_BOUNCES", "maybe"),
            ("MXSPOOL_LEASE_SECONDS", "0"),
            ("MXSPOOL_TLS_CERT", "/tmp/cert.pem"),
        ] {
            let e = load(&Flags::default(), &[(var, value)])
                .err()
                .unwrap_or_else(|| panic!("accepted {var}={value}"));
            assert!(e.to_string().contains(var), "{e}");
        }
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "htp_addr = \"127.0.0.1:1\"\n").unwrap_or_else(|e| panic!("{e}"));
        let flags = Flags {
            config: Some(file),
            ..Flags::default()
        };
        let e = load(&flags, &[])
            .err()
            .unwrap_or_else(|| panic!("accepted an unknown key"));
        assert!(e.to_string().contains("htp_addr"), "{e}");
    }
}
