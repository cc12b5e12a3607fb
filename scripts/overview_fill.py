#!/usr/bin/env python3
"""Fill a `matcher serve` database with a year of decisions for the overview's load figures.

    scripts/overview_fill.py DATA_DIR DB [--decisions N] [--today YYYY-MM-DD] [--seed S]

Not a test and not the API: it writes decisions, their places and contracts straight into the
SQLite file of a service that already loaded DATA_DIR's offers (`matcher serve --offers-from`),
so that a national year of decisions (default 300,000) exists in a minute instead of hours of
durable accepts. The rows are shaped as the service writes them (per-tenant numbers, the
places ledger, withdrawals as decisions naming the one they withdraw, `contract_offers` beside
each contract); everything in them is invented. Per candidate at most one accept; 30 % of the
decisions are declines, 3 % of the accepts are withdrawn; dates are spread evenly over the year
before --today; an offer holds at most its capacity of open places (a later accept is moved
back a quarter so its course has ended). One strategic-partner contract per municipality for
the provider with most offers there, at 85 % of list prices.
"""
import argparse, csv, datetime as dt, json, random, sqlite3, sys

ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("db")
ap.add_argument("--decisions", type=int, default=300_000)
ap.add_argument("--today", default="2026-12-05")
ap.add_argument("--seed", type=int, default=7)
a = ap.parse_args()
rng = random.Random(a.seed)
today = dt.date.fromisoformat(a.today)

offers = []
with open(f"{a.data}/offers.csv", encoding="utf-8-sig") as f:
    for r in csv.DictReader(f):
        offers.append(r)
by_muni = {}
for o in offers:
    serves = [m for m in o["serves_municipalities"].split(";") if m] or [o["municipality"]]
    for m in serves:
        by_muni.setdefault(int(m), {"provider": [], "other": []})["provider" if o["kind"] == "provider" else "other"].append(o)
all_provider = [o for o in offers if o["kind"] == "provider"]
cands = []
with open(f"{a.data}/candidates.csv", encoding="utf-8-sig") as f:
    for r in csv.DictReader(f):
        cands.append((r["id"], int(r["municipality"]), r["target_groups"]))
rng.shuffle(cands)

db = sqlite3.connect(a.db, timeout=60)
db.execute("PRAGMA synchronous = NORMAL")
numbers = {}
open_places = {}
def number(m):
    numbers[m] = numbers.get(m, 0) + 1
    return numbers[m]

rows = []
for i in range(a.decisions):
    cid, m, groups = cands[i % len(cands)]
    pool = by_muni.get(m, {"provider": [], "other": []})
    if rng.random() < 0.6:
        o = rng.choice(pool["provider"] or all_provider)
    else:
        o = rng.choice(pool["other"] or all_provider)
    day = today - dt.timedelta(days=rng.randrange(365))
    accept = i < len(cands) and rng.random() < 0.7
    rows.append((day, m, cid, o, groups, accept))
rows.sort(key=lambda r: r[0])

cur = db.cursor()
cur.execute("BEGIN IMMEDIATE")
n_acc = n_dec = n_wd = 0
for day, m, cid, o, groups, accept in rows:
    weeks = int(o["duration_weeks"] or 12)
    end = day + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
    if accept and end >= today and open_places.get(o["id"], 0) >= int(o["capacity"] or 0):
        day -= dt.timedelta(days=91)
        end = day + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
    at = f"{day.isoformat()}T{rng.randrange(8, 16):02d}:{rng.randrange(60):02d}:00Z"
    num = number(m)
    if accept:
        cur.execute(
            "INSERT INTO decisions (municipality, number, candidate_id, offer_id, action, reason, decided_by, role,"
            " suggested, target_groups, decided_at, starts_on, ends_on, employer)"
            " VALUES (?, ?, ?, ?, 'accept', 'fits the plan (invented)', 'fill', 'caseworker', ?, ?, ?, ?, ?, ?)",
            (m, num, cid, o["id"], json.dumps([o["id"]]), groups, at, day.isoformat(), end.isoformat(), f"municipality {m:04d}"))
        rowid = cur.lastrowid
        n_acc += 1
        withdrawn = rng.random() < 0.03
        if withdrawn:
            cur.execute(
                "INSERT INTO decisions (municipality, number, candidate_id, offer_id, action, reason, decided_by, role,"
                " suggested, target_groups, decided_at, corrects, employer)"
                " VALUES (?, ?, ?, ?, 'withdrawal', 'cancelled (invented)', 'fill', 'caseworker', '[]', ?, ?, ?, ?)",
                (m, number(m), cid, o["id"], groups, at, rowid, f"municipality {m:04d}"))
            released, why = at, "withdrawn"
            n_wd += 1
        elif end < today:
            released, why = f"{end.isoformat()}T23:59:59Z", "course_ended"
        else:
            released, why = None, None
            open_places[o["id"]] = open_places.get(o["id"], 0) + 1
        cur.execute(
            "INSERT INTO places (decision_id, municipality, candidate_id, offer_id, starts_on, ends_on, released_at, released_why)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (rowid, m, cid, o["id"], day.isoformat(), end.isoformat(), released, why))
    else:
        until = day + dt.timedelta(days=89)
        cur.execute(
            "INSERT INTO decisions (municipality, number, candidate_id, offer_id, action, reason, decided_by, role,"
            " suggested, target_groups, decided_at, excluded_until, employer)"
            " VALUES (?, ?, ?, ?, 'decline', 'not now (invented)', 'fill', 'caseworker', ?, ?, ?, ?, ?)",
            (m, num, cid, o["id"], json.dumps([o["id"]]), groups, at, until.isoformat(), f"municipality {m:04d}"))
        n_dec += 1
for offer, held in open_places.items():
    cur.execute("UPDATE offers SET reserved = ? WHERE id = ?", (held, offer))
# One strategic partner per municipality: the provider with most offers serving it.
n_con = 0
for m, pool in sorted(by_muni.items()):
    count = {}
    for o in pool["provider"]:
        count.setdefault(o["provider_id"], []).append(o)
    if not count:
        continue
    provider, its = max(count.items(), key=lambda kv: (len(kv[1]), kv[0]))
    price = int(sum(int(o["price_dkk"] or 0) for o in its) / len(its) * 0.85)
    ids = sorted(o["id"] for o in its)
    cid = f"k-{m:04d}-partner"
    start, end = (today - dt.timedelta(days=300)).isoformat(), (today + dt.timedelta(days=400)).isoformat()
    cur.execute(
        "INSERT OR REPLACE INTO contracts (municipality, id, provider_id, kind, offer_ids, price_dkk, places,"
        " guaranteed_volume, starts_on, ends_on, written_by, updated_at) VALUES (?, ?, ?, 'strategic_partner', ?, ?, ?, ?, ?, ?, 'fill', ?)",
        (m, cid, provider, json.dumps(ids), price, 40, 20, start, end, f"{a.today}T00:00:00Z"))
    for oid in ids:
        cur.execute(
            "INSERT OR REPLACE INTO contract_offers (municipality, contract_id, offer_id, starts_on, ends_on, price_dkk, kind)"
            " VALUES (?, ?, ?, ?, ?, ?, 'strategic_partner')", (m, cid, oid, start, end, price))
    n_con += 1
db.commit()
print(f"{n_acc} accepts ({n_wd} withdrawn), {n_dec} declines, {n_acc + n_dec + n_wd} decision rows, "
      f"{sum(open_places.values())} places held, {n_con} contracts, {len(numbers)} municipalities", file=sys.stderr)
