# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The tasks of the tracing_sweep role, one function each, as the private action cloudops.apigw_tracing._sweep runs them.

A task function takes a ``TaskContext`` (the host, check mode, the role's variables as that host sees them, the
task's own arguments) and returns the task's result. It reads the role's variables itself (_steps/run_context.py), keeps
what later tasks need in the run's workspace, and calls the steps that do the work: the sweep's in _steps/sweep.py
(and through it the engine, _engine/pipeline.py), the rollback's in _steps/rollback.py, the merge's in _steps/merge.py,
where each failure is raised in _steps/run_status.py. So the role's tasks pass no engine state through Jinja, and their
results stay small: the records are in the workspace and the reports, not in each task's result.

Per target a sweep is one task in an audit (sweep) and two in an enforcement (sweep, converge); start, guard and
report run once for the run. A target that failed fails its sweep (or converge) task; the role's rescue then runs
target_status on it after the report is written, so that it ends failed with its own error.

Imports: the plugin_utils modules named above; never ansible itself (the action does).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import merge as _merge_steps
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import rollback as _rollback_steps
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import remediation as _remediation
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import run_status as _run_status
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import sweep as _sweep_run
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.run_context import VariableError
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.run_context import Workspace
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.run_context import WorkspaceError
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.run_context import identity
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.run_context import role_settings
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.run_context import role_target
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import host_targets

# The registered results the tasks read back: the start task's (the run's workspace) and the report's.
STARTED = "tracing_sweep__run"
REPORTED = "tracing_sweep__reported"
# Set to true by the first play of the collection's playbooks; the judge task of their last play replaces it.
LAST_PLAY_JUDGES = "tracing_sweep__last_play_judges"
# The targets of a host that stands for an account (tracing_sweep_regions) are swept on this many threads at most.
REGION_THREADS = 8
# What the report step publishes with set_stats (AWX/Tower artifacts), and the rollback's summary.
STATS = ("tracing_sweep_mode", "tracing_sweep_verdict", "tracing_sweep_summary", "tracing_sweep_failed_targets", "tracing_sweep_reports",
         "tracing_sweep_since_baseline")


class TaskContext:
    """What a task function knows: ``host``, ``check_mode``, ``args`` (the task's own, checked by the action),
    ``variables`` (the task's variables), ``template`` (a value -> its templated value), ``host_variables`` (a host
    name -> (variables, template) of that host, for the start task's check of every host), ``say`` (a line to print),
    ``inventory_variables`` (None, or a function giving [(host name, its inventory variables)] of every inventory host)."""

    def __init__(self, host, check_mode, args, variables, template, host_variables=None, say=None, inventory_variables=None):
        self.host = host
        self.check_mode = bool(check_mode)
        self.args = args
        self.variables = variables
        self.template = template
        self.host_variables = host_variables
        self.inventory_variables = inventory_variables
        self.say = say or (lambda line: None)

    def hosts(self, name="ansible_play_hosts_all"):
        return [str(host) for host in self.variables.get(name) or []]

    def settings(self, entry_point="main"):
        """(settings as the sweep uses them, problems) of this host."""
        return _settings_of(self.variables, self.template, entry_point)

    def target(self):
        return role_target(self.variables, self.template)

    def targets(self):
        """([(target name, target)], problems) of this host: itself, or each region of a host that stands for an account."""
        return host_targets(self.host, self.target())

    def workspace(self):
        return Workspace.of(self.variables.get(STARTED))

    def this_run(self, registered):
        """The registered result ``registered`` when this run's, else None (an earlier play's, or none)."""
        value = self.variables.get(registered)
        started = self.variables.get(STARTED) or {}
        if isinstance(value, dict) and value.get("run_id") and value.get("run_id") == started.get("run_id"):
            return value
        return None


def _settings_of(variables, template, entry_point):
    """(settings as the sweep uses them, or None; problems) of the host whose variables these are."""
    try:
        settings = role_settings(variables, template, entry_point)
    except VariableError as error:
        return None, [str(error)]
    checked = _sweep_run.settings_step({"settings": settings})
    return checked.get("settings"), checked["problems"]


def _failed(message, **extra):
    return dict(extra, failed=True, msg=message)


# ---- once, before any AWS call --------------------------------------------------------------------------------------


def start(context):
    """Check the settings of every host of the play, each problem said once (naming the hosts when not all have it);
    for a sweep, prove the report directory (and a local history) writable; then make the run's workspace.
    Fails before any AWS call of the run. With ``retire`` (the audit and enforce playbooks), an earlier run's reports
    are moved away first (retire), where nothing can have stopped the run yet."""
    retired = retire(context) if context.args["retire"] else {}
    started = _start(context)
    for key in ("moved_to", "moved"):
        if key in retired:
            started[key] = retired[key]
    if retired.get("warnings"):
        started["warnings"] = retired["warnings"] + started.get("warnings", [])
    return started


def _start(context):
    entry_point = context.args["entry_point"]
    hosts = context.hosts("ansible_play_hosts") or [context.host]
    problems_by_host = []
    own = None
    for name in hosts:
        if name == context.host or context.host_variables is None:
            variables, template = context.variables, context.template
        else:
            variables, template = context.host_variables(name)
        settings, problems = _settings_of(variables, template, entry_point)
        problems_by_host.append(problems)
        if name == context.host:
            own = settings
    judged = _sweep_run.settings_problems_step({"hosts": hosts, "records": problems_by_host})
    if judged.get("failed"):
        # Each host's own problems too, as its variables give them (the message says each once).
        return dict(judged, problems_by_host=dict(zip(hosts, problems_by_host)))
    if own is None:
        own, dummy = context.settings(entry_point)
    result = {"changed": False, "check_mode": context.check_mode}
    if entry_point == "main":
        prepared = _sweep_run.prepare_step({"dest": own["report_dir"], "settings": own})
        if prepared.get("failed"):
            return prepared
        result["dest"] = prepared["dest"]
    workspace = Workspace.create()
    result.update(workspace.describe())
    return result


def retire(context):
    """Move an earlier run's report files out of tracing_sweep_report_dir (never the merge's inputs)."""
    try:
        dest = context.template(context.variables.get("tracing_sweep_report_dir"))
        keep = context.template(context.variables.get("tracing_sweep_merge_reports"))
    except Exception:  # pylint: disable=broad-exception-caught  # the start step names a variable that cannot be templated
        return {"changed": False, "moved_to": None, "moved": []}
    return _run_status.retire_step({"dest": dest, "keep": keep}, host=context.host, check_mode=context.check_mode, say=context.say)


# ---- per target --------------------------------------------------------------------------------------------------------


def _target_message(outcome, settings):
    """Why a target's step fails (the target failed, or with tracing_sweep_fail_on_error some of its stages did), or None."""
    record = outcome.get("target") or {}
    if record.get("status") == "error" or outcome.get("failed"):
        return outcome.get("msg") or record.get("error")
    if settings.get("fail_on_error", True):
        errors = sum(1 for row in record.get("rows") or [] if row.get("action") == "error")
        if errors:
            return "%d stage%s of this target failed: the report says which and why" % (errors, "" if errors == 1 else "s")
    return None


def _target_result(context, workspace, outcomes, settings, kept=("changed", "diff", "warnings")):
    """The task result of a host's step over its targets ([(name, outcome)]): small (the records are in the workspace
    and the reports). It fails when a target failed, or (with tracing_sweep_fail_on_error) some of its stages did: the
    role's rescue then fails the host with its error after the report is written, and the report task knows that host
    fails on its own. A host that stands for an account names each failed target (region) in its message."""
    if len(outcomes) == 1 and outcomes[0][0] == context.host:
        outcome = outcomes[0][1]
        result = {key: outcome[key] for key in kept if key in outcome}
        result.setdefault("changed", False)
        messages = [message for message in [_target_message(outcome, settings)] if message]
    else:
        result = {"changed": any(outcome.get("changed") for dummy, outcome in outcomes)}
        diffs = []
        for dummy, outcome in outcomes:
            diff = outcome.get("diff")
            diffs.extend(diff if isinstance(diff, list) else [diff] if diff else [])
        if diffs:
            result["diff"] = diffs
        warnings = [warning for dummy, outcome in outcomes for warning in outcome.get("warnings") or []]
        if warnings:
            result["warnings"] = warnings
        messages = [f"{name}: {message}" for name, message in ((name, _target_message(outcome, settings)) for name, outcome in outcomes) if message]
        if messages and len(outcomes) > 1:
            messages = ["%d of %d targets of this host failed: %s" % (len(messages), len(outcomes), " | ".join(messages))]
    if messages:
        workspace.save("failed", True, context.host)
        result.update(failed=True, msg=messages[0])
    return result


def _own_settings(context):
    settings, problems = context.settings()
    if problems:
        raise WorkspaceError("Invalid sweep settings on this host: " + "; ".join(problems))
    return settings


def _each_target(targets, step):
    """[(name, step(name, target))] of the host's targets, on threads when there are several (a host that stands for
    an account): each target's step is independent, with its own clients and pace (a quota is per account and region)."""
    if len(targets) == 1:
        return [(targets[0][0], step(*targets[0]))]
    with ThreadPoolExecutor(max_workers=min(REGION_THREADS, len(targets))) as pool:
        futures = [(name, pool.submit(step, name, target)) for name, target in targets]
        return [(name, future.result()) for name, future in futures]


def _unsweepable(context, workspace, settings, problems):
    """A host whose tracing_sweep_regions breaks its rule: recorded as one failed target, before any AWS call."""
    planned = _sweep_run.invalid_target_step(context.host, context.target(), problems)
    workspace.save("record", planned["target"], context.host)
    return _target_result(context, workspace, [(context.host, planned)], settings)


def sweep(context):
    """Reach the target's account, read every REST API stage and decide each one's tracing state (each region of a
    host that stands for an account, as a target of its own). In an audit (check mode) this is the whole sweep of the
    target: what would change, --diff, the findings."""
    workspace = context.workspace()
    settings = _own_settings(context)
    targets, problems = context.targets()
    if problems:
        return _unsweepable(context, workspace, settings, problems)
    if [name for name, dummy in targets] != [context.host]:
        workspace.save("targets", [name for name, dummy in targets], context.host)
    # A remediation of named stages on its one target converges in this step: the run's guard is this plan's own.
    alone = bool(settings.get("stages")) and context.hosts() == [context.host] and len(targets) == 1

    def plan(name, target):
        args = {"settings": settings, "target": target, "alone": alone}
        try:
            planned = _sweep_run.plan_step(args, host=name, check_mode=context.check_mode, say=context.say)
        except Exception as error:
            workspace.save("record", _broken(name, target, error), name)
            raise
        if context.check_mode or planned["target"]["status"] != "ok" or planned.get("converged"):
            workspace.save("record", planned["target"], name)
        else:
            workspace.save("plan", planned, name)
        return planned

    return _target_result(context, workspace, _each_target(targets, plan), settings)


def _target_names(workspace, hosts):
    """The targets of ``hosts``, in order: each host's own name, or the regions of a host that stands for an account
    (as its sweep step recorded them)."""
    return [name for host in hosts for name in (workspace.load("targets", host) or [host])]


def _owners(workspace, hosts):
    """{target name: its host} of the targets of hosts that stand for an account."""
    return {name: host for host in hosts for name in (workspace.load("targets", host) or [])}


def guard(context):
    """Once, after every target planned: duplicate targets, and the run's planned changes against max_changes."""
    if context.check_mode:
        return {"changed": False, "msg": "an audit changes nothing: there is nothing to guard"}
    workspace = context.workspace()
    claims = [(workspace.load("plan", name) or {}).get("claim") for name in _target_names(workspace, context.hosts())]
    settings = _own_settings(context)
    guarded = _sweep_run.guard_step({"settings": settings, "claims": claims}, host=context.host, check_mode=False)
    workspace.save("guard", guarded["guard"])
    return {"changed": False, "guard": guarded["guard"]}


def converge(context):
    """Converge the target's stages that differ from their desired state, as planned and as the guard allows."""
    if context.check_mode:
        return {"changed": False, "msg": "an audit changes nothing: the sweep step recorded what would change"}
    workspace = context.workspace()
    targets, problems = context.targets()
    # A target without a plan was converged by its sweep already (a remediation of named stages on one target), or
    # failed (and recorded it; the role rescues that host): nothing to converge.
    planned = [(name, target, workspace.load("plan", name)) for name, target in targets] if not problems else []
    planned = [(name, target, plan) for name, target, plan in planned if plan is not None]
    if not planned:
        return {"changed": False}
    settings = _own_settings(context)
    guard_ = workspace.load("guard") or {}
    plans = {name: plan for name, dummy, plan in planned}

    def converge_one(name, target):
        args = {"settings": settings, "target": target, "planned": plans[name], "guard": guard_}
        try:
            converged = _sweep_run.converge_step(args, host=name, check_mode=False, say=context.say)
        except Exception as error:
            workspace.save("record", _broken(name, target, error, plans[name].get("requests")), name)
            raise
        workspace.save("record", converged["target"], name)
        return converged

    return _target_result(context, workspace, _each_target([(name, target) for name, target, dummy in planned], converge_one), settings)


def _broken(name, target, error, requests=None):
    """The record of a target whose step broke off (a bug, or what no rule foresaw): an error with its cause."""
    return dict(identity(name, target), status="error", rows=[], requests=dict(requests or {}),
                error=f"the sweep of this target broke off: {_sweep_run.step_failure(error)}")


# ---- the report, and where each failure is raised -------------------------------------------------------------------


def _live(context, workspace):
    """The targets of the hosts that will still run a task of the role: those not failed, and those whose failed step
    recorded its targets (the role's rescue fails them after the report). A host without a record stopped before its
    sweep."""
    running = set(context.hosts("ansible_play_hosts"))
    return [
        name for host in context.hosts() for name in _target_names(workspace, [host])
        if host in running or any(workspace.load("record", target) is not None for target in _target_names(workspace, [host]))
    ]


def _localhost_judges(context):
    """Whether a play on localhost judges the run after this one: the first play of the collection's playbooks sets
    tracing_sweep__last_play_judges to true (skipped by a --limit that leaves localhost out). Their judge task
    registers its result under that name, replacing the flag: a later run in the same ansible-playbook (an
    import_playbook, or a play of your own) judges in its own play unless its playbook sets the flag again."""
    hostvars = context.variables.get("hostvars")
    try:
        return context.template(hostvars["localhost"].get(LAST_PLAY_JUDGES, False)) is True if hostvars is not None else False
    except Exception:  # pylint: disable=broad-exception-caught  # no localhost in the inventory: the role judges its own play
        return False


def _judged(context, result, step_args, stats, report=None, defer=False, failed_already=()):
    """The report (or rollback summary) ``result`` as the task's result: where each failure is raised, the summary said,
    the stats published and the report kept (under ``report``, which the role's next task gives the play as
    tracing_sweep_report). The task fails when a host that did not fail must fail now (the run as a whole, judged in
    this play): the role's rescue then fails that host, once. ``defer``: never fail, a target_status task follows on
    this (only) host. ``failed_already``: the hosts whose own step failed (the rescue fails them)."""
    context.say("\n".join(result.get("summary_lines") or result.get("lines") or []))
    status = _run_status.host_status(step_args["step"], step_args, result, context.host)
    task = {
        "changed": False,
        "run_id": (context.variables.get(STARTED) or {}).get("run_id"),
        "verdict": result.get("verdict"),
        "files": result.get("files"),
        "host_failures": status.get("host_failures", {}),
        "localhost_failure": status.get("localhost_failure"),
        "stats": stats,
    }
    if report is not None:
        task["report"] = report
    for key in ("warnings", "dest", "write_error", "fallback_report", "changed_stages", "history_error", "since_baseline", "summary", "summary_lines", "lines"):
        if key in result:
            task[key] = result[key]
    running = set(context.hosts("ansible_play_hosts"))
    carried = [name for name in task["host_failures"] if name in running and name not in failed_already]
    if carried and not defer:
        task.update(failed=True, published=False, msg=task["host_failures"][carried[0]])
        return task
    return _published(task)


def _published(task):
    """The task's result with its stats published (set_stats's ansible_stats, for AWX/Tower).

    The report is no fact of this task: ansible-core gives the facts of an action other than set_fact to the play as
    top-level variables only while INJECT_FACTS_AS_VARS stays on (which ansible-core deprecates: 2.21 warns on each
    read), after deep-copying them twice in the worker. The role's next task sets tracing_sweep_report from the
    registered result's ``report`` with set_fact, a variable in every ansible-core."""
    return dict(task, published=True, ansible_stats={"data": task["stats"], "per_host": False, "aggregate": False})


def _again(context):
    """The report's result when this run's report is written already (the rescue runs the step again: to write it when
    no target was left to, and to publish what a failed report task could not); None otherwise."""
    done = context.this_run(REPORTED)
    if done is None:
        return None
    if done.get("unwritten"):
        # The report could not be built: its failure (the changes named, report.json saved elsewhere) was said once; it
        # is not built and said again. Nothing will read the workspace now.
        _remove_workspace(context)
        return dict(done, failed=True)
    # Published again, the same data (set, not added up): what a failed report task could not publish is published now.
    return _published({key: value for key, value in done.items() if key not in ("failed", "msg", "ansible_stats", "published")})


def _remove_workspace(context):
    try:
        context.workspace().remove()
    except WorkspaceError:
        pass


def _sweep_stats(result):
    report = result["report"]
    return {
        "tracing_sweep_mode": report["mode"],
        "tracing_sweep_verdict": result["verdict"],
        "tracing_sweep_summary": report["summary"],
        "tracing_sweep_failed_targets": [target["host"] for target in report.get("targets") or [] if target.get("status") == "error"],
        "tracing_sweep_reports": result.get("files"),
        "tracing_sweep_since_baseline": result.get("since_baseline"),
    }


def _report_args(context, settings):
    return {
        "step": "report",
        "settings": settings,
        "mode": "audit" if context.check_mode else "enforce",
        "dest": settings["report_dir"],
        "formats": settings["report_formats"],
        "judged_on_localhost": _localhost_judges(context),
        "inventory_hosts": [str(name) for name in (context.variables.get("groups") or {}).get("all", [])],
    }


def report(context):
    """Once, after every target: the report of the whole run (every host of the play, those that failed too), written,
    summed up and judged."""
    again = _again(context)
    if again is not None:
        return again
    workspace = context.workspace()
    settings = _own_settings(context)
    args = _report_args(context, settings)
    if context.args["no_targets"]:
        args.update(records=[], hosts=[], live=[context.host])
    else:
        hosts = _target_names(workspace, context.hosts())
        args.update(records=[workspace.load("record", name) or {} for name in hosts], hosts=hosts, owners=_owners(workspace, context.hosts()))
        args["live"] = _live(context, workspace)
    result = _sweep_run.report_step(dict(args, live=None), host=context.host, check_mode=context.check_mode)
    if result.get("failed"):
        return dict(result, run_id=workspace.run_id, unwritten=True)
    failed_already = _failed_already(context, workspace)
    workspace.remove()
    # The report is kept in the task's result only for the role's next task, which gives it to the play as
    # tracing_sweep_report (the public entry points); the collection's playbooks do without it (report_variable).
    kept = result["report"] if context.args["report_variable"] else None
    return _judged(context, result, args, _sweep_stats(result), report=kept, defer=context.args["no_targets"], failed_already=failed_already)


def _failed_already(context, workspace):
    return {name for name in context.hosts() if workspace.load("failed", name)}


def merge(context):
    """The merge of slices' reports: read and checked, then written and judged as one unsliced run's report."""
    again = _again(context)
    if again is not None:
        return again
    settings, problems = context.settings("merge")
    if problems:
        return _failed("Invalid sweep settings, nothing was done: " + "; ".join(problems))
    merged = _merge_steps.merge_step({"merged_from": settings.get("merge_reports")})
    if merged.get("failed"):
        return merged
    args = dict(_report_args(context, settings), report=merged["report"], merged_from=merged["merged_from"], live=[context.host])
    result = _sweep_run.report_step(args, host=context.host, check_mode=context.check_mode)
    context.workspace().remove()
    if result.get("failed"):
        return result
    return _judged(context, result, args, _sweep_stats(result), report=result["report"], defer=True)


def target_status(context):
    """In the role's rescue, on a host whose target failed (or that carries the run's failure): fail it, with its own
    error, now that the report is written."""
    done = context.this_run(REPORTED)
    if done is None:
        return _failed("the report of this run was not written (see the failure above); this target failed")
    message = (done.get("host_failures") or {}).get(context.host)
    if message:
        return _failed(message)
    return {"changed": False}


def judge(context):
    """The last play of the collection's playbooks, on localhost: fail when the run as a whole failed."""
    found = _latest_report(context)
    if found is not None and found.get("localhost_failure"):
        return _failed(found["localhost_failure"])
    return {"changed": False}


def _registered_values(hostvars):
    """Each host's registered results of this run as ansible-core keeps them in memory (never in a fact cache, so
    never an earlier run's), or None when this ansible-core does not expose them: the judge then reads them through
    hostvars, which computes each host's variables and templates the whole result."""
    cache = getattr(getattr(hostvars, "_variable_manager", None), "_nonpersistent_fact_cache", None)
    return cache if isinstance(cache, Mapping) else None


def _latest_report(context):
    """The report result (REPORTED) of the latest run of this playbook on any host, or None. Only its run id and its
    run's failure are read: the registered result holds the whole report (under report), which is never templated here."""
    hostvars = context.variables.get("hostvars")
    if hostvars is None:
        return None
    names = ["localhost"] + [str(name) for name in (context.variables.get("groups") or {}).get("all", [])]
    registered = _registered_values(hostvars)
    latest = None
    for name in names:
        try:
            if registered is not None:
                # No host's variables computed: an organisation's inventory has thousands of hosts, and a
                # remediation's target may be any of them.
                value = (registered.get(name) or {}).get(REPORTED)
            elif name in hostvars and REPORTED in hostvars[name]:
                value = context.template(hostvars[name][REPORTED])
            else:
                continue
            value = {"run_id": value.get("run_id"), "localhost_failure": value.get("localhost_failure")} if isinstance(value, Mapping) else None
        except Exception:  # pylint: disable=broad-exception-caught  # a host whose variables cannot be read judged nothing
            continue
        if value and value["run_id"] and (latest is None or float(value["run_id"]) > float(latest["run_id"])):
            latest = value
        if latest is not None and name != "localhost":
            break
    return latest


# ---- the region_tracing playbook ----------------------------------------------------------------------------------


def region(context):
    """The region_tracing playbook's own variables, checked as strictly as the role's (_steps.sweep.region_step)."""
    variables = context.variables

    def value(name, default=None):
        return context.template(variables[name]) if name in variables else default

    settings = {
        "region": value("apigw_tracing_region"),
        "desired": value("apigw_tracing_desired", True),
        "allow_unknown_regions": value("tracing_sweep_allow_unknown_regions", []),
        "variables": [str(name) for name in variables if str(name).startswith("apigw_tracing_")],
        "environment": {name: os.environ.get(name, "") for name in ("AWS_REGION", "AWS_DEFAULT_REGION")},
    }
    result = _sweep_run.region_step({"settings": settings}, host=context.host, check_mode=context.check_mode)
    if not result.get("failed"):
        context.say(result["line"])
    return result


# ---- the remediate playbook ------------------------------------------------------------------------------------------


def event_target(context):
    """The remediate playbook's first task, on localhost: check the event's variables and find its target in the
    inventory, before any AWS call; the target host joins the group of the playbook's second play, with the run's own
    report directory."""
    variables = context.variables

    def value(name, default=None):
        try:
            return context.template(variables[name]) if name in variables else default
        except Exception as error:  # pylint: disable=broad-exception-caught  # any template error is the variable's problem
            raise VariableError(f"{name}: could not be templated: {error}") from None

    try:
        # ansible-rulebook gives the playbook the event that fired the rule as ansible_eda.event: the event source's,
        # whose stage names the target and whose batch the stages. The playbook's own variables, when given, win.
        eda = value("ansible_eda")
        event = _remediation.event_of(
            {name: value(name) for name in _remediation.EVENT_VARIABLES if name in variables},
            eda.get("event") if isinstance(eda, dict) else None,
        )
        event.update(
            allow_unknown_regions=value("tracing_sweep_allow_unknown_regions"),
            base_dir=value(_remediation.BASE_DIR_VARIABLE),
            under_rulebook=eda is not None,
        )
    except VariableError as error:
        return _failed("Invalid remediation variables, nothing was done and no AWS call was made: %s" % error)
    if context.inventory_variables is None:
        return _failed("the inventory could not be read from this task (an ansible-core this collection does not support?)")
    found = _remediation.event_target_step(event, context.inventory_variables())
    if found.get("failed"):
        return found
    context.say("\n".join(found["lines"]))
    # The target sweeps exactly these stages (from the event when ansible-rulebook runs the playbook) and writes this
    # run's own report set: host variables of this run's inventory, above the role's defaults and the inventory's.
    host_vars = {"tracing_sweep_report_dir": found["report_dir"], "tracing_sweep_stages": found["stages"]}
    if found.get("region"):
        # A host that stands for an account sweeps only the event's region (its one target, named <host>_<region>).
        host_vars["tracing_sweep_regions"] = [found["region"]]
    return {
        "changed": False,
        "target": found["host"],
        "report_dir": found["report_dir"],
        "add_host": {"host_name": found["host"], "groups": [_remediation.TARGET_GROUP], "host_vars": host_vars},
    }


# ---- the rollback -------------------------------------------------------------------------------------------------------


def rollback_plan(context):
    """Once, before any AWS call: the changes of the enforcement to roll back, and the rollback's report directory."""
    settings = _own_settings_of(context, "rollback")
    planned = _rollback_steps.rollback_plan_step({"report": str(settings.get("rollback_report") or ""), "dest": settings["report_dir"]})
    workspace = context.workspace()
    if planned.get("failed"):
        # The rollback stops here, before any AWS call: nothing will read the workspace.
        workspace.remove()
        return planned
    workspace.save("rollback_plan", planned)
    if planned.get("message"):
        context.say(planned["message"])
    return {"changed": False, "changes": len(planned["changes"]), "file": planned["file"]}


def _own_settings_of(context, entry_point):
    settings, problems = context.settings(entry_point)
    if problems:
        raise WorkspaceError("Invalid sweep settings on this host: " + "; ".join(problems))
    return settings


def restore(context):
    """Put this target's stages back to their tracing state before the enforcement, in one step (each region of a host
    that stands for an account, as a target of its own)."""
    workspace = context.workspace()
    settings = _own_settings_of(context, "rollback")
    planned = workspace.load("rollback_plan") or {}
    changes = planned.get("changes") or []
    targets, problems = context.targets()
    if problems:
        message = "Invalid target variables, nothing was done on this target: " + "; ".join(problems)
        workspace.save("record", _rollback_steps.failed_record(identity(context.host, context.target()), message, changes, context.host), context.host)
        workspace.save("failed", True, context.host)
        return _failed(message)
    if [name for name, dummy in targets] != [context.host]:
        workspace.save("targets", [name for name, dummy in targets], context.host)

    def restore_one(name, target):
        try:
            args = {"settings": settings, "target": target, "changes": changes, "functions": planned.get("functions") or []}
            restored = _rollback_steps.restore_step(args, host=name, check_mode=context.check_mode)
        except Exception as error:
            # Nothing is known of what a broken-off call did: every change of the target counts as not rolled back.
            message = f"the rollback of this target broke off: {_sweep_run.step_failure(error)}"
            workspace.save("record", _rollback_steps.failed_record(identity(name, target), message, changes, name), name)
            raise
        workspace.save("record", restored["record"], name)
        for heading, lines in (restored.get("lines") or {}).items():
            context.say("%s: %s: %s" % (name, heading, " | ".join(str(line) for line in lines)))
        result = {key: restored[key] for key in ("changed", "diff", "chosen", "stages", "missing", "failures", "requests") if key in restored}
        not_restored = len((restored.get("record") or {}).get("failed") or [])
        if restored.get("failed"):
            result.update(failed=True, msg=restored.get("msg"))
        elif not_restored and settings.get("fail_on_error", True):
            result.update(failed=True, msg="%d stage%s of this target %s not rolled back: the rollback's report says which and why" % (
                not_restored, "" if not_restored == 1 else "s", "was" if not_restored == 1 else "were"))
        return result

    outcomes = _each_target(targets, restore_one)
    if len(outcomes) == 1 and outcomes[0][0] == context.host:
        result = outcomes[0][1]
    else:
        result = {"changed": any(outcome.get("changed") for dummy, outcome in outcomes), "targets": dict(outcomes)}
        failed = ["%s: %s" % (name, outcome["msg"]) for name, outcome in outcomes if outcome.get("failed")]
        if failed:
            result.update(failed=True, msg="%d of %d targets of this host failed: %s" % (len(failed), len(outcomes), " | ".join(failed)))
    if result.get("failed"):
        # The rescue fails this host after the rollback's reports are written.
        workspace.save("failed", True, context.host)
    return result


def rollback_summary(context):
    """Once, after every target: the rollback summed up, its reports written (in check mode too), and judged."""
    again = _again(context)
    if again is not None:
        return again
    workspace = context.workspace()
    settings = _own_settings_of(context, "rollback")
    hosts = _target_names(workspace, context.hosts())
    args = {
        "step": "rollback_summary",
        "settings": settings,
        "planned": workspace.load("rollback_plan") or {},
        "records": [workspace.load("record", name) or {} for name in hosts],
        "hosts": hosts,
        "owners": _owners(workspace, context.hosts()),
        "live": _live(context, workspace),
        "judged_on_localhost": _localhost_judges(context),
        "dest": settings["report_dir"],
        "formats": settings["report_formats"],
    }
    result = _rollback_steps.rollback_summary_step(dict(args, live=None), host=context.host, check_mode=context.check_mode)
    failed_already = _failed_already(context, workspace)
    workspace.remove()
    stats = {"tracing_sweep_rollback_summary": result["summary"], "tracing_sweep_reports": result["files"]}
    return _judged(context, result, args, stats, failed_already=failed_already)
