# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The tracing_sweep role's steps, run in the controller's process (no module process per step).

Each task of the role names one step; plugin_utils/_sweep_engine.py does the AWS work and
plugin_utils/_sweep_run.py the run-wide parts (settings, the report). See the module stub for the options.
The steps that judge a run (report, rollback_summary) also say which host fails with what (plugin_utils/_run_status.py).
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import _merge_steps
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import _rollback_steps
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import _run_status
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import _sweep_run

display = Display()

STEPS = (
    "settings", "settings_problems", "prepare", "plan", "guard", "converge", "report", "restore", "region", "rollback_plan", "rollback_summary", "merge",
    "retire",
)

ARGUMENT_SPEC = dict(
    step=dict(type="str", required=True, choices=list(STEPS)),
    settings=dict(type="raw"),
    target=dict(type="dict"),
    planned=dict(type="raw"),
    guard=dict(type="raw"),
    claims=dict(type="list", elements="raw"),
    records=dict(type="list", elements="raw"),
    planned_records=dict(type="list", elements="raw"),
    hosts=dict(type="list", elements="str"),
    live=dict(type="list", elements="str"),
    run_errors=dict(type="list", elements="str", default=[]),
    mode=dict(type="str", choices=["audit", "enforce"]),
    dest=dict(type="str"),
    formats=dict(type="list", elements="str"),
    changes=dict(type="list", elements="raw"),
    report=dict(type="raw"),
    merged_from=dict(type="list", elements="str"),
    judged_on_localhost=dict(type="bool", default=False),
    keep=dict(type="raw"),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        # Not a task argument: the inventory's hosts, so that the run history can tell a run of part of it (--limit) from a full one.
        groups = (task_vars or {}).get("groups") or {}
        args["inventory_hosts"] = [str(name) for name in groups["all"]] if "all" in groups else None
        name = args["step"] + "_step"
        step = next(getattr(steps, name) for steps in (_sweep_run, _rollback_steps, _merge_steps, _run_status) if hasattr(steps, name))
        host = (task_vars or {}).get("inventory_hostname")
        result.update(step(args, host=host, check_mode=bool(self._task.check_mode), say=display.display))
        result.update(_run_status.host_status(args["step"], args, result, host))
        return result
