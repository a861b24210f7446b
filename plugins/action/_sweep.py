# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The tracing_sweep role's tasks, run in the controller's process (no module process per task).

Each task of the role names one step of ``STEPS``: the function that runs it (plugin_utils/_steps/role_tasks.py) and the
task arguments it takes (most take none: the step reads the role's variables itself, in the context of its host).
The action owns check mode: a task's check mode (--check, or a play's check_mode) is the run's mode.
"""

from __future__ import annotations

import gc
import multiprocessing

from ansible.executor.process.worker import WorkerProcess
from ansible.inventory.helpers import get_group_vars
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import combine_vars

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import role_tasks as tasks
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.run_context import WorkspaceError

display = Display()

ENTRY_POINTS = ["main", "rollback", "merge"]

# {step: (function, its task arguments)}.
STEPS = {
    # Once per run, before any AWS call.
    "retire": (tasks.retire, {}),
    "start": (tasks.start, {"entry_point": dict(type="str", default="main", choices=ENTRY_POINTS), "retire": dict(type="bool", default=False)}),
    # The sweep: per target, sweep (and in an enforcement converge); once, guard and report.
    "sweep": (tasks.sweep, {}),
    "guard": (tasks.guard, {}),
    "converge": (tasks.converge, {}),
    "report": (tasks.report, {"no_targets": dict(type="bool", default=False), "report_variable": dict(type="bool", default=True)}),
    # Where failures are raised: a failed target on its own host, the run as a whole on localhost.
    "target_status": (tasks.target_status, {}),
    "judge": (tasks.judge, {}),
    # The other entry points and playbooks.
    "merge": (tasks.merge, {}),
    "region": (tasks.region, {}),
    "rollback_plan": (tasks.rollback_plan, {}),
    "restore": (tasks.restore, {}),
    "rollback_summary": (tasks.rollback_summary, {}),
    # The remediate playbook: the target an event names, found in the inventory.
    "event_target": (tasks.event_target, {}),
}


def freeze_inherited_objects():
    """In a worker process of ansible-playbook, keep the garbage collector off the objects the worker inherited.

    ansible-core forks a worker per task and host from its main process, whose heap (the inventory, the plays, botocore's
    models) the worker shares until it writes to it. Each full collection in the worker would walk every inherited
    object, writing to its pages (a private copy of each) and spending more CPU than the task itself: gc.freeze() moves
    them out of the collector's reach, as Python's gc documentation advises after a fork. The worker ends with its
    task, so whatever the freeze keeps from being collected lasts no longer than that. The main process (and a test
    calling the action) is left as it is.
    """
    if isinstance(multiprocessing.current_process(), WorkerProcess):
        gc.freeze()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        freeze_inherited_objects()
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        step = self._task.args.get("step")
        if step not in STEPS:
            return dict(result, failed=True, msg="step: must be one of %s, got %r" % (", ".join(STEPS), step))
        function, spec = STEPS[step]
        dummy, args = self.validate_argument_spec(argument_spec=dict(spec, step=dict(type="str", required=True)))
        context = tasks.TaskContext(
            host=task_vars.get("inventory_hostname"),
            check_mode=bool(self._task.check_mode),
            args=args,
            variables=task_vars,
            template=self._templar.template,
            host_variables=self._host_variables(task_vars),
            say=display.display,
            inventory_variables=self._inventory_variables(task_vars),
        )
        try:
            result.update(function(context))
        except WorkspaceError as error:
            result.update(failed=True, msg=str(error))
        if not self._task.diff:
            # Shown only with --diff: without it, a large target's diff (a before and after per stage) would only be
            # sent to ansible-playbook's main process and copied there.
            result.pop("diff", None)
        if result.get("add_host") and not result.get("failed"):
            self._add_host(result["add_host"])
        return result

    def _add_host(self, host):
        """Put the host in its groups, with its variables, for the playbook's later plays: ansible-core 2.19 reads the
        result's add_host key (as the add_host action's); later versions have the action do it (ActionBase.add_host)."""
        add_host = getattr(super(), "add_host", None)
        if callable(add_host):
            add_host(host_name=host["host_name"], host_vars=host.get("host_vars"), parent_group_names=host.get("groups"))

    @staticmethod
    def _inventory_variables(task_vars):
        """A function giving [(host name, its inventory variables)] for every host of the inventory: the variables
        its inventory sources give it (its groups' and its own, not templated), without computing every host's
        variables as the strategy would (an organisation's inventory has thousands of hosts)."""
        inventory = getattr(task_vars.get("hostvars"), "_inventory", None)
        if inventory is None:
            return None

        def inventory_variables():
            return [(host.name, combine_vars(get_group_vars(host.get_groups()), host.get_vars())) for host in inventory.get_hosts(ignore_restrictions=True)]

        return inventory_variables

    def _host_variables(self, task_vars):
        """A host name -> (its variables for this task, a templating function with them), as the strategy would give
        them had the task run on that host: the start step checks every host's settings once, for the run."""
        hostvars = task_vars.get("hostvars")
        manager = getattr(hostvars, "_variable_manager", None)
        inventory = getattr(hostvars, "_inventory", None)
        if manager is None or inventory is None:
            return None
        play = self._task.get_play()
        hosts = task_vars.get("ansible_play_hosts")
        hosts_all = task_vars.get("ansible_play_hosts_all")

        def host_variables(name):
            variables = manager.get_vars(play=play, host=inventory.get_host(name), task=self._task, _hosts=hosts, _hosts_all=hosts_all)
            return variables, self._templar.copy_with_new_env(available_variables=variables).template

        return host_variables
