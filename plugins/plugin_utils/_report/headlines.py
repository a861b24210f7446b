# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""What a run says first, the same words in its summary, report.md and report.html (each escapes them its way).

- A regression: "2 stages regressed since the last run: <arn> in <account> (<cause>); ...; and 3 more".
- What was not evaluated: a compliance figure is only over the stages that were evaluated, so a run that lost
  targets or stages says so beside it ("100.0% of the evaluated stages, 2 of 4 targets failed (not evaluated)").
- An exemption that expired and the stages it no longer covers (numbered from 1, as a person counts a list).
"""

from __future__ import annotations

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.charts import incomplete

# A headline names this many stages, then "and N more"; the report's tables have them all.
NAMED = 3


def _counted(number, noun, plural=None):
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"


def _and_more(named, total):
    text = "; ".join(named)
    return text + (f"; and {total - len(named)} more" if total > len(named) else "")


def regressed_stage(item):
    """'<arn> in <account id> (<cause>, put back by this run)' for one stage of since_baseline.regressed."""
    put_back = ", put back by this run" if item.get("corrected") else ""
    return f"{item.get('arn')} in {item.get('account_id') or '-'} ({item.get('cause')}{put_back})"


def regression_headline(since_baseline, named=NAMED):
    """'N stages regressed since the last run: ...', naming the first ``named`` stages; None when none regressed."""
    if not since_baseline:
        return None
    count = (since_baseline.get("counts") or {}).get("regressed") or 0
    if not count:
        return None
    items = [regressed_stage(item) for item in (since_baseline.get("regressed") or [])[:named]]
    text = f"{_counted(count, 'stage')} regressed since the last run"
    return text + (": " + _and_more(items, count) if items else "")


def stage_errors(summary):
    """The summary's stage errors (a report of schema 1.0 counts them only in errors)."""
    if "stage_errors" in summary:
        return summary["stage_errors"] or 0
    return max(0, (summary.get("errors") or 0) - (summary.get("targets_failed") or 0))


def not_evaluated(summary):
    """What the run could not evaluate ('2 of 4 targets failed, 1 stage error'), or None when it lost nothing (or had
    no target at all: its verdict says so, and its compliance is n/a)."""
    return incomplete(summary.get("targets") or 0, summary.get("targets_failed") or 0, stage_errors(summary))


def compliance_figure(summary):
    """'100.0% of the evaluated stages', or 'n/a (no stage was evaluated)'."""
    percent = summary.get("compliance_percent")
    return "n/a (no stage was evaluated)" if percent is None else f"{percent}% of the evaluated stages"


def coverage_headline(summary):
    """'100.0% of the evaluated stages, 2 of 4 targets failed (not evaluated)' when the run lost targets or stages;
    None when it evaluated everything it was given (its compliance is then the whole run's)."""
    lost = not_evaluated(summary)
    if lost is None:
        return None
    return f"{compliance_figure(summary)}, {lost} (not evaluated)"


def expired_exemptions(report, named=NAMED):
    """One sentence per exemption that expired and so no longer covers the stages it matched, numbered from 1:
    'Exemption 2 expired on 2025-01-31 (retiring): it no longer covers 3 stages: <arn>; <arn>; <arn>'."""
    lines = []
    for entry in report.get("exemptions") or []:
        if entry.get("status") != "expired":
            continue
        stages = list(entry.get("stages") or [])
        line = f"Exemption {entry['index'] + 1} expired on {entry.get('expires')} ({entry.get('reason')})"
        if stages:
            line += f": it no longer covers {_counted(len(stages), 'stage')}: " + _and_more(stages[:named], len(stages))
        lines.append(line)
    return lines
