"""The schema registry with real clients: the shared compatibility conformance cases
(../shared/conformance/run_sr_compat.py), confluent-kafka's SchemaRegistryClient with the
Avro serializer on the talk's Order schema through Sluice's broker, a restart, and bad input
answered with Confluent's error codes."""
import json
import re
import subprocess
import sys

import pytest
import requests

from conftest import unique

SR_CT = "application/vnd.schemaregistry.v1+json"
SUMMARY_RE = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


def call(sluice, method, path, body=None):
    r = requests.request(method, sluice.url("registry") + path,
                         data=None if body is None else json.dumps(body),
                         headers={"Content-Type": SR_CT}, timeout=10)
    try:
        return r.status_code, r.json()
    except ValueError:
        return r.status_code, r.text


def test_avro_compatibility_conformance(sluice, shared_dir, tmp_path):
    """Every public AVRO case of the shared suite, and its confluent-kafka client smoke test."""
    runner = shared_dir / "conformance" / "run_sr_compat.py"
    if not runner.is_file():
        pytest.skip("conformance runner not found at %s" % runner)
    proc = subprocess.run(
        [sys.executable, "-u", str(runner), "--sr", sluice.url("registry"),
         "--bootstrap", sluice.bootstrap, "--types", "AVRO"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    m = SUMMARY_RE.search(out)
    fails = [ln for ln in out.splitlines() if ln.startswith("FAIL")]
    assert m, "no summary line:\n" + out[-3000:]
    passed, failed = int(m.group(1)), int(m.group(2))
    print("run_sr_compat --types AVRO: %d passed, %d failed" % (passed, failed))
    assert failed == 0 and passed >= 100, "\n".join(fails[:40])


def test_talk_order_schema_round_trip_and_restart(sluice_factory, shared_dir):
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    sluice = sluice_factory()
    schema_str = (shared_dir / "seed-examples" / "order.avsc").read_text()
    topic = unique("orders")
    subject = topic + "-value"
    sr = SchemaRegistryClient({"url": sluice.url("registry")})
    ser = AvroSerializer(sr, schema_str)
    producer = Producer({"bootstrap.servers": sluice.bootstrap})
    orders = [{"order_id": i, "product": "Laptop", "quantity": i % 3 + 1} for i in range(20)]
    for o in orders:
        producer.produce(topic, value=ser(o, SerializationContext(topic, MessageField.VALUE)))
    assert producer.flush(30) == 0

    registered = sr.get_latest_version(subject)
    assert registered.version == 1
    schema_id = registered.schema_id

    # The values on the log are in the wire format: magic 0, the id, then Avro binary.
    consumer = Consumer({"bootstrap.servers": sluice.bootstrap, "group.id": unique("orders-reader"),
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    de = AvroDeserializer(sr)
    got = []
    try:
        while len(got) < len(orders):
            m = consumer.poll(10)
            assert m is not None, "timed out after %d records" % len(got)
            assert m.error() is None, m.error()
            raw = m.value()
            assert raw[0] == 0 and int.from_bytes(raw[1:5], "big") == schema_id
            got.append(de(raw, SerializationContext(topic, MessageField.VALUE)))
    finally:
        consumer.close()
    assert got == orders

    # Evolve compatibly, set config and mode, then restart: everything comes back.
    v2 = json.loads(schema_str)
    v2["fields"].append({"name": "note", "type": "string", "default": ""})
    status, body = call(sluice, "POST", "/subjects/%s/versions" % subject, {"schema": json.dumps(v2)})
    assert status == 200, body
    v2_id = body["id"]
    assert v2_id != schema_id
    # The same schema under another subject shares its id.
    other = unique("other") + "-value"
    status, body = call(sluice, "POST", "/subjects/%s/versions" % other, {"schema": json.dumps(v2)})
    assert (status, body) == (200, {"id": v2_id})
    assert call(sluice, "PUT", "/config/" + subject, {"compatibility": "FULL"})[0] == 200
    assert call(sluice, "PUT", "/mode/" + other, {"mode": "READONLY"})[0] == 200

    sluice.restart()

    assert call(sluice, "GET", "/subjects/%s/versions" % subject) == (200, [1, 2])
    status, body = call(sluice, "GET", "/subjects/%s/versions/latest" % subject)
    assert status == 200 and body["id"] == v2_id and body["version"] == 2
    status, body = call(sluice, "GET", "/schemas/ids/%d" % schema_id)
    assert status == 200 and json.loads(body["schema"])["name"] == "Order"
    assert call(sluice, "GET", "/config/" + subject) == (200, {"compatibilityLevel": "FULL"})
    assert call(sluice, "GET", "/mode/" + other) == (200, {"mode": "READONLY"})
    status, body = call(sluice, "POST", "/subjects/%s/versions" % other, {"schema": schema_str})
    assert status == 422 and body["error_code"] == 42205, body
    # New ids continue after the old ones.
    v3 = json.loads(json.dumps(v2))
    v3["fields"].append({"name": "gift", "type": "boolean", "default": False})
    status, body = call(sluice, "POST", "/subjects/%s/versions" % subject, {"schema": json.dumps(v3)})
    assert status == 200 and body["id"] > v2_id, body


def test_bad_input_gets_confluent_errors(sluice):
    subject = unique("bad") + "-value"
    before = call(sluice, "GET", "/subjects")[1]
    status, body = call(sluice, "POST", "/subjects/%s/versions" % subject,
                        {"schema": '{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}'})
    assert status == 422 and body["error_code"] == 42201 and "nope" in body["message"], body
    status, body = call(sluice, "POST", "/subjects/%s/versions" % subject, {"schema": "{not json"})
    assert status == 422 and body["error_code"] == 42201, body
    # Nothing was half-registered.
    assert call(sluice, "GET", "/subjects")[1] == before
    status, body = call(sluice, "GET", "/subjects/%s/versions" % subject)
    assert status == 404 and body["error_code"] == 40401, body

    assert call(sluice, "POST", "/subjects/%s/versions" % subject, {"schema": '"string"'})[0] == 200
    status, body = call(sluice, "GET", "/subjects/%s/versions/7" % subject)
    assert status == 404 and body["error_code"] == 40402, body
    status, body = call(sluice, "GET", "/subjects/%s/versions/abc" % subject)
    assert status == 422 and body["error_code"] == 42202, body
    status, body = call(sluice, "GET", "/schemas/ids/987654")
    assert status == 404 and body["error_code"] == 40403, body
    status, body = call(sluice, "PUT", "/config/" + subject, {"compatibility": "SIDEWAYS"})
    assert status == 422 and body["error_code"] == 42203, body
    status, body = call(sluice, "PUT", "/mode/" + subject, {"mode": "WRITEONLY"})
    assert status == 422 and body["error_code"] == 42204, body
    # Incompatible: 409 with the reason.
    status, body = call(sluice, "POST", "/subjects/%s/versions" % subject, {"schema": '"int"'})
    assert status == 409 and body["error_code"] == 409 and "TYPE_MISMATCH" in body["message"], body
    # Hard delete needs a soft delete first.
    status, body = call(sluice, "DELETE", "/subjects/%s?permanent=true" % subject)
    assert status == 404 and body["error_code"] == 40405, body
    assert call(sluice, "DELETE", "/subjects/" + subject) == (200, [1])
    assert call(sluice, "GET", "/subjects/%s/versions" % subject)[0] == 404
    assert call(sluice, "GET", "/subjects/%s/versions?deleted=true" % subject) == (200, [1])
    assert call(sluice, "DELETE", "/subjects/%s?permanent=true" % subject) == (200, [1])
    assert call(sluice, "GET", "/subjects/%s/versions?deleted=true" % subject)[0] == 404
    # Unknown routes get the error JSON too.
    status, body = call(sluice, "GET", "/no/such/route")
    assert status == 404 and body["error_code"] == 404, body


def test_protobuf_compatibility_conformance(sluice, shared_dir, tmp_path):
    """Every public PROTOBUF case of the shared suite (verdicts and 200/409 on register)."""
    runner = shared_dir / "conformance" / "run_sr_compat.py"
    if not runner.is_file():
        pytest.skip("conformance runner not found at %s" % runner)
    proc = subprocess.run(
        [sys.executable, "-u", str(runner), "--sr", sluice.url("registry"),
         "--bootstrap", sluice.bootstrap, "--types", "PROTOBUF", "--no-smoke"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    m = SUMMARY_RE.search(out)
    fails = [ln for ln in out.splitlines() if ln.startswith("FAIL")]
    assert m, "no summary line:\n" + out[-3000:]
    passed, failed = int(m.group(1)), int(m.group(2))
    print("run_sr_compat --types PROTOBUF: %d passed, %d failed" % (passed, failed))
    assert failed == 0 and passed >= 20, "\n".join(fails[:40])


def compile_proto(proto_path, out_dir):
    """A .proto compiled to a Python module with grpcio-tools' protoc, imported."""
    import importlib.resources
    import importlib.util
    from grpc_tools import protoc
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    rc = protoc.main(["protoc", "-I%s" % proto_path.parent, "-I%s" % well_known,
                      "--python_out=%s" % out_dir, str(proto_path)])
    assert rc == 0, "protoc failed on %s" % proto_path
    module = proto_path.stem + "_pb2"
    spec = importlib.util.spec_from_file_location(module, out_dir / (module + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_talk_order_proto_round_trip(sluice, shared_dir, tmp_path):
    """confluent-kafka's ProtobufSerializer/ProtobufDeserializer with the talk's order.proto:
    the serializer registers the file descriptor (base64), the deserializer fetches it back
    with format=serialized; then the registry's Protobuf rules on the stored schema."""
    pytest.importorskip("grpc_tools")
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    order_pb2 = compile_proto(shared_dir / "seed-examples" / "order.proto", tmp_path)
    topic = unique("orders-proto")
    subject = topic + "-value"
    ctx = SerializationContext(topic, MessageField.VALUE)
    sr = SchemaRegistryClient({"url": sluice.url("registry")})
    ser = ProtobufSerializer(order_pb2.Order, sr)
    producer = Producer({"bootstrap.servers": sluice.bootstrap})
    orders = [order_pb2.Order(order_id=i, product="Laptop", quantity=i % 3 + 1) for i in range(20)]
    for o in orders:
        producer.produce(topic, value=ser(o, ctx))
    assert producer.flush(30) == 0

    registered = sr.get_latest_version(subject)
    assert registered.version == 1 and registered.schema.schema_type == "PROTOBUF"
    # Stored as .proto text, not as the base64 descriptor the client sent.
    assert "message Order" in registered.schema.schema_str, registered.schema.schema_str
    schema_id = registered.schema_id

    consumer = Consumer({"bootstrap.servers": sluice.bootstrap, "group.id": unique("proto-reader"),
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    de = ProtobufDeserializer(order_pb2.Order, {}, sr)
    got = []
    try:
        while len(got) < len(orders):
            m = consumer.poll(10)
            assert m is not None, "timed out after %d records" % len(got)
            assert m.error() is None, m.error()
            raw = m.value()
            # Magic 0, the id, then the message indexes ([0] is the single byte 0).
            assert raw[0] == 0 and int.from_bytes(raw[1:5], "big") == schema_id and raw[5] == 0
            got.append(de(raw, ctx))
    finally:
        consumer.close()
    assert got == orders

    # The registry holds the schema as Protobuf: the same text is the same id, renaming a
    # field is compatible, changing its wire type is not.
    text = (shared_dir / "seed-examples" / "order.proto").read_text()
    status, body = call(sluice, "POST", "/subjects/" + subject,
                        {"schema": registered.schema.schema_str, "schemaType": "PROTOBUF"})
    assert status == 200 and body["id"] == schema_id, body
    renamed = text.replace("int32 quantity", "int64 qty")
    status, body = call(sluice, "POST", "/compatibility/subjects/%s/versions/latest" % subject,
                        {"schema": renamed, "schemaType": "PROTOBUF"})
    assert status == 200 and body["is_compatible"] is True, body
    status, body = call(sluice, "POST", "/subjects/%s/versions" % subject,
                        {"schema": text.replace("string product", "int32 product"),
                         "schemaType": "PROTOBUF"})
    assert status == 409 and "FIELD_SCALAR_KIND_CHANGED" in body["message"], body
    status, body = call(sluice, "POST", "/subjects/%s/versions" % subject,
                        {"schema": "syntax = \"proto3\";\nmessage Order {", "schemaType": "PROTOBUF"})
    assert status == 422 and body["error_code"] == 42201, body


def test_json_compatibility_conformance(sluice, shared_dir, tmp_path):
    """Every public JSON Schema case of the shared suite, under Confluent's default (strict)
    policy."""
    runner = shared_dir / "conformance" / "run_sr_compat.py"
    if not runner.is_file():
        pytest.skip("conformance runner not found at %s" % runner)
    proc = subprocess.run(
        [sys.executable, "-u", str(runner), "--sr", sluice.url("registry"),
         "--bootstrap", sluice.bootstrap, "--types", "JSON", "--no-smoke"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    m = SUMMARY_RE.search(out)
    fails = [ln for ln in out.splitlines() if ln.startswith("FAIL")]
    assert m, "no summary line:\n" + out[-3000:]
    passed, failed = int(m.group(1)), int(m.group(2))
    print("run_sr_compat --types JSON: %d passed, %d failed" % (passed, failed))
    assert failed == 0 and passed >= 100, "\n".join(fails[:40])


ORDER_JSON_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Order",
    "type": "object",
    "properties": {
        "order_id": {"type": "integer"},
        "product": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
    },
    "required": ["order_id", "product", "quantity"],
    "additionalProperties": False,
}


def test_talk_order_json_schema_round_trip(sluice):
    """The talk's Order as a JSON Schema through confluent-kafka's JSONSerializer and
    JSONDeserializer: registered on first use, ids on the wire, and evolution checked."""
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from confluent_kafka.schema_registry.error import SchemaRegistryError
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    topic = unique("orders-json")
    subject = topic + "-value"
    sr = SchemaRegistryClient({"url": sluice.url("registry")})
    schema_str = json.dumps(ORDER_JSON_SCHEMA)
    ser = JSONSerializer(schema_str, sr)
    producer = Producer({"bootstrap.servers": sluice.bootstrap})
    orders = [{"order_id": i, "product": "Laptop", "quantity": i % 3 + 1} for i in range(20)]
    for o in orders:
        producer.produce(topic, value=ser(o, SerializationContext(topic, MessageField.VALUE)))
    assert producer.flush(30) == 0

    registered = sr.get_latest_version(subject)
    assert registered.version == 1 and registered.schema.schema_type == "JSON"
    schema_id = registered.schema_id

    consumer = Consumer({"bootstrap.servers": sluice.bootstrap,
                         "group.id": unique("orders-json-reader"),
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    de = JSONDeserializer(None, schema_registry_client=sr)
    got = []
    try:
        while len(got) < len(orders):
            m = consumer.poll(10)
            assert m is not None, "timed out after %d records" % len(got)
            assert m.error() is None, m.error()
            raw = m.value()
            assert raw[0] == 0 and int.from_bytes(raw[1:5], "big") == schema_id
            got.append(de(raw, SerializationContext(topic, MessageField.VALUE)))
    finally:
        consumer.close()
    assert got == orders

    # BACKWARD (the default): an optional field on the closed model is fine, a new
    # required one without a default is not, and neither is narrowing a type.
    v2 = json.loads(schema_str)
    v2["properties"]["note"] = {"type": "string"}
    assert sr.test_compatibility(subject, Schema(json.dumps(v2), "JSON")) is True
    v3 = json.loads(json.dumps(v2))
    v3["required"].append("note")
    assert sr.test_compatibility(subject, Schema(json.dumps(v3), "JSON")) is False
    with pytest.raises(SchemaRegistryError) as err:
        sr.register_schema(subject, Schema(json.dumps(v3), "JSON"))
    assert err.value.http_status_code == 409
    assert "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL" in err.value.error_message
    assert sr.register_schema(subject, Schema(json.dumps(v2), "JSON")) != schema_id
    # Not a JSON schema at all: 422.
    status, body = call(sluice, "POST", "/subjects/%s/versions" % subject,
                        {"schemaType": "JSON", "schema": '{"type": "text"}'})
    assert status == 422 and body["error_code"] == 42201, body


def test_protobuf_imports_registered_as_references(sluice, tmp_path):
    """With skip.known.types off, confluent-kafka registers each import (here Google's
    Timestamp) as its own subject and the schema with references to it; the deserializer
    resolves them back through format=serialized."""
    pytest.importorskip("grpc_tools")
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    proto = tmp_path / "shipment.proto"
    proto.write_text('syntax = "proto3";\npackage talk;\nimport "google/protobuf/timestamp.proto";\n'
                     'message Shipment {\n  int32 order_id = 1;\n  google.protobuf.Timestamp at = 2;\n}\n')
    pb2 = compile_proto(proto, tmp_path)
    topic = unique("shipments")
    ctx = SerializationContext(topic, MessageField.VALUE)
    sr = SchemaRegistryClient({"url": sluice.url("registry")})
    ser = ProtobufSerializer(pb2.Shipment, sr, {"skip.known.types": False})
    msg = pb2.Shipment(order_id=7)
    msg.at.seconds = 1700000000
    raw = ser(msg, ctx)

    latest = sr.get_latest_version(topic + "-value")
    refs = [(r.name, r.subject) for r in latest.schema.references]
    assert refs == [("google/protobuf/timestamp.proto", "google/protobuf/timestamp.proto")], refs
    assert "google/protobuf/timestamp.proto" in sr.get_subjects()
    assert ProtobufDeserializer(pb2.Shipment, {}, sr)(raw, ctx) == msg
