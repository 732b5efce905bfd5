//! Configuration: defaults, then an optional TOML file (`--config`), then environment variables,
//! then command-line flags, each overriding the one before. A bad value stops start-up with a
//! message naming where it came from (`MXSPOOL_HTTP_ADDR`, `--http-addr`, or `http_addr in
//! mxspool.toml`).

use serde::Deserialize;
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

/// The TOML file's keys: the environment names without `MXSPOOL_`, in lower case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    data_dir: Option<String>,
    http_addr: Option<String>,
    smtp_addr: Option<String>,
    hostname: Option<String>,
    jwt_secret: Option<String>,
    admin_email: Option<String>,
    admin_password: Option<String>,
    allow_private_targets: Option<toml::Value>,
    db_pool_size: Option<toml::Value>,
    http_workers: Option<toml::Value>,
    log_format: Option<String>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    bounces: Option<String>,
    dns_servers: Option<String>,
    mx_port: Option<toml::Value>,
    relay_workers: Option<toml::Value>,
    lease_seconds: Option<toml::Value>,
    retry_schedule: Option<String>,
    probe_interval_seconds: Option<toml::Value>,
    probe_max_seconds: Option<toml::Value>,
    max_connections: Option<toml::Value>,
    max_connections_per_ip: Option<toml::Value>,
}

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

/// Looks a setting up in flag, environment, file order.
struct Layers<'a> {
    file_name: String,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Layers<'_> {
    fn get(
        &self,
        flag: (&str, Option<&String>),
        env: &str,
        file: (&str, Option<String>),
    ) -> Option<Raw> {
        if let Some(v) = flag.1 {
            return Some(Raw {
                value: v.clone(),
                source: format!("--{}", flag.0),
            });
        }
        if let Some(v) = (self.env)(env).filter(|v| !v.is_empty()) {
            return Some(Raw {
                value: v,
                source: env.to_owned(),
            });
        }
        file.1.map(|v| Raw {
            value: v,
            source: format!("{} in {}", file.0, self.file_name),
        })
    }
}

fn toml_scalar(v: Option<toml::Value>) -> Option<String> {
    v.map(|v| match v {
        toml::Value::String(s) => s,
        other => other.to_string(),
    })
}

fn parse<T: FromStr>(raw: Option<Raw>, default: T, what: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match raw {
        None => Ok(default),
        Some(raw) => raw.value.trim().parse::<T>().map_err(|e| {
            ConfigError::new(raw.source, format!("{:?} is not {what} ({e})", raw.value))
        }),
    }
}

fn parse_bool(raw: Option<Raw>) -> Result<bool, ConfigError> {
    match raw {
        None => Ok(false),
        Some(raw) => match raw.value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError::new(
                raw.source,
                format!("{:?} is not a boolean (use true or false)", raw.value),
            )),
        },
    }
}

fn parse_addr(raw: Option<Raw>, default: &str) -> Result<SocketAddr, ConfigError> {
    match raw {
        None => default
            .parse()
            .map_err(|e| ConfigError::new("default address", format!("{e}"))),
        Some(raw) => raw.value.trim().parse().map_err(|_| {
            ConfigError::new(
                raw.source,
                format!(
                    "{:?} is not an address (use ip:port, e.g. 127.0.0.1:8080 or [::]:25)",
                    raw.value
                ),
            )
        }),
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
            None => (FileConfig::default(), String::new()),
        };
        let FileConfig {
            database_url,
            data_dir,
            http_addr,
            smtp_addr,
            hostname,
            jwt_secret,
            admin_email,
            admin_password,
            allow_private_targets,
            db_pool_size,
            http_workers,
            log_format,
            tls_cert,
            tls_key,
            bounces,
            dns_servers,
            mx_port,
            relay_workers,
            lease_seconds,
            retry_schedule,
            probe_interval_seconds,
            probe_max_seconds,
            max_connections,
            max_connections_per_ip,
        } = file;
        let layers = Layers { file_name, env };
        let none = None;
        let database_url = layers
            .get(
                ("database-url", flags.database_url.as_ref()),
                "DATABASE_URL",
                ("database_url", database_url),
            )
            .map(|r| r.value);
        let data_dir = layers
            .get(
                ("data-dir", flags.data_dir.as_ref()),
                "MXSPOOL_DATA_DIR",
                ("data_dir", data_dir),
            )
            .map_or_else(|| PathBuf::from("mxspool-data"), |r| PathBuf::from(r.value));
        let http_addr = parse_addr(
            layers.get(
                ("http-addr", flags.http_addr.as_ref()),
                "MXSPOOL_HTTP_ADDR",
                ("http_addr", http_addr),
            ),
            "127.0.0.1:8080",
        )?;
        let smtp_addr = parse_addr(
            layers.get(
                ("smtp-addr", flags.smtp_addr.as_ref()),
                "MXSPOOL_SMTP_ADDR",
                ("smtp_addr", smtp_addr),
            ),
            "127.0.0.1:2525",
        )?;
        let hostname = match layers.get(
            ("hostname", flags.hostname.as_ref()),
            "MXSPOOL_HOSTNAME",
            ("hostname", hostname),
        ) {
            None => system_hostname(),
            Some(raw) => {
                let trimmed = raw.value.trim().trim_end_matches('.').to_ascii_lowercase();
                let valid = !trimmed.is_empty()
                    && trimmed.len() <= 253
                    && trimmed.split('.').all(|l| {
                        !l.is_empty()
                            && l.len() <= 63
                            && !l.starts_with('-')
                            && !l.ends_with('-')
                            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    });
                if !valid {
                    return Err(ConfigError::new(
                        raw.source,
                        format!(
                            "{:?} is not a host name (e.g. backup-mx.example.net)",
                            raw.value
                        ),
                    ));
                }
                trimmed
            }
        };
        let jwt_secret = layers
            .get(
                ("jwt-secret", none.as_ref()),
                "MXSPOOL_JWT_SECRET",
                ("jwt_secret", jwt_secret),
            )
            .map(|raw| {
                if raw.value.len() < 32 {
                    Err(ConfigError::new(raw.source, "use at least 32 characters"))
                } else {
                    Ok(raw.value)
                }
            })
            .transpose()?;
        let admin_email = match layers.get(
            ("admin-email", none.as_ref()),
            "MXSPOOL_ADMIN_EMAIL",
            ("admin_email", admin_email),
        ) {
            None => "admin@localhost".to_owned(),
            Some(raw) => {
                let v = raw.value.trim().to_lowercase();
                let ok = v
                    .split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'));
                if !ok {
                    return Err(ConfigError::new(
                        raw.source,
                        format!("{:?} is not an e-mail address", raw.value),
                    ));
                }
                v
            }
        };
        let admin_password = layers
            .get(
                ("admin-password", none.as_ref()),
                "MXSPOOL_ADMIN_PASSWORD",
                ("admin_password", admin_password),
            )
            .map(|raw| {
                if raw.value.chars().count() < 12 {
                    Err(ConfigError::new(raw.source, "use at least 12 characters"))
                } else {
                    Ok(raw.value)
                }
            })
            .transpose()?;
        let allow_private_targets = parse_bool(layers.get(
            (
                "allow-private-targets",
                flags.allow_private_targets.as_ref(),
            ),
            "MXSPOOL_ALLOW_PRIVATE_TARGETS",
            ("allow_private_targets", toml_scalar(allow_private_targets)),
        ))?;
        let db_pool_size: u32 = parse(
            layers.get(
                ("db-pool-size", none.as_ref()),
                "MXSPOOL_DB_POOL_SIZE",
                ("db_pool_size", toml_scalar(db_pool_size)),
            ),
            20,
            "a pool size",
        )?;
        if !(1..=1000).contains(&db_pool_size) {
            return Err(ConfigError::new(
                "MXSPOOL_DB_POOL_SIZE",
                "must be between 1 and 1000",
            ));
        }
        let http_workers: usize = parse(
            layers.get(
                ("http-workers", none.as_ref()),
                "MXSPOOL_HTTP_WORKERS",
                ("http_workers", toml_scalar(http_workers)),
            ),
            std::thread::available_parallelism().map_or(2, |n| n.get()),
            "a number of worker threads",
        )?;
        if !(1..=256).contains(&http_workers) {
            return Err(ConfigError::new(
                "MXSPOOL_HTTP_WORKERS",
                "must be between 1 and 256",
            ));
        }
        let log_json = match layers.get(
            ("log-format", none.as_ref()),
            "MXSPOOL_LOG_FORMAT",
            ("log_format", log_format),
        ) {
            None => false,
            Some(raw) => match raw.value.trim() {
                "json" => true,
                "text" => false,
                _ => return Err(ConfigError::new(raw.source, "use text or json")),
            },
        };
        let tls_cert = layers
            .get(
                ("tls-cert", none.as_ref()),
                "MXSPOOL_TLS_CERT",
                ("tls_cert", tls_cert),
            )
            .map(|r| PathBuf::from(r.value));
        let tls_key = layers
            .get(
                ("tls-key", none.as_ref()),
                "MXSPOOL_TLS_KEY",
                ("tls_key", tls_key),
            )
            .map(|r| PathBuf::from(r.value));
        if tls_cert.is_some() != tls_key.is_some() {
            return Err(ConfigError::new(
                "MXSPOOL_TLS_CERT / MXSPOOL_TLS_KEY",
                "set both the certificate and the key, or neither",
            ));
        }
        let bounces_log_only = match layers.get(
            ("bounces", none.as_ref()),
            "MXSPOOL_BOUNCES",
            ("bounces", bounces),
        ) {
            None => false,
            Some(raw) => match raw.value.trim() {
                "send" => false,
                "log" => true,
                _ => return Err(ConfigError::new(raw.source, "use send or log")),
            },
        };
        let dns_servers = layers
            .get(
                ("dns-servers", none.as_ref()),
                "MXSPOOL_DNS_SERVERS",
                ("dns_servers", dns_servers),
            )
            .map(|raw| {
                raw.value
                    .split(',')
                    .map(|s| {
                        let s = s.trim();
                        s.parse::<SocketAddr>()
                            .or_else(|_| {
                                s.parse::<std::net::IpAddr>()
                                    .map(|ip| SocketAddr::new(ip, 53))
                            })
                            .map_err(|_| {
                                ConfigError::new(
                                    raw.source.clone(),
                                    format!("{s:?} is not a nameserver address (ip or ip:port)"),
                                )
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let mx_port: u16 = parse(
            layers.get(
                ("mx-port", none.as_ref()),
                "MXSPOOL_MX_PORT",
                ("mx_port", toml_scalar(mx_port)),
            ),
            25,
            "a port number",
        )?;
        let relay_workers: usize = parse(
            layers.get(
                ("relay-workers", none.as_ref()),
                "MXSPOOL_RELAY_WORKERS",
                ("relay_workers", toml_scalar(relay_workers)),
            ),
            16,
            "a number of delivery workers",
        )?;
        if !(1..=1024).contains(&relay_workers) {
            return Err(ConfigError::new(
                "MXSPOOL_RELAY_WORKERS",
                "must be between 1 and 1024",
            ));
        }
        let lease_seconds: u64 = parse(
            layers.get(
                ("lease-seconds", none.as_ref()),
                "MXSPOOL_LEASE_SECONDS",
                ("lease_seconds", toml_scalar(lease_seconds)),
            ),
            60,
            "a number of seconds",
        )?;
        if !(1..=3600).contains(&lease_seconds) {
            return Err(ConfigError::new(
                "MXSPOOL_LEASE_SECONDS",
                "must be between 1 and 3600",
            ));
        }
        let retry_schedule = layers
            .get(
                ("retry-schedule", none.as_ref()),
                "MXSPOOL_RETRY_SCHEDULE",
                ("retry_schedule", retry_schedule),
            )
            .map(|raw| {
                raw.value
                    .split(',')
                    .map(|s| {
                        parse_duration(s.trim()).ok_or_else(|| {
                            ConfigError::new(
                                raw.source.clone(),
                                format!("{s:?} is not a duration (e.g. 30s, 5m, 2h)"),
                            )
                        })
                    })
                    .collect::<Result<Vec<u64>, _>>()
            })
            .transpose()?;
        let probe_interval_seconds: f64 = parse(
            layers.get(
                ("probe-interval-seconds", none.as_ref()),
                "MXSPOOL_PROBE_INTERVAL_SECONDS",
                (
                    "probe_interval_seconds",
                    toml_scalar(probe_interval_seconds),
                ),
            ),
            5.0,
            "a number of seconds",
        )?;
        let probe_max_seconds: f64 = parse(
            layers.get(
                ("probe-max-seconds", none.as_ref()),
                "MXSPOOL_PROBE_MAX_SECONDS",
                ("probe_max_seconds", toml_scalar(probe_max_seconds)),
            ),
            60.0,
            "a number of seconds",
        )?;
        if !(0.05..=3600.0).contains(&probe_interval_seconds)
            || !(probe_interval_seconds..=3600.0).contains(&probe_max_seconds)
        {
            return Err(ConfigError::new(
                "MXSPOOL_PROBE_INTERVAL_SECONDS / MXSPOOL_PROBE_MAX_SECONDS",
                "need 0.05 <= interval <= max <= 3600",
            ));
        }
        let max_connections: usize = parse(
            layers.get(
                ("max-connections", none.as_ref()),
                "MXSPOOL_MAX_CONNECTIONS",
                ("max_connections", toml_scalar(max_connections)),
            ),
            1000,
            "a number of connections",
        )?;
        let max_connections_per_ip: usize = parse(
            layers.get(
                ("max-connections-per-ip", none.as_ref()),
                "MXSPOOL_MAX_CONNECTIONS_PER_IP",
                (
                    "max_connections_per_ip",
                    toml_scalar(max_connections_per_ip),
                ),
            ),
            20,
            "a number of connections",
        )?;
        if max_connections == 0 || max_connections_per_ip == 0 {
            return Err(ConfigError::new(
                "MXSPOOL_MAX_CONNECTIONS",
                "connection limits must be at least 1",
            ));
        }
        Ok(Config {
            tls_cert,
            tls_key,
            bounces_log_only,
            dns_servers,
            mx_port,
            relay_workers,
            lease_seconds,
            retry_schedule,
            probe_interval_seconds,
            probe_max_seconds,
            max_connections,
            max_connections_per_ip,
            database_url,
            data_dir,
            http_addr,
            smtp_addr,
            hostname,
            jwt_secret,
            admin_email,
            admin_password,
            allow_private_targets,
            db_pool_size,
            http_workers,
            log_json,
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

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(format!("--config {name}"), format!("cannot read: {e}")))?;
    toml::from_str(&text).map_err(|e| ConfigError::new(name, e.message().to_owned()))
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
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
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
