"""Kafka Connect's REST API as the connector tests call it, and their polling helper."""

import time

import requests


def api(s, method, path, body=None, expect=None):
    """One Connect REST call on the sandbox `s`; with `expect`, asserts the status."""
    r = requests.request(method, s.url("connect") + path, json=body, timeout=30)
    if expect is not None:
        assert r.status_code == expect, (method, path, r.status_code, r.text)
    return r


def wait_until(what, f, timeout=30.0):
    """Polls `f` until it returns something true (and returns it), or fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        v = f()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def consume(c, n, timeout=30.0):
    """Up to `n` messages from a confluent-kafka DeserializingConsumer within `timeout`. A topic
    that does not exist yet (a source connector creates it with its first write) is waited for:
    the deserializing consumer raises UNKNOWN_TOPIC_OR_PART for it where the plain one returns
    an error message."""
    from confluent_kafka import KafkaError
    from confluent_kafka.error import ConsumeError

    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        try:
            m = c.poll(0.5)
        except ConsumeError as e:
            if e.code != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
            time.sleep(0.2)
            continue
        if m is not None and m.error() is None:
            got.append(m)
    return got
