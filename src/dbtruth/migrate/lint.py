"""`dbtruth migrate lint`: the migration rules over a migration set, statement by statement in
apply order, with the state each statement runs in (transaction, lock_timeout, which tables
are new) kept up to date between statements.

Results use the engine's Result, so every output format, severity override, object ignore and
baseline works as it does for `check`; inline `-- dbtruth: ignore[CODE] reason` comments are
applied here, and the ones that matched nothing are reported.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType, TransactionStmtKind

from dbtruth import engine
from dbtruth.engine import Result, Suppressed
from dbtruth.errors import DbtruthError
from dbtruth.findings import Finding, Location, Severity
from dbtruth.migrate import DEFAULT_SMALL_TABLE_ROWS
from dbtruth.migrate.blast import LOCK_RULES, TableSize, grade
from dbtruth.model.migration import (
    CreatedTable,
    JsonExpr,
    MigrationFile,
    MigrationState,
    MigrationStatement,
    Suppression,
)
from dbtruth.rules.migration_locks import (
    MODES,
    altered_existing_table,
    dropped_indexes,
    fills_every_row,
    migration_name,
    migration_phase,
    phase_of,
    predict,
    relation_name,
    typmod_values,
)
from dbtruth.rules.migration_state import after_statement, requires_empty
from dbtruth.sources.releases import dated, release_name
from dbtruth.spec import MigrationCheck, RuleSpec, Settings
from dbtruth.words import counted

if TYPE_CHECKING:
    from dbtruth.manifest.config import Manifest

_BEGIN = (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START)
_END = (
    TransactionStmtKind.TRANS_STMT_COMMIT,
    TransactionStmtKind.TRANS_STMT_ROLLBACK,
    TransactionStmtKind.TRANS_STMT_PREPARE,
    TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED,
    TransactionStmtKind.TRANS_STMT_ROLLBACK_PREPARED,
)


@dataclass
class LintResult:
    result: Result
    files: int
    statements: int
    problems: list[str] = field(default_factory=list)  # unparseable statements, bad ignores
    phases: dict[str, str] = field(default_factory=dict)  # file -> expand/backfill/…/mixed
    # (file, line) -> (table -> predicted strongest lock, tables predicted to be rewritten)
    predictions: dict[tuple[str, int], tuple[dict[str, str], frozenset[str]]] = field(
        default_factory=dict
    )
    unused_inline: list[Suppression] = field(default_factory=list)


def migration_specs(
    manifest: Manifest | None, select: list[str], ignore: list[str]
) -> list[RuleSpec]:
    """The migration rules to run: --select, else rules.select (empty: the default rules),
    less --ignore and rules.ignore. Without a manifest, its defaults."""
    chosen = select or (manifest.rules.select if manifest is not None else [])
    ignored = [*(manifest.rules.ignore if manifest is not None else []), *ignore]
    specs = [s for s in engine.select(chosen, ignored, engine.migration_specs(), manifest)
             if s.kind == "migration"]  # fmt: skip
    if chosen and not specs:
        # a CI job selecting only check's rules would lint nothing and always pass
        raise DbtruthError(
            f"no migration rule is selected by {', '.join(chosen)}",
            hint="migration rules are family M; `dbtruth rules` lists them",
        )
    return specs


T = TypeVar("T")


def _not_null_check(constraint: ast.Constraint) -> str | None:
    """The column of a `CHECK (column IS NOT NULL)`, else None."""
    expr = constraint.raw_expr
    if isinstance(expr, JsonExpr):
        return expr.not_null_column()
    if isinstance(expr, ast.NullTest) and int(expr.nulltesttype or 0) == 1:  # IS_NOT_NULL
        arg = expr.arg
        if isinstance(arg, ast.ColumnRef) and arg.fields:
            last = arg.fields[-1]
            return getattr(last, "sval", None)
    return None


def _has_default(column: ast.ColumnDef) -> bool:
    return fills_every_row(column)  # a DEFAULT, identity, generated, or serial


def _base_type(column: ast.ColumnDef) -> str:
    names = column.typeName.names if column.typeName else None
    return str(names[-1].sval).lower() if names else ""


def _record_type(state: MigrationState, table: str, column: str, definition: ast.ColumnDef) -> None:
    state.column_types[(table, column)] = _base_type(definition)
    mods = typmod_values(definition.typeName.typmods if definition.typeName else None)
    if mods is None:
        state.column_typmods.pop((table, column), None)
    else:
        state.column_typmods[(table, column)] = mods


def _rename(state: MigrationState, node: ast.RenameStmt) -> None:
    """A renamed column or table keeps what is known of its types under the new name (a
    later ALTER … TYPE to the type it already has rewrites nothing)."""
    table, new_name = relation_name(node.relation, state), str(node.newname)
    moves: dict[tuple[str, str], tuple[str, str]]
    if node.renameType == ObjectType.OBJECT_COLUMN and node.subname:
        moves = {(table, node.subname): (table, new_name)}
    elif node.renameType == ObjectType.OBJECT_TABLE:
        renamed = f"{table.split('.', 1)[0]}.{new_name}"
        moves = {key: (renamed, key[1]) for key in state.column_types if key[0] == table}
        moves |= {key: (renamed, key[1]) for key in state.column_typmods if key[0] == table}
    else:
        return
    _move(state.column_types, moves)
    _move(state.column_typmods, moves)
    for old, new in moves.items():
        if old in state.added_here:
            state.added_here.discard(old)
            state.added_here.add(new)


def _move(facts: dict[tuple[str, str], T], moves: dict[tuple[str, str], tuple[str, str]]) -> None:
    for old, new in moves.items():
        if old in facts:
            facts[new] = facts.pop(old)


def advance(state: MigrationState, node: object) -> None:
    """What a statement changes for the statements after it (state.phase holds its phase)."""
    if state.phase:
        state.file_phases.add(state.phase)
    if isinstance(node, ast.UpdateStmt | ast.InsertStmt) and node.relation is not None:
        filled = relation_name(node.relation, state)
        state.unfilled_columns = {c for c in state.unfilled_columns if c[0] != filled}
    if isinstance(node, ast.TransactionStmt):
        if node.kind in _BEGIN:
            state.in_transaction = True
        elif node.kind in _END:
            # the rest of a file sent as one query runs in the next implicit transaction
            state.in_transaction = state.one_query
            state.local_lock_timeout = None
            state.not_valid_in_transaction.clear()
            state.exclusive_in_transaction.clear()
            state.full_pass_in_transaction.clear()
    elif isinstance(node, ast.VariableSetStmt) and (node.name or "").lower() == "lock_timeout":
        # SET … TO DEFAULT and RESET leave no argument: back to the default, 0 (no timeout).
        value = getattr(node.args[0], "val", None) if node.args else None
        number = getattr(value, "ival", None)
        text = getattr(value, "sval", None)
        if number is not None:
            active = number != 0
        else:
            active = text is not None and text.strip() not in ("0", "0s", "0ms")
        if not node.is_local:
            state.lock_timeout_set = active
            state.local_lock_timeout = None  # SET inside a transaction replaces a SET LOCAL
        elif state.in_transaction:
            state.local_lock_timeout = active
        # SET LOCAL outside a transaction block does nothing (PostgreSQL warns and goes on)
    elif isinstance(node, ast.RenameStmt) and node.relation is not None and node.newname:
        _rename(state, node)
    elif isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX:
        for name in dropped_indexes(node, state):  # a later CREATE INDEX builds it again
            state.index_tables.pop(name, None)
    elif isinstance(node, ast.IndexStmt) and node.idxname and node.relation is not None:
        table = relation_name(node.relation, state)
        state.index_tables[state.qualify(table.split(".", 1)[0], node.idxname)] = table
    elif isinstance(node, CreatedTable):
        name = state.qualify(node.schema, node.name)
        state.created_here.add(name)
        state.created_in_set.add(name)
        if state.release is not None:
            state.created_in_release[name] = (state.release, state.file)
        state.created_in_file.setdefault(name, state.file)
        for column_name, type_name in node.columns:
            state.column_types[(name, column_name)] = type_name
        for column_name, mods in node.typmods:
            state.column_typmods[(name, column_name)] = mods
    elif isinstance(node, ast.AlterTableStmt) and node.relation is not None:
        table = relation_name(node.relation, state)
        for cmd in node.cmds or ():
            constraint = cmd.def_
            if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(
                constraint, ast.Constraint
            ):
                column = (
                    _not_null_check(constraint)
                    if constraint.contype == ConstrType.CONSTR_CHECK
                    else None
                )
                if constraint.skip_validation and constraint.conname and state.in_transaction:
                    state.not_valid_in_transaction.add(constraint.conname)
                if column and constraint.skip_validation and constraint.conname:
                    state.pending_checks[constraint.conname] = (table, column)
                elif column:
                    state.not_null_checks.add((table, column))
            elif cmd.subtype == AlterTableType.AT_AddColumn and isinstance(
                constraint, ast.ColumnDef
            ):
                _record_type(state, table, constraint.colname or "", constraint)
                state.added_here.add((table, constraint.colname or ""))
                if not state.is_new(table) and not _has_default(constraint):
                    state.unfilled_columns.add((table, constraint.colname or ""))
            elif cmd.subtype == AlterTableType.AT_AlterColumnType and isinstance(
                constraint, ast.ColumnDef
            ):
                _record_type(state, table, cmd.name or "", constraint)
            elif cmd.subtype == AlterTableType.AT_ValidateConstraint and cmd.name:
                pending = state.pending_checks.pop(cmd.name, None)
                if pending:
                    state.not_null_checks.add(pending)


def lint(
    files: Iterable[MigrationFile],
    manifest: Manifest | None,
    *,
    pg_version: int,
    existing: frozenset[str] | None = None,
    existing_columns: dict[tuple[str, str], str] | None = None,
    existing_typmods: dict[tuple[str, str], tuple[int, ...]] | None = None,
    existing_indexes: dict[str, str] | None = None,
    sizes: dict[str, TableSize] | None = None,
    small_table_rows: int = DEFAULT_SMALL_TABLE_ROWS,
    record_predictions: bool = False,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    baseline: Path | None = None,
) -> LintResult:
    specs = migration_specs(manifest, select or [], ignore or [])
    # no dbtruth.yaml: its defaults, without loading its models (start-up of a pre-commit hook)
    overrides = engine.severity_overrides(manifest) if manifest is not None else {}
    settings = manifest.settings() if manifest is not None else Settings()
    state = MigrationState(
        pg_version=pg_version,
        existing=existing,
        column_types=dict(existing_columns or {}),
        column_typmods=dict(existing_typmods or {}),
        index_tables=dict(existing_indexes or {}),
    )
    result = Result(findings=[])
    outcome = LintResult(result, files=0, statements=0)
    used: set[int] = set()
    all_inline: list[Suppression] = []
    started = time.perf_counter()
    for migration in files:
        outcome.files += 1
        state.start_file(migration.wrapped, migration.pooled, migration.one_query)
        state.release, state.file = migration.release, migration.path
        state.description = migration.description
        inline: list[Suppression] = []
        # DROP COLUMN findings of this file, by (table, column): a later ADD COLUMN of the
        # same name in the file re-creates what code reads (see _regrade_readded).
        dropped_columns: dict[tuple[str, str], int] = {}
        # A streamed file's statements are parsed as this loop asks for them, and freed after.
        for statement in migration.statements:
            outcome.statements += 1
            state.phase = phase_of(statement.node, state)
            inline += statement.suppressions
            for spec in specs:
                if spec.reads and not isinstance(statement.node, spec.reads):
                    continue
                check: MigrationCheck = spec.check  # type: ignore[assignment]
                for violation in check(statement, state, settings):
                    location = Location(statement.file, statement.line, statement.column)
                    finding = engine.make_finding(spec, violation, overrides, location)
                    if sizes:
                        finding = grade(finding, sizes, small_table_rows)
                    finding = _grade_by_release(finding, state)
                    if not sizes:  # sizes a live target showed outrank a guess from dates
                        finding = _grade_by_age(finding, state)
                    finding = _grade_empty(finding, state, statement)
                    finding = _grade_held(finding, state)
                    if settings.migrations_offline or migration.offline:
                        finding = _grade_offline(finding, migration.offline)
                    reason = _inline_reason(finding, statement, migration, used)
                    if reason is None:
                        if finding.code == "M008" and isinstance(
                            statement.node, ast.AlterTableStmt
                        ):
                            column = finding.violation.discriminator.rsplit(":", 1)[-1]
                            dropped_columns[(finding.object.relation, column)] = len(
                                result.findings
                            )
                        result.findings.append(finding)
                    else:
                        result.suppressed.append(Suppressed(finding, reason))
            _regrade_readded(result, statement, state, dropped_columns)
            if record_predictions:
                _predict_into(outcome, statement, state)
            if state.in_transaction:
                _hold(state, statement)
            advance(state, statement.node)
            after_statement(state, statement)  # emptied tables, TimeZone, functions
        outcome.problems += migration.problems
        all_inline += [*migration.file_suppressions, *inline]
        outcome.phases[migration.path] = migration_phase(set(state.file_phases))
    # one total: timing each rule on each statement would cost more than most rules do
    result.rule_seconds = {"migration rules": time.perf_counter() - started}
    result.rules_run = len(specs)
    result.ran = [s.code for s in specs]
    ignores = manifest.rules.ignore_objects if manifest is not None else []
    engine.suppress(result, engine.ignores_for(specs, ignores))
    engine.apply_baseline(result, baseline)
    outcome.unused_inline = [s for s in all_inline if id(s) not in used]
    return outcome


# What a table with no rows makes moot: a build, scan or rewrite of nothing, and no data to
# lose or to batch. Waiting for the lock (M011) and breaking code (M009, M016) still count.
_MOOT_WHEN_EMPTY = frozenset(
    {"M001", "M003", "M004", "M005", "M006", "M007", "M008", "M012", "M013"}
)


def _as_info(finding: Finding, why: str) -> Finding:
    """The finding graded info, its message saying why (the graders below share this)."""
    violation = dataclasses.replace(
        finding.violation, message=f"{finding.violation.message}; {why}"
    )
    return dataclasses.replace(finding, violation=violation, severity=Severity.INFO)


def _grade_empty(finding: Finding, state: MigrationState, statement: MigrationStatement) -> Finding:
    """Info, saying why, for a finding about a table's rows where the table is empty: this
    migration emptied it earlier (TRUNCATE, DELETE without WHERE), or it adds a NOT NULL column
    with no default to it, which succeeds only on an empty table."""
    if finding.code not in _MOOT_WHEN_EMPTY or finding.severity == Severity.INFO:
        return finding
    table = finding.object.relation
    if table in state.emptied:
        why = "this migration emptied it before"
    elif requires_empty(statement.node, state) == table:
        why = "the statement adds a NOT NULL column with no default, which only succeeds then"
    else:
        return finding
    return _as_info(finding, f"{table} is empty here ({why})")


def _grade_offline(finding: Finding, runner: str | None) -> Finding:
    """Info, saying why, for a lock finding of a migration that runs with nothing else on the
    database: what the lock would block does not happen (a rewrite still takes its time)."""
    if finding.code not in LOCK_RULES or finding.severity == Severity.INFO:
        return finding
    why = runner or "dbtruth.yaml: rules.settings.migrations_offline"
    return _as_info(finding, f"it runs with nothing else on the database ({why})")


def _grade_by_release(finding: Finding, state: MigrationState) -> Finding:
    """Info, with the reason, for a finding on a table an earlier migration of the same
    release created: shipped together, the table is new and empty when this runs."""
    created = state.created_in_release.get(finding.object.relation)
    if created is None or state.release is None or finding.severity == Severity.INFO:
        return finding
    release, file = created
    if release != state.release or file == state.file:
        return finding
    same_folder = Path(file).parent == Path(state.file).parent
    creator = Path(file).name if same_folder else "/".join(Path(file).parts[-2:])
    return _as_info(
        finding,
        f"{finding.object.relation} is created by {creator} of the same release (both "
        f"{release_name(release)}; a guess from the layout): new and empty when both deploy "
        "together",
    )


# A table this many days old or younger, by the dates in the migrations' names, holds few rows:
# the feature that writes it shipped days ago, if at all.
YOUNG_TABLE_DAYS = 14
_MOOT_WHEN_YOUNG = LOCK_RULES | {"M012"}  # what costs in proportion to the rows


def _grade_by_age(finding: Finding, state: MigrationState) -> Finding:
    """Info, with the reason, for a lock or batching finding on a table an earlier migration
    created at most YOUNG_TABLE_DAYS days before this one, by the dates in their names."""
    if finding.code not in _MOOT_WHEN_YOUNG or finding.severity == Severity.INFO:
        return finding
    creator = state.created_in_file.get(finding.object.relation)
    if creator is None or creator == state.file:
        return finding
    born, now = dated(Path(creator)), dated(Path(state.file))
    if born is None or now is None or not 0 <= (now - born).days <= YOUNG_TABLE_DAYS:
        return finding
    days = (now - born).days
    return _as_info(
        finding,
        f"{finding.object.relation} was created by {migration_name(creator)} "
        f"{counted(days, 'day')} earlier (dates from the migrations' names): a "
        "table that young holds few rows, a guess",
    )


# Findings whose cost is one more pass over the rows under the lock: a build or a scan.
_SECOND_PASS = frozenset({"M001", "M003", "M004"})


def _hold(state: MigrationState, statement: MigrationStatement) -> None:
    """What the open transaction holds after `statement`: locks last until COMMIT."""
    for lock in predict(statement.node, state, statement.sql):
        if lock.mode == "ACCESS EXCLUSIVE":
            state.exclusive_in_transaction.add(lock.relation)
        if lock.rewrite or lock.scan:
            what = f"{lock.why} (a rewrite)" if lock.rewrite else f"{lock.why} (a full scan)"
            state.full_pass_in_transaction.setdefault(lock.relation, (statement.line, what))
    node = statement.node
    if isinstance(node, ast.UpdateStmt) and node.relation is not None and node.whereClause is None:
        table = relation_name(node.relation, state)
        state.full_pass_in_transaction.setdefault(table, (statement.line, "an UPDATE of every row"))


def _regrade_readded(
    result: Result,
    statement: MigrationStatement,
    state: MigrationState,
    dropped: dict[tuple[str, str], int],
) -> None:
    """A column dropped and added again under the same name in one migration (a reset of its
    type or default): code that reads it keeps working, so the DROP COLUMN's finding is info,
    saying the data was reset."""
    altered = altered_existing_table(statement, state)
    if altered is None or not dropped:
        return
    table, commands = altered
    for cmd in commands:
        if cmd.subtype != AlterTableType.AT_AddColumn or not isinstance(cmd.def_, ast.ColumnDef):
            continue
        index = dropped.pop((table, str(cmd.def_.colname)), None)
        if index is not None and result.findings[index].severity != Severity.INFO:
            result.findings[index] = _as_info(
                result.findings[index],
                f"the same migration adds {cmd.def_.colname} again at line {statement.line}, "
                "so code reading it keeps working; its values are reset, not kept",
            )


def _grade_held(finding: Finding, state: MigrationState) -> Finding:
    """Info, saying why, for a build or scan of a table the open transaction already holds
    ACCESS EXCLUSIVE on and already passed over in full: the table has been blocked since then
    and stays blocked until COMMIT whatever this statement does, so it adds a second pass, not
    a new block. The earlier statement's finding is the one to act on (split the migration);
    a NOT VALID or CONCURRENTLY here would change nothing."""
    if finding.code not in _SECOND_PASS or finding.severity == Severity.INFO:
        return finding
    table = finding.object.relation
    earlier = state.full_pass_in_transaction.get(table)
    if table not in state.exclusive_in_transaction or earlier is None:
        return finding
    line, what = earlier
    return _as_info(
        finding,
        f"the transaction already holds ACCESS EXCLUSIVE on {table} and passed over every row "
        f"at line {line} ({what}): this is a second pass under a lock held until COMMIT anyway",
    )


def _predict_into(
    outcome: LintResult, statement: MigrationStatement, state: MigrationState
) -> None:
    """What the static table expects of a statement, for the replay to compare with."""
    strongest: dict[str, str] = {}
    locks = predict(statement.node, state, statement.sql)
    for lock in locks:
        held = strongest.get(lock.relation)
        if held is None or MODES.index(lock.mode) > MODES.index(held):
            strongest[lock.relation] = lock.mode
    rewrites = frozenset(lock.relation for lock in locks if lock.rewrite)
    outcome.predictions[(statement.file, statement.line)] = (strongest, rewrites)


def _inline_reason(
    finding: Finding, statement: MigrationStatement, migration: MigrationFile, used: set[int]
) -> str | None:
    for suppression in (*statement.suppressions, *migration.file_suppressions):
        if finding.code in suppression.codes or finding.name.upper() in suppression.codes:
            used.add(id(suppression))
            where = "file" if suppression.whole_file else "statement"
            return f"{suppression.reason} (inline, {where}: {suppression.file}:{suppression.line})"
    return None
