"""`dbtruth adr new "Title"`, `dbtruth adr draft --from-finding CODE:object TARGET` and
`dbtruth adr check [TARGET]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dbtruth.cli.options import (
    allow_outside_option,
    manifest_option,
    report_options,
    split_codes,
    target_of,
    target_options,
)
from dbtruth.cli.output import echo, emit, write_baseline_to

_FOLDER = click.option(
    "--folder", type=click.Path(file_okay=False, path_type=Path),
    help="The ADR folder (default: dbtruth.yaml's decisions.adr_folder, else adr-tools' "
    ".adr-dir, else docs/adr).",
)  # fmt: skip


@click.group("adr")
def adr() -> None:
    """Architecture decision records: write the next one, and check the folder — sections,
    alternatives, revisit triggers, supersession links, numbers — and each ADR's
    confirmations against the schema."""


@adr.command("new")
@click.argument("title")
@_FOLDER
@click.option("--shape", type=click.Choice(("playbook", "nygard", "madr")),
              help="The ADR's layout (default: the one the folder's ADRs use, else the "
              "playbook's).")  # fmt: skip
@manifest_option
@allow_outside_option
def new(title: str, folder: Path | None, shape: str | None, manifest: Path | None,
        allow_outside_paths: bool) -> int:  # fmt: skip
    """Write the next numbered ADR, with every section `adr check` asks for."""
    from dbtruth.adr.new import new_adr
    from dbtruth.adr.run import adr_folder
    from dbtruth.reading import read_manifest

    loaded = read_manifest(manifest, (), allow_outside_paths)
    path = new_adr(adr_folder(loaded, folder), title, shape)
    echo(str(path))
    return 0


@adr.command("draft")
@click.option("--from-finding", "from_finding", required=True, metavar="CODE:OBJECT",
              help="The finding to draw the ADR from: a `dbtruth check` rule and the object "
              "it reports, e.g. I003:public.orders.customer_id.")  # fmt: skip
@click.option("--title", help="The ADR's title (default: the rule and the object).")
@target_options
@manifest_option
@allow_outside_option
@_FOLDER
def draft(from_finding: str, title: str | None, target: tuple[str, ...], manifest: Path | None,
          allow_outside_paths: bool, folder: Path | None, **load_options: Any) -> int:  # fmt: skip
    """Draft an ADR from a finding of `dbtruth check` on TARGET: the evidence becomes its
    context, the rule's first fix its proposed decision, the other fixes and accepting the
    finding its alternatives, and `check: CODE object` its confirmation. Status Proposed."""
    from dbtruth.adr.draft import FindingRef, draft_from_finding
    from dbtruth.adr.run import adr_folder
    from dbtruth.errors import DbtruthError
    from dbtruth.reading import read_manifest

    if not target:
        raise DbtruthError("adr draft needs the TARGET the finding is on (SQL files, a "
                           "database URL, a snapshot)")  # fmt: skip
    ref = FindingRef.parse(from_finding)
    loaded = read_manifest(manifest, target, allow_outside_paths)
    path = draft_from_finding(ref, target_of(target, **load_options), manifest,
                              allow_outside_paths, adr_folder(loaded, folder), title)  # fmt: skip
    echo(str(path))
    return 0


@adr.command("check")
@target_options
@report_options
@_FOLDER
def check(
    target: tuple[str, ...], fmt: str, output: Path | None, fail_on: str | None,
    select: tuple[str, ...], ignore: tuple[str, ...], manifest: Path | None,
    allow_outside_paths: bool, baseline: Path | None, write_baseline: Path | None,
    no_color: bool, folder: Path | None, **load_options: Any,
) -> int:  # fmt: skip
    """Judge the ADR folder with the decision rules (D001–D008). With TARGET (SQL files, a
    database URL, a snapshot), run each ADR's confirmations on it — `check: CODE [object]`
    (the rule stays quiet), `invariant: ID` (proven on a throwaway copy), `workload: NAME`
    (its contract holds) — and read each revisit trigger's `watch:` threshold; without
    TARGET, the ADRs alone. Exit 1 on findings at --fail-on."""
    from dbtruth.adr.run import AdrOptions, check_adrs
    from dbtruth.report.adr import adr_context

    done = check_adrs(
        AdrOptions(
            target=target_of(target, **load_options) if target else None,
            manifest=manifest,
            allow_outside_paths=allow_outside_paths,
            folder=folder,
            select=split_codes(select),
            ignore=split_codes(ignore),
            baseline=baseline,
            fail_on=fail_on,
        )
    )
    if write_baseline is not None:
        write_baseline_to(write_baseline, done.result.findings)
        return 0
    emit(adr_context(done), fmt, output, no_color)
    return 1 if done.fails() else 0
