"""issue 19 item 6 (benchmarks/RESULTS.md): peak memory (process tree RSS, sampled every 0.2 s) and wall time of MOSES's documented call
moses_metrics(gen, train, test=test, test_scaffolds=test_scaffolds, n_jobs=2) on MOSES's lists."""
import os, random, resource, sys, threading, time, json, logging
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
from pathlib import Path

def tree_rss_bytes(root):
    pids, total = [root], 0
    seen = set()
    while pids:
        p = pids.pop()
        if p in seen: continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for t in os.listdir(f"/proc/{p}/task"):
                try:
                    with open(f"/proc/{p}/task/{t}/children") as f:
                        pids.extend(int(c) for c in f.read().split())
                except OSError: pass
        except OSError: pass
    return total

peak = [0]
stop = threading.Event()
def sampler():
    me = os.getpid()
    while not stop.is_set():
        peak[0] = max(peak[0], tree_rss_bytes(me)); time.sleep(0.2)
threading.Thread(target=sampler, daemon=True).start()

from vaekit.domains.molecules.protocol import read_moses_smiles
from vaekit.domains.molecules.moses import moses_metrics
d = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data" / "molecules" / "moses"
t0 = time.time()
train = read_moses_smiles(d / "train.csv.gz")
test = read_moses_smiles(d / "test.csv.gz")
test_sf = read_moses_smiles(d / "test_scaffolds.csv.gz")
# 30,000 "generated" molecules: a seeded sample of the training set (novelty is then 0; every
# other metric exercises the full featurisation of the reference lists)
gen = random.Random(0).sample(train, 30000)
print(f"lists: train {len(train)} test {len(test)} test_scaffolds {len(test_sf)} gen {len(gen)}", flush=True)
t1 = time.time()
res = moses_metrics(gen, train, test=test, test_scaffolds=test_sf, n_jobs=2)
t2 = time.time()
stop.set()
ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ru_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({k: round(float(v), 4) for k, v in res.items()}))
print(f"moses_metrics wall {t2 - t1:.0f} s (reading lists {t1 - t0:.0f} s); peak tree RSS {peak[0] / 2**30:.2f} GiB; "
      f"max RSS main {ru_self / 2**30:.2f} GiB, largest child {ru_child / 2**30:.2f} GiB", flush=True)
