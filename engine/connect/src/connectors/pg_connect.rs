//! Opening a PostgreSQL connection for the connectors (CDC and JDBC) with libpq's TLS
//! choices: `sslmode` disable / prefer / require / verify-ca / verify-full and `sslrootcert`
//! (a PEM file), over native-tls. As libpq: require encrypts without checking the server's
//! certificate unless a root certificate is given (then it checks it, as verify-ca);
//! verify-ca checks the chain (against `sslrootcert`, else the system's roots); verify-full
//! also checks the host name. It opens connections; it never queries.

use tokio_postgres::config::SslMode as PgSslMode;

use crate::error::{ConnectError, Result};

/// libpq's `sslmode` values this runtime implements (`allow` is not one).
pub const SSL_MODES: [&str; 5] = ["disable", "prefer", "require", "verify-ca", "verify-full"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    Disable,
    /// TLS when the server offers it, else plain.
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// How to secure a PostgreSQL connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PgTls {
    pub mode: SslMode,
    /// A PEM file of the certificates to trust (libpq's `sslrootcert`).
    pub root_cert: Option<String>,
}

impl PgTls {
    /// From `sslmode` (missing or empty: prefer, libpq's default) and `sslrootcert`.
    pub fn new(mode: Option<&str>, root_cert: Option<&str>) -> std::result::Result<PgTls, String> {
        let mode = match mode
            .map(str::trim)
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "prefer" => SslMode::Prefer,
            "disable" => SslMode::Disable,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "Invalid sslmode {other:?}: expected one of {}",
                    SSL_MODES.join(", ")
                ))
            }
        };
        let root_cert = root_cert
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        Ok(PgTls { mode, root_cert })
    }

    /// From a JDBC URL's query (`sslmode=require&sslrootcert=/path`; pgjdbc's `ssl=true`
    /// alone means verify-full, as pgjdbc has it).
    pub fn from_url_query(query: &str) -> std::result::Result<PgTls, String> {
        let mut mode = None;
        let mut root_cert = None;
        let mut ssl = false;
        for kv in query.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            match k {
                "sslmode" => mode = Some(v),
                "sslrootcert" => root_cert = Some(v),
                "ssl" => ssl = v.is_empty() || v.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        PgTls::new(mode.or(ssl.then_some("verify-full")), root_cert)
    }

    /// The native-tls connector: which checks of the server's certificate are made.
    fn connector(&self) -> Result<native_tls::TlsConnector> {
        let mut b = native_tls::TlsConnector::builder();
        if let Some(path) = &self.root_cert {
            let pem = std::fs::read(path).map_err(|e| {
                ConnectError::Task(format!("Could not read sslrootcert {path}: {e}"))
            })?;
            let cert = native_tls::Certificate::from_pem(&pem).map_err(|e| {
                ConnectError::Task(format!("sslrootcert {path} is not a PEM certificate: {e}"))
            })?;
            b.add_root_certificate(cert).disable_built_in_roots(true);
        }
        let verify_chain = matches!(self.mode, SslMode::VerifyCa | SslMode::VerifyFull)
            || self.root_cert.is_some();
        b.danger_accept_invalid_certs(!verify_chain)
            .danger_accept_invalid_hostnames(self.mode != SslMode::VerifyFull);
        b.build()
            .map_err(|e| ConnectError::Task(format!("Could not set up TLS for PostgreSQL: {e}")))
    }
}

/// Connects (the connection's task runs on the current tokio runtime and ends when the client
/// is dropped).
pub async fn connect(
    config: &tokio_postgres::Config,
    tls: &PgTls,
) -> Result<tokio_postgres::Client> {
    let failed = |e: tokio_postgres::Error| {
        // The server's refusal, or the cause under tokio-postgres' "error performing TLS
        // handshake" / "db error".
        let why = match e.as_db_error() {
            Some(db) => format!("{}: {}", db.severity(), db.message()),
            None => crate::error::with_causes(&e),
        };
        ConnectError::Task(format!(
            "Could not connect to PostgreSQL (sslmode={}): {why}",
            tls.mode.as_str()
        ))
    };
    let mut config = config.clone();
    if tls.mode == SslMode::Disable {
        config.ssl_mode(PgSslMode::Disable);
        let (client, conn) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(failed)?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::warn!(error = %e, "PostgreSQL connection ended");
            }
        });
        return Ok(client);
    }
    config.ssl_mode(if tls.mode == SslMode::Prefer {
        PgSslMode::Prefer
    } else {
        PgSslMode::Require
    });
    let connector = postgres_native_tls::MakeTlsConnector::new(tls.connector()?);
    let (client, conn) = config.connect(connector).await.map_err(failed)?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_rootcert_as_libpq_and_pgjdbc_name_them() {
        assert_eq!(PgTls::new(None, None).unwrap().mode, SslMode::Prefer);
        assert_eq!(
            PgTls::new(Some("VERIFY-CA"), Some(" /ca.pem ")).unwrap(),
            PgTls {
                mode: SslMode::VerifyCa,
                root_cert: Some("/ca.pem".into())
            }
        );
        assert!(PgTls::new(Some("allow"), None)
            .unwrap_err()
            .contains("Invalid sslmode \"allow\""));
        let q = PgTls::from_url_query("user=u&sslmode=require&sslrootcert=/r.pem").unwrap();
        assert_eq!(
            (q.mode, q.root_cert.as_deref()),
            (SslMode::Require, Some("/r.pem"))
        );
        assert_eq!(
            PgTls::from_url_query("ssl=true").unwrap().mode,
            SslMode::VerifyFull
        );
        assert_eq!(
            PgTls::from_url_query("ssl=true&sslmode=disable")
                .unwrap()
                .mode,
            SslMode::Disable
        );
        assert_eq!(PgTls::from_url_query("").unwrap().mode, SslMode::Prefer);
    }

    #[test]
    fn a_root_cert_that_is_not_there_is_named() {
        let tls = PgTls::new(Some("verify-ca"), Some("/nonexistent/root.pem")).unwrap();
        let e = tls.connector().unwrap_err().to_string();
        assert!(
            e.contains("Could not read sslrootcert /nonexistent/root.pem"),
            "{e}"
        );
    }
}
