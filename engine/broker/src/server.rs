//! The TCP side: accepting connections (with a limit), Kafka framing (i32 length prefix),
//! header decoding and response encoding. Requests on one connection are answered in order,
//! one at a time, as Kafka does. A bad frame closes only its own connection.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable};
use kafka_protocol::ResponseError;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::apis;
use crate::Broker;

/// What a handler may want to know about the connection a request came on.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub peer: SocketAddr,
}

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    broker: Arc<Broker>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let limit = Arc::new(Semaphore::new(broker.config.max_connections));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = limit.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "connection limit reached; closing");
                    drop(stream);
                    continue;
                };
                let broker = broker.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle_connection(broker, stream, peer).await {
                        tracing::debug!(%peer, error = %e, "connection closed");
                    }
                    drop(permit);
                });
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum ConnError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("bad frame: {0}")]
    Frame(String),
}

async fn handle_connection(
    broker: Arc<Broker>,
    stream: TcpStream,
    peer: SocketAddr,
) -> Result<(), ConnError> {
    stream.set_nodelay(true)?;
    let (mut rd, wr) = stream.into_split();
    let mut wr = BufWriter::new(wr);
    let conn = ConnectionInfo { peer };
    let max = broker.config.max_request_bytes;
    loop {
        let len = match rd.read_i32().await {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if len < 8 || len as usize > max {
            return Err(ConnError::Frame(format!(
                "frame length {len} outside 8..={max}"
            )));
        }
        let mut buf = BytesMut::zeroed(len as usize);
        rd.read_exact(&mut buf).await?;
        let frame = buf.freeze();
        // A request may wait (long-poll fetch, a join during a rebalance); if the client hangs
        // up meanwhile, drop the request so the group does not wait for a dead member.
        let outcome = tokio::select! {
            out = process_frame(&broker, &conn, frame) => out?,
            _ = peer_hung_up(&mut rd) => return Ok(()),
        };
        let Some(out) = outcome else {
            continue;
        };
        wr.write_i32(out.len() as i32).await?;
        wr.write_all(&out).await?;
        wr.flush().await?;
    }
}

/// Resolves when the peer has closed its side; stays pending while it is connected (including
/// when it has already sent its next request, which is read after the current one).
async fn peer_hung_up(rd: &mut tokio::net::tcp::OwnedReadHalf) {
    let mut probe = [0u8; 1];
    loop {
        match rd.peek(&mut probe).await {
            Ok(0) | Err(_) => return,
            Ok(_) => std::future::pending::<()>().await,
        }
    }
}

/// Decodes one request frame, runs it, and encodes the response (None: no response, as for
/// acks=0 produce). An error closes the connection.
pub async fn process_frame(
    broker: &Arc<Broker>,
    conn: &ConnectionInfo,
    mut frame: Bytes,
) -> Result<Option<Bytes>, ConnErrorPublic> {
    if frame.len() < 8 {
        return Err(ConnErrorPublic(
            "frame shorter than a request header".into(),
        ));
    }
    let key = (&frame[0..2]).get_i16();
    let version = (&frame[2..4]).get_i16();
    let correlation_id = (&frame[4..8]).get_i32();
    let Ok(api_key) = ApiKey::try_from(key) else {
        return Err(ConnErrorPublic(format!("unknown api key {key}")));
    };
    let Some(range) = apis::supported_versions(api_key) else {
        return Err(ConnErrorPublic(format!("api {api_key:?} is not supported")));
    };
    if version < range.min || version > range.max {
        if api_key == ApiKey::ApiVersions {
            // KIP-511: answer with a v0 response listing what we support.
            let body = apis::api_versions_response(ResponseError::UnsupportedVersion.code());
            return Ok(Some(encode_response(correlation_id, 0, 0, |b| {
                body.encode(b, 0)
            })?));
        }
        return Err(ConnErrorPublic(format!(
            "{api_key:?} v{version} outside {}..{}",
            range.min, range.max
        )));
    }
    let header_version = api_key.request_header_version(version);
    let header = RequestHeader::decode(&mut frame, header_version)
        .map_err(|e| ConnErrorPublic(format!("bad request header: {e}")))?;
    let request = RequestKind::decode(api_key, &mut frame, version)
        .map_err(|e| ConnErrorPublic(format!("bad {api_key:?} v{version} request: {e}")))?;
    let Some(response) = apis::handle(broker, conn, &header, request).await else {
        return Ok(None);
    };
    let rh_version = api_key.response_header_version(version);
    Ok(Some(encode_response(
        correlation_id,
        rh_version,
        version,
        |b| response.encode(b, version),
    )?))
}

/// A reason to close a connection.
#[derive(Debug)]
pub struct ConnErrorPublic(pub String);

impl From<ConnErrorPublic> for ConnError {
    fn from(e: ConnErrorPublic) -> Self {
        ConnError::Frame(e.0)
    }
}

fn encode_response(
    correlation_id: i32,
    header_version: i16,
    _version: i16,
    body: impl FnOnce(&mut BytesMut) -> anyhow::Result<()>,
) -> Result<Bytes, ConnErrorPublic> {
    let mut b = BytesMut::with_capacity(256);
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    header
        .encode(&mut b, header_version)
        .map_err(|e| ConnErrorPublic(format!("encoding response header: {e}")))?;
    body(&mut b).map_err(|e| ConnErrorPublic(format!("encoding response: {e}")))?;
    Ok(b.freeze())
}
