# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""What a run leaves for those who read it besides its reports: the status of each host, and no stale report.

Host status (the PLAY RECAP, AWX's host view, a callback's per-host results). ``host_status`` adds to the result
of each step that judges a run (``report``, ``rollback_summary``):

  target_failures   {host: message}: the targets that failed (or had a stage fail), each failing on its own host
                    with its own error, after the reports are written (with tracing_sweep_fail_on_error);
  run_failure       the message the run as a whole fails with (the change guard, the errors summed up, the
                    regressions, the non-compliant stages, findings not published, the history, the reports),
                    or None;
  host_failures     {host: message}: what each host of this play fails with;
  localhost_failure the run's failure left to the playbook's last play, on localhost, or None.

The run as a whole fails on localhost, a host that is no target, when a play on localhost follows to judge it
(``judged_on_localhost``: the collection's playbooks say so in their first play, on localhost, which a --limit
that leaves localhost out skips, as it skips the last). Otherwise (the role in a play of your own, a --limit or
a slice without localhost, or no target left alive, after which ansible-playbook runs no further play) the run
fails here, once, on a target that fails anyway when there is one, else on the first host of the play.

No stale report (``retire_step``): before a run can stop (on the role's argument checks, its settings), the
report set an earlier run left in tracing_sweep_report_dir is moved to a new temporary directory, so that a
scheduler that reads report.json never reads an earlier run's verdict as this run's.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import controller_path
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import FILE_NAMES

# Stage errors named in a target's own failure; the report lists them all.
STAGE_ERRORS_SHOWN = 10
EARLIER_PREFIX = "tracing-sweep-earlier-reports-"


def _counted(number, noun, plural=None):
    return "%d %s" % (number, noun if number == 1 else (plural or noun + "s"))


# ---- host status -----------------------------------------------------------------------------------------------


def sweep_target_failures(report, settings):
    """{host: message} of the report's targets that failed, or whose stages failed: each fails on its own host.

    Nothing with tracing_sweep_fail_on_error false: then neither a target nor the run fails for an error.
    A target that stopped before its sweep began (the role's checks) is in the list too; it has already failed.
    """
    if not isinstance(report, dict) or not (settings or {}).get("fail_on_error", True):
        return {}
    stage_errors = {}
    for row in report.get("stages") or []:
        if row.get("action") == "error":
            stage_errors.setdefault((row.get("account_id"), row.get("region")), []).append(row)
    failures = {}
    for target in report.get("targets") or []:
        if target.get("status") == "error":
            failures[target["host"]] = target.get("error") or "the target failed"
            continue
        rows = stage_errors.get((target.get("account_id"), target.get("region"))) or []
        if rows:
            shown = ["%s: %s" % (row.get("arn"), row.get("reason")) for row in rows[:STAGE_ERRORS_SHOWN]]
            if len(rows) > STAGE_ERRORS_SHOWN:
                shown.append("%d more in the report" % (len(rows) - STAGE_ERRORS_SHOWN))
            failures[target["host"]] = "%s of this target failed (its other stages were swept and reported): %s" % (
                _counted(len(rows), "stage"), " | ".join(shown))
    return failures


def rollback_target_failures(args, settings):
    """{host: message} of the rollback's targets that failed, or left a stage not rolled back (fail_on_error)."""
    if not (settings or {}).get("fail_on_error", True):
        return {}
    failures = {}
    for name, record in zip(args.get("hosts") or [], args.get("records") or []):
        if not isinstance(record, dict) or not record:
            continue
        if record.get("status") == "error":
            failures[name] = record.get("error") or "the target failed"
        elif record.get("failed"):
            failed = [item for item in record["failed"] if isinstance(item, dict)]
            shown = ["%s/%s: %s" % (item.get("rest_api_id"), item.get("stage_name"), item.get("message")) for item in failed[:STAGE_ERRORS_SHOWN]]
            if len(failed) > STAGE_ERRORS_SHOWN:
                shown.append("%d more" % (len(failed) - STAGE_ERRORS_SHOWN))
            failures[name] = "%s of this target %s not rolled back: %s" % (
                _counted(len(failed), "stage"), "was" if len(failed) == 1 else "were", " | ".join(shown))
    return failures


def sweep_run_failure(result):
    """The one message the run as a whole fails with, or None: the reports not written, then each judgement of the
    report (the change guard, the errors, the findings, the regressions, non-compliance). A step after the sweep that
    failed (the history not kept among them) is a run error of the report, said by the errors judgement."""
    judgements = result.get("judgements") or {}
    messages = [result.get("write_error")] + list(judgements.values() if isinstance(judgements, dict) else judgements)
    return joined([message for message in messages if isinstance(message, str) and message])


def joined(messages):
    if not messages:
        return None
    if len(messages) == 1:
        return messages[0]
    return "The run failed for %d reasons: %s" % (len(messages), " ".join("(%d) %s" % (number, message) for number, message in enumerate(messages, 1)))


def placement(target_failures, run_failure, live, judged_on_localhost):
    """(host_failures, localhost_failure): where each failure is raised.

    live: the hosts of the play still running, in the play's order. A target's failure is raised on its own host.
    The run's failure is left to localhost when a play there judges the run and ansible-playbook will run it (a
    play all of whose hosts failed is the playbook's last); otherwise it is raised once, here: on the first live
    host that fails anyway, else on the first live host.
    """
    live = [str(name) for name in live]
    hosts = {name: message for name, message in target_failures.items() if name in live}
    if judged_on_localhost and any(name not in hosts for name in live):
        return hosts, run_failure
    if run_failure and live:
        carrier = next((name for name in live if name in hosts), live[0])
        if carrier in hosts:
            hosts[carrier] = "%s. The run as a whole failed too: %s" % (hosts[carrier].rstrip(". "), run_failure)
        else:
            hosts[carrier] = run_failure
    return hosts, None


def host_status(step, args, result, host):
    """The host status fields (module docstring) for the result of ``step``; {} for a step that judges nothing,
    or that failed (the task fails on its host, as any task does)."""
    if result.get("failed"):
        return {}
    settings = args.get("settings") or {}
    if step == "report":
        targets = sweep_target_failures(result.get("report"), settings)
        run = sweep_run_failure(result)
    elif step == "rollback_summary":
        targets = rollback_target_failures(args, settings)
        run = joined([message for message in (result.get("write_error"), result.get("failure")) if isinstance(message, str) and message])
    else:
        return {}
    live = args.get("live")
    if live is None:
        # The merge and a run without targets judge on the host they run on (localhost), their only host.
        live = [host]
    owners = args.get("owners") or {}
    hosts, on_localhost = placement(by_host(targets, owners), run, list(dict.fromkeys(owners.get(name, name) for name in live)),
                                    bool(args.get("judged_on_localhost")))
    return {"target_failures": targets, "run_failure": run, "host_failures": hosts, "localhost_failure": on_localhost}


def by_host(target_failures, owners):
    """{host: message} of ``target_failures`` ({target: message}): a host that stands for an account (``owners``:
    {target: host}) fails with the messages of its targets, each named."""
    messages = {}
    for name, message in target_failures.items():
        host = owners.get(name, name)
        messages.setdefault(host, []).append(message if host == name else f"{name}: {message}")
    return {host: said[0] if len(said) == 1 else "%d targets of this host failed: %s" % (len(said), " | ".join(said)) for host, said in messages.items()}


# ---- no stale report -------------------------------------------------------------------------------------------


def _describe(path):
    """'of <generated_at>, verdict <verdict>' of an earlier report.json, as far as it can be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
        return "of %s, verdict %s" % (report.get("generated_at"), report.get("verdict"))
    except (OSError, ValueError, AttributeError):
        return "that could not be read"


def _holds_an_input(dest, keep):
    """Whether ``dest`` is (or holds) one of ``keep`` (the merge's input reports, a file or its directory each).
    Anything but a list of paths counts as yes: the merge's own checks name it, and nothing is moved."""
    if keep is None:
        return False
    if not isinstance(keep, list) or not all(isinstance(path, str) and path for path in keep):
        return True
    for path in keep:
        path = controller_path(path)
        if dest in (path, os.path.dirname(path)):
            return True
    return False


def retire_step(args, host=None, check_mode=False, say=None):
    """Move the report files an earlier run left in ``dest`` (tracing_sweep_report_dir) to a new temporary directory.

    Called before the run can stop (the role's argument checks, its settings): a run that stops before its report
    leaves no report.json at all, never an earlier run's, which a scheduler would read as this run's. Nothing is
    lost: the line printed says where the earlier files went. Never fails the run: when they cannot be moved, a
    warning says so (and the prepare step refuses a directory it cannot write in). ``keep``: the merge's inputs,
    never moved.
    """
    given = args.get("dest")
    result = {"changed": False, "moved_to": None, "moved": []}
    if not isinstance(given, str) or not given.strip():
        return result
    dest = controller_path(given)
    if _holds_an_input(dest, args.get("keep")):
        return result
    files = [os.path.join(dest, name) for name in FILE_NAMES.values()]
    files = [path for path in files if os.path.isfile(path) and not os.path.islink(path)]
    if not files:
        return result
    earlier = _describe(os.path.join(dest, FILE_NAMES["json"]))
    moved = []
    target = None
    try:
        target = tempfile.mkdtemp(prefix=EARLIER_PREFIX)
        for path in files:
            shutil.move(path, os.path.join(target, os.path.basename(path)))
            moved.append(os.path.basename(path))
    except OSError as error:
        where = f"; those moved are in {target}" if moved else ""
        result.update(moved_to=target if moved else None, moved=moved, warnings=[
            f"tracing_sweep_report_dir: the reports of an earlier run could not be moved out of {dest} ({error.strerror or error}){where}: "
            "until this run writes its own, report.json there is the earlier run's (check its generated_at)"
        ])
        return result
    result.update(moved_to=target, moved=moved)
    if say is not None:
        say(f"The reports of an earlier run (report.json {earlier}) were moved from {dest} to {target}, so that they are not read as this run's")
    return result
