"""The SQL engine's registry formats with real clients: confluent-kafka's serializers write
the talk's orders in the wire format, a stream declared without columns takes them from the
registry, and a filtering CSAS writes the wire format that confluent-kafka's deserializers
read back with the schema the engine registered."""

import json
import uuid

import pytest
import requests

from test_registry import compile_proto
from test_sql import KSQL, wait_for

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}


def unique(prefix):
    return "%s_%s" % (prefix, uuid.uuid4().hex[:8])


def ksql(s, sql, props=None):
    r = requests.post(s.url("sql") + "/ksql", headers=KSQL, timeout=30,
                      data=json.dumps({"ksql": sql, "streamsProperties": props or {}}))
    assert r.status_code == 200, r.text
    return r.json()


def describe_fields(s, name):
    body = ksql(s, "DESCRIBE %s;" % name)
    return [(f["name"], f["schema"]["type"]) for f in body[0]["sourceDescription"]["fields"]]


def consume(s, topic, decode, n, group):
    from confluent_kafka import Consumer
    from confluent_kafka.serialization import MessageField, SerializationContext
    c = Consumer({"bootstrap.servers": s.bootstrap, "group.id": group,
                  "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    ctx = SerializationContext(topic, MessageField.VALUE)
    got = []
    try:
        for _ in range(60):
            if len(got) >= n:
                break
            m = c.poll(1)
            if m is None or m.error() is not None:
                continue
            raw = m.value()
            assert raw[0] == 0, raw[:8]  # the wire format's magic byte
            got.append(decode(raw, ctx))
    finally:
        c.close()
    return got


def produce(s, topic, serialize, values):
    from confluent_kafka import Producer
    from confluent_kafka.serialization import MessageField, SerializationContext
    p = Producer({"bootstrap.servers": s.bootstrap})
    ctx = SerializationContext(topic, MessageField.VALUE)
    for v in values:
        p.produce(topic, value=serialize(v, ctx))
    assert p.flush(30) == 0


def test_avro_orders_inferred_and_filtered(sluice, shared_dir):
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer

    sr = SchemaRegistryClient({"url": sluice.url("registry")})
    topic, sink_topic = unique("orders"), unique("big_orders")
    orders = [{"order_id": i, "product": "Laptop" if i % 2 else "Phone", "quantity": i % 4}
              for i in range(20)]
    produce(sluice, topic, AvroSerializer(sr, (shared_dir / "seed-examples" / "order.avsc").read_text()),
            orders)

    name = unique("ORDERS").upper()
    ksql(sluice, "CREATE STREAM %s WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='AVRO');" % (name, topic))
    assert describe_fields(sluice, name) == [
        ("ORDER_ID", "INTEGER"), ("PRODUCT", "STRING"), ("QUANTITY", "INTEGER")]

    sink = unique("BIG").upper()
    ksql(sluice, "CREATE STREAM %s WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='AVRO') AS "
                 "SELECT ORDER_ID, PRODUCT, QUANTITY * 10 AS TOTAL FROM %s "
                 "WHERE QUANTITY >= 2 EMIT CHANGES;" % (sink, sink_topic, name), EARLIEST)
    expected = [{"ORDER_ID": o["order_id"], "PRODUCT": o["product"], "TOTAL": o["quantity"] * 10}
                for o in orders if o["quantity"] >= 2]

    de = AvroDeserializer(sr)
    got = wait_for("the CSAS's Avro output",
                   lambda: (lambda g: g if len(g) >= len(expected) else None)(
                       consume(sluice, sink_topic, de, len(expected), unique("g"))))
    assert sorted(got, key=lambda r: r["ORDER_ID"]) == expected

    registered = json.loads(sr.get_latest_version(sink_topic + "-value").schema.schema_str)
    assert registered["name"] == "KsqlDataSourceSchema"
    assert registered["namespace"] == "io.confluent.ksql.avro_schemas"
    assert [(f["name"], f["type"], f["default"]) for f in registered["fields"]] == [
        ("ORDER_ID", ["null", "int"], None), ("PRODUCT", ["null", "string"], None),
        ("TOTAL", ["null", "int"], None)]
    # The sink is a stream like any other: its columns come back from the schema it registered.
    again = unique("AGAIN").upper()
    ksql(sluice, "CREATE STREAM %s WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='AVRO');" % (again, sink_topic))
    assert describe_fields(sluice, again) == [
        ("ORDER_ID", "INTEGER"), ("PRODUCT", "STRING"), ("TOTAL", "INTEGER")]


def test_protobuf_orders_inferred_and_filtered(sluice, shared_dir, tmp_path):
    pytest.importorskip("grpc_tools")
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer

    order_pb2 = compile_proto(shared_dir / "seed-examples" / "order.proto", tmp_path)
    sr = SchemaRegistryClient({"url": sluice.url("registry")})
    topic, sink_topic = unique("orders_proto"), unique("big_proto")
    orders = [order_pb2.Order(order_id=i, product="Laptop" if i % 2 else "Phone", quantity=i % 4)
              for i in range(20)]
    produce(sluice, topic, ProtobufSerializer(order_pb2.Order, sr, {"use.deprecated.format": False}),
            orders)

    name = unique("PORDERS").upper()
    ksql(sluice, "CREATE STREAM %s WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='PROTOBUF');" % (name, topic))
    assert describe_fields(sluice, name) == [
        ("ORDER_ID", "INTEGER"), ("PRODUCT", "STRING"), ("QUANTITY", "INTEGER")]

    sink = unique("PBIG").upper()
    ksql(sluice, "CREATE STREAM %s WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='PROTOBUF') AS "
                 "SELECT ORDER_ID, PRODUCT, QUANTITY * 10 AS TOTAL FROM %s "
                 "WHERE QUANTITY >= 2 EMIT CHANGES;" % (sink, sink_topic, name), EARLIEST)
    expected = [(o.order_id, o.product, o.quantity * 10) for o in orders if o.quantity >= 2]

    # The schema the engine registered, compiled and used by confluent-kafka's deserializer.
    def registered():
        try:
            return sr.get_latest_version(sink_topic + "-value")
        except Exception:  # not registered yet
            return None
    text = wait_for("the sink's Protobuf schema", registered).schema.schema_str
    proto = tmp_path / "sink" / "ksql_sink.proto"
    proto.parent.mkdir()
    proto.write_text(text)
    sink_pb2 = compile_proto(proto, proto.parent)
    de = ProtobufDeserializer(sink_pb2.ConnectDefault1, {"use.deprecated.format": False})
    got = wait_for("the CSAS's Protobuf output",
                   lambda: (lambda g: g if len(g) >= len(expected) else None)(
                       consume(sluice, sink_topic, de, len(expected), unique("g"))))
    assert sorted((m.ORDER_ID, m.PRODUCT, m.TOTAL) for m in got) == expected


def test_delimited_values_in_and_out(sluice):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    topic, sink_topic = unique("csv_orders"), unique("csv_big")
    p = KafkaProducer(bootstrap_servers=sluice.bootstrap)
    lines = ['1,Laptop,3', '2,"Phone, blue",1', '3,"say ""hi""",2', '4,,5', 'not,enough']
    for line in lines:
        p.send(topic, line.encode())
    p.flush()
    p.close()

    name, sink = unique("CSV").upper(), unique("CSVBIG").upper()
    ksql(sluice, "CREATE STREAM %s (ID INT, PRODUCT STRING, QTY INT) WITH (KAFKA_TOPIC='%s', "
                 "VALUE_FORMAT='DELIMITED');" % (name, topic))
    ksql(sluice, "CREATE STREAM %s WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='DELIMITED', "
                 "VALUE_DELIMITER='|') AS SELECT ID, PRODUCT, QTY * 2 AS Q2 FROM %s "
                 "WHERE QTY >= 2 EMIT CHANGES;" % (sink, sink_topic, name), EARLIEST)

    def read():
        c = KafkaConsumer(bootstrap_servers=sluice.bootstrap, enable_auto_commit=False,
                          consumer_timeout_ms=1000)
        tps = [TopicPartition(sink_topic, q) for q in c.partitions_for_topic(sink_topic) or []]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        out = sorted(m.value.decode() for m in c)
        c.close()
        return out if len(out) >= 3 else None
    # The line with too few fields is skipped, as ksqlDB does; an empty field is NULL; a
    # field with a quote is quoted, its quotes doubled (CSV's minimal quoting).
    assert wait_for("the DELIMITED output", read) == ['1|Laptop|6', '3|"say ""hi"""|4', '4||10']
