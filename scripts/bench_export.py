#!/usr/bin/env python3
"""Export benchmark, run by `scripts/bench export` against a private PostgreSQL it starts.

A mirror holding N sync mappings and N events (what a busy Plane sync leaves behind) is
exported by `odoosync export` into a fresh database; in the same run, the same rows are loaded
into another fresh database with the same schema by `psql \\copy` from CSV files, the fastest
way PostgreSQL offers. Both are timed as whole processes; the median of --repeat runs is
reported as rows/s, with odoosync's rate as a fraction of COPY's (target >= 0.5).
"""
import argparse, csv, json, os, pathlib, shutil, sqlite3, statistics, subprocess, sys, tempfile, time, uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from bench import measured  # noqa: E402

MAPPING_COLUMNS = ["id", "source_system", "source_id", "source_type", "target_id", "target_type", "last_synced_at",
                   "sync_version", "sync_direction", "status", "last_error", "error_count", "created_at", "updated_at"]
EVENT_COLUMNS = ["id", "run_id", "level", "category", "event_type", "message", "system", "component", "function_name",
                 "metadata", "context", "duration_ms", "timestamp", "created_at"]


def uuid7(n, kind):
    """Time-ordered ids like odoosync's own: 48 bits of milliseconds, then a counter."""
    millis = 1_790_000_000_000 + n
    return str(uuid.UUID(int=(millis << 80) | (0x7 << 76) | (kind << 64) | (0x8 << 60) | n))


def make_mirror(bin_path, path, rows):
    subprocess.run([bin_path, "init", "--db", path], check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(path)
    run_id = uuid7(0, 3)
    db.execute("INSERT INTO runs (id, system, job_name, status, started_at, ended_at, records_processed) "
               "VALUES (?, 'odoo', 'sync plane', 'success', '2026-11-20T09:00:00.000Z', '2026-11-20T09:30:00.000Z', ?)",
               (run_id, rows))
    stamp = lambda i: "2026-11-20T09:%02d:%02d.%03dZ" % (i // 60000 % 60, i // 1000 % 60, i % 1000)
    db.executemany(
        "INSERT INTO sync_mappings (id, source_system, source_id, source_type, target_id, target_type, last_synced_at, "
        "sync_version, sync_direction, status, last_error, error_count, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'bidirectional', ?, ?, ?, ?, ?)",
        ((uuid7(i, 1), "plane" if i % 2 else "odoo", str(uuid.UUID(int=i * 7919 + 1)), "issue" if i % 2 else "project.task",
          str(40000 + i), "project.task" if i % 2 else "issue", stamp(i), 1 + i % 5,
          "error" if i % 50 == 0 else "active", "Odoo answered 502" if i % 50 == 0 else None, 1 if i % 50 == 0 else 0,
          stamp(i), stamp(i)) for i in range(rows)))
    db.executemany(
        "INSERT INTO events (id, seq, run_id, level, category, event_type, message, system, component, function_name, "
        "metadata, context, duration_ms, timestamp, created_at) VALUES (?, ?, ?, ?, 'plane-sync', ?, ?, 'odoo', 'sync', ?, ?, '{}', ?, ?, ?)",
        ((uuid7(i, 5), i + 1, run_id, "warn" if i % 20 == 0 else "info", "issue_synced",
          f"issue {i} synced to project.task {40000 + i}", "applyQueueItem",
          json.dumps({"issue_id": str(uuid.UUID(int=i * 7919 + 1)), "task_id": 40000 + i, "fields": ["name", "stage_id"]}),
          3.5 + i % 40, stamp(i), stamp(i)) for i in range(rows)))
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return run_id


def write_csv(path, mirror, table, columns, transform):
    db = sqlite3.connect(mirror)
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        for row in db.execute(f"SELECT {', '.join(columns)} FROM {table}"):
            out.writerow(transform(row))
    db.close()


def psql(url, *args):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, *args], check=True, stdout=subprocess.DEVNULL)


def fresh_database(args, name, work):
    """An empty database with the schema `export --init-schema` creates (made by a tiny mirror)."""
    psql(args.pg_url, "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}")
    url = args.pg_url.rsplit("/", 1)[0] + f"/{name}?sslmode=disable"
    empty = str(work / f"{name}-schema.sqlite")
    subprocess.run([args.bin, "init", "--db", empty], check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, SUPABASE_DB_URL=url)
    subprocess.run([args.bin, "export", "--init-schema", "--db", empty], check=True, env=env, stdout=subprocess.DEVNULL)
    return url


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--rows", type=int, default=100_000, help="mappings, and as many events")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; the median is reported")
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="odoosync-bench-export-"))
    try:
        template = str(work / "mirror.sqlite")
        run_id = make_mirror(args.bin, template, args.rows)
        mappings_csv, events_csv = str(work / "mappings.csv"), str(work / "events.csv")
        blank = lambda v: "" if v is None else v
        write_csv(mappings_csv, template, "sync_mappings", MAPPING_COLUMNS, lambda r: [blank(v) for v in r])
        write_csv(events_csv, template, "events", EVENT_COLUMNS, lambda r: [blank(v) for v in r])
        total = 2 * args.rows

        samples = {"odoosync": [], "copy": []}
        for i in range(args.repeat):
            url = fresh_database(args, f"bench_odoosync_{i}", work)
            mirror = str(work / f"run{i}.sqlite")
            shutil.copyfile(template, mirror)
            env = dict(os.environ, SUPABASE_DB_URL=url)
            wall, cpu, rss, out = measured([args.bin, "export", "--db", mirror, "--json", "--batch-size", str(args.batch_size)], env)
            report = json.loads(out)
            sent = report["tables"]["plane.sync_mappings"]["inserted"] + report["tables"]["ops.events"]["inserted"]
            if sent != total:
                sys.exit(f"odoosync exported {sent} of {total} rows: {out}")
            samples["odoosync"].append((wall, cpu, rss))

            url = fresh_database(args, f"bench_copy_{i}", work)
            psql(url, "-c", f"INSERT INTO ops.runs (id, system, job_name, status) VALUES ('{run_id}', 'odoo', 'sync plane', 'success')")
            copy = [f"\\copy plane.sync_mappings ({', '.join(MAPPING_COLUMNS)}) FROM '{mappings_csv}' WITH (FORMAT csv)",
                    f"\\copy ops.events ({', '.join(EVENT_COLUMNS)}) FROM '{events_csv}' WITH (FORMAT csv)"]
            wall, cpu, rss, _ = measured(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", copy[0], "-c", copy[1]])
            samples["copy"].append((wall, cpu, rss))
            psql(args.pg_url, "-c", f"DROP DATABASE bench_odoosync_{i}", "-c", f"DROP DATABASE bench_copy_{i}")

        rows = []
        for name, label in (("odoosync", "odoosync export"), ("copy", "psql \\copy from CSV")):
            ordered = sorted(samples[name])
            wall, cpu, rss = ordered[len(ordered) // 2]
            rows.append({"name": label, "rows": total, "wall_s": round(wall, 3), "rows_per_s": round(total / wall),
                         "cpu_s": round(cpu, 3), "peak_rss_mb": round(rss, 1), "runs": args.repeat})
        ratio = round(rows[0]["rows_per_s"] / rows[1]["rows_per_s"], 2)
        result = {"benchmark": "export", "mappings": args.rows, "events": args.rows, "batch_size": args.batch_size,
                  "rows": rows, "ratios": {"odoosync_vs_copy_rate": ratio}, "targets": {"odoosync_vs_copy_rate": ">= 0.5"}}

        header = f"{'contender':24} {'rows':>8} {'wall s':>8} {'rows/s':>9} {'cpu s':>7} {'rss MB':>7}"
        print(header)
        print("-" * len(header))
        for r in rows:
            print(f"{r['name']:24} {r['rows']:>8} {r['wall_s']:>8.3f} {r['rows_per_s']:>9} {r['cpu_s']:>7.3f} {r['peak_rss_mb']:>7.1f}")
        print(f"odoosync / COPY rate: {ratio} (target >= 0.5)")
        out = ROOT / "bench-results"
        out.mkdir(exist_ok=True)
        (out / "export.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"written to {out / 'export.json'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
