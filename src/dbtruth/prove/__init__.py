"""`dbtruth prove`: which invariants the database really enforces, shown by attempting the
illegal write on a throwaway copy of the schema.

    run.py          prove_target(ProveOptions) -> Proved: the one entry point
    clone.py        the copy in the scratch server (SQL files loaded, or a live schema dumped)
    derive.py       the invariants: dbtruth.yaml's, and those the catalog states
    plans.py        what each probe is to do, per invariant kind
    probes.py       the probes: control write, illegal write, verdict
    rows.py         legal rows made from the catalog (parents, NOT NULL, CHECK, enum values)
    expressions.py  the CHECK and predicate shapes dbtruth can satisfy or break
    runner.py       one probe's transaction, every statement in a savepoint, all rolled back
    model.py        statuses, probes and proofs as plain data
"""
