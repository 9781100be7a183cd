#!/usr/bin/env python3
"""Per-thread scheduling figures from /proc/PID/task/TID/schedstat (time run, time runnable but waiting for a core,
time slices) and /proc/PID/task/TID/stat (user and system time, in ticks of 10 ms: read them over seconds), for telling a thread's own work from its waiting
on a shared machine.

  threads.py sample OUT INTERVAL_S label=PGREP_PATTERN ...
      writes one JSON line per INTERVAL_S with every thread of the processes matching each pattern (a later pattern
      wins when two match; the processes are found again every second); stop it with kill
  threads.py window SAMPLES T0 T1 REQUESTS
      each process's and thread's figures between two epoch times, per request
  threads.py router-slices SAMPLES T0 T1 RATE
      for router.sh's measured slices (labels router, nginx, client, broker): the same per request, in the router's,
      nginx's and the direct slices, told apart by which proxy ran in each sample interval
"""
import collections, json, os, subprocess, sys, time


def sample(argv):
    out, interval = argv[0], float(argv[1])
    pats = [a.split('=', 1) for a in argv[2:]]
    def resolve():
        m = {}
        for label, pat in pats:
            try:
                pids = subprocess.run(['pgrep', '-f', pat], capture_output=True, text=True).stdout.split()
            except Exception:
                pids = []
            for p in pids:
                if int(p) != os.getpid():
                    m[int(p)] = label
        return m
    pids, last = {}, 0
    with open(out, 'w') as f:
        while True:
            now = time.time()
            if now - last > 1:
                pids, last = resolve(), now
            rec = {'t': now, 'p': [], 'load': open('/proc/loadavg').read().split()[:3]}
            for pid, label in pids.items():
                try:
                    for tid in os.listdir(f'/proc/{pid}/task'):
                        try:
                            with open(f'/proc/{pid}/task/{tid}/schedstat') as s:
                                r, w, n = s.read().split()
                            with open(f'/proc/{pid}/task/{tid}/comm') as c:
                                comm = c.read().strip()
                            with open(f'/proc/{pid}/task/{tid}/stat') as st:
                                fs = st.read().rsplit(')', 1)[1].split()
                            rec['p'].append([label, pid, int(tid), comm, int(r), int(w), int(n), int(fs[11]), int(fs[12])])
                        except OSError:
                            pass
                except OSError:
                    pass
            f.write(json.dumps(rec) + '\n')
            f.flush()
            time.sleep(max(0, interval - (time.time() - now)))


def window(argv):
    path, t0, t1, req = argv[0], float(argv[1]), float(argv[2]), float(argv[3])
    top = int(argv[4]) if len(argv) > 4 else 12
    first, last = {}, {}
    for line in open(path):
        try: rec = json.loads(line)
        except ValueError: continue
        if rec['t'] < t0 or rec['t'] > t1: continue
        for label, pid, tid, comm, r, w, n, *rest in rec['p']:
            k = (label, tid, comm)
            first.setdefault(k, (r, w, n)); last[k] = (r, w, n)
    per_label = collections.defaultdict(lambda: [0, 0, 0, 0])
    rows = []
    for k in last:
        d = [last[k][i] - first[k][i] for i in range(3)]
        if d[2] == 0: continue
        rows.append((k, d))
        L = per_label[k[0]]; L[0] += d[0]; L[1] += d[1]; L[2] += d[2]; L[3] += 1
    print(f"window {t1-t0:.1f} s, {req:.0f} requests; per request: run us, run-queue wait us, time slices; threads that ran")
    for label, (r, w, n, th) in sorted(per_label.items()):
        print(f"  {label:10s} run {r/req/1e3:8.1f}  wait {w/req/1e3:8.1f}  slices {n/req:6.2f}  threads {th}  (wait per slice {w/max(n,1)/1e3:.1f} us)")
    rows.sort(key=lambda x: -x[1][2])
    for (label, tid, comm), (r, w, n) in rows[:top]:
        print(f"    {label:10s} {comm:28s} run {r/req/1e3:8.1f}  wait {w/req/1e3:8.1f}  slices {n/req:6.3f}")


def router_slices(argv):
    path, t0, t1, rate = argv[0], float(argv[1]), float(argv[2]), float(argv[3])
    top = int(argv[4]) if len(argv) > 4 else 15
    recs = []
    for line in open(path):
        try: rec = json.loads(line)
        except ValueError: continue
        if t0 <= rec['t'] <= t1: recs.append(rec)
    def table(rec): return {(l, tid, comm): (r, w, n, *(rest or [0, 0])) for l, pid, tid, comm, r, w, n, *rest in rec['p']}
    acc = {c: collections.defaultdict(lambda: [0, 0, 0, 0, 0]) for c in ('direct', 'router', 'nginx')}
    secs = collections.Counter()
    prev = table(recs[0]); pt = recs[0]['t']
    for rec in recs[1:]:
        cur = table(rec); dt = rec['t'] - pt
        d = {k: [cur[k][i] - prev[k][i] for i in range(5)] for k in cur if k in prev}
        cpu = collections.Counter()
        for k, v in d.items(): cpu[k[0]] += v[0]
        # which proxy carried the traffic: the router's event loops or nginx's worker busy for > 5 % of the interval
        rl = sum(v[0] for k, v in d.items() if k[0] == 'router' and k[2].startswith('vert.x-eventlo'))
        ng = cpu['nginx']
        c = 'router' if rl > 0.05 * dt * 1e9 and rl > ng else 'nginx' if ng > 0.05 * dt * 1e9 else 'direct'
        secs[c] += dt
        for k, v in d.items():
            a = acc[c][k]
            for i in range(5): a[i] += v[i]
        prev, pt = cur, rec['t']
    for c in ('direct', 'router', 'nginx'):
        req = secs[c] * rate
        if req == 0: continue
        print(f"== {c} slices: {secs[c]:.1f} s, {req:.0f} requests; per request: run us / run-queue wait us / time slices")
        lab = collections.defaultdict(lambda: [0, 0, 0, 0, 0, 0])
        for k, v in acc[c].items():
            if v[2] == 0: continue
            L = lab[k[0]]
            for i in range(5): L[i] += v[i]
            L[5] += 1
        for l, (r, w, n, ut, st, th) in sorted(lab.items()):
            print(f"  {l:7s} run {r/req/1e3:7.1f}  wait {w/req/1e3:7.1f}  slices {n/req:6.3f}  threads that ran {th}  wait/slice {w/max(n,1)/1e3:6.1f} us  user {ut*1e4/req:6.1f} sys {st*1e4/req:6.1f} us")
        rows = sorted(((k, v) for k, v in acc[c].items() if v[2]), key=lambda x: -x[1][2])
        for (l, tid, comm), (r, w, n, ut, st) in rows[:top]:
            print(f"     {l:7s} {comm:16s} {tid:>8} run {r/req/1e3:7.1f}  wait {w/req/1e3:7.1f}  slices {n/req:6.3f}  user {ut*1e4/req:6.1f} sys {st*1e4/req:6.1f}")


if __name__ == '__main__':
    {'sample': sample, 'window': window, 'router-slices': router_slices}[sys.argv[1]](sys.argv[2:])
