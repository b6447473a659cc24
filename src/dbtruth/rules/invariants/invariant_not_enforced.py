"""I009 invariant-not-enforced."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dbtruth.findings import Fix, ObjectRef, Severity, Violation
from dbtruth.model import Catalog
from dbtruth.model.sqlnames import ident, qualified
from dbtruth.spec import Settings, rule

if TYPE_CHECKING:
    from dbtruth.manifest.design import Invariant  # the models load only with a dbtruth.yaml

# Which kinds of constraint can enforce which kinds of invariant.
_CONSTRAINT_KINDS = {
    "uniqueness": ("primary key", "unique", "exclusion"),
    "range": ("check",),
    "existence": ("foreign key", "check"),
    "non-overlap": ("exclusion",),
}
_CAST = re.compile(r"::[a-z_ ]+(\(\d+(,\s*\d+)?\))?(\[\])?", re.IGNORECASE)


def normalized_predicate(text: str) -> str:
    """Compare predicates as written and as PostgreSQL prints them: no casts, parentheses,
    quoting of identifiers, case or spacing."""
    text = _CAST.sub("", text)
    text = re.sub(r'[()"]', " ", text)
    return " ".join(text.lower().split())


def enforcement_problem(
    catalog: Catalog, invariant: Invariant, application_role: str | None = None
) -> str | None:
    """Why the named object does not enforce the invariant, or None when it does."""
    name = invariant.object or ""
    if invariant.enforcement == "privilege":
        return _privilege_problem(catalog, invariant, application_role)
    if invariant.enforcement == "index":
        index = next((i for i in catalog.indexes if i.qualified == name), None)
        if index is None:
            return f"index {name} does not exist"
        if not index.valid:
            return f"index {name} is INVALID, so it enforces nothing"
        if invariant.kind == "uniqueness" and not index.unique:
            return f"index {name} is not unique"
        if invariant.predicate:
            if index.predicate is None:
                return (
                    f"index {name} is not partial; the invariant holds only where "
                    f"{invariant.predicate}"
                )
            if normalized_predicate(index.predicate) != normalized_predicate(invariant.predicate):
                return (
                    f"index {name} is partial on {index.predicate}, not on the declared "
                    f"{invariant.predicate}"
                )
        if invariant.tables and index.table_qualified not in invariant.tables:
            return f"index {name} is on {index.table_qualified}, not on the invariant's tables"
        return None
    if invariant.enforcement == "trigger":
        trigger = next((t for t in catalog.triggers if f"{t.schema}.{t.name}" == name), None)
        if trigger is None:
            return f"trigger {name} does not exist"
        if not trigger.enabled:
            return f"trigger {name} is disabled"
        return None
    if invariant.enforcement in ("constraint", "exclusion"):
        constraint = next(
            (c for c in catalog.constraints if f"{c.schema}.{c.name}" == name and not c.inherited),
            None,
        )
        if constraint is None:
            return f"constraint {name} does not exist"
        allowed = (
            ("exclusion",)
            if invariant.enforcement == "exclusion"
            else _CONSTRAINT_KINDS.get(invariant.kind)
        )
        if allowed and constraint.kind not in allowed:
            return (
                f"constraint {name} is a {constraint.kind} constraint, which cannot enforce "
                f"a {invariant.kind} invariant"
            )
        if not constraint.validated:
            return f"constraint {name} is NOT VALID: rows older than it were never checked"
        return None
    return None  # application and reconciliation: see I010


# What an append-only table's application role must not hold.
_CHANGING = ("UPDATE", "DELETE", "TRUNCATE")


def _privilege_problem(
    catalog: Catalog, invariant: Invariant, application_role: str | None
) -> str | None:
    if application_role is None:
        return (
            "privileges keep rows from a role, and dbtruth.yaml names no application role "
            "(tenancy.role)"
        )
    held = _held_privileges(catalog, invariant, application_role)
    return "; ".join(why for why, _ in held) or None


def _held_privileges(
    catalog: Catalog, invariant: Invariant, role: str
) -> list[tuple[str, str | None]]:
    """What lets the application role change the rows, each with the REVOKE that ends it
    (None for ownership, which no REVOKE touches). Grants reach a role through its
    memberships too, which the catalog does not resolve here: `dbtruth prove` tries the
    writes as the role and sees every path."""
    held: list[tuple[str, str | None]] = []
    for name in invariant.tables:
        table = catalog.table(name if "." in name else f"public.{name}")
        if table is None:
            continue
        if table.owner == role:
            held.append((f"{role} owns {table.qualified}, and no privilege binds an owner", None))
            continue
        grantees: dict[str, set[str]] = {}
        for grant in catalog.grants_on(table.qualified):
            if grant.grantee in (role, "PUBLIC") and grant.privilege in _CHANGING:
                grantees.setdefault(grant.grantee, set()).add(grant.privilege)
        for grantee, privileges in sorted(grantees.items()):
            listed = ", ".join(sorted(privileges, key=_CHANGING.index))
            who = "PUBLIC" if grantee == "PUBLIC" else ident(grantee)
            revoke = f"REVOKE {listed} ON {qualified(table.schema, table.name)} FROM {who};"
            held.append((f"{grantee} may {listed} {table.qualified}", revoke))
    return held


def _fix(catalog: Catalog, invariant: Invariant, role: str | None) -> Fix:
    revokes = [r for _, r in _held_privileges(catalog, invariant, role)] if role else []
    if revokes and all(revokes):
        return Fix(
            "revoke what lets the application role change the evidence",
            "\n".join(r for r in revokes if r),
            lock_safe=True,
            behaviour_change=True,
            note="REVOKE takes no table lock; the application's own UPDATE, DELETE or "
            "TRUNCATE is refused from then on",
        )
    return Fix("point the invariant at the object that enforces it, or create that object")


@rule("I009", "invariant-not-enforced", Severity.ERROR)
def invariant_not_enforced(catalog: Catalog, settings: Settings) -> Iterator[Violation]:
    """
    ## What it does
    For every invariant `dbtruth.yaml` says a database object enforces, checks that the object
    exists and can enforce it: the index exists, is valid, is unique for a uniqueness invariant
    and is partial on exactly the declared predicate; the constraint exists, is validated and
    is of a kind that enforces that kind of invariant; the trigger exists and is enabled; for
    evidence kept by privileges (`enforcement: privilege`), the application role
    (`tenancy.role`) neither owns the table nor is granted UPDATE, DELETE or TRUNCATE on it,
    directly or through PUBLIC (grants through role membership are what `dbtruth prove` sees,
    by trying the writes as the role).

    ## Why is this bad?
    An invariant catalog that names the wrong object is worse than none: everyone believes the
    state is impossible while the database accepts it. The playbook's first question is "What
    must never be false?" and its enforcement table says what can make it so (3.2); this rule
    keeps the catalog and the schema from drifting apart (Level 3, "Invariant catalog").

    ## Example
    ```yaml
    invariants:
      - id: one-active-primary
        statement: a case has at most one active primary investigator
        kind: uniqueness
        tables: [casework.case_assignment]
        enforcement: index
        object: casework.case_assignment_case_idx   # exists, but is not unique
    ```

    ## Use instead
    ```sql
    CREATE UNIQUE INDEX uq_one_active_primary_assignment ON casework.case_assignment
        (tenant_id, case_file_id) WHERE role_code = 'PRIMARY' AND unassigned_at IS NULL;
    ```

    ## Fix safety
    No SQL fix: either the manifest names the wrong object or the schema lacks the right one;
    which is for the invariant's owner to say. Build a missing unique index CONCURRENTLY.

    ## References
    Playbook 3.2 Invariants First (enforcement table), Principle 1, §11 Level 3.
    """
    for invariant in settings.design.invariants:
        problem = enforcement_problem(catalog, invariant, settings.application_role)
        if problem is None:
            continue
        yield Violation(
            ObjectRef("invariant", "", invariant.id),
            f"invariant {invariant.id} ({invariant.statement}) is not enforced: {problem}",
            _fix(catalog, invariant, settings.application_role)
            if invariant.enforcement == "privilege"
            else Fix("point the invariant at the object that enforces it, or create that object"),
            evidence=(("enforcement", invariant.enforcement), ("object", invariant.object or "")),
        )
