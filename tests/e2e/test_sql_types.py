"""ksqlDB's TIMESTAMP, DATE, TIME, DECIMAL and BYTES with real clients: confluent-kafka's
AvroSerializer writes decimal/timestamp-millis/date logical types, kafka-python writes JSON as
ksqlDB's JSON format has them (epoch numbers, base64 bytes), and persistent, push and pull
queries give ksqlDB's values back (REST: ISO strings for the temporal types, numbers for
decimals; sinks: the formats' own encodings, exact decimals in Avro)."""

import datetime
import decimal
import json

import requests
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from test_sql import KSQL, wait_for
from test_sql_formats import consume, describe_fields, produce, unique

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}
UTC = datetime.timezone.utc
JAN1 = 1_609_459_200_000  # 2021-01-01T00:00:00Z

PAYMENT = {
    "type": "record", "name": "Payment", "namespace": "io.sluice.test",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "amount",
         "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    ],
}


def ksql(s, sql, props=None, ok=True):
    r = requests.post(s.url("sql") + "/ksql", headers=KSQL, timeout=30,
                      data=json.dumps({"ksql": sql, "streamsProperties": props or {}}))
    if ok:
        assert r.status_code == 200, r.text
    return r.status_code, r.json()


def query(s, sql, props=None, raw=False):
    r = requests.post(s.url("sql") + "/query-stream", timeout=30,
                      data=json.dumps({"sql": sql, "properties": props or {}}))
    assert r.status_code == 200, r.text
    if raw:
        return r.text
    lines = [json.loads(x) for x in r.text.splitlines() if x.strip()]
    return lines[0], lines[1:]


def test_avro_logical_types_through_persistent_push_and_pull_queries(sluice):
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer

    sr = SchemaRegistryClient({"url": sluice.url("registry")})
    topic, sink_topic = unique("payments"), unique("doubled")
    t0 = datetime.datetime(2021, 1, 1, tzinfo=UTC)
    payments = [
        {"id": "p1", "amount": decimal.Decimal("12.34"), "ts": t0,
         "day": datetime.date(2021, 1, 1)},
        {"id": "p2", "amount": decimal.Decimal("5.00"),
         "ts": t0 + datetime.timedelta(hours=1, milliseconds=5), "day": datetime.date(2020, 12, 31)},
        {"id": "p1", "amount": decimal.Decimal("100.01"),
         "ts": t0 + datetime.timedelta(days=1), "day": datetime.date(2021, 1, 2)},
    ]
    produce(sluice, topic, AvroSerializer(sr, json.dumps(PAYMENT)), payments)

    name = unique("PAY").upper()
    ksql(sluice, "CREATE STREAM %s WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='AVRO');" % (name, topic))
    assert describe_fields(sluice, name) == [
        ("ID", "STRING"), ("AMOUNT", "DECIMAL"), ("TS", "TIMESTAMP"), ("DAY", "DATE")]

    # Push query: the REST rendering of each type.
    header, rows = query(sluice, "SELECT ID, AMOUNT, TS, DAY, AMOUNT * 2 AS DOUBLED, "
                                 "FORMAT_TIMESTAMP(TS, 'yyyy-MM-dd HH:mm:ss.SSS') AS TS_TEXT "
                                 "FROM %s EMIT CHANGES LIMIT 3;" % name, EARLIEST)
    assert header["columnTypes"] == ["STRING", "DECIMAL(10, 2)", "TIMESTAMP", "DATE",
                                     "DECIMAL(21, 2)", "STRING"]
    assert rows == [
        ["p1", 12.34, "2021-01-01T00:00:00.000", "2021-01-01", 24.68, "2021-01-01 00:00:00.000"],
        ["p2", 5.0, "2021-01-01T01:00:00.005", "2020-12-31", 10.0, "2021-01-01 01:00:00.005"],
        ["p1", 100.01, "2021-01-02T00:00:00.000", "2021-01-02", 200.02,
         "2021-01-02 00:00:00.000"],
    ]

    # Persistent query into an Avro sink: exact decimals and logical types a client reads.
    sink = unique("DOUBLED").upper()
    ksql(sluice, "CREATE STREAM %s WITH (KAFKA_TOPIC='%s') AS SELECT ID, AMOUNT * 2 AS DOUBLED, "
                 "TIMESTAMPADD(HOURS, 1, TS) AS LATER, DAY FROM %s WHERE AMOUNT > 10.00 "
                 "EMIT CHANGES;" % (sink, sink_topic, name), EARLIEST)
    got = consume(sluice, sink_topic, AvroDeserializer(sr), 2, unique("g"))
    assert got == [
        {"ID": "p1", "DOUBLED": decimal.Decimal("24.68"),
         "LATER": t0 + datetime.timedelta(hours=1), "DAY": datetime.date(2021, 1, 1)},
        {"ID": "p1", "DOUBLED": decimal.Decimal("200.02"),
         "LATER": t0 + datetime.timedelta(days=1, hours=1), "DAY": datetime.date(2021, 1, 2)},
    ]
    registered = json.loads(sr.get_latest_version(sink_topic + "-value").schema.schema_str)
    doubled = next(f for f in registered["fields"] if f["name"] == "DOUBLED")
    assert doubled["type"][1]["logicalType"] == "decimal"
    assert (doubled["type"][1]["precision"], doubled["type"][1]["scale"]) == (21, 2)

    # A table of aggregates over them, read by a pull query.
    table = unique("TOTALS").upper()
    ksql(sluice, "CREATE TABLE %s AS SELECT ID, SUM(AMOUNT) AS TOTAL, MAX(TS) AS LAST_TS, "
                 "MIN(DAY) AS FIRST_DAY FROM %s GROUP BY ID EMIT CHANGES;" % (table, name), EARLIEST)

    def pull():
        header, rows = query(sluice, "SELECT * FROM %s WHERE ID='p1';" % table)
        return (header, rows) if rows and rows[0][1] == 112.35 else None
    got = wait_for("totals", pull)
    assert got, query(sluice, "SELECT * FROM %s WHERE ID='p1';" % table)
    header, rows = got
    assert header["columnTypes"] == ["STRING", "DECIMAL(10, 2)", "TIMESTAMP", "DATE"]
    assert rows == [["p1", 112.35, "2021-01-02T00:00:00.000", "2021-01-01"]]


def test_json_types_timestamp_format_and_errors(sluice):
    topic, sink_topic = unique("events"), unique("events_out")
    name = unique("EV").upper()
    ksql(sluice, "CREATE STREAM %s (ID STRING KEY, TS TIMESTAMP, D DATE, T TIME, "
                 "PRICE DECIMAL(10, 2), RAW BYTES, EVENT_AT STRING) WITH (KAFKA_TOPIC='%s', "
                 "VALUE_FORMAT='JSON', PARTITIONS=1, TIMESTAMP='EVENT_AT', "
                 "TIMESTAMP_FORMAT='yyyy-MM-dd HH:mm:ss');" % (name, topic))
    p = KafkaProducer(bootstrap_servers=sluice.bootstrap,
                      value_serializer=lambda v: json.dumps(v).encode())
    p.send(topic, key=b"e1", value={"TS": JAN1, "D": 18628, "T": 45_000_000, "PRICE": 19.99,
                                    "RAW": "yv4=", "EVENT_AT": "2021-01-01 10:00:00"},
           timestamp_ms=1)
    p.send(topic, key=b"e2", value={"TS": JAN1 + 1, "D": 18629, "T": 0, "PRICE": "0.10",
                                    "RAW": "AA==", "EVENT_AT": "2021-01-02 00:00:01"},
           timestamp_ms=2)
    p.flush()
    p.close()

    header, rows = query(sluice, "SELECT ID, ROWTIME, TS, D, T, PRICE, RAW, PRICE * 3 AS P3, "
                                 "PRICE / 3 AS THIRD, FROM_BYTES(RAW, 'hex') AS HEX, "
                                 "CAST(TS AS STRING) AS TS_STR FROM %s "
                                 "WHERE TS >= '2021-01-01T00:00:00' EMIT CHANGES LIMIT 2;" % name,
                         EARLIEST)
    assert header["columnTypes"] == ["STRING", "BIGINT", "TIMESTAMP", "DATE", "TIME",
                                     "DECIMAL(10, 2)", "BYTES", "DECIMAL(21, 2)",
                                     "DECIMAL(21, 13)", "STRING", "STRING"]
    assert rows == [
        ["e1", JAN1 + 10 * 3_600_000, "2021-01-01T00:00:00.000", "2021-01-01", "12:30:00", 19.99,
         "yv4=", 59.97, 6.6633333333333, "CAFE", "2021-01-01T00:00:00.000"],
        ["e2", JAN1 + 86_401_000, "2021-01-01T00:00:00.001", "2021-01-02", "00:00:00", 0.1,
         "AA==", 0.3, 0.0333333333333, "00", "2021-01-01T00:00:00.001"],
    ]

    text = query(sluice, "SELECT PRICE FROM %s EMIT CHANGES LIMIT 2;" % name, EARLIEST, raw=True)
    assert text.splitlines()[1:] == ["[19.99]", "[0.10]"], text

    # A JSON sink writes ksqlDB's JSON (epoch numbers, base64) stamped with the parsed ROWTIME.
    sink = unique("EV_OUT").upper()
    ksql(sluice, "CREATE STREAM %s WITH (KAFKA_TOPIC='%s') AS SELECT ID, TS, D, T, PRICE, RAW "
                 "FROM %s EMIT CHANGES;" % (sink, sink_topic, name), EARLIEST)

    def sink_records():
        c = KafkaConsumer(bootstrap_servers=sluice.bootstrap, enable_auto_commit=False,
                          consumer_timeout_ms=1500)
        tps = [TopicPartition(sink_topic, q) for q in c.partitions_for_topic(sink_topic) or []]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        out = list(c)
        c.close()
        return out if len(out) >= 2 else None
    got = wait_for("sink", sink_records)
    assert got, "the JSON sink never got its records"
    assert [json.loads(m.value) for m in got] == [
        {"TS": JAN1, "D": 18628, "T": 45_000_000, "PRICE": 19.99, "RAW": "yv4="},
        {"TS": JAN1 + 1, "D": 18629, "T": 0, "PRICE": 0.1, "RAW": "AA=="},
    ]
    assert [m.timestamp for m in got] == [JAN1 + 10 * 3_600_000, JAN1 + 86_401_000]
    # Decimals keep their scale in the JSON text; columns keep their order.
    assert b'"PRICE":0.10' in got[1].value, got[1].value
    assert list(json.loads(got[0].value)) == ["TS", "D", "T", "PRICE", "RAW"]

    # INSERT VALUES coerces strings as ksqlDB does (ISO text, base64 bytes).
    ksql(sluice, "INSERT INTO %s (ID, TS, D, T, PRICE, RAW, EVENT_AT) VALUES ('e3', "
                 "'2021-01-03T00:00:00', '2021-01-03', '01:00', 1.5, 'AQI=', "
                 "'2021-01-03 00:00:00');" % name)
    header, rows = query(sluice, "SELECT ID, TS, D, T, PRICE, RAW FROM %s WHERE ID = 'e3' "
                                 "EMIT CHANGES LIMIT 1;" % name, EARLIEST)
    assert rows == [["e3", "2021-01-03T00:00:00.000", "2021-01-03", "01:00:00", 1.5, "AQI="]]

    # ksqlDB's statement errors, never a crash.
    for sql, words in [
        ("SELECT CAST(RAW AS STRING) FROM %s EMIT CHANGES;" % name, "Cast of BYTES to STRING"),
        ("SELECT TS + 1 FROM %s EMIT CHANGES;" % name, "Unsupported arithmetic types"),
        ("INSERT INTO %s (ID, TS) VALUES ('x', 5);" % name,
         "Expected type TIMESTAMP for field `TS` but got 5"),
        ("SELECT TIMESTAMPADD(HOURS, 1, D) FROM %s EMIT CHANGES;" % name, "TIMESTAMPADD"),
        ("CREATE STREAM %s (A STRING) WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='JSON', "
         "TIMESTAMP='A');" % (unique("BAD"), topic), "timestamp_format"),
        ("CREATE STREAM %s (A STRING) WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='JSON', "
         "TIMESTAMP='A', TIMESTAMP_FORMAT='yyyy-qq');" % (unique("BAD"), topic),
         "Invalid timestamp format"),
    ]:
        if sql.startswith("SELECT"):
            r = requests.post(sluice.url("sql") + "/query-stream", timeout=30,
                              data=json.dumps({"sql": sql, "properties": EARLIEST}))
            status, body = r.status_code, r.json()
        else:
            status, body = ksql(sluice, sql, ok=False)
        assert status == 400, (sql, body)
        assert body["@type"] == "statement_error", body
        assert words in body["message"], (sql, body["message"])


def test_header_columns_read_record_headers(sluice):
    topic = unique("traced")
    name = unique("TRACED").upper()
    ksql(sluice, "CREATE STREAM %s (ID INT, HS ARRAY<STRUCT<KEY STRING, VALUE BYTES>> HEADERS, "
                 "TRACE BYTES HEADER('trace')) WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='JSON', "
                 "PARTITIONS=1);" % (name, topic))
    _, body = ksql(sluice, "DESCRIBE %s;" % name)
    fields = body[0]["sourceDescription"]["fields"]
    assert [(f["name"], f.get("type")) for f in fields] == [
        ("ID", None), ("HS", "HEADER"), ("TRACE", "HEADER")]
    p = KafkaProducer(bootstrap_servers=sluice.bootstrap,
                      value_serializer=lambda v: json.dumps(v).encode())
    p.send(topic, value={"ID": 1}, headers=[("trace", b"abc"), ("other", b"\x00\x01")])
    p.send(topic, value={"ID": 2})
    p.flush()
    p.close()
    header, rows = query(sluice, "SELECT ID, HS, TRACE, FROM_BYTES(TRACE, 'utf8') AS T "
                                 "FROM %s EMIT CHANGES LIMIT 2;" % name, EARLIEST)
    assert header["columnTypes"] == [
        "INTEGER", "ARRAY<STRUCT<`KEY` STRING, `VALUE` BYTES>>", "BYTES", "STRING"]
    assert rows == [
        [1, [{"KEY": "trace", "VALUE": "YWJj"}, {"KEY": "other", "VALUE": "AAE="}], "YWJj",
         "abc"],
        [2, [], None, None],
    ]
