# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The steps of the tracing_sweep role, as the private action cloudops.apigw_tracing._sweep runs them.

Each ``<step>_step(args, host, check_mode)`` returns the task result (a dict). The per-target AWS work is in
_sweep_engine.py; this module holds the run-wide parts: the settings, the report directory, the report of the
whole run, its verdict and what the run says at its end.
"""

from __future__ import annotations

import datetime
import difflib
import os
import time

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import bool_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_bool
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import region_problem
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import _history as history
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import _rollback_steps as rollback
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import _security_hub as security_hub
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import _sweep_engine as engine
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report_files import ReportWriteError
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report_files import controller_path
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report_files import failed_write_result
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report_files import prepare
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report_files import render_set
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report_files import write_set
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_formats import FILE_NAMES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report import policy_in_force
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.rollback_plan import target_stages
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import normalized_settings
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import run_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import settings_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import target_account_id
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import target_problems

NO_TARGET = (
    "no target: the inventory gave this run no host. Likely causes: the inventory source was "
    "rejected (see the [WARNING] lines at the top of the output: an accounts inventory file must be named accounts.yml or "
    "end in .accounts.yml, quote its 12-digit account ids, name valid regions such as us-east-1, and list at least one "
    "account), or --limit matched no host. To make a rejected inventory fail the run at once, set "
    "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true (ansible.cfg: [inventory] any_unparsed_is_failed = true)"
)


def _counted(number, noun, plural=None):
    return "%d %s" % (number, noun if number == 1 else (plural or noun + "s"))


def _failed(message, **extra):
    return dict(extra, failed=True, msg=message)


# ---- settings and the report directory ----------------------------------------------------------------


def settings_step(args, host=None, check_mode=False, say=None):
    """Check one host's settings, as its own variables give them. It never fails: ``problems`` says what is wrong, and
    the settings_problems step, once for the run, stops every host on them, each said once. Without problems, the
    result's ``settings`` are the values the sweep uses (booleans as booleans, numbers as numbers, as -e gives them or not)."""
    settings = args.get("settings")
    if not isinstance(settings, dict):
        return {"changed": False, "problems": ["settings: must be a mapping of the role's settings"]}
    problems = settings_problems(settings)
    if problems:
        return {"changed": False, "problems": problems}
    return {"changed": False, "problems": [], "settings": normalized_settings(settings)}


def settings_problems_step(args, host=None, check_mode=False, say=None):
    """Once for the run, after every host's settings step (``records``: each host's problems, in the order of ``hosts``):
    fails when any host has one, with one line that says each problem once, before any AWS call."""
    problems = run_problems(args.get("hosts") or [], args.get("records") or [])
    if problems:
        return _failed("Invalid sweep settings, nothing was done: " + "; ".join(problems))
    return {"changed": False}


def prepare_step(args, host=None, check_mode=False, say=None):
    """Create the report directory (and a local history directory) and prove it writable, before any AWS call of the run."""
    dest = controller_path(args.get("dest") or "")
    try:
        prepare(dest)
    except ReportWriteError as error:
        return _failed(
            f"tracing_sweep_report_dir: {error}; nothing was done and no AWS call was made: choose a directory the controller "
            "can write in, so that the run's report (and an enforcement's record of its changes) can be kept",
            dest=dest,
        )
    store = history.open_store(args.get("settings") or {})
    if store is not None:
        try:
            store.prepare()
        except history.HistoryError as error:
            return _failed(
                f"tracing_sweep_history: {error}; nothing was done and no AWS call was made: choose a directory the controller can "
                "write in (or an S3 location), so that this run can be compared with the next",
                dest=dest,
            )
    return {"changed": False, "dest": dest}


# ---- the region_tracing playbook ----------------------------------------------------------------------

REGION_PLAYBOOK_VARIABLES = ("apigw_tracing_region", "apigw_tracing_desired")


def region_step(args, host=None, check_mode=False, say=None):
    """The region_tracing playbook's own variables, checked as strictly as the role's: the region (given, or from
    AWS_REGION, then AWS_DEFAULT_REGION, and said where it came from) and the desired state (a boolean; 'ture' is
    refused, never read as false). Misspelt apigw_tracing_* variables are refused too. The region must be one the
    installed botocore knows, or be listed in tracing_sweep_allow_unknown_regions (``allow_unknown_regions``), as for the role."""
    settings = args.get("settings") or {}
    problems = []
    names = sorted({str(name) for name in settings.get("variables") or []})
    for name in names:
        if name not in REGION_PLAYBOOK_VARIABLES:
            hint = difflib.get_close_matches(name, REGION_PLAYBOOK_VARIABLES, n=1)
            problems.append(
                "%s: unknown variable%s; region_tracing takes %s (and the tracing_sweep role's variables)"
                % (name, " (did you mean %s?)" % hint[0] if hint else "", " and ".join(REGION_PLAYBOOK_VARIABLES))
            )
    region = settings.get("region")
    source = "apigw_tracing_region"
    if region in (None, ""):
        for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            value = (settings.get("environment") or {}).get(variable)
            if value:
                region, source = value, "the environment variable " + variable
                break
    if region in (None, ""):
        problems.append(
            "apigw_tracing_region: is required: the region whose stages to converge, e.g. -e apigw_tracing_region=eu-west-1 "
            "(or set AWS_REGION or AWS_DEFAULT_REGION)"
        )
    else:
        problem = region_problem(
            region, "apigw_tracing_region" if source == "apigw_tracing_region" else source,
            allowed=settings.get("allow_unknown_regions") or (), opt_out="tracing_sweep_allow_unknown_regions",
        )
        if problem:
            problems.append(problem)
    desired = settings.get("desired", True)
    problem = bool_problem(desired, "apigw_tracing_desired")
    if problem:
        problems.append(problem)
    if problems:
        return _failed("Invalid variables, nothing was done: " + "; ".join(problems))
    desired = parse_bool(desired)
    return {
        "changed": False,
        "region": region,
        "desired": desired,
        "line": "Region %s (from %s); desired tracing %s on every stage%s"
        % (region, source, "on" if desired else "off", ", check mode: nothing will be changed" if check_mode else ""),
    }


# ---- one target ---------------------------------------------------------------------------------------


def _connection(settings, target):
    return engine.Connection(
        region=str((target or {}).get("region") or ""),
        endpoint_url=settings.get("endpoint_url") or None,
        sts_endpoint_url=settings.get("sts_endpoint_url") or None,
        role_session_name=settings.get("role_session_name") or "cloudops-tracing-sweep",
        max_requests_per_second=settings.get("max_requests_per_second") or 9.5,
        concurrency=settings.get("concurrency") or 4,
    )


def plan_step(args, host=None, check_mode=False, say=None):
    settings = args.get("settings") or {}
    target = args.get("target") or {}
    connection = _connection(settings, target)
    planned = engine.plan_step(host, target, settings, connection, say=say)
    # The assumed role's credentials stay in this step: the audit's findings reuse them, no result carries them.
    reach = planned.pop("reach", None)
    result = dict(planned, changed=False)
    if planned["target"]["status"] != "ok":
        result.update(failed=True, msg=planned["target"]["error"])
    elif check_mode:
        # An audit changes nothing, so there is nothing to guard: the target's outcome is known now (its would-be
        # changes, its diff), and the converge step is skipped. Duplicate targets are found by the report.
        outcome = engine.converge_step(planned, {}, target, connection, check_mode=True)
        result.update(target=outcome["target"], changed=outcome["changed"], diff=outcome["diff"])
        if say is not None:
            say(engine.finished_line(outcome["target"], planned.get("seconds") or 0, True))
        _publish_findings(result, settings, target, connection, reach)
    return result


def _publish_findings(result, settings, target, connection, reach=None):
    """With tracing_sweep_security_hub, the target's findings in Security Hub: its record gains a security_hub
    section and the result a warning when they were not (all) published. A report output, like the report files:
    it never makes the task changed nor fails it (the report step judges it)."""
    if not settings.get("security_hub"):
        return
    record = result["target"]
    record["security_hub"] = security_hub.publish_target(record, target, connection, reach=reach)
    line = security_hub.warning(record)
    if line:
        result.setdefault("warnings", []).append(line)


def guard_step(args, host=None, check_mode=False, say=None):
    settings = args.get("settings") or {}
    claims = [claim for claim in args.get("claims") or [] if isinstance(claim, dict) and claim]
    return {"changed": False, "guard": engine.guard_step(claims, settings.get("max_changes"), check_mode)}


def converge_step(args, host=None, check_mode=False, say=None):
    settings = args.get("settings") or {}
    target = args.get("target") or {}
    planned = args.get("planned") or {}
    if not isinstance(planned, dict) or "target" not in planned:
        return _failed("planned: must be the registered result of the plan step")
    started = time.monotonic()
    outcome = engine.converge_step(planned, args.get("guard") or {}, target, _connection(settings, target), check_mode)
    if say is not None:
        say(engine.finished_line(outcome["target"], (planned.get("seconds") or 0) + time.monotonic() - started, check_mode))
    result = {"changed": outcome["changed"], "target": outcome["target"], "diff": outcome["diff"]}
    _publish_findings(result, settings, target, _connection(settings, target))
    if outcome["target"]["status"] != "ok":
        result.update(failed=True, msg=outcome["target"]["error"])
    return result


def restore_step(args, host=None, check_mode=False, say=None):
    """The rollback of one target: its changes of the enforcement, each back to its state before.

    A target that names its account (or whose role does) and has no change in the report costs no AWS call.
    The result's ``record`` says what happened (rollback_summary counts it), ``lines`` what the target prints.
    """
    settings = args.get("settings") or {}
    target = engine.clean_target(args.get("target") or {})
    changes = args.get("changes") or []
    connection = _connection(settings, target)
    identity = engine.identity_of(host, target)
    empty = {"changed": False, "stages": [], "missing": [], "failures": [], "chosen": [], "identity": identity}

    def failed(message, who, requests=None):
        record = rollback.failed_record(who, message, changes, host, requests)
        return dict(empty, identity=who, failed=True, msg=message, record=record, lines=rollback.target_lines(record, check_mode))

    problems = target_problems(target)
    if problems:
        return failed("Invalid target variables, nothing was done on this target: " + "; ".join(problems), identity)
    named = target_account_id(target)
    if named and not target_stages(changes, {"account_id": named, "region": connection.region}):
        return dict(empty, record=rollback.restore_record(identity, empty, [], {}, host), lines={})
    try:
        reach = engine.reach_account(target, connection)
    except engine.TargetError as error:
        return failed(str(error), identity)
    identity = dict(identity, account_id=reach.account_id, caller_arn=reach.caller_arn)
    stages = target_stages(changes, {"account_id": reach.account_id, "region": connection.region})
    if not stages:
        return dict(empty, identity=identity, record=rollback.restore_record(identity, empty, [], {}, host), lines={})
    try:
        outcome, requests = engine.restore(reach, stages, connection, check_mode)
    except engine.botocore.exceptions.BotoCoreError as error:
        return failed(f"the stages were not put back: {engine.describe_cause(error)}", identity)
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
    result["record"] = rollback.restore_record(identity, result, stages, requests, host)
    result["lines"] = rollback.target_lines(result["record"], check_mode)
    return result


# ---- the report of the run ----------------------------------------------------------------------------


def summary_lines(report, dest, requests=None, merged_from=None):
    """What the run says at its end: counts, changes, requests, verdict and where the reports are."""
    summary = report["summary"]
    compliance = (
        "compliance n/a (no stage was evaluated)" if summary["compliance_percent"] is None else "compliance %s%%" % summary["compliance_percent"]
    )
    lines = [
        "Tracing sweep (%s): %s (%d failed), %s: %d compliant, %d non-compliant, %d exempt, %d skipped, %s; %s"
        % (
            report["mode"], _counted(summary["targets"], "target"), summary["targets_failed"], _counted(summary["stages"], "stage"),
            summary["compliant"], summary["noncompliant"], summary["exempt"], summary["skipped"], _counted(summary["errors"], "error"),
            compliance,
        ),
        "%d would change, %d changed (%d planned, tracing_sweep_max_changes=%s)"
        % (summary["would_change"], summary["changed"], summary["planned_changes"], "none" if summary["max_changes"] is None else summary["max_changes"]),
    ]
    if merged_from is not None:
        lines.append("Merged from %s: %s" % (_counted(len(merged_from), "report"), ", ".join(merged_from)))
    elif requests is not None:
        lines.append(
            "API Gateway requests: %d sent; answers throttled %d, server errors %d, no answer %d (each retried; what still failed is counted in errors above)"
            % (requests["sent"], requests["throttled"], requests["server_errors"], requests["connection_errors"])
        )
    lines.extend(since_baseline_lines(report.get("since_baseline")))
    if summary.get("security_hub"):
        lines.append(security_hub_line(summary["security_hub"]))
    lines.append("Verdict: %s (%s)" % (report["verdict"], report["verdict_reason"]))
    lines.append("Reports: %s" % dest)
    over = summary["max_changes"] is not None and summary["planned_changes"] > summary["max_changes"]
    if report["mode"] == "audit" and over and merged_from is None:
        # In check mode the guard only reports: say so, before someone runs the enforcement.
        lines.append(
            "An enforcement now would be refused: %d changes planned, more than tracing_sweep_max_changes=%d"
            % (summary["planned_changes"], summary["max_changes"])
        )
    for error in report["run"]["errors"]:
        lines.append("Run error: " + error)
    return lines


def since_baseline_lines(since):
    """What the run says of its history: the changes since the baseline, or why there was none."""
    if not since:
        return []
    if since["status"] != "compared":
        return [f"Since the last run: nothing to compare with ({since['reason']})"]
    counts = since["counts"]
    baseline = since["baseline"]
    lines = [
        f"Since the last run ({baseline['id']}, {baseline['mode']}, compliance "
        f"{'n/a' if baseline['compliance_percent'] is None else str(baseline['compliance_percent']) + '%'}): "
        f"{counts['regressed']} regressed, {counts['fixed']} fixed, {counts['new']} new ({counts['new_noncompliant']} non-compliant), "
        f"{counts['removed']} removed"
    ]
    for item in since["regressed"][:20]:
        put_back = ", put back by this run" if item["corrected"] else ""
        lines.append(f"Regressed: {item['arn']} in {item['account_id'] or '-'}: {item['before']} -> {item['after']} ({item['cause']}{put_back})")
    if counts["regressed"] > 20:
        lines.append(f"Regressed: {counts['regressed'] - 20} more in report.json")
    if since["reason"]:
        lines.append(f"Since the last run, not compared: {since['reason']}")
    return lines


def security_hub_line(hub):
    """'Security Hub: N findings imported, N archived in T targets; not enabled in: ...; not published in: ...'."""
    line = "Security Hub: %s imported, %d archived in %s" % (_counted(hub["imported"], "finding"), hub["archived"], _counted(hub["targets"], "target"))
    if hub["not_enabled"]:
        line += "; not enabled in (no finding published there): " + ", ".join(hub["not_enabled"])
    if hub["not_published"]:
        line += "; %s not published in: %s" % (_counted(hub["failed"], "finding"), ", ".join(hub["not_published"]))
    return line


def findings_judgement(report, dest, settings):
    """The failure message when findings of a target could not be (all) published to Security Hub (None otherwise).

    Not a stage's non-compliance and not a failed target, so the verdict does not change; but the scheduler must
    see it, so it fails the run as an error does (tracing_sweep_fail_on_error, true by default). Security Hub
    not enabled in a target is a warning only."""
    hub = report["summary"].get("security_hub") or {}
    if not hub.get("not_published") or not settings.get("fail_on_error", True):
        return None
    details = ["%s: %s" % (t["host"], t["security_hub"]["message"]) for t in report["targets"] if (t.get("security_hub") or {}).get("status") == "failed"]
    return "Findings were not published to Security Hub in %s (the stages were swept and reported in %s): %s" % (
        _counted(len(hub["not_published"]), "target"), dest, " | ".join(details))


def judgements(report, dest, settings, merged_from=None):
    """The failure message of each reason the run fails for (None when it does not), in the order they are checked."""
    summary = report["summary"]
    refused = None
    if summary["refused"]:
        refused = (
            "Nothing was changed: %d stages would change, more than tracing_sweep_max_changes=%s. Review the audit in %s, then raise "
            "tracing_sweep_max_changes or narrow the run with --limit." % (summary["planned_changes"], summary["max_changes"], dest)
            if merged_from is None
            else "The change guard refused the enforcement of at least one slice, whose stages were not changed; their action is "
            "refused in %s." % dest
        )
    errors = None
    if report["run"]["errors"] or summary["errors"] or summary["targets"] == 0:
        if settings.get("fail_on_error", True) or summary["targets"] == 0 or report["run"]["errors"]:
            failed = [t for t in report["targets"] if t["status"] == "error"]
            stage_errors = [row for row in report["stages"] if row["action"] == "error"][:10]
            details = report["run"]["errors"] + ["%s: %s" % (t["host"], t["error"]) for t in failed] + [
                "%s: %s" % (row["arn"], row["reason"]) for row in stage_errors
            ]
            errors = "%d of %d targets failed (%s); the other targets were swept and reported in %s. %s" % (
                summary["targets_failed"], summary["targets"], _counted(summary["stage_errors"], "stage error"), dest, " | ".join(details)
            )
            if summary["targets"] == 0:
                errors = "Nothing was swept (report in %s): %s" % (dest, " | ".join(report["run"]["errors"]) or "the run had no target")
    noncompliant = None
    if settings.get("fail_on_noncompliant", False) and summary["noncompliant"]:
        count = summary["noncompliant"]
        noncompliant = "%s not have %s desired tracing state (compliance %s%%); see %s." % (
            "1 stage does" if count == 1 else "%d stages do" % count, "its" if count == 1 else "their", summary["compliance_percent"], dest
        )
    regressed = history.regression_message(report.get("since_baseline"), dest) if settings.get("fail_on_regression", False) else None
    findings = findings_judgement(report, dest, settings) if merged_from is None else None
    return {"refused": refused, "errors": errors, "regressed": regressed, "noncompliant": noncompliant, "findings": findings}


def since_baseline_stats(since):
    """What set_stats publishes of the comparison (tracing_sweep_since_baseline): counts and the baseline, or None."""
    if not since:
        return None
    baseline = since["baseline"] or {}
    return dict(
        since["counts"], status=since["status"], baseline_id=baseline.get("id"), baseline_generated_at=baseline.get("generated_at"), reason=since["reason"]
    )


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_step(args, host=None, check_mode=False, say=None):
    """Build the report of the whole run from every target's record (or take a merged one), write the set, judge it.

    Writing failures do not fail this step: the summary is shown and published first, then the role fails
    (``write_error``), and an enforcement's changes are named and saved elsewhere (``fallback_report``).
    """
    settings = args.get("settings") or {}
    dest = controller_path(args.get("dest") or "")
    formats = args.get("formats") or ["json"]
    merged_from = None
    if args.get("report") is not None:
        # The merge of slices' reports: the report is built; it must not be written over one of its inputs.
        report = args["report"]
        merged_from = [str(path) for path in args.get("merged_from") or []]
        inputs = sorted({os.path.dirname(os.path.realpath(path)) for path in merged_from})
        if dest in inputs:
            return _failed(
                f"tracing_sweep_report_dir: must be a directory of its own, not {dest}, which holds one of the merged reports "
                "(it would be written over); nothing was written"
            )
        requests = None
    else:
        records = [record if isinstance(record, dict) else {} for record in args.get("records") or []]
        # An audit records each target in its plan step (the converge step is skipped).
        for index, planned in enumerate(args.get("planned_records") or []):
            if index < len(records) and not records[index] and isinstance(planned, dict) and planned.get("rows") is not None:
                records[index] = planned
        records = engine.without_duplicates(records)
        if args.get("live") is not None and args.get("hosts") is not None:
            # A host that failed before its sweep began has no record of this run, whatever its variables hold.
            live = set(args["live"])
            records = [record if host in live else {} for host, record in zip(args["hosts"], records)]
        requests = engine.request_totals(records)
        run_errors = list(args.get("run_errors") or [])
        if not records:
            run_errors.insert(0, NO_TARGET)
        try:
            report = build_report(
                records,
                args.get("mode") or ("audit" if check_mode else "enforce"),
                _now(),
                exemptions=settings.get("exemptions") or [],
                max_changes=settings.get("max_changes"),
                hosts=args.get("hosts"),
                run={
                    "policy": policy_in_force(settings.get("desired", True), settings.get("rules"), settings.get("exemptions"), settings.get("exempt_tag")),
                    "errors": run_errors,
                },
            )
        except ValueError as error:
            return _failed(f"The report could not be built: {error}")
    comparison = None
    store = history.open_store(settings)
    if store is not None:
        comparison = history.Comparison(store, report)
        report["since_baseline"] = comparison.since_baseline
    rendered = render_set(report, formats)
    result = {"changed": False, "report": report, "dest": dest, "verdict": report["verdict"], "write_error": None, "history_error": None, "history": None}
    if comparison is not None and comparison.warning:
        result["warnings"] = [comparison.warning]
    try:
        files, dummy = write_set(rendered, dest)
        result["files"] = files
    except ReportWriteError as error:
        failure = failed_write_result(report, rendered["json"], f"tracing_sweep_report_dir: {error}", dest)
        result.update(files={}, write_error=failure["msg"], fallback_report=failure.get("fallback_report"), changed_stages=failure.get("changed_stages", []))
    if comparison is not None:
        try:
            result["history"] = comparison.store_run(report, rendered, FILE_NAMES)
        except history.HistoryError as error:
            written = f"this run's reports were written in {dest}, but" if result["write_error"] is None else "this run's reports were"
            result["history_error"] = (
                f"tracing_sweep_history: {written} not kept in the history, so the next run cannot be compared with it: {error}"
            )
    result["summary_lines"] = summary_lines(report, dest, requests=requests, merged_from=merged_from)
    if result["history"]:
        result["summary_lines"].append("History: " + result["history"])
    result["since_baseline"] = since_baseline_stats(report.get("since_baseline"))
    result["judgements"] = judgements(report, dest, settings, merged_from=merged_from)
    return result
