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
