"""What a broker writes survives it: a clean restart and repeated kill -9."""
import collections
import threading
import time

from conftest import create_topic, partition_count, read_all, unique

PARTITIONS = 3


def produce(bootstrap, topic, records, **conf):
    """Produce [(key, value)] with acks=all; returns [(partition, offset, key, value)]."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, **conf})
    acked, errors = [], []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            acked.append((msg.partition(), msg.offset(), msg.key(), msg.value()))

    for k, v in records:
        while True:
            try:
                p.produce(topic, key=k, value=v, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    remaining = p.flush(60)
    assert remaining == 0 and not errors, "%d undelivered, errors %r" % (remaining, errors[:5])
    return sorted(acked)


def consume_group(bootstrap, topic, group, count, timeout=60):
    """Consume `count` records in a group, commit synchronously, return (records, committed)."""
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    try:
        c.subscribe([topic])
        got, deadline = [], time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            m = c.poll(1.0)
            if m is None:
                continue
            assert m.error() is None, "consumer error: %s" % m.error()
            got.append((m.partition(), m.offset(), m.key(), m.value()))
        assert len(got) == count, "consumed %d of %d within %ds" % (len(got), count, timeout)
        c.commit(asynchronous=False)
        committed = committed_offsets(c, topic)
    finally:
        c.close()
    return sorted(got), committed


def committed_offsets(consumer, topic):
    from confluent_kafka import TopicPartition
    tps = consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10)
    return {tp.partition: tp.offset for tp in tps}


def group_committed(bootstrap, topic, group):
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        return committed_offsets(c, topic)
    finally:
        c.close()


def test_restart_persistence(sluice):
    topic, group = unique("persist"), unique("persist-group")
    create_topic(sluice.bootstrap, topic, PARTITIONS)
    records = [(b"key-%02d" % (i % 37), b"value-%04d" % i) for i in range(1000)]
    acked = produce(sluice.bootstrap, topic, records)
    assert len(acked) == 1000
    consumed, committed = consume_group(sluice.bootstrap, topic, group, 1000)
    assert consumed == acked, "consumed records differ from acknowledged ones"
    per_part = {p: sum(1 for r in acked if r[0] == p) for p in range(PARTITIONS)}
    assert committed == per_part, "committed %r, expected the end offsets %r" % (committed, per_part)

    rc = sluice.stop()
    assert rc == 0, "sluice exited %r on SIGTERM\n%s" % (rc, sluice.log_tail())
    sluice.start()

    assert partition_count(sluice.bootstrap, topic) == PARTITIONS
    after = read_all(sluice.bootstrap, topic)
    assert after == acked, "after restart: %d records, %d before; first difference %r" % (
        len(after), len(acked), next(((a, b) for a, b in zip(after, acked) if a != b), None))
    assert group_committed(sluice.bootstrap, topic, group) == committed


class SustainedProducer(threading.Thread):
    """Produces "<prefix>-<n>" for n = 0, 1, 2, ... until stopped; `acked` holds every value
    whose delivery report said it was written."""

    def __init__(self, bootstrap, topic, prefix):
        super().__init__(daemon=True)
        from confluent_kafka import Producer
        self.topic, self.prefix = topic, prefix
        self.acked, self.failed, self.errors = [], 0, []
        self.stop_evt = threading.Event()
        self.producer = Producer({
            "bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
            "linger.ms": 2, "message.timeout.ms": 30000,
            "error_cb": lambda e: self.errors.append(e)})

    def on_delivery(self, err, msg):
        if err is None:
            self.acked.append(msg.value())
        else:
            self.failed += 1

    def run(self):
        n = 0
        while not self.stop_evt.is_set():
            try:
                self.producer.produce(self.topic, value=b"%s-%d" % (self.prefix, n), on_delivery=self.on_delivery)
                n += 1
            except BufferError:
                self.producer.poll(0.01)
                continue
            self.producer.poll(0)
            if n % 20 == 0:
                time.sleep(0.001)  # at most ~20k/s: keeps the re-reads short on 2 cores
        # The broker is dead: whatever was not acknowledged by now never will be.
        self.producer.purge()
        self.producer.flush(5)


def test_kill9_no_loss(sluice_factory):
    """Acknowledged means durable: kill -9 five times while an idempotent acks=all producer
    runs; every acknowledged value survives each restart, none appears twice, and reopening
    the accumulated log takes under a second."""
    sluice = sluice_factory()
    topic = unique("kill9")
    create_topic(sluice.bootstrap, topic, PARTITIONS)
    acked_all, reopen_times = set(), []
    for i in range(5):
        prod = SustainedProducer(sluice.bootstrap, topic, b"it%d" % i)
        prod.start()
        deadline = time.monotonic() + 30
        while len(prod.acked) < 1000 and time.monotonic() < deadline:  # let it get going
            time.sleep(0.05)
        time.sleep(1.0)
        sluice.kill9()
        prod.stop_evt.set()
        prod.join(30)
        assert not prod.is_alive(), "producer thread did not stop"
        prod.producer = None  # let librdkafka go: it would keep reconnecting in the background
        assert prod.acked, "iteration %d: no message acknowledged before the kill\n%s" % (i, sluice.log_tail())
        acked_all.update(prod.acked)

        reopen_times.append(sluice.start())
        values = [v for _, _, _, v in read_all(sluice.bootstrap, topic, timeout=120)]
        dups = [v for v, n in collections.Counter(values).items() if n > 1]
        missing = acked_all - set(values)
        assert not missing, "iteration %d: %d acknowledged values lost, e.g. %r" % (
            i, len(missing), sorted(missing)[:5])
        assert not dups, "iteration %d: %d values stored twice, e.g. %r" % (i, len(dups), sorted(dups)[:5])
    print("kill -9 x5: %d values acknowledged, reopen times %s s" % (
        len(acked_all), ["%.3f" % t for t in reopen_times]))
    assert max(reopen_times) < 1.0, "reopen (spawn to `ready`) took %s s, after %d records" % (
        ["%.2f" % t for t in reopen_times], len(acked_all))
