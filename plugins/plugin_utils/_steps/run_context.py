# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""What one run of the tracing_sweep role knows between its tasks: the role's variables as a step reads them, and
the run's workspace, where the engine keeps its state from one step to the next.

The role's tasks pass nothing to the private action but the step's name: the action reads the role's variables
itself (``role_settings``, ``role_target``), templated in the context of the host it runs for, and each step keeps
what the next one needs in the run's workspace (``Workspace``): a directory on the controller, made by the start
step and removed by the report, with one file per target and step. So the plan is not sent back in through a
task's arguments, and a record is never taken from what an earlier play left in a host's variables.

Imports: the standard library only.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import urllib.parse

# The role's settings: {key the engine uses: the role variable}. Each is defined by the role's defaults, but the
# entry points' own inputs, which have no default.
SETTING_VARIABLES = {
    "desired": "tracing_sweep_desired",
    "rules": "tracing_sweep_rules",
    "exemptions": "tracing_sweep_exemptions",
    "exempt_tag": "tracing_sweep_exempt_tag",
    "max_changes": "tracing_sweep_max_changes",
    "report_dir": "tracing_sweep_report_dir",
    "report_formats": "tracing_sweep_report_formats",
    "endpoint_url": "tracing_sweep_endpoint_url",
    "sts_endpoint_url": "tracing_sweep_sts_endpoint_url",
    "max_requests_per_second": "tracing_sweep_max_requests_per_second",
    "concurrency": "tracing_sweep_concurrency",
    "role_session_name": "tracing_sweep_role_session_name",
    "fail_on_error": "tracing_sweep_fail_on_error",
    "fail_on_noncompliant": "tracing_sweep_fail_on_noncompliant",
    "history": "tracing_sweep_history",
    "fail_on_regression": "tracing_sweep_fail_on_regression",
    "regression_includes_new": "tracing_sweep_regression_includes_new",
    "security_hub": "tracing_sweep_security_hub",
    "allow_unknown_regions": "tracing_sweep_allow_unknown_regions",
    "rollback_report": "tracing_sweep_rollback_report",
    "merge_reports": "tracing_sweep_merge_reports",
    "stages": "tracing_sweep_stages",
    "whole_path": "tracing_sweep_whole_path",
    "lambda_tracing": "tracing_sweep_lambda_tracing",
}
# This host's target, as the inventory sets it.
TARGET_VARIABLES = {
    "region": "tracing_sweep_region",
    "account_id": "tracing_sweep_account_id",
    "account_name": "tracing_sweep_account_name",
    "role_arn": "tracing_sweep_role_arn",
    "external_id": "tracing_sweep_external_id",
    "allow_unknown_regions": "tracing_sweep_allow_unknown_regions",
    # A host that stands for an account: its regions, each a target (_settings/checks.py host_targets).
    "regions": "tracing_sweep_regions",
}
ROLE_VARIABLE_PREFIX = "tracing_sweep_"
# A workspace older than this was left by a run that stopped before its report; the next run removes it.
STALE_SECONDS = 24 * 3600


class VariableError(Exception):
    """A role variable that could not be templated (an undefined variable in its template, a template error)."""


def _value(variables, template, name, default=None):
    if name not in variables:
        return default
    try:
        return template(variables[name])
    except Exception as error:  # pylint: disable=broad-exception-caught  # any template error is the variable's problem
        raise VariableError(f"{name}: could not be templated: {error}") from None


def role_settings(variables, template, entry_point="main"):
    """The settings the role's variables give, as _settings.checks.settings_problems checks them: one key per setting,
    ``entry_point``, and ``variables`` (the tracing_sweep_* names defined, so that misspelt ones are found)."""
    settings = {"entry_point": entry_point}
    for key, name in SETTING_VARIABLES.items():
        settings[key] = _value(variables, template, name)
    settings["variables"] = sorted(str(name) for name in variables if str(name).startswith(ROLE_VARIABLE_PREFIX))
    return settings


def role_target(variables, template):
    """This host's target {region, account_id, account_name, role_arn, external_id, allow_unknown_regions, regions}."""
    target = {key: _value(variables, template, name, default="") for key, name in TARGET_VARIABLES.items()}
    if target["region"] == "":
        target["region"] = None
    return target


def identity(host, target):
    """What the report says of a target that failed before the engine named it."""
    return {
        "host": host,
        "account_id": target.get("account_id") or None,
        "account_name": target.get("account_name") or None,
        "region": target.get("region") or None,
    }


class WorkspaceError(Exception):
    """The run's workspace is missing or unreadable: the start step did not run in this play."""


class Workspace:
    """The run's workspace: {kind}-{host}.json files (the plan of a target, its record, the guard...).

    ``run_id`` orders runs (the time the start step ran) and names the run in every step's result, so that a step
    that reads a registered result can tell this run's from an earlier play's.
    """

    PREFIX = "tracing-sweep-run-"

    def __init__(self, path, run_id):
        self.path = path
        self.run_id = run_id

    @classmethod
    def create(cls):
        run_id = "%.6f" % time.time()
        cls.prune(tempfile.gettempdir())
        return cls(tempfile.mkdtemp(prefix=cls.PREFIX), run_id)

    @classmethod
    def prune(cls, parent, older_than=STALE_SECONDS):
        """Remove the workspaces of earlier runs that stopped before their report (a run killed, or stopped by a step
        that failed the whole run), once they are older than ``older_than`` seconds: a run in progress is never touched."""
        now = time.time()
        try:
            names = [name for name in os.listdir(parent) if name.startswith(cls.PREFIX)]
        except OSError:
            return
        for name in names:
            path = os.path.join(parent, name)
            try:
                if os.path.isdir(path) and not os.path.islink(path) and now - os.path.getmtime(path) > older_than:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                continue

    @classmethod
    def of(cls, started):
        """The workspace the start step's registered result names; WorkspaceError when there is none."""
        if not isinstance(started, dict) or not started.get("workspace") or not os.path.isdir(str(started["workspace"])):
            raise WorkspaceError(
                "this step runs after the role's start step, in the same play (the role's tasks run it; include the role, "
                "not its tasks one by one)"
            )
        return cls(str(started["workspace"]), str(started.get("run_id")))

    def describe(self):
        return {"workspace": self.path, "run_id": self.run_id}

    def _file(self, kind, host=None):
        name = kind if host is None else "%s-%s" % (kind, urllib.parse.quote(str(host), safe=""))
        return os.path.join(self.path, name + ".json")

    def save(self, kind, value, host=None):
        path = self._file(kind, host)
        partial = path + ".partial"
        with open(partial, "w", encoding="utf-8") as handle:
            # json.dumps, not json.dump: only dumps uses the C encoder (a large target's record: 10x faster).
            handle.write(json.dumps(value))
        os.replace(partial, path)

    def load(self, kind, host=None, default=None):
        try:
            with open(self._file(kind, host), encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return default

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)
