"""Records one outcome per stored decision at a fixed rate: the open-loop writer of
scripts/outcomes-load.sh and scripts/mixed-load.sh (issue 18). Not a test.

    python3 scripts/outcome-writes.py WORK PORT TOKEN RATE [SERVICE_PID]

Reads the decision ids from WORK/decisions.json and posts "in_work" for each from 4
connections, each write due at its place in the schedule: a write's latency counts from when
it was due, so a slow answer also delays (and charges) the ones queued behind it. Prints
p50, p99 and max; with SERVICE_PID also the service's CPU for the writes, read once it has
stopped moving (the evidence refreshes the writes ask for run on after the last answer).
"""
import http.client, json, os, sys, threading, time

work, port, token, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
pid = int(sys.argv[5]) if len(sys.argv) > 5 else None
tick = os.sysconf("SC_CLK_TCK")


def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


decisions = json.load(open(f"{work}/decisions.json"))
headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
lat, lock = [], threading.Lock()
cpu0 = cpu() if pid else 0.0
t0 = time.monotonic() + 0.5


def worker(w, workers=4):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for k in range(w, len(decisions), workers):
        due = t0 + k / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        c.request("POST", "/v1/outcomes", json.dumps({"decision_id": decisions[k], "result": "in_work"}), headers)
        r = c.getresponse()
        r.read()
        done = time.monotonic()
        if r.status != 201:
            print("outcome status", r.status)
        with lock:
            lat.append((done - due) * 1000)


threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
print(f"POST /v1/outcomes at {rate:.0f}/s for {len(decisions) / rate:.0f} s: {len(lat)} writes, "
      f"p50 {q(50):.2f} ms, p99 {q(99):.2f} ms, max {lat[-1]:.2f} ms")
if pid:
    before, after = -1.0, cpu()
    while after != before:
        time.sleep(0.6)
        before, after = after, cpu()
    print(f"service CPU for them, evidence refreshes included: {after - cpu0:.1f} s "
          f"({(after - cpu0) / max(len(lat), 1) * 1000:.1f} ms per write)")
