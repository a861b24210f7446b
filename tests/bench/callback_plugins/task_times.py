# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: task_times
type: aggregate
short_description: Write how long each task took and how many tasks each host ran, for the benchmark
description:
  - Writes a JSON object to the file named by the BENCH_TASK_TIMES environment variable.
  - C(tasks) lists {"task", "seconds", "run_once"} in the order the tasks started; a task lasts from its start
    until the next task (or the end of the playbook) starts.
  - C(per_host) maps each host to how many task results (ok, changed, skipped, failed, unreachable) it had,
    leaving out tasks marked run_once, or brought in by an include or block marked run_once (they run once for the
    play, not per host), and the tasks ansible-core adds
    itself (implicit ones, such as flushing handlers). An include_tasks or include_role counts, as it is one task
    executed for the host; a loop counts once. The benchmark divides by its targets to tell the number of Ansible
    tasks per target, whatever the role's layout.
  - C(run_once) is how many results came from run_once tasks (all hosts together).
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


def _host_and_task(result):
    """The host name and the task of a result: `host`/`task` since ansible-core 2.19, `_host`/`_task` before."""
    host = getattr(result, "host", None) or getattr(result, "_host")
    task = getattr(result, "task", None) or getattr(result, "_task")
    return host.get_name(), task


def _runs_once(task):
    """Whether the task, or an include (or block) it came from, is marked run_once: the tasks an include marked
    run_once brings in run on one host only, whatever their own setting."""
    node = task
    while node is not None:
        if getattr(node, "run_once", False) is True:
            return True
        node = getattr(node, "_parent", None)
    return False


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._current = None
        self._times = []
        self._per_host = {}
        self._run_once = 0

    def _close(self):
        if self._current is not None:
            name, run_once, started = self._current
            self._times.append({"task": name, "seconds": time.monotonic() - started, "run_once": run_once})
            self._current = None

    def _count(self, result):
        name, task = _host_and_task(result)
        if getattr(task, "implicit", False):
            return
        if _runs_once(task):
            self._run_once += 1
            return
        self._per_host[name] = self._per_host.get(name, 0) + 1

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = (task.get_name(), _runs_once(task), time.monotonic())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_runner_on_ok(self, result, **kwargs):
        self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_runner_on_skipped(self, result):
        self._count(result)

    def v2_runner_on_unreachable(self, result):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("BENCH_TASK_TIMES")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump({"tasks": self._times, "per_host": self._per_host, "run_once": self._run_once}, handle)
