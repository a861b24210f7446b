# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The run history: the location rule, the comparison with the baseline, the state a run leaves, the local store."""

from __future__ import annotations

import json

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import history_location_problem
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils import _history as history
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._sweep_run import since_baseline_lines
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._sweep_run import since_baseline_stats
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils.sweep_settings import settings_problems

PROD = "111111111111"
DEV = "222222222222"


def arn(api, stage, region="us-east-1"):
    return f"arn:aws:apigateway:{region}::/restapis/{api}/stages/{stage}"


def row(account, api, stage, action="none", before=True, desired=True, region="us-east-1", reason="desired state"):
    after = {"would_enable": True, "would_disable": False, "enabled": True, "disabled": False}.get(action, before)
    return {
        "account_id": account, "account_name": None, "region": region, "rest_api_id": api, "rest_api_name": api, "stage_name": stage,
        "arn": arn(api, stage, region), "tracing_enabled_before": None if action == "error" else before,
        "tracing_enabled_after": None if action == "error" else after,
        "desired": None if action in ("exempt", "error") else desired, "action": action, "reason": reason,
    }


def report(rows, targets=None, mode="audit", exemptions=(), generated_at="2026-12-02T03:00:00Z"):
    targets = [{"host": "prod", "account_id": PROD, "region": "us-east-1", "status": "ok"}] if targets is None else targets
    return {
        "generated_at": generated_at, "mode": mode, "verdict": "compliant", "targets": targets, "stages": rows,
        "exemptions": list(exemptions), "summary": {"compliance_percent": 100.0, "noncompliant": 0},
    }


def state_of(rep, identifier="20261201T030000.000000Z", baseline=None):
    return history.new_state(rep, identifier, baseline)


@pytest.mark.parametrize("value", ["", None, "history", "/var/lib/tracing/history", "~/h", "s3://tracing-history", "s3://my.bucket-1/nightly/audit/",
                                   "s3://abc/a b/c=d"])
def test_good_history_locations(value):
    assert history_location_problem(value) is None


@pytest.mark.parametrize("value", [
    "s3://Bad_Bucket/x", "s3://ab", "s3://-abc", "s3://a..b", "s3://192.168.1.1/x", "s3://bucket//x", "s3:///x", "s3://", "s3:/bucket",
    "S3://bucket", "s3://bucket/\x1b", "https://example.com/h", "file:///tmp/h", " /tmp/h", "/tmp/h\n", True, 5, ["a"],
])
def test_bad_history_locations_name_the_variable_and_the_rule(value):
    message = history_location_problem(value)
    assert message.startswith("tracing_sweep_history: ")
    assert "must be a directory on the controller or an S3 location" in message


def test_s3_location_and_local_location():
    assert history.location("s3://b-1/p/q/") == ("s3", ("b-1", "p/q"))
    assert history.location("s3://b-1") == ("s3", ("b-1", ""))
    kind, where = history.location("rel")
    assert kind == "local" and where.endswith("/rel")
    assert history.describe_location(("s3", ("b-1", ""))) == "s3://b-1"


def test_regression_new_removed_and_fixed():
    baseline = state_of(report([row(PROD, "a", "prod"), row(PROD, "a", "old"), row(PROD, "b", "dev", action="would_enable", before=False)]))
    now = report([
        row(PROD, "a", "prod", action="would_enable", before=False), row(PROD, "b", "dev"), row(PROD, "c", "new", action="would_enable", before=False),
    ])
    lists, counts = history.compare(now, baseline)
    assert counts == {"new": 1, "new_noncompliant": 1, "removed": 1, "regressed": 1, "fixed": 1}
    assert lists["regressed"][0]["arn"] == arn("a", "prod")
    assert lists["regressed"][0]["cause"] == "tracing_enabled is false, desired true"
    assert (lists["regressed"][0]["before"], lists["regressed"][0]["after"], lists["regressed"][0]["corrected"]) == ("compliant", "noncompliant", False)
    assert lists["removed"][0]["arn"] == arn("a", "old") and lists["removed"][0]["category"] == "compliant"
    assert lists["fixed"][0]["cause"] == "found compliant"
    assert lists["new"][0]["category"] == "noncompliant"


def test_an_enforcement_that_put_a_stage_back_still_reports_the_drift():
    baseline = state_of(report([row(PROD, "a", "prod")]))
    lists, counts = history.compare(report([row(PROD, "a", "prod", action="enabled", before=False)], mode="enforce"), baseline)
    assert counts["regressed"] == 1 and lists["regressed"][0]["corrected"] is True
    assert lists["regressed"][0]["category"] == "compliant"


def test_an_expired_exemption_is_a_regression_naming_the_exemption():
    baseline = state_of(report([row(PROD, "a", "prod", action="exempt", before=False, reason="exempt: exemption 0")]))
    expired = {"index": 0, "reason": "load test", "expires": "2026-11-30", "status": "expired", "stages": [arn("a", "prod")]}
    now = report([row(PROD, "a", "prod", action="would_enable", before=False)], exemptions=[expired])
    lists, counts = history.compare(now, baseline)
    assert counts["regressed"] == 1
    assert lists["regressed"][0]["before"] == "exempt"
    assert lists["regressed"][0]["cause"] == "exemption 1 expired on 2026-11-30 (load test)"


def test_a_failed_target_is_not_compared_and_its_state_is_carried_over():
    targets = [{"host": "prod", "account_id": PROD, "region": "us-east-1", "status": "ok"},
               {"host": "dev", "account_id": DEV, "region": "us-east-1", "status": "ok"}]
    first = state_of(report([row(PROD, "a", "prod"), row(DEV, "d", "dev")], targets=targets))
    failed = [targets[0], dict(targets[1], status="error", account_id=None)]
    night2 = report([row(PROD, "a", "prod")], targets=failed)
    lists, counts = history.compare(night2, first)
    assert counts["removed"] == 0  # dev's stage is not "removed": dev was not swept
    second = state_of(night2, "20261202T030000.000000Z", first)
    assert [item["arn"] for item in second["stages"] if item["host"] == "dev"] == [arn("d", "dev")]
    assert second["hosts"] == ["dev", "prod"]
    # The third night dev is back, with its stage off: the drift since the first night is found.
    night3 = report([row(PROD, "a", "prod"), row(DEV, "d", "dev", action="would_enable", before=False)], targets=targets)
    lists, counts = history.compare(night3, second)
    assert counts["regressed"] == 1 and lists["regressed"][0]["account_id"] == DEV


def test_stages_of_an_api_that_could_not_be_read_are_not_removed():
    baseline = state_of(report([row(PROD, "a", "prod"), row(PROD, "a", "dev")]))
    now = report([dict(row(PROD, "a", "*", action="error", reason="AccessDenied"), arn="arn:aws:apigateway:us-east-1::/restapis/a")])
    lists, counts = history.compare(now, baseline)
    assert counts == {"new": 0, "new_noncompliant": 0, "removed": 0, "regressed": 0, "fixed": 0}
    carried = state_of(now, "x2", baseline)
    assert sorted(item["stage_name"] for item in carried["stages"]) == ["dev", "prod"]


def test_the_trend_keeps_ten_earlier_runs_and_this_one():
    state = None
    for night in range(14):
        state = state_of(report([row(PROD, "a", "prod")], generated_at=f"2026-12-{night + 1:02d}T03:00:00Z"), f"run{night:02d}", state)
    assert [entry["id"] for entry in state["trend"]] == [f"run{night:02d}" for night in range(3, 14)]


def test_the_same_targets_have_the_same_scope_whatever_their_order():
    one = report([], targets=[{"host": "b", "status": "ok"}, {"host": "a", "status": "error"}])
    two = report([], targets=[{"host": "a", "status": "ok"}, {"host": "b", "status": "ok"}])
    three = report([], targets=[{"host": "a", "status": "ok"}])
    assert history.scope_of(one) == history.scope_of(two) != history.scope_of(three)


def test_local_store_round_trip_baseline_and_other_scope(tmp_path):
    store = history.LocalStore(str(tmp_path / "h"))
    store.prepare()
    first = history.Comparison(store, report([row(PROD, "a", "prod")]), identifier="20261201T030000.000000Z")
    assert first.since_baseline["status"] == "no_baseline" and "first baseline" in first.since_baseline["reason"]
    where = first.store_run(report([row(PROD, "a", "prod")]), {"json": "{}\n"}, {"json": "report.json"})
    assert where.endswith("/20261201T030000.000000Z")
    second = history.Comparison(store, report([row(PROD, "a", "prod", action="would_enable", before=False)]), identifier="20261202T030000.000000Z")
    assert second.since_baseline["status"] == "compared" and second.since_baseline["counts"]["regressed"] == 1
    assert second.since_baseline["baseline"]["id"] == "20261201T030000.000000Z"
    assert [entry["id"] for entry in second.since_baseline["trend"]] == ["20261201T030000.000000Z", "20261202T030000.000000Z"]
    other = history.Comparison(store, report([], targets=[{"host": "dev", "account_id": DEV, "region": "us-east-1", "status": "ok"}]))
    assert other.since_baseline["status"] == "no_baseline"
    assert "swept other targets (1 not in it (dev); 1 of its targets not in this run (prod))" in other.since_baseline["reason"]


def test_an_incomplete_run_is_never_a_baseline(tmp_path):
    store = history.LocalStore(str(tmp_path))
    rep = report([row(PROD, "a", "prod")])
    scope, dummy = history.scope_of(rep)
    store.write(f"{scope}/20261201T030000.000000Z/report.json", "{}")  # no state.json: the run stopped half-way
    assert history.Comparison(store, rep).since_baseline["status"] == "no_baseline"


@pytest.mark.parametrize("text, problem", [
    ("{not json", "could not be read"),
    (json.dumps({"version": 2, "stages": [], "hosts": [], "trend": []}), "is not a history state of this collection"),
    (json.dumps({"version": 1, "stages": [{"arn": 1}], "hosts": [], "trend": []}), "stages[0] must have host, arn and category"),
])
def test_an_unreadable_baseline_is_a_warning_and_an_empty_comparison(tmp_path, text, problem):
    store = history.LocalStore(str(tmp_path))
    rep = report([row(PROD, "a", "prod")])
    scope, dummy = history.scope_of(rep)
    store.write(f"{scope}/20261201T030000.000000Z/state.json", text)
    comparison = history.Comparison(store, rep)
    assert comparison.since_baseline["status"] == "no_baseline"
    assert problem in comparison.warning and comparison.warning == comparison.since_baseline["reason"]
    assert comparison.since_baseline["counts"]["regressed"] == 0


def test_a_run_that_swept_nothing_is_not_kept(tmp_path):
    store = history.LocalStore(str(tmp_path))
    comparison = history.Comparison(store, report([], targets=[]))
    assert comparison.since_baseline["status"] == "no_baseline" and "nothing was swept" in comparison.since_baseline["reason"]
    assert comparison.store_run(report([], targets=[]), {"json": "{}"}, {"json": "report.json"}) is None
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("settings, refused", [
    ({"fail_on_regression": True}, True),
    ({"fail_on_regression": "yes", "history": ""}, True),
    ({"fail_on_regression": True, "history": "/tmp/h"}, False),
    ({"fail_on_regression": "false"}, False),
    ({"history": "s3://b-1/x"}, False),
])
def test_an_alert_on_regressions_needs_a_history(settings, refused):
    problems = settings_problems(settings)
    assert bool(problems) is refused, problems
    if refused:
        assert problems[0].startswith("tracing_sweep_fail_on_regression: is true, but tracing_sweep_history is not set")


def test_a_history_that_cannot_be_written_says_where_and_why(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(history.HistoryError, match="cannot write in .*file"):
        history.LocalStore(str(blocker)).prepare()


def test_lines_stats_and_the_regression_message():
    assert since_baseline_lines(None) == [] and since_baseline_stats(None) is None
    empty = history._empty("/h", "r1", "no_baseline", "first", [])
    assert since_baseline_lines(empty) == ["Since the last run: nothing to compare with (first)"]
    assert history.regression_message(empty, "/r") is None
    baseline = {"id": "r0", "generated_at": "t0", "mode": "audit", "compliance_percent": None, "verdict": "compliant"}
    since = dict(empty, status="compared", reason=None, baseline=baseline)
    cause = "tracing_enabled is false, desired true"
    change = dict(row(PROD, "a", "prod"), category="noncompliant", before="compliant", after="noncompliant", cause=cause, corrected=True)
    since.update(regressed=[change], counts=dict(empty["counts"], regressed=1))
    lines = since_baseline_lines(since)
    assert lines[0] == "Since the last run (r0, audit, compliance n/a): 1 regressed, 0 fixed, 0 new (0 non-compliant), 0 removed"
    assert lines[1].endswith("compliant -> noncompliant (tracing_enabled is false, desired true, put back by this run)")
    assert history.regression_message(since, "/r").startswith("1 stage has regressed since the last run (r0, t0): " + arn("a", "prod"))
    assert since_baseline_stats(since)["regressed"] == 1 and since_baseline_stats(since)["baseline_id"] == "r0"
