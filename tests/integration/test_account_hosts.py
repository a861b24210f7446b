# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host that stands for a whole account (tracing_sweep_regions, the accounts inventory's host_per: account).

Each region of such a host is a target of its own, named <host>_<region> as the per-region layout names its host, and
swept on threads inside the host's one task: the report, the run history, the guard, the rollback and the host's
status are those of one host per region, at a fraction of Ansible's cost per host. Real ansible-playbook, the estate
of tools/sweep_world.py on moto.
"""

from __future__ import annotations

import collections
import copy
import re

from sweep_run import Sweep
from sweep_world import AUDIT_TRUTH
from sweep_world import POLICY
from sweep_world import accounts_inventory
from sweep_world import role_arn
from sweep_world import static_inventory
from sweep_world import tracing_state
from sweep_world import write_yaml

AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"
ROLLBACK = "cloudops.apigw_tracing.rollback"
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=(\d+)", re.MULTILINE)


def account_inventory(regions_of=None):
    """static_inventory() with one host per account, named by the account, its regions in tracing_sweep_regions."""
    per_region = static_inventory()
    hosts = {}
    for name, host_vars in per_region["all"]["hosts"].items():
        account, dummy, region = name.partition("_")
        host = hosts.setdefault(account, {key: value for key, value in host_vars.items() if key != "tracing_sweep_region"})
        host.setdefault("tracing_sweep_regions", []).append(region)
    for account, regions in (regions_of or {}).items():
        hosts[account]["tracing_sweep_regions"] = regions
    per_region["all"]["hosts"] = hosts
    return per_region


def run_sweep(run_playbook, tmp_path, playbook, inventory, name, extra=None, check=False):
    variables = copy.deepcopy(POLICY)
    variables.update(tracing_sweep_report_dir=str(tmp_path / name), **(extra or {}))
    path = write_yaml(tmp_path / ("%s.yml" % name), inventory)
    return Sweep(run_playbook(playbook, variables, check=check, inventory=path), tmp_path / name)


def calls(aws):
    return collections.Counter(request.operation for request in aws.requests)


def recap(run):
    return {host: int(failed) for host, failed in RECAP_LINE.findall(run.stdout)}


def test_an_account_host_reports_what_one_host_per_region_reports(run_playbook, tmp_path, estate):
    """The same targets, rows, verdict and calls in both layouts; the run history sees the same targets, so that
    changing layout raises no drift."""
    history = {"tracing_sweep_history": str(tmp_path / "history")}
    per_region = run_sweep(run_playbook, tmp_path, AUDIT, static_inventory(), "per-region", history, check=True)
    per_region_calls = calls(estate)
    estate.clear()

    per_account = run_sweep(run_playbook, tmp_path, AUDIT, account_inventory(), "per-account", history, check=True)

    assert per_account.run.rc == per_region.run.rc == 0, per_account.run.describe()
    assert {(row[0], row[1], row[2], row[3]): row_value["action"] for row, row_value in per_account.rows().items()} == {
        key: action for key, (dummy, action) in AUDIT_TRUTH.items()}
    assert per_account.rows() == per_region.rows()
    assert {host: (t["status"], t["account_id"], t["region"]) for host, t in per_account.targets().items()} == {
        host: (t["status"], t["account_id"], t["region"]) for host, t in per_region.targets().items()}
    assert sorted(per_account.targets()) == ["prod_eu-west-1", "prod_us-east-1", "staging_eu-west-1", "staging_us-east-1",
                                             "tooling_eu-west-1", "tooling_us-east-1"]
    assert per_account.report["verdict"] == per_region.report["verdict"]
    # The same AWS calls: one AssumeRole (or GetCallerIdentity) and one GetRestApis per account and region.
    assert calls(estate) == per_region_calls
    since = per_account.report["since_baseline"]
    assert since["status"] == "compared" and not any(since["counts"].values()), since
    # Three hosts in the play, not six.
    assert set(recap(per_account.run)) == {"localhost", "prod", "staging", "tooling"}


def test_a_failed_region_fails_its_account_host_naming_it_and_the_others_are_swept(run_playbook, tmp_path, estate):
    estate.deny("AssumeRole", role_arn=role_arn("222222222222"), region="eu-west-1")

    run = run_sweep(run_playbook, tmp_path, AUDIT, account_inventory(), "audit", check=True)

    assert run.run.rc == 2, run.run.describe()
    targets = run.targets()
    assert targets["staging_eu-west-1"]["status"] == "error" and targets["staging_us-east-1"]["status"] == "ok"
    assert recap(run.run) == {"localhost": 1, "prod": 0, "staging": 1, "tooling": 0}
    [message] = [entry["result"]["msg"] for entry in run.run.entries
                 if entry["host"] == "staging" and entry["status"] == "failed" and entry["task"].startswith("Fail this target")]
    assert message.startswith("staging_eu-west-1: Could not assume role %s in eu-west-1" % role_arn("222222222222")), message
    assert ("222222222222", "us-east-1", "cat2222use", "dev") in run.rows()


def test_an_enforcement_on_account_hosts_is_guarded_and_rolled_back_region_by_region(run_playbook, tmp_path, estate):
    before = tracing_state(estate)
    guarded = run_sweep(run_playbook, tmp_path, ENFORCE, account_inventory(), "guarded", {"tracing_sweep_max_changes": 4})
    # The guard sees the planned changes of every region of every account host (5 in all) before any change.
    assert guarded.run.rc == 2 and "UpdateStage" not in calls(estate), guarded.run.describe()
    assert guarded.summary["planned_changes"] == 5

    enforced = run_sweep(run_playbook, tmp_path, ENFORCE, account_inventory(), "enforce")

    assert enforced.run.rc == 0, enforced.run.describe()
    assert enforced.summary["changed"] == 5 and calls(estate)["UpdateStage"] == 5
    assert all(tracing_state(estate)[key] for key, (dummy, action) in AUDIT_TRUTH.items() if action == "would_enable")

    rolled = run_playbook(ROLLBACK, {"tracing_sweep_rollback_report": str(enforced.report_dir / "report.json"),
                                     "tracing_sweep_report_dir": str(tmp_path / "rollback")},
                          inventory=write_yaml(tmp_path / "rollback.yml", account_inventory()))

    assert rolled.rc == 0, rolled.describe()
    assert tracing_state(estate) == before


def test_regions_that_break_the_rule_fail_the_host_before_any_aws_call(run_playbook, tmp_path, estate):
    inventory = account_inventory({"staging": ["us-east-1", "eu-wset-1", "us-east-1"]})

    run = run_sweep(run_playbook, tmp_path, AUDIT, inventory, "bad", check=True)

    assert run.run.rc == 2, run.run.describe()
    error = run.targets()["staging"]["error"]
    assert "tracing_sweep_regions[1]: " in error and "eu-wset-1" in error and "did you mean eu-west-1?" in error, error
    assert "tracing_sweep_regions[2]: 'us-east-1' is listed twice" in error, error
    assert not [request for request in estate.requests if request.role_arn == role_arn("222222222222") or request.account == "222222222222"]
    assert recap(run.run)["staging"] == 1 and recap(run.run)["prod"] == 0


def test_a_remediation_on_an_account_host_sweeps_only_the_events_region(run_playbook, tmp_path, estate):
    variables = copy.deepcopy(POLICY)
    variables.update({
        "apigw_tracing_event_account_id": "111111111111",
        "apigw_tracing_event_region": "eu-west-1",
        "tracing_sweep_stages": [{"rest_api_id": "ord1111euw", "stage_name": "prod"}],
        "apigw_tracing_remediation_dir": str(tmp_path / "remediations"),
    })

    run = run_playbook("cloudops.apigw_tracing.remediate", variables, inventory=write_yaml(tmp_path / "accounts.yml", account_inventory()))

    assert run.rc == 0, run.describe()
    [where] = sorted((tmp_path / "remediations").iterdir())
    report = Sweep(run, where).report
    assert [target["host"] for target in report["targets"]] == ["prod_eu-west-1"]
    assert [(row["stage_name"], row["action"]) for row in report["stages"]] == [("prod", "enabled")]
    made = calls(estate)
    assert (made["AssumeRole"], made["GetStage"], made["UpdateStage"], made["GetStages"], made["GetRestApis"]) == (1, 1, 1, 0, 0), made
    assert tracing_state(estate)[("111111111111", "eu-west-1", "ord1111euw", "prod")]


def test_the_accounts_inventory_with_one_host_per_account_sweeps_every_account_and_region(run_playbook, tmp_path, estate):
    inventory = dict(accounts_inventory(), host_per="account")

    run = run_sweep(run_playbook, tmp_path, AUDIT, inventory, "estate.accounts", check=True)

    assert run.run.rc == 0, run.run.describe()
    assert {(row[0], row[1], row[2], row[3]): value["action"] for row, value in run.rows().items()} == {
        key: action for key, (dummy, action) in AUDIT_TRUTH.items()}
    assert sorted(run.targets()) == ["prod_eu-west-1", "prod_us-east-1", "staging_eu-west-1", "staging_us-east-1",
                                     "tooling_eu-west-1", "tooling_us-east-1"]
    assert set(recap(run.run)) == {"localhost", "prod", "staging", "tooling"}
