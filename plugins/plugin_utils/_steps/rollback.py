# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The rollback's steps (entry point rollback of the tracing_sweep role), as the private action _sweep runs them.

  rollback_plan     read the enforcement's report.json once, before any AWS call, list what it changed, and prove
                    that the rollback's own reports can be written (in a directory that does not hold that report)
  restore           per target: put the target's changes back, and record what happened
  rollback_summary  once: the counts, the lines the run prints, why it fails, and the rollback's report set

The rollback's report.json is a sweep report (docs/report.schema.json) with a ``rollback_of`` section naming the
report it rolled back. Its rows are the stages of that report's changes, as this run left them:
  enabled/disabled (would_* in check mode)  put back; tracing_enabled_before is the state the rollback found
  none                                      already at its state before the enforcement (changed back since)
  skipped                                   deleted since the enforcement (reason "missing: ..."), or of an account
                                            and region no target of this run covers (reason "not rolled back: ...")
  error                                     not put back: the cause (a failed call, or a target that failed)
so that feeding it to the rollback again undoes the rollback. Its mode is enforce, or audit in check mode.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import ReportWriteError
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import controller_path
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import failed_write_result
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import formats_in_order
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import prepare
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import write_set
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import _aws as aws
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._engine import pipeline as engine
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._engine.pipeline import request_totals
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import SCHEMA_VERSION
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import finish_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import policy_in_force
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import report_row
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import report_summary
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import stage_sort_key
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import RENDERERS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import changes_outside
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import report_changes
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import report_function_changes
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import request_path
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.convergence import Convergence
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rollback_plan import target_stages
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import target_account_id
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import target_problems

NOT_DONE = "the target failed before its stages were put back"
COUNTS = ("changes", "restored", "already", "missing", "failed", "not_in_run")
# When one stage is in the records of two hosts (two hosts of one account and region), the report keeps the row
# that says most about the stage: a change made, then a stage found at its state, then a failure, then the rest.
ROW_RANK = {"enabled": 0, "disabled": 0, "would_enable": 0, "would_disable": 0, "none": 1, "error": 2}


def rollback_plan_step(args, host=None, check_mode=False, say=None):
    """The changes of the enforcement whose report.json tracing_sweep_rollback_report names; fails, before any AWS
    call, when it is not given, not a file, not a report, or the report of an audit, and when the rollback's own
    reports could not be written in ``dest`` (tracing_sweep_report_dir): a directory that holds the report to roll
    back (it would be written over), or one the controller cannot write in."""
    given = str(args.get("report") or "")
    if not given:
        return _refused("tracing_sweep_rollback_report is not set")
    # A relative path is taken from the directory ansible-playbook runs in, like tracing_sweep_report_dir.
    path = controller_path(given)
    if not os.path.isfile(path):
        return _refused(f"tracing_sweep_rollback_report {path} does not exist or is not a file")
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError as error:
        return _refused(f"tracing_sweep_rollback_report {path} cannot be read: {error.strerror or error}")
    changes, problems, header = report_changes(text)
    functions, function_problems = ([], []) if problems else report_function_changes(text)
    problems = problems or function_problems
    if problems:
        return {"failed": True, "msg": f"Nothing was rolled back: {path} {'; '.join(problems)}"}
    result = {"changed": False, "file": path, "changes": changes, "generated_at": header["generated_at"]}
    if functions:
        # tracing_sweep_lambda_tracing: the functions the enforcement set to Active, put back to their mode before.
        result["functions"] = functions
    if args.get("dest") is not None:
        dest = controller_path(args["dest"])
        problem = _report_dir_problem(dest, path)
        if problem:
            return {"failed": True, "dest": dest, "msg": f"Nothing was rolled back and no AWS call was made: tracing_sweep_report_dir: {problem}"}
        result["dest"] = dest
    if not changes and not functions:
        result["message"] = f"Nothing to roll back: the enforcement of {header['generated_at']} changed no stage ({path})."
    return result


def _report_dir_problem(dest, report_path):
    """Why the rollback's reports could not be written in ``dest`` (None when they can): the rollback's record must
    never replace the report it rolls back, nor be lost after stages were put back."""
    if os.path.dirname(report_path) == dest:
        return (
            f"must be a directory of its own, not {dest}, which holds the report to roll back ({report_path}); the rollback's "
            "reports would be written over it. Set tracing_sweep_report_dir to another directory (or roll back a copy of the report)"
        )
    try:
        prepare(dest)
    except ReportWriteError as error:
        return f"{error}; choose a directory the controller can write in, so that the rollback's record of what it put back can be kept"
    return None


def _refused(what):
    return {"failed": True, "msg": f"Nothing was rolled back: {what}; give the path of the report.json that the enforcement to undo wrote."}


def _label(item):
    return f"{item['rest_api_id']}/{item['stage_name']}"


def restore_record(identity, outcome, chosen, requests, host):
    """What the rollback of one target did, by kind, for the summary, the report and the target's own lines."""
    return dict(
        identity,
        status="ok",
        error=None,
        requests=requests or {},
        changes=len(chosen),
        restored=[stage for stage in outcome["stages"] if stage["changed"]],
        already=[stage for stage in outcome["stages"] if not stage["changed"]],
        missing=list(outcome["missing"]),
        failed=[dict(failure, host=host) for failure in outcome["failures"]],
    )


def failed_record(identity, error, changes, host, requests=None):
    """A target that failed before its stages were put back: every change of its account and region counts as not
    rolled back (nothing is known of what a failed call did)."""
    mine = [change for change in changes if (change["account_id"], change["region"]) == (identity.get("account_id"), identity.get("region"))]
    return dict(
        identity,
        status="error",
        error=error,
        requests=requests or {},
        changes=len(mine),
        restored=[],
        already=[],
        missing=[],
        failed=[dict(change, host=host, message=NOT_DONE) for change in mine],
    )


def target_lines(record, check_mode):
    """The lines a target prints after its rollback: {what: [stage lines]}, only the kinds it has."""
    lines = {
        "target failed": [record["error"]] if record["status"] == "error" else [],
        "would be put back" if check_mode else "put back": [
            f"{_label(stage)}: tracing {'on' if stage['tracing_enabled'] else 'off'}" for stage in record["restored"]
        ],
        "already at their previous state (changed back since the enforcement)": [
            f"{_label(stage)}: tracing already {'on' if stage['tracing_enabled'] else 'off'}" for stage in record["already"]
        ],
        "missing (deleted since the enforcement)": [_label(stage) for stage in record["missing"]],
        "not rolled back": [f"{_label(failure)}: {failure['message']}" for failure in record["failed"]],
        "Lambda functions": [f"{item['update_arn']}: {item['reason']}" for item in record.get("functions") or []],
    }
    return {kind: items for kind, items in lines.items() if items}


# ---- the rollback's report ----------------------------------------------------------------------------


def _partition(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _on_off(value):
    return "on" if value else "off"


def _row(change, item, account_name, action, before, after, reason):
    """A report row of a stage of the rolled back report: ``change`` is its change in that report, ``item`` what this
    run found of it (or the change itself)."""
    region = change["region"]
    arn = item.get("arn") or change.get("arn") or (
        f"arn:{_partition(region)}:apigateway:{region}::/restapis/{change['rest_api_id']}/stages/{change['stage_name']}"
    )
    return {
        "account_id": change["account_id"],
        "account_name": account_name,
        "region": region,
        "rest_api_id": change["rest_api_id"],
        "rest_api_name": change.get("rest_api_name"),
        "stage_name": change["stage_name"],
        "arn": arn,
        "tracing_enabled_before": before,
        "tracing_enabled_after": after,
        # The state the rollback puts back: the stage's state before the enforcement.
        "desired": change["tracing_enabled_before"],
        "action": action,
        "reason": reason,
    }


def record_rows(record, changes, enforced_at, check_mode):
    """The report rows of one target's rollback record (restore_record or failed_record), one per change it covered."""
    known = {(change["account_id"], change["region"], change["rest_api_id"], change["stage_name"]): change for change in changes}
    by_stage = {}
    for change in changes:
        by_stage.setdefault((change["rest_api_id"], change["stage_name"]), []).append(change)
    name = record.get("account_name")
    of = f"the enforcement of {enforced_at}"

    def change_of(item):
        account_id = item.get("account_id") or record.get("account_id")
        region = item.get("region") or record.get("region")
        change = known.get((account_id, region, item["rest_api_id"], item["stage_name"]))
        if change is None and len(by_stage.get((item["rest_api_id"], item["stage_name"]), [])) == 1:
            # A record whose account or region is not known (it cannot be, for a target that reached its stages): a
            # REST API id names one API, so the one change of that stage is the one.
            change = by_stage[(item["rest_api_id"], item["stage_name"])][0]
        if change is None:
            # A stage the target was not given (never happens): named by what the target said of it.
            wanted = item.get("tracing_enabled", item.get("tracing_enabled_before"))
            change = {"account_id": account_id, "region": region, "rest_api_id": item["rest_api_id"], "stage_name": item["stage_name"],
                      "rest_api_name": None, "arn": item.get("arn"), "tracing_enabled_before": wanted}
        return change

    rows = []
    for item in record.get("restored") or []:
        change = change_of(item)
        after = bool(item["tracing_enabled"])
        action = ("would_enable" if after else "would_disable") if check_mode else ("enabled" if after else "disabled")
        verb = "would be put back" if check_mode else "put back"
        rows.append(_row(change, item, name, action, bool(item["tracing_enabled_before"]), after,
                         f"{verb} to tracing {_on_off(after)}, its state before {of}"))
    for item in record.get("already") or []:
        change = change_of(item)
        state = bool(item["tracing_enabled"])
        rows.append(_row(change, item, name, "none", state, state,
                         f"already at tracing {_on_off(state)}, its state before {of} (changed back since)"))
    for item in record.get("missing") or []:
        change = change_of(item)
        # Its last known state is the one the enforcement left; the stage itself no longer exists.
        left = not change["tracing_enabled_before"]
        rows.append(_row(change, item, name, "skipped", left, left,
                         f"missing: the stage (or its REST API) was deleted since {of}; nothing to put back"))
    for item in record.get("failed") or []:
        change = change_of(item)
        cause = item.get("message") or NOT_DONE
        # What a failed call left is not known: the state before and after stays unknown (null).
        rows.append(_row(change, item, name, "error", None, None, f"not put back to tracing {_on_off(change['tracing_enabled_before'])}: {cause}"))
    return rows


def outside_rows(outside, stopped=False):
    """Rows for the changes that no target of this run covers: not rolled back, untouched. ``stopped``: some target
    stopped before its account was known, and may have been the one to cover them."""
    rows = []
    for change in outside:
        left = not change["tracing_enabled_before"]
        reason = f"not rolled back: no target of this run covers account {change['account_id']} in {change['region']}"
        if stopped:
            reason += " (or its target stopped before its account was known; see the failed targets)"
        rows.append(_row(change, change, None, "skipped", left, left, reason))
    return rows


def _key(row):
    return row["account_id"], row["region"], row["rest_api_id"], row["stage_name"]


def _one_row_per_stage(rows_by_record):
    """Each stage in one record's rows only, the most telling row kept (see ROW_RANK)."""
    best = {}
    for index, rows in enumerate(rows_by_record):
        for position, row in enumerate(rows):
            key = _key(row)
            rank = ROW_RANK.get(row["action"], 3)
            if key not in best or rank < best[key][0]:
                best[key] = (rank, index, position)
    return [[row for position, row in enumerate(rows) if best[_key(row)][1:] == (index, position)] for index, rows in enumerate(rows_by_record)]


def _verdict_reason(report, summary, check_mode):
    counts = report["summary"]
    rolled = f"rollback{' (check mode, nothing was changed)' if check_mode else ''} of the enforcement of {summary['enforced_at']} ({summary['report']})"
    if report["verdict"] == "error":
        parts = []
        if counts["targets_failed"]:
            parts.append(f"{counts['targets_failed']} of {counts['targets']} targets failed")
        if counts["stage_errors"]:
            parts.append(f"{counts['stage_errors']} stage{'' if counts['stage_errors'] == 1 else 's'} not put back (action error)")
        return f"{rolled}: " + ", ".join(parts or ["the run failed"])
    if report["verdict"] == "noncompliant":
        return f"{rolled}: {counts['would_change']} stage{'' if counts['would_change'] == 1 else 's'} would be put back"
    reason = (
        f"{rolled}: every stage it changed that this run covers is at its state before the enforcement "
        f"({summary['restored']} put back, {summary['already']} already, {summary['missing']} missing)"
    )
    if summary["not_in_run"]:
        reason += f"; {summary['not_in_run']} not rolled back, no target of this run covers them"
    return reason


def rollback_report(records, hosts, summary, changes, outside, settings, generated_at, check_mode):
    """The rollback's report (a sweep report with rollback_of); ``records`` are in the order of ``hosts``, {} for a
    host without a record. Raises ValueError on a malformed record."""
    rows = _one_row_per_stage([record_rows(record, changes, summary["enforced_at"], check_mode) if record else [] for record in records])
    targets = [
        dict({key: record.get(key) for key in ("host", "account_id", "account_name", "region", "status", "error", "caller_arn", "functions")}, rows=mine)
        if record else {}
        for record, mine in zip(records, rows)
    ]
    report = build_report(
        targets,
        "audit" if check_mode else "enforce",
        generated_at,
        max_changes=None,
        hosts=hosts,
        run={"policy": policy_in_force(settings.get("desired", True), settings.get("rules"), settings.get("exemptions"), settings.get("exempt_tag"))},
    )
    stopped = any(not record or (record.get("status") == "error" and not record.get("account_id")) for record in records)
    extra = [report_row(row, f"stages[{index}]") for index, row in enumerate(outside_rows(outside, stopped))]
    if extra:
        report["stages"] = sorted(report["stages"] + extra, key=stage_sort_key)
    report["summary"] = report_summary(report["targets"], report["stages"], len(changes), None)
    finish_report(report)
    report["verdict_reason"] = _verdict_reason(report, summary, check_mode)
    report["rollback_of"] = {
        "report": summary["report"],
        "generated_at": summary["enforced_at"],
        "counts": {key: summary[key] for key in COUNTS},
    }
    return report


def _bare_report(records, summary, changes, outside, generated_at, check_mode):
    """What is kept when the report could not be built: the rows, as far as the records allow, and the report they
    roll back; enough for the rollback to read (its changed rows are complete)."""
    rows = []
    for record in records:
        try:
            rows.extend(record_rows(record, changes, summary["enforced_at"], check_mode) if record else [])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at,
        "mode": "audit" if check_mode else "enforce",
        "verdict": "error",
        "verdict_reason": "the rollback's report could not be built; this is what was kept of it",
        "stages": rows + outside_rows(outside),
        "rollback_of": {"report": summary["report"], "generated_at": summary["enforced_at"], "counts": {key: summary[key] for key in COUNTS}},
    }


def _render(report, formats):
    """({format: text}, problems): every format that renders; report.json first, the others only with it."""
    rendered, problems = {}, []
    for name in formats_in_order(formats):
        if name != "json" and "json" not in rendered:
            break
        try:
            rendered[name] = RENDERERS[name](report)
        except Exception as error:  # pylint: disable=broad-exception-caught
            # A renderer's fault must not cost the run its record: the other formats are written and the run fails.
            problems.append(f"the {name} report could not be rendered: {type(error).__name__}: {error}")
    return rendered, problems


def write_rollback_report(records, hosts, summary, changes, outside, settings, dest, formats, generated_at, check_mode):
    """Build, render and write the rollback's report set in ``dest``; never raises.

    Returns {verdict, files, write_error, fallback_report, changed_stages, report}; nothing is written when ``dest``
    is None (a caller that wants the summary only). When report.json could not be written, a
    copy is saved elsewhere and every stage the rollback changed is named in write_error, as for an enforcement; a
    format that could not be rendered is named in write_error, the others are written.
    """
    problems = []
    try:
        report = rollback_report(records, hosts, summary, changes, outside, settings, generated_at, check_mode)
        rendered, render_problems = _render(report, formats)
        problems.extend(render_problems)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        problems.append(f"the rollback's report could not be built: {type(error).__name__}: {error}")
        report = _bare_report(records, summary, changes, outside, generated_at, check_mode)
        rendered = {"json": json.dumps(report, indent=2, default=str) + "\n"}
    out = {"verdict": report["verdict"], "files": {}, "write_error": None, "fallback_report": None, "changed_stages": [], "report": report}
    if dest is None:
        return out
    if "json" in rendered:
        try:
            out["files"], dummy = write_set(rendered, dest)
        except ReportWriteError as error:
            problems.insert(0, str(error))
    if "json" in out["files"]:
        if problems:
            out["write_error"] = f"tracing_sweep_report_dir: {'; '.join(problems)}; report.json was written in {dest}"
        return out
    text = rendered.get("json") or json.dumps(report, indent=2, default=str) + "\n"
    failed = failed_write_result(report, text, "tracing_sweep_report_dir: " + "; ".join(problems), dest)
    out.update(write_error=failed["msg"], fallback_report=failed.get("fallback_report"), changed_stages=failed.get("changed_stages", []))
    return out


def rollback_summary_step(args, host=None, check_mode=False, say=None):
    """The summary of the whole rollback, the lines it prints, the failure message (None when nothing failed), and
    its report set, written in ``dest`` in ``formats`` (in check mode too: it is the record of what would be done).

    A host without a record stopped before its rollback began: it counts as a failed target, and the changes of an
    account and region that no recorded target covers are listed one by one as not rolled back, never dropped.
    """
    plan = args.get("planned") or {}
    changes = plan.get("changes") or []
    hosts = args.get("hosts") or []
    settings = args.get("settings") or {}
    records = [record if isinstance(record, dict) and record else {} for record in args.get("records") or []]
    live = set(args.get("live") or hosts)
    records = [record if name in live else {} for name, record in zip(hosts, records)]
    # A target that failed outside the restore step (its record comes from the role's rescue) has the changes of its
    # account and region counted as not rolled back all the same: nothing is known of what it did.
    records = [
        failed_record(record, record.get("error"), changes, record.get("host"), record.get("requests")) if record.get("status") == "error" else record
        for record in records
    ]
    recorded = [record for record in records if record]
    unrecorded = [name for name, record in zip(hosts, records) if not record]
    outside = changes_outside(changes, recorded)
    failed_targets = [record for record in recorded if record["status"] == "error"]
    stage_failures = [failure for record in recorded if record["status"] == "ok" for failure in record["failed"]]
    requests = request_totals(recorded)
    summary = {
        "report": plan.get("file"),
        "enforced_at": plan.get("generated_at"),
        "check_mode": bool(check_mode),
        "changes": len(changes),
        "targets": len(hosts),
        "targets_failed": len(failed_targets) + len(unrecorded),
        "restored": sum(len(record["restored"]) for record in recorded),
        "already": sum(len(record["already"]) for record in recorded),
        "missing": sum(len(record["missing"]) for record in recorded),
        "failed": sum(len(record["failed"]) for record in recorded),
        "not_in_run": len(outside),
        "failed_targets": [f"{record['host']}: {record['error']}" for record in failed_targets]
        + [f"{name}: stopped before its rollback began" for name in unrecorded],
        # Stages that failed on a target that did not fail as a whole; a failed target's error says it all.
        "failed_stages": [f"{failure['host']} {_label(failure)}: {failure['message']}" for failure in stage_failures],
        "outside": [
            f"{change['account_id']} {change['region']} {_label(change)}, to put back to tracing {'on' if change['tracing_enabled_before'] else 'off'}"
            for change in outside
        ],
    }
    given = args.get("dest") or plan.get("dest")
    dest = controller_path(given) if given else None
    written = write_rollback_report(
        records, hosts, summary, changes, outside, settings, dest, args.get("formats") or ["json"], args.get("generated_at") or _now(), check_mode
    )
    summary["verdict"] = written["verdict"]
    summary["reports"] = written["files"]
    verb = "would put back" if check_mode else "put back"
    lines = [
        f"Tracing rollback{' (check mode, nothing was changed)' if check_mode else ''} of the enforcement of {summary['enforced_at']} "
        f"({summary['report']}): {summary['changes']} stages it changed, {summary['targets']} targets ({summary['targets_failed']} failed)",
        f"{verb} {summary['restored']}, already at their previous state {summary['already']}, missing {summary['missing']}, "
        f"failed {summary['failed']}, not in this run {summary['not_in_run']}",
        f"API Gateway requests: {requests['sent']} sent; answers throttled {requests['throttled']}, server errors {requests['server_errors']}, "
        f"no answer {requests['connection_errors']} (each retried; what still failed is counted in failed above)",
    ]
    # Changes of an account and region that no host of this run covers (another inventory, --limit): named one by one.
    lines += ["not rolled back, no target of this run covers it: " + item for item in summary["outside"]]
    lines.append(f"Verdict: {written['verdict']} ({written['report']['verdict_reason']})")
    if dest is not None:
        lines.append(f"Reports: {dest}" if written["files"] else f"Reports: none written in {dest} (see the failure below)")
    functions = [item for record in recorded for item in record.get("functions") or []]
    if plan.get("functions"):
        # tracing_sweep_lambda_tracing: the functions the enforcement set to Active, and what became of them.
        summary["functions"] = {action: sum(1 for item in functions if item["action"] == action)
                                for action in ("restored", "would_restore", "already", "error")}
        summary["functions"]["changes"] = len(plan["functions"])
        lines.insert(2, "Lambda functions it set to Active: %d; %s %d, already at their mode before %d, failed %d" % (
            len(plan["functions"]), verb, summary["functions"]["restored"] + summary["functions"]["would_restore"],
            summary["functions"]["already"], summary["functions"]["error"]))
    failure = None
    function_failures = [f"{item['update_arn']}: {item['reason']}" for item in functions if item["action"] == "error"]
    if settings.get("fail_on_error", True) and function_failures and not (summary["failed"] or summary["targets_failed"]):
        count = "1 Lambda function was" if len(function_failures) == 1 else "%d Lambda functions were" % len(function_failures)
        failure = "%s not put back: %s" % (count, " | ".join(function_failures))
    if settings.get("fail_on_error", True) and (summary["failed"] or summary["targets_failed"]):
        failure = (
            f"{summary['failed']} of {summary['changes']} stages were not rolled back and {summary['targets_failed']} of "
            f"{summary['targets']} targets failed; the other targets were rolled back. "
            + (f"Report: {dest}. " if dest is not None else "")
            + " | ".join(summary["failed_targets"] + summary["failed_stages"])
        )
    return dict(
        changed=False, summary=summary, lines=lines, failure=failure, dest=dest, files=written["files"], verdict=written["verdict"],
        write_error=written["write_error"], fallback_report=written["fallback_report"], changed_stages=written["changed_stages"],
    )


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def restore_step(args, host=None, check_mode=False, say=None):
    """The rollback of one target: its changes of the enforcement, each back to its state before.

    A target that names its account (or whose role does) and has no change in the report costs no AWS call.
    The result's ``record`` says what happened (rollback_summary counts it), ``lines`` what the target prints.
    """
    settings = args.get("settings") or {}
    target = engine.clean_target(args.get("target") or {})
    changes = args.get("changes") or []
    functions = args.get("functions") or []
    connection = engine.connection_of(settings, target)
    identity = engine.identity_of(host, target)
    empty = {"changed": False, "stages": [], "missing": [], "failures": [], "chosen": [], "identity": identity}

    def failed(message, who, requests=None):
        record = failed_record(who, message, changes, host, requests)
        return dict(empty, identity=who, failed=True, msg=message, record=record, lines=target_lines(record, check_mode))

    problems = target_problems(target)
    if problems:
        return failed("Invalid target variables, nothing was done on this target: " + "; ".join(problems), identity)
    named = target_account_id(target)
    # Nothing to put back (the enforcement changed nothing), or nothing in the account it names: no AWS call.
    if not (changes or functions) or (named and not target_stages(changes, {"account_id": named, "region": connection.region})
                                      and not target_functions(functions, named, connection.region)):
        return dict(empty, record=restore_record(identity, empty, [], {}, host), lines={})
    try:
        reach = engine.reach_account(target, connection)
    except engine.TargetError as error:
        return failed(str(error), identity)
    identity = dict(identity, account_id=reach.account_id, caller_arn=reach.caller_arn)
    stages = target_stages(changes, {"account_id": reach.account_id, "region": connection.region})
    mine = target_functions(functions, reach.account_id, connection.region)
    if not stages and not mine:
        return dict(empty, identity=identity, record=restore_record(identity, empty, [], {}, host), lines={})
    try:
        if stages:
            outcome, requests = engine.restore(reach, stages, connection, check_mode)
        else:
            outcome, requests = Convergence(), dict.fromkeys(aws.RequestStats.FIELDS, 0)
    except aws.SDK_ERRORS as error:
        return failed(f"the stages were not put back: {aws.describe_cause(error)}", identity)
    result = {
        "changed": outcome.changed,
        "stages": outcome.stages,
        "missing": outcome.missing,
        "failures": outcome.failures,
        "chosen": stages,
        "identity": identity,
        "requests": requests,
        "diff": engine.compact_diff(engine.heading(dict(identity, account_name=target.get("account_name"))), outcome.diff, check_mode),
    }
    result["record"] = restore_record(identity, result, stages, requests, host)
    if mine:
        result["record"]["functions"] = restore_functions(reach, mine, connection, check_mode)
        result["changed"] = result["changed"] or any(item["action"] in ("restored", "would_restore") for item in result["record"]["functions"])
    result["lines"] = target_lines(result["record"], check_mode)
    return result


def target_functions(functions, account_id, region):
    return [entry for entry in functions if (entry["account_id"], entry["region"]) == (account_id, region)]


def restore_functions(reach, functions, connection, check_mode):
    """Put each function's TracingConfig.Mode back to its mode before the enforcement: read first (in check mode too),
    so that a function someone changed since is reported as such. Never raises."""
    records = []
    clients = engine.lambda_clients_of(reach, connection)
    for entry in functions:
        try:
            client = clients.for_arn(entry["update_arn"])
        except aws.SDK_ERRORS as error:
            records.append(dict(entry, action="error", mode_after=None, reason=f"not put back: {aws.describe_cause(error)}"))
            continue
        found = request_path.read_function(client, entry["update_arn"])
        if "error" in found:
            records.append(dict(entry, action="error", mode_after=None, reason=f"not put back: {found['error']}"))
        elif found["mode"] == entry["mode_before"]:
            records.append(dict(entry, action="already", mode_after=found["mode"], reason=f"already {found['mode']}: changed back since the enforcement"))
        elif check_mode:
            records.append(dict(entry, action="would_restore", mode_after=entry["mode_before"],
                                reason=f"{found['mode']} would be put back to {entry['mode_before']}"))
        else:
            outcome = request_path.set_tracing_mode(client, entry["update_arn"], entry["mode_before"])
            if outcome["changed"]:
                records.append(dict(entry, action="restored", mode_after=outcome["mode_after"], reason=f"{found['mode']} put back to {entry['mode_before']}"))
            else:
                records.append(dict(entry, action="error", mode_after=outcome["mode_after"], reason=f"not put back: {outcome['error']}"))
    return records
