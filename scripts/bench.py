"""Speed and memory benchmark: scoring throughput against a bare standard-library read, peak memory,
start-up, warm latency, training time and memory, with the model's accuracy beside them.

    python scripts/bench.py                       # everything (about 15 minutes on 2 cores)
    python scripts/bench.py --only throughput memory --full-reps 1
    python scripts/bench.py --json bench.json     # also write the figures as JSON

Every figure is the median of ``--reps`` runs (``--full-reps`` for the runs over the whole
mailbox, which take a minute or more each). Each measured command runs in a fresh process; the
command line is printed next to its figure so that it can be run by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
NEGCLASS = [PY, "-m", "negclass"]
DEFAULT_MBOX = ROOT.parent / "shared" / "data" / "enron-sample.mbox"

# The bare read: split the mbox, parse each message with email.policy.default and get its best
# text body. Nothing else. Prints "messages seconds".
BARE_READ = r"""
import email, sys, time
from email import policy
def raw_messages(path):
    lines, prev_blank = [], True
    with open(path, "rb") as fh:
        for line in fh:
            if prev_blank and line.startswith(b"From ") and lines:
                yield b"".join(lines[1:])
                lines = []
            lines.append(line)
            prev_blank = line in (b"\n", b"\r\n")
    if lines:
        yield b"".join(lines[1:])
t = time.perf_counter()
n = 0
for raw in raw_messages(sys.argv[1]):
    msg = email.message_from_bytes(raw, policy=policy.default)
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        try:
            body.get_content()
        except Exception:
            pass
    n += 1
print(n, time.perf_counter() - t)
"""

EMAIL_200 = (
    "Hi Sam,\n\nThanks for sending the revised proposal over on Friday and for walking us through the "
    "numbers with the team last week. I have shared it with our operations group and with finance, and "
    "I wanted to give you a straight answer rather than keep you waiting. At the moment we are quite happy "
    "with our current supplier. They have been reliable for the last three years, the service levels are "
    "fine, and we already have two other quotes in hand from vendors who approached us in the spring. "
    "Given that, I don't see a reason to set up a meeting to go through the terms in detail right now. "
    "If your pricing changes substantially, or if you can come back with something that is clearly better "
    "than what we have today, feel free to send it over in writing and I will make sure it gets looked at. "
    "We are also in the middle of a budget cycle, so nothing will move before next quarter in any case. "
    "I appreciate the effort you and your colleagues have put into this and hope you understand.\n\n"
    "Best regards,\nJordan"
)
SHORT_EMAIL = "Thanks, but we're happy with our current supplier and have two other quotes, so no need to meet."


def sh(cmd: list) -> str:
    return " ".join(str(c) if " " not in str(c) else repr(str(c)) for c in cmd)


def run(cmd: list, env: dict | None = None, sample_tree: bool = False) -> dict:
    """Run a command; wall time, the main process's peak RSS, and (sampled) the process tree's."""
    # stderr goes to a file, not a pipe: a child that writes more than a pipe holds (training
    # prints a line per duplicate example) would block until it is read, which is after it ends
    err_file = tempfile.TemporaryFile()
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file, env=env)
    tree_peak = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG if sample_tree else 0)
        if pid:
            break
        tree_peak = max(tree_peak, _tree_rss(proc.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err_file.seek(0)
    err = err_file.read().decode(errors="replace")
    err_file.close()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {sh(cmd)}\n{err[-2000:]}")
    return {"wall": wall, "maxrss_mib": usage.ru_maxrss / 1024, "tree_mib": tree_peak / 1024 / 1024, "stderr": err}


def _tree_rss(pid: int) -> int:
    """Sum of RSS over ``pid`` and its descendants, in bytes (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def med(values):
    return statistics.median(values)


def count_messages(mbox: Path) -> int:
    n, prev_blank = 0, True
    with open(mbox, "rb") as fh:
        for line in fh:
            if prev_blank and line.startswith(b"From "):
                n += 1
            prev_blank = line in (b"\n", b"\r\n")
    return n


def head_mbox(mbox: Path, n: int, out: Path) -> Path:
    seen, prev_blank = 0, True
    with open(mbox, "rb") as fh, open(out, "wb") as dst:
        for line in fh:
            if prev_blank and line.startswith(b"From "):
                seen += 1
                if seen > n:
                    break
            dst.write(line)
            prev_blank = line in (b"\n", b"\r\n")
    return out


# -- sections -----------------------------------------------------------------------------------
def bench_throughput(a, tmp: Path, out: dict) -> None:
    n = count_messages(a.mbox)
    bare_cmd = [PY, "-c", BARE_READ, a.mbox]
    rows = {}
    for jobs in a.jobs:
        cmd = NEGCLASS + ["score", a.mbox, "--out", tmp / f"scored{jobs}.csv", "--quiet", "--model", a.model]
        if jobs:
            cmd += ["--jobs", str(jobs)]
        rows[jobs] = {"cmd": cmd, "walls": []}
    bare = []
    for _ in range(a.full_reps):  # interleaved, so that a slow spell of the machine hits every figure
        out_line = subprocess.run(bare_cmd, capture_output=True, text=True, check=True).stdout.split()
        bare.append(int(out_line[0]) / float(out_line[1]))
        for jobs, row in rows.items():
            row["walls"].append(run(row["cmd"])["wall"])
    bare_rate = med(bare)
    out["throughput"] = {"messages": n, "bare_read_rate": bare_rate, "bare_read_cmd": "python -c BARE_READ " + str(a.mbox),
                         "runs": a.full_reps, "score": {}}
    print(f"\n## Throughput ({n} messages, median of {a.full_reps})")
    print(f"bare read (email.policy.default + get_body + get_content): {bare_rate:.0f} msg/s  "
          f"[{', '.join(f'{x:.0f}' for x in bare)}]")
    for jobs, row in rows.items():
        rate = n / med(row["walls"])
        label = f"--jobs {jobs}" if jobs else "default jobs"
        out["throughput"]["score"][label] = {"rate": rate, "wall": med(row["walls"]), "ratio": rate / bare_rate,
                                             "cmd": sh(row["cmd"])}
        print(f"score {label}: {rate:.0f} msg/s, wall {med(row['walls']):.1f} s (model load included), "
              f"ratio {rate / bare_rate:.2f}  [{', '.join(f'{w:.1f}' for w in row['walls'])}]\n    {sh(row['cmd'])}")


def bench_memory(a, tmp: Path, out: dict) -> None:
    small = head_mbox(a.mbox, 3000, tmp / "first3000.mbox")
    res = {}
    print(f"\n## Peak memory (default jobs; main process by wait4, whole process tree sampled every 50 ms)")
    for label, path, reps in (("3000", small, a.reps), ("all", a.mbox, a.full_reps)):
        cmd = NEGCLASS + ["score", path, "--out", tmp / f"mem_{label}.csv", "--quiet", "--model", a.model]
        runs = [run(cmd, sample_tree=True) for _ in range(reps)]
        res[label] = {"main_mib": med([r["maxrss_mib"] for r in runs]), "tree_mib": med([r["tree_mib"] for r in runs]),
                      "cmd": sh(cmd), "runs": reps}
        print(f"{label:>5} messages: main {res[label]['main_mib']:.0f} MiB, all processes {res[label]['tree_mib']:.0f} MiB"
              f"  (median of {reps})\n    {sh(cmd)}")
    res["ratio_main"] = res["all"]["main_mib"] / res["3000"]["main_mib"]
    res["ratio_tree"] = res["all"]["tree_mib"] / res["3000"]["tree_mib"]
    print(f"ratio all/3000: main {res['ratio_main']:.2f}, all processes {res['ratio_tree']:.2f}")
    out["memory"] = res


def bench_startup(a, tmp: Path, out: dict) -> None:
    imp = [PY, "-c", "import sklearn.linear_model, spacy"]
    cls = NEGCLASS + ["classify", "--model", a.model, SHORT_EMAIL]
    entry = Path(PY).parent / "negclass"
    if entry.exists():
        cls = [entry] + cls[3:]
    ti, tc = [], []
    for _ in range(a.reps + 1):
        ti.append(run(imp)["wall"])
        tc.append(run(cls)["wall"])
    ti, tc = ti[1:], tc[1:]  # the first pair warms the file cache
    out["startup"] = {"import": med(ti), "classify": med(tc), "ratio": med(tc) / med(ti),
                      "import_cmd": sh(imp), "classify_cmd": sh(cls)}
    print(f"\n## Start-up (median of {a.reps}, after one warm-up pair)")
    print(f"bare import: {med(ti):.2f} s   {sh(imp)}")
    print(f"cold classify: {med(tc):.2f} s   {sh(cls)}")
    print(f"ratio {med(tc) / med(ti):.2f}")

    code = (
        "import json, statistics, sys, time\n"
        "import negclass\n"
        f"m = negclass.load_model({str(a.model)!r})\n"
        f"text = {EMAIL_200!r}\n"
        "for _ in range(20): m.classify(text)\n"
        "ts = []\n"
        "for _ in range(300):\n"
        "    t = time.perf_counter(); m.classify(text); ts.append((time.perf_counter() - t) * 1000)\n"
        "ts.sort(); print(json.dumps([ts[len(ts) // 2], ts[int(len(ts) * 0.95)], len(text.split())]))\n")
    p50s, p95s = [], []
    for _ in range(a.reps):
        p50, p95, words = json.loads(subprocess.run([PY, "-c", code], capture_output=True, text=True,
                                                    check=True).stdout)
        p50s.append(p50)
        p95s.append(p95)
    out["warm"] = {"p50_ms": med(p50s), "p95_ms": med(p95s), "words": words}
    print(f"warm model.classify, {words}-word email, 300 calls: p50 {med(p50s):.1f} ms, p95 {med(p95s):.1f} ms "
          f"(median over {a.reps} processes)")


def perturbed_corpus(n_total: int, out_file: Path, seed: int = 0) -> int:
    """Training rows of the shipped corpus (never held-out ones) repeated with light perturbation
    (a word dropped or duplicated, a greeting or filler sentence added) up to ``n_total`` examples
    together with the corpus itself."""
    import csv

    split = {r["id"]: r["split"] for r in csv.DictReader(open(ROOT / "data" / "split.csv"))}
    rows = []
    for f in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        for line in open(f, encoding="utf-8"):
            if line.strip():
                rows.append(json.loads(line))
    train = [r for r in rows if split.get(r.get("id")) == "train"]
    rng = random.Random(seed)
    fillers = ["Hope your week is going well.", "Thanks for the note.", "Sorry for the slow reply.",
               "Just catching up on email.", "Quick one from me.", "Appreciate you reaching out."]
    extra = []
    i = 0
    while len(rows) + len(extra) < n_total:
        r = dict(train[i % len(train)])
        words = r["text"].split(" ")
        for _ in range(2):
            k = rng.randrange(len(words))
            if rng.random() < 0.5 and len(words) > 4:
                del words[k]
            else:
                words.insert(k, words[k])
        text = " ".join(words)
        text = (f"{rng.choice(fillers)} {text}" if rng.random() < 0.5 else f"{text} {rng.choice(fillers)}")
        r.update(id=f"bench-{i}", text=text, source="bench")
        extra.append({k: r[k] for k in ("id", "text", "reason", "signal") if k in r})
        i += 1
    with open(out_file, "w", encoding="utf-8") as fh:
        for r in extra:
            fh.write(json.dumps(r) + "\n")
    return len(rows) + len(extra)


def bench_train(a, tmp: Path, out: dict) -> None:
    env = dict(os.environ, NEGCLASS_HOME=str(tmp / "home"), NEGCLASS_MODEL=str(a.model))
    big = tmp / "extra.jsonl"
    total = perturbed_corpus(10_000, big)
    res = {}
    print(f"\n## Training (median of {a.train_reps}; NEGCLASS_HOME and --out in a temp dir)")
    for label, extra in (("shipped corpus", []), (f"{total} examples", ["--data", big])):
        cmd = NEGCLASS + ["train", "--out", tmp / "trained"] + extra + (["--quick"] if a.quick_train else [])
        runs = [run(cmd, env=env, sample_tree=True) for _ in range(a.train_reps)]
        res[label] = {"wall": med([r["wall"] for r in runs]), "main_mib": med([r["maxrss_mib"] for r in runs]),
                      "tree_mib": med([r["tree_mib"] for r in runs]), "cmd": sh(cmd)}
        print(f"{label}: {res[label]['wall']:.1f} s, peak main {res[label]['main_mib']:.0f} MiB, "
              f"all processes {res[label]['tree_mib']:.0f} MiB\n    {sh(cmd)}")
    out["train"] = res


def bench_accuracy(a, tmp: Path, out: dict) -> None:
    m = json.loads((Path(a.model) / "metrics.json").read_text())
    h = m["heldout"]["model"]
    out["accuracy"] = {"heldout_macro_f1": h["macro_f1"], "heldout_accuracy": h["accuracy"], "n": h["n"],
                       "false_alarm_rate": h.get("false_alarm_rate")}
    print(f"\n## Accuracy ({a.model}/metrics.json, held-out rows)")
    print(f"macro-F1 {h['macro_f1']:.3f}, accuracy {h['accuracy']:.3f}, false alarms {h.get('false_alarm_rate', 0):.3f}, "
          f"n {h['n']}")


def machine() -> dict:
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import importlib.metadata as md
    vers = {p: md.version(p) for p in ("spacy", "scikit-learn", "numpy", "scipy")}
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "memory_gib": round(mem, 1),
            "python": platform.python_version(), "os": platform.platform(), **vers}


SECTIONS = {"accuracy": bench_accuracy, "throughput": bench_throughput, "memory": bench_memory,
            "startup": bench_startup, "train": bench_train}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mbox", type=Path, default=DEFAULT_MBOX)
    p.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    p.add_argument("--reps", type=int, default=5, help="runs per figure (default 5)")
    p.add_argument("--full-reps", type=int, default=3, help="runs per figure over the whole mailbox (default 3)")
    p.add_argument("--train-reps", type=int, default=1, help="runs per training figure (default 1)")
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to score with (0: default)")
    p.add_argument("--quick-train", action="store_true", help="train with --quick")
    p.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    p.add_argument("--json", type=Path)
    a = p.parse_args()
    a.model = a.model.resolve()
    out = {"machine": machine(), "args": {k: str(v) for k, v in vars(a).items()}}
    print("machine: " + ", ".join(f"{k} {v}" for k, v in out["machine"].items()))
    with tempfile.TemporaryDirectory(prefix="negclass-bench-") as tmp:
        for name in SECTIONS:
            if name in a.only:
                SECTIONS[name](a, Path(tmp), out)
                sys.stdout.flush()
    if a.json:
        a.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
