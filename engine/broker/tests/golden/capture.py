#!/usr/bin/env python3
"""Capture Kafka request frames from real clients, for the golden files beside this script.

A tiny TCP proxy: it listens on LISTEN_HOST:PORT, forwards every connection to
BROKER_HOST:PORT and writes each request frame (without its 4-byte length prefix) to
OUT_DIR/<seq>_<api_key>_v<version>.bin. Run the broker with `--advertised-host LISTEN_HOST`
on the same port, so clients that follow Metadata come back through the proxy:

    sluice serve --host 127.0.0.1 --kafka-port 39092 --advertised-host 127.0.0.2 --data-dir D &
    python3 capture.py 127.0.0.2 127.0.0.1 39092 out/kcat &
    kcat -b 127.0.0.2:39092 -L

Then copy the frames worth keeping to `<client>_<Api>_v<version>.bin`.
"""

import itertools
import os
import socket
import struct
import sys
import threading

LISTEN_HOST, BROKER_HOST, PORT, OUT_DIR = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.makedirs(OUT_DIR, exist_ok=True)
seq = itertools.count()
lock = threading.Lock()


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def client_to_broker(client, broker):
    try:
        while True:
            head = read_exact(client, 4)
            if head is None:
                break
            (length,) = struct.unpack(">i", head)
            frame = read_exact(client, length)
            if frame is None:
                break
            key, version = struct.unpack(">hh", frame[:4])
            with lock:
                n = next(seq)
            with open(os.path.join(OUT_DIR, f"{n:04d}_{key}_v{version}.bin"), "wb") as f:
                f.write(frame)
            broker.sendall(head + frame)
    except OSError:
        pass
    finally:
        for s in (client, broker):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def broker_to_client(broker, client):
    try:
        while True:
            data = broker.recv(65536)
            if not data:
                break
            client.sendall(data)
    except OSError:
        pass
    finally:
        try:
            client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((LISTEN_HOST, PORT))
    server.listen(64)
    while True:
        client, _ = server.accept()
        broker = socket.create_connection((BROKER_HOST, PORT))
        threading.Thread(target=client_to_broker, args=(client, broker), daemon=True).start()
        threading.Thread(target=broker_to_client, args=(broker, client), daemon=True).start()


if __name__ == "__main__":
    main()
