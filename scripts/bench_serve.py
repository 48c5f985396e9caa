#!/usr/bin/env python3
"""Benchmark of `odoosync serve`: signed 2 KiB deliveries from a load generator on loopback.

Starts an Odoo emulator and `odoosync serve` (release build) as child processes, pulls the
emulator into a fresh mirror, then sends N signed deliveries over C keep-alive connections
(asyncio, one process: HMAC and request bytes are prepared before the clock starts) and
measures, per delivery, the time from the first byte sent to the last byte of the 200 read.
Reports accepted deliveries/s, p50/p99 acknowledgement latency and serve's CPU time per
delivery (receiving and processing; the figure least disturbed by other work on the machine,
whose 1-minute load average is printed beside it), then how long the worker took to process
everything that was stored.

The load generator checks itself: its own CPU share of one core during a run, and how late
its event loop runs (p99 of the overshoot of a 1 ms timer ticking beside the clients). A
generator near 100% of a core, or whose loop runs many milliseconds late, would be measuring
itself rather than serve.
"""
import asyncio, hashlib, hmac, json, os, pathlib, resource, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, time, uuid

PLANE_SECRET = "plane_wh_bench_secret_0123456789abcdef"
ODOO_SECRET = "odoo_wh_bench_secret_0123456789abcdef"
TOKEN = "bench-token-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plane_body(size):
    issue = str(uuid.uuid4())
    text = json.dumps({"event": "issue", "action": "updated", "webhook_id": str(uuid.uuid4()),
                       "workspace_id": str(uuid.uuid4()),
                       "data": {"id": issue, "name": "Fix login redirect", "priority": "high", "state": {"name": "In Progress"},
                                "description_html": "<p>Users land on <b>404</b> after login</p>", "pad": ""},
                       "activity": {"field": "name", "new_value": "Fix login redirect", "old_value": None}})
    pad = size - len(text.encode())
    return text.replace('"pad": ""', '"pad": "' + "p" * max(0, pad) + '"').encode()


def odoo_body(delivery, lead, size):
    text = json.dumps({"id": delivery, "model": "crm.lead", "record_id": lead, "event": "write", "pad": ""})
    pad = size - len(text.encode())
    return text.replace('"pad": ""', '"pad": "' + "p" * max(0, pad) + '"').encode()


def request_bytes(path, headers, body):
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def make_requests(kind, count, size, leads):
    out = []
    for i in range(count):
        delivery = str(uuid.uuid4())
        if kind == "plane":
            body = plane_body(size)
            sig = hmac.new(PLANE_SECRET.encode(), body, hashlib.sha256).hexdigest()
            out.append(request_bytes("/webhooks/plane", {"X-Plane-Delivery": delivery, "X-Plane-Event": "issue",
                                                         "X-Plane-Signature": sig}, body))
        else:
            body = odoo_body(delivery, leads[i % len(leads)], size)
            sig = hmac.new(ODOO_SECRET.encode(), body, hashlib.sha256).hexdigest()
            out.append(request_bytes("/webhooks/odoo", {"X-Odoo-Delivery": delivery, "X-Odoo-Signature": sig}, body))
    return out


async def load(port, requests, connections, rate=None):
    """Closed loop (rate None): each connection sends its next delivery as soon as the previous
    one is answered, which measures the most the server takes. Open loop (rate per second):
    delivery i is due at start + i/rate and its latency counts from then, so time spent
    queued behind a slow answer is counted too (no coordinated omission)."""
    latencies, statuses, lags = [], {}, []
    queue = list(reversed(list(enumerate(requests))))
    started = time.perf_counter()
    done = asyncio.Event()

    async def ticker():
        while not done.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - t - 0.001)

    async def client():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                index, req = queue.pop()
                t0 = time.perf_counter()
                if rate:
                    due = started + index / rate
                    if due > t0:
                        await asyncio.sleep(due - t0)
                    t0 = due
                writer.write(req)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                status = int(head[9:12])
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    tick = asyncio.ensure_future(ticker())
    await asyncio.gather(*(client() for _ in range(connections)))
    wall = time.perf_counter() - started
    done.set()
    await tick
    return wall, latencies, statuses, lags


def own_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid):
    """User + system CPU of a running process so far (Linux /proc)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_processed(mirror, limit=300):
    """Seconds until the worker has processed every stored delivery."""
    t0 = time.perf_counter()
    with sqlite3.connect(mirror, timeout=30) as db:
        while db.execute("SELECT count(*) FROM webhook_deliveries WHERE status = 'received'").fetchone()[0]:
            if time.perf_counter() - t0 > limit:
                break
            time.sleep(0.05)
    return time.perf_counter() - t0


def server_latencies(log, start):
    """The time serve itself spent on each request (its request log's http.ms), from the
    bytes the log gained during a run: what the client adds (its own scheduling on a busy
    machine included) is left out."""
    time.sleep(0.2)
    with open(log, "rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    return [float(part[8:]) for line in text.splitlines() if " request " in line
            for part in line.split() if part.startswith("http.ms=")]


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def bench_serve(args):
    work = pathlib.Path(tempfile.mkdtemp(prefix="odoosync-bench-serve-"))
    emu_port = free_port()
    emulator = subprocess.Popen([args.bin, "emulator", "odoo", "--port", str(emu_port)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    serve = None
    try:
        if "listening" not in emulator.stdout.readline().decode():
            sys.exit("emulator did not start")
        mirror = str(work / "serve.sqlite")
        env = dict(os.environ, ODOO_URL=f"http://127.0.0.1:{emu_port}", ODOO_DATABASE="odoosync_demo", ODOO_USERNAME="admin",
                   ODOO_API_KEY="demo-api-key", PLANE_WEBHOOK_SECRET=PLANE_SECRET, ODOO_WEBHOOK_SECRET=ODOO_SECRET,
                   ODOOSYNC_SERVE_TOKEN=TOKEN, ODOOSYNC_DB=mirror)
        subprocess.run([args.bin, "pull", "odoo"], env=env, check=True, stdout=subprocess.DEVNULL)
        with sqlite3.connect(mirror) as db:
            leads = [r[0] for r in db.execute("SELECT odoo_id FROM odoo_records WHERE model = 'crm.lead' AND deleted = 0")]
        log = open(work / "serve.log", "wb")
        serve = subprocess.Popen([args.bin, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=log)
        line = serve.stdout.readline().decode()
        if "listening on" not in line:
            sys.exit(f"serve did not start: {line}")
        port = int(line.rsplit(":", 1)[1])

        rows = []
        modes = [("max", None, args.connections)] + [(f"{r}/s", r, args.open_connections) for r in args.rates]
        for kind in args.kinds.split(","):
            warm = make_requests(kind, args.warmup, args.size, leads)
            asyncio.run(load(port, warm, args.connections))
            wait_processed(mirror)
            for (mode, rate, connections), i in ((m, i) for m in modes for i in range(args.repeat)):
                count = args.deliveries if rate is None else max(1000, int(rate * args.open_seconds))
                reqs = make_requests(kind, count, args.size, leads)
                cpu0, own0 = cpu_seconds(serve.pid), own_cpu_seconds()
                log_start = (work / "serve.log").stat().st_size
                wall, lat, statuses, lags = asyncio.run(load(port, reqs, connections, rate))
                cpu, own = cpu_seconds(serve.pid) - cpu0, own_cpu_seconds() - own0
                server = server_latencies(work / "serve.log", log_start)
                ok = statuses.get(200, 0)
                # Each run starts with nothing left to process, so one run's backlog does not
                # weigh on the next run's figures.
                drained = wait_processed(mirror)
                rows.append({"name": f"{kind} @ {mode}", "deliveries": len(reqs), "size_bytes": args.size,
                             "connections": connections, "wall_s": round(wall, 3), "accepted_per_s": round(ok / wall),
                             "p50_ms": round(percentile(lat, 50) * 1000, 2), "p99_ms": round(percentile(lat, 99) * 1000, 2),
                             "max_ms": round(max(lat) * 1000, 2), "non_200": len(reqs) - ok,
                             "server_p50_ms": round(percentile(server, 50), 2) if server else None,
                             "server_p99_ms": round(percentile(server, 99), 2) if server else None,
                             "server_max_ms": round(max(server), 2) if server else None,
                             "serve_cpu_us_per_delivery": round(cpu / len(reqs) * 1e6), "load_avg_1m": os.getloadavg()[0],
                             "client_cpu_pct": round(own / wall * 100), "client_loop_lag_p99_ms": round(percentile(lags, 99) * 1000, 2),
                             "processed_s_after_load": round(drained, 3), "run": i + 1})
        with sqlite3.connect(mirror, timeout=30) as db:
            total = db.execute("SELECT count(*) FROM webhook_deliveries").fetchone()[0]
            failed = db.execute("SELECT count(*) FROM webhook_deliveries WHERE status != 'processed'").fetchone()[0]
        drain = max((r["processed_s_after_load"] for r in rows), default=0)
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=60)
        serve = None
        return {"benchmark": "serve", "rows": rows, "stored": total, "not_processed": failed,
                "processing_drain_s_after_load": round(drain, 3), "serve_exit": code,
                "targets": {"accepted_per_s": ">= 2000", "p99_ms": "< 50"}}
    finally:
        if serve is not None:
            serve.kill()
        emulator.terminate()
        emulator.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def median_rows(rows):
    """One row per kind and mode: the median of each figure over its runs, taken separately
    (the run with the median rate of a fixed-rate mode says nothing about its p99), with
    every run's rate and p99 kept beside it."""
    out = []
    for name in dict.fromkeys(r["name"] for r in rows):
        runs = [r for r in rows if r["name"] == name]
        row = dict(runs[0])
        for key, value in runs[0].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "run":
                values = sorted(r[key] for r in runs if r[key] is not None)
                row[key] = values[len(values) // 2] if values else None
        row["runs"] = len(runs)
        row["accepted_per_s_each_run"] = [r["accepted_per_s"] for r in runs]
        row["p99_ms_each_run"] = [r["p99_ms"] for r in runs]
        # A client-side outlier with a calm server side was the machine, not serve.
        row["server_max_ms_each_run"] = [r["server_max_ms"] for r in runs]
        row.pop("run", None)
        out.append(row)
    return out


def print_serve(result):
    header = (f"{'deliveries (offered)':20} {'n':>6} {'conns':>5} {'accepted/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
              f"{'non-200':>7} {'srv p99':>7} {'cpu us/dlv':>10} {'gen cpu':>7} {'gen lag':>7} {'load':>5}")
    print(header)
    print("-" * len(header))
    for r in result["rows"]:
        print(f"{r['name']:20} {r['deliveries']:>6} {r['connections']:>5} {r['accepted_per_s']:>10} {r['p50_ms']:>7.2f} "
              f"{r['p99_ms']:>7.2f} {r['max_ms']:>7.2f} {r['non_200']:>7} {r['server_p99_ms'] or 0:>7.2f} "
              f"{r['serve_cpu_us_per_delivery']:>10} {str(r['client_cpu_pct']) + '%':>7} {r['client_loop_lag_p99_ms']:>7.2f} "
              f"{r['load_avg_1m']:>5.1f}")
    for r in result["rows"]:
        if r.get("runs", 1) > 1:
            print(f"{r['name']}: {r['runs']} runs, the median of each figure; p99 ms of each run {r['p99_ms_each_run']}, "
                  f"accepted/s {r['accepted_per_s_each_run']}, slowest inside serve (ms) {r['server_max_ms_each_run']}")
    print(f"stored {result['stored']}, not processed {result['not_processed']}; the worker had processed everything at most "
          f"{result['processing_drain_s_after_load']} s after a run's last acknowledgement; serve exited {result['serve_exit']} on SIGTERM")
