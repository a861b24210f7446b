# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The merge of a sliced run's reports (entry point merge of the tracing_sweep role), as the private action _sweep
runs it: find each report file, read and merge them, before anything is written. The merged report is then
written and judged by the report step, as a sweep's."""

from __future__ import annotations

import os

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.files import controller_path
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.merge import merge_reports


def _report_file(given):
    """A directory stands for the report.json in it; a relative path is taken from where ansible-playbook runs."""
    path = controller_path(given)
    return os.path.join(path, "report.json") if os.path.isdir(path) else path


def merge_step(args, host=None, check_mode=False, say=None):
    given = args.get("merged_from")
    if not given:
        return {"failed": True, "msg": "Nothing was merged: tracing_sweep_merge_reports: must be a non-empty list of reports (the report.json "
                "files of the slices, or the directories that hold them), got an empty list"}
    paths = [_report_file(item) for item in given]
    missing = [path for path in paths if not os.path.isfile(path)]
    if missing:
        return {"failed": True, "msg": "Nothing was merged: %s %s not exist or %s not a file; tracing_sweep_merge_reports lists the report.json "
                "files of the slices, or the directories that hold them." % (
                    ", ".join(missing), "does" if len(missing) == 1 else "do", "is" if len(missing) == 1 else "are")}
    texts = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                texts.append(handle.read())
        except OSError as error:
            return {"failed": True, "msg": f"Nothing was merged: {path} cannot be read: {error.strerror or error}"}
    report, problems = merge_reports(texts, paths)
    if problems:
        return {"failed": True, "msg": "Nothing was merged: " + "; ".join(problems)}
    return {"changed": False, "report": report, "merged_from": paths}
