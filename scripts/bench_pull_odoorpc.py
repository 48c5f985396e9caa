#!/usr/bin/env python3
"""Benchmark baseline: "the script a user would otherwise write" to copy Odoo CRM
leads into SQLite with the stock odoorpc client.

    python3 scripts/bench_pull_odoorpc.py --host 127.0.0.1 --port 8069 \
        --db odoosync_demo --login admin --password admin --sqlite /tmp/leads.sqlite --page 1000

It logs in, then reads crm.lead in pages with search_read (order "id asc", offset/limit,
context active_test=False so archived/lost leads are included), and upserts each page
into a `leads` table (executemany INSERT ... ON CONFLICT(odoo_id) DO UPDATE, one commit
per page). It stops at the first page shorter than --page. At the end it prints one JSON
line: {"leads": N, "pages": P, "seconds": wall}. `seconds` is measured from before
connecting to after the last commit. N is the number of rows received, P the number of
search_read calls that returned rows.

Requests sent (see scripts/odoorpc-check.py for the envelopes):
  /web/webclient/version_info; /jsonrpc common.login; object.execute res.users.context_get;
  object.execute crm.lead.fields_get; then per page
  object.execute_kw crm.lead.search_read [[], [fields...]]
      {"offset": o, "limit": page, "order": "id asc",
       "context": {<user context>, "active_test": false}}

Exit codes: 0 ok, 1 failure (message on stderr), 3 odoorpc not installed.
"""
import argparse
import json
import sqlite3
import sys
import time

# The fields odoosync asks for (Sources/OdooSyncEngine/ModelSpec.swift, LeadFields.all).
FIELDS = [
    "id", "name", "type", "stage_id", "user_id", "partner_id", "partner_name", "contact_name",
    "email_from", "phone", "expected_revenue", "probability", "priority", "tag_ids",
    "date_deadline", "create_date", "write_date", "active", "description",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS leads (
    odoo_id          INTEGER PRIMARY KEY,
    name             TEXT,
    type             TEXT,
    stage_id         INTEGER,
    stage_name       TEXT,
    user_id          INTEGER,
    user_name        TEXT,
    partner_id       INTEGER,
    partner_display  TEXT,
    partner_name     TEXT,
    contact_name     TEXT,
    email_from       TEXT,
    phone            TEXT,
    expected_revenue REAL,
    probability      REAL,
    priority         TEXT,
    tag_ids          TEXT,
    date_deadline    TEXT,
    create_date      TEXT,
    write_date       TEXT,
    active           INTEGER,
    description      TEXT,
    raw              TEXT NOT NULL,
    synced_at        TEXT NOT NULL
)
"""

COLUMNS = [
    "odoo_id", "name", "type", "stage_id", "stage_name", "user_id", "user_name", "partner_id",
    "partner_display", "partner_name", "contact_name", "email_from", "phone", "expected_revenue",
    "probability", "priority", "tag_ids", "date_deadline", "create_date", "write_date", "active",
    "description", "raw", "synced_at",
]

UPSERT = "INSERT INTO leads (%s) VALUES (%s) ON CONFLICT(odoo_id) DO UPDATE SET %s" % (
    ", ".join(COLUMNS),
    ", ".join("?" for _ in COLUMNS),
    ", ".join("%s = excluded.%s" % (c, c) for c in COLUMNS if c != "odoo_id"),
)


def m2o(value):
    """[id, "name"] -> (id, name); false -> (None, None)."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[0], value[1]
    return None, None


def txt(value):
    """Odoo's false-for-empty -> NULL."""
    return None if value is False else value


def to_row(rec, synced_at):
    stage_id, stage_name = m2o(rec.get("stage_id"))
    user_id, user_name = m2o(rec.get("user_id"))
    partner_id, partner_display = m2o(rec.get("partner_id"))
    return (
        rec["id"],
        txt(rec.get("name")),
        txt(rec.get("type")),
        stage_id, stage_name,
        user_id, user_name,
        partner_id, partner_display,
        txt(rec.get("partner_name")),
        txt(rec.get("contact_name")),
        txt(rec.get("email_from")),
        txt(rec.get("phone")),
        rec.get("expected_revenue"),
        rec.get("probability"),
        txt(rec.get("priority")),
        json.dumps(rec.get("tag_ids") or []),
        txt(rec.get("date_deadline")),
        txt(rec.get("create_date")),
        txt(rec.get("write_date")),
        1 if rec.get("active") else 0,
        txt(rec.get("description")),
        json.dumps(rec, ensure_ascii=False, sort_keys=True),
        synced_at,
    )


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Baseline: pull crm.lead into SQLite with odoorpc.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8069)
    ap.add_argument("--db", required=True)
    ap.add_argument("--login", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--sqlite", required=True, metavar="PATH", help="SQLite file to create/update")
    ap.add_argument("--page", type=int, default=1000, help="rows per search_read call (default 1000)")
    ap.add_argument("--timeout", type=float, default=300.0, help="per-request timeout in seconds")
    args = ap.parse_args(argv)
    if args.page <= 0:
        ap.error("--page must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        import odoorpc
    except ImportError as exc:
        print("odoorpc is not installed (pip install odoorpc): %s" % exc, file=sys.stderr)
        return 3

    started = time.perf_counter()
    total = pages = 0
    try:
        db = sqlite3.connect(args.sqlite)
        db.execute(SCHEMA)
        db.commit()

        odoo = odoorpc.ODOO(args.host, port=args.port, protocol="jsonrpc", timeout=args.timeout)
        odoo.login(args.db, args.login, args.password)
        Lead = odoo.env["crm.lead"].with_context(active_test=False)

        offset = 0
        while True:
            rows = Lead.search_read([], FIELDS, offset=offset, limit=args.page, order="id asc")
            if not rows:
                break
            synced_at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            db.executemany(UPSERT, [to_row(r, synced_at) for r in rows])
            db.commit()
            pages += 1
            total += len(rows)
            offset += len(rows)
            if len(rows) < args.page:
                break
        db.close()
    except Exception as exc:  # noqa: BLE001
        print("%s: %s" % (type(exc).__name__, exc), file=sys.stderr)
        return 1

    seconds = time.perf_counter() - started
    print(json.dumps({"leads": total, "pages": pages, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
