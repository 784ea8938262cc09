//! The store: every durable fact of the product (portfolios, projects, tasks, milestones, risks,
//! report templates, reports, sections, revisions, users) behind one interface, [`Store`].
//!
//! Two backends sit behind it, chosen by the URL's scheme: SQLite (`sqlite://data/pmr.db`, the
//! embedded default, nothing to install) and PostgreSQL (`postgres://…`, for several instances). Both
//! run the same SQL through sqlx's `Any` driver: the schema and queries use only what both dialects
//! share (`$n` parameters, `RETURNING`, text dates, `DOUBLE PRECISION`), and [`migrations`] fills in
//! the one thing that differs, the auto-increment key. The same conformance suite
//! (`server/tests/integration/storage_conformance.rs`) runs against both.
//!
//! The store does not cache (that is the cache service's job) and does not validate business rules
//! beyond what the schema's constraints enforce.

pub mod args;
pub mod documents;
pub mod drafts;
mod migrations;
pub mod progress;
pub mod project_data;
pub mod projects;
pub(crate) mod records;
pub mod reports;
pub mod sessions;
pub mod templates;
pub mod tokens;
pub mod transfer;
pub mod users;

use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyConnection;
use sqlx::{Any, AnyPool, Connection, Transaction};

pub use migrations::SCHEMA_VERSION;

/// How long a request waits for a free connection before the store reports itself unavailable.
/// Short on purpose: a request that cannot get a connection in 2 s is better answered with a 503 than
/// left hanging while the database restarts.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long SQLite waits on a locked database file before giving up with `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// Connections per backend. SQLite serialises writers anyway, so a few connections for concurrent
/// readers suffice: each is a thread of its own in sqlx, with its own allocator arena and page cache
/// (about 0.6 MB resident each under the collaboration benchmark), and four keep two cores busy.
/// PostgreSQL gets enough for a busy instance without exhausting the server's default
/// `max_connections` (100) when several instances share it.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
const POSTGRES_MAX_CONNECTIONS: u32 = 16;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, by its scheme.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact(url)))
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// What can go wrong in the store. Callers map these to HTTP statuses: `Unavailable` is a 503,
/// `Conflict` a 409, `InvalidReference` and `Invalid` a 400; the rest are internal errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported backend.
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// The database cannot be reached, or no connection became free in time.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The database cannot write: its disk is full, its file is read-only, or writing failed.
    #[error("the database cannot write: {0}")]
    Unwritable(#[source] sqlx::Error),
    /// A uniqueness constraint refused the write (e.g. a second report for the same month).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A foreign key refused the write (e.g. a task for a project that does not exist).
    #[error("invalid reference: {0}")]
    InvalidReference(String),
    /// A check or not-null constraint refused the write (e.g. a negative cost).
    #[error("invalid data: {0}")]
    Invalid(String),
    /// The report is final (published): a frozen snapshot that nothing may change.
    #[error("report {0} is final")]
    Final(i64),
    /// The project's data changed since the version a write was based on.
    #[error("project {project} is at version {found}, not {expected}")]
    Stale {
        project: i64,
        expected: i64,
        found: i64,
    },
    /// A row holds a value the code cannot read back (e.g. an unknown status word).
    #[error("corrupt data in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
    /// The SQLite file's folder could not be created.
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    /// A migration failed; the database is left at the previous version.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        source: Box<StoreError>,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Query(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match &err {
            sqlx::Error::Database(db) if connection_lost(db.code().as_deref()) => {
                StoreError::Unavailable(err)
            }
            sqlx::Error::Database(db) if cannot_write(db.code().as_deref()) => {
                StoreError::Unwritable(err)
            }
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => StoreError::Conflict(db.message().to_string()),
                ErrorKind::ForeignKeyViolation => {
                    StoreError::InvalidReference(db.message().to_string())
                }
                ErrorKind::CheckViolation | ErrorKind::NotNullViolation => {
                    StoreError::Invalid(db.message().to_string())
                }
                _ => StoreError::Query(err),
            },
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err),
            _ => StoreError::Query(err),
        }
    }
}

/// PostgreSQL codes meaning the server is going away or cannot take the connection: a connection
/// exception (class 08), an administrator or crash shutdown or a server still starting (57P01-03),
/// too many connections (53300). Retrying later may work.
fn connection_lost(code: Option<&str>) -> bool {
    code.is_some_and(|c| {
        c.len() == 5 && (c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03" | "53300"))
    })
}

/// Codes meaning the database cannot write. SQLite reports its primary result code in the low
/// byte of the (extended) code: read-only (8), I/O error (10), disk full (13). PostgreSQL: disk
/// full (53100), read-only transaction (25006).
fn cannot_write(code: Option<&str>) -> bool {
    let Some(code) = code else { return false };
    if code.len() == 5 {
        // A SQLSTATE (always five characters; SQLite's codes have at most four digits).
        return matches!(code, "53100" | "25006");
    }
    code.parse::<i64>()
        .is_ok_and(|sqlite| matches!(sqlite & 0xff, 8 | 10 | 13))
}

/// What a client is told when the database cannot be reached (the cause stays in the log).
pub const UNAVAILABLE_REASON: &str =
    "The database is unavailable right now; try again in a moment.";
/// What a client is told when the database cannot write (the cause stays in the log).
pub const UNWRITABLE_REASON: &str = "The server cannot store data right now: its disk is full or read-only. Nothing was changed; try again later.";
/// What a client is told of any other store failure (the cause stays in the log).
pub const FAILED_REASON: &str =
    "The server could not complete the request; the error has been logged.";

impl StoreError {
    /// What a client is told of this failure: what it can act on, never the cause.
    pub fn reason(&self) -> &'static str {
        match self {
            StoreError::Unavailable(_) => UNAVAILABLE_REASON,
            StoreError::Unwritable(_) => UNWRITABLE_REASON,
            _ => FAILED_REASON,
        }
    }

    /// Whether retrying later may succeed (the database is down or overloaded).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// The store handle: a connection pool and the backend it talks to. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to the database the URL names and brings its schema up to date. For SQLite the file
    /// (and its folder) is created when missing.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let (url, max) = match backend {
            Backend::Sqlite => (prepare_sqlite_url(url)?, SQLITE_MAX_CONNECTIONS),
            Backend::Postgres => (url.to_string(), POSTGRES_MAX_CONNECTIONS),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection still counting a transaction is closed rather than reused. It happens
            // when a COMMIT fails after SQLite has already rolled the transaction back (a full
            // disk): sqlx's ROLLBACK then fails too, its count never returns to zero, and every
            // later `begin` on that connection would fail (found by `tests/integration/process_faults.rs`).
            .before_acquire(|conn, _meta| {
                Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        configure_sqlite(conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        Ok(Store { pool, backend })
    }

    /// Applies the migrations not yet applied.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations::run(&self.pool, self.backend).await
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// SQLite: copies the write-ahead log into the database file and empties it (nothing to do on
    /// PostgreSQL).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The newest migration applied to the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await?;
        Ok(version.unwrap_or(0))
    }

    /// Starts a transaction; writes made through it land together or not at all. On SQLite it takes
    /// the write lock at once (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes
    /// while another connection writes fails at once with "database is locked" instead of waiting its
    /// turn, since SQLite cannot let it wait without risking a deadlock.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// The connection pool, for the query modules.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection; later calls fail with [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Per-connection SQLite settings: write-ahead logging so readers never block the writer, foreign
/// keys enforced, a busy timeout instead of instant `SQLITE_BUSY`, and `synchronous=FULL` so an
/// acknowledged write survives even a power cut, not only a crash of the process.
async fn configure_sqlite(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    let busy = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA foreign_keys = ON",
        "PRAGMA synchronous = FULL",
        busy.as_str(),
    ] {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    conn.ping().await
}

/// Creates the folder of a SQLite file and asks sqlx to create the file when missing.
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::UnsupportedUrl(format!(
            "{url} (an in-memory SQLite database would vanish with each connection; give a file path)"
        )));
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
            path: parent.display().to_string(),
            source,
        })?;
    }
    let mode = if query.contains("mode=") {
        ""
    } else {
        "mode=rwc"
    };
    let sep = if query.is_empty() || mode.is_empty() {
        ""
    } else {
        "&"
    };
    Ok(format!("sqlite://{path}?{query}{sep}{mode}"))
}

/// A URL with any password replaced, safe for logs and error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Reads a text column and parses it into one of the model's enums.
fn parse<T: std::str::FromStr>(
    row: &sqlx::any::AnyRow,
    column: &str,
    table: &'static str,
) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    use sqlx::Row;
    let text: String = row.try_get(column)?;
    text.parse().map_err(|e: T::Err| StoreError::Corrupt {
        table,
        detail: format!("{column}: {e}"),
    })
}

/// Locks a draft report's row for the rest of `tx` (publishing updates the same row, so a write made
/// under this lock commits before a publication or is refused after it); [`StoreError::Final`] when
/// the report is published, whichever instance published it. The transaction is left to its caller
/// (dropped, it rolls back).
pub async fn lock_draft(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    report_id: i64,
) -> Result<(), StoreError> {
    let draft = sqlx::query(
        "UPDATE reports SET updated_at = updated_at WHERE id = $1 AND status = 'draft'",
    )
    .bind(report_id)
    .execute(&mut **tx)
    .await?;
    if draft.rows_affected() == 0 {
        return Err(StoreError::Final(report_id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://data/pmr.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(matches!(
            Backend::from_url("mysql://x"),
            Err(StoreError::UnsupportedUrl(_))
        ));
    }

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/pmr.db");
        let url = prepare_sqlite_url(&format!("sqlite://{}", path.display())).expect("url");
        assert_eq!(url, format!("sqlite://{}?mode=rwc", path.display()));
        assert!(path.parent().is_some_and(Path::exists), "folder created");
        let kept = prepare_sqlite_url("sqlite://x.db?mode=ro").expect("url");
        assert_eq!(kept, "sqlite://x.db?mode=ro");
        let both = prepare_sqlite_url("sqlite://x.db?cache=shared").expect("url");
        assert_eq!(both, "sqlite://x.db?cache=shared&mode=rwc");
    }

    #[test]
    fn memory_databases_are_refused() {
        assert!(prepare_sqlite_url("sqlite::memory:").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://pmr:s3cret@db:5432/pmr"),
            "postgres://pmr:***@db:5432/pmr"
        );
        assert_eq!(redact("postgres://pmr@db/pmr"), "postgres://pmr@db/pmr");
        assert_eq!(redact("sqlite://data/pmr.db"), "sqlite://data/pmr.db");
    }

    #[test]
    fn database_codes_for_lost_connections_and_failed_writes() {
        for lost in ["08006", "08001", "57P01", "57P02", "57P03", "53300"] {
            assert!(connection_lost(Some(lost)), "{lost}");
            assert!(!cannot_write(Some(lost)), "{lost}");
        }
        // SQLite: full (13), read-only (8) and its extended forms (e.g. 1032), I/O errors (778).
        for unwritable in ["13", "8", "1032", "778", "53100", "25006"] {
            assert!(cannot_write(Some(unwritable)), "{unwritable}");
            assert!(!connection_lost(Some(unwritable)), "{unwritable}");
        }
        // Constraint failures (SQLite 19, 2067; PostgreSQL 23505) and a busy database stay as they are.
        for other in ["19", "2067", "23505", "5", "42P01"] {
            assert!(
                !cannot_write(Some(other)) && !connection_lost(Some(other)),
                "{other}"
            );
        }
        assert!(!cannot_write(None) && !connection_lost(None));
    }
}
