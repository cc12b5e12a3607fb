#!/usr/bin/env python3
"""The money of one night, as a municipality's economist reads it (docs/effects.md).

Usage: scripts/demo-money.py DATA_DIR RUN_DIR

Reads the data set (candidates.csv, offers.csv) and the run's proposals.csv and prints, for
all new suggestions and per target group of the candidate's first group: suggestions, those
flagged as expected to lose money (small effect for the price / too uncertain), the expected
net effect, and for courses the spend (price) against the benefit expected to be saved
(net effect + price). Running (locked) courses are sunk cost and left out, as in the report.
Standard library only.
"""
import csv
import sys
from collections import defaultdict


def main(data, run):
    price = {}
    with open(f"{data}/offers.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            price[row["id"]] = int(row.get("price_dkk") or 0)
    group = {}
    with open(f"{data}/candidates.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            group[row["id"]] = row["target_groups"].split(";")[0]
    rows = defaultdict(lambda: defaultdict(float))
    with open(f"{run}/proposals.csv", newline="", encoding="utf-8") as f:
        for p in csv.DictReader(f):
            if not p["offer_id"] or p["change"] == "locked":
                continue
            for key in ("all", group[p["candidate_id"]]):
                r = rows[key]
                effect = float(p["effect_dkk"] or 0)
                r["suggestions"] += 1
                r["net"] += effect
                r["positive"] += effect >= 0
                r["small"] += p["effect_flag"] == "small_effect_for_price"
                r["uncertain"] += p["effect_flag"] == "too_uncertain"
                if p["offer_kind"] == "provider":
                    cost = price[p["offer_id"]]
                    r["courses"] += 1
                    r["spend"] += cost
                    r["saved"] += effect + cost
                    r["course_net"] += effect
    print("| group | suggestions | flagged (small / uncertain) | net effect, kr. | courses | course spend, kr. | benefit saved by courses, kr. | courses' net, kr. |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key in ["all"] + sorted(k for k in rows if k != "all"):
        r = rows[key]
        flagged = int(r["small"] + r["uncertain"])
        print(
            f"| {key} | {int(r['suggestions']):,} | {flagged:,} ({int(r['small']):,} / {int(r['uncertain']):,}) "
            f"| {r['net']:,.0f} | {int(r['courses']):,} | {r['spend']:,.0f} | {r['saved']:,.0f} | {r['course_net']:,.0f} |"
        )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
