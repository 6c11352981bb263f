"""Driving the Sluice desktop app (sluice-desktop) under Xvfb: shared by the desktop test
(tests/desktop/test_desktop.py) and the desktop benchmark (tests/bench/desktop.py).

Needs Xvfb, xdotool and ImageMagick's `import` (./x installs them); `tesseract` (OCR) to
read the topic list off a screenshot. The binary comes from $SLUICE_DESKTOP_BIN (default:
$HOME/.cache/sluice/target-desktop/release/sluice-desktop, where ./x builds it), the UI from
$SLUICE_UI_DIR (default: ui/dist of this checkout).
"""
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DESKTOP_BIN = Path(
    os.environ.get("SLUICE_DESKTOP_BIN")
    or Path.home() / ".cache/sluice/target-desktop/release/sluice-desktop"
)
UI_DIR = Path(os.environ.get("SLUICE_UI_DIR") or REPO_ROOT / "ui/dist")
ARTIFACTS = REPO_ROOT / "tests/artifacts/desktop"

# `NAME HOST:PORT`, or `NAME http://HOST:PORT` for HTTP surfaces (as `sluice serve` prints).
ENDPOINT_RE = re.compile(r"^(\w+) (?:http://)?(\S+:\d+)$")
SCREEN = (1280, 900)


class Xvfb:
    """An X server on a display it picks itself (-displayfd), so runs never collide."""

    def __init__(self):
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", "%dx%dx24" % SCREEN, "-nolisten", "tcp"],
            pass_fds=[w],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(w)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            self.proc.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = ":" + number

    def env(self):
        return dict(os.environ, DISPLAY=self.display)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Desktop:
    """One sluice-desktop process on a display, an isolated data dir and free ports."""

    def __init__(self, xvfb, data_dir, ui_path="/topics", log_path=None):
        self.xvfb = xvfb
        self.data_dir = Path(data_dir)
        self.ui_path = ui_path
        self.log_path = Path(log_path) if log_path else self.data_dir.parent / "desktop.log"
        self.proc = None
        self.endpoints = {}
        self.lines = queue.Queue()
        self.spawned_at = None
        self.ready_at = None  # when the reader saw `ready`

    def start(self):
        env = self.xvfb.env()
        env.update(
            SLUICE_DATA_DIR=str(self.data_dir),
            SLUICE_KAFKA_PORT="0",
            SLUICE_REGISTRY_PORT="0",
            SLUICE_SQL_PORT="0",
            SLUICE_UI_PORT="0",
            SLUICE_UI_DIR=str(UI_DIR),
            SLUICE_UI_PATH=self.ui_path,
            RUST_LOG=os.environ.get("RUST_LOG", "info"),
        )
        self._log = open(self.log_path, "ab")
        self.spawned_at = time.monotonic()
        self.proc = subprocess.Popen(
            [str(DESKTOP_BIN)], env=env, stdout=subprocess.PIPE, stderr=self._log
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line == "ready" and self.ready_at is None:
                self.ready_at = time.monotonic()
            self.lines.put(line)
        self.lines.put(None)

    def wait_ready(self, timeout=60.0):
        """Waits for `ready`; returns seconds from spawn. Fills self.endpoints."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("sluice-desktop printed no `ready` in %.0fs; log: %s" % (timeout, self.log_tail()))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(
                    "sluice-desktop exited (%s) before `ready`; log: %s" % (self.proc.wait(), self.log_tail())
                )
            if line == "ready":
                return self.ready_at - self.spawned_at
            m = ENDPOINT_RE.match(line)
            if m:
                self.endpoints[m.group(1)] = m.group(2)

    def log_tail(self, n=40):
        try:
            return "\n" + "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def rss_bytes(self):
        """RSS of the app and all its descendants (the WebKit web and network processes)."""
        return sum(rss_of(p) for p in [self.proc.pid] + descendants(self.proc.pid))

    def pss_bytes(self):
        """Proportional set size of the same processes: shared pages (the WebKit and GTK
        libraries every one of them maps) counted once, split between them."""
        return sum(pss_of(p) for p in [self.proc.pid] + descendants(self.proc.pid))

    def anon_bytes(self):
        """Anonymous (heap, stacks: private to the process) RSS of the same processes; the
        rest of their RSS is files mapped, mostly the WebKit/GTK libraries they share."""
        return sum(status_kb(p, "RssAnon") * 1024 for p in [self.proc.pid] + descendants(self.proc.pid))

    def memory_report(self):
        """`name RSS/PSS MB` per process."""
        return ", ".join(
            "%s %.0f/%.0f MB" % (comm_of(p), rss_of(p) / 1e6, pss_of(p) / 1e6)
            for p in [self.proc.pid] + descendants(self.proc.pid)
        )

    def process_names(self):
        return [comm_of(p) for p in [self.proc.pid] + descendants(self.proc.pid)]

    def terminate(self, timeout=30.0):
        """SIGTERM; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            for pid in descendants(self.proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.kill()
            self.proc.wait()


# -- processes (Linux /proc) -----------------------------------------------------------------

def _ppid_map():
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # comm may contain spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        out[int(entry)] = int(fields[1])
    return out


def descendants(pid):
    parents = _ppid_map()
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found.extend(kids)
        frontier.extend(kids)
    return found


def rss_of(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_of(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def comm_of(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


# -- the screen ------------------------------------------------------------------------------

def find_windows(xvfb, title="Sluice"):
    """X window ids whose title is exactly `title`."""
    r = subprocess.run(
        ["xdotool", "search", "--name", "^%s$" % re.escape(title)],
        env=xvfb.env(), capture_output=True, text=True,
    )
    return [int(w) for w in r.stdout.split()]


def window_geometry(xvfb, window):
    r = subprocess.run(
        ["xdotool", "getwindowgeometry", str(window)], env=xvfb.env(), capture_output=True, text=True
    )
    m = re.search(r"Geometry: (\d+)x(\d+)", r.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else None


class Frame:
    """One screenshot of the whole screen, as raw RGB."""

    def __init__(self, rgb, at):
        self.rgb = rgb
        self.at = at

    def distinct_colours(self, step=7):
        px = self.rgb
        return len({px[i:i + 3] for i in range(0, len(px) - 2, 3 * step)})

    def dominant_share(self, step=7):
        counts = {}
        px = self.rgb
        n = 0
        for i in range(0, len(px) - 2, 3 * step):
            k = px[i:i + 3]
            counts[k] = counts.get(k, 0) + 1
            n += 1
        return max(counts.values()) / n if n else 1.0

    def looks_rendered(self):
        """Not a blank screen: a page with text and widgets has many colours (antialiasing)
        and no single colour covers nearly everything."""
        return self.distinct_colours() >= 64 and self.dominant_share() < 0.97

    def save_png(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["convert", "-size", "%dx%d" % SCREEN, "-depth", "8", "rgb:-", str(path)],
            input=self.rgb, check=True,
        )
        return path


def close_window(xvfb, window):
    """Asks the window to close as a window manager's close button does: a WM_DELETE_WINDOW
    client message (there is no window manager under Xvfb, and xdotool has no such verb)."""
    import ctypes
    import ctypes.util

    x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]

    class ClientMessage(ctypes.Structure):  # XClientMessageEvent, format 32
        _fields_ = [
            ("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
            ("display", ctypes.c_void_p), ("window", ctypes.c_ulong),
            ("message_type", ctypes.c_ulong), ("format", ctypes.c_int),
            ("data", ctypes.c_long * 5), ("pad", ctypes.c_long * 12),  # XEvent is 24 longs
        ]

    dpy = x11.XOpenDisplay(xvfb.display.encode())
    if not dpy:
        raise RuntimeError("cannot open display %s" % xvfb.display)
    try:
        ev = ClientMessage()
        ev.type = 33  # ClientMessage
        ev.send_event = 1
        ev.display = dpy
        ev.window = window
        ev.message_type = x11.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
        ev.format = 32
        ev.data[0] = x11.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
        ev.data[1] = 0  # CurrentTime
        if not x11.XSendEvent(dpy, window, 0, 0, ctypes.byref(ev)):
            raise RuntimeError("XSendEvent failed")
        x11.XFlush(dpy)
    finally:
        x11.XCloseDisplay(dpy)


def press(xvfb, window, *keys):
    """Focuses the window and types keys (xdotool names: j, Return, slash ...)."""
    env = xvfb.env()
    subprocess.run(["xdotool", "windowfocus", "--sync", str(window)], env=env, check=True)
    for key in keys:
        subprocess.run(["xdotool", "key", "--window", str(window), key], env=env, check=True)
        time.sleep(0.2)


def grab(xvfb, nice=False):
    """Screenshot of the root window (`import -window root`), raw RGB bytes. `nice`: at the
    lowest CPU priority, so back-to-back screenshots take only CPU the app leaves over."""
    cmd = (["nice", "-n", "19"] if nice else []) + ["import", "-window", "root", "-depth", "8", "rgb:-"]
    for attempt in range(5):
        # `import` fails now and then while a window is being mapped or resized: retry.
        r = subprocess.run(cmd, env=xvfb.env(), capture_output=True)
        if r.returncode == 0 and len(r.stdout) == SCREEN[0] * SCREEN[1] * 3:
            return Frame(r.stdout, time.monotonic())
        time.sleep(0.05)
    raise RuntimeError("import -window root failed: %s" % r.stderr.decode(errors="replace"))


def ocr(png_path):
    """Text tesseract reads off a screenshot (upscaled 2x: UI text is small), or None when
    tesseract is not installed. Good enough for names and headings; small table text may
    come out garbled (k1 read as kl), so check for words, not exact cells."""
    if not shutil.which("tesseract"):
        return None
    big = Path(str(png_path) + ".ocr.png")
    subprocess.run(["convert", str(png_path), "-resize", "200%", str(big)], check=True)
    try:
        # --psm 11 (sparse text): a UI is scattered words and table cells, not paragraphs.
        r = subprocess.run(["tesseract", str(big), "stdout", "--psm", "11"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("tesseract failed: %s" % r.stderr)
        return r.stdout
    finally:
        big.unlink(missing_ok=True)


def create_topic(bootstrap, name, partitions=3, records=5):
    """Creates a topic with kafka-python and writes a few records to it."""
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="desktop-test")
    try:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        for i in range(records):
            producer.send(name, key=b"k%d" % i, value=b'{"order": %d}' % i)
        producer.flush(30)
    finally:
        producer.close()
