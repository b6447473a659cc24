"""S007 security-definer-without-search-path."""

from __future__ import annotations

from collections.abc import Iterator

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import ident
from dbtruth.spec import Settings, rule


@rule("S007", "security-definer-without-search-path", Severity.ERROR)
def security_definer_without_search_path(
    catalog: Catalog, settings: Settings
) -> Iterator[Violation]:
    """
    ## What it does
    Finds SECURITY DEFINER functions and procedures that do not fix their `search_path`.

    ## Why is this bad?
    A SECURITY DEFINER function runs with its owner's rights but resolves unqualified names
    through the caller's search_path. A caller who can create objects in any schema on that
    path (or in pg_temp) can plant a function or operator the definer will call — privilege
    escalation to the owner, often a superuser (§3.9 security as data shape, §6.8).

    ## Example
    ```sql
    CREATE FUNCTION close_case(bigint) RETURNS void SECURITY DEFINER LANGUAGE sql
    AS $$ UPDATE case_file SET status = 'closed' WHERE id = $1 $$;
    ```

    ## Use instead
    ```sql
    ALTER FUNCTION close_case(bigint) SET search_path = public, pg_temp;
    ```

    ## Fix safety
    ALTER FUNCTION ... SET takes effect for the next call. The fix pins the function's own
    schema then pg_temp; a body that uses objects from other schemas must qualify them.

    ## References
    PostgreSQL manual CREATE FUNCTION, "Writing SECURITY DEFINER Functions Safely";
    playbook §3.9, §6.8.
    """
    for function in catalog.functions:
        if not function.security_definer:
            continue
        if any(c.lower().startswith("search_path=") for c in function.config):
            continue
        keyword = "PROCEDURE" if function.kind == "procedure" else "FUNCTION"
        yield Violation(
            ObjectRef("function", function.schema, f"{function.name}({function.arguments})"),
            f"SECURITY DEFINER {function.kind} {function.signature} does not fix its "
            "search_path: callers can make it run their objects with its owner's rights",
            Fix(
                "pin the search_path",
                sql=f"ALTER {keyword} {ident(function.schema)}.{ident(function.name)}"
                f"({function.arguments}) SET search_path = {ident(function.schema)}, pg_temp;",
                lock_safe=True,
                behaviour_change=True,
                note="unqualified names outside its schema then stop resolving",
            ),
        )
