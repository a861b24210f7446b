# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Writes a sweep report's files on the controller, in the controller's own process.

One action for every format: a copy task per file would run a module per file, about a second each.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import ReportWriteError
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import failed_write_result
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import render_set
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import write_set
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import ACCEPTED
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import FILE_NAMES

ARGUMENT_SPEC = dict(
    report=dict(type="dict", required=True),
    dest=dict(type="path", required=True),
    formats=dict(type="list", elements="str", choices=list(ACCEPTED), default=list(FILE_NAMES)),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp

        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        report = args["report"]
        if "summary" not in report or "stages" not in report:
            return dict(result, failed=True, msg="report: must be a tracing sweep report, such as the tracing_sweep role leaves in tracing_sweep_report")
        dest = os.path.realpath(args["dest"])
        try:
            rendered = render_set(report, args["formats"])
        except (KeyError, TypeError, ValueError) as error:
            return dict(result, failed=True, msg=f"report: malformed, {error!r}; give the report the tracing_sweep role leaves in tracing_sweep_report")
        if os.path.exists(dest) and not os.path.isdir(dest):
            return dict(result, failed=True, msg=f"dest: {dest} exists and is not a directory", dest=dest)
        try:
            files, changed = write_set(rendered, dest, check_mode=self._task.check_mode)
        except ReportWriteError as error:
            return dict(result, **failed_write_result(report, rendered["json"], f"dest: {error}", dest))
        return dict(result, changed=changed, dest=dest, files=files)
