"""dbtruth prove on each public corpus: invariants, probes, statuses, the time of a full prove
(copy, catalog, probes) and probes per second. Prints a table; asserts nothing.

    python benchmarks/bench_prove.py [CORPUS ...]
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from corpora import corpora
from dbtruth.errors import DbtruthError
from dbtruth.prove.model import Status
from dbtruth.prove.run import ProveOptions, prove_target
from dbtruth.reading import TargetOptions


def main(names: list[str]) -> None:
    print(f"{'corpus':<22}{'invariants':>11}{'probes':>8}{'proven':>8}{'unenf.':>8}"
          f"{'n/prov.':>8}{'seconds':>9}{'probes/s':>10}")  # fmt: skip
    reasons: Counter[str] = Counter()
    for corpus in corpora():
        if names and corpus.name not in names:
            continue
        options = ProveOptions(
            TargetOptions(
                tuple(str(f) for f in corpus.files),
                scratch=corpus.scratch or "embedded",
                keep_going=corpus.keep_going,
                replace=tuple(f"{old}={new}" for old, new in corpus.replacements),
            )
        )
        started = time.perf_counter()
        try:
            proved = prove_target(options)
        except DbtruthError as exc:
            print(f"{corpus.name:<22} failed: {exc}")
            continue
        seconds = time.perf_counter() - started
        probes = sum(len(p.probes) for p in proved.proofs)
        print(
            f"{corpus.name:<22}{len(proved.proofs):>11}{probes:>8}"
            f"{proved.count(Status.PROVEN):>8}{proved.count(Status.UNENFORCED):>8}"
            f"{proved.count(Status.NOT_PROVABLE):>8}{seconds:>9.2f}{probes / seconds:>10.0f}"
        )
        for proof in proved.proofs:
            if proof.status is Status.NOT_PROVABLE:
                why = proof.reason or next((p.reason for p in proof.probes if p.reason), "")
                reasons[f"{corpus.name}: {(why or '')[:110]}"] += 1
    print("\nmost frequent reasons an invariant was not provable:")
    for reason, count in reasons.most_common(25):
        print(f"{count:>5}  {reason}")


if __name__ == "__main__":
    main(sys.argv[1:])
