# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sample stages, targets and a report schema validator shared by the sweep's unit tests."""

from __future__ import annotations

import datetime
import json
import os

import jsonschema

from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.rows import target_rows
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._policy.decide import plan_target
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._report.model import build_report

TODAY = datetime.date(2026, 3, 15)
ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
REGION = "us-east-1"
TARGET = {"account_id": ACCOUNT, "region": REGION}
SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "report.schema.json")


def stage(api_id="a1b2c3d4e5", api_name="orders", name="prod", enabled=False, tags=None, region=REGION, partition="aws"):
    """A stage as apigw_stage_tracing_info returns it (the keys the policy reads, plus one it ignores)."""
    return {
        "rest_api_id": api_id,
        "rest_api_name": api_name,
        "stage_name": name,
        "arn": f"arn:{partition}:apigateway:{region}::/restapis/{api_id}/stages/{name}",
        "tracing_enabled": enabled,
        "tags": {} if tags is None else tags,
        "deployment_id": "x1y2z3",
    }


def stage_arn(api_id, name, region=REGION):
    return f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{name}"


def converged(changes, before=None, failures=(), missing=(), check_mode=False):
    """A registered apigw_stage_tracing result for changes that all succeeded, except failures/missing."""
    skipped = {(item["rest_api_id"], item["stage_name"]) for item in list(failures) + list(missing)}
    stages = []
    for change in changes:
        key = (change["rest_api_id"], change["stage_name"])
        if key in skipped:
            continue
        was = (before or {}).get(key, not change["tracing_enabled"])
        stages.append(
            {
                "rest_api_id": key[0],
                "stage_name": key[1],
                "arn": stage_arn(*key),
                "tracing_enabled_before": was,
                "tracing_enabled": change["tracing_enabled"],
                "changed": was != change["tracing_enabled"],
            }
        )
    result = {"changed": any(item["changed"] for item in stages), "stages": stages, "missing": list(missing)}
    if failures:
        result.update(failed=True, failures=list(failures), msg="1 of the stages failed")
    if check_mode:
        result["check_mode"] = True
    return result


def record(host, rows, plan=None, account_id=ACCOUNT, region=REGION, account_name=None, status="ok", error=None):
    """A per-target record as the role hands to sweep_report."""
    return {
        "host": host,
        "account_id": account_id,
        "account_name": account_name,
        "region": region,
        "status": status,
        "error": error,
        "rows": rows,
        "exemptions": plan["exemptions"] if plan else [],
        "planned_changes": len(plan["changes"]) if plan else 0,
    }


def planned_rows(stages, target=None, check_mode=False, converge=None, refused=None, **policy):
    """(plan, rows) for stages under a policy, as the role computes them."""
    plan = plan_target(stages, target or TARGET, today=TODAY, **policy)
    return plan, target_rows(plan, converge=converge, check_mode=check_mode, refused=refused)


def load_schema():
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return json.load(handle)


def schema_errors(report):
    """Messages of every way the report breaks docs/report.schema.json (empty when it conforms)."""
    validator = jsonschema.Draft202012Validator(load_schema())
    return sorted(f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message}" for error in validator.iter_errors(report))


# ---- a report with every kind of stage ------------------------------------------------------------------

GENERATED_AT = "2026-03-15T12:00:00+00:00"
EXEMPTIONS = [
    {"arn": stage_arn("e1e2e3e4e5", "prod"), "reason": "vendor managed", "expires": "2026-12-31"},
    {"api_name": "legacy-*", "stage_name": "v1", "reason": "retiring", "expires": datetime.date(2025, 1, 31)},
    {"account_id": "333333333333", "reason": "never matches"},
]
POLICY = {
    "rules": [{"name": "sandboxes", "match": {"api_name": "sandbox-*"}, "skip": True}],
    "exemptions": EXEMPTIONS,
    "exempt_tag": "XrayExempt",
}


def east_stages():
    return [
        stage(api_id="a1b2c3d4e5", api_name="orders", name="prod", enabled=False),  # enabled
        stage(api_id="a1b2c3d4e5", api_name="orders", name="dev", enabled=True),  # none
        stage(api_id="b1b2c3d4e5", api_name="billing", name="prod", enabled=False),  # fails
        stage(api_id="e1e2e3e4e5", api_name="vendor", name="prod", enabled=False),  # exempt (arn)
        stage(api_id="f1f2f3f4f5", api_name="sandbox-1", name="dev", enabled=False),  # skipped by rule
        stage(api_id="c1c2c3c4c5", api_name="legacy-shop", name="v1", enabled=False),  # expired exemption: enabled
        stage(api_id="d1d2d3d4d5", api_name=None, name="tagged", enabled=False, tags={"XrayExempt": ""}),  # exempt (tag)
    ]


def enforce_records():
    """Three targets: one converged with a failure, one with its changes refused, one failed outright."""
    plan = plan_target(east_stages(), TARGET, today=TODAY, **POLICY)
    failure = {"rest_api_id": "b1b2c3d4e5", "stage_name": "prod", "error_code": "AccessDeniedException", "message": "denied | no PATCH"}
    east_plan, east_rows = planned_rows(east_stages(), converge=converged(plan["changes"], failures=[failure]), **POLICY)

    west_target = {"account_id": OTHER_ACCOUNT, "region": "us-west-2"}
    west_stages = [stage(api_id="a1b2c3d4e5", name="prod", region="us-west-2"), stage(api_id="a1b2c3d4e5", name="qa", region="us-west-2", enabled=True)]
    west_plan, west_rows = planned_rows(west_stages, target=west_target, refused="1 changes planned, more than tracing_sweep_max_changes=0", **POLICY)
    return [
        record("west", west_rows, west_plan, account_id=OTHER_ACCOUNT, region="us-west-2", account_name="payments"),
        record("east", east_rows, east_plan, account_name="shop"),
        record("broken", [], None, account_id="444444444444", region="eu-west-1", status="error", error="Unable to assume role"),
    ]


def build_enforce_report():
    return build_report(enforce_records(), "enforce", GENERATED_AT, exemptions=EXEMPTIONS, max_changes=0)


def build_audit_report():
    plan, rows = planned_rows(east_stages(), check_mode=True, **POLICY)
    return build_report([record("east", rows, plan)], "audit", GENERATED_AT, exemptions=EXEMPTIONS)


# ---- report["since_baseline"] as the run history writes it (report.md and report.html render it) ----------------


def stage_ref(api_id="a1b2c3d4e5", api_name="orders", name="prod", category="noncompliant", account_id=ACCOUNT, account_name="shop", region=REGION):
    return {
        "account_id": account_id, "account_name": account_name, "region": region, "rest_api_id": api_id,
        "rest_api_name": api_name, "stage_name": name, "arn": stage_arn(api_id, name, region), "category": category,
    }


def stage_change(before, after, cause, corrected=False, **ref):
    return dict(stage_ref(category=after, **ref), before=before, after=after, cause=cause, corrected=corrected)


def trend_point(index, percent, noncompliant=1, verdict="noncompliant", mode="audit"):
    return {
        "id": f"202611{index + 1:02d}T003000000000Z", "generated_at": f"2026-11-{index + 1:02d}T00:30:00+00:00",
        "mode": mode, "compliance_percent": percent, "noncompliant": noncompliant, "verdict": verdict,
    }


def since_baseline_compared(trend=(40.0, 55.0, None, 60.0, 80.0)):
    """A comparison with a baseline: one stage of each kind of change, and a trend with a run that evaluated nothing."""
    return {
        "status": "compared",
        "reason": None,
        "history": "s3://tracing-history/sweeps",
        "run_id": "20261202T003000123456Z",
        "baseline": {"id": "20261201T003000123456Z", "generated_at": "2026-12-01T00:30:00+00:00", "mode": "audit",
                     "compliance_percent": 60.0, "verdict": "noncompliant"},
        "counts": {"new": 1, "new_noncompliant": 1, "removed": 1, "regressed": 1, "fixed": 1},
        "new": [stage_ref(api_id="n1n2n3n4n5", api_name="fresh", name="prod")],
        "removed": [stage_ref(api_id="r1r2r3r4r5", api_name="retired", name="v0", category="compliant")],
        "regressed": [stage_change("compliant", "noncompliant", "tracing was turned off outside the sweep", api_id="g1g2g3g4g5", api_name="regress")],
        "fixed": [stage_change("noncompliant", "compliant", "enabled by this run", corrected=True, api_id="f1f2f3f4f5", api_name="fixed")],
        "trend": [trend_point(index, percent) for index, percent in enumerate(trend)],
    }


def since_baseline_none(reason="the history has no earlier run of this scope"):
    return {
        "status": "no_baseline", "reason": reason, "history": "/var/lib/tracing-history", "run_id": "20261202T003000123456Z",
        "baseline": None, "counts": {"new": 0, "new_noncompliant": 0, "removed": 0, "regressed": 0, "fixed": 0},
        "new": [], "removed": [], "regressed": [], "fixed": [], "trend": [trend_point(0, 80.0)],
    }


def build_big_report(accounts=500, stages_per_account=20):
    """accounts x stages_per_account stages in audit, every account a different share compliant."""
    records = []
    for number in range(accounts):
        account_id = f"{100000000000 + number:012d}"
        target = {"account_id": account_id, "region": REGION}
        stages = [stage(api_id=f"a{index:09d}", api_name=f"api-{index}", name="prod", enabled=index <= number % stages_per_account)
                  for index in range(stages_per_account)]
        plan, rows = planned_rows(stages, target=target, check_mode=True)
        records.append(record(f"host{number:04d}", rows, plan, account_id=account_id, account_name=f"team {number}"))
    return build_report(records, "audit", GENERATED_AT)


def build_half_failed_report(mode="audit"):
    """Two accounts of two regions each, one region of each failed and every stage of the others compliant:
    100% of the evaluated stages, 2 of 4 targets lost."""
    records = []
    for account_id, name in ((ACCOUNT, "shop"), (OTHER_ACCOUNT, "payments")):
        target = {"account_id": account_id, "region": REGION}
        plan, rows = planned_rows([stage(enabled=True), stage(api_id="b1b2c3d4e5", api_name="billing", enabled=True)], target=target,
                                  check_mode=mode == "audit")
        records.append(record(f"{name}_{REGION}", rows, plan, account_id=account_id, account_name=name))
        records.append(record(f"{name}_eu-west-1", [], None, account_id=account_id, region="eu-west-1", account_name=name, status="error",
                              error="GetRestApis: 8 server errors (HTTP 503)"))
    return build_report(records, mode, GENERATED_AT)


def since_baseline_regressed(count):
    """A comparison where ``count`` stages regressed (the first put back by this run), nothing else changed."""
    since = since_baseline_compared()
    since["regressed"] = [
        stage_change("compliant", "noncompliant", f"tracing_enabled is false, desired true (#{index + 1})", corrected=index == 0,
                     api_id=f"g{index:09d}", api_name="regress")
        for index in range(count)
    ]
    since["counts"] = dict(since["counts"], regressed=count)
    return since
