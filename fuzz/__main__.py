"""The fuzz campaign: `python -m fuzz [--count N] [--seed S] [--workers W] [--ops inspect,run,dlopen]`.

Mutants 0..N-1 of campaign S (fuzz.mutants) each go through every operation (fuzz.runner), in W
worker processes; prints a summary (cases, findings by problem, the slowest case, the highest
resident set) and writes every finding as a JSON line to `--out`.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fuzz.mutants import corpus, mutant  # noqa: E402
from fuzz.runner import OPERATIONS, Runner  # noqa: E402

_runner: Runner | None = None
_files: list[Path] = []
_cache: dict = {}


def _init(samples: str, limit: float) -> None:
    global _runner, _files
    _files = corpus(Path(samples))
    _runner = Runner(Path(samples), limit=limit).__enter__()


def _work(job) -> list[dict]:
    seed, start, stop, ops = job
    out = []
    for index in range(start, stop):
        m = mutant(_files, seed, index, _cache)
        for finding in _runner.run(m, ops, json_inspect=bool(index % 2)):
            out.append(finding.to_json())
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ops", default=",".join(OPERATIONS))
    parser.add_argument("--limit", type=float, default=5.0, help="seconds after which a case is slow")
    parser.add_argument("--samples", default=str(ROOT / "samples" / "out"))
    parser.add_argument("--out", default="fuzz-findings.jsonl")
    parser.add_argument("--chunk", type=int, default=50)
    args = parser.parse_args(argv)
    ops = tuple(args.ops.split(","))
    jobs = [(args.seed, i, min(i + args.chunk, args.start + args.count), ops)
            for i in range(args.start, args.start + args.count, args.chunk)]
    began = time.perf_counter()
    counts: collections.Counter = collections.Counter()
    cases = 0
    slowest = (0.0, "")
    biggest = (0, "")
    ctx = multiprocessing.get_context("fork")
    with open(args.out, "w") as out, ctx.Pool(args.workers, _init, (args.samples, args.limit),
                                              maxtasksperchild=40) as pool:
        for done, results in enumerate(pool.imap_unordered(_work, jobs), 1):
            for r in results:
                cases += 1
                counts["status " + r["status"]] += 1
                slowest = max(slowest, (r["seconds"], f"{r['op']} {r['mutant']}"))
                biggest = max(biggest, (r["peak_rss"], f"{r['op']} {r['mutant']}"))
                for problem in r["problems"]:
                    counts[problem.split(":")[0]] += 1
                if r["problems"]:
                    out.write(json.dumps(r) + "\n")
                    out.flush()
            if done % 20 == 0 or done == len(jobs):
                print(f"{done}/{len(jobs)} chunks, {cases} cases, {time.perf_counter() - began:.0f} s, "
                      f"{dict(counts)}", flush=True)
    print(f"mutants {args.start}..{args.start + args.count - 1} of seed {args.seed}, operations {','.join(ops)}")
    print(f"cases: {cases} in {time.perf_counter() - began:.0f} s with {args.workers} workers")
    print(f"outcomes: {counts['status ok']} ok, {counts['status error']} clean errors, "
          f"{counts['status raw']} raw exceptions")
    print(f"problems: raw {counts['raw']}, slow {counts['slow']}, memory {counts['memory']}, "
          f"message {counts['message']}, state {counts['state']}, hard-timeout {counts['hard-timeout']}")
    print(f"slowest case: {slowest[0]:.2f} s ({slowest[1]})")
    print(f"highest resident set: {biggest[0] / 2**20:.0f} MiB ({biggest[1]})")
    print(f"findings written to {args.out}")
    return 0 if not any(counts[k] for k in ("raw", "slow", "memory", "message", "state", "hard-timeout")) else 1


if __name__ == "__main__":
    raise SystemExit(main())
