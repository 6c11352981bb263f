"""Malformed traffic on some connections never hangs them and never disturbs other clients:
the broker answers what Kafka answers, closes what Kafka closes, and keeps serving."""
import random
import socket
import struct
import threading
import time

from conftest import create_topic, unique

UNSUPPORTED_VERSION = 35
API_VERSIONS = 18


# -- raw Kafka framing ---------------------------------------------------------------------

def header_v1(api_key, version, correlation_id, client_id=b"sluice-e2e"):
    return struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id


def header_v2(api_key, version, correlation_id, client_id=b"sluice-e2e"):
    return header_v1(api_key, version, correlation_id, client_id) + b"\x00"  # no tagged fields


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def connect(broker):
    s = socket.create_connection((broker.host, broker.port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise AssertionError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def read_response(sock, timeout=10):
    sock.settimeout(timeout)
    (size,) = struct.unpack(">i", recv_exact(sock, 4))
    return recv_exact(sock, size)


def closed_by_peer(sock, timeout=5.0):
    """True if the broker closes the connection (EOF or reset) within `timeout`; any bytes
    it sends first are tolerated. False if the connection is still open."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if sock.recv(65536) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def parse_api_versions_v0(body, correlation_id):
    """ApiVersions v0 response after the length prefix: header v0 (correlation id),
    error_code int16, api_keys array (int32 count, then api_key/min/max int16s)."""
    assert len(body) >= 10, "response too short: %r" % body
    corr, error, count = struct.unpack(">ihi", body[:10])
    assert corr == correlation_id, "correlation id %d, sent %d" % (corr, correlation_id)
    assert 0 <= count and len(body) >= 10 + 6 * count, "bad api_keys array: count %d, %d bytes" % (count, len(body))
    apis = {}
    for i in range(count):
        k, lo, hi = struct.unpack(">hhh", body[10 + 6 * i:16 + 6 * i])
        apis[k] = (lo, hi)
    return error, apis


def api_versions_v0_ok(broker):
    """A new connection gets a good ApiVersions v0 answer: the broker is serving."""
    with connect(broker) as s:
        s.sendall(frame(header_v1(API_VERSIONS, 0, 4242)))
        error, apis = parse_api_versions_v0(read_response(s), 4242)
    return error == 0 and API_VERSIONS in apis


def check_serving(broker, when):
    try:
        ok, err = api_versions_v0_ok(broker), None
    except (OSError, AssertionError) as e:
        ok, err = False, e
    if not ok:
        try:
            broker.proc.wait(3)  # a crashing broker may still be writing its backtrace
        except Exception:
            pass
        state = "alive" if broker.running else "exited with %s" % broker.proc.returncode
        raise AssertionError("broker stopped answering %s: %r; process %s\n%s" % (
            when, err, state, broker.log_tail(15)))


# -- a well-behaved client running throughout ----------------------------------------------

class BackgroundClients:
    def __init__(self, broker, topic):
        from confluent_kafka import Consumer, Producer
        bootstrap = broker.bootstrap
        self.broker, self.topic = broker, topic
        self.errors, self.sent, self.acked, self.received = [], [], [], []
        self.producing, self.consuming = threading.Event(), threading.Event()
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 1,
                                  "error_cb": lambda e: self.errors.append(("producer", e))})
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("bad-input-group"),
                                  "auto.offset.reset": "earliest",
                                  "error_cb": lambda e: self.errors.append(("consumer", e))})
        self.threads = [threading.Thread(target=self.produce_loop, daemon=True),
                        threading.Thread(target=self.consume_loop, daemon=True)]

    def start(self):
        self.producing.set()
        self.consuming.set()
        for t in self.threads:
            t.start()

    def on_delivery(self, err, msg):
        if err is not None:
            self.errors.append(("delivery", err))
        else:
            self.acked.append(msg.value())

    def produce_loop(self):
        n = 0
        while self.producing.is_set():
            v = b"bg-%06d" % n
            n += 1
            self.producer.produce(self.topic, value=v, on_delivery=self.on_delivery)
            self.sent.append(v)
            self.producer.poll(0.01)
        deadline, left = time.monotonic() + 30, len(self.producer)
        while left and time.monotonic() < deadline and self.broker.running:
            left = self.producer.flush(0.5)
        if left:
            self.errors.append(("flush", "%d messages undelivered" % left))

    def consume_loop(self):
        self.consumer.subscribe([self.topic])
        while self.consuming.is_set():
            m = self.consumer.poll(0.2)
            if m is None:
                continue
            if m.error():
                self.errors.append(("consume", m.error()))
            else:
                self.received.append(m.value())
        self.consumer.close()

    def finish(self, timeout=60):
        """Stop producing; give the consumer `timeout` s to catch up (less if the broker died)."""
        self.producing.clear()
        self.threads[0].join(40)
        deadline = time.monotonic() + timeout
        while len(set(self.received)) < len(self.sent) and time.monotonic() < deadline \
                and self.broker.running:
            time.sleep(0.1)
        self.consuming.clear()
        self.threads[1].join(20)
        self.producer = self.consumer = None


def test_bad_input(sluice):
    topic = unique("bad-input")
    # The topic exists before the clients start: a consumer that subscribes first would
    # (rightly, as with Kafka) be told the topic is unknown.
    create_topic(sluice.bootstrap, topic, 1)
    bg = BackgroundClients(sluice, topic)
    bg.start()
    try:
        deadline = time.monotonic() + 60
        while not bg.received and time.monotonic() < deadline:  # the client is up and flowing
            time.sleep(0.1)
        assert bg.received, "background client got nothing before the test began: %r\n%s" % (
            bg.errors[:5], sluice.log_tail())

        hung = []

        def expect_closed(name, payload, half_close=False):
            with connect(sluice) as s:
                s.sendall(payload)
                if half_close:
                    s.shutdown(socket.SHUT_WR)
                if not closed_by_peer(s):
                    hung.append(name)
            check_serving(sluice, "after " + name)

        # A truncated frame, then the client goes away.
        with connect(sluice) as s:
            s.sendall(struct.pack(">i", 100) + b"\x00\x12\x00\x00\x00\x01")
        check_serving(sluice, "after truncated frame + close")
        # A truncated frame, then end of stream: nothing more can come, so the broker closes.
        expect_closed("truncated frame + EOF", struct.pack(">i", 100) + b"\x00\x12\x00\x00\x00\x01",
                      half_close=True)
        # A length no broker accepts (2 GiB - 1): refused at once, not buffered.
        expect_closed("length 0x7fffffff", struct.pack(">i", 0x7FFFFFFF) + b"\x00" * 64)
        expect_closed("negative length", struct.pack(">i", -5) + b"\x00" * 64)
        expect_closed("unknown api key 9999", frame(header_v1(9999, 0, 1)))
        rnd = random.Random(20240601)  # framed random bytes; its api key decodes to 7796
        expect_closed("random bytes", frame(bytes(rnd.getrandbits(8) for _ in range(96))))
        # A real request header (Metadata v12) with a body that cannot be decoded.
        expect_closed("undecodable Metadata body", frame(header_v2(3, 12, 2) + b"\xff" * 48))

        # ApiVersions at a version the broker does not know: Kafka answers with a v0
        # response, error UNSUPPORTED_VERSION and its api list, so the client can retry.
        with connect(sluice) as s:
            s.sendall(frame(header_v2(API_VERSIONS, 99, 77) + b"\x07sluice\x04e2e\x00"))
            error, apis = parse_api_versions_v0(read_response(s), 77)
            assert error == UNSUPPORTED_VERSION, "error_code %d, expected 35 (UNSUPPORTED_VERSION)" % error
            assert apis and API_VERSIONS in apis, "no api list in the UNSUPPORTED_VERSION answer: %r" % apis
            # ...and the same connection then works at a supported version.
            s.sendall(frame(header_v1(API_VERSIONS, 0, 78)))
            error, apis = parse_api_versions_v0(read_response(s), 78)
            assert error == 0 and API_VERSIONS in apis

        assert not hung, "connections left open by the broker (no close within 5 s): %s" % hung
        time.sleep(1.0)  # a little more traffic after the noise
    finally:
        bg.finish()

    assert sluice.running, "broker process died\n%s" % sluice.log_tail()
    assert not bg.errors, "the well-behaved client saw errors: %r\n%s" % (bg.errors[:10], sluice.log_tail())
    assert len(bg.acked) == len(bg.sent) > 0, "acknowledged %d of %d" % (len(bg.acked), len(bg.sent))
    assert sorted(set(bg.received)) == sorted(bg.sent), "consumed %d distinct of %d sent" % (
        len(set(bg.received)), len(bg.sent))
