"""Kafka Connect's REST API on the Connect port, driven with requests, and the connectors'
topics read and written with kafka-python and confluent-kafka: a file round trip through a
topic with a kill -9 in the middle (no line lost or doubled), the sink's consumer group seen by
Kafka clients, a poison record in the dead letter queue with Connect's error headers, Datagen
through the registry in the Avro wire format, lifecycle (pause, resume, stop, offsets) across a
restart, and Connect's answers to bad input."""
import json
import threading
import time

from connect_api import api, consume, wait_until
import requests
from confluent_kafka import DeserializingConsumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import StringDeserializer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

STRING = "org.apache.kafka.connect.storage.StringConverter"


def read_lines(path):
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def consume_all(s, topic, n, timeout=20.0):
    c = KafkaConsumer(topic, bootstrap_servers=s.bootstrap, auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=int(timeout * 1000))
    out = []
    for m in c:
        out.append(m)
        if len(out) >= n:
            break
    c.close()
    return out


def test_root_and_plugins(sluice):
    root = api(sluice, "GET", "/", expect=200).json()
    assert root["version"] and root["kafka_cluster_id"]
    plugins = api(sluice, "GET", "/connector-plugins", expect=200).json()
    assert {p["class"]: p["type"] for p in plugins} == {
        "org.apache.kafka.connect.file.FileStreamSourceConnector": "source",
        "org.apache.kafka.connect.file.FileStreamSinkConnector": "sink",
        "io.confluent.kafka.connect.datagen.DatagenConnector": "source",
        "io.confluent.connect.jdbc.JdbcSourceConnector": "source",
        "io.confluent.connect.jdbc.JdbcSinkConnector": "sink",
        "io.debezium.connector.postgresql.PostgresConnector": "source",
        "io.confluent.connect.http.HttpSinkConnector": "sink",
    }
    everything = api(sluice, "GET", "/connector-plugins?connectorsOnly=false", expect=200).json()
    assert {"class": "org.apache.kafka.connect.transforms.RegexRouter", "type": "transformation"}.items() <= \
        next(p for p in everything if p["class"].endswith("RegexRouter")).items()
    keys = api(sluice, "GET", "/connector-plugins/FileStreamSource/config", expect=200).json()
    file_key = next(k for k in keys if k["name"] == "file")
    assert file_key["type"] == "STRING" and file_key["importance"] == "HIGH"
    r = api(sluice, "GET", "/connector-plugins/Nope/config", expect=404)
    assert r.json() == {"error_code": 404, "message": "Unknown plugin Nope."}
    assert api(sluice, "GET", "/connectors", expect=200).json() == []


def test_file_round_trip_survives_kill9(sluice, tmp_path):
    src, out = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_text("".join("line %d\n" % i for i in range(200)))
    r = api(sluice, "POST", "/connectors", {"name": "file-in", "config": {
        "connector.class": "FileStreamSource", "file": str(src), "topic": "lines",
        "value.converter": STRING, "batch.size": "7"}}, expect=201)
    assert r.json()["type"] == "source" and r.json()["tasks"] == [{"connector": "file-in", "task": 0}]
    api(sluice, "PUT", "/connectors/file-out/config", {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "file": str(out), "topics": "lines", "value.converter": STRING}, expect=201)
    wait_until("the first 200 lines", lambda: len(read_lines(out)) >= 200)

    # Keep appending while Sluice is killed and restarted.
    stop = threading.Event()

    def writer():
        i = 200
        while not stop.is_set() and i < 3000:
            with src.open("a") as f:
                for _ in range(20):
                    f.write("line %d\n" % i)
                    i += 1
            time.sleep(0.01)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(1.0)
    sluice.kill9()
    time.sleep(0.5)
    sluice.start()
    t.join()
    expected = read_lines(src)
    assert len(expected) == 3000
    wait_until("every line out", lambda: len(read_lines(out)) >= len(expected), timeout=60)
    time.sleep(1.0)
    assert read_lines(out) == expected  # none lost, none doubled
    st = api(sluice, "GET", "/connectors/file-out/status", expect=200).json()
    assert st["connector"]["state"] == "RUNNING" and st["tasks"][0]["state"] == "RUNNING"
    assert st["type"] == "sink"
    # The topic holds each line once, readable by any Kafka client.
    got = [m.value.decode() for m in consume_all(sluice, "lines", len(expected))]
    assert got == expected
    # The sink's consumer group is a Kafka group like any other.
    admin = KafkaAdminClient(bootstrap_servers=sluice.bootstrap)
    try:
        offsets = admin.list_group_offsets("connect-file-out")["connect-file-out"]
        assert {(tp.topic, tp.partition): o.offset for tp, o in offsets.items()} == {("lines", 0): 3000}
    finally:
        admin.close()
    assert api(sluice, "GET", "/connectors/file-out/offsets", expect=200).json() == {"offsets": [
        {"partition": {"kafka_topic": "lines", "kafka_partition": 0}, "offset": {"kafka_offset": 3000}}]}
    src_offsets = api(sluice, "GET", "/connectors/file-in/offsets", expect=200).json()["offsets"]
    assert src_offsets == [{"partition": {"filename": str(src)}, "offset": {"position": src.stat().st_size}}]
    assert api(sluice, "GET", "/connectors/file-in/topics", expect=200).json() == {"file-in": {"topics": ["lines"]}}


def test_poison_record_goes_to_the_dead_letter_queue(sluice, tmp_path):
    out = tmp_path / "out.txt"
    p = KafkaProducer(bootstrap_servers=sluice.bootstrap)
    for v in [b'{"n": 1}', b"not json at all", b'{"n": 3}']:
        p.send("events", v, headers=[("origin", b"e2e")])
    p.flush()
    p.close()
    api(sluice, "POST", "/connectors", {"name": "events-out", "config": {
        "connector.class": "FileStreamSink", "file": str(out), "topics": "events",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "errors.tolerance": "all", "errors.log.enable": "true",
        "errors.deadletterqueue.topic.name": "dlq-events",
        "errors.deadletterqueue.context.headers.enable": "true"}}, expect=201)
    wait_until("two good lines", lambda: len(read_lines(out)) >= 2)
    assert [json.loads(x) for x in read_lines(out)] == [{"n": 1}, {"n": 3}]
    [dlq] = consume_all(sluice, "dlq-events", 1)
    assert dlq.value == b"not json at all"
    headers = {k: v.decode() for k, v in dlq.headers}
    assert headers["origin"] == "e2e"
    assert headers["__connect.errors.topic"] == "events"
    assert headers["__connect.errors.partition"] == "0"
    assert headers["__connect.errors.offset"] == "1"
    assert headers["__connect.errors.stage"] == "VALUE_CONVERTER"
    assert headers["__connect.errors.connector.name"] == "events-out"
    assert headers["__connect.errors.class.name"] == "org.apache.kafka.connect.json.JsonConverter"
    assert headers["__connect.errors.exception.class.name"] == "org.apache.kafka.connect.errors.DataException"
    assert "Converting byte[] to Kafka Connect data failed" in headers["__connect.errors.exception.message"]
    st = api(sluice, "GET", "/connectors/events-out/status", expect=200).json()
    assert st["tasks"][0]["state"] == "RUNNING"

    # Sink offsets are the group's: moved back while stopped, the last record comes again.
    api(sluice, "PUT", "/connectors/events-out/stop", expect=202)
    r = api(sluice, "PATCH", "/connectors/events-out/offsets", {"offsets": [
        {"partition": {"kafka_topic": "events", "kafka_partition": 0}, "offset": {"kafka_offset": 2}}]}, expect=200)
    assert r.json() == {"message": "The offsets for this connector have been altered successfully"}
    assert api(sluice, "GET", "/connectors/events-out/offsets", expect=200).json()["offsets"] == [
        {"partition": {"kafka_topic": "events", "kafka_partition": 0}, "offset": {"kafka_offset": 2}}]
    api(sluice, "PUT", "/connectors/events-out/resume", expect=202)
    wait_until("the replayed record", lambda: len(read_lines(out)) >= 3)
    assert [json.loads(x) for x in read_lines(out)] == [{"n": 1}, {"n": 3}, {"n": 3}]
    api(sluice, "PUT", "/connectors/events-out/stop", expect=202)
    api(sluice, "DELETE", "/connectors/events-out/offsets", expect=200)
    assert api(sluice, "GET", "/connectors/events-out/offsets", expect=200).json() == {"offsets": []}


def test_datagen_avro_through_the_registry_and_lifecycle_across_restart(sluice):
    api(sluice, "POST", "/connectors", {"name": "orders-gen", "config": {
        "connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
        "kafka.topic": "orders", "quickstart": "orders", "max.interval": "5", "iterations": "10",
        "key.converter": STRING,
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": sluice.url("registry"),
        "transforms": "route",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": "orders", "transforms.route.replacement": "orders_avro"}}, expect=201)
    registry = SchemaRegistryClient({"url": sluice.url("registry")})
    c = DeserializingConsumer({
        "bootstrap.servers": sluice.bootstrap, "group.id": "e2e-orders", "auto.offset.reset": "earliest",
        "key.deserializer": StringDeserializer("utf_8"),
        "value.deserializer": AvroDeserializer(registry)})
    c.subscribe(["orders_avro"])
    got = consume(c, 10, 30)
    c.close()
    assert [m.value()["orderid"] for m in got] == list(range(10))
    assert [m.key() for m in got] == [str(i) for i in range(10)]
    assert got[0].value()["address"]["zipcode"] >= 10000
    latest = registry.get_latest_version("orders_avro-value")
    assert json.loads(latest.schema.schema_str)["name"] == "orders"

    # Offsets change only while stopped.
    r = api(sluice, "DELETE", "/connectors/orders-gen/offsets", expect=400)
    assert "STOPPED state" in r.json()["message"] and r.json()["error_code"] == 400
    api(sluice, "PUT", "/connectors/orders-gen/pause", expect=202)
    st = api(sluice, "GET", "/connectors/orders-gen/status", expect=200).json()
    assert st["connector"]["state"] == "PAUSED" and st["tasks"][0]["state"] == "PAUSED"
    api(sluice, "PUT", "/connectors/orders-gen/stop", expect=202)
    assert api(sluice, "GET", "/connectors/orders-gen/tasks", expect=200).json() == []
    offsets = api(sluice, "GET", "/connectors/orders-gen/offsets", expect=200).json()
    assert offsets == {"offsets": [{"partition": {"task.id": 0},
                                    "offset": {"task.generation": 0, "current.iteration": 10}}]}
    assert api(sluice, "DELETE", "/connectors/orders-gen/offsets", expect=200).json() == {
        "message": "The offsets for this connector have been reset successfully"}
    r = api(sluice, "PATCH", "/connectors/orders-gen/config", {"iterations": "3"}, expect=200)
    assert r.json()["config"]["iterations"] == "3"

    sluice.restart()
    st = api(sluice, "GET", "/connectors/orders-gen/status", expect=200).json()
    assert st["connector"]["state"] == "STOPPED"
    assert api(sluice, "GET", "/connectors/orders-gen/config", expect=200).json()["iterations"] == "3"
    assert api(sluice, "GET", "/connectors?expand=status", expect=200).json()["orders-gen"]["status"]["connector"]["state"] == "STOPPED"
    api(sluice, "PUT", "/connectors/orders-gen/resume", expect=202)
    # Reset offsets: counting starts over, 3 more orders (ids 0, 1, 2).
    more = wait_until("3 more orders", lambda: (lambda ms: ms if len(ms) >= 13 else None)(
        consume_all(sluice, "orders_avro", 13, timeout=3)))
    assert len(more) == 13
    api(sluice, "DELETE", "/connectors/orders-gen", expect=204)
    api(sluice, "GET", "/connectors/orders-gen", expect=404)


def test_bad_input_gets_connects_answers(sluice, tmp_path):
    r = api(sluice, "GET", "/connectors/nope", expect=404)
    assert r.json() == {"error_code": 404, "message": "Connector nope not found"}
    r = api(sluice, "POST", "/connectors", {"name": "x", "config": {"connector.class": "com.example.Nope"}}, expect=400)
    assert r.json()["message"].startswith(
        "Failed to find any class that implements Connector and which name matches com.example.Nope")
    r = api(sluice, "POST", "/connectors", {"name": "x", "config": {
        "connector.class": "FileStreamSink", "tasks.max": "zero"}}, expect=400)
    msg = r.json()["message"]
    assert msg.startswith("Connector configuration is invalid and contains the following 4 error(s):"), msg
    assert "Invalid value zero for configuration tasks.max: Not a number of type INT" in msg
    assert "Missing required configuration \"file\" which has no default value." in msg
    v = api(sluice, "PUT", "/connector-plugins/FileStreamSink/config/validate", {
        "connector.class": "FileStreamSink", "name": "x", "tasks.max": "0", "topics": "a",
        "errors.tolerance": "some"}, expect=200).json()
    errors = {c["value"]["name"]: c["value"]["errors"] for c in v["configs"] if c["value"]["errors"]}
    assert errors == {
        "tasks.max": ["Invalid value 0 for configuration tasks.max: Value must be at least 1"],
        "errors.tolerance": ["Invalid value some for configuration errors.tolerance: "
                             "String must be one of (case insensitive): none, all"],
        "file": ["Missing required configuration \"file\" which has no default value."],
    }
    assert v["error_count"] == 3 and v["name"] == "org.apache.kafka.connect.file.FileStreamSinkConnector"
    r = api(sluice, "PUT", "/connector-plugins/FileStreamSink/config/validate",
            {"connector.class": "FileStreamSource"}, expect=400)
    assert r.json()["message"] == "Included connector type FileStreamSource does not match request type FileStreamSink"
    r = requests.post(sluice.url("connect") + "/connectors", data="{nope", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error_code"] == 400
    assert api(sluice, "GET", "/no/such/path", expect=404).json() == {"error_code": 404, "message": "HTTP 404 Not Found"}

    # A task that fails shows FAILED with its trace, and restarts on request.
    later = tmp_path / "later"
    cfg = {"connector.class": "FileStreamSink", "file": str(later / "out.txt"), "topics": "t"}
    api(sluice, "POST", "/connectors", {"name": "broken", "config": cfg}, expect=201)
    api(sluice, "POST", "/connectors", {"name": "broken", "config": cfg}, expect=409)
    st = wait_until("FAILED", lambda: (lambda s: s if s["state"] == "FAILED" else None)(
        api(sluice, "GET", "/connectors/broken/tasks/0/status", expect=200).json()))
    assert st["trace"].startswith("org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file")
    assert st["worker_id"] == "127.0.0.1:%d" % sluice.endpoints["connect"][1]
    api(sluice, "GET", "/connectors/broken/tasks/7/status", expect=404)
    later.mkdir()
    api(sluice, "POST", "/connectors/broken/tasks/0/restart", expect=204)
    wait_until("RUNNING", lambda: api(sluice, "GET", "/connectors/broken/tasks/0/status").json()["state"] == "RUNNING")
    r = api(sluice, "POST", "/connectors/broken/restart?includeTasks=true&onlyFailed=true", expect=202)
    assert r.json()["tasks"][0]["state"] == "RUNNING"  # nothing failed, nothing restarts


def test_registry_converters_interoperate_with_confluent_serializers(sluice, tmp_path):
    """A sink reads what confluent-kafka's AvroSerializer wrote; JsonSchemaConverter writes what
    its JSONDeserializer reads."""
    from confluent_kafka import SerializingProducer
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer
    from confluent_kafka.serialization import StringSerializer

    registry = SchemaRegistryClient({"url": sluice.url("registry")})
    schema = json.dumps({"type": "record", "name": "reading", "namespace": "iot", "fields": [
        {"name": "sensor", "type": "string"}, {"name": "celsius", "type": "double"},
        {"name": "note", "type": ["null", "string"], "default": None}]})
    p = SerializingProducer({"bootstrap.servers": sluice.bootstrap,
                             "key.serializer": StringSerializer("utf_8"),
                             "value.serializer": AvroSerializer(registry, schema)})
    readings = [{"sensor": "s%d" % i, "celsius": 20.5 + i, "note": None if i % 2 else "ok"} for i in range(5)]
    for r in readings:
        p.produce("readings", key=r["sensor"], value=r)
    p.flush()
    out = tmp_path / "readings.txt"
    api(sluice, "POST", "/connectors", {"name": "readings-out", "config": {
        "connector.class": "FileStreamSink", "file": str(out), "topics": "readings",
        "key.converter": STRING,
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": sluice.url("registry")}}, expect=201)
    wait_until("5 readings", lambda: len(read_lines(out)) >= 5)
    assert [json.loads(x) for x in read_lines(out)] == readings

    # The same records, re-encoded by a second connector chain: Avro in, JSON Schema out.
    api(sluice, "POST", "/connectors", {"name": "readings-gen", "config": {
        "connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
        "kafka.topic": "readings_json", "schema.string": schema, "schema.keyfield": "sensor",
        "max.interval": "1", "iterations": "4", "key.converter": STRING,
        "value.converter": "io.confluent.connect.json.JsonSchemaConverter",
        "value.converter.schema.registry.url": sluice.url("registry"),
        "transforms": "tag",
        "transforms.tag.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.tag.static.field": "source", "transforms.tag.static.value": "datagen"}}, expect=201)
    c = DeserializingConsumer({
        "bootstrap.servers": sluice.bootstrap, "group.id": "e2e-json", "auto.offset.reset": "earliest",
        "key.deserializer": StringDeserializer("utf_8"),
        "value.deserializer": JSONDeserializer(None, schema_registry_client=registry)})
    c.subscribe(["readings_json"])
    got = consume(c, 4, 30)
    c.close()
    assert len(got) == 4
    for m in got:
        v = m.value()
        assert v["source"] == "datagen" and m.key() == v["sensor"]
        assert isinstance(v["celsius"], float)
    assert registry.get_latest_version("readings_json-value").schema.schema_type == "JSON"


def test_avro_converter_talks_to_the_registry_its_url_names(sluice_factory, tmp_path):
    """schema.registry.url naming another Sluice's registry: the converter registers there over
    Confluent's REST API (not in its own embedded registry), confluent-kafka's AvroDeserializer
    reads the records with that registry, and a sink on the first Sluice decodes them by id
    through it."""
    here, other = sluice_factory(), sluice_factory()
    other_url = other.url("registry")
    api(here, "POST", "/connectors", {"name": "remote-gen", "config": {
        "connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
        "kafka.topic": "remote_users", "quickstart": "users", "max.interval": "5",
        "iterations": "6", "key.converter": STRING,
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": other_url}}, expect=201)
    wait_until("the subject in the other registry", lambda: "remote_users-value" in
               requests.get(other_url + "/subjects", timeout=10).json())
    assert "remote_users-value" not in requests.get(here.url("registry") + "/subjects", timeout=10).json()
    latest = requests.get(other_url + "/subjects/remote_users-value/versions/latest", timeout=10).json()
    assert json.loads(latest["schema"])["name"] == "users"

    c = DeserializingConsumer({
        "bootstrap.servers": here.bootstrap, "group.id": "e2e-remote", "auto.offset.reset": "earliest",
        "key.deserializer": StringDeserializer("utf_8"),
        "value.deserializer": AvroDeserializer(SchemaRegistryClient({"url": other_url}))})
    c.subscribe(["remote_users"])
    got = [m.value() for m in consume(c, 6, 30)]
    c.close()
    assert len(got) == 6
    for v in got:
        assert v["userid"].startswith("User_") and v["regionid"].startswith("Region_")
        assert isinstance(v["registertime"], int)
    # Every record carries the other registry's id.
    raw = KafkaConsumer("remote_users", bootstrap_servers=here.bootstrap, auto_offset_reset="earliest",
                        consumer_timeout_ms=3000)
    ids = {int.from_bytes(m.value[1:5], "big") for m in raw}
    raw.close()
    assert ids == {latest["id"]}

    out = tmp_path / "users.txt"
    api(here, "POST", "/connectors", {"name": "remote-out", "config": {
        "connector.class": "FileStreamSink", "file": str(out), "topics": "remote_users",
        "key.converter": STRING,
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": other_url}}, expect=201)
    wait_until("6 users in the file", lambda: len(read_lines(out)) >= 6)
    assert [json.loads(x) for x in read_lines(out)] == got

    # auto.register.schemas=false with a schema the registry lacks: the task fails with the
    # registry's own answer.
    api(here, "POST", "/connectors", {"name": "remote-strict", "config": {
        "connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
        "kafka.topic": "remote_pageviews", "quickstart": "pageviews", "max.interval": "5",
        "iterations": "2", "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": other_url,
        "value.converter.auto.register.schemas": "false"}}, expect=201)
    st = wait_until("the strict task failing", lambda: (lambda t: t if t and t[0]["state"] == "FAILED" else None)(
        api(here, "GET", "/connectors/remote-strict/status", expect=200).json()["tasks"]))
    assert "remote_pageviews-value" in st[0]["trace"]
    assert "remote_pageviews-value" not in requests.get(other_url + "/subjects", timeout=10).json()


def test_connectors_from_sql_statements(sluice, tmp_path):
    """ksqlDB's connector statements on the SQL port reach the embedded Connect: CREATE SOURCE
    CONNECTOR starts a file source whose lines land in the topic, SHOW CONNECTORS and
    DESCRIBE CONNECTOR report it as ksqlDB does, DROP CONNECTOR removes it from Connect."""
    src = tmp_path / "in.txt"
    src.write_text("".join("line %d\n" % i for i in range(5)))

    def ksql(sql):
        r = requests.post(sluice.url("sql") + "/ksql", json={"ksql": sql, "streamsProperties": {}},
                          timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    created = ksql("CREATE SOURCE CONNECTOR file_in WITH ("
                   "'connector.class'='org.apache.kafka.connect.file.FileStreamSourceConnector', "
                   "'file'='%s', 'topic'='from_sql', 'tasks.max'=1, "
                   "'value.converter'='%s');" % (src, STRING))
    assert created[0]["@type"] == "connector_info", created
    assert created[0]["info"]["name"] == "FILE_IN"
    assert created[0]["info"]["config"]["tasks.max"] == "1"
    # Connect itself has it, under the name ksqlDB gives it.
    assert api(sluice, "GET", "/connectors", expect=200).json() == ["FILE_IN"]
    lines = [m.value.decode() for m in consume_all(sluice, "from_sql", 5)]
    assert lines == ["line %d" % i for i in range(5)]

    again = ksql("CREATE SOURCE CONNECTOR IF NOT EXISTS file_in WITH ('connector.class'='x');")
    assert again[0]["@type"] == "warning_entity", again
    listed = wait_until("a running task", lambda: (lambda l: l if l[0]["connectors"][0]["state"]
                        == "RUNNING (1/1 tasks RUNNING)" else None)(ksql("SHOW CONNECTORS;")))
    assert listed[0]["@type"] == "connector_list"
    assert listed[0]["connectors"][0] == {
        "name": "FILE_IN", "type": "source",
        "className": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "state": "RUNNING (1/1 tasks RUNNING)"}
    assert ksql("SHOW SINK CONNECTORS;")[0]["connectors"] == []
    described = ksql("DESCRIBE CONNECTOR file_in;")[0]
    assert described["@type"] == "connector_description"
    assert described["status"]["connector"]["state"] == "RUNNING"
    assert "from_sql" in described["topics"]

    bad = ksql("CREATE SINK CONNECTOR nope WITH ('connector.class'='com.example.Missing');")
    assert bad[0]["@type"] == "error_entity" and "Missing" in bad[0]["errorMessage"], bad

    dropped = ksql("DROP CONNECTOR file_in;")
    assert dropped[0] == {"@type": "drop_connector", "statementText": "DROP CONNECTOR file_in;",
                          "connectorName": "FILE_IN", "warnings": []}
    assert api(sluice, "GET", "/connectors", expect=200).json() == []
    assert ksql("DROP CONNECTOR IF EXISTS file_in;")[0]["@type"] == "warning_entity"
