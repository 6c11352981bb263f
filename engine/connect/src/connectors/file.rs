//! `org.apache.kafka.connect.file.FileStreamSourceConnector` and `...FileStreamSinkConnector`:
//! lines of a local file into a topic (source partition `{"filename": F}`, offset
//! `{"position": byte offset after the last line sent}`; only whole lines are sent), and
//! record values out to a file, one per line (flushed before offsets are committed). File
//! reads and writes run on tokio's blocking threads. It never touches topics.

use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use serde_json::{json, Value as Json};

use crate::config::{int, list, Config, ConfigDef, ConfigType, Importance, Validator};
use crate::data::{primitive_schema, Data, Record, SinkRecord, SourceRecord};
use crate::error::{ConnectError, Result};
use crate::plugin::{
    BoxFuture, Connector, OffsetReader, SinkConnector, SinkTask, SourceConnector, SourceTask,
};

pub const SOURCE_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
pub const SINK_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// How long a source task waits when the file has no new whole line.
const IDLE_WAIT: std::time::Duration = std::time::Duration::from_millis(200);
/// How many buffered bytes make the source task skip reading more this poll.
const READ_AHEAD: usize = 1 << 16;

pub struct FileStreamSource;
pub struct FileStreamSink;

impl Connector for FileStreamSource {
    fn class(&self) -> &'static str {
        SOURCE_CLASS
    }

    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define("file", ConfigType::String, None, Validator::NonEmptyString, Importance::High,
                "Source filename. (Sluice reads files only: standard input is not a source here.)")
            .define("topic", ConfigType::List, None, Validator::NonEmptyString, Importance::High,
                "The topic to publish data to")
            .define("batch.size", ConfigType::Int, Some("2000"), Validator::AtLeast(1), Importance::Low,
                "The maximum number of records the source task can read from the file each time it is polled")
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        if list(config, "topic").len() > 1 {
            return vec![("topic".into(), "'topic' in FileStreamSourceConnector configuration requires definition of a single topic".into())];
        }
        Vec::new()
    }

    fn task_configs(&self, config: &Config, _max_tasks: usize) -> Result<Vec<Config>> {
        Ok(vec![config.clone()])
    }
}

impl SourceConnector for FileStreamSource {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(FileSourceTask::default())
    }
}

#[derive(Default)]
struct FileSourceTask {
    file: String,
    topic: String,
    batch_size: usize,
    position: u64,
    /// Bytes read past `position` that do not end in a newline yet.
    pending: Vec<u8>,
}

impl FileSourceTask {
    fn partition(&self) -> Json {
        json!({"filename": self.file})
    }

    /// Whole lines from `position`, at most `batch_size`.
    fn read_lines(&mut self) -> Result<Vec<SourceRecord>> {
        let mut f = match std::fs::File::open(&self.file) {
            Ok(f) => f,
            // Upstream waits for the file to appear.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(ConnectError::Task(format!(
                    "Couldn't read file {}: {e}",
                    self.file
                )))
            }
        };
        let start = self.position + self.pending.len() as u64;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.position {
            // Truncated: upstream keeps its position; so do we (nothing new until it grows).
            return Ok(Vec::new());
        }
        // Read more only when what is buffered is short (or holds no whole line): the buffer
        // stays about one read long however far behind the task is.
        if len > start && (self.pending.len() < READ_AHEAD || !self.pending.contains(&b'\n')) {
            f.seek(SeekFrom::Start(start))
                .map_err(|e| ConnectError::Task(e.to_string()))?;
            let want = ((len - start) as usize).min(1 << 20);
            let mut buf = vec![0; want];
            let n = f
                .read(&mut buf)
                .map_err(|e| ConnectError::Task(e.to_string()))?;
            self.pending.extend_from_slice(&buf[..n]);
        }
        let mut out = Vec::new();
        // Lines are taken by index and the buffer shifted once per batch (not once per line).
        let mut taken = 0;
        while out.len() < self.batch_size {
            let Some(nl) = self.pending[taken..].iter().position(|&b| b == b'\n') else {
                break;
            };
            let line = &self.pending[taken..=taken + nl];
            taken += nl + 1;
            self.position += line.len() as u64;
            let text = String::from_utf8_lossy(&line[..line.len() - 1]);
            let text = text.strip_suffix('\r').unwrap_or(&text).to_string();
            out.push(SourceRecord {
                source_partition: self.partition(),
                source_offset: json!({"position": self.position}),
                record: Record::new(
                    self.topic.clone(),
                    Some(Arc::new(primitive_schema("string", false))),
                    Data::Str(text),
                ),
            });
        }
        self.pending.drain(..taken);
        Ok(out)
    }
}

impl SourceTask for FileSourceTask {
    fn start<'a>(
        &'a mut self,
        config: &'a Config,
        offsets: Arc<dyn OffsetReader>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.file = config.get("file").cloned().unwrap_or_default();
            self.topic = list(config, "topic").into_iter().next().unwrap_or_default();
            self.batch_size = int(config, "batch.size", 2000).max(1) as usize;
            self.position = offsets
                .offset(&self.partition())
                .and_then(|o| o["position"].as_u64())
                .unwrap_or(0);
            Ok(())
        })
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Vec<SourceRecord>>> {
        Box::pin(async move {
            // The cursor goes to a blocking thread and comes back; a poll dropped meanwhile
            // is the task stopping, which restarts from the committed offsets.
            let mut cursor = std::mem::take(self);
            let (cursor, lines) = tokio::task::spawn_blocking(move || {
                let lines = cursor.read_lines();
                (cursor, lines)
            })
            .await
            .map_err(|e| ConnectError::Task(format!("reading a file: {e}")))?;
            *self = cursor;
            let lines = lines?;
            if lines.is_empty() {
                tokio::time::sleep(IDLE_WAIT).await;
            }
            Ok(lines)
        })
    }
}

impl Connector for FileStreamSink {
    fn class(&self) -> &'static str {
        SINK_CLASS
    }

    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            "file",
            ConfigType::String,
            None,
            Validator::NonEmptyString,
            Importance::High,
            "Destination filename. (Sluice writes files only: standard output is not a sink here.)",
        )
    }

    /// One task whatever `tasks.max`: tasks appending to one file would interleave lines and
    /// could not cut the file back to a committed length.
    fn task_configs(&self, config: &Config, _max_tasks: usize) -> Result<Vec<Config>> {
        Ok(vec![config.clone()])
    }
}

impl SinkConnector for FileStreamSink {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(FileSinkTask {
            out: None,
            file: String::new(),
        })
    }
}

struct FileSinkTask {
    file: String,
    out: Option<std::io::BufWriter<std::fs::File>>,
}

impl FileSinkTask {
    /// Runs `op` on the output file on a blocking thread.
    async fn write(
        &mut self,
        op: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()> + Send + 'static,
    ) -> Result<()> {
        let mut out = self
            .out
            .take()
            .ok_or_else(|| ConnectError::Task("FileStreamSinkTask is not started".into()))?;
        let (out, done) = tokio::task::spawn_blocking(move || {
            let done = op(&mut out);
            (out, done)
        })
        .await
        .map_err(|e| ConnectError::Task(format!("writing {}: {e}", self.file)))?;
        self.out = Some(out);
        done.map_err(|e| ConnectError::Task(format!("writing {}: {e}", self.file)))
    }
}

impl SinkTask for FileSinkTask {
    fn start<'a>(
        &'a mut self,
        config: &'a Config,
        position: Option<&'a str>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.file = config.get("file").cloned().unwrap_or_default();
            let file = self.file.clone();
            let committed_len = position.and_then(|p| p.parse::<u64>().ok());
            let f = tokio::task::spawn_blocking(move || open_sink_file(&file, committed_len))
                .await
                .map_err(|e| ConnectError::Task(format!("opening {}: {e}", self.file)))??;
            self.out = Some(std::io::BufWriter::new(f));
            Ok(())
        })
    }

    fn put<'a>(&'a mut self, records: &'a [SinkRecord]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let text: String = records
                .iter()
                .map(|r| r.record.value.to_text() + "\n")
                .collect();
            self.write(move |out| out.write_all(text.as_bytes())).await
        })
    }

    /// Reports the file's length: what the committed offsets have been written up to.
    fn flush(&mut self) -> BoxFuture<'_, Result<Option<String>>> {
        Box::pin(async move {
            self.write(|out| out.flush()).await?;
            let len = self
                .out
                .as_ref()
                .and_then(|o| o.get_ref().metadata().ok())
                .map(|m| m.len());
            Ok(len.map(|l| l.to_string()))
        })
    }
}

/// Opens the output for appending; a file longer than the length committed with the offsets
/// holds lines of records that will be delivered again, so it is cut back to that length.
fn open_sink_file(path: &str, committed_len: Option<u64>) -> Result<std::fs::File> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            ConnectError::Task(format!(
                "Couldn't find or create file '{path}' for FileStreamSinkTask: {e}"
            ))
        })?;
    if let Some(len) = committed_len {
        let now = f.metadata().map(|m| m.len()).unwrap_or(0);
        if now > len {
            tracing::info!(
                file = path,
                committed = len,
                found = now,
                "cutting lines written after the last commit"
            );
            f.set_len(len).map_err(|e| {
                ConnectError::Task(format!("cutting {path} back to {len} bytes: {e}"))
            })?;
        }
    }
    Ok(f)
}
