"""Does signing in stall the other requests of the gevent server?

Password checks cost 70-80 ms of CPU (scrypt). NovaDesk runs them in the gevent hub's thread
pool; this script measures /health latency on an idle server, then while sign-ins run, with
the check off the hub (default) and on it (PASSWORD_HASH_OFF_HUB=0), and prints both.

    .venv/bin/python bench/login_stall.py [--samples 200] [--workers 4]
"""
import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(instance, off_hub):
    port = free_port()
    env = dict(os.environ, NOVADESK_INSTANCE=instance, PORT=str(port), PASSWORD_HASH_OFF_HUB="1" if off_hub else "0",
               RATELIMIT_ENABLED="0", LOGIN_LOCKOUT_THRESHOLD="1000000")
    env.pop("DATABASE_URL", None)  # the embedded SQLite of the temporary instance
    subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "novadesk", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen([PYTHON, "run.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")


def health_latencies(base, count):
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        urllib.request.urlopen(base + "/health").read()
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)
    return samples


def sign_in_loop(base, stop, done):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    while not stop.is_set():
        page = opener.open(base + "/login/").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrf_token": token, "email": "client@credit-solidaire.sn", "password": "wrong-password-1"}).encode()
        opener.open(base + "/login/", data).read()
        done.append(1)


def summary(samples):
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   max {ordered[-1]:6.1f} ms"


def measure(off_hub, workers, count):
    with tempfile.TemporaryDirectory() as instance:
        server, base = start_server(instance, off_hub)
        try:
            idle = health_latencies(base, count)
            stop, done = threading.Event(), []
            threads = [threading.Thread(target=sign_in_loop, args=(base, stop, done)) for _ in range(workers)]
            for thread in threads:
                thread.start()
            time.sleep(0.5)
            started = time.perf_counter()
            busy = health_latencies(base, count)
            elapsed = time.perf_counter() - started
            stop.set()
            for thread in threads:
                thread.join()
        finally:
            server.terminate()
            server.wait()
    label = "password check off the hub" if off_hub else "password check on the hub"
    print(f"{label}:")
    print(f"  /health, idle server:            {summary(idle)}")
    print(f"  /health, {workers} sign-ins at a time:  {summary(busy)}   ({len(done) / elapsed:.1f} sign-ins/s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    print(f"{sys.platform}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    measure(True, args.workers, args.samples)
    measure(False, args.workers, args.samples)


if __name__ == "__main__":
    main()
