# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The whole-run report (report.json, schema in docs/report.schema.json) from the per-target records.

Every stage falls in exactly one category, so the summary counts add up to the number of stages:
  exempt        action exempt
  errors        action error
  skipped       a rule skips the stage (no desired state)
  compliant     tracing is as desired after this run (none, enabled, disabled)
  noncompliant  everything else that has a desired state: would_* in check mode (the change is only
                planned), refused by the guard, or gone before the change could be made
compliance_percent = compliant / (compliant + noncompliant), 100.0 when nothing had a desired state.
The report is deterministic: targets sorted by host, stages by account, region, API name, API id, stage.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.outcome import ACTIONS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.outcome import ROW_FIELDS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.outcome import is_refused
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.policy import exemption_definition
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import ACCOUNT_ID_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import REGION_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import exemptions_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import is_list

SCHEMA_VERSION = "1.0"
MODES = ("audit", "enforce")
TARGET_STATUSES = ("ok", "error")
CATEGORIES = ("compliant", "noncompliant", "exempt", "skipped", "errors")
EXEMPTION_STATUSES = ("active", "expired", "unused")
PENDING_ACTIONS = ("would_enable", "would_disable")
NOT_RECORDED = "the sweep of this host stopped before it recorded a result; see the failed task in the play output"


def row_category(row):
    """The one category (see the module docstring) a report row counts in."""
    if row["action"] == "exempt":
        return "exempt"
    if row["action"] == "error":
        return "errors"
    if row["desired"] is None:
        return "skipped"
    # would_* rows carry the state they would have; the stage itself is not (yet) as desired.
    if row["action"] not in PENDING_ACTIONS and row["tracing_enabled_after"] == row["desired"]:
        return "compliant"
    return "noncompliant"


def compliance_percent(compliant, noncompliant):
    total = compliant + noncompliant
    return 100.0 if total == 0 else round(100.0 * compliant / total, 1)


def category_counts(rows):
    """{category: count} for the rows, every category present, plus compliance_percent."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for row in rows:
        counts[row_category(row)] += 1
    counts["compliance_percent"] = compliance_percent(counts["compliant"], counts["noncompliant"])
    return counts


def stage_sort_key(row):
    return (row["account_id"] or "", row["region"], row["rest_api_name"] or "", row["rest_api_id"], row["stage_name"])


def _text(value):
    return None if value is None else str(value)


def report_row(row, where):
    if not isinstance(row, Mapping):
        raise ValueError(f"{where}: must be a row as sweep_outcome returns it")
    missing = [field for field in ROW_FIELDS if field not in row]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}; pass the rows sweep_outcome returns")
    if row["action"] not in ACTIONS:
        raise ValueError(f"{where}.action: must be one of {', '.join(ACTIONS)}, got {row['action']!r}")
    out = {field: row[field] for field in ROW_FIELDS}
    for field in ("account_id", "region", "rest_api_id", "rest_api_name", "stage_name", "arn", "action", "reason"):
        out[field] = _text(out[field])
    for field in ("tracing_enabled_before", "tracing_enabled_after"):
        # Unknown only for a REST API whose stages could not be read (an error row).
        unknown = out[field] is None and out["action"] == "error"
        out[field] = None if unknown else bool(out[field])
    out["desired"] = None if out["desired"] is None else bool(out["desired"])
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
    rows = [report_row(row, f"{where}.rows[{row_index}]") for row_index, row in enumerate(rows)]
    error = record.get("error")
    summary = {
        "host": str(record["host"]),
        "account_id": _valid_or_none(ACCOUNT_ID_PATTERN, record.get("account_id")),
        "account_name": _text(record.get("account_name")),
        "region": _valid_or_none(REGION_PATTERN, record.get("region")),
        "status": status,
        "error": _text(error) if error not in (None, "") else None,
        "stages": len(rows),
        "noncompliant": sum(1 for row in rows if row_category(row) == "noncompliant"),
    }
    if status == "error" and summary["error"] is None:
        summary["error"] = "the target failed"
    return summary, rows


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
                raise ValueError(f"a target reports exemption {item['index']}, but exemptions has {len(exemptions)}: pass the configured exemptions")
            definition = exemption_definition(exemptions[item["index"]])
        definition = {str(key): (None if value is None else str(value)) for key, value in definition.items()}
        dummy, statuses, stages = reported.setdefault(definition_key(definition), (definition, set(), set()))
        statuses.add(item["status"])
        stages.update(str(arn) for arn in item.get("matched") or [])


def report_summary(target_summaries, rows, planned_changes, max_changes):
    """The report's summary section, counted from its targets and stage rows."""
    counts = category_counts(rows)
    actions = [row["action"] for row in rows]
    return {
        "targets": len(target_summaries),
        "targets_failed": sum(1 for target in target_summaries if target["status"] == "error"),
        "stages": len(rows),
        "compliant": counts["compliant"],
        "noncompliant": counts["noncompliant"],
        "changed": actions.count("enabled") + actions.count("disabled"),
        "would_change": actions.count("would_enable") + actions.count("would_disable"),
        "exempt": counts["exempt"],
        "skipped": counts["skipped"],
        "errors": counts["errors"],
        "compliance_percent": counts["compliance_percent"],
        "planned_changes": planned_changes,
        "max_changes": max_changes,
        "refused": any(is_refused(row) for row in rows),
    }


def build_report(targets, mode, generated_at, exemptions=None, max_changes=None, hosts=None):
    """The report dict for all targets. Inputs are not modified; ValueError names a malformed input.

    hosts: optional, the host of each record in the same order (ansible_play_hosts_all with the records
    extracted from hostvars in that order); an empty record then reports its host as a failed target.
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

    summary = report_summary(target_summaries, rows, planned_changes, max_changes)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": str(generated_at),
        "mode": str(mode),
        "summary": summary,
        "targets": target_summaries,
        "stages": rows,
        "exemptions": _exemption_entries(configured, reported),
    }
