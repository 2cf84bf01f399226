# ruff: noqa  (a scratch scale script from the person-index work, kept as run; tidy when extended)
"""Scale figures for the person index: cluster_full / re-run / attach on N records."""

import resource, sys, tempfile, time, math
from datetime import UTC, datetime
import numpy as np, pyarrow as pa
from leds.store import open_store
from leds.link import index, review
from leds.link._index_cluster import cluster_nodes

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_800_000
TARGET_PAIRS = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000_000
URL = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp()
rng = np.random.default_rng(7)


def rss():  # peak MB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


store = open_store(URL)
t = time.perf_counter()
now = datetime.now(UTC)
with store.transaction() as conn:
    conn.exec_driver_sql(
        "INSERT INTO imports (source, path, actor_id, started_at, status) VALUES ('pnc','b','b','2026-01-01','done')"
    ) if store.backend == "sqlite" else conn.exec_driver_sql(
        "INSERT INTO imports (source, path, actor_id, started_at, status) VALUES ('pnc','b','b','2026-01-01','done')"
    )
    imp = conn.exec_driver_sql("SELECT max(id) FROM imports").scalar()
    from leds.link._index_sql import bulk_insert
    from leds.store.schema import records

    bulk_insert(
        conn,
        records,
        (
            "source",
            "kind",
            "source_record_id",
            "payload",
            "content_hash",
            "import_id",
            "file",
            "line",
            "imported_at",
        ),
        (("pnc", "person", f"R{i}", "{}", "0", imp, "f", i, now) for i in range(N + 10_000)),
    )
    ids = np.array(
        sorted(int(r[0]) for r in conn.exec_driver_sql("SELECT id FROM records")), dtype=np.int64
    )
print(f"setup: {N + 10_000:,} records inserted in {time.perf_counter() - t:.1f}s")
rec, new = ids[:N], ids[N:]
# true persons: sizes 1..4 (mean ~1.8)
sizes = rng.choice([1, 2, 3, 4], size=N, p=[0.45, 0.35, 0.15, 0.05])
ends = np.cumsum(sizes)
ends = ends[ends <= N]
group = np.zeros(N, dtype=np.int64)
group[ends[:-1]] = 1
group = np.cumsum(group)
# intra-group pairs: each record with the next one(s) in its group
l_list, r_list = [], []
for k in (1, 2, 3):
    same = np.flatnonzero(group[k:] == group[:-k])
    l_list.append(same)
    r_list.append(same + k)
il = np.concatenate(l_list)
ir = np.concatenate(r_list)
ip = rng.uniform(0.9, 1.0, len(il))
weak = rng.random(len(il)) < 0.02
ip[weak] = rng.uniform(0.3, 0.9, int(weak.sum()))
m = TARGET_PAIRS - len(il)
xl = rng.integers(0, N, m)
xr = rng.integers(0, N, m)
xp = rng.beta(0.5, 8, m)  # mostly low, a tail above 0.9
keep = xl != xr
l = np.concatenate([il, xl[keep]])
r = np.concatenate([ir, xr[keep]])
p = np.concatenate([ip, xp[keep]])
lo, hi = np.minimum(l, r), np.maximum(l, r)


def table(lo, hi, p, ids):
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return pa.table(
        {
            "id_l": ids[lo],
            "id_r": ids[hi],
            "match_weight": np.log2(p / (1 - p)),
            "match_probability": p,
        }
    )


pairs = table(lo, hi, p, rec)
print(
    f"pairs: {pairs.num_rows:,} ({int((p >= 0.9).sum()):,} at or above 0.9); true persons {group.max() + 1:,}"
)
t = time.perf_counter()
cl = cluster_nodes(N, lo[p >= 0.9], hi[p >= 0.9], p[p >= 0.9])
print(
    f"cluster_nodes alone: {time.perf_counter() - t:.1f}s, {cl.count:,} clusters, peak RSS {rss():.0f} MB"
)


def run(kind, fn):
    t = time.perf_counter()
    with store.transaction() as conn:
        rid = index.start_run(
            conn, kind=kind, model_version="bench", threshold=0.9, actor_id="bench"
        )
        out = fn(conn, rid)
        t1 = time.perf_counter()
        q = index.queue_for_review(conn, rid, pairs, low=0.5, high=0.99) if kind == "full" else 0
        t2 = time.perf_counter()
        index.finish_run(conn, rid, out)
    t3 = time.perf_counter()
    print(
        f"{kind}: index {t1 - t:.1f}s + review queue {t2 - t1:.1f}s + commit {t3 - t2:.1f}s  {out.counts()} queued={q}  peak RSS {rss():.0f} MB"
    )
    return out


run("full", lambda c, rid: index.cluster_full(c, rid, pa.array(rec), pairs, threshold=0.9))
run("full", lambda c, rid: index.cluster_full(c, rid, pa.array(rec), pairs, threshold=0.9))
# perturb: 1% of intra links drop below threshold, 0.5% of cross pairs rise above
p2 = p.copy()
p2[rng.choice(len(il), len(il) // 100, replace=False)] = 0.5
cross = len(il) + rng.choice(len(p) - len(il), (len(p) - len(il)) // 200, replace=False)
p2[cross] = 0.95
pairs = table(lo, hi, p2, rec)
run("full", lambda c, rid: index.cluster_full(c, rid, pa.array(rec), pairs, threshold=0.9))
# decisions on the big index
with store.transaction() as conn:
    t = time.perf_counter()
    a, b = int(rec[il[0]]), int(rec[ir[0]])
    d = review.decide(conn, a, b, "not-a-match", "bench", "bench")
    u = review.undo_decision(conn, d.id, "bench", "bench")
    print(
        f"decide + undo on the full index: {time.perf_counter() - t:.2f}s ({d.change.records_changed}, {u.change.records_changed})"
    )
# attach 10k new records: each linked to 1-2 existing ones, some to none
k = len(new)
tgt = rng.integers(0, N, k)
nl = np.concatenate([np.arange(k), np.arange(k)[: k // 10]])
nr = np.concatenate([tgt, rng.integers(0, N, k // 10)])
npb = np.concatenate([rng.uniform(0.5, 1.0, k), rng.uniform(0.9, 1.0, k // 10)])
npb = np.clip(npb, 1e-9, 1 - 1e-9)
a_ids, b_ids = new[nl], rec[nr]
att = pa.table(
    {
        "id_l": np.minimum(a_ids, b_ids),
        "id_r": np.maximum(a_ids, b_ids),
        "match_weight": np.log2(npb / (1 - npb)),
        "match_probability": npb,
    }
)
run("incremental", lambda c, rid: index.attach(c, rid, new.tolist(), att, threshold=0.9))
