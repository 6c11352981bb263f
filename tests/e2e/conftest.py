"""Shared helpers for the end-to-end suite.

Every test drives a real `sluice serve` process with real clients. The binary comes from
$SLUICE_BIN (default: $HOME/.cache/sluice/target/release/sluice, where ./x builds it).
"""
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("SLUICE_SHARED") or REPO_ROOT.parent / "shared")
SLUICE_BIN = Path(
    os.environ.get("SLUICE_BIN") or Path.home() / ".cache/sluice/target/release/sluice"
)

ENDPOINT_RE = re.compile(r"^(\w+) (\S+):(\d+)$")
# The `serve` flag of each surface's port, by the name of its endpoint line. Every surface
# gets a free port on first start (tests run side by side) and keeps it across restarts.
PORT_FLAGS = {"kafka": "--kafka-port", "registry": "--registry-port", "workbench": "--ui-port",
              "sql": "--sql-port", "connect": "--connect-port"}
# Backtrace lines that say nothing about sluice: source locations, runtime and std frames.
BACKTRACE_NOISE = re.compile(r"^\s+(at |\d+: (std|core|alloc|tokio|__rustc|<core|<alloc)\b)")


class SluiceError(RuntimeError):
    pass


class Sluice:
    """One `sluice serve` on a data directory, which outlives start/stop/kill cycles.

    The first start binds the Kafka port given (0: any free port); every later start
    reuses the port it got, so clients configured with `bootstrap` keep working.
    """

    def __init__(self, data_dir, kafka_port=0, extra_args=(), log_dir=None, name="sluice"):
        self.data_dir = Path(data_dir)
        self.ports = {name: 0 for name in PORT_FLAGS}
        self.ports["kafka"] = kafka_port
        self.extra_args = list(extra_args)
        self.log_dir = Path(log_dir) if log_dir else self.data_dir.parent
        self.name = name
        self.proc = None
        self.endpoints = {}
        self.starts = 0
        self.log_path = None
        self._log_file = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self, timeout=30.0):
        """Spawn the process and wait for `ready`. Returns seconds from spawn to `ready`."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        self.log_path = self.log_dir / ("%s-%d.log" % (self.name, self.starts))
        self._log_file = open(self.log_path, "wb")
        cmd = [str(SLUICE_BIN), "serve", "--data-dir", str(self.data_dir)]
        for name, flag in PORT_FLAGS.items():
            cmd += [flag, str(self.ports[name])]
        cmd += self.extra_args
        lines, ready = [], threading.Event()
        endpoints = {}
        t0 = time.monotonic()
        self.proc = proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log_file,
            start_new_session=True, env={**os.environ, "NO_COLOR": "1"})

        def read_stdout():
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                lines.append(line)
                m = ENDPOINT_RE.match(line)
                if m and not ready.is_set():
                    endpoints[m.group(1)] = (m.group(2), int(m.group(3)))
                if line == "ready":
                    ready.set()
            ready.set()  # EOF: the process is gone; start() reports it

        threading.Thread(target=read_stdout, daemon=True, name="sluice-stdout").start()
        if not (ready.wait(timeout) and "ready" in lines):
            self.kill9()
            raise SluiceError("sluice did not print `ready` within %.0fs (exit %s)\nstdout: %r\n%s"
                              % (timeout, proc.returncode, lines[-20:], self.log_tail()))
        elapsed = time.monotonic() - t0
        if "kafka" not in endpoints:
            self.kill9()
            raise SluiceError("no `kafka HOST:PORT` line before `ready`: %r" % lines)
        self.endpoints = endpoints
        for name in PORT_FLAGS:  # keep the ports across restarts
            if name in endpoints:
                self.ports[name] = endpoints[name][1]
        return elapsed

    def stop(self, timeout=20.0):
        """SIGTERM and wait. Returns the exit code; kills -9 and raises on a hang."""
        if not self.running:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise SluiceError("sluice did not exit within %.0fs of SIGTERM\n%s"
                              % (timeout, self.log_tail()))
        self._close_log()
        return rc

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._close_log()

    def restart(self, timeout=30.0):
        self.stop()
        return self.start(timeout)

    def _close_log(self):
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # -- state -----------------------------------------------------------------------

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def host(self):
        return self.endpoints["kafka"][0]

    @property
    def port(self):
        return self.endpoints["kafka"][1]

    @property
    def bootstrap(self):
        return "%s:%d" % (self.host, self.port)

    def url(self, surface):
        """The base URL of an HTTP surface (`registry`, ...)."""
        host, port = self.endpoints[surface]
        return "%s:%d" % (host, port)

    def log_tail(self, n=40):
        if not self.log_path or not self.log_path.exists():
            return "(no log)"
        text = [ln for ln in self.log_path.read_text("utf-8", "replace").splitlines()
                if not BACKTRACE_NOISE.match(ln)]
        return "--- %s (last %d lines) ---\n%s" % (self.log_path, n, "\n".join(text[-n:]))


@pytest.fixture(scope="session")
def sluice_bin():
    if not SLUICE_BIN.is_file() or not os.access(SLUICE_BIN, os.X_OK):
        pytest.fail("no sluice binary at %s: build it with `./x test` or "
                    "`cargo build --release --bin sluice`, or set SLUICE_BIN" % SLUICE_BIN)
    return SLUICE_BIN


@pytest.fixture
def sluice_factory(sluice_bin, tmp_path):
    """make(kafka_port=0, start=True, data_dir=None, extra_args=()) -> Sluice.
    Every instance made is killed at teardown; failing tests show their broker's log."""
    made = []

    def make(kafka_port=0, start=True, data_dir=None, extra_args=()):
        n = len(made) + 1
        d = Path(data_dir) if data_dir else tmp_path / ("data-%d" % n)
        s = Sluice(d, kafka_port=kafka_port, extra_args=extra_args, log_dir=tmp_path,
                   name="sluice-%d" % n)
        made.append(s)
        if start:
            s.start()
        return s

    yield make
    for s in made:
        s.kill9()


@pytest.fixture
def sluice(sluice_factory):
    """A fresh broker on a free port with its own data directory."""
    return sluice_factory()


def port_is_free(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


@pytest.fixture
def sluice_9092(sluice_factory):
    """A fresh broker on 9092, for programs that hard-code localhost:9092."""
    if not port_is_free(9092):
        pytest.skip("port 9092 is in use by another process; the talk's programs hard-code "
                    "localhost:9092, so this test needs it free")
    return sluice_factory(kafka_port=9092)


@pytest.fixture(scope="session")
def shared_dir():
    if not SHARED_DIR.is_dir():
        pytest.skip("shared test data not found at %s (set SLUICE_SHARED)" % SHARED_DIR)
    return SHARED_DIR


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def wait_until(pred, timeout, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # keep polling; report the last error on timeout
            last_exc = e
        time.sleep(interval)
    raise AssertionError("timed out after %.0fs waiting for %s (last error: %r)"
                         % (timeout, what, last_exc))


# -- confluent-kafka helpers ---------------------------------------------------------------

def create_topic(bootstrap, topic, partitions, timeout=30):
    """Create a topic with the AdminClient and wait until metadata shows every partition."""
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fut = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                              operation_timeout=timeout)[topic]
    fut.result(timeout)
    wait_until(lambda: partition_count(bootstrap, topic, timeout=5) == partitions, timeout,
               what="metadata of %s to show %d partitions" % (topic, partitions))
    return admin


def partition_count(bootstrap, topic, timeout=10):
    from confluent_kafka.admin import AdminClient
    # All topics, not list_topics(topic): asking for one by name may auto-create it.
    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=timeout)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        return 0
    return len(t.partitions)


def read_all(bootstrap, topic, timeout=60):
    """Every record of `topic` from the beginning up to the high watermarks, without a group:
    [(partition, offset, key, value)] sorted by (partition, offset)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
    n = partition_count(bootstrap, topic)
    assert n > 0, "topic %s not in metadata" % topic
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "auto.offset.reset": "earliest"})
    try:
        highs = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(n)}
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(n)])
        out, done = [], {p for p, h in highs.items() if h == 0}
        deadline = time.monotonic() + timeout
        while len(done) < n and time.monotonic() < deadline:
            for m in c.consume(num_messages=10000, timeout=1.0):
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        if m.offset() >= highs[m.partition()]:
                            done.add(m.partition())
                        continue
                    raise AssertionError("consumer error: %s" % m.error())
                out.append((m.partition(), m.offset(), m.key(), m.value()))
                if m.offset() + 1 >= highs[m.partition()]:
                    done.add(m.partition())
        assert len(done) == n, "read %d records; partitions not read to their end: %s (highs %s)" % (
            len(out), sorted(set(range(n)) - done), highs)
        return sorted(out)
    finally:
        c.close()


@pytest.fixture(scope="session")
def postgres():
    """One throwaway PostgreSQL server (tests/e2e/postgres.py) for the whole session; each
    test makes its own database with `postgres.create_database(unique("db"))`."""
    from postgres import Postgres
    pg = Postgres()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def postgres_ssl():
    """A throwaway PostgreSQL server that takes TLS connections only, with a self-signed
    certificate (`postgres_ssl.ca_cert`)."""
    from postgres import Postgres
    pg = Postgres(ssl=True)
    yield pg
    pg.stop()
