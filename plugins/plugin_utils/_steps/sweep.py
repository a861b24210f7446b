# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The sweep's steps, as the role's tasks (_steps/role_tasks.py) call them with the arguments they read and keep.

Each ``<step>_step(args, host, check_mode, say)`` returns a result (a dict): the settings of a host and of the run,
the report directory, a target's plan and converge (the AWS work is the engine's, _engine/pipeline.py), the run-wide
guard, and the report of the whole run, its verdict and what the run says at its end. The rollback's steps are in
_steps/rollback.py, the merge's in _steps/merge.py.
"""

from __future__ import annotations

import datetime
import difflib
import os
import time

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import bool_problem
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import parse_bool
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import region_problem
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._testing import faults
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._run_history import runs as history
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report import headlines
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._findings import security_hub
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._engine import pipeline as engine
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import ReportWriteError
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import controller_path
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import failed_write_result
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import formats_in_order
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import prepare
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import unbuilt_report_result
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import write_set
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import FILE_NAMES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import RENDERERS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import render_json
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import JUDGEMENT_SETTINGS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import build_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import finish_report
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import judged_with
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import policy_in_force
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import record_failed_step
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import normalized_settings
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import run_problems
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import settings_problems

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
    settings_problems_step, once for the run (the start task checks every host), stops every host on them, each said once. Without problems, the
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


# What the run says of its history when it named its stages (tracing_sweep_stages).
NAMED_STAGES_HISTORY = "not read or written: a run of named stages (tracing_sweep_stages) is never a baseline of the scheduled sweep"


def _history_store(settings):
    """The run history's store, or None: none is set, or the run named its stages (a remediation), which is never a
    baseline of the scheduled sweep and compares nothing."""
    if settings.get("stages"):
        return None
    return history.open_store(settings)


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
    store = _history_store(args.get("settings") or {})
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


def plan_step(args, host=None, check_mode=False, say=None):
    """Sweep one target. In an audit, also its outcome. With ``alone`` (an enforcement of named stages whose play has
    this one target: the run's guard is this plan's own), also its changes, at once, with the same credentials and
    the read just made (the result then says converged)."""
    settings = args.get("settings") or {}
    target = args.get("target") or {}
    connection = engine.connection_of(settings, target)
    planned = engine.sweep_target(host, target, settings, connection, say=say)
    # The assumed role's credentials stay in this step: the audit's findings reuse them, no result carries them.
    reach = planned.pop("reach", None)
    result = dict(planned, changed=False)
    if planned["target"]["status"] != "ok":
        result.update(failed=True, msg=planned["target"]["error"])
    elif args.get("alone") and not check_mode:
        started = time.monotonic()
        guard = engine.guard_claims([planned["claim"]], settings.get("max_changes"), check_mode=False)
        outcome = engine.converge_target(planned, guard, target, connection, check_mode=False, reach=reach)
        result.update(target=outcome["target"], changed=outcome["changed"], diff=outcome["diff"], guard=guard, converged=True)
        if say is not None:
            say(engine.finished_line(outcome["target"], (planned.get("seconds") or 0) + time.monotonic() - started, False))
        _publish_findings(result, settings, target, connection, reach)
    elif check_mode:
        # An audit changes nothing, so there is nothing to guard: the target's outcome is known now (its would-be
        # changes, its diff), and the converge step is skipped. Duplicate targets are found by the report.
        outcome = engine.converge_target(planned, {}, target, connection, check_mode=True)
        result.update(target=outcome["target"], changed=outcome["changed"], diff=outcome["diff"])
        if say is not None:
            say(engine.finished_line(outcome["target"], planned.get("seconds") or 0, True))
        _publish_findings(result, settings, target, connection, reach)
    return result


def invalid_target_step(host, target, problems):
    """The failed outcome of a host whose target variables break their rules, as plan_step gives it; no AWS call."""
    planned = engine.invalid_target(host, target, problems)
    return dict(planned, changed=False, failed=True, msg=planned["target"]["error"])


def _publish_findings(result, settings, target, connection, reach=None):
    """With tracing_sweep_security_hub, the target's findings in Security Hub: its record gains a security_hub
    section and the result a warning when they were not (all) published. A report output, like the report files:
    it never makes the task changed nor fails it (the report step judges it). It runs after an enforcement's
    changes: whatever fails in it is recorded as findings not published, never lost with the changes."""
    if not settings.get("security_hub"):
        return
    record = result["target"]
    try:
        faults.check("security_hub")
        record["security_hub"] = security_hub.publish_target(record, target, connection, reach=reach, named=bool(settings.get("stages")))
    except Exception as error:  # pylint: disable=broad-exception-caught  # nothing may cost the run its record of changes
        record["security_hub"] = security_hub.section("failed", message=f"the findings of {record.get('host')} were not published: {step_failure(error)}")
    line = security_hub.warning(record)
    if line:
        result.setdefault("warnings", []).append(line)


def guard_step(args, host=None, check_mode=False, say=None):
    settings = args.get("settings") or {}
    claims = [claim for claim in args.get("claims") or [] if isinstance(claim, dict) and claim]
    return {"changed": False, "guard": engine.guard_claims(claims, settings.get("max_changes"), check_mode)}


def converge_step(args, host=None, check_mode=False, say=None):
    settings = args.get("settings") or {}
    target = args.get("target") or {}
    planned = args.get("planned") or {}
    if not isinstance(planned, dict) or "target" not in planned:
        return _failed("planned: must be the plan the sweep step kept in the run's workspace")
    started = time.monotonic()
    outcome = engine.converge_target(planned, args.get("guard") or {}, target, engine.connection_of(settings, target), check_mode)
    if say is not None:
        say(engine.finished_line(outcome["target"], (planned.get("seconds") or 0) + time.monotonic() - started, check_mode))
    result = {"changed": outcome["changed"], "target": outcome["target"], "diff": outcome["diff"]}
    _publish_findings(result, settings, target, engine.connection_of(settings, target))
    if outcome["target"]["status"] != "ok":
        result.update(failed=True, msg=outcome["target"]["error"])
    return result


# ---- the report of the run ----------------------------------------------------------------------------


def summary_lines(report, dest, requests=None, merged_from=None, lambda_requests=None, iam_requests=None):
    """What the run says at its end: counts, changes, requests, verdict and where the reports are.

    A regression since the last run comes first. The compliance figure says what was not evaluated beside it (a
    failed target, a stage error), so that a run that lost targets never reads as 100%; an exemption that expired
    is named with the stages it no longer covers."""
    summary = report["summary"]
    coverage = headlines.coverage_headline(summary)
    if coverage is not None:
        compliance = "compliance " + coverage
    else:
        compliance = (
            "compliance n/a (no stage was evaluated)" if summary["compliance_percent"] is None else "compliance %s%%" % summary["compliance_percent"]
        )
    regression = headlines.regression_headline(report.get("since_baseline"))
    lines = [regression] if regression else []
    lines += [
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
        if lambda_requests is not None:
            # tracing_sweep_whole_path: the functions behind the stages, read under Lambda's own quota.
            lines.append(
                "Lambda requests: %d sent; answers throttled %d, server errors %d, no answer %d (each retried; a function that could not be read "
                "is an error of its hops)"
                % (lambda_requests["sent"], lambda_requests["throttled"], lambda_requests["server_errors"], lambda_requests["connection_errors"])
            )
        if iam_requests is not None and iam_requests["sent"]:
            # tracing_sweep_whole_path: whether the execution roles of the functions that trace may write to X-Ray.
            lines.append(
                "IAM requests: %d sent (iam:SimulatePrincipalPolicy, one per execution role checked); answers throttled %d, server errors %d, "
                "no answer %d (each retried; a role that could not be checked is said on its hops)"
                % (iam_requests["sent"], iam_requests["throttled"], iam_requests["server_errors"], iam_requests["connection_errors"])
            )
    lines.extend(since_baseline_lines(report.get("since_baseline")))
    lines.extend(headlines.expired_exemptions(report))
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


# ---- what fails the run ------------------------------------------------------------------------------
#
# One table of judgements, for a sweep and for the merge of a sliced sweep's reports alike (the merged report
# carries its slices' failed targets, stage errors, failed steps, findings and the settings they were judged
# with, so that it fails as the unsliced run would have). Each judgement reads the report and its context and
# returns its failure message, or None. They are checked, and their messages joined, in this order.


def _refused_judgement(report, context):
    summary = report["summary"]
    if not summary["refused"]:
        return None
    if context["merged"]:
        return (
            "The change guard (tracing_sweep_max_changes=%s) refused the enforcement of at least one slice, whose stages were not "
            "changed; their action is refused in %s." % ("none" if summary["max_changes"] is None else summary["max_changes"], context["dest"])
        )
    if report.get("functions") is not None:
        # tracing_sweep_lambda_tracing: each function to set to Active is one change too.
        functions = sum(1 for entry in report["functions"] if entry.get("action") == "refused")
        stages = summary["planned_changes"] - functions
        what = "%d changes would be made (%s and %s)" % (summary["planned_changes"], _counted(stages, "stage"), _counted(functions, "Lambda function"))
    else:
        what = "%d stages would change" % summary["planned_changes"]
    return (
        "Nothing was changed: %s, more than tracing_sweep_max_changes=%s. Review the audit in %s, then raise "
        "tracing_sweep_max_changes or narrow the run with --limit." % (what, summary["max_changes"], context["dest"])
    )


def _errors_judgement(report, context):
    """No target, a run error (a failed step among them), a failed target or a stage error (this last two with
    tracing_sweep_fail_on_error, true by default)."""
    summary = report["summary"]
    run_errors = report["run"]["errors"]
    if summary["targets"] == 0:
        return "Nothing was swept (report in %s): %s" % (context["dest"], " | ".join(run_errors) or "the run had no target")
    if not run_errors and not (summary["errors"] and context["judged_with"]["fail_on_error"]):
        return None
    failed = [t for t in report["targets"] if t["status"] == "error"]
    stage_errors = [row for row in report["stages"] if row["action"] == "error"][:10]
    details = run_errors + ["%s: %s" % (t["host"], t["error"]) for t in failed] + ["%s: %s" % (row["arn"], row["reason"]) for row in stage_errors]
    if not summary["errors"]:
        return "The run had %s (every target was swept and reported in %s): %s" % (
            _counted(len(run_errors), "error"), context["dest"], " | ".join(run_errors))
    return "%d of %d targets failed (%s); the other targets were swept and reported in %s. %s" % (
        summary["targets_failed"], summary["targets"], _counted(summary["stage_errors"], "stage error"), context["dest"], " | ".join(details)
    )


def _findings_judgement(report, context):
    """Findings of a target not (all) published to Security Hub (tracing_sweep_fail_on_error). Security Hub not
    enabled in a target is a warning only."""
    hub = report["summary"].get("security_hub") or {}
    if not hub.get("not_published") or not context["judged_with"]["fail_on_error"]:
        return None
    details = ["%s: %s" % (t["host"], t["security_hub"]["message"]) for t in report["targets"] if (t.get("security_hub") or {}).get("status") == "failed"]
    return "Findings were not published to Security Hub in %s (the stages were swept and reported in %s): %s" % (
        _counted(len(hub["not_published"]), "target"), context["dest"], " | ".join(details))


def _regressed_judgement(report, context):
    if not context["judged_with"]["fail_on_regression"]:
        return None
    return history.regression_message(report.get("since_baseline"), context["dest"])


def _noncompliant_judgement(report, context):
    summary = report["summary"]
    if not context["judged_with"]["fail_on_noncompliant"] or not summary["noncompliant"]:
        return None
    count = summary["noncompliant"]
    return "%s not have %s desired tracing state (compliance %s%%); see %s." % (
        "1 stage does" if count == 1 else "%d stages do" % count, "its" if count == 1 else "their", summary["compliance_percent"], context["dest"]
    )


JUDGEMENTS = (
    ("refused", _refused_judgement),
    ("errors", _errors_judgement),
    ("findings", _findings_judgement),
    ("regressed", _regressed_judgement),
    ("noncompliant", _noncompliant_judgement),
)


def judging_settings(report, settings, merged=False):
    """The judgement settings a report is judged with: a sweep's own; for a merged report, the slices' (recorded in
    run.judged_with), unless the merge itself was given another value than the default."""
    own = judged_with(settings)
    recorded = (report.get("run") or {}).get("judged_with") if merged else None
    if not recorded:
        return own
    return {name: own[name] if own[name] != default else recorded[name] for name, default in JUDGEMENT_SETTINGS.items()}


def judgements(report, dest, settings, merged_from=None):
    """The failure message of each reason the run fails for (None when it does not), in the order they are checked."""
    context = {"dest": dest, "merged": merged_from is not None, "judged_with": report["run"].get("judged_with") or judged_with(settings)}
    return {name: judge(report, context) for name, judge in JUDGEMENTS}


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


def step_failure(error):
    """The cause of a step's failure, as the report says it: the message of the collection's own errors, else the
    kind of error and its message (a bug, or what no rule foresaw)."""
    if isinstance(error, (history.HistoryError, ReportWriteError, faults.InjectedFault)):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _guarded(report, step, function, *args, **kwargs):
    """(ok, value) of one step after the sweep. Its failure, whatever it is, is recorded in the report
    (run.failed_steps, a run error, the verdict error) instead of stopping the report step: nothing after an
    enforcement's changes may cost the run its report.json. ``what``: the sentence that leads the cause."""
    what = kwargs.pop("what", None)
    try:
        faults.check(step)
        return True, function(*args, **kwargs)
    except Exception as error:  # pylint: disable=broad-exception-caught  # recorded in the report, with its cause
        record_failed_step(report, step, f"{what}: {step_failure(error)}" if what else step_failure(error))
        return False, None


def render_report(report, formats):
    """{format: text} of the report set. report.json is rendered last, so that it records the formats that failed
    (each a failed step); a format whose failure changed the report after it was rendered is rendered again."""
    names = [name for name in formats_in_order(formats) if name != "json"]
    rendered = {}
    for dummy in range(2):
        failures = len(report["run"]["failed_steps"])
        for name in names:
            if name not in rendered or dummy:
                ok, text = _guarded(report, "format_" + name, RENDERERS[name], report)
                if ok:
                    rendered[name] = text
                else:
                    rendered.pop(name, None)
        names = [name for name in names if name in rendered]
        if len(report["run"]["failed_steps"]) == failures or not names:
            break
    return dict({"json": render_json(report)}, **rendered)


def _write(report, rendered, dest, result):
    """Write the report set into ``dest``; on failure, report.json is saved elsewhere and every changed stage named."""
    try:
        faults.check("report_write")
        files, dummy = write_set(rendered, dest)
        result.update(files=files, write_error=None, fallback_report=None, changed_stages=[])
    except Exception as error:  # pylint: disable=broad-exception-caught  # the changed stages are named, report.json kept elsewhere
        failure = failed_write_result(report, rendered["json"], f"tracing_sweep_report_dir: {step_failure(error)}", dest)
        result.update(files={}, write_error=failure["msg"], fallback_report=failure.get("fallback_report"), changed_stages=failure.get("changed_stages", []))


def report_step(args, host=None, check_mode=False, say=None):
    """Build the report of the whole run from every target's record (or take a merged one), write the set, judge it.

    Every step after the sweep (the history's read and write, each report format, writing the files) is guarded:
    its failure is recorded in the report and makes its verdict error, and report.json is always written, or,
    when it cannot be, saved elsewhere with every changed stage named (``write_error``, ``fallback_report``).
    The summary is shown and published before the role fails.
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
        requests = lambda_requests = iam_requests = None
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
        lambda_requests = engine.request_totals(records, "lambda_requests") if settings.get("whole_path") else None
        iam_requests = engine.request_totals(records, "iam_requests") if settings.get("whole_path") else None
        run_errors = [] if records else [NO_TARGET]
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
                    "named_stages": settings.get("stages") or None,
                    "whole_path": bool(settings.get("whole_path")),
                },
            )
        except Exception as error:  # pylint: disable=broad-exception-caught  # the changes are still named and saved
            return unbuilt_report_result(records, f"The report could not be built: {step_failure(error)}", dest)
    report["run"]["judged_with"] = judging_settings(report, settings, merged=merged_from is not None)
    finish_report(report)
    result = {"changed": False, "report": report, "dest": dest, "write_error": None, "history_error": None, "history": None}
    comparison = None
    store = _history_store(settings)
    if store is not None:
        # A merged report is the whole run: the merge job's own inventory says nothing of its targets.
        inventory_hosts = None if merged_from is not None else args.get("inventory_hosts")
        dummy, comparison = _guarded(report, "history_read", history.Comparison, store, report, inventory_hosts=inventory_hosts,
                                     includes_new=settings.get("regression_includes_new", False))
        if comparison is not None:
            report["since_baseline"] = comparison.since_baseline
            # A history that could not be compared is a run error with tracing_sweep_fail_on_regression (the verdict is error).
            dummy, history_warnings = _guarded(report, "history_read", comparison.judge, report, report["run"]["judged_with"]["fail_on_regression"])
            if history_warnings:
                result["warnings"] = history_warnings
    rendered = render_report(report, formats)
    _write(report, rendered, dest, result)
    if comparison is not None:
        written = f"this run's reports were written in {dest}, but" if result["write_error"] is None else "this run's reports were"
        what = f"tracing_sweep_history: {written} not kept in the history, so the next run cannot be compared with it"
        kept, result["history"] = _guarded(report, "history_write", comparison.store_run, report, rendered, FILE_NAMES, what=what)
        if not kept:
            result["history_error"] = report["run"]["failed_steps"][-1]["error"]
            # The reports already written must say so too: they are written again, with the failure in their verdict.
            if result["write_error"] is None:
                _write(report, render_report(report, formats), dest, result)
    result["verdict"] = report["verdict"]
    result["summary_lines"] = summary_lines(report, dest, requests=requests, merged_from=merged_from, lambda_requests=lambda_requests,
                                            iam_requests=iam_requests)
    if settings.get("stages") and merged_from is None:
        result["summary_lines"].append("Named stages: %s; history %s" % (_counted(len(settings["stages"]), "stage"), NAMED_STAGES_HISTORY))
    if result["history"]:
        result["summary_lines"].append("History: " + result["history"])
    result["since_baseline"] = since_baseline_stats(report.get("since_baseline"))
    result["judgements"] = judgements(report, dest, settings, merged_from=merged_from)
    return result
