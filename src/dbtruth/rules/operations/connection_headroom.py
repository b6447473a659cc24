"""O019 connection-headroom."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.spec import Settings, ops_rule


@ops_rule("O019", "connection-headroom", Severity.WARNING)
def connection_headroom(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Reports a server using more than `connection_share` (default 0.8) of the connections
    ordinary roles may open: max_connections less the slots reserved for superusers (and, from
    PostgreSQL 16, for pg_use_reserved_connections).

    ## Why is this bad?
    When the last ordinary slot is taken, the next application instance to start, the next
    pool to grow, or a migration fails to connect at all — usually in the middle of the spike
    that needed more connections. Headroom is what lets an incident be handled (§6.9, §10.1).

    ## Example
    ```
    max_connections = 100, 85 client sessions open
    ```

    ## Use instead
    A connection pooler (PgBouncer) in front of the application, pools sized from the server's
    limit, and idle sessions closed by the pool.

    ## Fix safety
    No fix is produced: raising max_connections needs a restart and memory (work_mem per
    backend); a pooler is the lasting fix.

    ## References
    PostgreSQL manual 20.3.1 Connection Settings; playbook §6.9.
    """
    total = int(facts.value("max_connections", "0") or 0)
    reserved = int(facts.value("superuser_reserved_connections", "0") or 0) + int(
        facts.value("reserved_connections", "0") or 0
    )
    usable = total - reserved
    if usable <= 0 or facts.connections < settings.ops.connection_share * usable:
        return
    yield Violation(
        ObjectRef("setting", "", "max_connections"),
        f"{facts.connections} of the {usable} connections ordinary roles may open are in use "
        f"({facts.connections / usable:.0%})",
        evidence=(
            ("max_connections", str(total)),
            ("reserved", str(reserved)),
            ("client sessions", str(facts.connections)),
        ),
    )
