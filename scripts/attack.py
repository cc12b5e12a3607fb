#!/usr/bin/env python3
"""Issue 15's attacks against a running `matcher serve --demo` on loopback, with figures.

Run by scripts/attack.sh (which starts the server); not a test: the figures depend on the
machine. Standard library only. Every attack is bounded (connections, requests, seconds) and
talks only to 127.0.0.1.

    attack.py PORT CASEWORKER_TOKEN ADMIN_TOKEN SYSTEM_TOKEN [SLOW_CONNECTIONS] [SECONDS]

1. slow bodies: SLOW_CONNECTIONS (default 260) connections send `POST /v1/suggestions` headers
   with `Content-Length: 100000` and 36 bytes, and reconnect when closed, for SECONDS (default
   30); 50 more send half a request head. Meanwhile a valid caseworker asks for suggestions
   one after another: p50 / p99 / max and statuses; then how the slow ones were answered.
2. capacity 4294967295 from an admin: the answer (a problem), then a batch run, then /healthz.
3. bad-input corpus over every route: counts of statuses; any 5xx is a failure.
4. every written CPR form in a reason, an offer name, an id, a path, a JSON key: each must be
   refused (4xx) and no answer may hold the number in any form.
"""
import http.client
import json
import re
import socket
import sys
import threading
import time
import unicodedata
import urllib.parse

PORT = int(sys.argv[1])
CW, ADMIN, SYSTEM = sys.argv[2], sys.argv[3], sys.argv[4]
SLOW = int(sys.argv[5]) if len(sys.argv) > 5 else 260
SECONDS = float(sys.argv[6]) if len(sys.argv) > 6 else 30.0
HOST = "127.0.0.1"
failures = []


def request(method, path, token=None, body=None, content_type="application/json", conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection(HOST, PORT, timeout=60)
    headers = {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if body is not None:
        headers["content-type"] = content_type
        if isinstance(body, str):
            body = body.encode()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if own:
        conn.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else float("nan")


# ----- 1. slow bodies and slow heads -----
def slow_body_attack():
    head = (f"POST /v1/suggestions HTTP/1.1\r\nhost: {HOST}:{PORT}\r\ncontent-type: application/json\r\n"
            "content-length: 100000\r\n\r\n").encode() + b" " * 36
    stop = time.time() + SECONDS
    answers = {}
    lock = threading.Lock()
    opened = [0]

    def one_slot():
        while time.time() < stop:
            try:
                s = socket.create_connection((HOST, PORT), timeout=5)
                with lock:
                    opened[0] += 1
                s.sendall(head)
                s.settimeout(max(0.1, stop - time.time()) + 15)
                started = time.time()
                got = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                line = got.split(b"\r\n", 1)[0].decode(errors="replace") or "closed without an answer"
                with lock:
                    answers.setdefault(line, []).append(time.time() - started)
                s.close()
            except OSError as e:
                with lock:
                    answers.setdefault(f"error {type(e).__name__}", []).append(0.0)
                time.sleep(0.05)

    def half_head(results):
        try:
            s = socket.create_connection((HOST, PORT), timeout=5)
            s.sendall(b"POST /v1/suggestions HTTP/1.1\r\nhost: x\r\n")
            s.settimeout(60)
            started = time.time()
            while s.recv(4096):
                pass
            results.append(time.time() - started)
        except OSError:
            results.append(None)

    threads = [threading.Thread(target=one_slot, daemon=True) for _ in range(SLOW)]
    heads = []
    threads += [threading.Thread(target=half_head, args=(heads,), daemon=True) for _ in range(50)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    body = json.dumps({"candidate_id": CANDIDATE, "k": 5})
    latencies, statuses = [], {}
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    while time.time() < stop - 0.5:
        t0 = time.perf_counter()
        try:
            status, _, _ = request("POST", "/v1/suggestions", CW, body, conn=conn)
        except (OSError, http.client.HTTPException):
            status = "error"
            conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        latencies.append((time.perf_counter() - t0) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    for t in threads:
        t.join(timeout=SECONDS + 30)
    ms = [round(x, 2) for x in (percentile(latencies, 50), percentile(latencies, 99), max(latencies))]
    print(f"1. slow bodies: {SLOW} connections for {SECONDS:.0f} s ({opened[0]} opened in all), 50 half heads")
    print(f"   caseworker suggestions during the attack: {len(latencies)} requests, statuses {statuses}, "
          f"p50 {ms[0]} ms, p99 {ms[1]} ms, max {ms[2]} ms")
    for line, waits in sorted(answers.items()):
        print(f"   slow-body connections answered '{line}': {len(waits)}, after {percentile(waits, 50):.1f} s (median)")
    closed = [h for h in heads if h is not None]
    print(f"   half heads closed by the server: {len(closed)} of 50, after {percentile(closed, 50):.1f} s (median)")
    if statuses.get(200, 0) != len(latencies):
        failures.append(f"slow bodies: caseworker statuses {statuses}")
    if ms[1] >= 50:
        failures.append(f"slow bodies: p99 {ms[1]} ms is not below 50 ms")


# ----- 2. capacity 4294967295 -----
def capacity_attack():
    status, _, data = request("GET", "/v1/offers?limit=1", ADMIN)
    record = json.loads(data)["offers"][0]["record"]
    record["capacity"] = "4294967295"
    status, headers, data = request("POST", "/v1/offers", ADMIN, json.dumps([record]))
    print(f"2. capacity 4294967295 from an admin: {status} {headers.get('content-type')} {data.decode()[:200]}")
    run_status, _, run = request("POST", "/v1/batch-runs", SYSTEM)
    run_id = json.loads(run).get("id")
    final = None
    for _ in range(600):
        _, _, b = request("GET", f"/v1/batch-runs/{run_id}", SYSTEM)
        final = json.loads(b).get("status")
        if final not in ("queued", "running"):
            break
        time.sleep(0.5)
    health, _, _ = request("GET", "/healthz")
    print(f"   then a batch run: {run_status}, ended '{final}'; /healthz {health}")
    if status != 422 or "problem+json" not in headers.get("content-type", "") or health != 200 or final != "finished":
        failures.append("capacity: not refused with a problem, or the server did not live")


# ----- 3. bad-input corpus -----
def corpus():
    bodies = ["", "{", "[]", "{}", "null", "1e999999", '"x"', "[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000,
              json.dumps([{"id": "x" * 100000}]), json.dumps({"candidate_id": None, "k": -1}),
              json.dumps({"candidate_id": "cand-000001", "k": 10 ** 30}), json.dumps({"candidate": {"lat": "NaN"}}),
              json.dumps([{"capacity": 2 ** 64, "duration_weeks": -1, "serves_municipalities": ";".join(["0101"] * 5000)}]),
              json.dumps({"decision_id": 1e308, "success": "maybe"}), "\ufeff{}", b"\xff\xfe\x00".decode("latin-1"),
              json.dumps({"candidate_id": "a" * 65, "offer_id": "../../etc", "action": "accept", "reason": "x" * 3000})]
    paths = [r for r in ["/v1/offers", "/v1/candidates", "/v1/suggestions", "/v1/decisions", "/v1/outcomes",
                         "/v1/batch-runs", "/v1/offers/x/retire"]]
    gets = ["/v1/offers?limit=-1", "/v1/offers?limit=99999999999999999999", "/v1/decisions?after=abc",
            "/v1/offers/%00", "/v1/offers/" + "a" * 5000, "/v1/candidates/..%2F..", "/v1/batch-runs/0",
            "/v1/batch-runs/99999999999999999999999", "/v1/decisions/-1", "/v1/providers/%FF/quality", "/nothing"]
    counts = {}
    for token in (None, CW, ADMIN, SYSTEM, "bro_forged"):
        for path in paths:
            for body in bodies:
                for ct in ("application/json", "application/jsonx", "text/plain"):
                    status, _, _ = request("POST", path, token, body, ct)
                    counts[status] = counts.get(status, 0) + 1
        for path in gets:
            status, _, _ = request("GET", path, token)
            counts[status] = counts.get(status, 0) + 1
    total = sum(counts.values())
    five = sum(n for s, n in counts.items() if s >= 500)
    health, _, _ = request("GET", "/healthz")
    print(f"3. bad-input corpus: {total} requests, statuses {dict(sorted(counts.items()))}; 5xx: {five}; /healthz {health}")
    if five or health != 200:
        failures.append(f"corpus: {five} answers 5xx")


# ----- 4. written CPR forms -----
FORMS = ["0102031234", "010203-1234", "010203 1234", "01 02 03 12 34", "010203/1234", "01.02.03-1234",
         "０１０２０３１２３４", "0102\u200b031234", "010203\u20111234", "010203\u00a01234", "٠١٠٢٠٣١٢٣٤"]


def holds_number(text):
    """The answer read as a person would: full-width and other digits as ASCII, separators and
    invisible characters dropped; does it hold 0102031234 or its date part 010203?"""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(str(unicodedata.digit(c)) if unicodedata.category(c) == "Nd" else c for c in text)
    squeezed = re.sub(r"[\s\-./_\u2010-\u2015\u200b-\u200d\u2060\ufeff]", "", text)
    return "0102031234" in squeezed or "010203" in squeezed


def cpr_forms():
    _, _, data = request("GET", "/v1/offers?limit=1", ADMIN)
    offer = json.loads(data)["offers"][0]["record"]
    _, _, data = request("GET", "/v1/candidates?limit=1", CW)
    candidate = json.loads(data)["candidates"][0]
    refused = echoed = 0
    for form in FORMS:
        named = dict(offer, name=f"Forløb {form}", id="attack-name")
        keyed = dict(offer, id="attack-key", **{form: "x"})
        with_id = dict(candidate, id=f"c-{form}")
        tries = [
            ("POST", "/v1/decisions", CW, json.dumps({"candidate_id": candidate["id"], "offer_id": offer["id"],
                                                      "action": "decline", "reason": f"ringede {form}"})),
            ("POST", "/v1/offers", ADMIN, json.dumps([named])),
            ("POST", "/v1/offers", ADMIN, json.dumps([keyed])),
            ("POST", "/v1/candidates", CW, json.dumps([with_id])),
            ("POST", "/v1/suggestions", CW, json.dumps({"candidate_id": candidate["id"], form: {"a": 1}})),
            ("GET", "/v1/candidates/" + urllib.parse.quote(form), CW, None),
            ("POST", "/v1/suggestions", CW, json.dumps({"candidate_id": f"c-{form}"})),
        ]
        for method, path, token, body in tries:
            try:
                status, headers, data = request(method, path, token, body)
            except (OSError, http.client.HTTPException) as e:
                failures.append(f"cpr {form!r} {method} {path}: no answer ({e})")
                continue
            answer = json.loads(data) if data.startswith(b"{") else {"text": data.decode(errors="replace")}
            answer.pop("request_id", None)
            if 400 <= status < 500:
                refused += 1
            else:
                failures.append(f"cpr {form!r} {method} {path}: {status}")
            if holds_number(json.dumps(answer, ensure_ascii=False)):
                echoed += 1
                failures.append(f"cpr {form!r} echoed by {method} {path}")
    print(f"4. written CPR forms: {len(FORMS)} forms x 7 places: {refused} refused, {echoed} answers held the number")


_, _, listing = request("GET", "/v1/candidates?limit=1", CW)
CANDIDATE = json.loads(listing)["candidates"][0]["id"]
slow_body_attack()
capacity_attack()
corpus()
cpr_forms()
if failures:
    print("FAILED:")
    for f in failures[:50]:
        print("  ", f)
    sys.exit(1)
print("all attacks held")
