"""Select the rules, run them, stamp findings, then apply suppressions and the baseline.

Everything a rule yields becomes a Finding here and nowhere else, so severity overrides,
fingerprints and suppressions behave the same for every rule.
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from dbtruth.errors import DbtruthError
from dbtruth.findings import Finding, Location, Severity, Violation, fingerprint
from dbtruth.spec import RuleSpec, spec_of

if TYPE_CHECKING:
    from dbtruth.manifest.config import Manifest, ObjectIgnore
    from dbtruth.model import Catalog
    from dbtruth.model.decisions import DecisionFacts
    from dbtruth.model.ops import OpsFacts
    from dbtruth.model.workload import PlannedQuery
    from dbtruth.spec import DecisionCheck, OpsCheck, Settings, WorkloadCheck

BASELINE_FORMAT = "dbtruth-baseline"


@dataclass(frozen=True, slots=True)
class Suppressed:
    finding: Finding
    reason: str


@dataclass
class Result:
    findings: list[Finding]
    suppressed: list[Suppressed] = field(default_factory=list)
    baselined: int = 0
    unused_ignores: list[ObjectIgnore] = field(default_factory=list)
    skipped_live_only: list[str] = field(default_factory=list)
    rule_seconds: dict[str, float] = field(default_factory=dict)
    rules_run: int = 0
    ran: list[str] = field(default_factory=list)  # codes of the rules that ran


def all_specs() -> tuple[RuleSpec, ...]:
    from dbtruth.rules.registry import RULES  # every rule: imported when asked for

    return tuple(spec_of(check) for check in RULES)


def migration_specs() -> tuple[RuleSpec, ...]:
    """The migration rules alone, without importing the catalog rules."""
    from dbtruth.rules.migration_registry import MIGRATION_RULES

    return tuple(spec_of(check) for check in MIGRATION_RULES)


def workload_specs() -> tuple[RuleSpec, ...]:
    """The workload rules alone, without importing the catalog rules."""
    from dbtruth.rules.workload_registry import WORKLOAD_RULES

    return tuple(spec_of(check) for check in WORKLOAD_RULES)


def ops_specs() -> tuple[RuleSpec, ...]:
    """The operations rules alone, without importing the catalog rules."""
    from dbtruth.rules.ops_registry import OPS_RULES

    return tuple(spec_of(check) for check in OPS_RULES)


def decision_specs() -> tuple[RuleSpec, ...]:
    """The decision rules alone, without importing the catalog rules."""
    from dbtruth.rules.decision_registry import DECISION_RULES

    return tuple(spec_of(check) for check in DECISION_RULES)


def find_spec(selector: str) -> RuleSpec | None:
    wanted = selector.strip()
    return next((s for s in all_specs() if wanted.upper() == s.code or wanted == s.name), None)


def _known(selector: str) -> bool:
    """Whether a selector names a rule or family of the whole catalogue: asked only of one
    that a part of the rules does not match, so the rest are imported only then."""
    return any(_matches(spec, selector) for spec in all_specs())


def _matches(spec: RuleSpec, selector: str) -> bool:
    s = selector.strip()
    return s.upper() == spec.code or s == spec.name or (len(s) == 1 and s.upper() == spec.code[0])


def select(
    select_: list[str],
    ignore: list[str],
    specs: tuple[RuleSpec, ...] | None = None,
    manifest: Manifest | None = None,
) -> tuple[RuleSpec, ...]:
    """The rules to run among `specs` (every rule by default). A selector must name some rule
    or family of the whole catalogue, even when `specs` is a part of it; one that came from
    `manifest` is reported at its line there."""
    specs = all_specs() if specs is None else specs
    for selector in [*select_, *ignore]:
        if not any(_matches(spec, selector) for spec in specs) and not _known(selector):
            raise DbtruthError(
                f"unknown rule or family '{selector}'",
                where=_selector_place(manifest, selector),
                hint="`dbtruth rules` lists codes and names",
            )
    # Opt-in rules run only when named by code or name, never through a family or by default.
    chosen = [
        s
        for s in specs
        if (not select_ and not s.opt_in)
        or any(_matches(s, x) and (not s.opt_in or len(x.strip()) > 1) for x in select_)
    ]
    return tuple(s for s in chosen if not any(_matches(s, x) for x in ignore))


def run(
    catalog: Catalog,
    manifest: Manifest,
    *,
    extra_select: list[str] | None = None,
    extra_ignore: list[str] | None = None,
    baseline: Path | None = None,
    locations: dict[str, Location] | None = None,
) -> Result:
    rules_cfg = manifest.rules
    specs = select(
        extra_select or rules_cfg.select,
        [*rules_cfg.ignore, *(extra_ignore or [])],
        manifest=manifest,
    )
    overrides = severity_overrides(manifest)
    settings = manifest.settings()
    result = Result(findings=[])
    for spec in specs:
        if spec.kind != "catalog":
            continue  # migration rules run in dbtruth.migrate.lint, statement by statement
        if spec.live_only and not catalog.is_live:
            result.skipped_live_only.append(spec.code)
            continue
        started = time.perf_counter()
        for violation in spec.check(catalog, settings):
            if catalog.extension_of(violation.object.schema, violation.object.name):
                # Never the user's: the catalog leaves extensions' objects out, and this
                # catches a rule that names one from elsewhere (a manifest glob, a grant).
                continue
            location = None
            if locations:
                obj = violation.object
                location = (
                    locations.get(obj.relation)
                    or locations.get(f"{obj.schema}.{obj.name}")
                    # functions are named with their arguments; files create them by name
                    or locations.get(f"{obj.schema}.{obj.name.split('(')[0]}")
                )
            result.findings.append(make_finding(spec, violation, overrides, location))
        result.rule_seconds[spec.code] = time.perf_counter() - started
        result.rules_run += 1
        result.ran.append(spec.code)
    suppress(result, rules_cfg.ignore_objects)
    apply_baseline(result, baseline)
    result.findings.sort(key=lambda f: (f.object.relation, -f.severity, f.code, f.object.path))
    return result


# One rule's violations, each with where it is written (None: no file position).
Judged = Iterator[tuple[Violation, Location | None]]


def _run_kind(
    specs: tuple[RuleSpec, ...],
    manifest: Manifest,
    judge: Callable[[RuleSpec, Settings], Judged],
    *,
    extra_select: list[str] | None,
    extra_ignore: list[str] | None,
    baseline: Path | None,
) -> Result:
    """The selected rules among `specs` (the rules of one command), each judged by `judge`,
    stamped, suppressed and baselined as `run` does for the catalog rules."""
    rules_cfg = manifest.rules
    chosen = select(
        extra_select or rules_cfg.select,
        [*rules_cfg.ignore, *(extra_ignore or [])],
        specs=specs,
        manifest=manifest,
    )
    overrides = severity_overrides(manifest)
    settings = manifest.settings()
    result = Result(findings=[])
    for spec in chosen:
        started = time.perf_counter()
        for violation, location in judge(spec, settings):
            result.findings.append(make_finding(spec, violation, overrides, location))
        result.rule_seconds[spec.code] = time.perf_counter() - started
        result.rules_run += 1
        result.ran.append(spec.code)
    suppress(result, ignores_for(chosen, rules_cfg.ignore_objects))
    apply_baseline(result, baseline)
    result.findings.sort(key=lambda f: (-f.severity, f.code, f.object.path))
    return result


def run_workload(
    planned: list[PlannedQuery],
    catalog: Catalog,
    manifest: Manifest,
    *,
    extra_select: list[str] | None = None,
    extra_ignore: list[str] | None = None,
    baseline: Path | None = None,
) -> Result:
    """The workload rules over each planned query; a finding is placed where its query is
    written (dbtruth.yaml or the --queries file)."""

    def judge(spec: RuleSpec, settings: Settings) -> Judged:
        check = cast("WorkloadCheck", spec.check)  # a workload rule's RuleSpec holds one
        for query in planned:
            where = query.query
            location = Location(where.file, where.line) if where.file and where.line else None
            for violation in check(query, catalog, settings):
                yield violation, location

    return _run_kind(workload_specs(), manifest, judge, extra_select=extra_select,
                     extra_ignore=extra_ignore, baseline=baseline)  # fmt: skip


def run_ops(
    facts: OpsFacts,
    manifest: Manifest,
    *,
    extra_select: list[str] | None = None,
    extra_ignore: list[str] | None = None,
    baseline: Path | None = None,
) -> Result:
    """The operations rules over what a live server showed."""

    def judge(spec: RuleSpec, settings: Settings) -> Judged:
        check = cast("OpsCheck", spec.check)  # an ops rule's RuleSpec holds one
        for violation in check(facts, settings):
            yield violation, None

    return _run_kind(ops_specs(), manifest, judge, extra_select=extra_select,
                     extra_ignore=extra_ignore, baseline=baseline)  # fmt: skip


def run_decisions(
    facts: DecisionFacts,
    manifest: Manifest,
    *,
    extra_select: list[str] | None = None,
    extra_ignore: list[str] | None = None,
    baseline: Path | None = None,
) -> Result:
    """The decision rules over the ADR folder; each finding is placed in its ADR's file."""

    def judge(spec: RuleSpec, settings: Settings) -> Judged:
        check = cast("DecisionCheck", spec.check)  # a decision rule's RuleSpec holds one
        for violation, adr, line in check(facts, settings):
            yield violation, Location(str(adr.path), line)

    return _run_kind(decision_specs(), manifest, judge, extra_select=extra_select,
                     extra_ignore=extra_ignore, baseline=baseline)  # fmt: skip


def _selector_place(manifest: Manifest | None, selector: str) -> str | None:
    """Where dbtruth.yaml wrote `selector` in rules.select or rules.ignore, if it did."""
    if manifest is None:
        return None
    for section in ("select", "ignore"):
        listed: list[str] = getattr(manifest.rules, section)
        if selector in listed:
            return manifest.place("rules", section, listed.index(selector))
    return None


def severity_overrides(manifest: Manifest) -> dict[str, Severity]:
    """rules.severity of dbtruth.yaml, by rule code (a name is turned into its code); a rule
    that does not exist is an error at its line."""
    overrides: dict[str, Severity] = {}
    for key, value in manifest.rules.severity.items():
        spec = find_spec(key)
        if spec is None:
            raise DbtruthError(
                f"rules.severity names unknown rule '{key}'",
                where=manifest.place("rules", "severity", key),
                hint="`dbtruth rules` lists codes and names",
            )
        overrides[spec.code] = Severity.parse(value)
    return overrides


def make_finding(
    spec: RuleSpec,
    violation: Violation,
    overrides: dict[str, Severity],
    location: Location | None,
) -> Finding:
    """A rule's violation as a finding: the configured severity wins over the rule's own."""
    severity = (
        overrides.get(spec.code)  # severity_overrides turns names into codes
        or violation.severity
        or spec.severity
    )
    return Finding(
        code=spec.code,
        name=spec.name,
        family=spec.family,
        severity=severity,
        violation=violation,
        fingerprint=fingerprint(spec.code, violation),
        location=location,
    )


def apply_baseline(result: Result, baseline: Path | None) -> None:
    if baseline is None:
        return
    known = read_baseline(baseline)
    kept = [f for f in result.findings if f.fingerprint not in known]
    result.baselined = len(result.findings) - len(kept)
    result.findings = kept


def ignores_for(specs: Sequence[RuleSpec], ignores: list[ObjectIgnore]) -> list[ObjectIgnore]:
    """The per-object ignores that name one of `specs`: a command that runs some of the rules
    (migrate lint, workload) reports only its own ignores as unused, not `check`'s."""
    return [i for i in ignores if any(_matches(spec, i.rule) for spec in specs)]


def suppress(result: Result, ignores: list[ObjectIgnore]) -> None:
    if not ignores:
        return
    used: set[int] = set()
    kept: list[Finding] = []
    for finding in result.findings:
        hit = next(
            (
                i
                for i, ig in enumerate(ignores)
                if (ig.rule.upper() == finding.code or ig.rule == finding.name)
                and (
                    fnmatch.fnmatchcase(finding.object.path, ig.object)
                    or fnmatch.fnmatchcase(finding.object.relation, ig.object)
                )
            ),
            None,
        )
        if hit is None:
            kept.append(finding)
        else:
            used.add(hit)
            result.suppressed.append(Suppressed(finding, ignores[hit].reason))
    result.findings = kept
    result.unused_ignores = [ig for i, ig in enumerate(ignores) if i not in used]


def read_baseline(path: Path) -> set[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DbtruthError(
            "baseline file not found", where=str(path), hint="create it with --write-baseline"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DbtruthError(f"cannot read baseline: {exc}", where=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise DbtruthError(
            f"baseline is not valid JSON: {exc.msg}", where=f"{path}:{exc.lineno}"
        ) from exc
    except RecursionError as exc:  # json recurses once per [ or {
        raise DbtruthError("baseline is nested too deeply to be one", where=str(path)) from exc
    if not isinstance(document, dict) or document.get("format") != BASELINE_FORMAT:
        raise DbtruthError("not a dbtruth baseline file", where=str(path))
    entries = document.get("findings", [])
    if not isinstance(entries, list):
        raise DbtruthError('baseline "findings" is not a list', where=str(path))
    return {
        str(entry["fingerprint"])
        for entry in entries
        if isinstance(entry, dict) and "fingerprint" in entry
    }


def baseline_document(findings: list[Finding]) -> str:
    entries = [
        {
            "fingerprint": f.fingerprint,
            "code": f.code,
            "object": f.object.path,
            "message": f.message,
        }
        for f in sorted(findings, key=lambda f: (f.code, f.object.path, f.fingerprint))
    ]
    return (
        json.dumps({"format": BASELINE_FORMAT, "version": 1, "findings": entries}, indent=1) + "\n"
    )
