"""S006 public-table-privileges."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import qualified
from dbtruth.spec import Settings, rule


@rule("S006", "public-table-privileges", Severity.WARNING)
def public_table_privileges(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds tables, views and materialized views with privileges granted to PUBLIC.

    ## Why is this bad?
    PUBLIC is every role that exists now or will be created: reporting users, support tools,
    extensions' roles. A grant to PUBLIC is the opposite of "Role/grant minimal?" (§6.8) and
    puts every export and support path inside the data boundary (§3.9).

    ## Example
    ```sql
    GRANT SELECT ON case_file TO PUBLIC;
    ```

    ## Use instead
    ```sql
    REVOKE ALL ON case_file FROM PUBLIC;
    GRANT SELECT ON case_file TO case_reader;
    ```

    ## Fix safety
    REVOKE is immediate and takes no table lock, but any role that relied on the PUBLIC grant
    loses access: grant the real readers first.

    ## References
    PostgreSQL manual 5.8 Privileges, GRANT; playbook §3.9, §6.8.
    """
    by_object: dict[str, list[str]] = {}
    kinds: dict[str, tuple[str, str, str]] = {}
    for grant in catalog.grants:
        if grant.grantee != "PUBLIC":
            continue
        by_object.setdefault(grant.object_qualified, []).append(grant.privilege)
        kinds[grant.object_qualified] = (grant.schema, grant.object, grant.object_kind)
    for qualified_name, privileges in by_object.items():
        schema, name, kind = kinds[qualified_name]
        yield Violation(
            ObjectRef("table" if kind.endswith("table") else "view", schema, name),
            f"{kind} {qualified_name} grants {', '.join(sorted(privileges))} to PUBLIC "
            "(every role, present and future)",
            Fix(
                "revoke from PUBLIC and grant to the roles that need it",
                sql=f"REVOKE ALL ON {qualified(schema, name)} FROM PUBLIC;",
                lock_safe=True,  # a catalog update: no lock held while queries run
                behaviour_change=True,
                note="roles relying on the PUBLIC grant lose access",
            ),
            evidence=(("privileges", ", ".join(sorted(privileges))),),
        )
