#!/usr/bin/env python3
"""scripts/bench sync: Plane issues <-> Odoo tasks with both emulators, rate limit off.

A first `odoosync sync` pairs N generated Plane issues with new Odoo tasks (and the fixture
tasks with new Plane issues); then 1% of the pairs change on each side and a second sync carries
the changes across. Prints wall seconds, items/s and the engine's own time as a table and as
bench-results/sync.json (what each figure includes is printed under the table and kept in the
JSON as "definitions"). Each scenario runs on fresh emulators; the median of --repeat scenarios
is reported.
"""
import argparse, json, os, pathlib, shutil, statistics, subprocess, sys, tempfile, urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench import free_port, measured  # noqa: E402

DEFINITIONS = {
    "wall_s": "the whole `odoosync sync` process, start to exit, as this script times it",
    "engine_s": "detection and push (the sync engine, after the pulls): their wall time less the time at least one "
                "HTTP request to Odoo or Plane was in flight (sent, answer not yet fully received). Included: SQLite "
                "reads, writes and commits, comparing, translating, building and encoding requests, parsing answers, "
                "bookkeeping. Excluded: the pulls before detection (pull_s), process start and exit, printing the "
                "report. The engine waits for each answer before doing more, so none of its own work hides in the waits; "
                "on a loaded machine the time it spends waiting for a CPU is in it (compare engine_cpu_s)",
    "engine_cpu_s": "CPU time of the whole process during detection and push (the HTTP client's threads included)",
    "remote_s": "the HTTP waits during detection and push that engine_s leaves out",
    "pull_s": "the Odoo and Plane pulls before detection, wall time (their HTTP waits included)",
    "considered": "items_considered: pairs and unpaired records that a detection pass examined, summed over the run's "
                  "passes (a first sync runs several); a pair SQL dismisses because neither snapshot changed since its "
                  "last comparison counts",
    "engine_items_per_s": "considered / engine_s",
    "items": "first sync: the issue<->task pairs it made; changed sync: the changes made on the two sides",
}


def call(url, headers, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data, dict(headers, **{"Content-Type": "application/json"}), method=method)
    return json.load(urllib.request.urlopen(req, timeout=600))


def start(cmd):
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    banner = proc.stdout.readline().decode() + proc.stdout.readline().decode()
    return proc, banner


def figures(items, wall, cpu, rss, report):
    return {"items": items, "wall_s": wall, "cpu_s": cpu, "rss_mb": rss, "engine_s": report["engine_seconds"],
            "engine_cpu_s": report["engine_cpu_seconds"], "considered": report["items_considered"],
            "remote_s": report["remote_seconds"], "pull_s": report["pull_seconds"]}


def scenario(args):
    odoo_port, plane_port = free_port(), free_port()
    odoo, banner = start([args.bin, "emulator", "odoo", "--port", str(odoo_port)])
    if "listening" not in banner:
        sys.exit(f"odoo emulator did not start: {banner}")
    plane, banner = start([args.bin, "emulator", "plane", "--port", str(plane_port), "--rate-limit", "0",
                           "--generate-issues", str(args.issues)])
    settings = dict(word.split("=", 1) for word in banner.split() if word.startswith("PLANE_"))
    if "PLANE_API_KEY" not in settings:
        sys.exit(f"plane emulator did not start: {banner}")
    work = pathlib.Path(tempfile.mkdtemp(prefix="odoosync-bench-sync-"))
    try:
        env = dict(os.environ, ODOO_URL=f"http://127.0.0.1:{odoo_port}", ODOO_DATABASE="odoosync_demo", ODOO_USERNAME="admin",
                   ODOO_API_KEY="demo-api-key", ODOOSYNC_DB=str(work / "bench.sqlite"), **settings)
        env.pop("PLANE_VISIBILITY_PROJECT", None)
        cmd = [args.bin, "sync", "--json"]
        wall1, cpu1, rss1, out1 = measured(cmd, env)
        first = json.loads(out1)
        if first["failed"]:
            sys.exit(f"first sync had failures: {first['errors'][:3]}")
        # 1% of the pairs change on each side, through each server's API.
        import sqlite3
        db = sqlite3.connect(str(work / "bench.sqlite"))
        pairs = db.execute("SELECT plane_id, plane_project, odoo_id FROM sync_pairs WHERE entity = 'issue:project.task' ORDER BY odoo_id").fetchall()
        db.close()
        step = max(1, len(pairs) // max(1, len(pairs) // 100))
        plane_side = pairs[::step][: len(pairs) // 100]
        odoo_side = pairs[step // 2 :: step][: len(pairs) // 100]
        base, key, slug = settings["PLANE_API_URL"], settings["PLANE_API_KEY"], settings["PLANE_WORKSPACE_SLUG"]
        for plane_id, project, _ in plane_side:
            call(f"{base}/api/v1/workspaces/{slug}/projects/{project}/issues/{plane_id}/", {"X-API-Key": key}, "PATCH",
                 {"name": f"bench plane {plane_id[:8]}", "priority": "urgent"})
        for _, _, odoo_id in odoo_side:
            call(f"http://127.0.0.1:{odoo_port}/json/2/project.task/write", {"Authorization": "bearer demo-api-key"}, "POST",
                 {"ids": [odoo_id], "vals": {"name": f"bench odoo {odoo_id}", "priority": "1"}})
        wall2, cpu2, rss2, out2 = measured(cmd, env)
        second = json.loads(out2)
        changed = len(plane_side) + len(odoo_side)
        moved = sum(e.get("updated", 0) for e in second["entities"].values())
        if moved != changed:
            sys.exit(f"the second sync carried {moved} changes, expected {changed}")
        return {"first": figures(len(pairs), wall1, cpu1, rss1, first), "changed": figures(changed, wall2, cpu2, rss2, second),
                "load": os.getloadavg()[0]}
    finally:
        for proc in (odoo, plane):
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [scenario(args) for _ in range(args.repeat)]
    rows = []
    for phase, name in (("first", "first sync"), ("changed", "sync after 1% changed each side")):
        med = lambda key: statistics.median(r[phase][key] for r in runs)  # noqa: E731
        items, wall, engine = med("items"), med("wall_s"), med("engine_s")
        rows.append({"name": name, "items": int(items), "wall_s": round(wall, 3), "items_per_s": round(items / wall),
                     "considered": int(med("considered")), "engine_s": round(engine, 3),
                     "engine_items_per_s": round(med("considered") / engine) if engine else None,
                     "engine_cpu_s": round(med("engine_cpu_s"), 3), "remote_s": round(med("remote_s"), 3),
                     "pull_s": round(med("pull_s"), 3), "cpu_s": round(med("cpu_s"), 3), "peak_rss_mb": round(med("rss_mb"), 1)})
    first, changed = rows
    ratios = [r["changed"]["wall_s"] / r["first"]["wall_s"] for r in runs]
    loads = [round(r["load"], 2) for r in runs]
    result = {"benchmark": "sync", "issues": args.issues, "runs": args.repeat, "rows": rows,
              "ratios": {"changed_vs_first_time": round(changed["wall_s"] / first["wall_s"], 4),
                         "changed_vs_first_time_per_run": [round(x, 4) for x in ratios]},
              "load_average_1min": loads,
              "targets": {"changed_vs_first_time": "<= 0.05", "engine_items_per_s": ">= 20000"},
              "definitions": DEFINITIONS}
    header = (f"{'run':32} {'items':>6} {'wall s':>7} {'items/s':>8} {'consid.':>8} {'engine s':>8} {'engine it/s':>11} "
              f"{'eng cpu s':>9} {'remote s':>8} {'pull s':>7} {'cpu s':>6} {'rss MB':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['name']:32} {r['items']:>6} {r['wall_s']:>7.3f} {r['items_per_s']:>8} {r['considered']:>8} {r['engine_s']:>8.3f} "
              f"{str(r['engine_items_per_s']):>11} {r['engine_cpu_s']:>9.3f} {r['remote_s']:>8.3f} {r['pull_s']:>7.3f} "
              f"{r['cpu_s']:>6.3f} {r['peak_rss_mb']:>7.1f}")
    print(json.dumps(result["ratios"]), f"load average (1 min) after each run: {loads}")
    print("medians of", args.repeat, "runs. What the columns hold:")
    for key in ("wall_s", "engine_s", "engine_cpu_s", "remote_s", "pull_s", "considered", "engine_items_per_s", "items"):
        print(f"  {key}: {DEFINITIONS[key]}")
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "sync.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out / 'sync.json'}")


if __name__ == "__main__":
    main()
