#!/usr/bin/env python3
"""Generate the Odoo fixture data in fixtures/odoo/ (deterministic).

Usage:
    python3 scripts/gen-odoo-fixtures.py [--out fixtures/odoo] [--check]

Writes one JSON array per model (`<model>.json`) in *stored* form:
  * scalar fields exactly as Odoo 19 `read` returns them (char/text/html: string or
    false; date "YYYY-MM-DD" or false; datetime "YYYY-MM-DD HH:MM:SS" UTC or false;
    selection keys as strings; float/monetary as JSON floats),
  * many2one fields as a bare integer id or false (the emulator renders
    `[id, "display name"]` from the related model),
  * one2many / many2many fields as lists of ints,
and `fields/<model>.json` with the `fields_get` answer for each model.

Everything comes from random.Random(20261121) and fixed tables below; no clock,
no set iteration, so the output is byte-identical on every run.
`--check` regenerates in memory and exits 1 if the files on disk differ.
"""
import argparse
import datetime as dt
import json
import os
import re
import sys
import unicodedata

import random

SEED = 20261121
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(REPO, "fixtures", "odoo")
# Captured fields_get answers of a real Odoo 19 server; when that directory is not
# available the generator falls back to the fields files it wrote earlier
# (the transformation below is idempotent on them).
SAMPLES = os.environ.get("ODOO_SAMPLES", "/work/shared/reference/samples/odoo")

rng = random.Random(SEED)

# ----------------------------------------------------------------------------
# time helpers
# ----------------------------------------------------------------------------
FMT_DT = "%Y-%m-%d %H:%M:%S"
FMT_D = "%Y-%m-%d"
T_START = dt.datetime(2025, 1, 1, 0, 0, 0)
T_END = dt.datetime(2026, 11, 20, 23, 59, 59)
# A batch write (mass update / import): >= 30 leads share this exact second.
BATCH_WRITE = dt.datetime(2026, 10, 14, 6, 30, 12)
# "today" for deadlines (the reference capture was taken on 2026-11-21)
TODAY = dt.date(2026, 11, 21)


def sdt(t):
    return t.strftime(FMT_DT) if t else False


def sd(d):
    return d.strftime(FMT_D) if d else False


def rand_between(a, b):
    """Uniform datetime in [a, b], whole seconds."""
    span = int((b - a).total_seconds())
    if span <= 0:
        return a
    return a + dt.timedelta(seconds=rng.randint(0, span))


def rand_after(a, max_days, end=T_END):
    b = min(end, a + dt.timedelta(days=max_days))
    return rand_between(a, b)


def created_and_written(start=T_START, end=T_END, touched=0.7, max_days=200):
    c = rand_between(start, end)
    if rng.random() < touched:
        w = rand_after(c, max_days, end)
    else:
        w = c
    return c, w


# ----------------------------------------------------------------------------
# static reference tables
# ----------------------------------------------------------------------------
# (name, is_won, fold, probability used for leads in this stage, lead count)
STAGES = [
    ("New", False, False, 10.0, 44),
    ("Telephonic Enquiries", False, False, 10.0, 30),
    ("Qualified", False, False, 20.0, 32),
    ("RFI", False, False, 25.0, 20),
    ("Addendums", False, False, 25.0, 10),
    ("Estimation-Ben", False, False, 30.0, 20),
    ("Estimation-Karthick(Mavericks)", False, False, 30.0, 18),
    ("QC - Ben", False, False, 40.0, 12),
    ("Hot Enquiries", False, False, 60.0, 16),
    ("Quotation Priority", False, False, 50.0, 12),
    ("Quotation Bids", False, False, 45.0, 24),
    ("Shop Drawing", False, False, 80.0, 10),
    ("Shop Drawing Sent for Approval", False, False, 85.0, 8),
    ("Fabrication In Shop", False, False, 90.0, 8),
    ("Delivered/Pickup Done", True, False, 100.0, 12),
    ("Ready To Dispatch/Pickup", True, False, 100.0, 6),
    ("Won", True, False, 100.0, 22),
    ("Loss", False, True, 0.0, 16),
    ("Merged", False, True, 0.0, 6),
    ("No rebars(Our of Scope)", False, True, 0.0, 9),
]
LOST_STAGE_NAMES = {"Loss", "Merged", "No rebars(Our of Scope)"}
# archived (lost) leads per stage name; total 15
ARCHIVED_PER_STAGE = {
    "Loss": 5, "Merged": 3, "No rebars(Our of Scope)": 2,
    "New": 1, "Qualified": 1, "RFI": 1, "Quotation Bids": 1, "Hot Enquiries": 1,
}

# Country ids 2, 75 and 233 are the real Odoo ids (seen in the samples);
# the others are illustrative.
COUNTRIES = [
    (2, "United Arab Emirates", "AE"),
    (57, "Germany", "DE"),
    (75, "France", "FR"),
    (104, "India", "IN"),
    (169, "Oman", "OM"),
    (183, "Qatar", "QA"),
    (192, "Saudi Arabia", "SA"),
    (222, "Türkiye", "TR"),
    (231, "United Kingdom", "GB"),
    (233, "United States", "US"),
]
CITIES = {
    2: ["Dubai", "Abu Dhabi", "Sharjah", "Ajman", "Ras Al Khaimah", "Al Ain", "Fujairah", "Umm Al Quwain"],
    57: ["Düsseldorf", "Hamburg", "München"],
    75: ["Paris", "Lyon", "Marseille"],
    104: ["Mumbai", "Kochi", "Chennai", "Bengaluru"],
    169: ["Muscat", "Sohar"],
    183: ["Doha", "Al Wakrah"],
    192: ["Riyadh", "Jeddah", "Dammam"],
    222: ["İstanbul", "Ankara"],
    231: ["London", "Manchester"],
    233: ["Houston", "Phoenix", "Brisbane"],
}
COUNTRY_TZ = {2: "Asia/Dubai", 57: "Europe/Berlin", 75: "Europe/Paris", 104: "Asia/Kolkata",
              169: "Asia/Muscat", 183: "Asia/Qatar", 192: "Asia/Riyadh", 222: "Europe/Istanbul",
              231: "Europe/London", 233: "America/Chicago"}
# weight of each country for customer companies
COUNTRY_WEIGHTS = [(2, 55), (192, 10), (183, 6), (169, 5), (104, 8), (57, 3), (75, 4), (222, 3), (231, 3), (233, 3)]

CURRENCIES = [
    (1, "USD", "$", True),
    (2, "EUR", "€", True),
    (125, "AED", "د.إ", True),
    (150, "SAR", "﷼", False),
]

TEAMS = [
    # id, name, leader uid, members
    (1, "Sales", 2, [2, 5, 6]),
    (2, "UAE Projects", 7, [7, 8, 9]),
]
TEAM_OF_USER = {u: t for (t, _n, _l, members) in TEAMS for u in members}

TAGS = [
    (1, "Rebar Supply", 1),
    (2, "Cut & Bend", 2),
    (3, "Mesh", 3),
    (4, "Couplers", 4),
    (5, "Government", 5),
    (6, "Villa", 6),
    (7, "High-Rise", 7),
    (8, "Repeat Customer", 10),
]

LOST_REASONS = [
    (1, "Too expensive", True),
    (2, "We don't have people/skills", True),
    (3, "Not enough stock", True),
]

# uid, name, login, email, active, partner id, tz
USERS = [
    (1, "OdooBot", "__system__", "odoobot@example.com", False, 2, "Europe/Brussels"),
    (2, "Mitchell Admin", "admin", "admin@yourcompany.example.com", True, 3, "Europe/Brussels"),
    (5, "Marc Demo", "demo", "mark.brown23@example.com", True, 6, "Asia/Dubai"),
    (6, "Ahmed Al Hashimi", "ahmed.hashimi@yourcompany.example.com", "ahmed.hashimi@yourcompany.example.com", True, 7, "Asia/Dubai"),
    (7, "Priya Menon", "priya.menon@yourcompany.example.com", "priya.menon@yourcompany.example.com", True, 8, "Asia/Dubai"),
    (8, "Jürgen Weiß", "juergen.weiss@yourcompany.example.com", "juergen.weiss@yourcompany.example.com", True, 9, "Asia/Dubai"),
    (9, "Omar Haddad", "omar.haddad@yourcompany.example.com", "omar.haddad@yourcompany.example.com", True, 10, "Asia/Dubai"),
]
SALESPEOPLE = [5, 6, 7, 8, 9]

# Customer companies: (name, country id or None for weighted random, email domain or None)
COMPANIES = [
    ("Emirates Rebar Trading LLC", 2, None),
    ("Gulf Steel Fabricators FZE", 2, None),
    ("Al Noor Building Contracting L.L.C.", 2, None),
    ("Desert Rose Developers", 2, None),
    ("Sharjah Precast Industries", 2, None),
    ("Arabian Formwork Co.", 2, None),
    ("Bin Rashid Contracting", 2, None),
    ("Zayed Heights Developments", 2, None),
    ("Ras Al Khaimah Cement Works", 2, None),
    ("Hassan Al Marzouqi Contracting", 2, None),
    ("شركة الخليج للحديد", 2, "gulfiron.example.ae"),
    ("مؤسسة النور للمقاولات", 2, "alnoor-est.example.ae"),
    ("O'Brien & Sons Construction", 231, None),
    ("The \"Iron Men\" Steel Works", 233, None),
    ("Müller Bau GmbH", 57, None),
    ("Bauunternehmung Schäfer AG", 57, None),
    ("Société Générale de Béton", 75, None),
    ("Ferraillage Dupré SARL", 75, None),
    ("Çelik Yapı A.Ş.", 222, None),
    ("Mumbai Infra Projects Pvt Ltd", 104, None),
    ("Kerala Steel & Wire Pvt Ltd", 104, None),
    ("Doha Structural Steel W.L.L.", 183, None),
    ("Muscat Rebar Solutions LLC", 169, None),
    ("Riyadh Concrete Frames Co.", 192, None),
    ("Jeddah Marine Works Est.", 192, None),
    ("Lone Star Rebar Supply", 233, None),
    ("Al Jaber Engineering & Contracting", 2, None),
    ("Falcon MEP & Civil Works", 2, None),
    ("Blue Lagoon Marine Contracting", 2, None),
    ("Al Ain Road Infrastructure JV", 2, None),
    ("Mussafah Steel Cutting Centre", 2, None),
    ("Jebel Ali Warehousing Projects", 2, None),
    ("Dubai South Villas Consortium", 2, None),
    ("Palm Crest Interiors & Fit-Out", 2, None),
    ("Tabreed Structures L.L.C", 2, None),
    ("Al Qusais Builders", 2, None),
    ("Northern Emirates Precast", 2, None),
    ("Fujairah Port Civil Works", 2, None),
    ("Abu Dhabi Bridges & Tunnels Co.", 2, None),
    ("Saeed Al Ketbi General Contracting", 2, None),
    ("Structural\\Civil Engineering Consultants", 231, None),
]

FIRST = {
    "ar": ["Mohammed", "Ahmed", "Khalid", "Hamad", "Saeed", "Yousef", "Omar", "Tariq", "Rashid", "Sultan",
           "Fatima", "Noura", "Mariam", "Layla", "Aisha", "Hassan", "Karim", "Rami", "Elias", "Sami"],
    "in": ["Rajesh", "Suresh", "Anil", "Sanjay", "Vikram", "Deepak", "Arjun", "Priya", "Lakshmi", "Imran",
           "Bilal", "Faisal", "Joseph", "Thomas", "Ravi"],
    "eu": ["Jürgen", "François", "José", "Zoë", "Ayşe", "Ivan", "Grace", "Michael", "Sarah", "Daniel",
           "John", "Émilie", "Björn", "Seán"],
}
LAST = {
    "ar": ["Al Zaabi", "Al Suwaidi", "Al Hammadi", "Al Shamsi", "Al Ketbi", "Al Mansoori", "bin Saeed",
           "Haddad", "Khoury", "Saab", "Nasser", "Farouk", "Suleiman", "Al Falasi", "Al Mazrouei"],
    "in": ["Kumar", "Pillai", "Menon", "Gupta", "Patel", "Sharma", "Reddy", "Nair", "Qureshi", "Khan",
           "Mahmood", "Varghese", "Iyer"],
    "eu": ["Müller", "Dupré", "García", "Laurent", "Yılmaz", "Petrović", "Thompson", "Brown", "Johnson",
           "Schmidt", "O'Connor", "Lefèvre", "Åkesson", "Ó Briain"],
}
# a couple of contacts written in Arabic script
ARABIC_PEOPLE = ["محمد الحمادي", "فاطمة السويدي"]
JOB_MAILBOXES = ["info", "procurement", "estimation", "projects", "purchase", "tenders", "qs"]

# lead name building blocks
PROJECTS = ["Villa G+1", "G+4 Residential Building", "Warehouse", "School Extension", "Labour Camp",
            "Mall Extension", "Hospital Block C", "Metro Station Podium", "Bridge Pier Caps", "Water Tank",
            "Retaining Wall", "Tower B", "Mosque", "Hotel Podium", "Substation", "Car Park B2"]
LOCATIONS = ["Al Quoz", "JVC Plot 12", "Mussafah M-40", "Al Barsha", "Sharjah Industrial Area 6",
             "Ajman Al Jurf", "KIZAD", "Jebel Ali", "Dubai South", "Al Ain Road", "Yas Island",
             "Al Warqaa", "Muwaileh", "Dubai Hills", "Meydan", "Reem Island"]
SCOPES = ["Rebar Supply", "Cut & Bend", "Shop Drawings", "Rebar Supply & Fixing", "Mesh Supply",
          "Couplers", "BBS Review", "Fabrication", "Threaded Bars", "Stirrups & Links"]
# names that exercise JSON escaping; placed on fixed lead indexes
SPECIAL_LEAD_NAMES = [
    'Tower B – 12mm & 16mm bars "urgent"',
    "Mall extension \\ phase 2 – rebar cages",
    "Ré-aménagement Lyon – armatures HA",
    "Bürogebäude Düsseldorf – Bewehrung",
    "مشروع فيلا الراشدية – توريد حديد التسليح",
    "توسعة مستودع جبل علي",
    "O'Brien warehouse – 'phase 3'",
    "Path C:\\Projects\\Rebar\\BBS-07 review",
    "Şantiye İstanbul – çelik donatı",
    "Site office <temporary> & canopy",
    "🏗️ Crane base foundation – rebar",
    "Tab\tseparated name from import",
]

DESCRIPTIONS = [
    "<p>Client requested BBS and shop drawings before pricing.</p>",
    "<p>Rebar 8–32 mm, approx. {t} T. Delivery to site in 3 lots.</p>",
    "<p>Consultant: Parsons &amp; Associates.<br>Tender closing soon.</p>",
    "<p>Follow up with QS on revised quantities.</p><p>Needs couplers for columns.</p>",
    "<p>Price compared with Chinese supplier – we are 4% higher.</p>",
    "<p>Site visit done. Cut &amp; bend at our Mussafah yard.</p>",
    "<p>العميل يطلب عرض سعر محدث</p>",
]


def ascii_slug(s):
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("ı", "i").replace("ß", "ss").replace("ø", "o")
    s = re.sub(r"[^A-Za-z0-9]+", "", s.lower())
    return s


LEGAL_WORDS = {"llc", "l.l.c", "l.l.c.", "fze", "co.", "est.", "gmbh", "ag", "sarl", "pvt", "ltd", "w.l.l.",
               "jv", "inc.", "a.ş.", "the", "&", "and", "de", "of", "sons"}


def company_domain(name):
    words = [w for w in re.split(r"[\s\\]+", name) if w.lower() not in LEGAL_WORDS]
    slug = "".join(ascii_slug(w) for w in words[:2]) or "company"
    return slug + ".example.com"


def phone_for(country_id):
    r = rng.randint
    if country_id == 2:
        if rng.random() < 0.5:
            return "+971 %d %03d %04d" % (rng.choice([2, 4, 6, 7]), r(200, 999), r(0, 9999))
        return "+971 %d %03d %04d" % (rng.choice([50, 52, 54, 55, 56, 58]), r(100, 999), r(0, 9999))
    if country_id == 192:
        return "+966 %d %03d %04d" % (rng.choice([11, 12, 13]), r(200, 999), r(0, 9999))
    if country_id == 183:
        return "+974 %04d %04d" % (r(3000, 7999), r(0, 9999))
    if country_id == 169:
        return "+968 %04d %04d" % (r(2000, 9999), r(0, 9999))
    if country_id == 104:
        return "+91 %d %04d %04d" % (rng.choice([22, 44, 80, 484]), r(1000, 9999), r(0, 9999))
    if country_id == 57:
        return "+49 %d %07d" % (rng.choice([211, 40, 89]), r(0, 9999999))
    if country_id == 75:
        return "+33 %d %02d %02d %02d %02d" % (r(1, 5), r(10, 99), r(10, 99), r(10, 99), r(10, 99))
    if country_id == 222:
        return "+90 %d %03d %02d %02d" % (rng.choice([212, 216, 312]), r(100, 999), r(10, 99), r(10, 99))
    if country_id == 231:
        return "+44 %d %04d %04d" % (rng.choice([20, 161]), r(1000, 9999), r(0, 9999))
    return "+1 555-%03d-%04d" % (r(100, 999), r(0, 9999))


UAE_AREAS = {
    "Dubai": ["Plot %d-%d, Al Quoz Industrial Area 3", "Warehouse %d, Jebel Ali Industrial Area %d",
              "Office %d, Al Saqr Business Tower, Sheikh Zayed Road"],
    "Abu Dhabi": ["Warehouse %d, Mussafah M-%d", "Office %d, Al Khalidiya Tower"],
    "Sharjah": ["Shop %d, Industrial Area %d", "P.O. Box %d, Al Sajaa Industrial"],
    "Ajman": ["Shop %d, Al Jurf Industrial Zone %d"],
}


def street_for(country_id, city):
    if country_id == 2:
        tpl = rng.choice(UAE_AREAS.get(city, ["P.O. Box %d, Industrial Area %d"]))
        nums = tuple([rng.randint(1, 999), rng.randint(1, 18)][:tpl.count("%d")])
        return tpl % nums
    if country_id in (192, 183, 169):
        return "Building %d, Street %d, Industrial Area" % (rng.randint(1, 400), rng.randint(1, 60))
    if country_id == 57:
        return "%s %d" % (rng.choice(["Königsallee", "Industriestraße", "Hafenstraße"]), rng.randint(1, 200))
    if country_id == 75:
        return "%d %s" % (rng.randint(1, 200), rng.choice(["rue de l'Industrie", "avenue Jean-Jaurès", "quai Perrache"]))
    return "%d %s" % (rng.randint(1, 9999), rng.choice(["Industrial Estate Road", "Steel Mill Lane", "Harbour Way", "Main Street"]))


def zip_for(country_id):
    if country_id in (2, 183):
        return False  # no postcodes in the UAE / Qatar
    if country_id == 231:
        return "%s%d %d%s" % (rng.choice(["M", "EC", "SW"]), rng.randint(1, 20), rng.randint(1, 9),
                              rng.choice(["AB", "HX", "QT"]))
    if country_id == 104:
        return "%06d" % rng.randint(400001, 695000)
    return "%05d" % rng.randint(10000, 99999)


def vat_for(country_id):
    if country_id == 2:
        return "100%07d00003" % rng.randint(0, 9999999)
    if country_id == 57:
        return "DE%09d" % rng.randint(100000000, 999999999)
    if country_id == 75:
        return "FR%02d%09d" % (rng.randint(10, 99), rng.randint(100000000, 999999999))
    if country_id == 192:
        return "3%013d3" % rng.randint(0, 10 ** 13 - 1)
    if country_id == 104:
        return "27AABC%04dR1Z%d" % (rng.randint(1000, 9999), rng.randint(1, 9))
    return False


def weighted_country():
    total = sum(w for _, w in COUNTRY_WEIGHTS)
    x = rng.uniform(0, total)
    for cid, w in COUNTRY_WEIGHTS:
        x -= w
        if x <= 0:
            return cid
    return COUNTRY_WEIGHTS[-1][0]


def person_name(country_id):
    if rng.random() < 0.04:
        return rng.choice(ARABIC_PEOPLE)
    if country_id in (2, 192, 183, 169):
        pool = rng.choice(["ar", "ar", "ar", "in", "eu"])
    elif country_id == 104:
        pool = "in"
    else:
        pool = "eu"
    return "%s %s" % (rng.choice(FIRST[pool]), rng.choice(LAST[pool]))


def email_local(person):
    parts = [ascii_slug(p) for p in person.split() if ascii_slug(p)]
    if not parts:
        return "contact%d" % rng.randint(1, 99)
    if len(parts) == 1:
        return parts[0]
    return rng.choice(["%s.%s" % (parts[0], parts[-1]), "%s%s" % (parts[0][0], parts[-1]), parts[0]])


# ----------------------------------------------------------------------------
# build models
# ----------------------------------------------------------------------------
def build():
    data = {}

    # crm.stage --------------------------------------------------------------
    st_create = dt.datetime(2025, 1, 2, 8, 14, 5)
    stages = []
    for i, (name, is_won, fold, _p, _n) in enumerate(STAGES):
        w = st_create
        if name in ("Hot Enquiries", "Quotation Bids", "No rebars(Our of Scope)"):
            w = dt.datetime(2025, 6, 3, 11, 2, 47)
        stages.append({
            "id": i + 1,
            "name": name,
            "sequence": i + 1,
            "is_won": is_won,
            "fold": fold,
            "team_ids": [],
            "requirements": False,
            "rotting_threshold_days": 0,
            "write_date": sdt(w),
            "create_date": sdt(st_create),
        })
    data["crm.stage"] = stages
    stage_id_by_name = {s["name"]: s["id"] for s in stages}

    # res.currency / res.company / res.country ----------------------------------
    base_create = dt.datetime(2025, 1, 1, 6, 0, 11)
    data["res.currency"] = [
        {"id": cid, "name": n, "symbol": sym, "active": act,
         "write_date": sdt(base_create), "create_date": sdt(base_create)}
        for cid, n, sym, act in CURRENCIES
    ]
    data["res.company"] = [{
        "id": 1, "name": "YourCompany", "currency_id": 1,
        "write_date": sdt(dt.datetime(2025, 1, 1, 6, 2, 40)), "create_date": sdt(base_create),
    }]
    data["res.country"] = [
        {"id": cid, "name": n, "code": code, "write_date": sdt(base_create), "create_date": sdt(base_create)}
        for cid, n, code in COUNTRIES
    ]

    # crm.team / crm.tag / crm.lost.reason ---------------------------------------
    t0 = dt.datetime(2025, 1, 2, 8, 10, 0)
    data["crm.team"] = [
        {"id": tid, "name": n, "active": True, "sequence": 10 * tid, "user_id": leader, "company_id": 1,
         "member_ids": members, "write_date": sdt(t0 + dt.timedelta(days=30 * tid)), "create_date": sdt(t0)}
        for tid, n, leader, members in TEAMS
    ]
    data["crm.tag"] = []
    for tid, n, color in TAGS:
        c = t0 + dt.timedelta(minutes=tid)
        data["crm.tag"].append({"id": tid, "name": n, "color": color,
                                "write_date": sdt(c), "create_date": sdt(c)})
    data["crm.lost.reason"] = [
        {"id": rid, "name": n, "active": act, "write_date": sdt(t0), "create_date": sdt(t0)}
        for rid, n, act in LOST_REASONS
    ]

    # res.partner --------------------------------------------------------------
    partners = []

    def partner(pid, name, is_company, parent=None, country=None, email=False, phone=False, street=False,
                city=False, zipc=False, vat=False, active=True, ref=False, lang="en_US", tz=False,
                user_id=False, create=None, write=None):
        return {
            "id": pid,
            "name": name,
            "display_name": ("%s, %s" % (parent["name"], name)) if parent else name,
            "is_company": is_company,
            "parent_id": parent["id"] if parent else False,
            "commercial_partner_id": parent["id"] if parent else pid,
            "email": email,
            "phone": phone,
            "street": street,
            "city": city,
            "zip": zipc,
            "country_id": country or False,
            "vat": vat,
            "company_id": False,
            "active": active,
            "type": "contact",
            "ref": ref,
            "lang": lang,
            "tz": tz,
            "user_id": user_id,
            "category_id": [],
            "child_ids": [],
            "create_date": sdt(create),
            "write_date": sdt(write),
        }

    sys_create = dt.datetime(2025, 1, 1, 6, 0, 11)
    partners.append(partner(1, "YourCompany", True, country=2, email="info@yourcompany.example.com",
                            phone="+971 4 339 1200", street="Plot 598-1041, Al Quoz Industrial Area 3",
                            city="Dubai", vat="100123456700003", create=sys_create,
                            write=dt.datetime(2025, 1, 1, 6, 2, 40)))
    user_write = dt.datetime(2025, 1, 2, 9, 45, 31)
    for uid, name, login, email, active, pid, tz in USERS:
        country = 233 if uid in (1, 2) else 2
        partners.append(partner(pid, name, False, country=country, email=email,
                                phone=False if uid == 1 else phone_for(country),
                                city="Scranton" if uid == 2 else (False if uid == 1 else "Dubai"),
                                active=active, tz=tz, create=sys_create if uid <= 2 else t0,
                                write=user_write))

    next_pid = 11
    companies = []
    for name, country, domain in COMPANIES:
        country = country or weighted_country()
        city = rng.choice(CITIES[country])
        c, w = created_and_written(T_START, dt.datetime(2026, 9, 30), touched=0.6)
        dom = domain or company_domain(name)
        mailbox = rng.choice(JOB_MAILBOXES)
        p = partner(next_pid, name, True, country=country,
                    email=("%s@%s" % (mailbox, dom)) if rng.random() > 0.07 else False,
                    phone=phone_for(country) if rng.random() > 0.07 else False,
                    street=street_for(country, city), city=city, zipc=zip_for(country),
                    vat=vat_for(country) if rng.random() > 0.2 else False,
                    ref=("C%05d" % (next_pid * 7)) if rng.random() < 0.4 else False,
                    lang="en_US" if rng.random() < 0.8 else False,
                    tz=COUNTRY_TZ[country] if rng.random() < 0.5 else False,
                    user_id=rng.choice(SALESPEOPLE + [2]) if rng.random() < 0.6 else False,
                    create=c, write=w)
        p["_domain"] = dom
        partners.append(p)
        companies.append(p)
        next_pid += 1
        if rng.random() < 0.08:
            next_pid += 1  # a deleted partner leaves a gap

    # contacts of companies
    people = []
    for comp in companies:
        n = rng.choice([1, 1, 1, 2, 2])
        for _ in range(n):
            country = comp["country_id"]
            nm = person_name(country)
            c = rand_between(dt.datetime.strptime(comp["create_date"], FMT_DT), dt.datetime(2026, 10, 31))
            w = rand_after(c, 120) if rng.random() < 0.6 else c
            local = email_local(nm)
            p = partner(next_pid, nm, False, parent=comp, country=country,
                        email=("%s@%s" % (local, comp["_domain"])) if rng.random() > 0.08 else False,
                        phone=phone_for(country) if rng.random() > 0.1 else False,
                        street=comp["street"], city=comp["city"], zipc=comp["zip"],
                        lang="en_US" if rng.random() < 0.7 else False,
                        tz=comp["tz"], user_id=comp["user_id"], create=c, write=w)
            partners.append(p)
            people.append(p)
            comp["child_ids"].append(next_pid)
            next_pid += 1
    # standalone individuals (no company)
    for _ in range(12):
        country = weighted_country()
        nm = person_name(country)
        c, w = created_and_written(T_START, dt.datetime(2026, 10, 31), touched=0.5)
        p = partner(next_pid, nm, False, country=country,
                    email=("%s@%s" % (email_local(nm), rng.choice(["gmail.example.com", "outlook.example.com",
                                                                   "yahoo.example.com"])))
                    if rng.random() > 0.15 else False,
                    phone=phone_for(country) if rng.random() > 0.15 else False,
                    city=rng.choice(CITIES[country]),
                    lang="en_US" if rng.random() < 0.5 else False,
                    create=c, write=w)
        partners.append(p)
        people.append(p)
        next_pid += 1

    # a few archived partners (never the company partner / user partners)
    arch_candidates = [p for p in partners if p["id"] >= 11]
    for p in rng.sample(arch_candidates, 5):
        p["active"] = False
        w = dt.datetime.strptime(p["write_date"], FMT_DT)
        p["write_date"] = sdt(rand_after(w, 60, dt.datetime(2026, 11, 20, 12, 0, 0)))
    for p in partners:
        p.pop("_domain", None)
    partners.sort(key=lambda p: p["id"])
    data["res.partner"] = partners
    partner_by_id = {p["id"]: p for p in partners}

    # res.users ------------------------------------------------------------------
    data["res.users"] = []
    for uid, name, login, email, active, pid, tz in USERS:
        data["res.users"].append({
            "id": uid, "name": name, "login": login, "email": email, "active": active,
            "partner_id": pid, "company_id": 1, "tz": tz, "lang": "en_US", "share": False,
            "create_date": sdt(sys_create if uid <= 2 else t0), "write_date": sdt(user_write),
        })

    # crm.lead ---------------------------------------------------------------------
    slots = []
    for name, _w, _f, _p, count in STAGES:
        slots.extend([name] * count)
    rng.shuffle(slots)
    n_leads = len(slots)

    # ids with a few gaps (deleted / merged-away leads)
    ids = []
    nid = 1
    while len(ids) < n_leads:
        ids.append(nid)
        nid += 1
        if rng.random() < 0.04:
            nid += rng.randint(1, 3)

    # creation times: sorted so that ids grow with create_date, like a real table
    creates = sorted(rand_between(T_START, dt.datetime(2026, 11, 18, 18, 0, 0)) for _ in range(n_leads))

    # archived: chosen per stage, deterministic
    archived_idx = set()
    for stage_name, k in ARCHIVED_PER_STAGE.items():
        idxs = [i for i, s in enumerate(slots) if s == stage_name]
        for i in rng.sample(idxs, k):
            archived_idx.add(i)

    # batch: >= 30 leads, created before BATCH_WRITE, none of them archived afterwards
    batch_candidates = [i for i in range(n_leads)
                        if creates[i] < BATCH_WRITE - dt.timedelta(days=2) and i not in archived_idx]
    batch_idx = set(rng.sample(batch_candidates, 36))

    special_positions = sorted(rng.sample(range(n_leads), len(SPECIAL_LEAD_NAMES)))
    special_at = dict(zip(special_positions, SPECIAL_LEAD_NAMES))

    stage_info = {name: (is_won, prob) for name, is_won, _f, prob, _n in STAGES}
    active_companies = [p for p in partners if p["is_company"] and p["id"] >= 11]
    contact_people = people

    leads = []
    for i in range(n_leads):
        lid = ids[i]
        stage_name = slots[i]
        is_won, stage_prob = stage_info[stage_name]
        archived = i in archived_idx
        c = creates[i]
        if i in batch_idx:
            w = BATCH_WRITE
        else:
            w = rand_after(c, rng.choice([3, 30, 120]) if archived else rng.choice([0, 3, 30, 120, 400]))
            if w == BATCH_WRITE:
                w += dt.timedelta(seconds=1)

        # type
        early = stage_name in ("New", "Telephonic Enquiries", "Qualified")
        ltype = "lead" if (early and rng.random() < 0.4) else "opportunity"

        # salesperson / team
        r = rng.random()
        if r < 0.14:
            user = False
        elif r < 0.3:
            user = 2
        else:
            user = rng.choice(SALESPEOPLE)
        team = TEAM_OF_USER[user] if user else (rng.choice([1, 2]) if rng.random() < 0.5 else False)

        # customer
        partner_id = False
        partner_name = contact_name = email_from = phone = False
        city = country = False
        pr = rng.random()
        if pr < 0.45:
            p = rng.choice(contact_people)
        elif pr < 0.62:
            p = rng.choice(active_companies)
        else:
            p = None
        if p is not None:
            partner_id = p["id"]
            if p["parent_id"]:
                partner_name = partner_by_id[p["parent_id"]]["name"]
            elif p["is_company"]:
                partner_name = p["name"]
            contact_name = False if p["is_company"] else p["name"]
            email_from = p["email"]
            phone = p["phone"]
            city = p["city"]
            country = p["country_id"]
            if rng.random() < 0.06:  # edited on the lead afterwards
                email_from = "%s@%s" % (rng.choice(JOB_MAILBOXES), company_domain(partner_name or "site office"))
            if rng.random() < 0.04:
                phone = phone_for(country or 2)
        else:
            country = weighted_country() if rng.random() < 0.85 else False
            city = rng.choice(CITIES[country]) if country and rng.random() < 0.8 else False
            if rng.random() < 0.75:
                partner_name = rng.choice([
                    "%s Contracting" % rng.choice(LAST["ar"]),
                    "%s Builders" % rng.choice(LOCATIONS),
                    "%s & %s Engineering" % (rng.choice(LAST["in"]), rng.choice(LAST["in"])),
                    "%s Steel Trading" % rng.choice(LOCATIONS),
                ])
            if rng.random() < 0.8:
                contact_name = person_name(country or 2)
            if rng.random() < 0.78:
                dom = company_domain(partner_name) if partner_name else rng.choice(
                    ["gmail.example.com", "outlook.example.com"])
                email_from = "%s@%s" % (email_local(contact_name) if contact_name else rng.choice(JOB_MAILBOXES), dom)
            if rng.random() < 0.75:
                phone = phone_for(country or 2)

        # name
        if i in special_at:
            name = special_at[i]
        else:
            tons = rng.choice([12, 25, 40, 60, 85, 120, 180, 250, 400, 650, 1200])
            name = "%s – %s – %s (%d T)" % (rng.choice(LOCATIONS), rng.choice(PROJECTS), rng.choice(SCOPES), tons)
            if rng.random() < 0.15:
                name = "%s – %s" % (partner_name or contact_name or "Walk-in", rng.choice(SCOPES))

        # money
        if rng.random() < 0.08:
            revenue = 0.0
        else:
            revenue = round(rng.choice([rng.uniform(4000, 60000), rng.uniform(60000, 450000),
                                        rng.uniform(450000, 2500000)]), 2)
            if rng.random() < 0.5:
                revenue = float(round(revenue, -3))

        # probability / won_status (Odoo's compute: won if active & stage.is_won,
        # lost if archived & probability 0, else pending)
        if archived:
            prob = 0.0
            won_status = "lost"
        elif is_won:
            prob = 100.0
            won_status = "won"
        elif stage_name in LOST_STAGE_NAMES:
            prob = 0.0
            won_status = "pending"
        else:
            if rng.random() < 0.6:
                prob = float(stage_prob)
            else:
                prob = round(min(99.0, max(1.0, stage_prob + rng.uniform(-8, 12))), 2)
            won_status = "pending"
        prorated = round(revenue * prob / 100.0, 2)

        priority = rng.choices(["0", "1", "2", "3"], weights=[40, 30, 20, 10])[0]
        tags = sorted(rng.sample([t[0] for t in TAGS], rng.choice([0, 0, 1, 1, 1, 2, 2, 3])))

        # dates
        date_open = sdt(c.replace(second=0)) if user else False
        if ltype == "opportunity":
            conv = c if rng.random() < 0.5 else rand_between(c, w)
            date_conversion = sdt(conv)
        else:
            date_conversion = False
        stage_upd = rand_between(c, w) if rng.random() < 0.8 else c
        date_closed = False
        if won_status in ("won", "lost"):
            closed = rand_between(stage_upd, w)
            date_closed = sdt(closed)
        if rng.random() < 0.55:
            dl = (c + dt.timedelta(days=rng.randint(10, 200))).date()
            date_deadline = sd(dl)
        else:
            date_deadline = False

        # lost reason
        lost_reason = False
        if archived and rng.random() < 0.7:
            lost_reason = rng.choice([r[0] for r in LOST_REASONS])

        dr = rng.random()
        if dr < 0.5:
            description = False
        elif dr < 0.6:
            description = ""
        else:
            description = rng.choice(DESCRIPTIONS).replace("{t}", str(rng.randint(20, 900)))

        leads.append({
            "id": lid,
            "name": name,
            "type": ltype,
            "stage_id": stage_id_by_name[stage_name],
            "user_id": user,
            "team_id": team,
            "partner_id": partner_id,
            "partner_name": partner_name,
            "contact_name": contact_name,
            "email_from": email_from,
            "phone": phone,
            "expected_revenue": revenue,
            "prorated_revenue": prorated,
            "recurring_revenue": 0.0,
            "probability": prob,
            "priority": priority,
            "tag_ids": tags,
            "date_deadline": date_deadline,
            "date_closed": date_closed,
            "date_open": date_open,
            "date_conversion": date_conversion,
            "date_last_stage_update": sdt(stage_upd),
            "create_date": sdt(c),
            "write_date": sdt(w),
            "active": not archived,
            "won_status": won_status,
            "lost_reason_id": lost_reason,
            "company_id": 1,
            "company_currency": 1,
            "description": description,
            "activity_date_deadline": False,
            "color": 0,
            "city": city,
            "country_id": country,
            "lang_id": False,
            "order_ids": [],
            "quotation_count": 0,
        })
    data["crm.lead"] = leads
    return data


# ----------------------------------------------------------------------------
# fields_get
# ----------------------------------------------------------------------------
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


ID_F = fdef("integer", "ID", readonly=True)
DISPLAY_F = fdef("char", "Display Name", readonly=True, store=False)
CREATE_F = fdef("datetime", "Created on", readonly=True)
WRITE_F = fdef("datetime", "Last Updated on", readonly=True)


def load_sample(name, out_dir):
    path = os.path.join(SAMPLES, "fields_get_%s.json" % name)
    if not os.path.exists(path):
        path = os.path.join(out_dir, "fields", name.replace("_", ".", 1) + ".json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def build_fields(data, out_dir):
    partner_sample = load_sample("res_partner", out_dir)
    tz_sel = partner_sample["tz"]["selection"]
    lang_sel = partner_sample["lang"]["selection"]

    fields = {}

    # crm.lead: the captured sample + id/display_name
    lead = load_sample("crm_lead", out_dir)
    lead["priority"]["selection"] = [["0", "Low"], ["1", "Medium"], ["2", "High"], ["3", "Very High"]]
    lead["type"]["selection"] = [["lead", "Lead"], ["opportunity", "Opportunity"]]
    lead["won_status"]["selection"] = [["won", "Won"], ["lost", "Lost"], ["pending", "Pending"]]
    fields["crm.lead"] = {"id": ID_F, **lead, "display_name": DISPLAY_F}

    stage = load_sample("crm_stage", out_dir)
    fields["crm.stage"] = {"id": ID_F, **stage, "display_name": DISPLAY_F}

    # res.partner: the captured sample minus state_id (no res.country.state in the
    # fixtures) plus commercial_partner_id
    p = {"id": ID_F}
    for k, v in partner_sample.items():
        if k == "state_id":
            continue
        p[k] = v
        if k == "parent_id":
            p["commercial_partner_id"] = fdef("many2one", "Commercial Entity", relation="res.partner",
                                              readonly=True)
    fields["res.partner"] = p

    fields["res.users"] = {
        "id": ID_F,
        "name": fdef("char", "Name", required=True),
        "display_name": DISPLAY_F,
        "login": fdef("char", "Login", required=True),
        "email": fdef("char", "Email"),
        "active": fdef("boolean", "Active"),
        "partner_id": fdef("many2one", "Related Partner", relation="res.partner", required=True),
        "company_id": fdef("many2one", "Company", relation="res.company", required=True),
        "tz": fdef("selection", "Timezone", selection=tz_sel),
        "lang": fdef("selection", "Language", selection=lang_sel),
        "share": fdef("boolean", "Share User", readonly=True),
        "create_date": CREATE_F,
        "write_date": WRITE_F,
    }
    fields["res.company"] = {
        "id": ID_F,
        "name": fdef("char", "Company Name", required=True),
        "display_name": DISPLAY_F,
        "currency_id": fdef("many2one", "Currency", relation="res.currency", required=True),
        "create_date": CREATE_F,
        "write_date": WRITE_F,
    }
    fields["res.currency"] = {
        "id": ID_F,
        "name": fdef("char", "Currency", required=True),
        "display_name": DISPLAY_F,
        "symbol": fdef("char", "Symbol", required=True),
        "active": fdef("boolean", "Active"),
        "create_date": CREATE_F,
        "write_date": WRITE_F,
    }
    fields["res.country"] = {
        "id": ID_F,
        "name": fdef("char", "Country Name", required=True),
        "display_name": DISPLAY_F,
        "code": fdef("char", "Country Code"),
        "create_date": CREATE_F,
        "write_date": WRITE_F,
    }
    fields["crm.team"] = {
        "id": ID_F,
        "name": fdef("char", "Sales Team", required=True),
        "display_name": DISPLAY_F,
        "active": fdef("boolean", "Active"),
        "sequence": fdef("integer", "Sequence"),
        "user_id": fdef("many2one", "Team Leader", relation="res.users"),
        "company_id": fdef("many2one", "Company", relation="res.company"),
        "member_ids": fdef("many2many", "Salespersons", relation="res.users"),
        "create_date": CREATE_F,
        "write_date": WRITE_F,
    }
    fields["crm.tag"] = {
        "id": ID_F,
        "name": fdef("char", "Tag Name", required=True),
        "display_name": DISPLAY_F,
        "color": fdef("integer", "Color"),
        "create_date": CREATE_F,
        "write_date": WRITE_F,
    }
    fields["crm.lost.reason"] = {
        "id": ID_F,
        "name": fdef("char", "Description", required=True),
        "display_name": DISPLAY_F,
        "active": fdef("boolean", "Active"),
        "create_date": CREATE_F,
        "write_date": WRITE_F,
    }
    return fields


# ----------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------
RE_DT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
RE_D = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def validate(data, fields):
    errors = []
    ids = {m: {r["id"] for r in recs} for m, recs in data.items()}
    for model, recs in data.items():
        fdefs = fields[model]
        for key in ("id", "display_name", "create_date", "write_date"):
            if key not in fdefs:
                errors.append("%s: fields file lacks %s" % (model, key))
        rec_keys = set()
        seen = set()
        for r in recs:
            rec_keys.update(r)
            if r["id"] in seen:
                errors.append("%s: duplicate id %s" % (model, r["id"]))
            seen.add(r["id"])
            for key in ("id", "create_date", "write_date"):
                if key not in r:
                    errors.append("%s %s: missing %s" % (model, r.get("id"), key))
            if r["write_date"] < r["create_date"]:
                errors.append("%s %s: write_date < create_date" % (model, r["id"]))
            if "active" in fdefs and "active" not in r:
                errors.append("%s %s: no active" % (model, r["id"]))
            for f, v in r.items():
                fd = fdefs.get(f)
                if fd is None:
                    errors.append("%s: field %s not in fields file" % (model, f))
                    continue
                t = fd["type"]
                if t == "many2one":
                    if v is not False:
                        if not isinstance(v, int) or isinstance(v, bool):
                            errors.append("%s %s.%s: many2one not int: %r" % (model, r["id"], f, v))
                        elif fd["relation"] not in ids:
                            errors.append("%s %s.%s: relation %s not in fixtures" % (model, r["id"], f, fd["relation"]))
                        elif v not in ids[fd["relation"]]:
                            errors.append("%s %s.%s -> %s(%s) missing" % (model, r["id"], f, fd["relation"], v))
                elif t in ("one2many", "many2many"):
                    if not isinstance(v, list):
                        errors.append("%s %s.%s: x2many not a list" % (model, r["id"], f))
                    elif v and fd["relation"] in ids:
                        for x in v:
                            if x not in ids[fd["relation"]]:
                                errors.append("%s %s.%s -> %s(%s) missing" % (model, r["id"], f, fd["relation"], x))
                    elif v:
                        errors.append("%s %s.%s: non-empty x2many to unknown model" % (model, r["id"], f))
                elif t == "datetime":
                    if v is not False and not RE_DT.match(v):
                        errors.append("%s %s.%s: bad datetime %r" % (model, r["id"], f, v))
                elif t == "date":
                    if v is not False and not RE_D.match(v):
                        errors.append("%s %s.%s: bad date %r" % (model, r["id"], f, v))
                elif t == "selection":
                    keys = [s[0] for s in fd["selection"]]
                    if v is not False and v not in keys:
                        errors.append("%s %s.%s: bad selection %r" % (model, r["id"], f, v))
                elif t in ("float", "monetary"):
                    if not isinstance(v, float):
                        errors.append("%s %s.%s: not a float %r" % (model, r["id"], f, v))
                elif t == "integer":
                    if not isinstance(v, int) or isinstance(v, bool):
                        errors.append("%s %s.%s: not an int %r" % (model, r["id"], f, v))
                elif t == "boolean":
                    if not isinstance(v, bool):
                        errors.append("%s %s.%s: not a bool %r" % (model, r["id"], f, v))
                elif t in ("char", "text", "html"):
                    if v is not False and not isinstance(v, str):
                        errors.append("%s %s.%s: not a string %r" % (model, r["id"], f, v))
                    if t == "char" and v == "":
                        errors.append("%s %s.%s: empty char should be false" % (model, r["id"], f))
        missing = set(fdefs) - rec_keys - {"display_name"}
        if missing:
            errors.append("%s: fields file has fields no record carries: %s" % (model, sorted(missing)))

    # partner structure
    pmap = {p["id"]: p for p in data["res.partner"]}
    for p in data["res.partner"]:
        kids = sorted(q["id"] for q in data["res.partner"] if q["parent_id"] == p["id"])
        if sorted(p["child_ids"]) != kids:
            errors.append("res.partner %s: child_ids inconsistent" % p["id"])
        exp = p["parent_id"] or p["id"]
        if p["commercial_partner_id"] != exp:
            errors.append("res.partner %s: commercial_partner_id" % p["id"])
        exp_dn = ("%s, %s" % (pmap[p["parent_id"]]["name"], p["name"])) if p["parent_id"] else p["name"]
        if p["display_name"] != exp_dn:
            errors.append("res.partner %s: display_name" % p["id"])
    for u in data["res.users"]:
        if "password" in u:
            errors.append("res.users has a password")

    # lead consistency
    stages = {s["id"]: s for s in data["crm.stage"]}
    leads = data["crm.lead"]
    for l in leads:
        st = stages[l["stage_id"]]
        if l["prorated_revenue"] != round(l["expected_revenue"] * l["probability"] / 100.0, 2):
            errors.append("crm.lead %s: prorated_revenue" % l["id"])
        exp_status = ("won" if (l["active"] and st["is_won"]) else
                      "lost" if (not l["active"] and l["probability"] == 0) else "pending")
        if l["won_status"] != exp_status:
            errors.append("crm.lead %s: won_status %s != %s" % (l["id"], l["won_status"], exp_status))
        if st["is_won"] and l["active"] and l["probability"] != 100.0:
            errors.append("crm.lead %s: won stage, probability" % l["id"])
        if (l["won_status"] in ("won", "lost")) != bool(l["date_closed"]):
            errors.append("crm.lead %s: date_closed" % l["id"])
        for f in ("date_open", "date_conversion", "date_last_stage_update", "date_closed"):
            if l[f] and l[f] > l["write_date"]:
                errors.append("crm.lead %s: %s after write_date" % (l["id"], f))
    from collections import Counter
    wd = Counter(l["write_date"] for l in leads)
    top, top_n = wd.most_common(1)[0]
    if top_n < 30:
        errors.append("crm.lead: largest same-second write_date group is %d (< 30)" % top_n)
    prio = Counter(l["priority"] for l in leads)
    if set(prio) != {"0", "1", "2", "3"}:
        errors.append("crm.lead: not all priorities used")
    if set(l["stage_id"] for l in leads) != set(stages):
        errors.append("crm.lead: not every stage used")
    if len(leads) < 320:
        errors.append("crm.lead: fewer than 320 leads")
    for s in ("&", "\\", '"'):
        if not any(s in l["name"] for l in leads):
            errors.append("crm.lead: no name containing %r" % s)
    if not any(re.search(r"[\u0600-\u06FF]", l["name"]) for l in leads):
        errors.append("crm.lead: no Arabic-script name")
    if not (10 <= sum(1 for l in leads if not l["active"]) <= 20):
        errors.append("crm.lead: archived count out of range")
    return errors, top, top_n


def summary(data, top, top_n):
    from collections import Counter
    leads = data["crm.lead"]
    stages = data["crm.stage"]
    by_stage = Counter(l["stage_id"] for l in leads)
    arch = Counter(l["stage_id"] for l in leads if not l["active"])
    out = ["crm.lead per stage (total %d, archived %d):" % (len(leads), sum(arch.values()))]
    for s in stages:
        out.append("  %2d %-32s %3d%s" % (s["id"], s["name"], by_stage[s["id"]],
                                         ("  (%d archived)" % arch[s["id"]]) if arch[s["id"]] else ""))
    ws = Counter(l["won_status"] for l in leads)
    ty = Counter(l["type"] for l in leads)
    pr = Counter(l["priority"] for l in leads)
    out.append("won_status: %s" % dict(sorted(ws.items())))
    out.append("type: %s" % dict(sorted(ty.items())))
    out.append("priority: %s" % dict(sorted(pr.items())))
    out.append("same-second write_date group: %s x %d" % (top, top_n))
    out.append("records: " + ", ".join("%s=%d" % (m, len(r)) for m, r in sorted(data.items())))
    return "\n".join(out)


# ----------------------------------------------------------------------------
def dump(obj):
    return json.dumps(obj, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: fixtures/odoo)")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the files on disk differ from what would be generated")
    args = ap.parse_args()

    data = build()
    fields = build_fields(data, args.out)
    errors, top, top_n = validate(data, fields)
    if errors:
        for e in errors[:50]:
            print("VALIDATION ERROR:", e, file=sys.stderr)
        print("%d validation errors" % len(errors), file=sys.stderr)
        return 1

    files = {}
    for model in sorted(data):
        files[os.path.join(args.out, model + ".json")] = dump(data[model])
        files[os.path.join(args.out, "fields", model + ".json")] = dump(fields[model])

    if args.check:
        stale = []
        for path, text in files.items():
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        if stale:
            print("out of date: " + ", ".join(os.path.relpath(p, REPO) for p in stale), file=sys.stderr)
            return 1
        print("fixtures up to date (%d files)" % len(files))
        return 0

    os.makedirs(os.path.join(args.out, "fields"), exist_ok=True)
    for path, text in files.items():
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print(summary(data, top, top_n))
    print("wrote %d files to %s" % (len(files), os.path.relpath(args.out, os.getcwd())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
