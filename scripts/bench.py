#!/usr/bin/env python3
"""Benchmark driver: runs each contender as a child process and reads its rusage.

plane-pull: the Plane emulator with N generated issues (rate limit off); `pull plane --full`, then
  `pull plane` after 1% of the issues changed in Plane.
report: an emulator with N generated leads, one `odoosync pull odoo` into a new mirror, then
  `odoosync report` of that mirror and of an empty one, timed (target: under 2 s for 100,000 leads).

pull: an emulator with N generated leads in its own process; then, side by side,
  1. `odoosync pull odoo --full` into a new mirror,
  2. the OdooRPC script a user would otherwise write (scripts/bench_pull_odoorpc.py), taking
     turns with 1 (--repeat rounds of both),
  3. `odoosync pull odoo` after 1% of the leads changed (written through the API before each run),
printing wall seconds (median), leads/s, CPU seconds (user+sys) and peak RSS (the largest),
as a table and as JSON.
"""
import argparse, json, os, pathlib, shutil, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measured(cmd, env=None):
    """Runs cmd to completion; returns (wall s, cpu s, peak RSS MB, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.decode()


def rpc(port, service, method, args):
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args}, "id": 1})
    req = urllib.request.Request(f"http://127.0.0.1:{port}/jsonrpc", body.encode(), {"Content-Type": "application/json"})
    answer = json.load(urllib.request.urlopen(req, timeout=600))
    if "error" in answer:
        sys.exit(f"emulator error: {answer['error']}")
    return answer.get("result")


def bench_pull(args):
    port = free_port()
    emulator = subprocess.Popen([args.bin, "emulator", "odoo", "--port", str(port), "--generate-leads", str(args.leads)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        line = emulator.stdout.readline().decode()
        if "listening" not in line:
            sys.exit(f"emulator did not start: {line}")
        db, login, password = "odoosync_demo", "admin", "admin"
        uid = rpc(port, "common", "authenticate", [db, login, password, {}])
        total = rpc(port, "object", "execute_kw", [db, uid, password, "crm.lead", "search_count", [[]], {"context": {"active_test": False}}])
        work = pathlib.Path(tempfile.mkdtemp(prefix="odoosync-bench-"))
        env = dict(os.environ, ODOO_URL=f"http://127.0.0.1:{port}", ODOO_DATABASE=db, ODOO_USERNAME=login,
                   ODOO_API_KEY="demo-api-key", ODOO_PROTOCOL=args.protocol)
        mirror = str(work / "bench.sqlite")
        py_mirror = str(work / "py.sqlite")

        def fresh(path):
            for suffix in ("", "-wal", "-shm"):
                pathlib.Path(path + suffix).unlink(missing_ok=True)

        def row(name, samples, leads):
            wall = sorted(s[0] for s in samples)[len(samples) // 2]
            cpu = sorted(s[1] for s in samples)[len(samples) // 2]
            return {"name": name, "leads": leads, "wall_s": round(wall, 3), "leads_per_s": round(leads / wall),
                    "cpu_s": round(cpu, 3), "peak_rss_mb": round(max(s[2] for s in samples), 1), "runs": len(samples),
                    "wall_s_each": [round(s[0], 3) for s in samples]}

        # odoosync and the script take turns, so that a slow spell of this shared machine falls
        # on both and the ratios compare like with like. Each full pull starts from no mirror.
        full_samples, python_samples = [], []
        for _ in range(args.repeat):
            fresh(mirror)
            full_samples.append(measured([args.bin, "pull", "odoo", "--full", "--db", mirror], env))
            fresh(py_mirror)
            python_samples.append(measured([sys.executable, str(ROOT / "scripts/bench_pull_odoorpc.py"), "--host", "127.0.0.1",
                                            "--port", str(port), "--db", db, "--login", login, "--password", password,
                                            "--sqlite", py_mirror, "--page", "1000"], env))
        # Before each re-pull 1% of the leads change in Odoo (one write through the API, as a
        # colleague's bulk edit would), so every repeat has the same work to find.
        ids = rpc(port, "object", "execute_kw", [db, uid, password, "crm.lead", "search", [[]],
                                                 {"order": "id asc", "context": {"active_test": False}}])
        changed = ids[:: max(1, len(ids) // max(1, total // 100))][: total // 100]
        repull_samples = []
        for i in range(args.repeat):
            time.sleep(1.1)
            rpc(port, "object", "execute_kw", [db, uid, password, "crm.lead", "write", [changed, {"probability": 42.0 + i}]])
            repull_samples.append(measured([args.bin, "pull", "odoo", "--db", mirror], env))
        rows = [row("odoosync full pull", full_samples, total), row("odoosync 1%-changed pull", repull_samples, len(changed)),
                row("python odoorpc script", python_samples, total)]
        full, repull, python = rows
        result = {
            "benchmark": "pull", "leads": total, "protocol": args.protocol, "rows": rows,
            "ratios": {
                "odoosync_vs_python_rate": round(full["leads_per_s"] / python["leads_per_s"], 2),
                "odoosync_vs_python_cpu": round(full["cpu_s"] / python["cpu_s"], 3),
                "repull_vs_full_time": round(repull["wall_s"] / full["wall_s"], 4),
            },
            "targets": {"full_leads_per_s": ">= 100000", "odoosync_vs_python_rate": ">= 1.5",
                        "odoosync_vs_python_cpu": "<= 0.25", "repull_vs_full_time": "<= 0.05", "peak_rss_mb": "<= 64"},
        }
        shutil.rmtree(work, ignore_errors=True)
        return result
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


def plane_call(base, key, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{base}/api/v1/{path}", data, {"X-API-Key": key, "Content-Type": "application/json"}, method=method)
    return json.load(urllib.request.urlopen(req, timeout=600))


def bench_plane_pull(args):
    """`pull plane` of N generated issues (rate limit off): full, then after 1% changed in Plane."""
    port = free_port()
    emulator = subprocess.Popen([args.bin, "emulator", "plane", "--port", str(port), "--rate-limit", "0",
                                 "--generate-issues", str(args.issues)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        banner = emulator.stdout.readline().decode() + emulator.stdout.readline().decode()
        settings = dict(word.split("=", 1) for word in banner.split() if word.startswith("PLANE_"))
        if "PLANE_API_KEY" not in settings:
            sys.exit(f"emulator did not start: {banner}")
        base, key, slug = settings["PLANE_API_URL"], settings["PLANE_API_KEY"], settings["PLANE_WORKSPACE_SLUG"]
        projects = [p["id"] for p in plane_call(base, key, "GET", f"workspaces/{slug}/projects/")["results"]]
        issues = []
        for project in projects:
            cursor = None
            while True:
                query = f"per_page=1000&fields=id" + (f"&cursor={cursor}" if cursor else "")
                page = plane_call(base, key, "GET", f"workspaces/{slug}/projects/{project}/issues/?{query}")
                issues += [(project, i["id"]) for i in page["results"]]
                if not page["next_page_results"]:
                    break
                cursor = page["next_cursor"]
        total = len(issues)
        work = pathlib.Path(tempfile.mkdtemp(prefix="odoosync-bench-"))
        mirror = str(work / "bench.sqlite")
        env = dict(os.environ, PLANE_API_URL=base, PLANE_API_KEY=key, PLANE_WORKSPACE_SLUG=slug)
        rows = []

        def run(name, cmd, count, fresh):
            samples = []
            for _ in range(args.repeat):
                if fresh:
                    for suffix in ("", "-wal", "-shm"):
                        pathlib.Path(mirror + suffix).unlink(missing_ok=True)
                wall, cpu, rss, out = measured(cmd, env)
                report = json.loads(out)
                samples.append((wall, cpu, rss, report["requests"]))
            samples.sort(key=lambda s: s[0])
            wall, cpu, rss, requests = samples[len(samples) // 2]
            rows.append({"name": name, "issues": count, "wall_s": round(wall, 3), "issues_per_s": round(count / wall),
                         "cpu_s": round(cpu, 3), "peak_rss_mb": round(rss, 1), "requests": requests, "runs": args.repeat})

        run("odoosync plane full pull", [args.bin, "pull", "plane", "--full", "--json", "--db", mirror], total, True)
        changed = issues[:: max(1, total // max(1, total // 100))][: total // 100]
        for project, issue in changed:
            plane_call(base, key, "PATCH", f"workspaces/{slug}/projects/{project}/issues/{issue}/", {"priority": "urgent", "name": f"bench {issue[:8]}"})
        run("odoosync plane 1%-changed pull", [args.bin, "pull", "plane", "--json", "--db", mirror], len(changed), False)
        full, repull = rows
        shutil.rmtree(work, ignore_errors=True)
        return {"benchmark": "plane-pull", "issues": total, "rows": rows,
                "ratios": {"repull_vs_full_time": round(repull["wall_s"] / full["wall_s"], 4)},
                "targets": {"repull_vs_full_time": "<= 0.05"}}
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
def bench_report(args):
    port = free_port()
    emulator = subprocess.Popen([args.bin, "emulator", "odoo", "--port", str(port), "--generate-leads", str(args.leads)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    work = pathlib.Path(tempfile.mkdtemp(prefix="odoosync-bench-report-"))
    try:
        line = emulator.stdout.readline().decode()
        if "listening" not in line:
            sys.exit(f"emulator did not start: {line}")
        env = dict(os.environ, ODOO_URL=f"http://127.0.0.1:{port}", ODOO_DATABASE="odoosync_demo", ODOO_USERNAME="admin",
                   ODOO_API_KEY="demo-api-key", ODOO_PROTOCOL="json2")
        mirror, empty = str(work / "bench.sqlite"), str(work / "empty.sqlite")
        measured([args.bin, "pull", "odoo", "--db", mirror], env)
        measured([args.bin, "init", "--db", empty], env)
        leads = int(measured([args.bin, "sql", "--db", mirror, "--csv",
                              "select count(*) from leads where deleted_at is null"], env)[3].split()[1])
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    rows = []
    for name, db, count in (("report, pulled mirror", mirror, leads), ("report, empty mirror", empty, 0)):
        out = work / "report.html"
        samples = sorted((measured([args.bin, "report", "--db", db, "--out", str(out)], env) for _ in range(args.repeat)),
                         key=lambda s: s[0])
        wall, cpu, rss, _ = samples[len(samples) // 2]
        rows.append({"name": name, "leads": count, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                     "peak_rss_mb": round(rss, 1), "html_kb": round(out.stat().st_size / 1024), "runs": args.repeat})
    shutil.rmtree(work, ignore_errors=True)
    return {"benchmark": "report", "leads": leads, "rows": rows, "targets": {"wall_s": "< 2 for 100,000 leads"}}


def print_report(result):
    header = f"{'contender':24} {'leads':>8} {'wall s':>8} {'cpu s':>7} {'rss MB':>7} {'html KB':>8}"
    print(header)
    print("-" * len(header))
    for r in result["rows"]:
        print(f"{r['name']:24} {r['leads']:>8} {r['wall_s']:>8.3f} {r['cpu_s']:>7.3f} {r['peak_rss_mb']:>7.1f} {r['html_kb']:>8}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["pull", "plane-pull", "report", "serve"])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; the median is reported")
    parser.add_argument("--protocol", default="json2", choices=["json2", "jsonrpc"])
    parser.add_argument("--issues", type=int, default=10_000, help="plane-pull: generated Plane issues")
    parser.add_argument("--deliveries", type=int, default=20_000, help="serve: deliveries per run")
    parser.add_argument("--connections", type=int, default=32, help="serve: concurrent keep-alive connections")
    parser.add_argument("--size", type=int, default=2048, help="serve: body bytes per delivery")
    parser.add_argument("--warmup", type=int, default=1000, help="serve: deliveries sent before measuring")
    parser.add_argument("--kinds", default="plane,odoo", help="serve: which deliveries, comma-separated")
    parser.add_argument("--rates", type=int, nargs="*", default=[2000],
                        help="serve: also offer deliveries at these fixed rates per second (open loop)")
    parser.add_argument("--open-seconds", type=float, default=10, help="serve: seconds each fixed-rate run lasts")
    parser.add_argument("--open-connections", type=int, default=64, help="serve: connections of a fixed-rate run")
    args = parser.parse_args()
    if args.what == "serve":
        import bench_serve
        result = bench_serve.bench_serve(args)
        result["rows"] = bench_serve.median_rows(result["rows"])
        bench_serve.print_serve(result)
        out = ROOT / "bench-results"
        out.mkdir(exist_ok=True)
        (out / "serve.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"written to {out / 'serve.json'}")
        return
    if args.what == "plane-pull":
        result = bench_plane_pull(args)
        header = f"{'contender':32} {'issues':>7} {'wall s':>8} {'issues/s':>9} {'cpu s':>7} {'rss MB':>7} {'requests':>8}"
        print(header)
        print("-" * len(header))
        for r in result["rows"]:
            print(f"{r['name']:32} {r['issues']:>7} {r['wall_s']:>8.3f} {r['issues_per_s']:>9} {r['cpu_s']:>7.3f} {r['peak_rss_mb']:>7.1f} {r['requests']:>8}")
        print(json.dumps(result["ratios"]))
        out = ROOT / "bench-results"
        out.mkdir(exist_ok=True)
        (out / "plane-pull.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"written to {out / 'plane-pull.json'}")
        return
    if args.what == "report":
        result = bench_report(args)
        print_report(result)
    else:
        result = bench_pull(args)
        header = f"{'contender':28} {'leads':>8} {'wall s':>8} {'leads/s':>9} {'cpu s':>7} {'rss MB':>7}"
        print(header)
        print("-" * len(header))
        for r in result["rows"]:
            print(f"{r['name']:28} {r['leads']:>8} {r['wall_s']:>8.3f} {r['leads_per_s']:>9} {r['cpu_s']:>7.3f} {r['peak_rss_mb']:>7.1f}")
        print(json.dumps(result["ratios"]))
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / f"{args.what}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out / (args.what + '.json')}")


if __name__ == "__main__":
    main()
