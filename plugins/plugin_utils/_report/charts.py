# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""What the charts of report.md and report.html draw: compliance per account, and over the last runs.

An account is counted over all its regions. One with no evaluated stage (only exempt, skipped or failed stages,
or only failed targets) has no compliance (None): the charts list it apart, never as a bar of 0% or 100%. An account
that lost a target (a region that failed) or a stage (one that could not be read or changed) is drawn over what was
evaluated, and marked so (``incomplete``): its bar is never read as the whole account.
"""

from __future__ import annotations

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._testing import faults
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import compliance_percent
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import row_category


def account_label(account_id, account_name):
    if account_id and account_name:
        return f"{account_id} ({account_name})"
    return account_id or account_name or None


def account_compliance(report):
    """[entry] per account, the least compliant first, then those with no evaluated stage (percent None).

    entry: account_id, account_name, label, stages, compliant, noncompliant, targets, failed_targets, stage_errors,
    percent, incomplete (what the account lost, as words, or None: see ``incomplete``).
    A target that failed before its account was known is its own entry, labelled by its host.
    """
    faults.check("charts")
    entries = {}

    def entry(account_id, account_name, host):
        key = account_id or f"host:{host}"
        found = entries.get(key)
        if found is None:
            found = entries[key] = {
                "account_id": account_id, "account_name": None, "label": None,
                "stages": 0, "compliant": 0, "noncompliant": 0, "targets": 0, "failed_targets": 0, "stage_errors": 0, "percent": None,
            }
        if account_name and not found["account_name"]:
            found["account_name"] = account_name
        found["label"] = account_label(account_id, found["account_name"]) or str(host)
        return found

    for target in report["targets"]:
        found = entry(target["account_id"], target.get("account_name"), target["host"])
        found["targets"] += 1
        if target["status"] == "error":
            found["failed_targets"] += 1
    for row in report["stages"]:
        found = entry(row["account_id"], row.get("account_name"), row["account_id"])
        found["stages"] += 1
        category = row_category(row)
        if category in ("compliant", "noncompliant", "stage_errors"):
            found[category] += 1
    for found in entries.values():
        found["percent"] = compliance_percent(found["compliant"], found["noncompliant"])
        found["incomplete"] = incomplete(found["targets"], found["failed_targets"], found["stage_errors"])
    drawn = sorted((item for item in entries.values() if item["percent"] is not None), key=lambda item: (item["percent"], -item["noncompliant"], item["label"]))
    not_drawn = sorted((item for item in entries.values() if item["percent"] is None), key=lambda item: item["label"])
    return drawn + not_drawn


def capped(entries, limit):
    """(the entries to draw: at most ``limit`` of the least compliant, those not drawn for lack of evaluated stages, how many were left off)."""
    drawn = [item for item in entries if item["percent"] is not None]
    not_drawn = [item for item in entries if item["percent"] is None]
    return drawn[:limit], not_drawn, max(0, len(drawn) - limit)


def trend_points(since_baseline):
    """The runs of since_baseline.trend that have a compliance figure, oldest first (this run last)."""
    if not since_baseline:
        return []
    return [point for point in since_baseline.get("trend") or [] if point.get("compliance_percent") is not None]


def _counted(number, noun, plural=None):
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"


def incomplete(targets, failed_targets, stage_errors):
    """What was not evaluated, in words ('1 of 2 targets failed, 3 stage errors'), or None when nothing was lost."""
    parts = []
    if failed_targets:
        parts.append(f"{failed_targets} of {_counted(targets, 'target')} failed")
    if stage_errors:
        parts.append(_counted(stage_errors, "stage error"))
    return ", ".join(parts) or None


def trend_labels(points, this_run, label_of, repeated):
    """One x label per point of the trend, oldest first, each different from the others.

    ``label_of(point)`` is the label of a run (its time, to the minute); the last point is "this run". Two runs with
    the same label (in the same minute, or the same second) would be drawn as one point: the second is marked
    ``repeated(label, 2)``, the third ``repeated(label, 3)``, and so on.
    """
    labels = []
    taken = set()
    for point in points:
        base = "this run" if point is this_run else label_of(point)
        label, count = base, 1
        while label in taken:
            count += 1
            label = repeated(base, count)
        taken.add(label)
        labels.append(label)
    return labels
