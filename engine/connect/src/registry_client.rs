//! The schema registry the registry converters talk to, behind one [`RegistryClient`] trait:
//! the embedded registry in-process, or any Confluent-compatible registry over its REST API
//! when `schema.registry.url` names another one (with `basic.auth.credentials.source`
//! USER_INFO / URL). It owns registry calls only; it never encodes data and never caches
//! (the converters do).

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use sluice_registry::model::SchemaType;
use sluice_registry::registry::{SchemaInput, VersionSpec};
use sluice_registry::SchemaRegistry;

use crate::config::Config;
use crate::error::{ConnectError, Result};

/// A registered schema: id, type and text.
pub type Registered = (u32, SchemaType, String);

/// What a registry converter asks of a schema registry (Confluent's `SchemaRegistryClient`).
pub trait RegistryClient: Send + Sync {
    /// Registers `schema` under `subject` (or finds it there) and returns its id.
    fn register(&self, subject: &str, kind: SchemaType, schema: &str) -> Result<u32>;
    /// The id of `schema` if it is registered under `subject` (an error if not).
    fn lookup(&self, subject: &str, kind: SchemaType, schema: &str) -> Result<u32>;
    /// The latest version of `subject`.
    fn latest(&self, subject: &str) -> Result<Registered>;
    /// The schema of an id.
    fn by_id(&self, id: u32) -> Result<(SchemaType, String)>;
}

/// The embedded registry and the URL its listener serves, if any: a `schema.registry.url`
/// naming that address is served in-process.
#[derive(Clone)]
pub struct Embedded {
    pub registry: Arc<SchemaRegistry>,
    pub url: Option<String>,
}

/// The registry client for a converter's `*.converter.*` keys: in-process when
/// `schema.registry.url` is absent or names the embedded registry, else over HTTP.
pub fn registry_client(
    props: &Config,
    embedded: Option<&Embedded>,
) -> Result<Arc<dyn RegistryClient>> {
    // Confluent takes a comma-separated list and uses one at a time; Sluice uses the first.
    let url = props
        .get("schema.registry.url")
        .and_then(|u| u.split(',').map(str::trim).find(|u| !u.is_empty()));
    match (url, embedded) {
        (None, Some(e)) => Ok(Arc::new(InProcess(Arc::clone(&e.registry)))),
        (Some(u), Some(e)) if e.url.as_deref().is_some_and(|own| same_address(u, own)) => {
            Ok(Arc::new(InProcess(Arc::clone(&e.registry))))
        }
        (Some(u), _) => Ok(Arc::new(HttpRegistry::new(u, props)?)),
        (None, None) => Err(ConnectError::BadRequest(
            "Missing required configuration \"schema.registry.url\" which has no default value."
                .into(),
        )),
    }
}

fn parse_url(u: &str) -> Option<reqwest::Url> {
    let u = u.trim();
    if u.contains("://") {
        reqwest::Url::parse(u).ok()
    } else {
        reqwest::Url::parse(&format!("http://{u}")).ok()
    }
}

/// Whether two registry URLs reach the same listener (loopback names count as one host).
fn same_address(a: &str, b: &str) -> bool {
    let (Some(a), Some(b)) = (parse_url(a), parse_url(b)) else {
        return false;
    };
    let local = |h: &str| {
        let h = h.trim_start_matches('[').trim_end_matches(']');
        h == "localhost"
            || h == "0.0.0.0"
            || h == "::"
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    let (ha, hb) = (a.host_str().unwrap_or(""), b.host_str().unwrap_or(""));
    a.scheme() == b.scheme()
        && a.port_or_known_default() == b.port_or_known_default()
        && (ha.eq_ignore_ascii_case(hb) || (local(ha) && local(hb)))
}

/// The embedded registry, called in-process.
struct InProcess(Arc<SchemaRegistry>);

fn input(kind: SchemaType, schema: &str) -> SchemaInput {
    SchemaInput {
        schema_type: kind,
        schema: schema.to_string(),
        references: Vec::new(),
        id: None,
        version: None,
    }
}

fn registry_err(e: impl std::fmt::Display) -> ConnectError {
    ConnectError::Registry(e.to_string())
}

impl RegistryClient for InProcess {
    fn register(&self, subject: &str, kind: SchemaType, schema: &str) -> Result<u32> {
        self.0
            .register(subject, input(kind, schema), false)
            .map_err(registry_err)
    }

    fn lookup(&self, subject: &str, kind: SchemaType, schema: &str) -> Result<u32> {
        self.0
            .lookup(subject, &input(kind, schema), false, false)
            .map(|r| r.id)
            .map_err(registry_err)
    }

    fn latest(&self, subject: &str) -> Result<Registered> {
        self.0
            .version(subject, VersionSpec::Latest, false)
            .map(|r| (r.id, r.schema_type, r.schema))
            .map_err(registry_err)
    }

    fn by_id(&self, id: u32) -> Result<(SchemaType, String)> {
        self.0
            .schema_by_id(id)
            .map(|(t, s, _)| (t, s))
            .map_err(registry_err)
    }
}

/// One HTTP call for the client's thread: method, URL, JSON body; answered with the status
/// and body.
struct Call {
    post: bool,
    url: reqwest::Url,
    body: Option<Vec<u8>>,
    reply: mpsc::SyncSender<std::result::Result<(u16, Vec<u8>), String>>,
}

/// A Confluent-compatible registry over its REST API. The converters are synchronous and
/// call it only when their caches miss, so calls run on the client's own thread (its own
/// current-thread runtime and reqwest client) and the caller waits, leaving its tokio worker
/// to the runtime's other tasks meanwhile (`block_in_place`).
struct HttpRegistry {
    base: reqwest::Url,
    auth: Option<(String, Option<String>)>,
    calls: Mutex<Option<mpsc::Sender<Call>>>,
}

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

impl HttpRegistry {
    fn new(url: &str, props: &Config) -> Result<HttpRegistry> {
        let mut base = parse_url(url)
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                ConnectError::BadRequest(format!(
                    "Invalid value {url} for configuration schema.registry.url: not an http URL"
                ))
            })?;
        let source = props
            .get("basic.auth.credentials.source")
            .map(|s| s.trim().to_ascii_uppercase())
            .unwrap_or_else(|| "URL".into());
        let auth = match source.as_str() {
            "USER_INFO" => props
                .get("basic.auth.user.info")
                .filter(|s| !s.is_empty())
                .map(|ui| match ui.split_once(':') {
                    Some((u, p)) => (u.to_string(), Some(p.to_string())),
                    None => (ui.to_string(), None),
                }),
            "URL" => (!base.username().is_empty())
                .then(|| (base.username().to_string(), base.password().map(str::to_string))),
            other => {
                return Err(ConnectError::BadRequest(format!(
                    "Invalid value {other} for configuration basic.auth.credentials.source: USER_INFO or URL"
                )))
            }
        };
        let _ = base.set_username("");
        let _ = base.set_password(None);
        Ok(HttpRegistry {
            base,
            auth,
            calls: Mutex::new(None),
        })
    }

    /// The URL of a path under the base, each segment escaped.
    fn url(&self, segments: &[&str]) -> reqwest::Url {
        let mut u = self.base.clone();
        if let Ok(mut path) = u.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        u
    }

    /// The client's thread, started on first use; it ends when the client is dropped.
    fn sender(&self) -> Result<mpsc::Sender<Call>> {
        let mut calls = self.calls.lock();
        if let Some(tx) = calls.as_ref() {
            return Ok(tx.clone());
        }
        let (tx, rx) = mpsc::channel::<Call>();
        let auth = self.auth.clone();
        std::thread::Builder::new()
            .name("schema-registry-client".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        for call in rx {
                            let _ = call.reply.send(Err(e.to_string()));
                        }
                        return;
                    }
                };
                let client = reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(Duration::from_secs(15))
                    .build();
                for call in rx {
                    let answer = match &client {
                        Ok(client) => runtime.block_on(async {
                            let mut req = if call.post {
                                client.post(call.url)
                            } else {
                                client.get(call.url)
                            };
                            req = req.header("Accept", CONTENT_TYPE);
                            if let Some(body) = call.body {
                                req = req.header("Content-Type", CONTENT_TYPE).body(body);
                            }
                            if let Some((user, password)) = &auth {
                                req = req.basic_auth(user, password.as_ref());
                            }
                            let resp = req.send().await.map_err(|e| e.to_string())?;
                            let status = resp.status().as_u16();
                            let body = resp.bytes().await.map_err(|e| e.to_string())?;
                            Ok((status, body.to_vec()))
                        }),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = call.reply.send(answer);
                }
            })
            .map_err(|e| ConnectError::Internal(format!("schema registry client thread: {e}")))?;
        *calls = Some(tx.clone());
        Ok(tx)
    }

    /// A call's JSON answer; a non-2xx status is the registry's `{"error_code","message"}`.
    fn call(&self, post: bool, segments: &[&str], body: Option<Json>) -> Result<Json> {
        let url = self.url(segments);
        let (reply, answer) = mpsc::sync_channel(1);
        self.sender()?
            .send(Call {
                post,
                url: url.clone(),
                body: body.map(|b| b.to_string().into_bytes()),
                reply,
            })
            .map_err(|_| ConnectError::Registry("the registry client stopped".into()))?;
        let wait = || answer.recv();
        let answer = match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        };
        let (status, bytes) = answer
            .map_err(|_| ConnectError::Registry("the registry client stopped".into()))?
            .map_err(|e| ConnectError::Registry(format!("{url}: {e}")))?;
        let json: Json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
        if !(200..300).contains(&status) {
            let message = json["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(ConnectError::Registry(format!(
                "{message}; error code: {}",
                json["error_code"].as_i64().unwrap_or(status as i64)
            )));
        }
        Ok(json)
    }
}

fn schema_body(kind: SchemaType, schema: &str) -> Json {
    match kind {
        // Confluent leaves schemaType out for Avro, the default.
        SchemaType::Avro => json!({"schema": schema}),
        other => json!({"schema": schema, "schemaType": other.name()}),
    }
}

fn id_of(answer: &Json) -> Result<u32> {
    answer["id"]
        .as_u64()
        .and_then(|id| u32::try_from(id).ok())
        .ok_or_else(|| ConnectError::Registry(format!("no schema id in {answer}")))
}

fn type_of(answer: &Json) -> Result<SchemaType> {
    match answer["schemaType"].as_str() {
        None => Ok(SchemaType::Avro),
        Some(t) => SchemaType::parse(t).map_err(registry_err),
    }
}

fn text_of(answer: &Json) -> Result<String> {
    answer["schema"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ConnectError::Registry(format!("no schema in {answer}")))
}

impl RegistryClient for HttpRegistry {
    fn register(&self, subject: &str, kind: SchemaType, schema: &str) -> Result<u32> {
        let answer = self.call(
            true,
            &["subjects", subject, "versions"],
            Some(schema_body(kind, schema)),
        )?;
        id_of(&answer)
    }

    fn lookup(&self, subject: &str, kind: SchemaType, schema: &str) -> Result<u32> {
        let answer = self.call(
            true,
            &["subjects", subject],
            Some(schema_body(kind, schema)),
        )?;
        id_of(&answer)
    }

    fn latest(&self, subject: &str) -> Result<Registered> {
        let answer = self.call(false, &["subjects", subject, "versions", "latest"], None)?;
        Ok((id_of(&answer)?, type_of(&answer)?, text_of(&answer)?))
    }

    fn by_id(&self, id: u32) -> Result<(SchemaType, String)> {
        let answer = self.call(false, &["schemas", "ids", &id.to_string()], None)?;
        Ok((type_of(&answer)?, text_of(&answer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_are_one_address() {
        assert!(same_address(
            "http://localhost:8081",
            "http://127.0.0.1:8081"
        ));
        assert!(same_address("127.0.0.1:8081/", "http://127.0.0.1:8081"));
        assert!(!same_address(
            "http://127.0.0.1:8082",
            "http://127.0.0.1:8081"
        ));
        assert!(!same_address(
            "http://registry:8081",
            "http://127.0.0.1:8081"
        ));
        assert!(!same_address(
            "https://127.0.0.1:8081",
            "http://127.0.0.1:8081"
        ));
    }

    #[test]
    fn the_embedded_address_or_none_stays_in_process_and_credentials_leave_the_url() {
        let dir = tempfile::tempdir().unwrap();
        let store = sluice_log::LogStore::open(dir.path()).unwrap();
        let registry = SchemaRegistry::open(store).unwrap();
        let embedded = Embedded {
            registry,
            url: Some("http://127.0.0.1:48081".into()),
        };
        let mut props = Config::new();
        let c = registry_client(&props, Some(&embedded)).unwrap();
        let id = c
            .register("t-value", SchemaType::Avro, "\"string\"")
            .unwrap();
        assert_eq!(embedded.registry.schema_by_id(id).unwrap().1, "\"string\"");
        props.insert(
            "schema.registry.url".into(),
            "http://localhost:48081".into(),
        );
        let c = registry_client(&props, Some(&embedded)).unwrap();
        assert_eq!(c.latest("t-value").unwrap().0, id);
        assert!(registry_client(&Config::new(), None).is_err());
        let http = HttpRegistry::new("http://u:p@reg.example:8081/base/", &Config::new()).unwrap();
        assert_eq!(http.auth, Some(("u".into(), Some("p".into()))));
        assert_eq!(
            http.url(&["subjects", "a b/c-value", "versions"]).as_str(),
            "http://reg.example:8081/base/subjects/a%20b%2Fc-value/versions"
        );
        let mut props = Config::new();
        props.insert("basic.auth.credentials.source".into(), "USER_INFO".into());
        props.insert("basic.auth.user.info".into(), "key:secret:x".into());
        let http = HttpRegistry::new("http://reg.example:8081", &props).unwrap();
        assert_eq!(http.auth, Some(("key".into(), Some("secret:x".into()))));
    }
}
