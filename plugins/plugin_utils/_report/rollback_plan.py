# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""What rolling back an enforcement means, read from the enforcement's report.json.

A stage the enforcement changed has action enabled or disabled in the report; rolling it back puts it
back to tracing_enabled_before. Nothing else in the report is touched: exempt, skipped and unchanged
stages were not changed, and an error row is a change that did not happen.

The report is checked only as far as the rollback relies on it: what it would change must be exactly
what the enforcement changed. Problems of the report are returned, not raised, so that the playbook can
refuse with one clear message before any AWS call; a malformed target or target list is a mistake in
the caller's code and raises ValueError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import STAGE_NAME_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import ACCOUNT_ID_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import FUNCTION_ARN_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import REGION_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import REST_API_ID_PATTERN
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import describe
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import is_list

SUPPORTED_MAJOR = "1"
# action -> the tracing state the enforcement found, which the rollback restores.
CHANGED_ACTIONS = {"enabled": False, "disabled": True}
CHANGE_FIELDS = (
    "account_id", "region", "rest_api_id", "rest_api_name", "stage_name", "arn", "action", "tracing_enabled_before", "tracing_enabled_after",
)
# A report with many bad rows is named by its first few; the count says how many more.
MAX_PROBLEMS = 10
NOT_A_REPORT = "is not a tracing sweep report (report.json of the tracing_sweep role: a JSON object with schema_version, mode and stages)"


def loaded_report(report):
    """(report as a mapping or list, problems) from JSON text or an already parsed value."""
    if isinstance(report, bytes):
        report = report.decode("utf-8", errors="replace")
    if isinstance(report, str):
        if not report.strip():
            return None, ["is empty, not a report.json"]
        try:
            return json.loads(report), []
        except ValueError as error:
            return None, [f"is not JSON ({error})"]
    return report, []


def _header_problems(report):
    """Problems of the report's top level; empty when its stages can be read."""
    missing = [key for key in ("schema_version", "mode", "stages") if key not in report]
    if missing:
        return [f"{NOT_A_REPORT}; it has no {', '.join(missing)}"]
    version = report["schema_version"]
    if not isinstance(version, str) or version.split(".")[0] != SUPPORTED_MAJOR:
        return [f"schema_version: {describe(version)} is not supported; this collection reads report schema {SUPPORTED_MAJOR}.x"]
    mode = report["mode"]
    if mode == "audit":
        return [
            "is the report of an audit (mode audit), which changed nothing, so there is nothing to roll back; "
            "pass the report.json of an enforcement run (mode enforce)"
        ]
    if mode != "enforce":
        return [f"mode: must be enforce (the report of an enforcement run), got {describe(mode)}"]
    if not is_list(report["stages"]):
        return [f"stages: must be a list of stage rows, got {describe(report['stages'])}"]
    return []


def _change(index, row):
    """(change, problems) for one stage row; change is None for a row the enforcement did not change."""
    where = f"stages[{index}]"
    if not isinstance(row, Mapping):
        return None, [f"{where}: must be a stage row (a mapping), got {describe(row)}"]
    action = row.get("action")
    if not isinstance(action, str):
        return None, [f"{where}.action: must be a string such as enabled or none, got {describe(action)}"]
    if action not in CHANGED_ACTIONS:
        return None, []
    checks = (
        ("account_id", ACCOUNT_ID_PATTERN, "a 12-digit account id"),
        ("region", REGION_PATTERN, "an AWS region name such as us-east-1"),
        ("rest_api_id", REST_API_ID_PATTERN, "a REST API id (10 lowercase letters or digits)"),
        ("stage_name", STAGE_NAME_PATTERN, "a stage name (1 to 128 letters, digits, - or _)"),
    )
    problems = []
    for field, pattern, rule in checks:
        value = row.get(field)
        if not (isinstance(value, str) and pattern.fullmatch(value)):
            problems.append(f"{where}.{field}: must be {rule} in a row with action {action}, got {describe(value)}")
    before = row.get("tracing_enabled_before")
    if before is not CHANGED_ACTIONS[action]:
        # The one value the rollback writes: anything but the state the action implies is a damaged report.
        wanted = str(CHANGED_ACTIONS[action]).lower()
        problems.append(f"{where}.tracing_enabled_before: must be {wanted} in a row with action {action}, got {describe(before)}")
    if problems:
        return None, problems
    change = {field: row.get(field) for field in CHANGE_FIELDS}
    for field in ("rest_api_name", "arn"):
        change[field] = None if change[field] is None else str(change[field])
    change["tracing_enabled_after"] = not before
    return change, []


def _key(change):
    return change["account_id"], change["region"], change["rest_api_id"], change["stage_name"]


def report_changes(report):
    """(changes, problems, header) of an enforcement's report.

    report: the report (a mapping, or its JSON text), or a list of its stage rows (for example the changes
    an earlier call returned). changes are the rows with action enabled or disabled, in report order, each
    stage once; header holds the report's mode and generated_at (None for a list). When problems is not
    empty, changes is empty: a report that is wrong anywhere is not rolled back anywhere.
    """
    report, problems = loaded_report(report)
    header = {"mode": None, "generated_at": None}
    if problems:
        return [], problems, header
    if isinstance(report, Mapping):
        problems = _header_problems(report)
        if problems:
            return [], problems, header
        header = {"mode": report["mode"], "generated_at": None if report.get("generated_at") is None else str(report["generated_at"])}
        rows = report["stages"]
        where = ""
    elif is_list(report):
        rows = report
        where = "(a list of stage rows) "
    else:
        return [], [f"{NOT_A_REPORT}; got {describe(report)}"], header

    changes = []
    seen = {}
    for index, row in enumerate(rows):
        change, row_problems = _change(index, row)
        problems.extend(where + problem for problem in row_problems)
        if change is None:
            continue
        key = _key(change)
        if key in seen:
            # Two hosts of one enforcement on the same account and region change a stage twice, the same way.
            if seen[key]["tracing_enabled_before"] != change["tracing_enabled_before"]:
                problems.append(
                    f"{where}stages[{index}]: changes stage {key[2]}/{key[3]} of account {key[0]} in {key[1]} the other way from an "
                    "earlier row; its previous state is ambiguous"
                )
            continue
        seen[key] = change
        changes.append(change)
    if len(problems) > MAX_PROBLEMS:
        problems = problems[:MAX_PROBLEMS] + [f"and {len(problems) - MAX_PROBLEMS} more problems"]
    return ([] if problems else changes), problems, header


def _target_key(target, where):
    if not isinstance(target, Mapping):
        raise ValueError(f"{where}: must be a mapping with account_id and region, got {describe(target)}")
    account_id = target.get("account_id")
    region = target.get("region")
    if not (isinstance(account_id, str) and ACCOUNT_ID_PATTERN.fullmatch(account_id)):
        raise ValueError(f"{where}.account_id: must be a 12-digit account id as a string, got {describe(account_id)}")
    if not (isinstance(region, str) and REGION_PATTERN.fullmatch(region)):
        raise ValueError(f"{where}.region: must be an AWS region name such as us-east-1, got {describe(region)}")
    return account_id, region


def target_stages(changes, target):
    """The changes of one target as items of apigw_stage_tracing's stages option, back to their previous state."""
    key = _target_key(target, "target")
    return [
        {"rest_api_id": change["rest_api_id"], "stage_name": change["stage_name"], "tracing_enabled": change["tracing_enabled_before"]}
        for change in changes
        if (change["account_id"], change["region"]) == key
    ]


def _well_formed_key(target):
    account_id = target.get("account_id")
    region = target.get("region")
    if isinstance(account_id, str) and ACCOUNT_ID_PATTERN.fullmatch(account_id) and isinstance(region, str) and REGION_PATTERN.fullmatch(region):
        return account_id, region
    return None


def changes_outside(changes, targets):
    """The changes whose account and region is none of the targets'.

    A target whose account id or region is unknown or malformed (it failed before they were found or
    checked) covers nothing: its changes are listed here too, so that no change goes unmentioned.
    """
    if not is_list(targets):
        raise ValueError(f"targets: must be a list of mappings with account_id and region, got {describe(targets)}")
    covered = set()
    for index, target in enumerate(targets):
        if not isinstance(target, Mapping):
            raise ValueError(f"targets[{index}]: must be a mapping with account_id and region, got {describe(target)}")
        key = _well_formed_key(target)
        if key is not None:
            covered.add(key)
    return [change for change in changes if (change["account_id"], change["region"]) not in covered]


def rollback_plan(report, target=None, targets=None):
    """Everything the rollback needs from a report; see the rollback_changes filter for the keys."""
    changes, problems, header = report_changes(report)
    return {
        "problems": problems,
        "mode": header["mode"],
        "generated_at": header["generated_at"],
        "changes": changes,
        "stages": [] if target is None else target_stages(changes, target),
        "not_in_run": [] if targets is None else changes_outside(changes, targets),
    }


# The modes a function may be put back to (tracing_sweep_lambda_tracing changed it from one of them to Active).
FUNCTION_MODES = ("PassThrough",)


def report_function_changes(report):
    """(functions, problems) of an enforcement's report (a mapping): its ``functions`` set to Active
    (tracing_sweep_lambda_tracing), each {account_id, region, function_arn, update_arn, mode_before}. As for stages,
    a report wrong anywhere is not rolled back anywhere: with problems, functions is empty."""
    report, problems = loaded_report(report)
    if problems or not isinstance(report, Mapping) or report.get("functions") is None:
        return [], []
    if not is_list(report["functions"]):
        return [], [f"functions: must be a list of functions, got {describe(report['functions'])}"]
    functions = []
    for index, entry in enumerate(report["functions"]):
        where = f"functions[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: must be a mapping, got {describe(entry)}")
            continue
        if entry.get("action") != "activated":
            continue
        checks = (
            ("account_id", ACCOUNT_ID_PATTERN, "a 12-digit account id"),
            ("region", REGION_PATTERN, "an AWS region name such as us-east-1"),
            ("update_arn", FUNCTION_ARN_PATTERN, "a Lambda function's ARN"),
        )
        found = [f"{where}.{field}: must be {rule} in a function with action activated, got {describe(entry.get(field))}"
                 for field, pattern, rule in checks if not (isinstance(entry.get(field), str) and pattern.fullmatch(entry[field]))]
        if entry.get("mode_before") not in FUNCTION_MODES:
            found.append(f"{where}.mode_before: must be {' or '.join(FUNCTION_MODES)} in a function with action activated, "
                         f"got {describe(entry.get('mode_before'))}")
        problems.extend(found)
        if not found:
            keys = ("account_id", "region", "function_arn", "update_arn", "mode_before")
            functions.append({key: str(entry[key]) for key in keys if entry.get(key) is not None})
    return ([] if problems else functions), problems
