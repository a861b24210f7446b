# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The whole-run report (report.json, schema in docs/report.schema.json) from the per-target records.

Every stage falls in exactly one category, so these summary counts add up to the number of stages:
  exempt        action exempt
  stage_errors  action error (a failed change, or a REST API whose stages could not be read)
  skipped       action skipped: a rule skips the stage, or it no longer existed when the change was made
  compliant     tracing is as desired after this run (none, enabled, disabled)
  noncompliant  everything else that has a desired state: would_* in check mode (the change is only
                planned), refused by the max-changes guard
errors = stage_errors + targets_failed: a target that failed is an error, never a target with nothing wrong.
compliance_percent = compliant / (compliant + noncompliant), over the stages that were evaluated; null
(shown "n/a") when none was, so that a run that evaluated nothing never reads as 100% compliant.

The verdict is one word a scheduler can branch on, errors winning:
  error         no target in the run, a run error, a step after the sweep that failed (the history, a report
                format, ...: run.failed_steps), findings not published to Security Hub, a failed target or a
                stage error
  noncompliant  otherwise, any non-compliant stage (refused changes included)
  compliant     otherwise
The report is deterministic: targets sorted by host, stages by account, region, API name, API id, stage.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from collections.abc import Mapping

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import ACTIONS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import ROW_FIELDS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import is_refused
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import whole_path_breaks
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import hop_breaks_trace
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import whole_path_traced
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import exemption_definition
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import ACCOUNT_ID_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import REGION_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import exemptions_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import is_list

SCHEMA_VERSION = "1.1"
# Reports this collection reads back (the rollback, the merge of slices): 1.0 was written by 1.0.0.
READABLE_SCHEMA_VERSIONS = ("1.0", "1.1")
MODES = ("audit", "enforce")
TARGET_STATUSES = ("ok", "error")
CATEGORIES = ("compliant", "noncompliant", "exempt", "skipped", "stage_errors")
VERDICTS = ("compliant", "noncompliant", "error")
EXEMPTION_STATUSES = ("active", "expired", "unused")
PENDING_ACTIONS = ("would_enable", "would_disable")
NOT_RECORDED = "the sweep of this host stopped before it recorded a result; see the failed task in the play output"
COMPLIANCE_RULE = (
    "compliance % = compliant / (compliant + non-compliant), over the stages that were evaluated; exempt, skipped and "
    "failed stages and the stages of failed targets are not in it; n/a when no stage was evaluated"
)
COLLECTION = "cloudops.apigw_tracing"
RUN_KEYS = ("collection_version", "policy", "errors", "failed_steps", "judged_with", "named_stages", "whole_path")
# The settings a run is judged with (what fails it besides its verdict), recorded so that the merge of a sliced
# run's reports judges it as the unsliced run would have been; each with its default.
JUDGEMENT_SETTINGS = {"fail_on_error": True, "fail_on_noncompliant": False, "fail_on_regression": False}
POLICY_KEYS = ("desired", "rules", "exemptions", "exempt_tag")


def row_category(row):
    """The one category (see the module docstring) a report row counts in."""
    action = row["action"]
    if action == "exempt":
        return "exempt"
    if action == "error":
        return "stage_errors"
    if action == "skipped" and not is_refused(row):
        return "skipped"
    if row["desired"] is None:
        return "skipped"
    # would_* rows carry the state they would have; the stage itself is not (yet) as desired.
    if action not in PENDING_ACTIONS and action != "refused" and not is_refused(row) and row["tracing_enabled_after"] == row["desired"]:
        # tracing_sweep_whole_path: a stage meant to be traced is compliant only when every Lambda hop traces too.
        return "noncompliant" if whole_path_breaks(row) else "compliant"
    return "noncompliant"


def compliance_percent(compliant, noncompliant):
    """One decimal; None when no stage was evaluated."""
    total = compliant + noncompliant
    return None if total == 0 else round(100.0 * compliant / total, 1)


def category_counts(rows):
    """{category: count} for the rows, every category present, plus compliance_percent."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for row in rows:
        counts[row_category(row)] += 1
    counts["compliance_percent"] = compliance_percent(counts["compliant"], counts["noncompliant"])
    return counts


def verdict(summary, run_errors=(), failed_steps=()):
    """(verdict, reason): one word for a scheduler (errors win) and a sentence for people."""
    if summary["targets"] == 0:
        return "error", "no target was swept: the run had no inventory host (see the run's errors)"
    not_published = (summary.get("security_hub") or {}).get("not_published") or []
    if run_errors or summary["errors"] or failed_steps or not_published:
        parts = []
        if failed_steps:
            parts.append("%s failed (%s)" % (_counted(len(failed_steps), "step"), ", ".join(step["step"] for step in failed_steps)))
        other_errors = len(run_errors) - len(failed_steps)
        if other_errors > 0:
            parts.append(_counted(other_errors, "run error"))
        if not_published:
            parts.append("findings not published to Security Hub in " + _counted(len(not_published), "target"))
        if summary["targets_failed"]:
            parts.append(_counted(summary["targets_failed"], "target") + " failed")
        if summary["stage_errors"]:
            parts.append(_counted(summary["stage_errors"], "stage error"))
        return "error", ", ".join(parts) + ": what failed was not evaluated, so the run cannot vouch for it"
    whole_path = ""
    if "whole_path_coverage" in summary:
        coverage = summary["whole_path_coverage"]
        whole_path = "; judged on the whole path (tracing_sweep_whole_path): a stage meant to be traced counts only when its gateway " \
            "and every Lambda hop trace, whole-path coverage %s" % ("n/a" if coverage is None else "%s%%" % coverage)
    if summary["noncompliant"]:
        count = summary["noncompliant"]
        return "noncompliant", "%s not have %s desired tracing state%s" % (
            "1 stage does" if count == 1 else "%d stages do" % count, "its" if count == 1 else "their", whole_path)
    return "compliant", "every evaluated stage has its desired tracing state (%s evaluated)%s" % (summary["compliant"], whole_path)


def _counted(number, noun):
    return "%d %s%s" % (number, noun, "" if number == 1 else "s")


def collection_version():
    """The version of this collection: MANIFEST.json of an installed copy, else galaxy.yml of a checkout, else 'unknown'."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    try:
        with open(os.path.join(root, "MANIFEST.json"), encoding="utf-8") as handle:
            return str(json.load(handle)["collection_info"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as handle:
            for line in handle:
                found = re.match(r"version:\s*['\"]?([^'\"\s#]+)", line)
                if found:
                    return found.group(1)
    except OSError:
        pass
    return "unknown"


def policy_in_force(desired=True, rules=None, exemptions=None, exempt_tag=None):
    """What the report says of the policy: the default, how many rules and exemptions, the exempt tag."""
    return {
        "desired": bool(desired),
        "rules": len(rules or []),
        "exemptions": len(exemptions or []),
        "exempt_tag": exempt_tag or None,
    }


def stage_sort_key(row):
    return (row["account_id"] or "", row["region"], row["rest_api_name"] or "", row["rest_api_id"], row["stage_name"])


def _text(value):
    return None if value is None else str(value)


def report_row(row, where, account_name=None):
    """A stage row as the report holds it: ROW_FIELDS with account_name after account_id, text as text.

    ``account_name`` is the target's, for rows that do not carry one (rows of a target record).
    """
    if not isinstance(row, Mapping):
        raise ValueError(f"{where}: must be a row as sweep_outcome returns it")
    missing = [field for field in ROW_FIELDS if field not in row]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}; pass the rows sweep_outcome returns")
    if row["action"] not in ACTIONS:
        raise ValueError(f"{where}.action: must be one of {', '.join(ACTIONS)}, got {row['action']!r}")
    out = {"account_id": _text(row["account_id"]), "account_name": _text(row.get("account_name", account_name))}
    out.update((field, row[field]) for field in ROW_FIELDS if field != "account_id")
    for field in ("region", "rest_api_id", "rest_api_name", "stage_name", "arn", "action", "reason"):
        out[field] = _text(out[field])
    for field in ("tracing_enabled_before", "tracing_enabled_after"):
        # Unknown only for a REST API whose stages could not be read (an error row).
        unknown = out[field] is None and out["action"] == "error"
        out[field] = None if unknown else bool(out[field])
    out["desired"] = None if out["desired"] is None else bool(out["desired"])
    if row.get("hops") is not None:
        # Only in the report of a run with tracing_sweep_whole_path: other reports are as they were.
        out["hops"] = [dict(hop) for hop in row["hops"]]
    return out


def _with_host(index, record, host):
    """The record of hosts[index]: an empty record (the host stopped before recording one) becomes a failed target."""
    if not isinstance(record, Mapping):
        return record  # _target_record names the problem
    if not record:
        return {"host": str(host), "status": "error", "error": NOT_RECORDED}
    if record.get("host") is None:
        return dict(record, host=str(host))
    if str(record["host"]) != str(host):
        raise ValueError(f"targets[{index}].host: is {str(record['host'])!r} but hosts[{index}] is {str(host)!r}; list the hosts in the records' order")
    return record


def _valid_or_none(pattern, value):
    """A target that failed on its own variables carries them unchecked; its error names the bad value,
    and the report keeps only well-formed ids and regions, so that it always matches its schema."""
    value = _text(value)
    return value if value is not None and pattern.fullmatch(value) else None


def _target_record(index, record):
    where = f"targets[{index}]"
    if not isinstance(record, Mapping):
        raise ValueError(f"{where}: must be a mapping with host, region, status, rows")
    status = record.get("status", "ok")
    if status not in TARGET_STATUSES:
        raise ValueError(f"{where}.status: must be ok or error, got {status!r}")
    # A target that failed before its variables were checked may have no region; a swept one always has one.
    for key in ("host", "region") if status == "ok" else ("host",):
        if record.get(key) is None:
            raise ValueError(f"{where}.{key}: is required")
    rows = record.get("rows") or []
    if not is_list(rows):
        raise ValueError(f"{where}.rows: must be a list of rows")
    account_name = _text(record.get("account_name"))
    rows = [report_row(row, f"{where}.rows[{row_index}]", account_name) for row_index, row in enumerate(rows)]
    error = record.get("error")
    summary = {
        "host": str(record["host"]),
        "account_id": _valid_or_none(ACCOUNT_ID_PATTERN, record.get("account_id")),
        "account_name": account_name,
        "region": _valid_or_none(REGION_PATTERN, record.get("region")),
        "status": status,
        "error": _text(error) if error not in (None, "") else None,
        "caller_arn": _text(record.get("caller_arn")) or None,
        "stages": len(rows),
        "noncompliant": sum(1 for row in rows if row_category(row) == "noncompliant"),
    }
    if status == "error" and summary["error"] is None:
        summary["error"] = "the target failed"
    if record.get("security_hub") is not None:
        summary["security_hub"] = security_hub_section(record["security_hub"], f"{where}.security_hub")
    return summary, rows


SECURITY_HUB_STATUSES = ("published", "not_enabled", "failed")
SECURITY_HUB_COUNTS = ("imported", "archived", "failed")


def security_hub_section(hub, where):
    """A target's security_hub section (tracing_sweep_security_hub): status, counts, message; checked."""
    if not isinstance(hub, Mapping) or hub.get("status") not in SECURITY_HUB_STATUSES:
        raise ValueError(f"{where}: must be a mapping whose status is one of {', '.join(SECURITY_HUB_STATUSES)}")
    out = {"status": hub["status"]}
    for key in SECURITY_HUB_COUNTS:
        value = hub.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{where}.{key}: must be a whole number >= 0, got {value!r}")
        out[key] = value
    out["message"] = _text(hub.get("message")) or None
    return out


def security_hub_summary(target_summaries):
    """The summary's security_hub section: findings imported and archived over the targets that published, and
    the hosts where findings were not (all) published; None when no target published (the setting is off)."""
    hubs = [(target["host"], target["security_hub"]) for target in target_summaries if target.get("security_hub")]
    if not hubs:
        return None
    return {
        "targets": len(hubs),
        "imported": sum(hub["imported"] for dummy, hub in hubs),
        "archived": sum(hub["archived"] for dummy, hub in hubs),
        "failed": sum(hub["failed"] for dummy, hub in hubs),
        "not_enabled": sorted(host for host, hub in hubs if hub["status"] == "not_enabled"),
        "not_published": sorted(host for host, hub in hubs if hub["status"] == "failed"),
    }


def definition_key(definition):
    return json.dumps(definition, sort_keys=True)


def _exemption_entries(exemptions, reported):
    """One entry per exemption with its status over all targets and every stage it matched.

    The configured exemptions (of the host that builds the report) come first, in their order, unused ones
    included; then any other exemption a target reported (one whose host had a list of its own).
    """
    problems = exemptions_problems(exemptions, path="exemptions")
    if problems:
        raise ValueError("; ".join(problems))
    definitions = [exemption_definition(exemption) for exemption in exemptions]
    known = {definition_key(definition) for definition in definitions}
    definitions += [definition for key, (definition, dummy, dummy2) in sorted(reported.items()) if key not in known]
    return exemption_entries(definitions, reported)


def exemption_entries(definitions, reported):
    """The report's exemptions section: one entry per definition, in order, with its status and stages.

    reported: definition key (definition_key) -> (definition, statuses seen, stage ARNs matched).
    """
    entries = []
    for index, definition in enumerate(definitions):
        dummy, statuses, stages = reported.get(definition_key(definition), (definition, set(), set()))
        if "active" in statuses:
            status = "active"  # a run that straddles midnight UTC may see both; it still applied somewhere
        elif "expired" in statuses:
            status = "expired"
        else:
            status = "unused"
        entries.append(dict({"index": index}, **definition, status=status, stages=sorted(stages)))
    return entries


def _merge_reported(reported, record_index, record, exemptions):
    """Adds a target's exemption matches to ``reported``: definition key -> (definition, statuses, stages)."""
    for item in record.get("exemptions") or []:
        if not isinstance(item, Mapping) or not isinstance(item.get("index"), int) or item.get("status") not in ("active", "expired"):
            raise ValueError(f"targets[{record_index}].exemptions: must be the exemptions list sweep_plan returns")
        definition = item.get("definition")
        if not isinstance(definition, Mapping):
            # A plan without definitions: its indexes point into the configured exemptions.
            if item["index"] >= len(exemptions):
                raise ValueError(
                    f"a target reports exemption {item['index'] + 1}, but exemptions has {len(exemptions)}: pass the configured exemptions"
                )
            definition = exemption_definition(exemptions[item["index"]])
        definition = {str(key): (None if value is None else str(value)) for key, value in definition.items()}
        dummy, statuses, stages = reported.setdefault(definition_key(definition), (definition, set(), set()))
        statuses.add(item["status"])
        stages.update(str(arn) for arn in item.get("matched") or [])


def whole_path_coverage(rows):
    """Percent (one decimal) of the evaluated stages (compliant + non-compliant) whose gateway and every Lambda hop
    trace; None when none was evaluated."""
    evaluated = [row for row in rows if row_category(row) in ("compliant", "noncompliant")]
    if not evaluated:
        return None
    covered = sum(1 for row in evaluated if row.get("hops") is not None and whole_path_traced(row["hops"]))
    return round(100.0 * covered / len(evaluated), 1)


def untraced_hops(rows):
    """[{function, tracing, note, stages: [arn...]}]: one entry per function (or hop in error) that does not trace,
    with the stages behind it, most stages first."""
    by_function = {}
    for row in rows:
        for hop in row.get("hops") or []:
            if not hop_breaks_trace(hop):
                continue
            key = hop.get("function_arn") or hop.get("note")
            # A traced function whose role may not write to X-Ray: its mode is Active, yet it sends nothing.
            tracing = "traced, role cannot write" if hop["tracing"] == "traced" else hop["tracing"]
            entry = by_function.setdefault(key, {"function_arn": hop.get("function_arn"), "tracing": tracing, "note": hop.get("note"), "stages": []})
            if row["arn"] not in entry["stages"]:
                entry["stages"].append(row["arn"])
    return sorted(by_function.values(), key=lambda entry: (-len(entry["stages"]), str(entry["function_arn"] or entry["note"])))


def report_summary(target_summaries, rows, planned_changes, max_changes):
    """The report's summary section, counted from its targets and stage rows."""
    counts = category_counts(rows)
    actions = [row["action"] for row in rows]
    targets_failed = sum(1 for target in target_summaries if target["status"] == "error")
    summary = {
        "targets": len(target_summaries),
        "targets_failed": targets_failed,
        "stages": len(rows),
        "compliant": counts["compliant"],
        "noncompliant": counts["noncompliant"],
        "changed": actions.count("enabled") + actions.count("disabled"),
        "would_change": actions.count("would_enable") + actions.count("would_disable"),
        "exempt": counts["exempt"],
        "skipped": counts["skipped"],
        "stage_errors": counts["stage_errors"],
        "errors": counts["stage_errors"] + targets_failed,
        "compliance_percent": counts["compliance_percent"],
        "planned_changes": planned_changes,
        "max_changes": max_changes,
        "refused": any(is_refused(row) for row in rows),
    }
    if any("hops" in row for row in rows):
        summary["whole_path_coverage"] = whole_path_coverage(rows)
    hub = security_hub_summary(target_summaries)
    if hub is not None:
        summary["security_hub"] = hub
    return summary


def run_section(run):
    """The report's run section: collection version, policy in force, run errors (each defaulted)."""
    run = dict(run or {})
    unknown = [key for key in run if key not in RUN_KEYS]
    if unknown:
        raise ValueError(f"run: unknown key {unknown[0]!r}; run takes {', '.join(RUN_KEYS)}")
    policy = run.get("policy") or policy_in_force()
    if not isinstance(policy, Mapping) or sorted(policy) != sorted(POLICY_KEYS):
        raise ValueError(f"run.policy: must be a mapping of {', '.join(POLICY_KEYS)}, as policy_in_force returns")
    errors = run.get("errors") or []
    if not is_list(errors) or not all(isinstance(error, str) and error for error in errors):
        raise ValueError("run.errors: must be a list of messages")
    failed_steps = run.get("failed_steps") or []
    if not is_list(failed_steps) or not all(
        isinstance(step, Mapping) and sorted(step) == ["error", "step"] and all(isinstance(step[key], str) and step[key] for key in step)
        for step in failed_steps
    ):
        raise ValueError("run.failed_steps: must be a list of {step, error} mappings of messages")
    judged_with = run.get("judged_with")
    if judged_with is not None and (
        not isinstance(judged_with, Mapping) or sorted(judged_with) != sorted(JUDGEMENT_SETTINGS)
        or not all(isinstance(value, bool) for value in judged_with.values())
    ):
        raise ValueError(f"run.judged_with: must be a mapping of {', '.join(JUDGEMENT_SETTINGS)} to booleans")
    named = run.get("named_stages")
    if named is not None and (not is_list(named) or not all(
        isinstance(entry, Mapping) and sorted(entry) == ["rest_api_id", "stage_name"] and all(isinstance(value, str) and value for value in entry.values())
        for entry in named
    )):
        raise ValueError("run.named_stages: must be a list of {rest_api_id, stage_name} mappings, or null")
    section = {
        "collection": COLLECTION,
        "collection_version": _text(run.get("collection_version")) or collection_version(),
        "policy": dict(policy),
        "errors": list(errors),
        "failed_steps": [dict(step) for step in failed_steps],
        "judged_with": dict(judged_with) if judged_with is not None else None,
    }
    if named:
        # Only in the report of a run that named its stages (a remediation): other reports are as they were.
        section["named_stages"] = [dict(entry) for entry in named]
    if run.get("whole_path"):
        # Only with tracing_sweep_whole_path: the verdict counted a stage meant to be traced whose Lambda hops do not
        # trace as non-compliant. Other reports are as they were.
        section["whole_path"] = True
    return section


def judged_with(settings):
    """The judgement settings (JUDGEMENT_SETTINGS) of checked role settings, each defaulted."""
    return {name: bool(settings.get(name, default)) for name, default in JUDGEMENT_SETTINGS.items()}


def record_failed_step(report, step, cause):
    """Record that ``step`` failed after the sweep (in run.failed_steps, and as a run error that every format shows)
    and judge the report again: its verdict is then error, with the cause."""
    report["run"]["failed_steps"].append({"step": step, "error": cause})
    report["run"]["errors"].append(f"the step {step} failed: {cause}")
    return finish_report(report)


def finish_report(report):
    """Adds the verdict (and its reason) to a report whose summary and run are final; returns the report."""
    run = report["run"]
    report["verdict"], report["verdict_reason"] = verdict(report["summary"], run["errors"], run.get("failed_steps") or [])
    return report


def build_report(targets, mode, generated_at, exemptions=None, max_changes=None, hosts=None, run=None):
    """The report dict for all targets. Inputs are not modified; ValueError names a malformed input.

    hosts: optional, the host of each record in the same order (ansible_play_hosts_all with the records
    extracted from hostvars in that order); an empty record then reports its host as a failed target.
    run: optional, {collection_version, policy (policy_in_force), errors (run-level messages)}.
    """
    if mode not in MODES:
        raise ValueError(f"mode: must be audit or enforce, got {mode!r}")
    if isinstance(generated_at, datetime.datetime):
        generated_at = generated_at.isoformat()
    if not isinstance(generated_at, str) or not generated_at.strip():
        raise ValueError(f"generated_at: must be an ISO 8601 date and time string, got {generated_at!r}")
    if max_changes is not None and (isinstance(max_changes, bool) or not isinstance(max_changes, int) or max_changes < 0):
        raise ValueError(f"max_changes: must be a whole number >= 0 or null, got {max_changes!r}")
    if not is_list(targets):
        raise ValueError("targets: must be a list of per-target records")
    if hosts is not None:
        if not is_list(hosts) or len(hosts) != len(targets):
            count = len(hosts) if is_list(hosts) else "no list of"
            raise ValueError(f"hosts: must list the host of each target record in order, got {count} hosts for {len(targets)} records")
        targets = [_with_host(index, record, hosts[index]) for index, record in enumerate(targets)]

    configured = list(exemptions or [])
    target_summaries = []
    rows = []
    reported = {}
    planned_changes = 0
    for index, record in enumerate(targets):
        summary, record_rows = _target_record(index, record)
        target_summaries.append(summary)
        rows.extend(record_rows)
        _merge_reported(reported, index, record, configured)
        planned_changes += int(record.get("planned_changes") or 0)
    target_summaries.sort(key=lambda target: target["host"])
    rows.sort(key=stage_sort_key)
    functions = function_entries(targets)

    report = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": str(generated_at),
        "mode": str(mode),
        "verdict": None,
        "verdict_reason": None,
        "run": run_section(run),
        "summary": report_summary(target_summaries, rows, planned_changes, max_changes),
        "targets": target_summaries,
        "stages": rows,
        "exemptions": _exemption_entries(configured, reported),
        # The comparison with the run before (tracing_sweep_history); the report step fills it in when history is kept.
        "since_baseline": None,
    }
    if functions is not None:
        # Only with tracing_sweep_lambda_tracing: each function in the path, what became of it, its mode before
        # and after (what the rollback restores). A function whose change failed is a run error, with its cause.
        report["functions"] = functions
        report["summary"]["refused"] = report["summary"]["refused"] or any(entry["action"] == "refused" for entry in functions)
        report["run"]["errors"].extend(
            f"Lambda function {entry['update_arn']} ({entry['host']}): {entry['reason']}" for entry in functions if entry["action"] == "error")
    return finish_report(report)


FUNCTION_ACTIONS = ("activated", "would_activate", "refused", "exempt", "skipped", "cannot_fix", "error")


def function_entries(targets):
    """The functions of every target's record (tracing_sweep_lambda_tracing), with their target; None when no
    record has any (the setting was off)."""
    entries = None
    for record in targets:
        if not isinstance(record, Mapping) or record.get("functions") is None:
            continue
        entries = entries or []
        for item in record["functions"]:
            entries.append(dict(
                {key: item.get(key) for key in ("function_arn", "update_arn", "action", "reason", "mode_before", "mode_after")},
                stages=list(item.get("stages") or []), host=str(record.get("host")), account_id=record.get("account_id"), region=record.get("region"),
            ))
    if entries is not None:
        entries.sort(key=lambda entry: (str(entry["account_id"]), str(entry["region"]), entry["function_arn"]))
    return entries
