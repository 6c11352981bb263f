"""aiokafka (asyncio, non-flexible protocol versions): admin, produce, group consume, commit."""
import asyncio
import collections

from conftest import unique

N = 100
PARTITIONS = 3


async def scenario(bootstrap):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic, group = unique("aiokafka"), unique("aiokafka-group")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    sent = {}  # value -> (partition, offset)
    try:
        for i in range(N):
            value = b"value-%03d" % i
            md = await producer.send_and_wait(topic, value, key=b"key-%d" % (i % 10))
            sent[value] = (md.partition, md.offset)
    finally:
        await producer.stop()
    assert len({p for p, _ in sent.values()}) > 1, "10 keys over 3 partitions all landed in one: %r" % sent

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    received = []
    try:
        async def consume():
            while len(received) < N:
                batches = await consumer.getmany(timeout_ms=1000)
                for tp, msgs in batches.items():
                    received.extend((m.partition, m.offset, m.key, m.value) for m in msgs)
        await asyncio.wait_for(consume(), 60)
        await consumer.commit()
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(tps)
        committed = {tp.partition: await consumer.committed(tp) for tp in tps}
    finally:
        await consumer.stop()
    return sent, received, {tp.partition: off for tp, off in ends.items()}, committed


def test_aiokafka(sluice):
    sent, received, ends, committed = asyncio.run(scenario(sluice.bootstrap))

    assert len(received) == N, "received %d of %d" % (len(received), N)
    assert sorted(v for _, _, _, v in received) == sorted(sent), "the values consumed differ from those sent"
    for p, o, k, v in received:
        assert sent[v] == (p, o), "%r consumed at %s, acknowledged at %s" % (v, (p, o), sent[v])
    by_part = collections.defaultdict(list)
    for p, o, _, v in received:
        by_part[p].append((o, v))
    for p, recs in by_part.items():
        offsets = [o for o, _ in recs]
        assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets), \
            "partition %d consumed out of order: %r" % (p, offsets)
        values = [v for _, v in recs]
        assert values == sorted(values), "partition %d: send order not kept: %r" % (p, values)
    per_part = collections.Counter(p for p, _ in sent.values())
    assert ends == {p: per_part[p] for p in range(3)}, "end offsets %r, messages per partition %r" % (
        ends, dict(per_part))
    assert committed == ends, "committed offsets %r != end offsets %r" % (committed, ends)
