"""The preview server under load: 200 concurrent clients for 30 s, through rebuilds and a failed one.

Loopback only; every client's loop is bounded in time and in requests, and stops by itself.
"""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import article, ctrl_c_as_in_a_terminal, write

ROOT = Path(__file__).resolve().parent.parent
CLIENTS, SECONDS, MAX_REQUESTS = 200, 30.0, 5_000
PATHS = [("/repo/", 200), ("/repo/2024/01/15/hello/", 200), ("/repo/feed.xml", 200),
         ("/repo/assets/style.css", 200), ("/repo/entities/person/ann-smith/", 200), ("/repo/missing/", 404)]


def test_two_hundred_clients_for_thirty_seconds_through_rebuilds(site):
    article(site, "2024/01/15/hello.md", "Hello world", "2024-01-15T09:00:00+00:00", thread="greetings",
            entities={"person": ["Ann Smith"]}, body="First body.")
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--site", str(site), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            preexec_fn=ctrl_c_as_in_a_terminal)
    try:
        line = proc.stdout.readline()
        port = int(line.split(":")[2].split("/")[0])
        failures: list[str] = []
        done = [0] * CLIENTS
        deadline = time.monotonic() + SECONDS

        def client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            i = n
            while time.monotonic() < deadline and done[n] < MAX_REQUESTS:
                path, want = PATHS[i % len(PATHS)]
                i += 1
                try:
                    conn.request("GET", path)
                    response = conn.getresponse()
                    body = response.read()
                    if response.status != want or (want == 200 and path.endswith("/")
                                                   and not body.rstrip().endswith(b"</html>")):
                        failures.append(f"{path}: {response.status}, {len(body)} bytes")
                except OSError as exc:
                    failures.append(f"{path}: {type(exc).__name__}: {exc}")
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                done[n] += 1
            conn.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        # While the clients run: an edit (a rebuild), a broken template (a failed rebuild), the fix.
        time.sleep(5)
        article(site, "2024/01/15/hello.md", "Hello again", "2024-01-15T09:00:00+00:00", thread="greetings",
                entities={"person": ["Ann Smith"]}, body="Edited body.")
        time.sleep(8)
        write(site / "templates" / "article.html", "{% extends 'base.html' %}{% block main %}{% if %}{% endblock %}")
        time.sleep(8)
        (site / "templates" / "article.html").unlink()
        for thread in threads:
            thread.join(timeout=SECONDS + 30)
        assert not any(t.is_alive() for t in threads)
        assert failures == [], f"{len(failures)} failed of {sum(done)}: {failures[:5]}"
        assert sum(done) > CLIENTS * 10
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.request("GET", "/repo/2024/01/15/hello/")
        assert b"Hello again" in conn.getresponse().read()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0 and "Traceback" not in err
        print(f"{sum(done)} requests from {CLIENTS} clients in {SECONDS:.0f} s, {len(failures)} failed")
    finally:
        proc.kill()
