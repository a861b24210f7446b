# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""One report from the reports of the slices of a run (AWX job slicing, or runs with disjoint --limit).

Each slice sweeps other hosts with the same settings and writes a report of its hosts only. Their union is
the report one unsliced run would have written: targets and stages are put together and sorted as
build_report sorts them, the summary is counted again from them, and an exemption is active when it was
active in any slice. Only generated_at differs: the merged report takes the earliest, when the first
slice ran.

Problems of the inputs are returned, not raised, so that the playbook can refuse with one clear message
naming the report and the field; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import JUDGEMENT_SETTINGS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import MODES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import READABLE_SCHEMA_VERSIONS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import SCHEMA_VERSION
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import definition_key
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import exemption_entries
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import finish_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import report_row
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import report_summary
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import run_section
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import stage_sort_key
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import NOT_A_REPORT
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import loaded_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import describe
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import is_list

REPORT_KEYS = ("schema_version", "generated_at", "mode", "summary", "targets", "stages", "exemptions")
# What an exemption entry of a report holds besides its definition.
ENTRY_STATE_KEYS = ("index", "status", "stages")


def _header_problems(where, report):
    if not isinstance(report, Mapping):
        return [f"{where}: {NOT_A_REPORT}, got {describe(report)}"]
    missing = [key for key in REPORT_KEYS if key not in report]
    if missing:
        return [f"{where}: {NOT_A_REPORT}; it has no {', '.join(missing)}"]
    problems = []
    if report["schema_version"] not in READABLE_SCHEMA_VERSIONS:
        problems.append(
            f"{where}.schema_version: must be one of {', '.join(READABLE_SCHEMA_VERSIONS)}, the versions this collection reads, "
            f"got {describe(report['schema_version'])}"
        )
    if report["mode"] not in MODES:
        problems.append(f"{where}.mode: must be audit or enforce, got {describe(report['mode'])}")
    if not isinstance(report["generated_at"], str) or not report["generated_at"]:
        problems.append(f"{where}.generated_at: must be an ISO 8601 date and time, got {describe(report['generated_at'])}")
    if not isinstance(report["summary"], Mapping):
        problems.append(f"{where}.summary: must be a mapping, got {describe(report['summary'])}")
    for key, rule in (("targets", "target summaries"), ("stages", "stage rows"), ("exemptions", "exemption entries")):
        if not is_list(report[key]):
            problems.append(f"{where}.{key}: must be a list of {rule} (mappings), got {describe(report[key])}")
            continue
        bad = [index for index, item in enumerate(report[key]) if not isinstance(item, Mapping)]
        if bad:
            problems.append(f"{where}.{key}[{bad[0]}]: must be one of the {rule} (a mapping), got {describe(report[key][bad[0]])}")
    if report.get("run") is not None:
        try:
            written = report["run"]
            run_section({key: value for key, value in written.items() if key != "collection"} if isinstance(written, Mapping) else {"errors": written})
        except ValueError as error:
            problems.append(f"{where}.{error}")
    for index, target in enumerate(report["targets"] if is_list(report["targets"]) else []):
        if isinstance(target, Mapping) and not isinstance(target.get("host"), str):
            problems.append(f"{where}.targets[{index}].host: must be the host name, got {describe(target.get('host'))}")
    for index, row in enumerate(report["stages"] if is_list(report["stages"]) else []):
        try:
            report_row(row, f"{where}.stages[{index}]")
        except ValueError as error:
            problems.append(str(error))
            break  # one damaged row says enough: the file is not what a sweep wrote
    return problems


def _consistency_problems(names, reports):
    """The slices must be of one kind of run, and share no target: a host in two of them would count twice."""
    problems = []
    modes = sorted({report["mode"] for report in reports})
    if len(modes) > 1:
        problems.append(f"mode: the reports must all be of audits or all of enforcements, got {' and '.join(modes)}")
    first_seen = {}
    for name, report in zip(names, reports):
        for target in report["targets"]:
            other = first_seen.setdefault(target["host"], name)
            if other != name:
                problems.append(
                    f"{name}: host {target['host']} is also in {other}; merge the reports of slices with disjoint hosts "
                    "(each host in one slice)"
                )
    return problems


def _exemptions(reports):
    """Every exemption once, in the order the slices list them (the configured order: they share settings)."""
    definitions = []
    reported = {}
    for report in reports:
        for entry in report["exemptions"]:
            definition = {key: value for key, value in entry.items() if key not in ENTRY_STATE_KEYS}
            key = definition_key(definition)
            if key not in reported:
                definitions.append(definition)
                reported[key] = (definition, set(), set())
            dummy, statuses, stages = reported[key]
            if entry.get("status") in ("active", "expired"):
                statuses.add(entry["status"])
            stages.update(str(arn) for arn in entry.get("stages") or [])
    return exemption_entries(definitions, reported)


def _max_changes(reports):
    """The slices' common limit; null (no single limit) when they ran with different ones."""
    limits = {report["summary"].get("max_changes") for report in reports}
    return limits.pop() if len(limits) == 1 else None


def merge_reports(reports, names=None):
    """(report, problems) of the union of ``reports``, each a report mapping or the text of a report.json.

    names: how each report is named in a problem (for example its path); default reports[N].
    The report is None when there are problems. Inputs are not modified.
    """
    if not is_list(reports) or not reports:
        return None, [f"reports: must be a non-empty list of reports, got {describe(reports)}"]
    if names is None:
        names = [f"reports[{index}]" for index in range(len(reports))]
    if not is_list(names) or len(names) != len(reports):
        raise ValueError(f"names: must name each of the {len(reports)} reports, got {describe(names)}")
    problems = []
    parsed = []
    for name, report in zip(names, reports):
        report, load_problems = loaded_report(report)
        report_problems = [f"{name} {problem}" for problem in load_problems] or _header_problems(str(name), report)
        problems.extend(report_problems)
        parsed.append(report)
    if problems:
        return None, problems
    problems = _consistency_problems([str(name) for name in names], parsed)
    if problems:
        return None, problems

    # Reports of schema 1.0 have no caller_arn per target nor account_name per stage: both are null then.
    targets = sorted((_target(target) for report in parsed for target in report["targets"]), key=lambda target: target["host"])
    names_by_place = {(target.get("account_id"), target.get("region")): target.get("account_name") for target in targets}
    rows = sorted(
        (
            report_row(row, "stages", names_by_place.get((row.get("account_id"), row.get("region"))))
            for report in parsed
            for row in report["stages"]
        ),
        key=stage_sort_key,
    )
    planned_changes = sum(int(report["summary"].get("planned_changes") or 0) for report in parsed)
    run = _run(parsed)
    merged = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": min(report["generated_at"] for report in parsed),
        "mode": parsed[0]["mode"],
        "verdict": None,
        "verdict_reason": None,
        "run": run,
        "summary": report_summary(targets, rows, planned_changes, _max_changes(parsed)),
        "targets": targets,
        "stages": rows,
        "exemptions": _exemptions(parsed),
        # The merged run is compared with its own history (the report step), not with the slices' comparisons.
        "since_baseline": None,
    }
    return finish_report(merged), []


def _target(target):
    """A slice's target summary in the order build_report writes it; caller_arn is null in a 1.0 report."""
    keys = ("host", "account_id", "account_name", "region", "status", "error", "caller_arn", "stages", "noncompliant")
    return dict({key: target.get(key) for key in keys}, **{key: value for key, value in target.items() if key not in keys})


def _run(reports):
    """The run section of the merged report: the first slice's version and policy (the slices share their settings),
    every slice's run errors and failed steps, the settings the slices were judged with (see _judged_with), and
    whole_path when a slice read the whole request path."""
    runs = [report["run"] for report in reports if isinstance(report.get("run"), Mapping)]
    first = runs[0] if runs else {}
    errors = [error for run in runs for error in run.get("errors") or []]
    failed_steps = [step for run in runs for step in run.get("failed_steps") or []]
    return run_section({
        "collection_version": first.get("collection_version"), "policy": first.get("policy"), "errors": errors, "failed_steps": failed_steps,
        "judged_with": _judged_with(run.get("judged_with") for run in runs),
        # tracing_sweep_whole_path: the slices share their settings; a slice that read the whole path says so for them all.
        "whole_path": any(run.get("whole_path") is True for run in runs),
    })


def _judged_with(recorded):
    """What the slices were judged with: the value they agree on, the stricter (true) when they do not; None when no
    slice recorded it (reports of 1.0.0), and the merge is judged with its own settings then."""
    recorded = [item for item in recorded if isinstance(item, Mapping)]
    if not recorded:
        return None
    return {name: any(bool(item.get(name, default)) for item in recorded) for name, default in JUDGEMENT_SETTINGS.items()}
