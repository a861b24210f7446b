# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Writes a sweep report's files on the controller, in the controller's own process.

One action for every format: a copy task per file would run a module per file, about a second each.
"""

from __future__ import annotations

import os
import tempfile

from ansible.plugins.action import ActionBase

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_formats import FILE_NAMES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.report_formats import RENDERERS

ARGUMENT_SPEC = dict(
    report=dict(type="dict", required=True),
    dest=dict(type="path", required=True),
    formats=dict(type="list", elements="str", choices=list(FILE_NAMES), default=list(FILE_NAMES)),
)


def _current_text(path):
    """The file's text, or None when it is missing or unreadable (it is then written anew)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _write_atomically(path, text):
    """Readers never see a half-written report: write beside it, then rename over it."""
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".report-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp

        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        report = args["report"]
        if "summary" not in report or "stages" not in report:
            return dict(result, failed=True, msg="report: must be a report built by the cloudops.apigw_tracing.sweep_report filter")
        dest = os.path.realpath(args["dest"])
        # report.json is the record every other format is derived from: always written, always first.
        formats = ["json"] + [name for name in args["formats"] if name != "json"]
        formats = list(dict.fromkeys(formats))

        try:
            rendered = {name: RENDERERS[name](report) for name in formats}
        except (KeyError, TypeError, ValueError) as error:
            return dict(result, failed=True, msg=f"report: malformed, {error!r}; build it with the cloudops.apigw_tracing.sweep_report filter")

        if os.path.exists(dest) and not os.path.isdir(dest):
            return dict(result, failed=True, msg=f"dest: {dest} exists and is not a directory", dest=dest)
        files = {name: os.path.join(dest, FILE_NAMES[name]) for name in formats}
        to_write = {name: path for name, path in files.items() if _current_text(path) != rendered[name]}
        if to_write and not self._task.check_mode:
            try:
                os.makedirs(dest, exist_ok=True)
                for name, path in to_write.items():
                    _write_atomically(path, rendered[name])
            except OSError as error:
                return dict(result, failed=True, msg=f"dest: cannot write the reports in {dest}: {error}", dest=dest)
        return dict(result, changed=bool(to_write), dest=dest, files=files)
