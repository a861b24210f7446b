# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""Writing a report set on the controller: one run, one coherent set of files, and nothing changed unrecorded.

- ``prepare(dest)`` creates the directory and proves it writable (a probe file written and removed), so a
  sweep can stop before its first AWS call instead of after its changes.
- ``write_set(report, dest, formats)`` renders every format first, writes each file beside its final name
  and renames it into place, then removes the report files of formats this run did not write (a report.md
  of an earlier run must not sit beside a new report.json, telling another story).
- When writing fails after an enforcement changed stages, ``save_fallback`` keeps report.json somewhere
  else (the rollback's only input) and ``changed_stage_lines`` names every changed stage for the log.
"""

from __future__ import annotations

import json
import os
import tempfile

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import FILE_NAMES
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import RENDERERS
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.formats import canonical_formats

TEMP_PREFIX = ".report-"
TEMP_SUFFIX = ".tmp"
FALLBACK_PREFIX = "tracing-sweep-report-"


class ReportWriteError(Exception):
    """The reports could not be written; the message names the directory and the cause."""


def controller_path(given):
    """A path a user gave (a report directory or file), as the controller sees it: ~ expanded, and a relative path
    taken from the directory ansible-playbook runs in."""
    return os.path.realpath(os.path.expanduser(str(given)))


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
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def formats_in_order(formats):
    """report.json is the record every other format is derived from: always written, always first. Aliases (md, xml)
    are their formats, written once."""
    return list(dict.fromkeys(["json"] + [name for name in canonical_formats(formats) if name != "json"]))


def prepare(dest):
    """Create ``dest`` if needed and prove that files can be created and removed in it. Raises ReportWriteError."""
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise ReportWriteError(f"{dest} exists and is not a directory")
    try:
        os.makedirs(dest, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=dest, prefix=TEMP_PREFIX + "probe-", suffix=TEMP_SUFFIX)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise ReportWriteError(f"cannot write in {dest}: {error.strerror or error}") from error


def render_set(report, formats):
    """{format: text} for the formats; raises KeyError, TypeError or ValueError on a malformed report."""
    return {name: RENDERERS[name](report) for name in formats_in_order(formats)}


def planned_files(dest, formats):
    return {name: os.path.join(dest, FILE_NAMES[name]) for name in formats_in_order(formats)}


def stale_files(dest, formats):
    """Report files in ``dest`` that a run writing ``formats`` would leave from an earlier run."""
    keep = set(formats_in_order(formats))
    stale = [os.path.join(dest, FILE_NAMES[name]) for name in FILE_NAMES if name not in keep]
    return [path for path in stale if os.path.lexists(path)]


def write_set(rendered, dest, check_mode=False):
    """Write the rendered set into ``dest``: (files by format, whether anything changed or would change).

    Files already holding their text are left alone; report files of other formats are removed.
    Raises ReportWriteError; nothing is written in check mode.
    """
    files = {name: os.path.join(dest, FILE_NAMES[name]) for name in rendered}
    to_write = {name: path for name, path in files.items() if _current_text(path) != rendered[name]}
    to_remove = stale_files(dest, list(rendered))
    if check_mode or not (to_write or to_remove):
        return files, bool(to_write or to_remove)
    try:
        os.makedirs(dest, exist_ok=True)
        for name, path in to_write.items():
            _write_atomically(path, rendered[name])
        for path in to_remove:
            os.unlink(path)
    except OSError as error:
        raise ReportWriteError(f"cannot write the reports in {dest}: {error.strerror or error} ({getattr(error, 'filename', None) or dest})") from error
    return files, True


def changed_stages(report):
    """The rows of stages this run changed (actions enabled and disabled)."""
    return [row for row in report.get("stages") or [] if row.get("action") in ("enabled", "disabled")]


def changed_stage_lines(report):
    """One line per changed stage: its ARN, and its tracing before and after."""
    lines = []
    for row in changed_stages(report):
        lines.append(
            "%s tracing_enabled %s -> %s"
            % (row.get("arn"), str(row.get("tracing_enabled_before")).lower(), str(row.get("tracing_enabled_after")).lower())
        )
    return lines


def save_fallback(text, places=None):
    """Write ``text`` (report.json) to a new file in the first writable place: the system's temporary directory,
    the home directory, the working directory. Returns its path, or None when no place took it."""
    if places is None:
        places = [tempfile.gettempdir(), os.path.expanduser("~"), os.getcwd()]
    for place in places:
        try:
            handle, path = tempfile.mkstemp(dir=place, prefix=FALLBACK_PREFIX, suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            return path
        except OSError:
            continue
    return None


def failed_write_result(report, json_text, message, dest):
    """The task result when the reports could not be written: failed, with every stage the run changed and the
    path of a fallback copy of report.json, so that no change goes unrecorded."""
    lines = changed_stage_lines(report)
    result = {"failed": True, "dest": dest, "msg": message}
    if not lines:
        return result
    fallback = save_fallback(json_text)
    result["changed_stages"] = lines
    result["fallback_report"] = fallback
    where = (
        f"report.json was saved to {fallback} instead: keep it, the rollback reads it (tracing_sweep_rollback_report={fallback})"
        if fallback
        else "report.json could not be saved anywhere else either: the changed stages above are the only record"
    )
    result["msg"] = (
        f"{message}. This run changed {len(lines)} stage{'' if len(lines) == 1 else 's'}: " + "; ".join(lines) + f". {where}"
    )
    return result


def unbuilt_report_result(records, message, dest):
    """The task result when the report could not even be built from the targets' records (a bug, or a record no
    rule foresaw): failed, and, when stages were changed, every changed stage named and the records saved as JSON
    elsewhere, so that no change goes unrecorded."""
    rows = [
        row for record in records if isinstance(record, dict) for row in (record.get("rows") or []) if isinstance(row, dict)
    ]
    report = {"stages": rows}
    try:
        text = json.dumps({"error": message, "records": records}, indent=2, default=str) + "\n"
    except (TypeError, ValueError) as error:
        text = json.dumps({"error": message, "records": repr(records), "encoding_error": str(error)}) + "\n"
    result = failed_write_result(report, text, f"{message}; nothing was written in {dest}", dest)
    result.update(files={}, write_error=result["msg"], report=None)
    return result
