//! The runtime end to end in-process: file round trip across a worker restart, state
//! restored from the internal topics, the dead letter queue, a failing task and its restart,
//! validation errors.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};
use sluice_connect::config::Config;
use sluice_connect::plugin::Plugins;
use sluice_connect::store::TargetState;
use sluice_connect::worker::MemoryGroupOffsets;
use sluice_connect::{ConnectError, GroupOffsets, Worker, WorkerConfig};
use sluice_log::keyed::{append_headed, read_headed, HeadedRecord};
use sluice_log::LogStore;

fn cfg(pairs: &[(&str, &str)]) -> Config {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn open(store: &Arc<LogStore>, groups: &Arc<MemoryGroupOffsets>) -> Arc<Worker> {
    let registry = sluice_registry::SchemaRegistry::open(Arc::clone(store)).unwrap();
    let groups: Arc<dyn GroupOffsets> = groups.clone();
    Worker::open(
        Arc::clone(store),
        Some(registry),
        groups,
        Plugins::builtin(),
        WorkerConfig {
            worker_id: "127.0.0.1:8083".into(),
            default_partitions: 1,
            registry_url: None,
        },
    )
    .unwrap()
}

async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn topic_records(store: &LogStore, topic: &str) -> Vec<HeadedRecord> {
    let Some(t) = store.topic(topic) else {
        return Vec::new();
    };
    let p = t.partition(0).unwrap();
    let mut out = Vec::new();
    let mut from = 0;
    loop {
        let batch = read_headed(&p, from, 1 << 20).unwrap();
        let Some(last) = batch.last().map(|r| r.offset) else {
            break;
        };
        out.extend(batch);
        from = last + 1;
    }
    out
}

fn append_lines(path: &Path, from: usize, to: usize) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for i in from..to {
        writeln!(f, "line {i}").unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_round_trip_survives_a_worker_restart() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    append_lines(&input, 0, 100);
    let store = LogStore::open(&dir.path().join("data")).unwrap();
    let groups = Arc::new(MemoryGroupOffsets::default());
    let worker = open(&store, &groups);
    let source = cfg(&[
        ("connector.class", "FileStreamSource"),
        ("file", input.to_str().unwrap()),
        ("topic", "lines"),
        (
            "value.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
    ]);
    let sink = cfg(&[
        (
            "connector.class",
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
        ),
        ("file", output.to_str().unwrap()),
        ("topics", "lines"),
        (
            "value.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
    ]);
    assert!(worker.put_connector("src", source, false).await.unwrap());
    assert!(worker.put_connector("sink", sink, false).await.unwrap());
    wait_for("100 lines out", || lines(&output).len() >= 100).await;
    assert_eq!(
        worker.status("src").unwrap()["tasks"][0]["state"],
        "RUNNING"
    );
    assert_eq!(
        worker.active_topics("src").unwrap(),
        json!({"src": {"topics": ["lines"]}})
    );
    assert_eq!(
        worker.get_offsets("src").unwrap()["offsets"][0]["partition"],
        json!({"filename": input.to_str().unwrap()})
    );
    worker.shutdown().await;
    drop(worker);
    // Lines written while the worker is away are picked up after the restart, once.
    append_lines(&input, 100, 150);
    let worker = open(&store, &groups);
    assert_eq!(worker.connector_names(), vec!["sink", "src"]);
    wait_for("150 lines out", || lines(&output).len() >= 150).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(lines(&output), lines(&input));
    assert_eq!(topic_records(&store, "lines").len(), 150);
    assert_eq!(
        groups.committed("connect-sink", "lines", 0).map(|c| c.0),
        Some(150)
    );
    assert_eq!(
        worker.active_topics("sink").unwrap(),
        json!({"sink": {"topics": ["lines"]}})
    );
    let offsets = worker.get_offsets("sink").unwrap();
    assert_eq!(
        offsets,
        json!({"offsets": [{"partition": {"kafka_topic": "lines", "kafka_partition": 0}, "offset": {"kafka_offset": 150}}]})
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_states_and_offsets_come_back_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path()).unwrap();
    let groups = Arc::new(MemoryGroupOffsets::default());
    let worker = open(&store, &groups);
    let gen = cfg(&[
        (
            "connector.class",
            "io.confluent.kafka.connect.datagen.DatagenConnector",
        ),
        ("kafka.topic", "users"),
        ("quickstart", "users"),
        ("max.interval", "1"),
        ("iterations", "20"),
        ("value.converter", "io.confluent.connect.avro.AvroConverter"),
        (
            "key.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
    ]);
    worker.put_connector("gen", gen, false).await.unwrap();
    wait_for("20 users", || topic_records(&store, "users").len() >= 20).await;
    let recs = topic_records(&store, "users");
    assert_eq!(recs[0].value.as_ref().unwrap()[0], 0, "wire format");
    assert!(std::str::from_utf8(recs[0].key.as_ref().unwrap())
        .unwrap()
        .starts_with("User_"));
    // Offsets can only change while stopped.
    let err = worker.reset_offsets("gen").unwrap_err();
    assert!(err.to_string().contains("STOPPED state"), "{err}");
    worker
        .set_target("gen", TargetState::Stopped)
        .await
        .unwrap();
    assert_eq!(
        worker.status("gen").unwrap()["connector"]["state"],
        "STOPPED"
    );
    assert_eq!(worker.tasks("gen").unwrap(), json!([]));
    worker.shutdown().await;
    drop(worker);
    let worker = open(&store, &groups);
    assert_eq!(
        worker.status("gen").unwrap()["connector"]["state"],
        "STOPPED"
    );
    assert_eq!(
        worker.get_offsets("gen").unwrap()["offsets"][0],
        json!({"partition": {"task.id": 0}, "offset": {"task.generation": 0, "current.iteration": 20}})
    );
    worker
        .alter_offsets("gen", &json!({"offsets": [{"partition": {"task.id": 0}, "offset": {"task.generation": 0, "current.iteration": 15}}]}))
        .unwrap();
    worker
        .set_target("gen", TargetState::Started)
        .await
        .unwrap();
    // From iteration 15 to 20 again: 5 more records.
    wait_for("25 users", || topic_records(&store, "users").len() >= 25).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(topic_records(&store, "users").len(), 25);
    worker.set_target("gen", TargetState::Paused).await.unwrap();
    let st = worker.status("gen").unwrap();
    assert_eq!(st["connector"]["state"], "PAUSED");
    assert_eq!(st["tasks"][0]["state"], "PAUSED");
    worker.delete_connector("gen").await.unwrap();
    worker.shutdown().await;
    drop(worker);
    let worker = open(&store, &groups);
    assert!(worker.connector_names().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_record_goes_to_the_dead_letter_queue() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(&dir.path().join("data")).unwrap();
    let groups = Arc::new(MemoryGroupOffsets::default());
    let worker = open(&store, &groups);
    let output = dir.path().join("out.txt");
    let t = store
        .create_topic(
            "events",
            1,
            sluice_log::TopicConfig::from_overrides(std::iter::empty::<(&str, &str)>()).unwrap(),
            false,
        )
        .unwrap()
        .unwrap();
    let values: [&[u8]; 3] = [br#"{"n":1}"#, b"not json", br#"{"n":3}"#];
    let recs: Vec<_> = values
        .iter()
        .map(|v| {
            (
                None,
                Some(bytes::Bytes::copy_from_slice(v)),
                1000,
                vec![(
                    "origin".to_string(),
                    Some(bytes::Bytes::from_static(b"test")),
                )],
            )
        })
        .collect();
    append_headed(&t.partition(0).unwrap(), &recs).unwrap();
    let sink = cfg(&[
        ("connector.class", "FileStreamSink"),
        ("file", output.to_str().unwrap()),
        ("topics", "events"),
        (
            "value.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("value.converter.schemas.enable", "false"),
        ("errors.tolerance", "all"),
        ("errors.log.enable", "true"),
        ("errors.deadletterqueue.topic.name", "dlq-events"),
        ("errors.deadletterqueue.context.headers.enable", "true"),
    ]);
    worker.put_connector("sink", sink, false).await.unwrap();
    wait_for("2 lines", || lines(&output).len() >= 2).await;
    assert_eq!(lines(&output), vec![r#"{"n":1}"#, r#"{"n":3}"#]);
    wait_for("the DLQ record", || {
        !topic_records(&store, "dlq-events").is_empty()
    })
    .await;
    let dlq = topic_records(&store, "dlq-events");
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].value.as_deref(), Some(&b"not json"[..]));
    let header = |k: &str| {
        dlq[0]
            .headers
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.clone())
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
    };
    assert_eq!(header("origin").as_deref(), Some("test"));
    assert_eq!(header("__connect.errors.topic").as_deref(), Some("events"));
    assert_eq!(header("__connect.errors.offset").as_deref(), Some("1"));
    assert_eq!(
        header("__connect.errors.stage").as_deref(),
        Some("VALUE_CONVERTER")
    );
    assert_eq!(
        header("__connect.errors.connector.name").as_deref(),
        Some("sink")
    );
    assert_eq!(
        header("__connect.errors.exception.class.name").as_deref(),
        Some("org.apache.kafka.connect.errors.DataException")
    );
    assert!(header("__connect.errors.exception.message")
        .unwrap()
        .contains("Converting byte[] to Kafka Connect data failed"));
    assert_eq!(
        worker.status("sink").unwrap()["tasks"][0]["state"],
        "RUNNING"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_task_shows_failed_with_its_trace_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(&dir.path().join("data")).unwrap();
    let groups = Arc::new(MemoryGroupOffsets::default());
    let worker = open(&store, &groups);
    let missing = dir.path().join("later");
    let output = missing.join("out.txt");
    let sink = cfg(&[
        ("connector.class", "FileStreamSink"),
        ("file", output.to_str().unwrap()),
        ("topics", "x"),
    ]);
    worker.put_connector("s", sink, false).await.unwrap();
    wait_for("FAILED", || {
        worker.task_status("s", 0).unwrap()["state"] == "FAILED"
    })
    .await;
    let st = worker.task_status("s", 0).unwrap();
    assert!(
        st["trace"].as_str().unwrap().starts_with(
            "org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file"
        ),
        "{st}"
    );
    std::fs::create_dir_all(&missing).unwrap();
    let restarting = worker.restart("s", true, true).await.unwrap();
    assert_eq!(restarting["tasks"][0]["state"], "RESTARTING");
    wait_for("RUNNING", || {
        worker.task_status("s", 0).unwrap()["state"] == "RUNNING"
    })
    .await;
    assert!(worker.task_status("s", 0).unwrap().get("trace").is_none());
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_configs_get_per_field_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path()).unwrap();
    let worker = open(&store, &Arc::new(MemoryGroupOffsets::default()));
    let v = worker
        .validate(&cfg(&[
            ("connector.class", "FileStreamSink"),
            ("tasks.max", "0"),
        ]))
        .unwrap();
    assert_eq!(
        v["name"],
        "org.apache.kafka.connect.file.FileStreamSinkConnector"
    );
    let errors: Vec<(String, Json)> = v["configs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["value"]["errors"].as_array().unwrap().is_empty())
        .map(|c| {
            (
                c["value"]["name"].as_str().unwrap().to_string(),
                c["value"]["errors"].clone(),
            )
        })
        .collect();
    let names: Vec<&str> = errors.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec!["name", "tasks.max", "topics", "topics.regex", "file"]
    );
    assert_eq!(v["error_count"], 5);
    let err = worker
        .put_connector(
            "x",
            cfg(&[("connector.class", "FileStreamSink"), ("tasks.max", "0")]),
            false,
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "Connector configuration is invalid and contains the following 4 error(s):"
        ),
        "{err}"
    );
    let err = worker
        .put_connector("x", cfg(&[("connector.class", "com.example.Nope")]), false)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::BadRequest(_)));
    assert!(err.to_string().starts_with("Failed to find any class that implements Connector and which name matches com.example.Nope"));
    assert!(matches!(
        worker.status("nope").unwrap_err(),
        ConnectError::ConnectorNotFound(_)
    ));
}

/// What a crash leaves when it lands between a source task's records and their offsets.
fn crashed_source(dir: &Path, landed: bool) -> (Arc<LogStore>, String) {
    use sluice_connect::store::BackingStore;
    let store = LogStore::open(&dir.join("data")).unwrap();
    let input = dir.join("in.txt");
    std::fs::write(&input, "a\nb\n").unwrap();
    let file = input.to_str().unwrap().to_string();
    let b = BackingStore::open(&store).unwrap();
    let c = cfg(&[
        ("connector.class", "FileStreamSource"),
        ("file", &file),
        ("topic", "lines"),
        ("name", "src"),
        (
            "value.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
    ]);
    b.put_connector("src", &c, Some(TargetState::Stopped))
        .unwrap();
    b.put_tasks("src", &[]).unwrap();
    let partition = json!({ "filename": file });
    b.put_offsets("src", &[(partition.clone(), Some(json!({"position": 2})))])
        .unwrap();
    let t = store
        .create_topic(
            "lines",
            1,
            sluice_log::TopicConfig::from_overrides(std::iter::empty::<(&str, &str)>()).unwrap(),
            false,
        )
        .unwrap()
        .unwrap();
    let p = t.partition(0).unwrap();
    append_headed(
        &p,
        &[(None, Some(bytes::Bytes::from_static(b"a")), 1, vec![])],
    )
    .unwrap();
    let intent = json!({"topic": "lines", "partition": 0, "end": 1,
        "first": sluice_connect::worker::record_crc(None, Some(b"b")),
        "offsets": [[partition, {"position": 4}]]});
    b.put_intent("src", 0, Some(&intent)).unwrap();
    if landed {
        append_headed(
            &p,
            &[(None, Some(bytes::Bytes::from_static(b"b")), 2, vec![])],
        )
        .unwrap();
    }
    (store, file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_written_just_before_a_crash_get_their_offsets_on_start() {
    for landed in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let (store, file) = crashed_source(dir.path(), landed);
        let worker = open(&store, &Arc::new(MemoryGroupOffsets::default()));
        let want = if landed { 4 } else { 2 };
        assert_eq!(
            worker.get_offsets("src").unwrap(),
            json!({"offsets": [{"partition": {"filename": file}, "offset": {"position": want}}]}),
            "landed: {landed}"
        );
        // Resumed, it sends what is left exactly once.
        worker
            .set_target("src", TargetState::Started)
            .await
            .unwrap();
        wait_for("b", || topic_records(&store, "lines").len() >= 2).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let values: Vec<_> = topic_records(&store, "lines")
            .into_iter()
            .map(|r| r.value.unwrap())
            .collect();
        assert_eq!(values, vec![&b"a"[..], &b"b"[..]], "landed: {landed}");
        worker.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_cuts_lines_written_after_its_last_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(&dir.path().join("data")).unwrap();
    let t = store
        .create_topic(
            "lines",
            1,
            sluice_log::TopicConfig::from_overrides(std::iter::empty::<(&str, &str)>()).unwrap(),
            false,
        )
        .unwrap()
        .unwrap();
    let recs: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|v| {
            (
                None,
                Some(bytes::Bytes::copy_from_slice(v.as_bytes())),
                1,
                vec![],
            )
        })
        .collect();
    append_headed(&t.partition(0).unwrap(), &recs).unwrap();
    // "c" reached the file, but the crash came before its offset was committed.
    let output = dir.path().join("out.txt");
    std::fs::write(&output, "a\nb\nc\n").unwrap();
    let groups = Arc::new(MemoryGroupOffsets::default());
    groups
        .commit(
            "connect-sink",
            &[("lines".to_string(), 0, 2)],
            "sluice.sink.position=4",
        )
        .unwrap();
    let worker = open(&store, &groups);
    let sink = cfg(&[
        ("connector.class", "FileStreamSink"),
        ("file", output.to_str().unwrap()),
        ("topics", "lines"),
        (
            "value.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
    ]);
    worker.put_connector("sink", sink, false).await.unwrap();
    wait_for("offset 3", || {
        groups.committed("connect-sink", "lines", 0).map(|c| c.0) == Some(3)
    })
    .await;
    assert_eq!(lines(&output), vec!["a", "b", "c"]);
    assert_eq!(
        groups.committed("connect-sink", "lines", 0),
        Some((3, "sluice.sink.position=6".to_string()))
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_are_altered_with_connects_body_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(&dir.path().join("data")).unwrap();
    let groups = Arc::new(MemoryGroupOffsets::default());
    let worker = open(&store, &groups);
    store
        .create_topic(
            "events",
            2,
            sluice_log::TopicConfig::from_overrides(std::iter::empty::<(&str, &str)>()).unwrap(),
            false,
        )
        .unwrap();
    let sink = cfg(&[
        ("connector.class", "FileStreamSink"),
        ("file", dir.path().join("out.txt").to_str().unwrap()),
        ("topics", "events"),
    ]);
    worker.put_connector("sink", sink, false).await.unwrap();
    let body = json!({"offsets": [
        {"partition": {"kafka_topic": "events", "kafka_partition": 1}, "offset": {"kafka_offset": 7}}
    ]});
    let err = worker.alter_offsets("sink", &body).unwrap_err();
    assert!(err.to_string().contains("STOPPED state"), "{err}");
    worker
        .set_target("sink", TargetState::Stopped)
        .await
        .unwrap();
    worker.alter_offsets("sink", &body).unwrap();
    assert_eq!(
        groups.committed("connect-sink", "events", 1).map(|c| c.0),
        Some(7)
    );
    // Connect reads numbers given as text too.
    worker
        .alter_offsets("sink", &json!({"offsets": [
            {"partition": {"kafka_topic": "events", "kafka_partition": "0"}, "offset": {"kafka_offset": "3"}}
        ]}))
        .unwrap();
    assert_eq!(
        worker.get_offsets("sink").unwrap()["offsets"],
        json!([
            {"partition": {"kafka_topic": "events", "kafka_partition": 0}, "offset": {"kafka_offset": 3}},
            {"partition": {"kafka_topic": "events", "kafka_partition": 1}, "offset": {"kafka_offset": 7}},
        ])
    );
    // A null offset forgets the partition's.
    worker
        .alter_offsets(
            "sink",
            &json!({"offsets": [
                {"partition": {"kafka_topic": "events", "kafka_partition": 1}, "offset": null}
            ]}),
        )
        .unwrap();
    assert_eq!(groups.committed("connect-sink", "events", 1), None);
    for (bad, why) in [
        (
            json!({"offsets": []}),
            "Partitions / offsets need to be provided",
        ),
        (json!({}), "Partitions / offsets need to be provided"),
        (
            json!({"offsets": [{"partition": {"kafka_topic": "events"}, "offset": {"kafka_offset": 1}}]}),
            "must contain the keys 'kafka_topic' and 'kafka_partition'",
        ),
        (
            json!({"offsets": [{"partition": {"kafka_topic": 5, "kafka_partition": 0}, "offset": {"kafka_offset": 1}}]}),
            "Kafka topic names must be valid strings and may not be null",
        ),
        (
            json!({"offsets": [{"partition": {"kafka_topic": "events", "kafka_partition": 0}, "offset": {"kafka_offset": "x"}}]}),
            "Failed to parse the following Kafka offset value in the provided offsets: 'x'",
        ),
        (
            json!({"offsets": [{"partition": {"kafka_topic": "events", "kafka_partition": 0}, "offset": {"position": 1}}]}),
            "should either be null or contain the key 'kafka_offset'",
        ),
        // All or nothing: partition 0 is not moved because partition 2 does not exist.
        (
            json!({"offsets": [
                {"partition": {"kafka_topic": "events", "kafka_partition": 0}, "offset": {"kafka_offset": 1}},
                {"partition": {"kafka_topic": "events", "kafka_partition": 2}, "offset": {"kafka_offset": 1}},
            ]}),
            "The topic partition events-2 does not exist",
        ),
    ] {
        let err = worker.alter_offsets("sink", &bad).unwrap_err();
        assert!(matches!(err, ConnectError::BadRequest(_)), "{err}");
        assert!(err.to_string().contains(why), "{err}");
    }
    assert_eq!(
        groups.committed("connect-sink", "events", 0).map(|c| c.0),
        Some(3)
    );

    // A source's partitions and offsets are the connector's own objects.
    let source = cfg(&[
        ("connector.class", "FileStreamSource"),
        ("file", dir.path().join("in.txt").to_str().unwrap()),
        ("topic", "lines"),
    ]);
    worker.put_connector("src", source, false).await.unwrap();
    worker
        .set_target("src", TargetState::Stopped)
        .await
        .unwrap();
    let file = dir.path().join("in.txt").to_str().unwrap().to_string();
    worker
        .alter_offsets(
            "src",
            &json!({"offsets": [
                {"partition": {"filename": file}, "offset": {"position": 12}}
            ]}),
        )
        .unwrap();
    assert_eq!(
        worker.get_offsets("src").unwrap()["offsets"],
        json!([{"partition": {"filename": file}, "offset": {"position": 12}}])
    );
    for bad in [
        json!({"offsets": [{"partition": null, "offset": {"position": 1}}]}),
        json!({"offsets": [{"partition": "x", "offset": {"position": 1}}]}),
        json!({"offsets": [{"partition": {"filename": file}, "offset": 5}]}),
    ] {
        let err = worker.alter_offsets("src", &bad).unwrap_err();
        assert!(matches!(err, ConnectError::BadRequest(_)), "{err}");
    }
    worker
        .alter_offsets(
            "src",
            &json!({"offsets": [{"partition": {"filename": file}, "offset": null}]}),
        )
        .unwrap();
    assert_eq!(worker.get_offsets("src").unwrap()["offsets"], json!([]));
    worker.shutdown().await;
}
