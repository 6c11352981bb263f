//! `io.confluent.connect.http.HttpSinkConnector`: record values sent to an HTTP endpoint with
//! Confluent's keys: `http.api.url`, `request.method`, `headers` (split at `header.separator`),
//! batches of up to `batch.max.size` records (a JSON array with `batch.json.as.array`, else
//! joined by `batch.separator` between `batch.prefix` and `batch.suffix`),
//! `request.body.format` string / json, retries of failed requests (`max.retries`, exponential
//! from `retry.backoff.ms`, on the statuses of `retry.on.status.codes` and on connection
//! errors), then `behavior.on.error`: fail the task, ignore, or log and report the batch's
//! records to the runtime (errors.tolerance / the dead letter queue). https endpoints over
//! native-tls: the system's roots, or those of a PEM `https.ssl.truststore.location`
//! (`https.ssl.truststore.type=PEM`) instead; `https.host.verifier.enabled=false` skips the
//! host name check. It only talks HTTP; it never touches topics.

use std::time::Duration;

use crate::config::{boolean, int, Config, ConfigDef, ConfigType, Importance, Validator};
use crate::data::{Data, SinkRecord};
use crate::error::{ConnectError, Result};
use crate::plugin::{BoxFuture, Connector, SinkConnector, SinkTask};

pub const CLASS: &str = "io.confluent.connect.http.HttpSinkConnector";

pub struct HttpSink;

fn get(c: &Config, k: &str, default: &str) -> String {
    c.get(k).cloned().unwrap_or_else(|| default.to_string())
}

/// `400-`, `500-599`, `429`, comma-separated: whether `status` is in the list.
fn status_matches(spec: &str, status: u16) -> bool {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .any(|part| match part.split_once('-') {
            Some((lo, hi)) => {
                let lo: u16 = lo.trim().parse().unwrap_or(0);
                let hi: u16 = hi.trim().parse().unwrap_or(u16::MAX);
                (lo..=hi).contains(&status)
            }
            None => part.parse::<u16>() == Ok(status),
        })
}

/// The certificates of `https.ssl.truststore.location` (PEM), if set.
fn trust_store(config: &Config) -> std::result::Result<Vec<reqwest::Certificate>, String> {
    let path = get(config, "https.ssl.truststore.location", "");
    let path = path.trim();
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let pem = std::fs::read(path).map_err(|e| format!("Could not read trust store {path}: {e}"))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("Trust store {path} is not PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!("Trust store {path} holds no PEM certificate"));
    }
    Ok(certs)
}

fn valid_status_spec(spec: &str) -> bool {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .all(|part| {
            let ok = |s: &str| s.trim().is_empty() || s.trim().parse::<u16>().is_ok();
            match part.split_once('-') {
                Some((lo, hi)) => !lo.trim().is_empty() && ok(lo) && ok(hi),
                None => part.parse::<u16>().is_ok(),
            }
        })
}

impl Connector for HttpSink {
    fn class(&self) -> &'static str {
        CLASS
    }

    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define("http.api.url", ConfigType::String, None, Validator::NonEmptyString, Importance::High, "HTTP API URL.")
            .define("request.method", ConfigType::String, Some("POST"), Validator::OneOf(vec!["POST", "PUT", "PATCH", "DELETE"]), Importance::High, "HTTP Request Method. Valid options are PUT, POST, PATCH and DELETE.")
            .define("headers", ConfigType::String, Some(""), Validator::None, Importance::High, "HTTP headers to be included in all requests. Individual headers should be separated by the header.separator")
            .define("header.separator", ConfigType::String, Some("|"), Validator::None, Importance::High, "Separator character used in headers property.")
            .define("http.connect.timeout.ms", ConfigType::Int, Some("30000"), Validator::AtLeast(1), Importance::Low, "Time to wait for a connection to be established.")
            .define("http.request.timeout.ms", ConfigType::Int, Some("30000"), Validator::AtLeast(1), Importance::Low, "Time to wait for a request response to arrive.")
            .group("HTTP")
            .define("https.ssl.truststore.location", ConfigType::String, Some(""), Validator::None, Importance::High, "The location of the trust store file.")
            .define("https.ssl.truststore.type", ConfigType::String, Some("PEM"), Validator::OneOf(vec!["PEM"]), Importance::Medium, "The file format of the trust store file. This runtime reads PEM trust stores (certificates in PEM).")
            .define("https.host.verifier.enabled", ConfigType::Boolean, Some("true"), Validator::None, Importance::Medium, "True if SSL host verification should be enabled.")
            .group("Security")
            .define("request.body.format", ConfigType::String, Some("string"), Validator::OneOf(vec!["string", "json"]), Importance::Medium, "Used to produce request body in either JSON or String format.")
            .define("batch.max.size", ConfigType::Int, Some("1"), Validator::AtLeast(1), Importance::High, "The number of records accumulated in a batch before the HTTP API is invoked.")
            .define("batch.json.as.array", ConfigType::Boolean, Some("false"), Validator::None, Importance::High, "Whether or not to use an array to bundle JSON records. Only used when request.body.format is set to json.")
            .define("batch.prefix", ConfigType::String, Some(""), Validator::None, Importance::High, "Prefix added to record batches.")
            .define("batch.suffix", ConfigType::String, Some(""), Validator::None, Importance::High, "Suffix added to record batches.")
            .define("batch.separator", ConfigType::String, Some(","), Validator::None, Importance::High, "Separator for records in a batch.")
            .group("Batching")
            .define("max.retries", ConfigType::Int, Some("10"), Validator::AtLeast(0), Importance::Medium, "The maximum number of times to retry on errors before failing the task.")
            .define("retry.backoff.ms", ConfigType::Int, Some("3000"), Validator::AtLeast(0), Importance::Medium, "The initial duration in milliseconds to wait following an error before a retry attempt is made. Subsequent backoff attempts are exponentially larger.")
            .define("retry.on.status.codes", ConfigType::String, Some("400-"), Validator::None, Importance::Medium, "The HTTP error codes to retry on. Comma-separated list of codes or range of codes to retry on. Ranges are specified with start and optional end code. Range boundaries are inclusive. For instance, 400- includes all codes greater than or equal to 400. 400-500 includes codes from 400 to 500, including 500.")
            .define("behavior.on.error", ConfigType::String, Some("fail"), Validator::OneOf(vec!["fail", "ignore", "log"]), Importance::Medium, "Error handling behavior setting for handling error response from HTTP requests: fail the task, ignore, or log (and report the records to the errant record reporter: errors.tolerance / errors.deadletterqueue.topic.name).")
            .group("Retries")
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        if let Some(url) = config.get("http.api.url") {
            let u = url.trim();
            if !(u.is_empty() || u.starts_with("http://") || u.starts_with("https://")) {
                errors.push((
                    "http.api.url".into(),
                    format!("Invalid URL {u}: it must start with http:// or https://"),
                ));
            }
        }
        if let Err(e) = trust_store(config) {
            errors.push(("https.ssl.truststore.location".into(), e));
        }
        let sep = get(config, "header.separator", "|");
        for h in get(config, "headers", "")
            .split(sep.as_str())
            .filter(|h| !h.trim().is_empty())
        {
            if !h.contains(':') {
                errors.push((
                    "headers".into(),
                    format!("Invalid header {h:?}: expected Name:Value"),
                ));
            }
        }
        let spec = get(config, "retry.on.status.codes", "400-");
        if !valid_status_spec(&spec) {
            errors.push((
                "retry.on.status.codes".into(),
                format!("Invalid status code list {spec:?}"),
            ));
        }
        errors
    }

    fn task_configs(&self, config: &Config, max_tasks: usize) -> Result<Vec<Config>> {
        Ok(vec![config.clone(); max_tasks.max(1)])
    }
}

impl SinkConnector for HttpSink {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(HttpSinkTask::default())
    }
}

#[derive(Default)]
struct HttpSinkTask {
    client: Option<reqwest::Client>,
    url: String,
    method: String,
    headers: Vec<(String, String)>,
    json: bool,
    batch_max: usize,
    as_array: bool,
    prefix: String,
    suffix: String,
    separator: String,
    max_retries: u32,
    backoff_ms: u64,
    retry_on: String,
    behavior: String,
    errant: Vec<(SinkRecord, ConnectError)>,
}

/// A record value as one element of a body.
fn body_text(v: &Data, json: bool) -> String {
    match v {
        Data::Str(s) if !json => s.clone(),
        Data::Null => "null".into(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

impl HttpSinkTask {
    fn body(&self, batch: &[SinkRecord]) -> String {
        if self.as_array {
            // Values that are JSON text are embedded as JSON, others as their JSON form.
            let items: Vec<serde_json::Value> = batch
                .iter()
                .map(|r| match &r.record.value {
                    Data::Str(s) => serde_json::from_str(s)
                        .unwrap_or_else(|_| serde_json::Value::String(s.clone())),
                    other => other.to_json(),
                })
                .collect();
            return serde_json::Value::Array(items).to_string();
        }
        let parts: Vec<String> = batch
            .iter()
            .map(|r| body_text(&r.record.value, self.json))
            .collect();
        format!(
            "{}{}{}",
            self.prefix,
            parts.join(&self.separator),
            self.suffix
        )
    }

    /// Sends one request; Ok(None) on success, Ok(Some(why)) for an answer not worth retrying,
    /// Err(why) for one worth retrying.
    async fn send(&self, body: &str) -> std::result::Result<Option<String>, String> {
        let client = self.client.as_ref().ok_or("HttpSinkTask is not started")?;
        let method =
            reqwest::Method::from_bytes(self.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut req = client.request(method, &self.url).body(body.to_string());
        let mut has_content_type = false;
        for (k, v) in &self.headers {
            has_content_type |= k.eq_ignore_ascii_case("content-type");
            req = req.header(k, v);
        }
        if !has_content_type {
            let ct = if self.json || self.as_array {
                "application/json"
            } else {
                "text/plain"
            };
            req = req.header("Content-Type", ct);
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                if resp.status().is_success() {
                    return Ok(None);
                }
                let text = resp.text().await.unwrap_or_default();
                let why = format!(
                    "HTTP {status} from {}: {}",
                    self.url,
                    text.chars().take(500).collect::<String>()
                );
                if status_matches(&self.retry_on, status) {
                    Err(why)
                } else {
                    Ok(Some(why))
                }
            }
            Err(e) => {
                let why = crate::error::with_causes(&e);
                Err(format!(
                    "Exception while processing HTTP request for a batch of records to {}: {why}",
                    self.url
                ))
            }
        }
    }

    /// Sends a batch with retries; Some(why) when it failed for good.
    async fn send_batch(&self, batch: &[SinkRecord]) -> Option<String> {
        let body = self.body(batch);
        let mut attempt = 0u32;
        loop {
            match self.send(&body).await {
                Ok(None) => return None,
                Ok(Some(why)) => return Some(why),
                Err(why) if attempt >= self.max_retries => {
                    return Some(format!("{why} (after {attempt} retries)"))
                }
                Err(why) => {
                    let delay = self
                        .backoff_ms
                        .saturating_mul(1u64 << attempt.min(16))
                        .min(300_000);
                    tracing::warn!(error = %why, attempt, delay_ms = delay, "HTTP sink request failed; retrying");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
            }
        }
    }
}

impl SinkTask for HttpSinkTask {
    fn start<'a>(
        &'a mut self,
        config: &'a Config,
        _position: Option<&'a str>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.url = get(config, "http.api.url", "").trim().to_string();
            self.method = get(config, "request.method", "POST")
                .trim()
                .to_ascii_uppercase();
            let sep = get(config, "header.separator", "|");
            self.headers = get(config, "headers", "")
                .split(sep.as_str())
                .filter_map(|h| h.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            self.json = get(config, "request.body.format", "string")
                .trim()
                .eq_ignore_ascii_case("json");
            self.batch_max = int(config, "batch.max.size", 1).max(1) as usize;
            self.as_array = crate::config::boolean(config, "batch.json.as.array", false);
            self.prefix = get(config, "batch.prefix", "");
            self.suffix = get(config, "batch.suffix", "");
            self.separator = get(config, "batch.separator", ",");
            self.max_retries = int(config, "max.retries", 10).clamp(0, 1000) as u32;
            self.backoff_ms = int(config, "retry.backoff.ms", 3000).max(0) as u64;
            self.retry_on = get(config, "retry.on.status.codes", "400-");
            self.behavior = get(config, "behavior.on.error", "fail")
                .trim()
                .to_ascii_lowercase();
            let mut builder = reqwest::Client::builder()
                .connect_timeout(Duration::from_millis(
                    int(config, "http.connect.timeout.ms", 30_000).max(1) as u64,
                ))
                .timeout(Duration::from_millis(
                    int(config, "http.request.timeout.ms", 30_000).max(1) as u64,
                ))
                .danger_accept_invalid_hostnames(!boolean(
                    config,
                    "https.host.verifier.enabled",
                    true,
                ));
            let trusted = trust_store(config).map_err(ConnectError::Task)?;
            if !trusted.is_empty() {
                // A trust store replaces the system's roots, as a Java truststore does.
                builder = builder.tls_built_in_root_certs(false);
            }
            for cert in trusted {
                builder = builder.add_root_certificate(cert);
            }
            let client = builder
                .build()
                .map_err(|e| ConnectError::Task(format!("HTTP client: {e}")))?;
            self.client = Some(client);
            Ok(())
        })
    }

    fn put<'a>(&'a mut self, records: &'a [SinkRecord]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for batch in records.chunks(self.batch_max) {
                let Some(why) = self.send_batch(batch).await else {
                    continue;
                };
                match self.behavior.as_str() {
                    "ignore" => {}
                    "log" => {
                        tracing::error!(error = %why, records = batch.len(), "HTTP sink batch failed; reporting its records");
                        self.errant.extend(
                            batch
                                .iter()
                                .map(|r| (r.clone(), ConnectError::Task(why.clone()))),
                        );
                    }
                    _ => return Err(ConnectError::Task(why)),
                }
            }
            Ok(())
        })
    }

    /// No position to report: a request sent cannot be taken back, so delivery is at least
    /// once.
    fn flush(&mut self) -> BoxFuture<'_, Result<Option<String>>> {
        // Every put sent its requests already.
        Box::pin(async { Ok(None) })
    }

    fn take_errant(&mut self) -> Vec<(SinkRecord, ConnectError)> {
        std::mem::take(&mut self.errant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Record;

    #[test]
    fn status_code_lists() {
        assert!(status_matches("400-", 503));
        assert!(!status_matches("400-", 302));
        assert!(status_matches("429,500-599", 429));
        assert!(!status_matches("429,500-599", 400));
        assert!(valid_status_spec("400-,429"));
        assert!(!valid_status_spec("abc"));
    }

    #[test]
    fn bodies() {
        let rec = |v: &str| SinkRecord {
            record: Record::new("t", None, Data::Str(v.into())),
            kafka_partition: 0,
            kafka_offset: 0,
        };
        let mut t = HttpSinkTask {
            as_array: true,
            ..Default::default()
        };
        let batch = [rec("{\"a\":1}"), rec("plain")];
        assert_eq!(t.body(&batch), r#"[{"a":1},"plain"]"#);
        t.as_array = false;
        t.prefix = "[".into();
        t.suffix = "]".into();
        t.separator = ";".into();
        assert_eq!(t.body(&batch), "[{\"a\":1};plain]");
    }
}
