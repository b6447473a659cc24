"""What each probe is to do, decided from the catalog alone: one plan per invariant kind."""

from __future__ import annotations

from dataclasses import dataclass

from dbtruth.model import Constraint, Index, Table


@dataclass(frozen=True, slots=True)
class NotNull:
    """Existence: a NULL written into `column` is refused."""

    table: Table
    column: str
    declared_not_null: bool  # the catalog says NOT NULL: the refusal must be 23502 on it


@dataclass(frozen=True, slots=True)
class Reference:
    """Existence: a row pointing at no parent row is refused by `constraint`."""

    table: Table
    constraint: Constraint


@dataclass(frozen=True, slots=True)
class Unique:
    """Uniqueness: a second row with the same key is refused; with a predicate, a row outside
    it with the same key is accepted."""

    table: Table
    columns: tuple[str, ...]
    predicate: str | None
    index: Index | None  # the index that should refuse it; None: any refusal proves it
    expression_keys: tuple[str, ...] = ()  # keys that are expressions: not synthesised


@dataclass(frozen=True, slots=True)
class Range:
    """Range: a value just outside the CHECK is refused, one just inside accepted."""

    table: Table
    constraint: Constraint


@dataclass(frozen=True, slots=True)
class AppendOnly:
    """Append-only: UPDATE and DELETE of a row (and, for evidence, TRUNCATE) are refused."""

    table: Table
    events: tuple[str, ...]  # "update", "delete", "truncate"
    columns: tuple[str, ...] = ()  # a trigger on UPDATE OF these columns
    # Read from a trigger's body, not declared: a write it lets through may be one it never
    # meant to refuse (a guard of some rows only), so that is not called unenforced.
    guessed: bool = False
    # Kept by privileges (`enforcement: privilege`): the writes are tried as this role, the
    # one the application connects as, since privileges do not bind the table's owner.
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Period:
    """What an exclusion constraint compares WITH &&: a range column, or a range its
    constructor builds from two columns (`tstzrange(starts_at, ends_at)`)."""

    element_type: str  # the type of the range's bounds: timestamptz, date, int4, …
    column: str | None = None
    start: str | None = None
    end: str | None = None
    function: str | None = None
    bounds: str = "[)"


@dataclass(frozen=True, slots=True)
class NonOverlap:
    """Non-overlap: a row whose period overlaps another's, equal in the columns compared WITH
    =, is refused; one whose half-open period starts where the other ends is accepted."""

    table: Table
    constraint: Constraint
    equal: tuple[str, ...]
    period: Period
    predicate: str | None = None  # a partial constraint's WHERE: the rows it keeps apart


@dataclass(frozen=True, slots=True)
class Transitions:
    """State transitions: from each declared state, a move to a state it may not reach is
    refused, and a move to one it may reach is accepted."""

    table: Table
    column: str
    allowed: tuple[tuple[str, tuple[str, ...]], ...]  # state -> the states it may move to


@dataclass(frozen=True, slots=True)
class Unprovable:
    reason: str


Plan = NotNull | Reference | Unique | Range | AppendOnly | NonOverlap | Transitions | Unprovable
