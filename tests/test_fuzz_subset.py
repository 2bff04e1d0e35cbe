"""A seeded subset of the fuzz campaign (fuzz/, docs/hardening.md) runs with every test run.

2,000 mutants of the bundled samples (every kind of fuzz.mutants) go through `dldbg inspect`;
every eighth one also through `dldbg run` and a debugger `dlopen` (each with its watchdog).
Clean means: no exception outside DldbgError, no load failing with an internal error, no case
over 5 s or growing the resident set by 1 GiB, every load failure naming file and stage (and the
byte offset for read and imports failures), nothing left behind by a failed dlopen.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fuzz.mutants import KINDS, corpus, mutant  # noqa: E402
from fuzz.runner import Runner  # noqa: E402

SEED = 20261205
COUNT = 2000
LOAD_EVERY = 8


def test_seeded_fuzz_subset_is_clean():
    samples = ROOT / "samples" / "out"
    files = corpus(samples)
    cache: dict = {}
    problems, kinds, loads = [], set(), 0
    with Runner(samples) as runner:
        for index in range(COUNT):
            m = mutant(files, SEED, index, cache)
            kinds.add(m.kind)
            ops = ("inspect", "run", "dlopen") if index % LOAD_EVERY == 0 else ("inspect",)
            for finding in runner.run(m, ops, json_inspect=bool(index % 2)):
                loads += finding.op != "inspect"
                if finding.problems:
                    problems.append(f"{finding.op} {finding.mutant}: {finding.problems} {finding.error}")
    assert kinds == set(KINDS)
    assert loads >= 2 * COUNT // LOAD_EVERY - 20
    assert not problems, "\n".join(problems[:20])
