"""YAML files dbtruth reads from a pull request (dbtruth.yaml, backfill specs): composed with
nesting and aliases bounded, turned into plain data that remembers the line of every key, and
pydantic's complaints turned into file:line, the key, and the nearest valid key for a typo.
"""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dbtruth.errors import DbtruthError
from dbtruth.inputs import read_bytes
from dbtruth.words import counted

Lines = dict[tuple[str | int, ...], int]

# Far deeper than any manifest section (five levels). PyYAML composes recursively: thousands
# of levels ended in RecursionError.
MAX_DEPTH = 64
# Nodes reached again through aliases (`*name`). Sharing a few lists is fine; nine levels of
# ten aliases each ("billion laughs") expand to 10^9 strings, and took 16 GB before this.
MAX_ALIAS_NODES = 10_000


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing nesting deeper than MAX_DEPTH as it composes."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {MAX_DEPTH} levels deep", mark
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def read_yaml(path: Path, limit: int, what: str) -> tuple[Any, Lines]:
    """The plain data of the YAML file at `path` (None when empty) and the line of every key
    and item; every problem is one DbtruthError at its line."""
    try:
        text = read_bytes(path, limit, what).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DbtruthError(f"cannot read {what}: {exc}", where=str(path)) from exc
    try:
        node = yaml.compose(text, Loader=_BoundedLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise DbtruthError(f"invalid YAML: {problem}", where=where) from exc
    if node is None:
        return None, {}
    builder = _Builder(path)
    return builder.build(node, ()), builder.lines


class _Builder:
    """Plain data from a YAML node graph, remembering the line of every key and item, with
    aliases bounded: one that contains itself is refused (it never ends), and the nodes
    reached again through aliases are counted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[tuple[str | int, ...], int] = {}
        self.seen: set[int] = set()
        self.open: set[int] = set()  # the nodes being built: an alias to one is a cycle
        self.repeats = 0

    def build(self, node: yaml.Node, at: tuple[str | int, ...], *, alias_line: int = 0) -> Any:
        """`alias_line`: where the alias being expanded is used (0: not inside one)."""
        line = node.start_mark.line + 1
        if id(node) in self.open:
            raise DbtruthError(
                "a YAML alias refers to a node that contains it", where=f"{self.path}:{line}"
            )
        if alias_line:
            self.repeats += 1
            if self.repeats > MAX_ALIAS_NODES:
                raise DbtruthError(
                    f"YAML aliases repeat more than {MAX_ALIAS_NODES:,} nodes; write the values "
                    "out instead",
                    where=f"{self.path}:{alias_line}",
                )
        self.seen.add(id(node))
        self.lines[at] = line
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.open.add(id(node))
            try:
                return self._collection(node, at, alias_line)
            finally:
                self.open.discard(id(node))
        try:
            return yaml.SafeLoader(" ").construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            # an integer of thousands of digits, a date like 2024-02-30, an unknown !!tag
            problem = getattr(exc, "problem", None) or str(exc).split("; use sys.")[0]
            raise DbtruthError(f"invalid value: {problem}", where=f"{self.path}:{line}") from exc

    def _collection(
        self, node: yaml.MappingNode | yaml.SequenceNode, at: tuple[str | int, ...], alias: int
    ) -> Any:
        def child(value: yaml.Node, where: int) -> int:
            # a node met before is an alias: its expansion is counted from where it is used
            return alias or (where if id(value) in self.seen else 0)

        if isinstance(node, yaml.SequenceNode):
            line = node.start_mark.line + 1
            return [
                self.build(item, (*at, i), alias_line=child(item, line))
                for i, item in enumerate(node.value)
            ]
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            self.lines[(*at, key)] = line
            result[key] = self.build(value_node, (*at, key), alias_line=child(value_node, line))
            self.lines[(*at, key)] = line
        return result


def explain(exc: ValidationError, path: Path, lines: Lines, root: Any) -> DbtruthError:
    """pydantic's first complaint about the file at `path`, validated as the model `root`."""
    # A misspelt key explains the "field required" next to it: report typos first.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    more = f" (and {counted(len(errors) - 1, 'more problem')})" if len(errors) > 1 else ""
    loc = tuple(error["loc"])
    known = loc
    while known and known not in lines:
        known = known[:-1]
    line = lines.get(known, 1)
    key = ".".join(str(p) for p in loc)
    if error["type"] == "extra_forbidden":
        valid = _valid_keys(root, loc[:-1])
        nearest = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
        hint = (
            f"did you mean '{nearest[0]}'?"
            if nearest
            else (f"valid keys here: {', '.join(valid)}" if valid else None)
        )
        return DbtruthError(f"unknown key '{key}'{more}", where=f"{path}:{line}", hint=hint)
    return DbtruthError(f"{key}: {error['msg']}{more}", where=f"{path}:{line}")


def _valid_keys(root: Any, loc: tuple[Any, ...]) -> list[str]:
    """The keys a mapping at `loc` may have, for "did you mean" hints."""
    annotation: Any = root
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        origin = typing.get_origin(annotation)
        if origin in (list, dict) or isinstance(part, int):
            # A list index or a free dict key (a table name): step into the item type.
            args = typing.get_args(annotation)
            annotation = args[-1] if args else None
            if (origin is dict and isinstance(part, str)) or isinstance(part, int):
                continue
        fields = getattr(annotation, "model_fields", None)
        if fields is None:
            annotation = _model_in(annotation)
            fields = getattr(annotation, "model_fields", None)
        if not fields:
            return []
        field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if field is None:
            return []
        annotation = _model_in(field.annotation)
    annotation = _model_in(annotation)
    fields = getattr(annotation, "model_fields", {})
    return sorted(f.alias or name for name, f in fields.items())


def _model_in(annotation: Any) -> Any:
    """Unwrap Optional[...] to the model (or container) inside it."""
    if hasattr(annotation, "model_fields") or typing.get_origin(annotation) in (list, dict):
        return annotation
    for arg in typing.get_args(annotation):
        if hasattr(arg, "model_fields") or typing.get_origin(arg) in (list, dict):
            return arg
    return annotation
