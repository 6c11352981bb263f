#!/usr/bin/env python3
"""Schema registry benchmark: the talk's storage claim on Sluice's own log, and registry
request throughput. It prints figures and asserts nothing.

1. Bytes on disk per Order record: 100,000 records (the talk's Order: order_id, product,
   quantity) produced as JSON (the talk's producer: json.dumps) into one topic and as Avro in
   the Confluent wire format (confluent-kafka's AvroSerializer, schema from
   seed-examples/order.avsc) into another, same producer settings, no compression; the
   partitions' .log files are measured after a flush, and the record values alone too.
   Target: Avro <= 50 % of JSON.
2. Registry requests per second, for `GET /schemas/ids/{id}` and for
   `POST /compatibility/subjects/{s}/versions/latest`, from N client threads with keep-alive
   connections (requests.Session), for a fixed time.

Runs `sluice serve` ($SLUICE_BIN, default ~/.cache/sluice/target/release/sluice) on free ports
with a temporary data dir. Re-executes itself in the venv at ~/.cache/sluice/venv.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

VENV_PY = os.path.expanduser("~/.cache/sluice/venv/bin/python")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("SLUICE_SHARED") or os.path.join(os.path.dirname(ROOT), "shared")
SLUICE_BIN = os.environ.get("SLUICE_BIN") or os.path.expanduser("~/.cache/sluice/target/release/sluice")
PRODUCTS = ["Laptop", "Phone", "Monitor", "Keyboard", "Mouse", "Headphones", "Tablet", "Camera"]


def ensure_venv():
    venv = os.path.dirname(os.path.dirname(VENV_PY))
    if os.path.realpath(sys.prefix) != os.path.realpath(venv) and os.path.exists(VENV_PY):
        os.execv(VENV_PY, [VENV_PY] + sys.argv)


def start_sluice(data_dir):
    proc = subprocess.Popen([SLUICE_BIN, "serve", "--data-dir", data_dir, "--kafka-port", "0",
                             "--registry-port", "0", *extra_port_flags()],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    endpoints = {}
    for line in proc.stdout:
        line = line.strip()
        if line == "ready":
            break
        name, _, addr = line.partition(" ")
        endpoints[name] = addr
    if "registry" not in endpoints:
        proc.kill()
        sys.exit("sluice printed no registry endpoint: %r" % endpoints)
    return proc, endpoints


def extra_port_flags():
    """Free ports for the other surfaces this build has (so a running Sluice is not hit)."""
    help_text = subprocess.run([SLUICE_BIN, "serve", "--help"], capture_output=True, text=True).stdout
    flags = []
    for flag in ("--connect-port", "--sql-port", "--ui-port"):
        if flag in help_text:
            flags += [flag, "0"]
    return flags


def orders(n, seed=7):
    rnd = random.Random(seed)
    for i in range(n):
        yield {"order_id": 10000 + i, "product": rnd.choice(PRODUCTS), "quantity": rnd.randint(1, 5)}


def log_bytes(data_dir, topic):
    total = 0
    tdir = os.path.join(data_dir, "topics", topic)
    for root, _, files in os.walk(tdir):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files if f.endswith(".log"))
    return total


def storage(args, endpoints, data_dir):
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    bootstrap = endpoints["kafka"]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(t, 1, 1) for t in ("orders-json", "orders-avro")]).values():
        f.result(30)
    schema = open(os.path.join(SHARED, "seed-examples", "order.avsc")).read()
    sr = SchemaRegistryClient({"url": endpoints["registry"]})
    avro = AvroSerializer(sr, schema)
    conf = {"bootstrap.servers": bootstrap, "linger.ms": 5, "compression.type": "none"}
    result = {}
    for topic, encode in (("orders-json", lambda o: json.dumps(o).encode()),
                          ("orders-avro", lambda o: avro(o, SerializationContext("orders-avro", MessageField.VALUE)))):
        p = Producer(conf)
        values = 0
        for i, o in enumerate(orders(args.records)):
            v = encode(o)
            values += len(v)
            while True:
                try:
                    p.produce(topic, value=v)
                    break
                except BufferError:
                    p.poll(0.05)
            if i % 1000 == 0:
                p.poll(0)
        assert p.flush(60) == 0, "undelivered records"
        result[topic] = {"values": values}
    # The group commit runs at least every second: wait for the bytes to be on disk.
    time.sleep(1.5)
    for topic in result:
        result[topic]["on_disk"] = log_bytes(data_dir, topic)
    return result


def hammer(name, fn, threads, seconds):
    counts, errors = [0] * threads, [0] * threads
    stop = time.monotonic() + seconds

    def worker(i):
        import requests
        s = requests.Session()
        s.headers["Content-Type"] = "application/vnd.schemaregistry.v1+json"
        while time.monotonic() < stop:
            if fn(s):
                counts[i] += 1
            else:
                errors[i] += 1

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    el = time.monotonic() - t0
    return {"name": name, "rps": sum(counts) / el, "errors": sum(errors), "requests": sum(counts)}


def throughput(args, endpoints):
    import requests
    url = endpoints["registry"]
    schema = open(os.path.join(SHARED, "seed-examples", "order.avsc")).read()
    r = requests.post(url + "/subjects/bench-value/versions", json={"schema": schema}, timeout=10)
    r.raise_for_status()
    sid = r.json()["id"]
    v2 = json.loads(schema)
    v2["fields"].append({"name": "note", "type": "string", "default": ""})
    body = json.dumps({"schema": json.dumps(v2)})

    def get_by_id(s):
        return s.get("%s/schemas/ids/%d" % (url, sid), timeout=10).status_code == 200

    def compat(s):
        r = s.post(url + "/compatibility/subjects/bench-value/versions/latest", data=body, timeout=10)
        return r.status_code == 200 and r.json().get("is_compatible") is True

    return [hammer("GET /schemas/ids/{id}", get_by_id, args.threads, args.seconds),
            hammer("POST /compatibility/.../versions/latest", compat, args.threads, args.seconds)]


def main():
    ensure_venv()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    data_dir = tempfile.mkdtemp(prefix="sluice-bench-registry-")
    proc, endpoints = start_sluice(data_dir)
    try:
        st = storage(args, endpoints, data_dir)
        tp = throughput(args, endpoints)
    finally:
        proc.terminate()
        proc.wait(20)
        shutil.rmtree(data_dir, ignore_errors=True)
    n = args.records
    j, a = st["orders-json"], st["orders-avro"]
    print("\n== the talk's storage claim on Sluice's log: %s Order records, no compression ==" % f"{n:,}")
    print("| figure                          |     JSON |     Avro | Avro/JSON |")
    print("|---------------------------------|----------|----------|-----------|")
    print("| value bytes per record          | %8.1f | %8.1f | %8.1f%% |" % (j["values"] / n, a["values"] / n, 100 * a["values"] / j["values"]))
    print("| bytes on disk per record (.log) | %8.1f | %8.1f | %8.1f%% |" % (j["on_disk"] / n, a["on_disk"] / n, 100 * a["on_disk"] / j["on_disk"]))
    ok = a["values"] <= 0.5 * j["values"]
    print("target: Avro <= 50%% of JSON (values): %s" % ("met" if ok else "NOT met"))
    print("\n== registry requests, %d client threads, %.0f s each ==" % (args.threads, args.seconds))
    for t in tp:
        print("  %-42s %8.0f req/s  (%d requests, %d errors)" % (t["name"], t["rps"], t["requests"], t["errors"]))
    print("\nNo reference registry runs here (Confluent's needs a JVM); the figures are Sluice's own.")


if __name__ == "__main__":
    main()
