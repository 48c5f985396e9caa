#!/usr/bin/env python3
"""Writes fixtures/plane/: a Plane workspace for the emulator, tests and `demo`.

Two projects (WEB and MOB) with Plane's default states plus one custom state, labels,
members of every role, 44 listed issues covering every priority and state group (plus an
archived and a draft one, which Plane's lists hide), a cycle per project and a module.
Objects are shaped like the answers recorded from Plane 1.3 (../shared/reference/samples/plane/).
Deterministic: the same run writes the same files.
"""
import json, pathlib, random, uuid
from datetime import datetime, timedelta, timezone

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "fixtures" / "plane"
rng = random.Random(20261121)


def uid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def key():
    return "plane_api_" + "".join(rng.choice("0123456789abcdef") for _ in range(32))


base = datetime(2026, 10, 1, 9, 0, 0, tzinfo=timezone.utc)
clock = [base]


def stamp(minutes=37):
    clock[0] += timedelta(minutes=minutes, microseconds=rng.randrange(1, 999_999))
    return clock[0].strftime("%Y-%m-%dT%H:%M:%S.%fZ")


workspace_id = uid()
users = [
    dict(id=uid(), first_name="Ada", last_name="Admin", email="admin@acme.test", display_name="ada", role=20, timezone="UTC", api_key=key()),
    dict(id=uid(), first_name="Bob", last_name="Builder", email="bob@acme.test", display_name="bob", role=15, timezone="UTC", api_key=key()),
    dict(id=uid(), first_name="Cleo", last_name="Guest", email="cleo@acme.test", display_name="cleo", role=5, timezone="Europe/Paris", api_key=key()),
]
ada, bob, cleo = (u["id"] for u in users)


def project(name, ident, description, icon, members):
    created = stamp()
    return dict(
        id=uid(), created_at=created, updated_at=stamp(3), deleted_at=None, name=name, description=description,
        description_text=None, description_html=None, network=2, identifier=ident, emoji=None, icon_prop=None,
        module_view=True, cycle_view=True, issue_views_view=False, page_view=True, intake_view=False,
        is_time_tracking_enabled=False, is_issue_type_enabled=False, guest_view_all_features=False, cover_image=None,
        cover_image_url=None, archive_in=0, close_in=0, logo_props={"icon": {"name": icon, "color": "#5e6ad2"}, "in_use": "icon"},
        archived_at=None, timezone="UTC", external_source=None, external_id=None, created_by=ada, updated_by=ada,
        workspace=workspace_id, default_assignee=None, project_lead=None, cover_image_asset=None, estimate=None,
        default_state=None, members=members)


projects = [
    project("Website", "WEB", "Marketing website and customer portal", "language", {ada: 20, bob: 15, cleo: 5}),
    project("Mobile App", "MOB", "iOS and Android app", "smartphone", {ada: 20, bob: 15}),
]

states, labels, issues, cycles, modules = [], [], [], [], []
by_group = {}
for p in projects:
    created = p["created_at"]
    defaults = [("Backlog", "#60646C", 15000, "backlog", True), ("Todo", "#60646C", 25000, "unstarted", False),
                ("In Progress", "#F59E0B", 35000, "started", False), ("Done", "#46A758", 45000, "completed", False),
                ("Cancelled", "#9AA4BC", 55000, "cancelled", False), ("Triage", "#4E5355", 65000, "triage", False)]
    if p["identifier"] == "WEB":
        defaults.append(("In Review", "#aa00aa", 70000, "started", False))
    for name, color, seq, group, default in defaults:
        s = dict(id=uid(), created_at=created, updated_at=created, deleted_at=None, name=name, description="", color=color,
                 slug="in-review" if name == "In Review" else "", sequence=float(seq), group=group, is_triage=group == "triage",
                 default=default, external_source=None, external_id=None, created_by=ada, updated_by=None, project=p["id"],
                 workspace=workspace_id)
        states.append(s)
        if group != "triage":
            by_group.setdefault(p["id"], {}).setdefault(group, []).append(s["id"])
    names = [("bug", "#e11d48", "Something is broken"), ("feature", "#2563eb", ""), ("frontend", "#16a34a", "")] \
        if p["identifier"] == "WEB" else [("bug", "#e11d48", "Something is broken"), ("ios", "#111827", ""), ("android", "#16a34a", "")]
    for n, (name, color, description) in enumerate(names):
        labels.append(dict(id=uid(), created_at=stamp(1), updated_at=clock[0].strftime("%Y-%m-%dT%H:%M:%S.%fZ"), deleted_at=None,
                           name=name, description=description, color=color, sort_order=65535.0 + 10000 * n, external_source=None,
                           external_id=None, created_by=ada, updated_by=None, workspace=workspace_id, project=p["id"], parent=None))

titles = {
    "WEB": ["Fix login redirect loop", "Cookie banner covers the footer", "Add pricing page FAQ", "Blog images load slowly",
            "Contact form sends twice", "Dark mode for docs", "Broken link on careers page", "Upgrade analytics snippet",
            "Search results ignore accents", "Newsletter double opt-in", "Customer portal: invoice download",
            "Portal: password reset email", "Landing page A/B test", "Accessibility audit fixes", "Sitemap misses blog tags",
            "404 page redesign", "Localise checkout to German", "Status page link in header", "Speed up home page LCP",
            "Remove legacy jQuery", "Cache headers for fonts", "Fix RSS feed dates", "Privacy policy update", "Footer social icons"],
    "MOB": ["Crash on launch on Android 15", "Push notifications not delivered", "Offline mode for orders", "Biometric login",
            "Order list pagination", "Tablet layout", "Deep links from email", "App icon refresh", "Crash reporter integration",
            "Sync indicator spinner never stops", "Dark mode contrast", "Store screenshots", "In-app review prompt",
            "Reduce APK size", "iOS widget", "Camera permission copy", "Upgrade to Swift 6", "Invoice PDF preview",
            "Localise to Spanish", "Accessibility labels"],
}
priorities = ["urgent", "high", "medium", "low", "none"]
groups = ["backlog", "unstarted", "started", "completed", "cancelled"]
label_ids = {p["id"]: [l["id"] for l in labels if l["project"] == p["id"]] for p in projects}
members = {p["id"]: [u for u, role in p["members"].items() if role >= 15] for p in projects}

for p in projects:
    for n, title in enumerate(titles[p["identifier"]]):
        created = stamp(rng.randrange(20, 200))
        group = groups[(n + n // 5) % 5]
        state = rng.choice(by_group[p["id"]][group])
        start = target = None
        if n % 3 == 0:
            start_day = datetime(2026, 11, 1) + timedelta(days=rng.randrange(0, 20))
            start = start_day.strftime("%Y-%m-%d")
            target = (start_day + timedelta(days=rng.randrange(3, 30))).strftime("%Y-%m-%d")
        updated = (datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(hours=rng.randrange(0, 48), microseconds=rng.randrange(1, 999999)))
        updated_text = updated.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        issues.append(dict(
            id=uid(), type_id=None, created_at=created, updated_at=updated_text, deleted_at=None, point=None, name=title,
            description_html=f"<p>{title}. Reported by the {'web' if p['identifier'] == 'WEB' else 'mobile'} team.</p>",
            description_binary=None, priority=priorities[n % 5], start_date=start, target_date=target, sequence_id=n + 1,
            sort_order=65535.0 + 10000 * n, completed_at=updated_text if group == "completed" else None, archived_at=None,
            is_draft=False, external_source=None, external_id=None, created_by=ada, updated_by=bob if n % 2 else None,
            project=p["id"], workspace=workspace_id, parent=None, state=state, estimate_point=None, type=None,
            assignees=[members[p["id"]][n % len(members[p["id"]])]] if n % 4 != 3 else [],
            labels=[label_ids[p["id"]][n % 3]] if n % 2 == 0 else []))

# Hidden from Plane's lists: an archived issue and a draft (WEB).
web, mob = projects
for name, archived, draft in [("Old launch checklist", True, False), ("Draft: holiday banner", False, True)]:
    created = stamp(5)
    seq = max(i["sequence_id"] for i in issues if i["project"] == web["id"]) + 1
    issues.append(dict(
        id=uid(), type_id=None, created_at=created, updated_at=created, deleted_at=None, point=None, name=name,
        description_html="<p></p>", description_binary=None, priority="none", start_date=None, target_date=None, sequence_id=seq,
        sort_order=65535.0 + 10000 * seq, completed_at=None, archived_at=stamp(1) if archived else None, is_draft=draft,
        external_source=None, external_id=None, created_by=ada, updated_by=None, project=web["id"], workspace=workspace_id,
        parent=None, state=by_group[web["id"]]["backlog"][0], estimate_point=None, type=None, assignees=[], labels=[]))

listed = lambda p: [i for i in issues if i["project"] == p["id"] and not i["archived_at"] and not i["is_draft"]]


def cycle(p, name, description, start, end, members_):
    created = stamp(2)
    return dict(id=uid(), created_at=created, updated_at=created, deleted_at=None, name=name, description=description,
                start_date=start, end_date=end, view_props={}, sort_order=65535.0, external_source=None, external_id=None,
                progress_snapshot={}, archived_at=None, logo_props={}, timezone="UTC", version=1, created_by=ada, updated_by=None,
                project=p["id"], workspace=workspace_id, owned_by=ada, issues=members_)


cycles.append(cycle(web, "Release 2.0", "Everything that ships with the 2.0 site", "2026-11-02T00:00:01Z", "2031-03-31T23:59:00Z",
                    [i["id"] for i in listed(web)[:6]]))
cycles.append(cycle(mob, "Sprint 7", "Two-week sprint", "2026-11-16T00:00:01Z", "2026-12-06T23:59:00Z",
                    [i["id"] for i in listed(mob)[2:7]]))
created = stamp(2)
modules.append(dict(id=uid(), created_at=created, updated_at=created, deleted_at=None, name="Customer portal",
                    description="Invoices and account pages", description_text=None, description_html=None, start_date="2026-11-01",
                    target_date="2027-01-31", status="in-progress", view_props={}, sort_order=65535.0, external_source=None,
                    external_id=None, archived_at=None, logo_props={}, created_by=ada, updated_by=None, project=web["id"],
                    workspace=workspace_id, lead=ada, members=[ada, bob],
                    issues=[i["id"] for i in listed(web) if "ortal" in i["name"] or "nvoice" in i["name"]] + [listed(web)[0]["id"]]))

out.mkdir(parents=True, exist_ok=True)
files = {
    "workspace.json": dict(id=workspace_id, slug="acme", name="Acme Corp", users=users),
    "projects.json": projects, "states.json": states, "labels.json": labels, "issues.json": issues,
    "cycles.json": cycles, "modules.json": modules,
}
for name, value in files.items():
    (out / name).write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
print(f"wrote {len(files)} files to {out}: {len(issues)} issues ({sum(len(listed(p)) for p in projects)} listed), "
      f"{len(states)} states, {len(labels)} labels, {len(cycles)} cycles, {len(modules)} modules")
