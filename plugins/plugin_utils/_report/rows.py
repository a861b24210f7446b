# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""One report row per stage of a target: the plan joined with what the apigw_stage_tracing call did.

The action of a row says what happened to the stage in this run:
  exempt                         an exemption or the exempt tag applies; untouched
  skipped                        a rule skips it, or the stage no longer existed when the change was to be made
                                 (deleted between the read and the write); untouched
  refused                        the max-changes guard refused this run's changes; untouched, still non-compliant
  none                           tracing already as desired
  would_enable / would_disable   check mode: the change that would be made
  enabled / disabled             the change was made
  error                          the change failed, or the API's stages could not be read (stage_name "*",
                                 tracing unknown); the reason is the module's message
A planned change with no trace in the converge result is an error, never silently 'none': the report
must not claim compliance that was not verified.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import GATEWAY_NOTES
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import hop_breaks_trace
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.request_path import whole_path_traced

ROW_FIELDS = (
    "account_id",
    "region",
    "rest_api_id",
    "rest_api_name",
    "stage_name",
    "arn",
    "tracing_enabled_before",
    "tracing_enabled_after",
    "desired",
    "action",
    "reason",
)
ACTIONS = ("exempt", "skipped", "refused", "none", "would_enable", "would_disable", "enabled", "disabled", "error")
MISSING_REASON = "no longer exists: the stage (or its REST API) was deleted between the read and the change"
REFUSED_REASON = "changes planned in this run, more than tracing_sweep_max_changes; nothing was changed"


def refused_reason(refused):
    """The row reason for a guard refusal: the explanation given, or the default one for ``True``."""
    if refused is True:
        return REFUSED_REASON
    return str(refused).strip() or REFUSED_REASON


def is_refused(row):
    """Whether the max-changes guard refused the row's change. Reports of schema 1.0 said so with a
    skipped row whose reason starts with 'refused: '."""
    if row["action"] == "refused":
        return True
    return row["action"] == "skipped" and row["desired"] is not None and str(row["reason"]).startswith("refused: ")


def _key(item):
    return str(item["rest_api_id"]), str(item["stage_name"])


def _converge_index(converge):
    """{(api id, stage): entry} for the stages, failures and missing lists of a converge result."""
    index = {}
    for kind in ("stages", "missing", "failures"):
        entries = converge.get(kind) or []
        index[kind] = {_key(entry): entry for entry in entries if isinstance(entry, Mapping)}
    return index


def _is_skipped_task(converge):
    """A registered result of a task that did not run (when: false) carries no stages: treat as no call."""
    return isinstance(converge, Mapping) and converge.get("skipped") and "stages" not in converge


def _change_action(desired, check_mode):
    if check_mode:
        return "would_enable" if desired else "would_disable"
    return "enabled" if desired else "disabled"


def _changed_row(row, converge, index, check_mode):
    """Fill after/action/reason of a stage whose change was planned, from the converge result."""
    key = (row["rest_api_id"], row["stage_name"])
    desired = row["desired"]
    if converge is None:
        if check_mode:
            return dict(row, tracing_enabled_after=desired, action=_change_action(desired, True))
        return dict(row, action="error", reason="the change was not made: no apigw_stage_tracing result for this target")
    failure = index["failures"].get(key)
    if failure is not None:
        message = failure.get("message") or failure.get("error_code") or "the change failed"
        return dict(row, action="error", reason=str(message))
    if key in index["missing"]:
        return dict(row, action="skipped", reason=MISSING_REASON)
    entry = index["stages"].get(key)
    if entry is None:
        if converge.get("failed"):
            message = converge.get("msg") or "the apigw_stage_tracing task failed"
            return dict(row, action="error", reason=f"the change was not made: {message}")
        return dict(row, action="error", reason="the change was not made: the stage is absent from the apigw_stage_tracing result")
    before = bool(entry.get("tracing_enabled_before", row["tracing_enabled_before"]))
    after = bool(entry.get("tracing_enabled", before))
    row = dict(row, tracing_enabled_before=before, tracing_enabled_after=after)
    if after != desired:
        return dict(row, action="error", reason=f"apigw_stage_tracing left tracing_enabled={str(after).lower()}, wanted {str(desired).lower()}")
    if entry.get("changed"):
        return dict(row, action=_change_action(after, check_mode))
    # Already as desired when the change came: someone else converged it between the read and the write.
    return dict(row, action="none")


def untraced_functions(hops):
    """The function ARNs (or the notes of hops in error without one) of the Lambda hops that do not trace (a traced
    function whose execution role may not write to X-Ray among them)."""
    return [hop.get("function_arn") or hop.get("note") for hop in hops or [] if hop_breaks_trace(hop)]


def with_hops(rows, hops):
    """The rows with their stage's hops (tracing_sweep_whole_path): ``hops`` {"<api id>/<stage>": hops}. The gateway
    hop says the stage's tracing after this run. A stage meant to be traced whose gateway traces but a Lambda hop
    does not gets a reason that names the functions (model.row_category counts it non-compliant)."""
    out = []
    for row in rows:
        stage_hops = hops.get(f"{row['rest_api_id']}/{row['stage_name']}")
        if stage_hops is None or row["action"] == "error":
            out.append(row)
            continue
        after = row["tracing_enabled_after"]
        stage_hops = [
            dict(hop, tracing="traced" if after else "not_traced", note=GATEWAY_NOTES[bool(after)])
            if hop["kind"] == "gateway" and after is not None else dict(hop)
            for hop in stage_hops
        ]
        row = dict(row, hops=stage_hops)
        untraced = untraced_functions(stage_hops)
        if row["desired"] is True and after is True and untraced:
            hops_said = "%s %s" % ("Lambda hop" if len(untraced) == 1 else "Lambda hops", "; ".join(sorted(set(str(item) for item in untraced))))
            if row["action"] == "none":
                row["reason"] = "the gateway traces, but not the whole path: " + hops_said
            else:
                # The gateway is (or would be) traced by this run: its reason stays, the path's break is said after it.
                row["reason"] = "%s; with the gateway traced, the whole path still does not trace: %s" % (row["reason"], hops_said)
        out.append(row)
    return out


def whole_path_breaks(row):
    """Whether tracing_sweep_whole_path makes a row that should be traced non-compliant: a Lambda hop does not trace."""
    return row.get("hops") is not None and row["desired"] is True and not whole_path_traced(row["hops"])


def target_rows(plan, converge=None, check_mode=False, refused=None):
    """Rows (ROW_FIELDS, in plan order) for one target. Inputs are not modified.

    converge: the registered apigw_stage_tracing result, or None when no call was made.
    refused: None, or the reason the max-changes guard refused this run's changes.
    """
    if not isinstance(plan, Mapping) or not isinstance(plan.get("stages"), list):
        raise ValueError("plan: must be the result of sweep_plan (a mapping with stages, changes, exemptions)")
    if converge is not None and not isinstance(converge, Mapping):
        raise ValueError("converge: must be the registered result of apigw_stage_tracing, or null")
    if _is_skipped_task(converge):
        converge = None
    index = _converge_index(converge) if converge is not None else None
    rows = []
    for stage in plan["stages"]:
        before = None if stage["tracing_enabled_before"] is None else bool(stage["tracing_enabled_before"])
        row = {
            "account_id": stage["account_id"],
            "region": stage["region"],
            "rest_api_id": str(stage["rest_api_id"]),
            "rest_api_name": stage["rest_api_name"],
            "stage_name": str(stage["stage_name"]),
            "arn": stage["arn"],
            "tracing_enabled_before": before,
            "tracing_enabled_after": before,
            "desired": stage["desired"],
            "action": None,
            "reason": str(stage["reason"]),
        }
        decision = stage["decision"]
        if decision == "error":
            # Stages of an API that could not be read: nothing is known about them, nothing was changed.
            row = dict(row, tracing_enabled_before=None, tracing_enabled_after=None, desired=None, action="error")
        elif decision == "exempt":
            row = dict(row, desired=None, action="exempt")
        elif decision == "skip":
            row = dict(row, desired=None, action="skipped")
        elif before == stage["desired"]:
            row["action"] = "none"
        elif refused:
            row = dict(row, action="refused", reason=refused_reason(refused))
        else:
            row = _changed_row(row, converge, index, check_mode)
        rows.append(row)
    return rows
