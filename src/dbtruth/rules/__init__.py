"""The rules, one module each, by family. The registry is registry.py (every rule, in code
order: catalog rules run in `check`, migration rules in `migrate lint`) and
migration_registry.py (the migration rules alone, which is all `migrate lint` imports).
"""

from typing import Any


def __getattr__(name: str) -> Any:
    # `from dbtruth.rules import RULES` imports every rule; the package itself imports none,
    # so that `migrate lint` can import the migration rules alone (migration_registry).
    if name == "RULES":
        from dbtruth.rules.registry import RULES

        return RULES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
