"""S008 view-bypasses-rls."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import qualified
from dbtruth.spec import Settings, rule


@rule("S008", "view-bypasses-rls", Severity.WARNING)
def view_bypasses_rls(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    Finds views over tables with row-level security that run with the view owner's rights (no
    `security_invoker`), and materialized views over such tables.

    ## Why is this bad?
    A view checks permissions and policies as its owner. When the owner owns the table (and RLS
    is not forced) or has BYPASSRLS, every reader of the view sees every tenant's rows: the
    search, report or export built on the view is outside the tenant boundary (§3.9, §6.8
    "Export/report/search boundary aman?"). A materialized view stores the rows, so no policy
    applies to it at all.

    ## Example
    ```sql
    CREATE VIEW open_cases AS SELECT * FROM case_file WHERE status = 'open';
    ```

    ## Use instead
    ```sql
    CREATE VIEW open_cases WITH (security_invoker = true) AS
        SELECT * FROM case_file WHERE status = 'open';
    ```

    A view no role is granted SELECT on is info: only its owner (and the members of the owner
    role) reads it, so the owner's rights reach nobody else — the pattern of tables kept behind
    deny-all RLS and read through the owner's own view. Said only when every statement loaded.

    ## Fix safety
    ALTER VIEW ... SET (security_invoker) needs PostgreSQL 15+ and changes who needs privileges
    on the base tables: the view's readers need them now.

    ## References
    PostgreSQL manual CREATE VIEW (security_invoker), 5.9 Row Security Policies; playbook §3.9.
    """
    for view in catalog.views:
        protected = [
            name
            for name in view.depends_on
            if (table := catalog.table(name)) is not None and table.rls_enabled
        ]
        if not protected or (view.security_invoker and not view.materialized):
            continue
        if view.materialized:
            fix = Fix(
                "do not materialize RLS-protected rows for shared readers; restrict the "
                "materialized view's grants to roles that may see every row"
            )
            problem = "stores rows of"
        elif catalog.server_version_num >= 150000:
            fix = Fix(
                "run the view with the caller's rights",
                sql=f"ALTER VIEW {qualified(view.schema, view.name)} "
                "SET (security_invoker = true);",
                lock_safe=True,
                behaviour_change=True,
                note="readers then need privileges on the base tables",
            )
            problem = "reads with its owner's rights from"
        else:
            fix = Fix(
                "upgrade to PostgreSQL 15+ for security_invoker, or move the filter into "
                "a SECURITY INVOKER function"
            )
            problem = "reads with its owner's rights from"
        readers = sorted(
            {g.grantee for g in catalog.grants_on(view.qualified) if g.privilege == "SELECT"}
        )
        # Only the owner reads it: no reader for the owner's rights to leak rows to. Graphile
        # Worker keeps its tables behind deny-all RLS and reads them through such a view, as
        # their owner. Said only when the catalog is whole: a GRANT that failed to load (its
        # role missing from the scratch server) would hide a reader.
        owner_only = not readers and not catalog.load_problems
        yield Violation(
            ObjectRef("materialized view" if view.materialized else "view", view.schema, view.name),
            f"{'materialized view' if view.materialized else 'view'} {view.qualified} "
            f"{problem} RLS-protected {', '.join(protected)}: row policies do not apply to its "
            "readers"
            + (
                f"; no role is granted SELECT on it, so only {view.owner or 'its owner'} (and "
                "the members of that role) reads it: the owner's own interface to its tables"
                if owner_only
                else f" ({', '.join(readers)} may read it)"
                if readers
                else ""
            ),
            fix,
            evidence=(
                ("protected tables", ", ".join(protected)),
                ("owner", view.owner),
                ("granted SELECT", ", ".join(readers) or "nobody but the owner"),
            ),
            severity=Severity.INFO if owner_only else None,
        )
