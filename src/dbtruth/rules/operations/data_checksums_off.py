"""O015 data-checksums-off."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.spec import Settings, ops_rule


@ops_rule("O015", "data-checksums-off", Severity.INFO)
def data_checksums_off(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Reports a cluster initialised without data checksums.

    ## Why is this bad?
    A page corrupted by the storage below PostgreSQL is then read as data: wrong values are
    served, backed up and replicated, and the corruption is found — if ever — long after the
    backups that held good copies expired. With checksums, the first read fails loudly
    (§3.10: a restore must be known good).

    ## Example
    ```
    initdb -D data            # before PostgreSQL 18, checksums off by default
    ```

    ## Use instead
    ```
    initdb --data-checksums   # or, offline: pg_checksums --enable -D data
    ```

    ## Fix safety
    No SQL can turn them on: `pg_checksums --enable` runs on a stopped cluster and rewrites
    every page (time proportional to its size); on a replicated setup, enable on a standby and
    switch over. A small CPU cost on every page read and write.

    ## References
    PostgreSQL manual 30.2 Data Checksums, pg_checksums; playbook §3.10.
    """
    setting = facts.setting("data_checksums")
    if setting is None or setting.value != "off":
        return
    yield Violation(
        ObjectRef("setting", "", "data_checksums"),
        "the cluster has no data checksums: a page corrupted on disk is read as data",
        evidence=(("data_checksums", "off (set at initdb)"),),
    )
