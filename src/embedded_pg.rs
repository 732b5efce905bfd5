//! Embedded default database: a private PostgreSQL server that mxspool runs
//! from the PostgreSQL server binaries installed on the machine when
//! `DATABASE_URL` is unset.
//!
//! Layout of the data directory (`./mxspool-data/` unless `MXSPOOL_DATA_DIR`
//! says otherwise), mode 0700:
//!
//! - `pgdata/`: the cluster. It only ever appears complete: initialisation
//!   happens in `pgdata.init/`, which is renamed once initdb has run and the
//!   `mxspool` database exists, and removed if an interrupted start left it.
//! - `run/`: the Unix socket directory (mode 0700). The server listens on no
//!   TCP address at all.
//! - `postgresql.log`: output of initdb, pg_ctl and the server itself.
//! - `mxspool.lock`: locked by the mxspool process that owns the server, so
//!   two mxspool processes cannot share (and stop) one server.
//!
//! The server is a daemon in its own session (pg_ctl does that), so it
//! survives a crash of mxspool; the next start finds it running and reuses
//! it.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg};
use nix::libc;
use nix::sys::signal::kill;
use nix::unistd::{Gid, Pid, Uid, User};

/// Database superuser created by initdb; mxspool connects as this role.
const SUPERUSER: &str = "postgres";
/// The database mxspool uses, created when the cluster is initialised.
const DATABASE: &str = "mxspool";
/// System user the server runs as when mxspool runs as root (PostgreSQL
/// refuses to run as root).
const SERVER_USER: &str = "postgres";
/// Only used in the socket file name (`.s.PGSQL.5432`); there is no TCP.
const PORT: u16 = 5432;
/// `sizeof(sockaddr_un.sun_path)` on Linux is 108, including the NUL.
const SOCKET_PATH_MAX: usize = 107;
/// Programs that must all be present in one directory to use it.
const SERVER_BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];
/// How long to wait for the server to start (crash recovery included) or stop.
const SERVER_TIMEOUT: Duration = Duration::from_secs(120);
/// Debian/Ubuntu install each major version under `<root>/<version>/bin`.
const VERSIONED_ROOT: &str = "/usr/lib/postgresql";
/// Settings file rewritten on every start, included from postgresql.conf.
const RUNTIME_CONF: &str = "mxspool.conf";
const INCLUDE_LINE: &str = "include_if_exists = 'mxspool.conf'";

/// Why the embedded PostgreSQL server could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl and postgres in one directory) found \
         (searched {}); install them, e.g. `apt-get install postgresql`, or set DATABASE_URL \
         to use an existing PostgreSQL server",
        display_paths(searched)
    )]
    NoBinaries { searched: Vec<PathBuf> },

    #[error(
        "the cluster in {pgdata} was created by PostgreSQL {cluster_version}, but only server \
         binaries of other versions were found ({found}); install the PostgreSQL \
         {cluster_version} server binaries (e.g. `apt-get install postgresql-{cluster_version}`) \
         or upgrade the cluster with pg_upgrade"
    )]
    VersionMismatch {
        pgdata: PathBuf,
        cluster_version: String,
        found: String,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    #[error("`{command}` failed ({status}); see {log}, which ends with:\n{log_tail}")]
    CommandFailed {
        command: String,
        status: ExitStatus,
        log: PathBuf,
        log_tail: String,
    },

    #[error(
        "the PostgreSQL socket path {path} is {} bytes, over the {SOCKET_PATH_MAX}-byte limit \
         for Unix sockets; set MXSPOOL_DATA_DIR to a shorter directory",
        path.as_os_str().len()
    )]
    SocketPathTooLong { path: PathBuf },

    #[error(
        "the data directory {path} contains {character:?}, which {tool} cannot take in paths; \
         set MXSPOOL_DATA_DIR to a directory without it"
    )]
    UnsupportedDataDir {
        path: PathBuf,
        character: char,
        tool: &'static str,
    },

    #[error(
        "mxspool runs as root, so the embedded PostgreSQL server has to run as the `postgres` \
         system user, which does not exist; install PostgreSQL from the distribution packages \
         (they create it), run mxspool as an unprivileged user, or set DATABASE_URL"
    )]
    NoPostgresUser,

    #[error(
        "the embedded PostgreSQL server runs as user `{user}`, which cannot enter {dir}; \
         set MXSPOOL_DATA_DIR to a directory whose parents `{user}` can traverse \
         (e.g. under /var/lib), or make {dir} searchable for it (e.g. `chmod o+x`)"
    )]
    DataDirNotAccessible { dir: PathBuf, user: String },

    #[error("the data directory {data_dir} is in use by another mxspool process")]
    DataDirInUse { data_dir: PathBuf },

    #[error(
        "the PostgreSQL server (pid {pid}) on {pgdata} did not accept connections on {socket} \
         within {} s; see {log}",
        timeout.as_secs()
    )]
    NotAccepting {
        pid: i32,
        pgdata: PathBuf,
        socket: PathBuf,
        timeout: Duration,
        log: PathBuf,
    },
}

type Result<T, E = EmbeddedPgError> = std::result::Result<T, E>;

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedPgError {
    let context = context.into();
    move |source| EmbeddedPgError::Io { context, source }
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A private PostgreSQL server owned by this mxspool process.
///
/// Dropping it stops the server (see [`EmbeddedPostgres::stop`]). If the
/// process dies without doing so, the server keeps running and the next
/// [`EmbeddedPostgres::start`] on the same data directory takes it over.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    cluster: Cluster,
    /// Whether `stop` still has a server to shut down.
    owns_server: bool,
    /// Holds the fcntl lock on `mxspool.lock` for as long as we exist.
    _lock: File,
}

impl EmbeddedPostgres {
    /// Finds the server binaries, runs initdb on first use (data in
    /// `<data_dir>/pgdata`, superuser `postgres`, trust authentication on the
    /// local socket only, encoding UTF8, locale C, plus the database
    /// `mxspool`), starts the server with `listen_addresses = ''` and its
    /// socket in `<data_dir>/run`, and returns once it accepts connections.
    ///
    /// A server left running on this data directory by an earlier mxspool
    /// process (e.g. one killed with SIGKILL) is reused; a stale
    /// `postmaster.pid` is handled by pg_ctl. When mxspool runs as root, the
    /// data directory is given to the `postgres` system user and initdb,
    /// pg_ctl and the server run as that user.
    ///
    /// Blocks for up to a couple of minutes (initdb, crash recovery); call it
    /// at start-up, not from async code serving requests.
    pub fn start(data_dir: &Path) -> Result<Self> {
        let cluster_version = read_cluster_version(&data_dir.join("pgdata"))?;
        let bin_dir = select_bin_dir(
            &candidate_bin_dirs(),
            cluster_version.as_deref(),
            &data_dir.join("pgdata"),
        )?;
        let run_as = server_user()?;

        fs::create_dir_all(data_dir).map_err(io_err(format!(
            "cannot create the data directory {}",
            data_dir.display()
        )))?;
        let data_dir = fs::canonicalize(data_dir).map_err(io_err(format!(
            "cannot resolve the data directory {}",
            data_dir.display()
        )))?;
        let cluster = Cluster {
            bin_dir,
            data_dir,
            run_as,
        };
        cluster.check_paths()?;
        if let Some(user) = &cluster.run_as {
            check_traversable(&cluster.data_dir, user)?;
        }
        let lock = lock_data_dir(&cluster.data_dir)?;
        cluster.prepare_dirs()?;

        let mut pg = EmbeddedPostgres {
            cluster,
            owns_server: false,
            _lock: lock,
        };
        pg.bring_up()?;
        Ok(pg)
    }

    /// libpq connection URL of the `mxspool` database, e.g.
    /// `postgres://postgres@/mxspool?host=/abs/data/run&port=5432`.
    ///
    /// The port is explicit so that a `PGPORT` in the environment cannot
    /// make libpq look for a different socket file.
    pub fn database_url(&self) -> String {
        format!(
            "postgres://{SUPERUSER}@/{DATABASE}?host={}&port={PORT}",
            percent_encode(self.cluster.run_dir().as_os_str())
        )
    }

    /// Absolute data directory.
    pub fn data_dir(&self) -> &Path {
        &self.cluster.data_dir
    }

    /// Directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.cluster.run_dir()
    }

    /// Directory of the PostgreSQL binaries in use (it usually has `psql`
    /// too).
    pub fn bin_dir(&self) -> &Path {
        &self.cluster.bin_dir
    }

    /// Stops the server with a fast shutdown (open sessions are rolled back)
    /// and waits until it has exited. Idempotent: later calls do nothing, and
    /// a server that is already gone counts as stopped.
    pub fn stop(&mut self) -> Result<()> {
        if !self.owns_server {
            return Ok(());
        }
        tracing::info!(pgdata = %self.cluster.pgdata().display(), "stopping embedded PostgreSQL server");
        self.cluster.stop_server()?;
        self.owns_server = false;
        Ok(())
    }

    fn bring_up(&mut self) -> Result<()> {
        let cluster = &self.cluster;
        let pgdata = cluster.pgdata();
        if !pgdata.join("PG_VERSION").exists() {
            cluster.init_cluster()?;
        }
        cluster.ensure_include()?;
        cluster.write_runtime_conf(&pgdata)?;

        if cluster.is_running()? {
            let pid_file = cluster.read_pid_file()?;
            // From here on a failure leaves a server we are responsible for.
            self.owns_server = true;
            if pid_file.socket_dir != cluster.run_dir() || pid_file.port != PORT {
                tracing::info!(
                    pid = pid_file.pid,
                    socket_dir = %pid_file.socket_dir.display(),
                    "embedded PostgreSQL server left running with other socket settings; restarting it"
                );
                cluster.stop_server()?;
                return cluster.start_server();
            }
            tracing::info!(
                pid = pid_file.pid,
                pgdata = %pgdata.display(),
                "reusing embedded PostgreSQL server left running by an earlier mxspool process"
            );
            match cluster.wait_accepting(pid_file.pid)? {
                Probe::Accepting => Ok(()),
                Probe::Gone => {
                    tracing::info!("that PostgreSQL server exited meanwhile; starting a new one");
                    cluster.start_server()
                }
            }
        } else {
            self.owns_server = true;
            cluster.start_server()
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "could not stop the embedded PostgreSQL server");
        }
    }
}

/// The system user the server and its tools run as (only when we are root).
#[derive(Clone, Debug)]
struct ServerUser {
    uid: Uid,
    gid: Gid,
    name: String,
    home: PathBuf,
}

fn server_user() -> Result<Option<ServerUser>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match User::from_name(SERVER_USER) {
        Ok(Some(user)) => Ok(Some(ServerUser {
            uid: user.uid,
            gid: user.gid,
            name: user.name,
            home: user.dir,
        })),
        Ok(None) => Err(EmbeddedPgError::NoPostgresUser),
        Err(errno) => Err(EmbeddedPgError::Io {
            context: format!("cannot look up the `{SERVER_USER}` system user"),
            source: errno.into(),
        }),
    }
}

/// Checks that `user` can traverse every parent of `dir`. Only the primary
/// group counts: std's `Command::uid` drops supplementary groups.
fn check_traversable(dir: &Path, user: &ServerUser) -> Result<()> {
    for parent in dir.ancestors().skip(1) {
        let meta =
            fs::metadata(parent).map_err(io_err(format!("cannot inspect {}", parent.display())))?;
        let search_bit = if meta.uid() == user.uid.as_raw() {
            0o100
        } else if meta.gid() == user.gid.as_raw() {
            0o010
        } else {
            0o001
        };
        if meta.mode() & search_bit == 0 {
            return Err(EmbeddedPgError::DataDirNotAccessible {
                dir: parent.to_path_buf(),
                user: user.name.clone(),
            });
        }
    }
    Ok(())
}

/// Takes a POSIX (fcntl) write lock on `<data_dir>/mxspool.lock`. The kernel
/// drops it when the process dies, so a killed mxspool never blocks the next
/// start; being per-process, it also lets one process start twice on a data
/// directory (the reuse path after a leaked handle).
fn lock_data_dir(data_dir: &Path) -> Result<File> {
    let path = data_dir.join("mxspool.lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io_err(format!("cannot open {}", path.display())))?;
    let lock = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    match fcntl(file.as_raw_fd(), FcntlArg::F_SETLK(&lock)) {
        Ok(_) => {}
        Err(Errno::EACCES | Errno::EAGAIN) => {
            return Err(EmbeddedPgError::DataDirInUse {
                data_dir: data_dir.to_path_buf(),
            })
        }
        Err(errno) => {
            return Err(EmbeddedPgError::Io {
                context: format!("cannot lock {}", path.display()),
                source: errno.into(),
            })
        }
    }
    // The pid is only for people wondering who holds the lock.
    file.set_len(0)
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .map_err(io_err(format!("cannot write {}", path.display())))?;
    Ok(file)
}

/// Where the server binaries may be, best first: `pg_config --bindir`, then
/// `/usr/lib/postgresql/<version>/bin` from the highest version down, then
/// every `PATH` entry.
fn candidate_bin_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(out) = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && !dir.is_empty() {
            dirs.push(PathBuf::from(dir));
        }
    }
    let mut versioned: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(VERSIONED_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = parse_version(&entry.file_name().to_string_lossy())?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    if versioned.is_empty() {
        dirs.push(Path::new(VERSIONED_ROOT).join("*").join("bin"));
    }
    versioned.sort_by(|a, b| b.0.cmp(&a.0));
    dirs.extend(versioned.into_iter().map(|(_, dir)| dir));
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// `"15"` → `[15]`, `"9.6"` → `[9, 6]`; anything else is not a version.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

fn has_server_binaries(dir: &Path) -> bool {
    SERVER_BINARIES.iter().all(|name| {
        fs::metadata(dir.join(name))
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    })
}

/// Picks the first candidate holding all server binaries; for an existing
/// cluster, the first whose major version matches it (a server refuses data
/// files of another major version).
fn select_bin_dir(
    candidates: &[PathBuf],
    cluster_version: Option<&str>,
    pgdata: &Path,
) -> Result<PathBuf> {
    let usable: Vec<&PathBuf> = candidates
        .iter()
        .filter(|d| has_server_binaries(d))
        .collect();
    let Some(first) = usable.first() else {
        return Err(EmbeddedPgError::NoBinaries {
            searched: candidates.to_vec(),
        });
    };
    let Some(wanted) = cluster_version else {
        return Ok((*first).clone());
    };
    let mut found = Vec::new();
    for dir in usable {
        let version = server_major_version(dir);
        if version.as_deref() == Some(wanted) {
            return Ok(dir.clone());
        }
        found.push(format!(
            "{} in {}",
            version.as_deref().unwrap_or("unknown version"),
            dir.display()
        ));
    }
    Err(EmbeddedPgError::VersionMismatch {
        pgdata: pgdata.to_path_buf(),
        cluster_version: wanted.to_owned(),
        found: found.join(", "),
    })
}

/// Major version of `<dir>/postgres`, from `postgres --version`.
fn server_major_version(dir: &Path) -> Option<String> {
    let out = Command::new(dir.join("postgres"))
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    major_version(&String::from_utf8_lossy(&out.stdout))
}

/// `"postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"` → `"15"`;
/// before version 10 the major version had two parts (`"9.6.24"` → `"9.6"`).
fn major_version(version_output: &str) -> Option<String> {
    let version = version_output
        .split_whitespace()
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = version.split('.').map(|part| {
        part.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
    });
    let major = parts.next()?;
    match major.parse::<u32>().ok()? {
        10.. => Some(major),
        _ => Some(format!("{major}.{}", parts.next()?)),
    }
}

/// Contents of `PG_VERSION`, or `None` if there is no cluster yet.
fn read_cluster_version(pgdata: &Path) -> Result<Option<String>> {
    let path = pgdata.join("PG_VERSION");
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(EmbeddedPgError::Io {
            context: format!("cannot read {}", path.display()),
            source: e,
        }),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `/`, for
/// a libpq URI query value.
fn percent_encode(value: &OsStr) -> String {
    let mut out = String::new();
    for &byte in value.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Quotes `path` as the single element of a postgresql.conf list setting:
/// double quotes for the list syntax (so spaces are kept), then a
/// single-quoted configuration string.
fn conf_quote_list_path(path: &Path) -> String {
    let element = format!("\"{}\"", path.to_string_lossy().replace('"', "\"\""));
    let escaped = element
        .replace('\\', "\\\\")
        .replace('\'', "''")
        .replace('\n', "\\n");
    format!("'{escaped}'")
}

/// Last lines of `path`, for error messages.
fn log_tail(path: &Path) -> String {
    const MAX_BYTES: u64 = 4096;
    const MAX_LINES: usize = 25;
    let read = || -> io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(MAX_BYTES)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(MAX_LINES)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

fn describe(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or(cmd.get_program())
        .to_string_lossy()
        .into_owned();
    std::iter::once(program)
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What `postmaster.pid` says about a running server.
#[derive(Debug)]
struct PidFile {
    pid: i32,
    port: u16,
    socket_dir: PathBuf,
    /// `starting`, `ready`, `stopping` or `standby`; empty early in start-up.
    status: String,
}

enum Probe {
    Accepting,
    Gone,
}

/// One data directory and how to run the PostgreSQL tools on it.
#[derive(Clone, Debug)]
struct Cluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    run_as: Option<ServerUser>,
}

impl Cluster {
    fn pgdata(&self) -> PathBuf {
        self.data_dir.join("pgdata")
    }

    fn run_dir(&self) -> PathBuf {
        self.data_dir.join("run")
    }

    fn socket_path(&self) -> PathBuf {
        self.run_dir().join(format!(".s.PGSQL.{PORT}"))
    }

    fn log_path(&self) -> PathBuf {
        self.data_dir.join("postgresql.log")
    }

    /// Rejects data directories the socket path cannot be built from.
    fn check_paths(&self) -> Result<()> {
        let socket = self.socket_path();
        if socket.as_os_str().len() > SOCKET_PATH_MAX {
            return Err(EmbeddedPgError::SocketPathTooLong { path: socket });
        }
        // libpq splits `host` at commas; pg_ctl starts the server through
        // `sh -c` with paths in double quotes, unescaped.
        let unsupported = [
            (',', "libpq"),
            ('"', "pg_ctl"),
            ('$', "pg_ctl"),
            ('`', "pg_ctl"),
            ('\\', "pg_ctl"),
            ('\n', "pg_ctl"),
        ];
        let path = self.data_dir.to_string_lossy();
        if let Some(&(character, tool)) = unsupported.iter().find(|(c, _)| path.contains(*c)) {
            return Err(EmbeddedPgError::UnsupportedDataDir {
                path: self.data_dir.clone(),
                character,
                tool,
            });
        }
        Ok(())
    }

    /// Makes the data directory, `run/` and the log private to the server
    /// user (pg_ctl opens the log itself, as that user).
    fn prepare_dirs(&self) -> Result<()> {
        let run_dir = self.run_dir();
        match fs::create_dir(&run_dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(format!("cannot create {}", run_dir.display()))(e)),
        }
        let log = self.log_path();
        OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&log)
            .map_err(io_err(format!("cannot create {}", log.display())))?;
        for dir in [&self.data_dir, &run_dir] {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(
                format!("cannot set permissions of {}", dir.display()),
            ))?;
        }
        for path in [&self.data_dir, &run_dir, &log] {
            self.give_to_server_user(path)?;
        }
        Ok(())
    }

    fn give_to_server_user(&self, path: &Path) -> Result<()> {
        if let Some(user) = &self.run_as {
            std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(io_err(format!(
                    "cannot give {} to user `{}`",
                    path.display(),
                    user.name
                )))?;
        }
        Ok(())
    }

    /// A command for `program` from the bindir, run as the server user in
    /// the data directory, without the caller's libpq (`PG*`) environment.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.current_dir(&self.data_dir).stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            if key.as_bytes().starts_with(b"PG") {
                cmd.env_remove(key);
            }
        }
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid.as_raw())
                .gid(user.gid.as_raw())
                .env("HOME", &user.home)
                .env("USER", &user.name)
                .env("LOGNAME", &user.name);
        }
        cmd
    }

    /// Runs `cmd` with its output appended to the log, feeding it `stdin`.
    fn run_logged(&self, cmd: &mut Command, stdin: Option<&[u8]>) -> Result<()> {
        let command = describe(cmd);
        let log_path = self.log_path();
        let mut log = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&log_path)
            .map_err(io_err(format!("cannot open {}", log_path.display())))?;
        let clone_err = io_err(format!("cannot open {}", log_path.display()));
        writeln!(log, "mxspool: running {command}")
            .map_err(io_err(format!("cannot write {}", log_path.display())))?;
        cmd.stdout(log.try_clone().map_err(clone_err)?).stderr(log);
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().map_err(io_err(format!(
            "cannot run {}",
            cmd.get_program().to_string_lossy()
        )))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // The child's output goes to a file, so it cannot block on us.
            pipe.write_all(input)
                .map_err(io_err(format!("cannot write to `{command}`")))?;
        }
        let status = child
            .wait()
            .map_err(io_err(format!("cannot wait for `{command}`")))?;
        if status.success() {
            Ok(())
        } else {
            Err(EmbeddedPgError::CommandFailed {
                command,
                status,
                log_tail: log_tail(&log_path),
                log: log_path,
            })
        }
    }

    /// Creates the cluster with the `mxspool` database in `pgdata.init/`
    /// and renames it to `pgdata/`, so `pgdata/` only exists complete.
    fn init_cluster(&self) -> Result<()> {
        let staging = self.data_dir.join("pgdata.init");
        if staging.exists() {
            tracing::info!(path = %staging.display(), "removing cluster left by an interrupted initialisation");
            fs::remove_dir_all(&staging)
                .map_err(io_err(format!("cannot remove {}", staging.display())))?;
        }
        tracing::info!(
            pgdata = %self.pgdata().display(),
            bin_dir = %self.bin_dir.display(),
            "initialising a new PostgreSQL cluster"
        );
        let mut initdb = self.command("initdb");
        initdb
            .arg("--pgdata")
            .arg(&staging)
            .arg(format!("--username={SUPERUSER}"))
            .args([
                "--auth-local=trust",
                "--auth-host=reject",
                "--encoding=UTF8",
                "--locale=C",
            ]);
        self.run_logged(&mut initdb, None)?;

        // Single-user mode needs no socket and no client binaries;
        // exit_on_error turns a failing statement into a non-zero exit.
        let mut single = self.command("postgres");
        single
            .args(["--single", "-c", "exit_on_error=on", "-D"])
            .arg(&staging)
            .arg("postgres");
        self.run_logged(
            &mut single,
            Some(format!("CREATE DATABASE {DATABASE};\n").as_bytes()),
        )?;

        let pgdata = self.pgdata();
        fs::rename(&staging, &pgdata).map_err(io_err(format!(
            "cannot rename {} to {}",
            staging.display(),
            pgdata.display()
        )))
    }

    /// Makes postgresql.conf include the settings file we rewrite on every
    /// start.
    fn ensure_include(&self) -> Result<()> {
        let conf = self.pgdata().join("postgresql.conf");
        let text =
            fs::read_to_string(&conf).map_err(io_err(format!("cannot read {}", conf.display())))?;
        if text.lines().any(|line| line.trim() == INCLUDE_LINE) {
            return Ok(());
        }
        let mut file = OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(io_err(format!("cannot open {}", conf.display())))?;
        writeln!(
            file,
            "\n# Added by mxspool: socket-only settings, rewritten on every start.\n{INCLUDE_LINE}"
        )
        .map_err(io_err(format!("cannot write {}", conf.display())))
    }

    /// Writes the settings derived from the data directory's current
    /// location, so a moved data directory still works.
    fn write_runtime_conf(&self, pgdata: &Path) -> Result<()> {
        let path = pgdata.join(RUNTIME_CONF);
        let text = format!(
            "# Written by mxspool on every start of its embedded server; edits are lost.\n\
             listen_addresses = ''\n\
             port = {PORT}\n\
             unix_socket_directories = {}\n",
            conf_quote_list_path(&self.run_dir())
        );
        fs::write(&path, text).map_err(io_err(format!("cannot write {}", path.display())))?;
        self.give_to_server_user(&path)
    }

    /// `pg_ctl status`: whether a live server owns the data directory (a
    /// stale postmaster.pid counts as not running).
    fn is_running(&self) -> Result<bool> {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("status").arg("-D").arg(self.pgdata());
        let command = describe(&cmd);
        let out = cmd
            .output()
            .map_err(io_err(format!("cannot run `{command}`")))?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(3) => Ok(false),
            _ => Err(EmbeddedPgError::CommandFailed {
                command,
                status: out.status,
                log: self.log_path(),
                log_tail: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            }),
        }
    }

    fn read_pid_file(&self) -> Result<PidFile> {
        let path = self.pgdata().join("postmaster.pid");
        let text =
            fs::read_to_string(&path).map_err(io_err(format!("cannot read {}", path.display())))?;
        let lines: Vec<&str> = text.lines().collect();
        let field = |n: usize| lines.get(n).map_or("", |l| l.trim());
        let pid = field(0).parse().map_err(|_| EmbeddedPgError::Io {
            context: format!("cannot parse {}", path.display()),
            source: io::Error::new(io::ErrorKind::InvalidData, "no pid on the first line"),
        })?;
        Ok(PidFile {
            pid,
            port: field(3).parse().unwrap_or(0),
            socket_dir: PathBuf::from(field(4)),
            status: field(7).to_owned(),
        })
    }

    fn start_server(&self) -> Result<()> {
        tracing::info!(
            pgdata = %self.pgdata().display(),
            socket_dir = %self.run_dir().display(),
            bin_dir = %self.bin_dir.display(),
            "starting embedded PostgreSQL server"
        );
        let mut cmd = self.command("pg_ctl");
        cmd.arg("start")
            .arg("-D")
            .arg(self.pgdata())
            .arg("-l")
            .arg(self.log_path())
            .args(["-w", "-s", "-t"])
            .arg(SERVER_TIMEOUT.as_secs().to_string());
        self.run_logged(&mut cmd, None)?;
        let pid = self.read_pid_file()?.pid;
        match self.wait_accepting(pid)? {
            Probe::Accepting => Ok(()),
            Probe::Gone => Err(EmbeddedPgError::NotAccepting {
                pid,
                pgdata: self.pgdata(),
                socket: self.socket_path(),
                timeout: SERVER_TIMEOUT,
                log: self.log_path(),
            }),
        }
    }

    /// Fast shutdown, waiting for the server to exit; fine if none runs.
    fn stop_server(&self) -> Result<()> {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("stop")
            .arg("-D")
            .arg(self.pgdata())
            .args(["-m", "fast", "-w", "-s", "-t"])
            .arg(SERVER_TIMEOUT.as_secs().to_string());
        match self.run_logged(&mut cmd, None) {
            Err(e @ EmbeddedPgError::CommandFailed { .. }) => {
                if self.is_running()? {
                    Err(e)
                } else {
                    Ok(())
                }
            }
            other => other,
        }
    }

    /// Waits until the server with `pid` reports itself ready and its socket
    /// takes a connection (connecting and closing without a startup packet
    /// leaves no trace in the server log).
    fn wait_accepting(&self, pid: i32) -> Result<Probe> {
        let deadline = Instant::now() + SERVER_TIMEOUT;
        let socket = self.socket_path();
        loop {
            let ready = self
                .read_pid_file()
                .is_ok_and(|p| p.pid == pid && p.status == "ready");
            if ready && UnixStream::connect(&socket).is_ok() {
                return Ok(Probe::Accepting);
            }
            if kill(Pid::from_raw(pid), None) == Err(Errno::ESRCH) {
                return Ok(Probe::Gone);
            }
            if Instant::now() >= deadline {
                return Err(EmbeddedPgError::NotAccepting {
                    pid,
                    pgdata: self.pgdata(),
                    socket,
                    timeout: SERVER_TIMEOUT,
                    log: self.log_path(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[cfg(test)]
// A failed unwrap is a failed test here, which is what it should be.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Stops the server on the data directory even if the test panics or
    /// leaked its handle.
    struct ServerGuard(Cluster);

    impl Drop for ServerGuard {
        fn drop(&mut self) {
            let _ = self.0.stop_server();
        }
    }

    /// A short data directory under /tmp that the `postgres` user can reach.
    fn temp_dir() -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("mxpg")
            .tempdir_in("/tmp")
            .unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    fn psql(pg: &EmbeddedPostgres, sql: &str) -> String {
        let local = pg.bin_dir().join("psql");
        let program = if local.exists() {
            local
        } else {
            PathBuf::from("psql")
        };
        let mut cmd = Command::new(program);
        for (key, _) in std::env::vars_os() {
            if key.as_bytes().starts_with(b"PG") {
                cmd.env_remove(key);
            }
        }
        let out = cmd
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(pg.database_url())
            .args(["-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn postmaster_pid(data_dir: &Path) -> i32 {
        fs::read_to_string(data_dir.join("pgdata/postmaster.pid"))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    #[test]
    fn starts_queries_stops_and_keeps_data_across_restarts() {
        let tmp = temp_dir();
        let data_dir = tmp.path().join("data");

        let mut pg = EmbeddedPostgres::start(&data_dir).unwrap();
        let _guard = ServerGuard(pg.cluster.clone());
        assert!(pg.data_dir().is_absolute());
        assert_eq!(psql(&pg, "select 1"), "1");
        assert_eq!(
            psql(
                &pg,
                "select current_database() || ' ' || pg_encoding_to_char(encoding) || ' ' || datcollate \
                 from pg_database where datname = current_database()"
            ),
            "mxspool UTF8 C"
        );
        assert_eq!(psql(&pg, "show listen_addresses"), "");
        psql(
            &pg,
            "create table kept (v text); insert into kept values ('hello')",
        );
        pg.stop().unwrap();
        pg.stop().unwrap();
        assert!(!data_dir.join("pgdata/postmaster.pid").exists());
        drop(pg);

        let mut pg = EmbeddedPostgres::start(&data_dir).unwrap();
        assert_eq!(psql(&pg, "select v from kept"), "hello");
        pg.stop().unwrap();
        assert!(!data_dir.join("pgdata/postmaster.pid").exists());
        assert!(!data_dir.join("pgdata.init").exists());
    }

    #[test]
    fn reuses_a_server_left_running_by_a_lost_handle() {
        let tmp = temp_dir();
        let data_dir = tmp.path().join("data");

        let first = EmbeddedPostgres::start(&data_dir).unwrap();
        let _guard = ServerGuard(first.cluster.clone());
        let pid = postmaster_pid(&data_dir);
        std::mem::forget(first);

        let mut second = EmbeddedPostgres::start(&data_dir).unwrap();
        assert_eq!(postmaster_pid(&data_dir), pid, "server was not reused");
        assert_eq!(psql(&second, "select 1"), "1");
        second.stop().unwrap();
        assert!(!second.cluster.is_running().unwrap());
    }

    #[test]
    fn handles_spaces_and_single_quotes_in_the_data_dir() {
        let tmp = temp_dir();
        let data_dir = tmp.path().join("a b'c");

        let mut pg = EmbeddedPostgres::start(&data_dir).unwrap();
        let _guard = ServerGuard(pg.cluster.clone());
        assert_eq!(psql(&pg, "select 1"), "1");
        pg.stop().unwrap();
    }

    #[test]
    fn restarts_a_running_server_with_other_socket_settings() {
        let tmp = temp_dir();
        let data_dir = tmp.path().join("data");
        let mut pg = EmbeddedPostgres::start(&data_dir).unwrap();
        let cluster = pg.cluster.clone();
        let _guard = ServerGuard(cluster.clone());
        pg.stop().unwrap();
        drop(pg);

        // As if an earlier mxspool had put the socket elsewhere.
        let elsewhere = data_dir.join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        cluster.give_to_server_user(&elsewhere).unwrap();
        let mut old_start = cluster.command("pg_ctl");
        old_start
            .arg("start")
            .arg("-D")
            .arg(cluster.pgdata())
            .arg("-l")
            .arg(cluster.log_path())
            .args(["-w", "-s", "-o"])
            .arg(format!("-k {}", elsewhere.display()));
        cluster.run_logged(&mut old_start, None).unwrap();
        let old_pid = postmaster_pid(&data_dir);

        let mut pg = EmbeddedPostgres::start(&data_dir).unwrap();
        assert_ne!(postmaster_pid(&data_dir), old_pid);
        assert_eq!(psql(&pg, "select 1"), "1");
        pg.stop().unwrap();
    }

    #[test]
    fn rejects_a_socket_path_over_the_limit() {
        let tmp = temp_dir();
        let err = EmbeddedPostgres::start(&tmp.path().join("x".repeat(100))).unwrap_err();
        assert!(
            matches!(err, EmbeddedPgError::SocketPathTooLong { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("MXSPOOL_DATA_DIR"), "{err}");
    }

    #[test]
    fn rejects_characters_the_postgresql_tools_cannot_take() {
        let tmp = temp_dir();
        for name in ["a,b", "a\"b", "a$b", "a`b", "a\\b"] {
            let err = EmbeddedPostgres::start(&tmp.path().join(name)).unwrap_err();
            assert!(
                matches!(err, EmbeddedPgError::UnsupportedDataDir { .. }),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn as_root_rejects_a_data_dir_the_server_user_cannot_reach() {
        if !Uid::effective().is_root() {
            return;
        }
        let tmp = temp_dir();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o700)).unwrap();
        let err = EmbeddedPostgres::start(&tmp.path().join("data")).unwrap_err();
        match &err {
            EmbeddedPgError::DataDirNotAccessible { dir, user } => {
                assert_eq!(dir, &fs::canonicalize(tmp.path()).unwrap());
                assert_eq!(user, "postgres");
            }
            other => panic!("unexpected error: {other}"),
        }
    }

    #[test]
    fn no_binaries_error_names_the_search_and_the_fix() {
        let tmp = temp_dir();
        let err = select_bin_dir(&[tmp.path().to_path_buf()], None, Path::new("x")).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, EmbeddedPgError::NoBinaries { .. }));
        assert!(
            message.contains(&tmp.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
    }

    #[test]
    fn selects_the_bindir_matching_the_cluster_version() {
        let dirs = candidate_bin_dirs();
        let Some(dir) = dirs.iter().find(|d| has_server_binaries(d)) else {
            return;
        };
        let version = server_major_version(dir).unwrap();
        assert_eq!(
            &select_bin_dir(&dirs, Some(&version), Path::new("x")).unwrap(),
            dir
        );
        let err = select_bin_dir(&dirs, Some("7.4"), Path::new("/d/pgdata")).unwrap_err();
        assert!(
            matches!(err, EmbeddedPgError::VersionMismatch { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("postgresql-7.4"), "{err}");
    }

    #[test]
    fn parses_versions() {
        assert_eq!(
            major_version("postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)").as_deref(),
            Some("15")
        );
        assert_eq!(
            major_version("postgres (PostgreSQL) 9.6.24").as_deref(),
            Some("9.6")
        );
        assert_eq!(
            major_version("postgres (PostgreSQL) 18beta1").as_deref(),
            Some("18")
        );
        assert_eq!(parse_version("9.6"), Some(vec![9, 6]));
        assert_eq!(parse_version("15"), Some(vec![15]));
        assert_eq!(parse_version("lib"), None);
    }

    #[test]
    fn encodes_urls_and_config_strings() {
        assert_eq!(
            percent_encode(OsStr::new("/tmp/a b'c%d/run")),
            "/tmp/a%20b%27c%25d/run"
        );
        assert_eq!(
            conf_quote_list_path(Path::new("/x/it's \"q\"\\")),
            r#"'"/x/it''s ""q""\\"'"#
        );
    }
}
