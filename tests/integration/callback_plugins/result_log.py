# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: write every task result as one JSON line, for the integration tests.

The tests read module results from this file rather than parsing the human-oriented stdout,
which they still check separately for what a person sees (e.g. diffs).
"""

from __future__ import annotations

import json
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: result_log
type: aggregate
short_description: Append each task result to a JSON-lines file (integration tests only)
description:
  - Writes one JSON object per task result with the task name, host, status and result dict, and the
    time.monotonic() values at which the task started and its result arrived, so that a test can tell
    which requests to its AWS stand-in a task made.
options:
  path:
    description: The file to append to. Nothing is written when it is not set.
    type: path
    env:
      - name: APIGW_IT_RESULT_LOG
"""


class CallbackModule(CallbackBase):
    """Append task results to the file named by APIGW_IT_RESULT_LOG."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_log"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._task_started = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_started = time.monotonic()

    def _write(self, result, status):
        path = self.get_option("path")
        if not path:
            return
        # ansible-core >= 2.19 exposes .result/.host; older cores only the private names.
        data = getattr(result, "result", None)
        if data is None:
            data = result._result  # pylint: disable=protected-access
        host = getattr(result, "host", None) or result._host  # pylint: disable=protected-access
        fields = getattr(result, "task_fields", None)
        if fields is None:
            fields = result._task_fields  # pylint: disable=protected-access
        entry = {
            # The task's own name: ansible-core 2.21's task_name puts the role in front ("ns.name.role : task"),
            # 2.19's does not, and the tests name tasks as the role's task files do.
            "task": str(fields.get("name") or "") or result.task_name,
            "host": host.get_name(),
            "status": status,
            "result": data,
            "started": self._task_started,
            "finished": time.monotonic(),
        }
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str, sort_keys=True) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._write(result, "unreachable")
