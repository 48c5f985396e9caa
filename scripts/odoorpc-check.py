#!/usr/bin/env python3
"""Stock-client check: talk to an Odoo server (or the odoosync emulator) with the
unmodified OCA library `odoorpc` and print one JSON line.

    python3 scripts/odoorpc-check.py --host 127.0.0.1 --port 8069 \
        --db odoosync_demo --login admin --password admin

stdout (one line): {"uid": 2, "user": "Mitchell Admin", "leads": [...5 rows...], "count": 320}
Exit codes: 0 ok; 1 any failure (exception text on stderr); 3 odoorpc is not
installed (`pip install odoorpc`), so a caller can skip instead of failing.

---------------------------------------------------------------------------
What odoorpc 0.10.1 sends for this script (read from its source: odoorpc/odoo.py,
env.py, models.py, rpc/__init__.py, rpc/jsonrpclib.py; confirmed against a
logging mock server). The emulator must serve all of these.

Transport (every request):
  POST http://<host>:<port>/<path>   via urllib (HTTP/1.1, "Connection: close",
  User-Agent "Python-urllib/3.x", cookie jar enabled but /jsonrpc sets none)
  Content-Type: application/json
  body: {"jsonrpc": "2.0", "method": "call", "params": <params>, "id": <random int 0..1e9>}
  Responses are read with json.load. If the body has a truthy "error" key,
  odoorpc raises RPCError(error["data"]["message"], error), so every error needs
  error.data.message, or odoorpc dies with KeyError. Otherwise it uses body["result"]
  (data.get('result') for execute/execute_kw, so a missing "result" reads as None).
  A non-200 status raises urllib.error.HTTPError.

1. ODOO(host, port=port, protocol='jsonrpc')  (constructor: server version detection)
   POST /web/webclient/version_info
   params: {}
   result must contain "server_version" (for example "19.0"). odoorpc strips every
   character except digits and dots and splits on "." into ints. The major version
   must be >= 10, or login takes the old /web/session/authenticate path instead.
   Real 19.0 answers {"server_version":"19.0","server_version_info":[19,0,0,"final",0,""],
   "server_serie":"19.0","protocol_version":1}.

2. odoo.login(db, login, password)
   a) POST /jsonrpc
      params: {"service": "common", "method": "login", "args": [db, login, password]}
      result: uid (int). A falsy result raises RPCError("Wrong login ID or password").
   b) POST /jsonrpc
      params: {"service": "object", "method": "execute",
               "args": [db, uid, password, "res.users", "context_get"]}
      result: a dict (the user context), for example {"lang": "en_US", "tz": "Europe/Brussels"}.
      odoorpc then sets context["uid"] = uid, so the result must be a JSON object.
      Note: this is service "object" method **execute** (positional), not execute_kw.

3. odoo.env['crm.lead']   (the first access to a model builds a proxy class)
   POST /jsonrpc
   params: {"service": "object", "method": "execute",
            "args": [db, uid, password, "crm.lead", "fields_get"]}
   (no further args: allfields=None, attributes=None, so all fields with all attributes)
   result: {field: {...}}. Every entry needs "type". odoorpc also reads string, required,
   readonly, help, selection, relation, context, domain, size and states if present.
   Unknown types are tolerated.

4. Lead.search_read([], ['name', 'stage_id', 'expected_revenue'], limit=5)
   POST /jsonrpc
   params: {"service": "object", "method": "execute_kw",
            "args": [db, uid, password, "crm.lead", "search_read",
                     [[], ["name", "stage_id", "expected_revenue"]],          <- positional args
                     {"limit": 5, "context": {"lang": "en_US", "tz": "...", "uid": 2}}]}
   The domain AND the field list are positional (search_read(domain, fields, offset,
   limit, order)). The context (auto_context) is always added to kwargs.
   result: list of rows, many2one as [id, "name"].

5. Lead.search_count([])
   params: {"service": "object", "method": "execute_kw",
            "args": [db, uid, password, "crm.lead", "search_count", [[]],
                     {"context": {...}}]}
   result: int

6. odoo.env['res.users'].read([uid], ['name'])
   first a fields_get as in step 3, with "res.users" in place of "crm.lead", then
   params: {"service": "object", "method": "execute_kw",
            "args": [db, uid, password, "res.users", "read", [[uid], ["name"]],
                     {"context": {...}}]}
   result: [{"id": uid, "name": "..."}]

So the emulator needs /web/webclient/version_info, and on /jsonrpc: common.login,
object.execute (context_get, fields_get), and object.execute_kw (search_read with
positional fields, search_count, read), each with kwargs.context accepted.
(`odoo.env.user.name` would instead send execute_kw "read" [[uid], [all non-relational
fields from fields_get]] with kwargs {"context": ..., "load": "_classic_write"}. This
script avoids that on purpose.)
"""
import argparse
import json
import sys


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Check an Odoo endpoint with the stock odoorpc client.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8069)
    ap.add_argument("--db", required=True)
    ap.add_argument("--login", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds (default 30)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        import odoorpc
    except ImportError as exc:
        print("odoorpc is not installed (pip install odoorpc): %s" % exc, file=sys.stderr)
        return 3

    try:
        odoo = odoorpc.ODOO(args.host, port=args.port, protocol="jsonrpc", timeout=args.timeout)
        odoo.login(args.db, args.login, args.password)
        uid = odoo.env.uid
        Lead = odoo.env["crm.lead"]
        fields = ["name", "stage_id", "expected_revenue"]
        # odoorpc model proxies forward any method name over execute_kw, so search_read
        # exists (same as odoo.execute_kw("crm.lead", "search_read", [[]], {"fields": ..., "limit": 5})
        # except that fields travels positionally and the user context is added).
        leads = Lead.search_read([], fields, limit=5)
        count = Lead.search_count([])
        users = odoo.env["res.users"].read([uid], ["name"])
        user = users[0]["name"] if users else None
    except Exception as exc:  # noqa: BLE001 - report anything the client raises
        detail = ""
        info = getattr(exc, "info", None)
        if isinstance(info, dict):
            data = info.get("data") or {}
            detail = " [%s]" % (data.get("name") or info.get("message") or "")
        print("%s: %s%s" % (type(exc).__name__, exc, detail), file=sys.stderr)
        return 1

    out = {"uid": uid, "user": user, "leads": leads, "count": count}
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.stdout.reconfigure(encoding="utf-8")
    except (AttributeError, ValueError):
        pass
    sys.exit(main())
