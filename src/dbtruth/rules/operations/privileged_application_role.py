"""O014 privileged-application-role."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model.ops import OpsFacts
from dbtruth.model.sqlnames import ident
from dbtruth.spec import Settings, ops_rule


@ops_rule("O014", "privileged-application-role", Severity.ERROR)
def privileged_application_role(facts: OpsFacts, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Reports the application role dbtruth.yaml names (`tenancy.role`) when it is a superuser or
    has BYPASSRLS.

    ## Why is this bad?
    A superuser bypasses every privilege and row-level security policy, can read server files
    and run programs; BYPASSRLS alone turns every tenant policy off for the role. An
    application connecting as either makes the database's isolation, append-only grants and
    tenant boundaries decorative: one injected statement reaches everything (§3.9, §6.8).

    ## Example
    ```sql
    CREATE ROLE app LOGIN SUPERUSER;
    ```

    ## Use instead
    ```sql
    ALTER ROLE app NOSUPERUSER NOBYPASSRLS;  -- and GRANT what it needs
    ```

    ## Fix safety
    It changes behaviour on purpose: whatever the role did with its privileges (DDL in
    migrations, reading other tenants' rows) is refused afterwards; migrations belong to
    another role.

    ## References
    PostgreSQL manual 22.2 Role Attributes, 5.9 Row Security Policies; playbook §3.9, §6.8.
    """
    wanted = settings.application_role
    if wanted is None:
        return
    role = next((r for r in facts.roles if r.name == wanted), None)
    if role is None or not (role.superuser or role.bypassrls):
        return
    powers = [
        p for p, held in (("SUPERUSER", role.superuser), ("BYPASSRLS", role.bypassrls)) if held
    ]
    yield Violation(
        ObjectRef("role", "", role.name),
        f"the application role {role.name} has {' and '.join(powers)}: privileges and "
        "row-level security do not bind it",
        Fix(
            "take the privileges away",
            sql=f"ALTER ROLE {ident(role.name)} NOSUPERUSER NOBYPASSRLS;",
            lock_safe=True,
            behaviour_change=True,
            note="grant the role what it needs first",
        ),
        evidence=(("declared", "tenancy.role in dbtruth.yaml"), ("attributes", ", ".join(powers))),
    )
