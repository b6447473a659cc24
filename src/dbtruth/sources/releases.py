"""Which migrations ship together: a release.

A table created by one migration and changed by a later one of the same release is new and
empty when the change runs in production, if the two deploy together: an index build, a NOT NULL
or a lock on it costs nothing there. dbtruth cannot see deployments, so it guesses the release
from how sets are laid out, and says that it guessed:

- a version folder (`delta/73/`, `v1.5/`): its files are one schema version (Synapse, Temporal);
- a timestamped name (`20230924232619_add_x/`, `20200830154602000000_x.up.sql`): migrations of
  the same day come from one change (popx, Prisma, most generators).

Anything else has no release, and the later migration is judged as running on a table that
already holds data.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

_VERSION_FOLDER = re.compile(r"^v?\d+(\.\d+)*$", re.I)
_TIMESTAMP = re.compile(r"^(\d{8})\d{4,}")


def release_of(path: Path) -> str | None:
    """The release the migration file belongs to, None when unknown: a key to compare, made of
    what to call it and, after a tab, the folder it is in (two sets never share a release)."""
    folder = path.parent
    if _VERSION_FOLDER.match(folder.name):
        return f"version folder {folder.name}\t{folder}"
    for name in (path.name, folder.name):
        stamp = _TIMESTAMP.match(name)
        if stamp is not None:
            return f"dated {stamp.group(1)}\t{folder if name == path.name else folder.parent}"
    return None


def dated(path: Path) -> date | None:
    """The day a timestamp-named migration (its file or its folder) was written, or None."""
    for name in (path.name, path.parent.name):
        stamp = _TIMESTAMP.match(name)
        if stamp is not None:
            day = stamp.group(1)
            try:
                return date(int(day[:4]), int(day[4:6]), int(day[6:8]))
            except ValueError:  # digits that are no date (a counter, 00000000)
                return None
    return None


def release_name(release: str) -> str:
    return release.partition("\t")[0]
