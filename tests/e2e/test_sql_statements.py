"""ksqlDB's introspection and data statements over its REST API, with real clients feeding and
reading the topics: per-query throughput (SHOW QUERIES EXTENDED, DESCRIBE EXTENDED), EXPLAIN,
SHOW FUNCTIONS / DESCRIBE FUNCTION, PRINT through /query (kafka-python and confluent-kafka's
Avro serializer write what it prints), and /inserts-stream (what it writes is read back with
kafka-python). Bad input gets ksqlDB's error objects."""
import json
import re
import threading
import time
import uuid

import requests
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from test_sql import KSQL, wait_for

EARLIEST = {"ksql.streams.auto.offset.reset": "earliest"}


def unique(prefix):
    return "%s_%s" % (prefix, uuid.uuid4().hex[:8])


def ksql(s, sql, props=None, status=200):
    r = requests.post(s.url("sql") + "/ksql", headers=KSQL, timeout=30,
                      data=json.dumps({"ksql": sql, "streamsProperties": props or {}}))
    assert r.headers["Content-Type"].startswith("application/vnd.ksql.v1+json"), r.headers
    assert r.status_code == status, r.text
    return r.json()


def stats(text):
    """ksqlDB's statistics string as {name: number}, plus 'last-message'/'last-failed'."""
    out = {}
    for name, value in re.findall(r"([a-z-]+):\s+(\S+)", text):
        try:
            out[name] = float(value)
        except ValueError:
            out[name] = value
    return out


def produce(s, topic, records):
    """records: (key bytes or None, value bytes or None)."""
    p = KafkaProducer(bootstrap_servers=s.bootstrap)
    for k, v in records:
        p.send(topic, key=k, value=v)
    p.flush()
    p.close()


def read_topic(s, topic, want, timeout=20):
    c = KafkaConsumer(bootstrap_servers=s.bootstrap, enable_auto_commit=False,
                      consumer_timeout_ms=500)
    deadline = time.monotonic() + timeout
    tps = []
    while not tps and time.monotonic() < deadline:
        tps = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic) or []]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    out = []
    while len(out) < want and time.monotonic() < deadline:
        out.extend(c)
    c.close()
    return out


def query_description(s, query_id):
    for q in ksql(s, "SHOW QUERIES EXTENDED;")[0]["queryDescriptions"]:
        if q["id"] == query_id:
            return q
    raise AssertionError("no query %s" % query_id)


def wait_stats(fn, ok, timeout=20):
    """fn()'s value once ok(value), or its last value (for the assertion's message)."""
    return wait_for("stats", lambda: (lambda v: v if ok(v) else None)(fn()), timeout) or fn()


def test_query_throughput_in_show_queries_extended_and_describe_extended(sluice):
    s = sluice
    topic, src, sink = unique("events"), unique("EVENTS").upper(), unique("ERRORS").upper()
    ksql(s, "CREATE STREAM %s (id VARCHAR KEY, level VARCHAR, msg VARCHAR) WITH "
            "(KAFKA_TOPIC='%s', VALUE_FORMAT='JSON', PARTITIONS=2);" % (src, topic))
    created = ksql(s, "CREATE STREAM %s AS SELECT id, msg FROM %s WHERE level = 'ERROR';"
                   % (sink, src), EARLIEST)
    qid = created[0]["commandStatus"]["queryId"]

    # 40 records (half of them errors) and 2 the query cannot read.
    rows = [(str(i).encode(), json.dumps({"level": "ERROR" if i % 2 else "INFO",
                                          "msg": "m%d" % i}).encode()) for i in range(40)]
    produce(s, topic, rows + [(b"1", b"not json"), (b"2", b"{broken")])

    q = wait_stats(lambda: query_description(s, qid),
                   lambda q: stats(q["statistics"]).get("consumer-total-messages") == 42)
    st = stats(q["statistics"])
    assert st["consumer-total-messages"] == 42, q["statistics"]
    assert st["total-messages"] == 20, q["statistics"]
    assert st["consumer-messages-per-sec"] > 0, q["statistics"]
    assert st["messages-per-sec"] > 0, q["statistics"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", st["last-message"]), st
    assert stats(q["errorStats"])["consumer-failed-messages"] == 2, q["errorStats"]
    assert q["sources"] == [src] and q["sinks"] == [sink] and q["state"] == "RUNNING"
    assert q["queryType"] == "PERSISTENT"

    # DESCRIBE EXTENDED: what the queries reading the source consumed, and what the queries
    # writing the sink produced. Plain DESCRIBE says nothing.
    d = ksql(s, "DESCRIBE %s EXTENDED;" % src)[0]["sourceDescription"]
    assert stats(d["statistics"])["consumer-total-messages"] == 42, d["statistics"]
    assert stats(d["errorStats"])["consumer-failed-messages"] == 2, d["errorStats"]
    d = ksql(s, "DESCRIBE %s EXTENDED;" % sink)[0]["sourceDescription"]
    assert stats(d["statistics"])["total-messages"] == 20, d["statistics"]
    assert ksql(s, "DESCRIBE %s;" % sink)[0]["sourceDescription"]["statistics"] == ""
    body = ksql(s, "DESCRIBE STREAMS EXTENDED;")[0]
    assert body["@type"] == "source_descriptions"
    by_name = {d["name"]: d for d in body["sourceDescriptions"]}
    assert set(by_name) == {src, sink}
    assert stats(by_name[src]["statistics"])["consumer-total-messages"] == 42

    # More records: the totals grow by exactly as many.
    produce(s, topic, rows[:10])
    q = wait_stats(lambda: query_description(s, qid),
                   lambda q: stats(q["statistics"]).get("consumer-total-messages") == 52)
    st = stats(q["statistics"])
    assert (st["consumer-total-messages"], st["total-messages"]) == (52, 25), q["statistics"]

    # The rate is over the last seconds: with nothing new it falls to 0, the totals stay.
    q = wait_stats(lambda: query_description(s, qid),
                   lambda q: stats(q["statistics"]).get("consumer-messages-per-sec") == 0,
                   timeout=15)
    st = stats(q["statistics"])
    assert st["consumer-messages-per-sec"] == 0 and st["consumer-total-messages"] == 52


def test_explain_a_running_query_and_a_statement(sluice):
    s = sluice
    topic, src, sink = unique("clicks"), unique("CLICKS").upper(), unique("PER_USER").upper()
    ksql(s, "CREATE STREAM %s (user VARCHAR KEY, page VARCHAR) WITH "
            "(KAFKA_TOPIC='%s', VALUE_FORMAT='JSON', PARTITIONS=1);" % (src, topic))
    created = ksql(s, "CREATE TABLE %s AS SELECT user, COUNT(*) AS n FROM %s GROUP BY user;"
                   % (sink, src))
    qid = created[0]["commandStatus"]["queryId"]

    body = ksql(s, "EXPLAIN %s;" % qid)
    assert body[0]["@type"] == "queryDescription"
    d = body[0]["queryDescription"]
    assert d["id"] == qid
    assert d["sources"] == [src] and d["sinks"] == [sink]
    assert d["statementText"].startswith("CREATE TABLE %s AS SELECT" % sink)
    assert [f["name"] for f in d["fields"]] == ["USER", "N"]
    assert d["fields"][0]["type"] == "KEY"
    assert d["state"] == "RUNNING" and list(d["ksqlHostQueryStatus"].values()) == ["RUNNING"]
    assert "[ SINK ]" in d["executionPlan"] and "[ AGGREGATE ]" in d["executionPlan"]
    assert "[ SOURCE ]" in d["executionPlan"]
    assert "(topics: [%s])" % topic in d["topology"] and "(topic: %s)" % sink in d["topology"]
    for key in ("windowType", "overriddenProperties", "queryType", "queryErrors",
                "consumerGroupId", "tasksMetadata"):
        assert key in d, key

    # EXPLAIN of a statement plans it without running anything.
    other = unique("OTHER").upper()
    d = ksql(s, "EXPLAIN CREATE STREAM %s AS SELECT user, page FROM %s WHERE page LIKE '/a%%';"
             % (other, src))[0]["queryDescription"]
    assert d["sinks"] == [other] and d["sources"] == [src]
    assert "[ FILTER ]" in d["executionPlan"] and d["state"] is None
    assert other not in [x["name"] for x in ksql(s, "SHOW STREAMS;")[0]["streams"]]
    d = ksql(s, "EXPLAIN SELECT * FROM %s EMIT CHANGES;" % src)[0]["queryDescription"]
    assert d["queryType"] == "PUSH" and d["sinks"] == []

    # ksqlDB's errors.
    err = ksql(s, "EXPLAIN CSAS_NOPE_1;", status=400)
    assert err["@type"] == "statement_error"
    assert err["message"] == ("Query with id:CSAS_NOPE_1 does not exist, use SHOW QUERIES to "
                              "view the full set of queries.")
    err = ksql(s, "EXPLAIN SHOW STREAMS;", status=400)
    assert err["@type"] == "statement_error"
    err = ksql(s, "EXPLAIN CREATE STREAM x (a INT) WITH (KAFKA_TOPIC='x', PARTITIONS=1, "
                  "VALUE_FORMAT='JSON');", status=400)
    assert err["message"] == "The provided statement does not run a ksql query"


def test_show_and_describe_functions_list_what_runs(sluice):
    s = sluice
    body = ksql(s, "SHOW FUNCTIONS;")[0]
    assert body["@type"] == "function_names"
    funcs = {f["name"]: f for f in body["functions"]}
    assert funcs["UCASE"]["type"] == "SCALAR" and funcs["UCASE"]["category"] == "STRING"
    assert funcs["COUNT"]["type"] == "AGGREGATE"
    assert "EXPLODE" not in funcs  # no table functions yet: nothing listed that cannot run

    # Every listed scalar function runs in a query.
    topic, src = unique("fn"), unique("FN").upper()
    ksql(s, "CREATE STREAM %s (s VARCHAR, n DOUBLE) WITH (KAFKA_TOPIC='%s', "
            "VALUE_FORMAT='JSON', PARTITIONS=1);" % (src, topic))
    ksql(s, "INSERT INTO %s (s, n) VALUES ('Hello World', 2.25);" % src)
    calls = {"ABS": "ABS(n)", "ARRAY_LENGTH": "ARRAY_LENGTH(ARRAY[1, 2])",
             "AS_VALUE": "AS_VALUE(s)", "CEIL": "CEIL(n)", "COALESCE": "COALESCE(s, 'x')",
             "CONCAT": "CONCAT(s, '!')", "FLOOR": "FLOOR(n)", "IFNULL": "IFNULL(s, 'x')",
             "INITCAP": "INITCAP(s)", "INSTR": "INSTR(s, 'o')", "LCASE": "LCASE(s)",
             "LEN": "LEN(s)", "LPAD": "LPAD(s, 12, '*')", "LTRIM": "LTRIM(s)",
             "NULLIF": "NULLIF(s, 'x')", "REPLACE": "REPLACE(s, 'o', '0')",
             "ROUND": "ROUND(n)", "RPAD": "RPAD(s, 12, '*')", "RTRIM": "RTRIM(s)",
             "SQRT": "SQRT(n)", "SUBSTRING": "SUBSTRING(s, 7)", "TRIM": "TRIM(s)",
             "UCASE": "UCASE(s)",
             # Date/time and bytes functions.
             "CONVERT_TZ": "CONVERT_TZ(FROM_UNIXTIME(0), 'UTC', '+01:00')",
             "DATEADD": "DATEADD(DAYS, 1, PARSE_DATE('2021-01-01', 'yyyy-MM-dd'))",
             "DATESUB": "DATESUB(DAYS, 1, PARSE_DATE('2021-01-01', 'yyyy-MM-dd'))",
             "DATETOSTRING": "DATETOSTRING(18628, 'yyyy-MM-dd')",
             "FORMAT_DATE": "FORMAT_DATE(PARSE_DATE('2021-01-01', 'yyyy-MM-dd'), 'dd/MM/yyyy')",
             "FORMAT_TIME": "FORMAT_TIME(PARSE_TIME('12:30', 'HH:mm'), 'HH:mm:ss')",
             "FORMAT_TIMESTAMP": "FORMAT_TIMESTAMP(FROM_UNIXTIME(0), 'yyyy-MM-dd')",
             "FROM_BYTES": "FROM_BYTES(TO_BYTES(s, 'utf8'), 'hex')",
             "FROM_UNIXTIME": "FROM_UNIXTIME(0)",
             "PARSE_DATE": "PARSE_DATE('2021-01-01', 'yyyy-MM-dd')",
             "PARSE_TIME": "PARSE_TIME('12:30', 'HH:mm')",
             "PARSE_TIMESTAMP": "PARSE_TIMESTAMP('2021-01-01 00:00', 'yyyy-MM-dd HH:mm')",
             "STRINGTODATE": "STRINGTODATE('2021-01-01', 'yyyy-MM-dd')",
             "STRINGTOTIMESTAMP": "STRINGTOTIMESTAMP('2021-01-01', 'yyyy-MM-dd')",
             "TIMEADD": "TIMEADD(HOURS, 1, PARSE_TIME('12:30', 'HH:mm'))",
             "TIMESUB": "TIMESUB(HOURS, 1, PARSE_TIME('12:30', 'HH:mm'))",
             "TIMESTAMPADD": "TIMESTAMPADD(SECONDS, 1, FROM_UNIXTIME(0))",
             "TIMESTAMPSUB": "TIMESTAMPSUB(SECONDS, 1, FROM_UNIXTIME(0))",
             "TIMESTAMPTOSTRING": "TIMESTAMPTOSTRING(0, 'yyyy-MM-dd')",
             "TO_BYTES": "TO_BYTES(s, 'utf8')",
             "UNIX_DATE": "UNIX_DATE()",
             "UNIX_TIMESTAMP": "UNIX_TIMESTAMP()"}
    scalars = sorted(n for n, f in funcs.items() if f["type"] == "SCALAR")
    assert scalars == sorted(calls)
    sql = "SELECT %s FROM %s;" % (", ".join(calls[n] for n in scalars), src)
    r = requests.post(s.url("sql") + "/query-stream", data=json.dumps({"sql": sql}), timeout=30)
    assert r.status_code == 200, r.text
    row = json.loads(r.text.splitlines()[1])
    assert dict(zip(scalars, row))["SUBSTRING"] == "World"
    assert None not in row, dict(zip(scalars, row))

    d = ksql(s, "DESCRIBE FUNCTION substring;")[0]
    assert d["@type"] == "describe_function" and d["name"] == "SUBSTRING"
    assert d["type"] == "SCALAR"
    variants = [[a["type"] for a in f["arguments"]] for f in d["functions"]]
    assert variants == [["STRING", "INT"], ["STRING", "INT", "INT"]]
    assert all(f["returnType"] == "STRING" for f in d["functions"])
    err = ksql(s, "DESCRIBE FUNCTION explode;", status=400)
    assert err["@type"] == "statement_error"
    assert err["message"] == "Can't find any functions with the name 'EXPLODE'"


def print_lines(s, statement, want=None, timeout=20):
    """The non-empty lines PRINT streams on /query (until it ends, or `want` lines)."""
    r = requests.post(s.url("sql") + "/query", headers=KSQL, stream=True, timeout=timeout,
                      data=json.dumps({"ksql": statement, "streamsProperties": {}}))
    assert r.status_code == 200, r.text
    lines = []
    for raw in r.iter_lines():
        if raw:
            lines.append(raw.decode())
        if want and len(lines) >= want:
            break
    r.close()
    return lines


def test_print_json_and_string_records(sluice):
    s = sluice
    topic = unique("print-me")
    recs = [(("user-%04d" % i).encode(), json.dumps({"n": i, "who": "user %d" % i}).encode())
            for i in range(6)]
    produce(s, topic, recs)
    lines = print_lines(s, "PRINT '%s' FROM BEGINNING LIMIT 3;" % topic)
    assert lines[:2] == ["Key format: KAFKA_STRING", "Value format: JSON or KAFKA_STRING"]
    assert len(lines) == 5, lines  # LIMIT 3 ends the stream
    for i, line in enumerate(lines[2:]):
        m = re.match(r"rowtime: (\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3} Z), key: (.*), "
                     r"value: (.*), partition: (\d+)$", line)
        assert m, line
        assert m.group(2) == "user-%04d" % i
        assert json.loads(m.group(3)) == {"n": i, "who": "user %d" % i}
        assert m.group(4) == "0"

    # INTERVAL 2: every other record.
    lines = print_lines(s, "PRINT '%s' FROM BEGINNING INTERVAL 2 LIMIT 3;" % topic)
    assert [l.split(", ")[1] for l in lines[2:]] == ["key: user-0000", "key: user-0002",
                                                     "key: user-0004"]

    # Without FROM BEGINNING, only what arrives after: a record produced while it runs.
    got = []
    t = threading.Thread(target=lambda: got.extend(
        print_lines(s, "PRINT '%s' LIMIT 1;" % topic, timeout=30)))
    t.start()
    time.sleep(1.5)
    produce(s, topic, [(None, b"late arrival")])
    t.join(30)
    assert got and got[-1].endswith("key: <null>, value: late arrival, partition: 0"), got

    # Errors: an unknown topic, PRINT on /ksql.
    r = requests.post(s.url("sql") + "/query", headers=KSQL, timeout=10,
                      data=json.dumps({"ksql": "PRINT 'no-such-topic';"}))
    assert r.status_code == 400 and r.json()["@type"] == "statement_error", r.text
    assert "Could not find topic 'no-such-topic'" in r.json()["message"]
    err = ksql(s, "PRINT '%s';" % topic, status=400)
    assert "/query" in err["message"] and "PRINT" in err["message"]


def test_print_avro_records_written_by_confluent_kafka(sluice):
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    s = sluice
    topic = unique("avro-print")
    schema = json.dumps({"type": "record", "name": "Reading", "fields": [
        {"name": "sensor", "type": "string"}, {"name": "value", "type": "double"}]})
    ser = AvroSerializer(SchemaRegistryClient({"url": s.url("registry")}), schema)
    p = Producer({"bootstrap.servers": s.bootstrap})
    for i in range(2):
        p.produce(topic, key=b"sensor-%d" % i, value=ser(
            {"sensor": "s%d" % i, "value": i + 0.5},
            SerializationContext(topic, MessageField.VALUE)))
    p.flush(10)
    lines = print_lines(s, "PRINT '%s' FROM BEGINNING LIMIT 2;" % topic)
    assert lines[1].startswith("Value format: AVRO"), lines
    assert lines[2].split(", value: ")[1] == '{"sensor": "s0", "value": 0.5}, partition: 0', lines


def inserts(s, lines, accept=None):
    headers = {"Accept": accept} if accept else {}
    body = "".join(json.dumps(l) + "\n" if not isinstance(l, str) else l + "\n" for l in lines)
    return requests.post(s.url("sql") + "/inserts-stream", data=body.encode(),
                         headers=headers, timeout=30)


def test_inserts_stream_rows_become_records(sluice):
    s = sluice
    topic, name = unique("orders"), unique("ORDERS").upper()
    ksql(s, "CREATE STREAM %s (id VARCHAR KEY, qty INT, item VARCHAR) WITH "
            "(KAFKA_TOPIC='%s', VALUE_FORMAT='JSON', PARTITIONS=1);" % (name, topic))
    r = inserts(s, [{"target": name},
                    {"ID": "o1", "QTY": 2, "ITEM": "pen"},
                    {"id": "o2", "qty": "5", "item": "ink"},  # any case; numbers from text
                    {"ID": "o3", "QTY": "many"},              # cannot be an INT: this row only
                    {"ID": "o4", "ITEM": "pad"}])             # missing columns are NULL
    assert r.status_code == 200, r.text
    acks = [json.loads(l) for l in r.text.splitlines()]
    assert acks[0] == {"status": "ok", "seq": 0} and acks[1] == {"status": "ok", "seq": 1}
    assert acks[2]["status"] == "error" and acks[2]["seq"] == 2
    assert acks[2]["error_code"] == 40000 and "INTEGER" in acks[2]["message"], acks[2]
    assert acks[3] == {"status": "ok", "seq": 3}

    got = read_topic(s, topic, 3)
    assert [(m.key, json.loads(m.value)) for m in got] == [
        (b"o1", {"QTY": 2, "ITEM": "pen"}), (b"o2", {"QTY": 5, "ITEM": "ink"}),
        (b"o4", {"QTY": None, "ITEM": "pad"})]

    # The JSON array form; a line that is not JSON ends the stream with its error.
    r = inserts(s, [{"target": name}, {"ID": "o5", "QTY": 1}, "{oops", {"ID": "o6"}],
                accept="application/json")
    assert r.status_code == 200, r.text
    acks = r.json()
    assert acks[0] == {"status": "ok", "seq": 0}
    assert acks[1]["status"] == "error" and acks[1]["seq"] == 1
    assert acks[1]["message"] == "Invalid JSON in inserts stream"
    assert len(acks) == 2
    assert [m.key for m in read_topic(s, topic, 4)] == [b"o1", b"o2", b"o4", b"o5"]

    # Bad arguments: ksqlDB's error objects, nothing written.
    r = inserts(s, [{"target": "NO_SUCH_STREAM"}, {"ID": "x"}])
    assert r.status_code == 400 and r.json()["@type"] == "generic_error", r.text
    assert "NO_SUCH_STREAM" in r.json()["message"]
    r = inserts(s, [{"nope": 1}])
    assert r.status_code == 400 and r.json()["@type"] == "generic_error", r.text
    r = inserts(s, ["not json at all"])
    assert r.status_code == 400 and r.json()["error_code"] == 40000, r.text

    # INSERT INTO ... VALUES goes through the same writer.
    ksql(s, "INSERT INTO %s (id, qty, item) VALUES ('o7', 7, 'cup');" % name)
    last = read_topic(s, topic, 5)[-1]
    assert (last.key, json.loads(last.value)) == (b"o7", {"QTY": 7, "ITEM": "cup"})
