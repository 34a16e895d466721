"""Load test: N simulated staff on a running Myoclinic, pages mixed with uploads (issue 17).

    export DATABASE_URL=postgres://... REDIS_URL=redis://... SECRET_KEY=... \\
        DJANGO_SETTINGS_MODULE=config.settings.production ALLOWED_HOSTS=127.0.0.1
    python bench/load.py --url http://127.0.0.1:8000 --patients 10000 --sessions 100000 \\
        --staff 50 --duration 60

It starts nothing: the web server(s) and Celery worker(s) must already run on the same
DATABASE_URL and REDIS_URL (it says so and stops if the URL does not answer). What it does:

1. Seeds the clinic "bench" up to ``--patients`` patients and ``--sessions`` sessions (bulk
   inserts; a second run adds only what is missing), one of them with ``--heavy`` sessions,
   and the staff accounts (80 % therapists, 20 % managers). Staff log in through database
   sessions made here (no password form, so no login rate limit is hit).
2. Runs ``--staff`` simulated users for ``--duration`` seconds, each on its own keep-alive
   connection (a small asyncio HTTP/1.1 client, no dependency): a page, ``--think`` seconds
   (uniform between the two bounds), the next page. The pages: patient list (some pages
   searched), patient page, progress page, session page, dashboard, and the heavy patient's
   pages; one action in ``--upload-every`` (at random) is an upload of a real C3D recording
   (``../shared/data/c3d/ghostly``) to one of the user's sessions, as the upload page's
   script sends it.
3. Waits up to ``--drain`` seconds for every upload to be analysed, then prints p50/p95/p99
   per page, errors (any status other than 200), throughput, the machine's CPU use during the
   run (both cores busy?), and whether every upload was analysed (with upload-to-done times).

``--staff 1 --think 0 0 --upload-every 0`` measures one client's latency per page.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path

from load_http import Connection, multipart
from load_seed import CLINIC, seed, sign_in, work_for
from quiet_generator import collector_paused

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")


# ---------------------------------------------------------------------------------------------
# Simulated staff
# ---------------------------------------------------------------------------------------------


class Results:
    def __init__(self):
        self.times = defaultdict(list)
        self.errors = defaultdict(int)
        self.error_samples = []
        self.uploads = []  # recording ids accepted
        self.refused = 0


PAGES = (  # name, weight
    ("patient list", 20),
    ("patient search", 10),
    ("patient page", 20),
    ("progress page", 15),
    ("session page", 15),
    ("dashboard", 10),
    ("heavy patient page", 5),
    ("heavy progress page", 5),
)


def pick_path(name, work, rng) -> str:
    if name == "patient list":
        return f"/patients/?page={rng.randint(1, 20)}"
    if name == "patient search":
        term = rng.choice(["Aldersley1", "fenwick2", "B0012", "BMRN-0004", "Osric Haverstock3"])
        return "/patients/?" + urllib.parse.urlencode({"q": term})
    if name == "patient page":
        return f"/patients/{rng.choice(work['patients'])}/"
    if name == "progress page":
        return f"/patients/{rng.choice(work['patients'])}/progress/"
    if name == "session page" and work["sessions"]:
        return f"/sessions/{rng.choice(work['sessions'])}/"
    if name == "heavy patient page":
        return f"/patients/{work['heavy']}/?page={rng.randint(1, 3)}"
    if name == "heavy progress page":
        return f"/patients/{work['heavy']}/progress/"
    return "/"


async def staff_member(n, url, cookie, work, args, files, results, deadline):
    rng = random.Random(n)
    conn = Connection(url)
    jar = {"sessionid": cookie}
    names, weights = zip(*PAGES, strict=True)
    await asyncio.sleep(rng.uniform(0, max(args.think)))  # do not start in lock-step
    try:
        while time.monotonic() < deadline:
            upload = args.upload_every and rng.random() * args.upload_every < 1 and work["sessions"]
            if upload:
                await do_upload(conn, jar, work, rng, files, results)
            else:
                name = rng.choices(names, weights)[0]
                await timed(conn, jar, name, pick_path(name, work, rng), results)
            await asyncio.sleep(rng.uniform(*args.think))
    finally:
        conn.close()


def cookie_header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def keep_cookies(jar, headers):
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            jar[key] = rest.split(";", 1)[0]


async def timed(conn, jar, name, path, results, method="GET", body=b"", extra=None):
    headers = {"Cookie": cookie_header(jar), **(extra or {})}
    started = time.perf_counter()
    try:
        status, headers_out, data = await conn.request(method, path, headers, body)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        results.errors[name] += 1
        results.error_samples.append(f"{name} {path}: {exc!r}")
        return None, b""
    results.times[name].append(time.perf_counter() - started)
    keep_cookies(jar, headers_out)
    if status != 200:
        results.errors[name] += 1
        results.error_samples.append(f"{name} {path}: HTTP {status}")
    return status, data


async def do_upload(conn, jar, work, rng, files, results):
    session = rng.choice(work["sessions"])
    path = f"/sessions/{session}/upload/"
    status, _ = await timed(conn, jar, "upload page", path, results)
    if status != 200 or "csrftoken" not in jar:
        return
    filename, data = rng.choice(files)
    content_type, body = multipart({}, [("files", filename, data)])
    extra = {
        "Content-Type": content_type,
        "X-CSRFToken": jar["csrftoken"],
        "X-Requested-With": "XMLHttpRequest",
        "Referer": conn_url(conn) + path,
        "Origin": conn_url(conn),
    }
    status, data = await timed(conn, jar, "upload", path, results, "POST", body, extra)
    if status == 400 and b"already uploaded" in data:
        results.refused += 1  # the same real file on the same session: refused, not an error
        results.errors["upload"] -= 1
        results.error_samples.pop()
        return
    if status == 200:
        results.uploads += [row["id"] for row in json.loads(data)["accepted"]]


def conn_url(conn):
    return f"http://{conn.host}:{conn.port}"


def cpu_sample():
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


def processes_cpu(pids) -> float:
    """CPU seconds (user + system) the processes ``pids`` have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def report(results, elapsed, cpu_busy, analysed, web_cpu=None):
    print(f"\n{'page':<22}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    everything = []
    for name in sorted(results.times):
        t = results.times[name]
        everything += t
        print(
            f"{name:<22}{len(t):>7}{percentile(t, 0.5) * 1e3:>9.0f}"
            f"{percentile(t, 0.95) * 1e3:>9.0f}{percentile(t, 0.99) * 1e3:>9.0f}"
            f"{results.errors.get(name, 0):>8}"
        )
    errors = sum(results.errors.values())
    print(
        f"{'all':<22}{len(everything):>7}{percentile(everything, 0.5) * 1e3:>9.0f}"
        f"{percentile(everything, 0.95) * 1e3:>9.0f}{percentile(everything, 0.99) * 1e3:>9.0f}"
        f"{errors:>8}"
    )
    print(f"\nthroughput: {len(everything) / elapsed:.1f} requests/s over {elapsed:.0f} s")
    print(f"machine CPU busy during the run: {cpu_busy:.0%} of all cores")
    print("load average at the end: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    if web_cpu is not None and everything:
        print(f"web processes' CPU: {web_cpu / len(everything) * 1e3:.1f} ms per request")
    for sample in results.error_samples[:5]:
        print("error:", sample)
    print(analysed)


def analysed_summary(ids, drain) -> str:
    from analysis.models import RecordingAnalysis
    from sessions.models import Recording

    if not ids:
        return "uploads: none"
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline:
        pending = Recording.objects.filter(pk__in=ids).exclude(status__in=["done", "failed"])
        if not pending.exists():
            break
        time.sleep(0.5)
    statuses = defaultdict(int)
    for status in Recording.objects.filter(pk__in=ids).values_list("status", flat=True):
        statuses[status] += 1
    delays = [
        (a.created_at - a.recording.created_at).total_seconds()
        for a in RecordingAnalysis.objects.filter(recording__in=ids, is_current=True)
        .select_related("recording")
        .only("created_at", "recording__created_at")
    ]
    every = statuses.get("done", 0) == len(ids)
    median = f", upload to done median {statistics.median(delays):.2f} s" if delays else ""
    return (
        f"uploads: {len(ids)} accepted, {dict(statuses)}; every upload analysed: "
        f"{'yes' if every else 'NO'}{median}, max {max(delays or [0]):.2f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", required=True, help="the running server, e.g. http://127.0.0.1:8000"
    )
    parser.add_argument("--patients", type=int, default=10000)
    parser.add_argument("--sessions", type=int, default=100000)
    parser.add_argument("--heavy", type=int, default=500, help="sessions of the one heavy patient")
    parser.add_argument("--staff", type=int, default=50, help="simulated staff at once")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument(
        "--upload-every", type=int, default=20, help="one action in N is an upload; 0: none"
    )
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for analyses")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument(
        "--pids",
        default="",
        help="comma-separated pids of the web processes: report their CPU time per request",
    )
    args = parser.parse_args()

    import django

    django.setup()
    urls = args.url.split(",")
    for url in urls:
        if urllib.parse.urlsplit(url).scheme != "http":
            parser.error("--url must be http://host:port (TLS belongs to the proxy)")
        try:
            urllib.request.urlopen(url + "/accounts/login/", timeout=10).read()  # noqa: S310
        except OSError as exc:
            print(f"{url} does not answer ({exc}): start the server first", file=sys.stderr)
            return 2
    print(f"seeding clinic '{CLINIC}' up to {args.patients} patients, {args.sessions} sessions")
    started = time.perf_counter()
    world = seed(args.patients, args.sessions, args.heavy, args.staff)
    print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    if args.seed_only:
        return 0
    from clinic.roles import CLINIC_MANAGER, THERAPIST

    people = world["people"]
    staff = [
        people[THERAPIST][i % len(people[THERAPIST])]
        if i % 5
        else people[CLINIC_MANAGER][i // 5 % len(people[CLINIC_MANAGER])]
        for i in range(args.staff)
    ]
    members = [(sign_in(u), work_for(u, world["heavy"])) for u in staff]
    folder = REPO.parent / "shared" / "data" / "c3d" / "ghostly"
    files = [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.c3d"))]
    if args.upload_every and not files:
        print(f"no recordings in {folder} to upload", file=sys.stderr)
        return 2
    results = Results()
    print(
        f"{args.staff} staff for {args.duration:.0f} s, think {args.think[0]}-{args.think[1]} s, "
        f"upload every {args.upload_every or 'never'} actions, against {args.url}",
        flush=True,
    )

    async def run():
        deadline = time.monotonic() + args.duration
        await asyncio.gather(
            *(
                staff_member(n, urls[n % len(urls)], cookie, work, args, files, results, deadline)
                for n, (cookie, work) in enumerate(members)
            )
        )

    pids = [int(p) for p in args.pids.split(",") if p.strip()]
    cpu0, web0, t0 = cpu_sample(), processes_cpu(pids), time.perf_counter()
    with collector_paused():
        asyncio.run(run())
    cpu1, elapsed = cpu_sample(), time.perf_counter() - t0
    web_cpu = processes_cpu(pids) - web0 if pids else None
    total, idle = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    busy = (total - idle) / total if total else 0.0
    report(results, elapsed, busy, analysed_summary(results.uploads, args.drain), web_cpu)
    return 1 if sum(results.errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
