#!/usr/bin/env python3
"""Writes the project side of the Odoo fixtures: project.project, project.task,
project.task.type, project.milestone, sale.order and account.move, with their fields_get files.

Deterministic (fixed seed, no clock). The fields come from the captured fields_get answers of a
real Odoo 19 server (/work/shared/reference/samples/odoo, or ODOO_SAMPLES); fields that point to
models the fixtures do not hold (analytic accounts, order lines, journals, ...) are left out, so
every many2one the emulator renders resolves. `--check` exits 1 when the files on disk are stale.
"""
import argparse, datetime, json, os, random, sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "fixtures", "odoo")
SAMPLES = os.environ.get("ODOO_SAMPLES", os.path.join(REPO, "..", "shared", "reference", "samples", "odoo"))
MODELS_HERE = {"res.partner", "res.users", "res.company", "res.currency", "crm.team", "crm.lead",
               "project.project", "project.task", "project.task.type", "project.milestone",
               "sale.order", "account.move"}

rng = random.Random(20261122)
T0 = datetime.datetime(2026, 3, 1, 8, 0, 0)
T1 = datetime.datetime(2026, 11, 19, 18, 0, 0)


def sdt(t):
    return t.strftime("%Y-%m-%d %H:%M:%S")


def between(a, b):
    return a + datetime.timedelta(seconds=rng.randint(0, int((b - a).total_seconds())))


def stamps():
    created = between(T0, T1 - datetime.timedelta(days=5))
    written = between(created, T1)
    return sdt(created), sdt(written)


def fdef(ftype, string, relation=None, selection=None, required=False, readonly=False, store=True):
    d = {"readonly": readonly}
    if relation:
        d["relation"] = relation
    d["required"] = required
    if selection is not None:
        d["selection"] = selection
    d["store"] = store
    d["string"] = string
    d["type"] = ftype
    return d


def sample_fields(model, extra=None, drop=()):
    path = os.path.join(SAMPLES, "fields_get_%s.json" % model.replace(".", "_"))
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            sample = json.load(f)
    else:  # fall back to what was generated before
        with open(os.path.join(OUT, "fields", model + ".json"), encoding="utf-8") as f:
            sample = json.load(f)
    fields = {"id": fdef("integer", "ID", readonly=True)}
    for name, spec in sample.items():
        if name in drop or (spec.get("relation") and spec["relation"] not in MODELS_HERE):
            continue
        fields[name] = spec
    for name, spec in (extra or {}).items():
        fields.setdefault(name, spec)
    fields["display_name"] = fdef("char", "Display Name", readonly=True, store=False)
    fields.setdefault("create_date", fdef("datetime", "Created on", readonly=True))
    fields.setdefault("write_date", fdef("datetime", "Last Updated on", readonly=True))
    return fields


USERS = [2, 6, 7, 8, 9]
COMPANY_PARTNERS = [11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 24, 25]
CURRENCIES = [(1, "USD"), (125, "AED"), (2, "EUR")]

STAGES = [("Backlog", 1, False), ("To Do", 2, False), ("In Progress", 3, False), ("Review", 4, False),
          ("Done", 5, True), ("Cancelled", 6, True)]
STAGE_STATE = {"Backlog": "01_in_progress", "To Do": "01_in_progress", "In Progress": "01_in_progress",
               "Review": "02_changes_requested", "Done": "1_done", "Cancelled": "1_canceled"}

# Two projects also exist in the Plane fixtures under the same names (they pair on first sync);
# "Plant Automation" exists only here, "Legacy ERP Migration" is archived.
PROJECTS = [
    ("Website Relaunch", True, "Relaunch of the customer portal and the public site."),
    ("Mobile App", True, "Field app for site engineers: delivery notes and rebar schedules."),
    ("Plant Automation", True, "Bending line automation at the Jebel Ali plant."),
    ("Legacy ERP Migration", False, "Move the last ledgers off the old ERP."),
]

TASK_WORDS = ["Design", "Implement", "Review", "Test", "Document", "Migrate", "Fix", "Plan", "Deploy", "Measure"]
TASK_THINGS = ["login page", "delivery note PDF", "rebar schedule import", "price list sync", "search",
               "dashboard", "offline mode", "push notifications", "bending machine API", "label printer",
               "invoice export", "customer portal", "access rights", "backup job", "audit log",
               "CSV upload", "stock report", "shift planner", "quality checklist", "barcode scan"]


def build():
    data = {}
    stages = []
    for i, (name, seq, fold) in enumerate(STAGES, start=1):
        c, w = stamps()
        stages.append({"id": i, "name": name, "sequence": seq, "fold": fold, "active": True,
                       "project_ids": [1, 2, 3, 4], "user_id": False, "create_date": c, "write_date": w})
    data["project.task.type"] = stages

    projects = []
    for i, (name, active, description) in enumerate(PROJECTS, start=1):
        c, w = stamps()
        start = between(T0, T1).date()
        projects.append({
            "id": i, "name": name, "partner_id": rng.choice(COMPANY_PARTNERS + [False]), "user_id": rng.choice(USERS),
            "date_start": start.isoformat(), "date": (start + datetime.timedelta(days=rng.randint(30, 200))).isoformat(),
            "active": active, "privacy_visibility": rng.choice(["followers", "employees", "portal"]),
            "task_count": 0, "company_id": 1, "allow_billable": rng.random() < 0.5,
            "description": "<p>%s</p>" % description, "last_update_status": rng.choice(["on_track", "at_risk", "to_define"]),
            "is_favorite": False, "sequence": 10 * i, "type_ids": [s["id"] for s in stages], "color": i,
            "create_date": c, "write_date": w,
        })
    data["project.project"] = projects

    milestones = []
    for i, (project, name) in enumerate([(1, "Beta launch"), (1, "Go-live"), (2, "App store release"), (3, "Line 2 commissioning")], start=1):
        c, w = stamps()
        milestones.append({"id": i, "name": name, "project_id": project,
                           "deadline": between(T0, T1 + datetime.timedelta(days=90)).date().isoformat(),
                           "is_reached": rng.random() < 0.3, "create_date": c, "write_date": w})
    data["project.milestone"] = milestones

    tasks = []
    tid = 0
    for project in projects:
        for _ in range(18 if project["active"] else 6):
            tid += 1
            c, w = stamps()
            stage = rng.choice(stages)
            deadline = False
            if rng.random() < 0.6:
                deadline = sdt(between(T0, T1 + datetime.timedelta(days=60)).replace(hour=rng.choice([9, 12, 16]), minute=0, second=0))
            milestone = [m["id"] for m in milestones if m["project_id"] == project["id"]]
            description = rng.choice([False, "", "<p>%s</p>" % rng.choice(["Agreed with the site team.", "See the <b>spec</b> attached.", "Customer asked for this twice.", "Blocked until the API key arrives."])])
            tasks.append({
                "id": tid, "name": "%s %s" % (rng.choice(TASK_WORDS), rng.choice(TASK_THINGS)),
                "project_id": project["id"], "stage_id": stage["id"],
                "user_ids": sorted(rng.sample(USERS, rng.choice([0, 1, 1, 2]))),
                "priority": rng.choice(["0", "0", "1", "1", "2", "3"]), "state": STAGE_STATE[stage["name"]],
                "date_deadline": deadline, "date_assign": False, "date_end": w if stage["fold"] else False,
                "date_last_stage_update": w, "parent_id": False, "child_ids": [],
                "milestone_id": rng.choice(milestone) if milestone and rng.random() < 0.4 else False,
                "partner_id": project["partner_id"], "allocated_hours": float(rng.choice([0, 2, 4, 8, 16])),
                "description": description, "sequence": 10, "active": project["active"] and rng.random() > 0.05,
                "company_id": 1, "is_closed": stage["fold"], "personal_stage_type_id": False, "depend_on_ids": [],
                "email_cc": False, "create_date": c, "write_date": w,
            })
    # A parent with two sub-tasks.
    tasks[1]["parent_id"] = tasks[0]["id"]
    tasks[2]["parent_id"] = tasks[0]["id"]
    tasks[0]["child_ids"] = [tasks[1]["id"], tasks[2]["id"]]
    for project in projects:
        project["task_count"] = sum(1 for t in tasks if t["project_id"] == project["id"] and t["active"])
    data["project.task"] = tasks

    orders = []
    for i in range(1, 15):
        c, w = stamps()
        currency = rng.choice(CURRENCIES)
        untaxed = float(rng.randrange(2_000, 400_000, 250))
        tax = round(untaxed * 0.05, 2)
        state = rng.choice(["draft", "sent", "sale", "sale", "cancel"])
        orders.append({
            "id": i, "name": "S%05d" % i, "state": state, "partner_id": rng.choice(COMPANY_PARTNERS),
            "date_order": c, "validity_date": (datetime.datetime.strptime(c, "%Y-%m-%d %H:%M:%S") + datetime.timedelta(days=30)).date().isoformat(),
            "commitment_date": False, "amount_untaxed": untaxed, "amount_tax": tax, "amount_total": untaxed + tax,
            "currency_id": currency[0], "user_id": rng.choice(USERS), "team_id": rng.choice([1, 2]),
            "invoice_status": "to invoice" if state == "sale" else "no", "invoice_ids": [],
            "client_order_ref": rng.choice([False, "PO-%d" % rng.randint(1000, 9999)]), "company_id": 1,
            "opportunity_id": False, "locked": False, "note": False, "create_date": c, "write_date": w,
        })
    data["sale.order"] = orders

    moves = []
    for i in range(1, 15):
        order = orders[i - 1] if i <= len(orders) and orders[i - 1]["state"] == "sale" else None
        c, w = stamps()
        untaxed = order["amount_untaxed"] if order else float(rng.randrange(1_000, 120_000, 50))
        tax = round(untaxed * 0.05, 2)
        state = rng.choice(["draft", "posted", "posted", "posted", "cancel"])
        move_type = "out_refund" if i % 7 == 0 else "out_invoice"
        invoice_date = datetime.datetime.strptime(c, "%Y-%m-%d %H:%M:%S").date()
        payment = rng.choice(["not_paid", "partial", "paid"]) if state == "posted" else "not_paid"
        total = untaxed + tax
        residual = {"paid": 0.0, "partial": round(total / 2, 2), "not_paid": total}[payment]
        prefix = "RINV" if move_type == "out_refund" else "INV"
        moves.append({
            "id": i, "name": ("%s/2026/%05d" % (prefix, i)) if state != "draft" else "/",
            "move_type": move_type, "state": state,
            "partner_id": order["partner_id"] if order else rng.choice(COMPANY_PARTNERS),
            "invoice_date": invoice_date.isoformat() if state != "draft" else False,
            "invoice_date_due": (invoice_date + datetime.timedelta(days=30)).isoformat(), "date": invoice_date.isoformat(),
            "amount_untaxed": untaxed, "amount_tax": tax, "amount_total": total, "amount_residual": residual,
            "payment_state": payment, "currency_id": order["currency_id"] if order else 125, "ref": False,
            "invoice_origin": order["name"] if order else False, "company_id": 1,
            "invoice_user_id": rng.choice(USERS), "narration": False, "create_date": c, "write_date": w,
        })
        if order:
            order["invoice_ids"] = [i]
    data["account.move"] = moves
    return data


def build_fields():
    return {
        "project.task.type": sample_fields("project.task.type", extra={
            "active": fdef("boolean", "Active"), "create_date": fdef("datetime", "Created on", readonly=True)}),
        "project.project": sample_fields("project.project"),
        "project.task": sample_fields("project.task"),
        "project.milestone": {
            "id": fdef("integer", "ID", readonly=True),
            "name": fdef("char", "Name", required=True),
            "project_id": fdef("many2one", "Project", relation="project.project", required=True),
            "deadline": fdef("date", "Deadline"),
            "is_reached": fdef("boolean", "Reached"),
            "display_name": fdef("char", "Display Name", readonly=True, store=False),
            "create_date": fdef("datetime", "Created on", readonly=True),
            "write_date": fdef("datetime", "Last Updated on", readonly=True),
        },
        "sale.order": sample_fields("sale.order"),
        "account.move": sample_fields("account.move"),
    }


def validate(data, fields):
    errors = []
    ids = {m: {r["id"] for r in rows} for m, rows in data.items()}
    for model, rows in data.items():
        for row in rows:
            for name, value in row.items():
                spec = fields[model].get(name)
                if spec is None:
                    errors.append("%s %d: %s is not a field" % (model, row["id"], name))
                elif spec["type"] == "many2one" and value is not False and spec["relation"] in ids and value not in ids[spec["relation"]]:
                    errors.append("%s %d: %s points to a missing %s %r" % (model, row["id"], name, spec["relation"], value))
            if row["write_date"] < row["create_date"]:
                errors.append("%s %d: written before created" % (model, row["id"]))
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the files on disk differ")
    args = ap.parse_args()
    data, fields = build(), build_fields()
    errors = validate(data, fields)
    if errors:
        print("\n".join(errors[:50]), file=sys.stderr)
        return 1
    files = {}
    for model in sorted(data):
        files[os.path.join(OUT, model + ".json")] = json.dumps(data[model], indent=1, ensure_ascii=False) + "\n"
        files[os.path.join(OUT, "fields", model + ".json")] = json.dumps(fields[model], indent=1, ensure_ascii=False) + "\n"
    if args.check:
        stale = [p for p, text in files.items() if not os.path.exists(p) or open(p, encoding="utf-8").read() != text]
        if stale:
            print("out of date: " + ", ".join(os.path.relpath(p, REPO) for p in stale), file=sys.stderr)
            return 1
        return 0
    for path, text in files.items():
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print("wrote %d files: %s" % (len(files), ", ".join("%s %d" % (m, len(r)) for m, r in sorted(data.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
