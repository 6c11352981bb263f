#!/usr/bin/env python3
"""Connector benchmark: FileStreamSource → topic next to plain producers of the same lines.

One run, one `sluice serve` on a fresh data dir:
  1. N lines (default 1,000,000, ~60 bytes each, like log lines) are written to a file.
  2. FileStreamSource (org.apache.kafka.connect.file.FileStreamSourceConnector, StringConverter)
     is created through Connect's REST API on the connect port; timed from the POST to the
     moment the topic holds N records (end offsets polled every 20 ms).
  3. The same lines, read from the same file, are produced to a second topic by
     confluent-kafka (librdkafka, linger 5 ms, acks=all as Connect's producer) and by
     kafka-python (acks=all); each timed from its first send to its final flush.
  4. The records of the connector's topic are compared with the file (count; first, middle
     and last line), so the figures are for the same work.

It prints `path | records/s | ratio to the connector`. A benchmark: it asserts nothing; the exit
code is non-zero only when something could not be measured.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

VENV = os.path.join(os.path.expanduser("~"), ".cache", "sluice", "venv")
VENV_PY = os.path.join(VENV, "bin", "python")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.expanduser("~"), ".cache", "sluice", "target"))
SLUICE_BIN = os.environ.get("SLUICE_BIN", os.path.join(TARGET, "release", "sluice"))


def ensure_venv():
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV) and os.path.exists(VENV_PY):
        os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def line(i):
    return "2026-11-27T10:%02d:%02d.%03dZ INFO order-service request %d handled" % (
        (i // 60000) % 60, (i // 1000) % 60, i % 1000, i)


class Sluice:
    def __init__(self, data_dir, log_path):
        self.kafka, self.connect = free_port(), free_port()
        cmd = [SLUICE_BIN, "serve", "--data-dir", data_dir, "--kafka-port", str(self.kafka),
               "--sql-port", str(free_port()), "--registry-port", str(free_port()),
               "--ui-port", str(free_port()), "--connect-port", str(self.connect)]
        self.log = open(log_path, "a")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/" % self.connect, timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError("sluice did not start; see %s" % log_path)

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.kafka

    def post(self, path, body):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.connect, path),
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(req, timeout=30).read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


def end_offsets(bootstrap, topic):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-offsets"})
    try:
        md = c.list_topics(timeout=5).topics.get(topic)
        if md is None or md.error is not None:
            return 0
        return sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1]
                   for p in md.partitions)
    finally:
        c.close()


def main():
    ensure_venv()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.records
    from confluent_kafka import Consumer, Producer, TopicPartition
    from kafka import KafkaProducer

    work = tempfile.mkdtemp(prefix="sluice-file-bench-")
    try:
        path = os.path.join(work, "in.txt")
        with open(path, "w") as f:
            for i in range(n):
                f.write(line(i) + "\n")
        size = os.path.getsize(path)
        print("[file bench] %s lines, %.1f MB" % (format(n, ","), size / 1e6), file=sys.stderr)
        s = Sluice(os.path.join(work, "data"), os.path.join(work, "sluice.log"))
        try:
            from confluent_kafka.admin import AdminClient, NewTopic
            admin = AdminClient({"bootstrap.servers": s.bootstrap})
            for t in ("from_file", "from_librdkafka", "from_kafka_python"):
                admin.create_topics([NewTopic(t, 1, 1)])[t].result(30)

            # (a) the connector
            t0 = time.perf_counter()
            s.post("/connectors", {"name": "bench-file", "config": {
                "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
                "file": path, "topic": "from_file", "tasks.max": "1",
                "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                "key.converter": "org.apache.kafka.connect.storage.StringConverter"}})
            deadline = time.time() + 600
            while end_offsets(s.bootstrap, "from_file") < n:
                if time.time() > deadline:
                    raise RuntimeError("the connector did not deliver %d records" % n)
                time.sleep(0.02)
            connector_s = time.perf_counter() - t0

            # (b) librdkafka
            p = Producer({"bootstrap.servers": s.bootstrap, "linger.ms": 5, "acks": "all",
                          "queue.buffering.max.messages": 1_000_000})
            t0 = time.perf_counter()
            with open(path) as f:
                for ln in f:
                    while True:
                        try:
                            p.produce("from_librdkafka", ln.rstrip("\n").encode())
                            break
                        except BufferError:
                            p.poll(0.01)
            p.flush()
            librdkafka_s = time.perf_counter() - t0

            # (c) kafka-python
            kp = KafkaProducer(bootstrap_servers=s.bootstrap, acks="all", linger_ms=5,
                               batch_size=256 * 1024)
            t0 = time.perf_counter()
            with open(path) as f:
                for ln in f:
                    kp.send("from_kafka_python", ln.rstrip("\n").encode())
            kp.flush()
            kafka_python_s = time.perf_counter() - t0
            kp.close()

            # Same work: the connector's records are the file's lines.
            got = end_offsets(s.bootstrap, "from_file")
            c = Consumer({"bootstrap.servers": s.bootstrap, "group.id": "bench-check",
                          "enable.auto.commit": False})
            checks = []
            for off in (0, n // 2, n - 1):
                c.assign([TopicPartition("from_file", 0, off)])
                m = c.poll(10)
                checks.append(m is not None and m.value().decode() == line(off))
            c.close()
            same = got == n and all(checks)
        finally:
            s.stop()
        rows = [("FileStreamSource → topic (sluice connector)", connector_s),
                ("confluent-kafka producer (librdkafka)", librdkafka_s),
                ("kafka-python producer", kafka_python_s)]
        print()
        print("%s lines (%.1f MB) from one file into a one-partition topic; %d cores" % (
            format(n, ","), size / 1e6, os.cpu_count()))
        print("%-46s %12s %12s" % ("path", "records/s", "vs connector"))
        for name, secs in rows:
            print("%-46s %12s %12.2f" % (name, format(int(n / secs), ","), connector_s / secs))
        print("connector output equals the file: %s" % ("yes" if same else "NO"))
        return 0 if same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
