"""O013 role-without-timeouts."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts, Role
from dbtruth.model.sqlnames import ident
from dbtruth.spec import Settings, ops_rule

_TIMEOUTS = ("statement_timeout", "idle_in_transaction_session_timeout")


@ops_rule("O013", "role-without-timeouts", Severity.WARNING)
def role_without_timeouts(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds the application's login roles whose sessions start without a `statement_timeout` or
    an `idle_in_transaction_session_timeout`: neither the role (ALTER ROLE … SET, also IN
    DATABASE), the database (ALTER DATABASE … SET) nor the server's configuration sets one.
    The application role is dbtruth.yaml's `tenancy.role`; without it, every login role that is
    neither a superuser nor a replication role is reported at info, since which of them the
    application uses is a guess.

    ## Why is this bad?
    Without a statement timeout one runaway query holds its locks and a connection until
    someone notices; without an idle-in-transaction timeout a forgotten transaction holds back
    VACUUM for every table (O005). The database is the last place that can bound what an
    application does to it (§6.9, §9 "Deadlock storm").

    ## Example
    ```sql
    CREATE ROLE app LOGIN;   -- and nothing else
    ```

    ## Use instead
    ```sql
    ALTER ROLE app SET statement_timeout = '30s';
    ALTER ROLE app SET idle_in_transaction_session_timeout = '60s';
    ```

    ## Fix safety
    Applies to the role's new sessions. It changes behaviour on purpose: a statement longer
    than the timeout is cancelled, a transaction left idle is ended; migrations and reports
    that run as the same role need their own `SET` (or their own role).

    ## References
    PostgreSQL manual 20.11.1 Statement Behavior, ALTER ROLE; playbook §6.9.
    """
    wanted = settings.application_role
    for role in facts.roles:
        if wanted is not None and role.name != wanted:
            continue
        if wanted is None and (not role.login or role.superuser or role.replication):
            continue
        missing = [name for name in _TIMEOUTS if _effective(facts, role, name) in ("0", "")]
        if not missing:
            continue
        yield Violation(
            ObjectRef("role", "", role.name),
            f"role {role.name} starts its sessions without {' and '.join(missing)}: a runaway "
            "statement or a forgotten transaction is bounded by nothing",
            Fix(
                "bound the role's statements and idle transactions",
                sql="\n".join(
                    f"ALTER ROLE {ident(role.name)} SET {name} = "
                    f"'{'30s' if name == 'statement_timeout' else '60s'}';"
                    for name in missing
                ),
                lock_safe=True,
                behaviour_change=True,
                note="applies to new sessions; longer statements are then cancelled",
            ),
            evidence=tuple(
                (name, f"{_effective(facts, role, name) or '0'} ({_source(facts, role, name)})")
                for name in _TIMEOUTS
            ),
            severity=None if wanted is not None else Severity.INFO,
        )


def _effective(facts: OpsFacts, role: Role, name: str) -> str:
    """What a new session of the role gets: the role's own setting (for this database first),
    else the database's, else the server's."""
    own = role.setting(name)
    if own is not None:
        return own
    server = facts.setting(name)
    return server.value if server is not None else "0"


def _source(facts: OpsFacts, role: Role, name: str) -> str:
    if role.setting(name) is not None:
        return "ALTER ROLE … SET"
    server = facts.setting(name)
    return server.where if server is not None else "?"
