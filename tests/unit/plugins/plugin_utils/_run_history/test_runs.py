# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The run history: the location rule, what is compared with what, the checks of what is read, open regressions."""

from __future__ import annotations

import copy
import json
import os

import jsonschema
import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils._rules import history_location_problem
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._run_history import runs as history
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps import sweep as _sweep_run
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.sweep import since_baseline_lines
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._steps.sweep import since_baseline_stats
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import normalized_settings
from ansible_collections.cloudops.apigw_tracing.plugins.plugin_utils._settings.checks import settings_problems

from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import build_audit_report
from ansible_collections.cloudops.apigw_tracing.tests.unit.plugins.plugin_utils.sweep_samples import load_schema

PROD = "111111111111"
DEV = "222222222222"
NIGHT = ["202612%02dT030000.000000Z" % day for day in range(1, 29)]
PROD_TARGET = {"host": "prod", "account_id": PROD, "region": "us-east-1", "status": "ok"}
DEV_TARGET = {"host": "dev", "account_id": DEV, "region": "us-east-1", "status": "ok"}


def arn(api, stage, region="us-east-1"):
    return f"arn:aws:apigateway:{region}::/restapis/{api}/stages/{stage}"


def row(account, api, stage, action="none", before=True, desired=True, region="us-east-1", reason="desired state"):
    after = {"would_enable": True, "would_disable": False, "enabled": True, "disabled": False}.get(action, before)
    return {
        "account_id": account, "account_name": None, "region": region, "rest_api_id": api, "rest_api_name": api, "stage_name": stage,
        "arn": arn(api, stage, region), "tracing_enabled_before": None if action == "error" else before,
        "tracing_enabled_after": None if action == "error" else after,
        "desired": None if action in ("exempt", "error", "skipped") else desired, "action": action, "reason": reason,
    }


def off(account, api, stage, **extra):
    return row(account, api, stage, action="would_enable", before=False, **extra)


def report(rows, targets=None, mode="audit", exemptions=(), generated_at="2026-12-02T03:00:00Z", compliance=100.0, verdict="compliant"):
    targets = [PROD_TARGET] if targets is None else targets
    return {
        "generated_at": generated_at, "mode": mode, "verdict": verdict, "targets": targets, "stages": rows,
        "exemptions": list(exemptions),
        "summary": {"compliance_percent": compliance, "noncompliant": 0, "compliant": 1, "targets": len(targets), "targets_failed": 0, "errors": 0,
                    "stage_errors": 0},
        "run": {"errors": []},
    }


def sweep(store, rows, night, targets=None, inventory=None, includes_new=False, keep=True, **extra):
    """One run: compared with the history, then kept in it (as the report step does)."""
    rep = report(rows, targets=targets, generated_at=NIGHT[night][:8] + "T03:00:00Z", **extra)
    comparison = history.Comparison(store, rep, identifier=NIGHT[night], inventory_hosts=inventory, includes_new=includes_new)
    assert since_schema_errors(comparison.since_baseline) == []
    if keep:
        comparison.store_run(rep, {"json": "{}\n"}, {"json": "report.json"})
    return comparison


def since_schema_errors(since):
    """How since_baseline breaks its part of docs/report.schema.json (empty when it conforms)."""
    schema = load_schema()
    validator = jsonschema.Draft202012Validator(dict(schema["properties"]["since_baseline"], **{"$defs": schema["$defs"]}))
    return sorted(f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message}" for error in validator.iter_errors(since))


@pytest.fixture
def store(tmp_path):
    made = history.LocalStore(str(tmp_path / "history"))
    made.prepare()
    return made


def pointer(store):
    with open(os.path.join(store.directory, "latest.json"), encoding="utf-8") as handle:
        return json.load(handle)["run_id"]


def state_path(store, identifier):
    return os.path.join(store.directory, "runs", identifier, "state.json")


def read_state(store, identifier):
    with open(state_path(store, identifier), encoding="utf-8") as handle:
        return json.load(handle)


def write_state(store, identifier, state):
    with open(state_path(store, identifier), "w", encoding="utf-8") as handle:
        json.dump(state, handle)


# ---- where the history is --------------------------------------------------------------------------------


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


def test_a_history_that_cannot_be_written_says_where_and_why(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(history.HistoryError, match="cannot write in .*file"):
        history.LocalStore(str(blocker)).prepare()


# ---- the changes since the last run ------------------------------------------------------------------------


def test_first_run_is_the_first_baseline_then_regression_new_removed_and_fixed(store):
    first = sweep(store, [row(PROD, "a", "prod"), row(PROD, "a", "old"), off(PROD, "b", "dev")], 0)
    since = first.since_baseline
    assert since["status"] == "no_baseline" and "first baseline" in since["reason"] and since["next_baseline"] is True
    assert first.problem is None and pointer(store) == NIGHT[0]
    assert sorted(os.listdir(os.path.join(store.directory, "runs", NIGHT[0]))) == ["report.json", "state.json"]

    second = sweep(store, [off(PROD, "a", "prod"), row(PROD, "b", "dev"), off(PROD, "c", "new")], 1)
    since = second.since_baseline
    assert since["status"] == "compared" and since["baseline"]["id"] == NIGHT[0]
    assert since["counts"] == {"new": 1, "new_noncompliant": 1, "removed": 1, "regressed": 1, "fixed": 1, "regressed_new": 1, "closed": 0}
    [regressed] = since["regressed"]
    assert (regressed["arn"], regressed["before"], regressed["after"], regressed["corrected"]) == (arn("a", "prod"), "compliant", "noncompliant", False)
    assert regressed["cause"] == "tracing_enabled is false, desired true"
    assert (regressed["since"], regressed["new_this_run"], regressed["baseline"]) == (NIGHT[1], True, NIGHT[0])
    assert since["removed"][0]["arn"] == arn("a", "old") and since["removed"][0]["category"] == "compliant"
    assert since["fixed"][0]["cause"] == "found compliant"
    assert since["new"][0]["category"] == "noncompliant" and since["new"][0]["baseline"] == NIGHT[0]
    assert since["baselines"] == [{"id": NIGHT[0], "generated_at": "20261201T03:00:00Z", "targets": ["prod"]}]
    assert [entry["id"] for entry in since["trend"]] == [NIGHT[0], NIGHT[1]]


def test_an_enforcement_that_put_a_stage_back_still_reports_the_drift_and_closes_it(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    second = sweep(store, [row(PROD, "a", "prod", action="enabled", before=False)], 1, mode="enforce")
    assert second.since_baseline["counts"]["regressed"] == 1
    assert second.since_baseline["regressed"][0]["corrected"] is True and second.since_baseline["regressed"][0]["category"] == "compliant"
    assert "put back by this run" in history.regression_message(second.since_baseline, "/r")
    # It ended compliant: no regression stays open.
    assert sweep(store, [row(PROD, "a", "prod")], 2).since_baseline["counts"]["regressed"] == 0


def test_an_expired_exemption_is_a_regression_naming_the_exemption(store):
    sweep(store, [row(PROD, "a", "prod", action="exempt", before=False, reason="exempt: exemption 1")], 0)
    expired = {"index": 0, "reason": "load test", "expires": "2026-11-30", "status": "expired", "stages": [arn("a", "prod")]}
    since = sweep(store, [off(PROD, "a", "prod")], 1, exemptions=[expired]).since_baseline
    assert since["counts"]["regressed"] == 1 and since["regressed"][0]["before"] == "exempt"
    assert since["regressed"][0]["cause"] == "exemption 1 expired on 2026-11-30 (load test)"


def test_a_failed_target_is_not_compared_and_its_last_state_is_carried_over(store):
    sweep(store, [row(PROD, "a", "prod"), row(DEV, "d", "dev")], 0, targets=[PROD_TARGET, DEV_TARGET])
    failed = dict(DEV_TARGET, status="error", account_id=None)
    second = sweep(store, [row(PROD, "a", "prod")], 1, targets=[PROD_TARGET, failed])
    assert second.since_baseline["counts"]["removed"] == 0  # dev's stage is not "removed": dev was not swept
    assert "1 target failed this run and was not compared (dev)" in second.since_baseline["reason"]
    state = read_state(store, NIGHT[1])
    dev = next(target for target in state["targets"] if target["host"] == "dev")
    assert dev["run_id"] == NIGHT[0] and [stage["arn"] for stage in dev["stages"]] == [arn("d", "dev")]
    assert pointer(store) == NIGHT[1]
    # The third night dev is back, with its stage off: the drift since the first night is found, and the report
    # says which run each target was compared with.
    third = sweep(store, [row(PROD, "a", "prod"), off(DEV, "d", "dev")], 2, targets=[PROD_TARGET, DEV_TARGET]).since_baseline
    assert third["counts"]["regressed"] == 1 and third["regressed"][0]["account_id"] == DEV and third["regressed"][0]["baseline"] == NIGHT[0]
    assert [(entry["id"], entry["targets"]) for entry in third["baselines"]] == [(NIGHT[1], ["prod"]), (NIGHT[0], ["dev"])]
    assert "each target is compared with the last run that swept it" in third["reason"]


def test_stages_of_an_api_that_could_not_be_read_are_not_removed(store):
    sweep(store, [row(PROD, "a", "prod"), row(PROD, "a", "dev")], 0)
    unread = dict(row(PROD, "a", "*", action="error", reason="AccessDenied"), arn="arn:aws:apigateway:us-east-1::/restapis/a")
    since = sweep(store, [unread], 1).since_baseline
    assert since["counts"]["removed"] == 0 and since["counts"]["new"] == 0
    [target] = read_state(store, NIGHT[1])["targets"]
    assert sorted(stage["stage_name"] for stage in target["stages"]) == ["dev", "prod"]


def test_the_trend_keeps_ten_earlier_runs_and_this_one_each_with_its_own_id(store):
    for night in range(14):
        last = sweep(store, [row(PROD, "a", "prod")], night)
    assert [entry["id"] for entry in last.since_baseline["trend"]] == NIGHT[3:14]


def test_a_run_that_swept_nothing_is_not_kept(store):
    comparison = history.Comparison(store, report([], targets=[]))
    assert comparison.since_baseline["status"] == "no_baseline" and "nothing was swept" in comparison.since_baseline["reason"]
    assert comparison.store_run(report([], targets=[]), {"json": "{}"}, {"json": "report.json"}) is None
    assert not os.listdir(store.directory)


def test_an_incomplete_run_is_never_a_baseline(store):
    store.write(f"runs/{NIGHT[0]}/report.json", "{}")  # no state.json: the run stopped half-way
    assert sweep(store, [row(PROD, "a", "prod")], 1).since_baseline["status"] == "no_baseline"


# ---- the baseline is the last run really stored (finding 2) ---------------------------------------------------


def test_the_baseline_is_the_run_the_pointer_names_not_the_greatest_name(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    # A run directory with a greater name that the history never made its baseline (a partial run, a stray copy).
    sweep(store, [off(PROD, "a", "prod")], 5, inventory=["prod", "dev"])
    assert pointer(store) == NIGHT[0]
    since = sweep(store, [off(PROD, "a", "prod")], 6).since_baseline
    assert since["baseline"]["id"] == NIGHT[0] and since["counts"]["regressed"] == 1


def test_a_run_id_later_than_now_is_ignored_with_a_warning(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    # A controller whose clock was ahead stores a run of 2099: today the greatest name, and the pointer's.
    ahead = "20991231T235959.000000Z"
    history.Comparison(store, report([row(PROD, "a", "prod")]), identifier=ahead).store_run(report([row(PROD, "a", "prod")]), {}, {})
    assert pointer(store) == ahead
    # The next night (with a right clock) ignores it, says so, and compares with the newest run before now.
    comparison = sweep(store, [off(PROD, "a", "prod")], 1)
    since = comparison.since_baseline
    assert since["status"] == "compared" and since["baseline"]["id"] == NIGHT[0] and since["counts"]["regressed"] == 1
    assert comparison.problem is None and any(ahead in warning and "clock was ahead" in warning for warning in comparison.warnings)
    assert pointer(store) == NIGHT[1]
    # The night after, the same drift is not new again: it is the regression opened the night before, still open.
    since = sweep(store, [off(PROD, "a", "prod")], 2).since_baseline
    assert since["baseline"]["id"] == NIGHT[1] and since["regressed"][0]["since"] == NIGHT[1] and since["regressed"][0]["new_this_run"] is False


def test_a_pointer_ahead_of_the_clock_is_named_in_a_warning(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    store.write("latest.json", json.dumps({"version": 1, "run_id": "20991231T235959.000000Z", "generated_at": "2099-12-31T23:59:59Z"}))
    comparison = sweep(store, [off(PROD, "a", "prod")], 1)
    assert comparison.since_baseline["baseline"]["id"] == NIGHT[0] and comparison.since_baseline["counts"]["regressed"] == 1
    [warning] = comparison.warnings
    assert "names the run 20991231T235959.000000Z, later than this run" in warning and "clock was ahead" in warning
    assert comparison.since_baseline["warnings"] == [warning] and "clock was ahead" in comparison.since_baseline["reason"]
    assert comparison.problem is None and pointer(store) == NIGHT[1]


def test_a_missing_pointer_falls_back_to_the_newest_baseline_by_listing(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    sweep(store, [row(PROD, "a", "prod")], 1)
    sweep(store, [row(PROD, "a", "prod")], 2, inventory=["prod", "dev"])  # partial: never a baseline
    os.unlink(os.path.join(store.directory, "latest.json"))
    comparison = sweep(store, [off(PROD, "a", "prod")], 3)
    assert comparison.since_baseline["baseline"]["id"] == NIGHT[1] and comparison.problem is None


def test_a_pointed_run_whose_state_was_deleted_falls_back_with_a_warning(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    sweep(store, [row(PROD, "a", "prod")], 1)
    os.unlink(state_path(store, NIGHT[1]))
    comparison = sweep(store, [off(PROD, "a", "prod")], 2)
    assert comparison.since_baseline["baseline"]["id"] == NIGHT[0] and comparison.problem is None
    assert "has no" in comparison.warnings[0] and "deleted, or expired" in comparison.warnings[0]


def test_run_ids_sort_by_time():
    import datetime  # pylint: disable=import-outside-toplevel

    times = [datetime.datetime(2026, 12, day, hour, 0, 0, micro, tzinfo=datetime.timezone.utc) for day, hour, micro in
             ((2, 3, 0), (2, 3, 5), (10, 0, 0), (9, 23, 999999))]
    ids = [history.run_id(moment) for moment in times]
    assert sorted(ids) == [ids[0], ids[1], ids[3], ids[2]]
    assert all(history.RUN_ID_PATTERN.fullmatch(identifier) for identifier in ids)


# ---- each target compared with the last run that swept it (finding 3) --------------------------------------------


def test_a_new_target_does_not_hide_a_drift_in_an_old_one(store):
    sweep(store, [row(PROD, "a", "prod")], 0, inventory=["prod"])
    both = [PROD_TARGET, DEV_TARGET]
    comparison = sweep(store, [off(PROD, "a", "prod"), off(DEV, "d", "dev")], 1, targets=both, inventory=["prod", "dev"])
    since = comparison.since_baseline
    assert since["status"] == "compared" and since["counts"]["regressed"] == 1 and since["regressed"][0]["arn"] == arn("a", "prod")
    assert since["counts"]["new"] == 1 and since["counts"]["new_noncompliant"] == 1 and since["new"][0]["baseline"] is None
    assert "1 target new to the history" in since["reason"]
    assert history.regression_message(since, "/r").startswith("1 stage has regressed since the last run")
    # The next night the regression is still open: it is not lost because the scope changed.
    since = sweep(store, [off(PROD, "a", "prod"), off(DEV, "d", "dev")], 2, targets=both, inventory=["prod", "dev"]).since_baseline
    assert since["counts"]["regressed"] == 1 and since["regressed"][0]["since"] == NIGHT[1]


def test_a_limited_run_is_compared_kept_and_never_a_baseline(store):
    both = [PROD_TARGET, DEV_TARGET]
    sweep(store, [row(PROD, "a", "prod"), row(DEV, "d", "dev")], 0, targets=both, inventory=["prod", "dev"])
    limited = sweep(store, [off(PROD, "a", "prod")], 1, inventory=["prod", "dev"])
    since = limited.since_baseline
    assert since["status"] == "compared" and since["counts"]["regressed"] == 1 and since["counts"]["removed"] == 0
    assert since["out_of_scope"] == ["dev"] and since["next_baseline"] is False
    assert "1 target of the inventory is not in this run (--limit or a slice) and was not compared (dev)" in since["reason"]
    assert "it is not the baseline of later runs" in since["reason"]
    assert os.path.isfile(state_path(store, NIGHT[1])) and read_state(store, NIGHT[1])["baseline"] is False
    assert pointer(store) == NIGHT[0]
    where = history.Comparison(store, report([row(PROD, "a", "prod")]), identifier=NIGHT[2], inventory_hosts=["prod", "dev"]).store_run(
        report([row(PROD, "a", "prod")]), {}, {})
    assert where.endswith("(kept, but not the baseline of the next run: it sweeps part of its inventory)")
    # The next full run compares with the full run before the limited ones.
    full = sweep(store, [off(PROD, "a", "prod"), row(DEV, "d", "dev")], 3, targets=both, inventory=["prod", "dev"]).since_baseline
    assert full["baseline"]["id"] == NIGHT[0] and full["counts"]["regressed"] == 1


def test_a_target_that_left_the_inventory_is_removed_and_dropped(store):
    both = [PROD_TARGET, DEV_TARGET]
    sweep(store, [row(PROD, "a", "prod"), row(DEV, "d", "dev")], 0, targets=both, inventory=["prod", "dev"])
    since = sweep(store, [row(PROD, "a", "prod")], 1, inventory=["prod"]).since_baseline
    assert since["counts"]["removed"] == 1 and since["removed"][0]["arn"] == arn("d", "dev") and since["removed"][0]["baseline"] == NIGHT[0]
    assert "1 target left the inventory: its stages are removed (dev)" in since["reason"]
    assert [target["host"] for target in read_state(store, NIGHT[1])["targets"]] == ["prod"]
    assert sweep(store, [row(PROD, "a", "prod")], 2, inventory=["prod"]).since_baseline["counts"]["removed"] == 0


# ---- an alert that cannot work says so (finding 4) -----------------------------------------------------------------


class Refusing(history.LocalStore):
    """A local store whose reads (or listing) fail as S3's do when access is denied."""

    def __init__(self, directory, read=True, listing=True):
        super().__init__(directory)
        self.refuse_read, self.refuse_listing = read, listing

    def read(self, key):
        if self.refuse_read:
            raise history.HistoryError(f"cannot read {key} in s3://b/p: AccessDenied: Access Denied")
        return super().read(key)

    def runs(self):
        if self.refuse_listing:
            raise history.HistoryError("cannot list the runs in s3://b/p: AccessDenied: Access Denied")
        return super().runs()


@pytest.mark.parametrize("read, listing", [(True, False), (False, True)], ids=["GetObject-denied", "ListObjectsV2-denied"])
def test_an_unreadable_history_is_a_problem_the_run_is_kept_but_not_a_baseline(store, read, listing):
    sweep(store, [row(PROD, "a", "prod")], 0)
    if listing:
        os.unlink(os.path.join(store.directory, "latest.json"))  # so that the baseline is looked for by listing
    refusing = Refusing(store.directory, read=read, listing=listing)
    comparison = sweep(refusing, [off(PROD, "a", "prod")], 1)
    assert comparison.problem.startswith("the history could not be read, so nothing was compared: cannot ")
    assert "AccessDenied" in comparison.problem and comparison.since_baseline["problem"] == comparison.problem
    assert comparison.since_baseline["status"] == "no_baseline" and comparison.since_baseline["next_baseline"] is False
    assert os.path.isfile(state_path(store, NIGHT[1])) and read_state(store, NIGHT[1])["baseline"] is False
    if read:
        assert pointer(store) == NIGHT[0]
    # Reads work again: the drift is still reported, against the last good baseline.
    since = sweep(store, [off(PROD, "a", "prod")], 2).since_baseline
    assert since["baseline"]["id"] == NIGHT[0] and since["counts"]["regressed"] == 1 and since["problem"] is None


def test_the_problem_is_a_run_error_with_fail_on_regression_else_a_warning(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    rep = report([off(PROD, "a", "prod")])
    comparison = history.Comparison(Refusing(store.directory), rep, identifier=NIGHT[1])
    warnings = comparison.judge(rep, True)
    assert rep["verdict"] == "error" and len(rep["run"]["errors"]) == 1
    assert rep["run"]["errors"][0].startswith("tracing_sweep_history: the history could not be read")
    assert "is not the baseline of the next run, which compares with the last good baseline" in rep["run"]["errors"][0]
    assert not any("could not be read" in warning for warning in warnings)
    rep = report([off(PROD, "a", "prod")])
    warnings = history.Comparison(Refusing(store.directory), rep, identifier=NIGHT[1]).judge(rep, False)
    assert rep["verdict"] == "compliant" and rep["run"]["errors"] == []
    assert warnings[0].startswith("tracing_sweep_history: the history could not be read")


def test_an_unusable_pointed_state_falls_back_to_the_newest_usable_one_before_it(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    sweep(store, [row(PROD, "a", "prod")], 1)
    broken = read_state(store, NIGHT[1])
    broken["trend"][1]["compliance_percent"] = "85%"
    write_state(store, NIGHT[1], broken)
    comparison = sweep(store, [off(PROD, "a", "prod")], 2)
    where = f"{store.directory}/runs/{NIGHT[1]}/state.json"
    assert comparison.problem == (
        f"a baseline in the history is unusable: {where}: trend[1].compliance_percent must be a number from 0 to 100 or null, got '85%'; "
        f"compared with the newest usable baseline before it, {NIGHT[0]}"
    )
    since = comparison.since_baseline
    assert since["status"] == "compared" and since["baseline"]["id"] == NIGHT[0] and since["counts"]["regressed"] == 1
    assert comparison.problem in since["reason"]
    # It did compare: it may be the next baseline, so one corrupted file does not blind every later night.
    assert since["next_baseline"] is True and pointer(store) == NIGHT[2]
    assert sweep(store, [off(PROD, "a", "prod")], 3).problem is None


def test_an_unusable_state_with_nothing_before_it_compares_nothing_and_stays_a_problem(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    write_state(store, NIGHT[0], dict(read_state(store, NIGHT[0]), targets=[{"host": ["prod"]}]))
    for night in (1, 2):
        comparison = sweep(store, [off(PROD, "a", "prod")], night)
        assert comparison.since_baseline["status"] == "no_baseline"
        assert "targets[0].host must be a non-empty string, got ['prod']" in comparison.problem
        assert "no usable baseline before it, so nothing was compared (repair or delete the unusable file" in comparison.problem
        assert pointer(store) == NIGHT[0]
    # As the problem says: delete the unusable file, and the next run starts again from what is usable.
    os.unlink(state_path(store, NIGHT[0]))
    comparison = sweep(store, [off(PROD, "a", "prod")], 3)
    assert comparison.problem is None and comparison.since_baseline["status"] == "no_baseline" and pointer(store) == NIGHT[3]


def good_state():
    """A state as the history writes it, with one of every field filled in."""
    regression = {"since": NIGHT[0], "since_generated_at": "2026-12-01T03:00:00Z", "before": "compliant", "cause": "tracing_enabled is false"}
    stage = {"account_id": PROD, "account_name": "prod", "region": "us-east-1", "rest_api_id": "a", "rest_api_name": "a", "stage_name": "prod",
             "arn": arn("a", "prod"), "category": "noncompliant", "regression": regression}
    trend = {"id": NIGHT[0], "generated_at": "2026-12-01T03:00:00Z", "mode": "audit", "compliance_percent": 50.0, "noncompliant": 1,
             "verdict": "noncompliant"}
    return {
        "version": 1, "run_id": NIGHT[1], "generated_at": "2026-12-02T03:00:00Z", "mode": "audit", "verdict": "noncompliant",
        "compliance_percent": 0.0, "baseline": True,
        "targets": [{"host": "prod", "run_id": NIGHT[1], "generated_at": "2026-12-02T03:00:00Z", "stages": [stage]}],
        "trend": [trend, dict(trend, id=NIGHT[1])],
    }


S = "targets[0].stages[0]"
# (field path in the state, wrong value, the message's start): each must make the state unusable, never crash.
WRONG = [
    ("version", "1", "version must be 1"), ("version", True, "version must be 1"), ("version", None, "version must be 1"),
    ("version", 2, "version must be 1"),
    ("run_id", 5, "run_id must be a run id"), ("run_id", "../../etc", "run_id must be a run id"), ("run_id", NIGHT[2], "run_id is"),
    ("generated_at", None, "generated_at must be a non-empty string"), ("generated_at", ["x"], "generated_at must be"),
    ("mode", "check", "mode must be one of audit, enforce"), ("verdict", None, "verdict must be one of"),
    ("compliance_percent", "85%", "compliance_percent must be a number"), ("compliance_percent", True, "compliance_percent must be a number"),
    ("baseline", "yes", "baseline must be true or false"), ("baseline", None, "baseline must be true or false"),
    ("targets", None, "targets must be a list"), ("targets", {"prod": {}}, "targets must be a list"),
    ("targets.0", None, "targets[0] must be an object"), ("targets.0", [], "targets[0] must be an object"),
    ("targets.0.host", ["prod"], "targets[0].host must be a non-empty string"), ("targets.0.host", None, "targets[0].host must be"),
    ("targets.0.host", {"a": 1}, "targets[0].host must be"),
    ("targets.0.run_id", "yesterday", "targets[0].run_id must be a run id"), ("targets.0.generated_at", 1, "targets[0].generated_at must be"),
    ("targets.0.stages", None, "targets[0].stages must be a list"), ("targets.0.stages", "x", "targets[0].stages must be a list"),
    ("targets.0.stages.0", None, S + " must be an object"), ("targets.0.stages.0", 5, S + " must be an object"),
    ("targets.0.stages.0.account_id", ["111111111111"], S + ".account_id must be a 12-digit account id or null"),
    ("targets.0.stages.0.account_id", 111111111111, S + ".account_id must be"), ("targets.0.stages.0.account_id", "1111", S + ".account_id must be"),
    ("targets.0.stages.0.arn", None, S + ".arn must be a non-empty string"), ("targets.0.stages.0.arn", ["x"], S + ".arn must be"),
    ("targets.0.stages.0.category", "bad", S + ".category must be one of"), ("targets.0.stages.0.category", None, S + ".category must be"),
    ("targets.0.stages.0.account_name", 5, S + ".account_name must be a non-empty string or null"),
    ("targets.0.stages.0.region", [], S + ".region must be"), ("targets.0.stages.0.rest_api_id", {}, S + ".rest_api_id must be"),
    ("targets.0.stages.0.rest_api_name", False, S + ".rest_api_name must be"), ("targets.0.stages.0.stage_name", 1.5, S + ".stage_name must be"),
    ("targets.0.stages.0.regression", "open", S + ".regression must be an object"), ("targets.0.stages.0.regression", [], S + ".regression must be"),
    ("targets.0.stages.0.regression.since", None, S + ".regression.since must be a run id"),
    ("targets.0.stages.0.regression.since_generated_at", 0, S + ".regression.since_generated_at must be"),
    ("targets.0.stages.0.regression.before", "noncompliant", S + ".regression.before must be one of compliant, exempt, new"),
    ("targets.0.stages.0.regression.cause", None, S + ".regression.cause must be"),
    ("trend", None, "trend must be a list"), ("trend", {"0": 1}, "trend must be a list"),
    ("trend.1", None, "trend[1] must be an object"), ("trend.1", "x", "trend[1] must be an object"),
    ("trend.1.id", None, "trend[1].id must be a run id"), ("trend.1.id", 7, "trend[1].id must be"),
    ("trend.1.generated_at", None, "trend[1].generated_at must be"), ("trend.1.mode", "", "trend[1].mode must be one of"),
    ("trend.1.compliance_percent", "85%", "trend[1].compliance_percent must be a number from 0 to 100 or null, got '85%'"),
    ("trend.1.compliance_percent", [85], "trend[1].compliance_percent must be"), ("trend.1.compliance_percent", 185, "trend[1].compliance_percent"),
    ("trend.1.compliance_percent", float("nan"), "trend[1].compliance_percent must be"),
    ("trend.1.noncompliant", -1, "trend[1].noncompliant must be a whole number"), ("trend.1.noncompliant", 1.5, "trend[1].noncompliant must be"),
    ("trend.1.noncompliant", True, "trend[1].noncompliant must be"), ("trend.1.noncompliant", None, "trend[1].noncompliant must be"),
    ("trend.1.verdict", "ok", "trend[1].verdict must be one of compliant, noncompliant, error"),
]


def mutated(path, value):
    state = good_state()
    parts = path.split(".")
    holder = state
    for part in parts[:-1]:
        holder = holder[int(part)] if isinstance(holder, list) else holder[part]
    last = parts[-1]
    if isinstance(holder, list):
        holder[int(last)] = value
    else:
        holder[last] = value
    return state


@pytest.mark.parametrize("path, value, message", WRONG, ids=[f"{path}={value!r}" for path, value, dummy in WRONG])
def test_every_field_of_a_state_is_checked_a_wrong_one_makes_it_unusable_never_a_crash(store, path, value, message):
    store.write(f"runs/{NIGHT[1]}/state.json", json.dumps(mutated(path, value)))
    store.write("latest.json", json.dumps({"version": 1, "run_id": NIGHT[1], "generated_at": "2026-12-02T03:00:00Z"}))
    comparison = sweep(store, [off(PROD, "a", "prod")], 2)
    assert comparison.problem.startswith(f"a baseline in the history is unusable: {store.directory}/runs/{NIGHT[1]}/state.json: {message}"), comparison.problem
    assert comparison.since_baseline["status"] == "no_baseline" and pointer(store) == NIGHT[1]


def test_the_good_state_of_the_fuzz_is_usable(store):
    store.write(f"runs/{NIGHT[1]}/state.json", json.dumps(good_state()))
    store.write("latest.json", json.dumps({"version": 1, "run_id": NIGHT[1], "generated_at": "2026-12-02T03:00:00Z"}))
    comparison = sweep(store, [off(PROD, "a", "prod")], 2)
    assert comparison.problem is None and comparison.since_baseline["regressed"][0]["since"] == NIGHT[0]


@pytest.mark.parametrize("text, message", [
    (b"{not json", "is not JSON text"),
    (b"\xff\xfe\x00garbage", "is not JSON text"),
    (b"[" * 100000 + b"]" * 100000, "is not JSON text"),
    (b"[]", "the file must be an object"),
    (b"null", "the file must be an object"),
    (json.dumps({"version": 1, "run_id": NIGHT[1], "generated_at": "x", "mode": "audit"}).encode(), "verdict must be one of"),
    (json.dumps(dict(good_state(), targets=[good_state()["targets"][0]] * 2)).encode(), "targets[1].host repeats 'prod'"),
])
def test_a_state_that_is_not_json_or_not_an_object_is_unusable(store, text, message):
    os.makedirs(os.path.join(store.directory, "runs", NIGHT[1]))
    with open(state_path(store, NIGHT[1]), "wb") as handle:
        handle.write(text)
    store.write("latest.json", json.dumps({"version": 1, "run_id": NIGHT[1], "generated_at": "2026-12-02T03:00:00Z"}))
    comparison = sweep(store, [off(PROD, "a", "prod")], 2)
    assert message in comparison.problem and f"runs/{NIGHT[1]}/state.json: " in comparison.problem


@pytest.mark.parametrize("latest, message", [
    ("[1]", "latest.json: the file must be an object"),
    ('{"version": 1, "run_id": ["x"], "generated_at": "t"}', "latest.json: run_id must be a run id"),
    ('{"version": "1", "run_id": "%s", "generated_at": "t"}' % NIGHT[0], "latest.json: version must be 1"),
    ('{"version": 1, "run_id": "%s", "generated_at": null}' % NIGHT[0], "latest.json: generated_at must be"),
    ("\x00", "latest.json: is not JSON text"),
])
def test_an_unusable_pointer_is_a_problem_and_the_baseline_is_found_by_listing(store, latest, message):
    sweep(store, [row(PROD, "a", "prod")], 0)
    store.write("latest.json", latest)
    comparison = sweep(store, [off(PROD, "a", "prod")], 1)
    assert message in comparison.problem and comparison.problem.endswith(f"compared with the newest usable baseline before it, {NIGHT[0]}")
    assert comparison.since_baseline["counts"]["regressed"] == 1 and pointer(store) == NIGHT[1]


def test_no_exception_of_any_kind_escapes_the_read_or_the_compare(store):
    sweep(store, [row(PROD, "a", "prod")], 0)

    class Broken(history.LocalStore):
        def read(self, key):
            raise RuntimeError("disk on fire")

    comparison = history.Comparison(Broken(store.directory), report([off(PROD, "a", "prod")]), identifier=NIGHT[1])
    assert comparison.problem == "the comparison with the history failed, so nothing was compared: RuntimeError: disk on fire"
    assert comparison.since_baseline["status"] == "no_baseline" and comparison.eligible is False
    assert comparison.store_run(report([]), {}, {}) is None
    # A malformed report (the caller's bug) is a problem too, not a crash.
    assert "KeyError" in history.Comparison(store, {"targets": []}).problem


def test_an_unexpected_failure_while_storing_is_a_history_error(store):
    comparison = history.Comparison(store, report([row(PROD, "a", "prod")]), identifier=NIGHT[0])

    def boom(key, text):
        raise MemoryError("no room")

    store.write = boom
    with pytest.raises(history.HistoryError, match="cannot keep this run in .*MemoryError: no room"):
        comparison.store_run(report([row(PROD, "a", "prod")]), {}, {})


def test_the_pointer_never_goes_back_when_a_later_run_stored_meanwhile(store):
    early = history.Comparison(store, report([row(PROD, "a", "prod")]), identifier=NIGHT[0])
    later = history.Comparison(store, report([row(PROD, "a", "prod")]), identifier=NIGHT[1])
    later.store_run(report([row(PROD, "a", "prod")]), {}, {})
    early.store_run(report([row(PROD, "a", "prod")]), {}, {})
    assert pointer(store) == NIGHT[1] and os.path.isfile(state_path(store, NIGHT[0]))


# ---- open regressions (finding 6) ---------------------------------------------------------------------------


def test_a_regression_stays_open_until_fixed_and_re_running_with_nothing_fixed_still_fails(store):
    sweep(store, [row(PROD, "a", "prod"), row(PROD, "b", "prod")], 0)
    drifted = [off(PROD, "a", "prod"), row(PROD, "b", "prod")]
    first = sweep(store, drifted, 1).since_baseline
    assert first["counts"]["regressed"] == 1 and first["regressed"][0]["new_this_run"] is True
    for night in (2, 3):
        again = sweep(store, drifted, night).since_baseline
        assert again["counts"]["regressed"] == 1 and again["counts"]["regressed_new"] == 0
        item = again["regressed"][0]
        assert (item["since"], item["since_generated_at"], item["new_this_run"], item["before"]) == (NIGHT[1], "20261202T03:00:00Z", False, "compliant")
        assert item["cause"] == "tracing_enabled is false, desired true"
        message = history.regression_message(again, "/r")
        assert f"{arn('a', 'prod')} in {PROD} (tracing_enabled is false, desired true; open since {NIGHT[1]} (20261202T03:00:00Z))" in message
        assert "(0 first found by this run, 1 open since an earlier run)" in message
    fixed = sweep(store, [row(PROD, "a", "prod"), row(PROD, "b", "prod")], 4).since_baseline
    assert fixed["counts"]["regressed"] == 0 and fixed["counts"]["fixed"] == 1 and fixed["counts"]["closed"] == 1
    assert fixed["closed"][0]["cause"] == "found compliant" and history.regression_message(fixed, "/r") is None


@pytest.mark.parametrize("action, reason, after", [
    ("exempt", "exempt: exemption 2 (known issue, CHG-9)", "exempt"),
    ("skipped", "skipped: rule 1 (internal APIs are not traced)", "skipped"),
])
def test_an_exemption_or_a_rule_closes_an_open_regression_on_purpose(store, action, reason, after):
    sweep(store, [row(PROD, "a", "prod")], 0)
    sweep(store, [off(PROD, "a", "prod")], 1)
    since = sweep(store, [row(PROD, "a", "prod", action=action, before=False, reason=reason)], 2).since_baseline
    assert since["counts"]["regressed"] == 0 and since["counts"]["closed"] == 1
    [closed] = since["closed"]
    assert (closed["before"], closed["after"], closed["cause"], closed["since"]) == ("noncompliant", after, f"{after}: {reason}", NIGHT[1])
    # Closed for good: the exemption's end is a new regression, not the old one.
    since = sweep(store, [off(PROD, "a", "prod")], 3).since_baseline
    assert since["counts"]["regressed"] == (1 if action == "exempt" else 0)


def test_an_enforcement_that_fixes_an_open_regression_closes_it(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    sweep(store, [off(PROD, "a", "prod")], 1)
    since = sweep(store, [row(PROD, "a", "prod", action="enabled", before=False)], 2, mode="enforce").since_baseline
    assert since["counts"]["regressed"] == 0 and since["fixed"][0]["cause"] == "this run changed it" and since["counts"]["closed"] == 1


def test_a_removed_stage_closes_its_regression(store):
    sweep(store, [row(PROD, "a", "prod"), row(PROD, "b", "prod")], 0)
    sweep(store, [off(PROD, "a", "prod"), row(PROD, "b", "prod")], 1)
    since = sweep(store, [row(PROD, "b", "prod")], 2).since_baseline
    assert since["counts"]["removed"] == 1 and since["counts"]["regressed"] == 0
    assert sweep(store, [row(PROD, "b", "prod"), off(PROD, "a", "prod")], 3).since_baseline["counts"]["regressed"] == 0


def test_a_failed_target_keeps_its_open_regressions_for_the_next_run(store):
    both = [PROD_TARGET, DEV_TARGET]
    sweep(store, [row(PROD, "a", "prod"), row(DEV, "d", "dev")], 0, targets=both)
    sweep(store, [row(PROD, "a", "prod"), off(DEV, "d", "dev")], 1, targets=both)
    sweep(store, [row(PROD, "a", "prod")], 2, targets=[PROD_TARGET, dict(DEV_TARGET, status="error")])
    since = sweep(store, [row(PROD, "a", "prod"), off(DEV, "d", "dev")], 3, targets=both).since_baseline
    assert since["counts"]["regressed"] == 1 and since["regressed"][0]["since"] == NIGHT[1]


def test_new_noncompliant_stages_are_reported_and_open_a_regression_only_with_the_option(store):
    sweep(store, [row(PROD, "a", "prod")], 0)
    rows = [row(PROD, "a", "prod"), off(PROD, "n", "prod"), row(PROD, "m", "prod")]
    since = sweep(store, rows, 1, keep=False).since_baseline
    assert since["counts"]["new"] == 2 and since["counts"]["new_noncompliant"] == 1 and since["counts"]["regressed"] == 0
    since = sweep(store, rows, 1, includes_new=True).since_baseline
    assert since["counts"]["regressed"] == 1 and since["counts"]["new_noncompliant"] == 1
    [item] = since["regressed"]
    assert (item["arn"], item["before"], item["new_this_run"]) == (arn("n", "prod"), "new", True)
    assert item["cause"] == "a new stage: tracing_enabled is false, desired true"
    # Open until fixed, like any regression, even when the option is off later.
    assert sweep(store, rows, 2).since_baseline["counts"]["regressed"] == 1


def test_the_first_run_of_a_history_opens_no_regression_even_with_the_option(store):
    assert sweep(store, [off(PROD, "a", "prod")], 0, includes_new=True).since_baseline["counts"]["regressed"] == 0


# ---- settings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings, refused", [
    ({"fail_on_regression": True}, "tracing_sweep_fail_on_regression"),
    ({"fail_on_regression": "yes", "history": ""}, "tracing_sweep_fail_on_regression"),
    ({"fail_on_regression": True, "history": "/tmp/h"}, None),
    ({"fail_on_regression": "false"}, None),
    ({"history": "s3://b-1/x"}, None),
    ({"regression_includes_new": True}, "tracing_sweep_regression_includes_new"),
    ({"regression_includes_new": "true", "history": None}, "tracing_sweep_regression_includes_new"),
    ({"regression_includes_new": True, "history": "h"}, None),
    ({"regression_includes_new": "no"}, None),
])
def test_an_alert_on_regressions_needs_a_history(settings, refused):
    problems = settings_problems(settings)
    assert bool(problems) is bool(refused), problems
    if refused:
        assert problems == [f"{refused}: is true, but tracing_sweep_history is not set: without a history no run is compared with the one before, "
                            "so nothing could ever regress; set tracing_sweep_history (a directory or s3://bucket/prefix)"]


def test_regression_includes_new_is_a_boolean_read_strictly():
    assert settings_problems({"regression_includes_new": "ture", "history": "h"})[0].startswith("tracing_sweep_regression_includes_new: ")
    assert normalized_settings({"regression_includes_new": "true", "history": "h"})["regression_includes_new"] is True


# ---- what the run says --------------------------------------------------------------------------------------


def test_lines_stats_and_the_regression_message():
    assert since_baseline_lines(None) == [] and since_baseline_stats(None) is None
    empty = history._empty("/h", "r1", "no_baseline", "first", [])
    assert since_baseline_lines(empty) == ["Since the last run: nothing to compare with (first)"]
    assert history.regression_message(empty, "/r") is None
    baseline = {"id": "r0", "generated_at": "t0", "mode": "audit", "compliance_percent": None, "verdict": "compliant"}
    since = dict(empty, status="compared", reason=None, baseline=baseline)
    cause = "tracing_enabled is false, desired true"
    change = dict(row(PROD, "a", "prod"), category="noncompliant", before="compliant", after="noncompliant", cause=cause, corrected=True,
                  since="r1", since_generated_at="t1", new_this_run=True)
    since.update(regressed=[change], counts=dict(empty["counts"], regressed=1))
    lines = since_baseline_lines(since)
    assert lines[0] == "Since the last run (r0, audit, compliance n/a): 1 regressed, 0 fixed, 0 new (0 non-compliant), 0 removed"
    assert lines[1].endswith("compliant -> noncompliant (tracing_enabled is false, desired true, put back by this run)")
    assert history.regression_message(since, "/r") == (
        "1 stage has regressed since the last run (r0, t0) and is not fixed (1 first found by this run, 0 open since an earlier run): "
        f"{arn('a', 'prod')} in {PROD} (tracing_enabled is false, desired true; first found by this run, put back by this run); see /r"
    )
    assert since_baseline_stats(since)["regressed"] == 1 and since_baseline_stats(since)["baseline_id"] == "r0"


def test_the_state_a_run_leaves_is_one_the_next_run_accepts(store):
    both = [PROD_TARGET, DEV_TARGET]
    sweep(store, [row(PROD, "a", "prod"), row(DEV, "d", "dev")], 0, targets=both)
    sweep(store, [off(PROD, "a", "prod"), row(DEV, "d", "dev", action="exempt", before=False)], 1, targets=both)
    for night in (0, 1):
        state = read_state(store, NIGHT[night])
        assert history.check_state(copy.deepcopy(state), "x")["run_id"] == NIGHT[night]


# ---- the report step ------------------------------------------------------------------------------------


def test_the_report_step_makes_an_unreadable_history_a_run_error_with_the_alert(tmp_path, monkeypatch):
    def refused(self, key):
        raise history.HistoryError(f"cannot read {key} in s3://b/p: AccessDenied: Access Denied")

    monkeypatch.setattr(history.LocalStore, "read", refused)
    args = {"settings": {"history": str(tmp_path / "h"), "fail_on_regression": True}, "dest": str(tmp_path / "r"), "formats": ["json"],
            "records": [{"host": "east", "account_id": PROD, "region": "us-east-1", "status": "ok", "rows": [], "planned_changes": 0}], "hosts": ["east"],
            "mode": "audit", "inventory_hosts": ["east"]}
    result = _sweep_run.report_step(args)
    assert result["verdict"] == "error" and result["report"]["verdict"] == "error"
    assert "AccessDenied" in result["judgements"]["errors"] and "warnings" not in result
    with open(tmp_path / "r" / "report.json", encoding="utf-8") as handle:
        assert json.load(handle)["verdict"] == "error"
    result = _sweep_run.report_step(dict(args, settings={"history": str(tmp_path / "h")}))
    assert result["verdict"] == "compliant" and result["judgements"]["errors"] is None
    assert result["warnings"][0].startswith("tracing_sweep_history: the history could not be read")


def test_the_report_step_reads_a_limited_run_from_the_inventory_but_a_merge_is_the_whole_run(tmp_path):
    report = build_audit_report()
    merged = {"settings": {"history": str(tmp_path / "h")}, "dest": str(tmp_path / "m"), "formats": ["json"], "report": report,
              "merged_from": [str(tmp_path / "slice" / "report.json")], "inventory_hosts": ["localhost"]}
    assert _sweep_run.report_step(merged)["report"]["since_baseline"]["next_baseline"] is True
    limited = {"settings": {"history": str(tmp_path / "h")}, "dest": str(tmp_path / "r"), "formats": ["json"], "mode": "audit",
               "records": [{"host": "east", "account_id": PROD, "region": "us-east-1", "status": "ok", "rows": [], "planned_changes": 0}], "hosts": ["east"],
               "inventory_hosts": ["east", "west"]}
    result = _sweep_run.report_step(limited)
    assert result["report"]["since_baseline"]["next_baseline"] is False
    assert result["history"].endswith("(kept, but not the baseline of the next run: it sweeps part of its inventory)")
