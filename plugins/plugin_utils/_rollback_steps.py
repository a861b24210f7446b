# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The rollback's steps (entry point rollback of the tracing_sweep role), as the private action _sweep runs them.

  rollback_plan     read the enforcement's report.json once, before any AWS call, and list what it changed
  restore           per target: put the target's changes back (in _sweep_run.py), and record what happened
  rollback_summary  once: the counts, the lines the run prints, and why it fails
"""

from __future__ import annotations

import os

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report_files import controller_path
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._sweep_engine import request_totals
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.rollback_plan import changes_outside
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.rollback_plan import report_changes

NOT_DONE = "the target failed before its stages were put back"


def rollback_plan_step(args, host=None, check_mode=False, say=None):
    """The changes of the enforcement whose report.json tracing_sweep_rollback_report names; fails, before any AWS
    call, when it is not given, not a file, not a report, or the report of an audit."""
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
    if problems:
        return {"failed": True, "msg": f"Nothing was rolled back: {path} {'; '.join(problems)}"}
    result = {"changed": False, "file": path, "changes": changes, "generated_at": header["generated_at"]}
    if not changes:
        result["message"] = f"Nothing to roll back: the enforcement of {header['generated_at']} changed no stage ({path})."
    return result


def _refused(what):
    return {"failed": True, "msg": f"Nothing was rolled back: {what}; give the path of the report.json that the enforcement to undo wrote."}


def _label(item):
    return f"{item['rest_api_id']}/{item['stage_name']}"


def restore_record(identity, outcome, chosen, requests, host):
    """What the rollback of one target did, by kind, for the summary and the target's own lines."""
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
    }
    return {kind: items for kind, items in lines.items() if items}


def rollback_summary_step(args, host=None, check_mode=False, say=None):
    """The summary of the whole rollback, the lines it prints, and the failure message (None when nothing failed).

    A host without a record stopped before its rollback began: it counts as a failed target, and the changes of an
    account and region that no recorded target covers are listed one by one as not rolled back, never dropped.
    """
    plan = args.get("planned") or {}
    changes = plan.get("changes") or []
    hosts = args.get("hosts") or []
    records = [record if isinstance(record, dict) and record else {} for record in args.get("records") or []]
    live = set(args.get("live") or hosts)
    records = [record if name in live else {} for name, record in zip(hosts, records)]
    # A target that failed outside the restore step (its record comes from the role's rescue) has the changes of its
    # account and region counted as not rolled back all the same: nothing is known of what it did.
    recorded = [
        failed_record(record, record.get("error"), changes, record.get("host"), record.get("requests")) if record.get("status") == "error" else record
        for record in records
        if record
    ]
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
    failure = None
    if (args.get("settings") or {}).get("fail_on_error", True) and (summary["failed"] or summary["targets_failed"]):
        failure = (
            f"{summary['failed']} of {summary['changes']} stages were not rolled back and {summary['targets_failed']} of "
            f"{summary['targets']} targets failed; the other targets were rolled back. "
            + " | ".join(summary["failed_targets"] + summary["failed_stages"])
        )
    return {"changed": False, "summary": summary, "lines": lines, "failure": failure}
