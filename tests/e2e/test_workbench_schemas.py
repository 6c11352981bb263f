"""The workbench's schema-aware produce and browse against confluent-kafka's own serializers:
records produced through the workbench API with a registered subject are read back by
confluent-kafka's AvroDeserializer / ProtobufDeserializer / JSONDeserializer (so the bytes on the
log are Confluent's wire format), and records written by its AvroSerializer / ProtobufSerializer
are shown decoded by the workbench's browse."""
import json

import requests

from conftest import create_topic, unique


def api(sluice, method, path, body=None, expect=200):
    r = requests.request(method, sluice.url("workbench") + "/api/v1/clusters/local" + path,
                         json=body, timeout=30)
    assert r.status_code == expect, "%s %s: %d %s" % (method, path, r.status_code, r.text)
    return r.json() if r.text else None


def read_values(sluice, topic, count, deserializer):
    from confluent_kafka import Consumer
    from confluent_kafka.serialization import MessageField, SerializationContext

    consumer = Consumer({"bootstrap.servers": sluice.bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    got = []
    try:
        while len(got) < count:
            m = consumer.poll(15)
            assert m is not None, "timed out after %d records" % len(got)
            assert m.error() is None, m.error()
            got.append(deserializer(m.value(), SerializationContext(topic, MessageField.VALUE)))
    finally:
        consumer.close()
    return got


def order_message_class():
    """The talk's Order message (order.proto) as a Python class, without protoc."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fdp = descriptor_pb2.FileDescriptorProto(name=unique("order") + ".proto", syntax="proto3")
    msg = fdp.message_type.add(name="Order")
    for number, (name, kind) in enumerate([
            ("order_id", descriptor_pb2.FieldDescriptorProto.TYPE_INT32),
            ("product", descriptor_pb2.FieldDescriptorProto.TYPE_STRING),
            ("quantity", descriptor_pb2.FieldDescriptorProto.TYPE_INT32)], start=1):
        msg.field.add(name=name, number=number, type=kind,
                      label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("Order"))


ORDERS = [{"order_id": i, "product": "Laptop %d" % i, "quantity": i % 3 + 1} for i in range(5)]


def test_workbench_produce_is_read_by_confluent_deserializers(sluice, shared_dir):
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer

    sr = SchemaRegistryClient({"url": sluice.url("registry")})
    avsc = (shared_dir / "seed-examples" / "order.avsc").read_text()
    proto = (shared_dir / "seed-examples" / "order.proto").read_text()
    json_schema = json.dumps({"type": "object", "properties": {
        "order_id": {"type": "integer"}, "product": {"type": "string"},
        "quantity": {"type": "integer"}}, "required": ["order_id", "product", "quantity"]})
    cases = [
        ("avro", {"schema": avsc}, lambda: AvroDeserializer(sr)),
        ("proto", {"schemaType": "PROTOBUF", "schema": proto},
         lambda: ProtobufDeserializer(order_message_class(), {"use.deprecated.format": False})),
        ("json", {"schemaType": "JSON", "schema": json_schema},
         lambda: JSONDeserializer(json_schema)),
    ]
    for kind, schema, make_deserializer in cases:
        topic = unique("wb-" + kind)
        create_topic(sluice.bootstrap, topic, 1)
        # Registered through the workbench's pass-through, as the UI does.
        registered = api(sluice, "POST", "/registry/subjects/%s-value/versions" % topic, schema)
        produced = api(sluice, "POST", "/topics/%s/messages" % topic, {
            "records": [{"key": str(o["order_id"]), "value": json.dumps(o)} for o in ORDERS],
            "value_schema": {"subject": topic + "-value"},
        })
        assert produced["produced"] == len(ORDERS)
        got = read_values(sluice, topic, len(ORDERS), make_deserializer())
        if kind == "proto":
            got = [{"order_id": m.order_id, "product": m.product, "quantity": m.quantity}
                   for m in got]
        assert got == ORDERS, kind
        # The browse shows the same records, with the schema they were written with.
        page = api(sluice, "GET", "/topics/%s/messages?from=earliest" % topic)
        shown = [m["value_decoded"] for m in page["messages"]]
        assert all(d["schema_id"] == registered["id"] and d["error"] is None for d in shown), shown
        assert [json.loads(d["json"]) for d in shown] == ORDERS


def test_confluent_serializers_are_decoded_by_the_workbench(sluice, shared_dir):
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    sr = SchemaRegistryClient({"url": sluice.url("registry")})
    avsc = (shared_dir / "seed-examples" / "order.avsc").read_text()
    order_class = order_message_class()
    cases = [
        ("avro", AvroSerializer(sr, avsc), lambda o: o, "AVRO"),
        ("proto", ProtobufSerializer(order_class, sr, {"use.deprecated.format": False}),
         lambda o: order_class(**o), "PROTOBUF"),
    ]
    producer = Producer({"bootstrap.servers": sluice.bootstrap})
    for kind, serializer, to_record, schema_type in cases:
        topic = unique("confluent-" + kind)
        create_topic(sluice.bootstrap, topic, 1)
        for o in ORDERS:
            ctx = SerializationContext(topic, MessageField.VALUE)
            producer.produce(topic, value=serializer(to_record(o), ctx))
        assert producer.flush(30) == 0
        subject = sr.get_latest_version(topic + "-value")

        page = api(sluice, "GET", "/topics/%s/messages?from=earliest" % topic)
        assert len(page["messages"]) == len(ORDERS)
        for m, want in zip(page["messages"], ORDERS):
            assert m["value_schema_id"] == subject.schema_id
            d = m["value_decoded"]
            assert d["error"] is None, d
            assert d["schema_type"] == schema_type
            assert d["subject"] == topic + "-value" and d["version"] == 1
            assert json.loads(d["json"]) == want, (kind, d["json"])
