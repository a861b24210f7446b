# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every run ends with a true verdict, a complete report, and no write it cannot account for.

One test (or a few) per way a scheduled run could be silently wrong: a run that sweeps nothing, a failed target
read as compliant, a verdict a scheduler cannot read, an enforcement whose record cannot be written, a report set
mixing runs, an enforcement report that hides its changes, a region playbook that reads a typo as "off", a race
reported as an error, input rules that let a newline through, a stage counted twice, an error that lost its cause,
control characters in a report, a diff nobody can read. Each runs the real ansible-playbook against the local AWS.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import REPO
from docsite import guide
from local_aws import seed
from sweep_run import Sweep
from sweep_world import AUDIT_TRUTH
from sweep_world import CALLER_ACCOUNT
from sweep_world import POLICY
from sweep_world import accounts_inventory
from sweep_world import static_inventory
from sweep_world import tracing_state
from sweep_world import write_yaml

AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"
ROLLBACK = "cloudops.apigw_tracing.rollback"
REGION = "cloudops.apigw_tracing.region_tracing"
MERGE = "cloudops.apigw_tracing.merge_reports"
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))
REPORT_FILES = ("report.json", "report.md", "report.xml", "report.csv", "report.html")
WOULD_ENABLE = sorted(key for key, (_before, action) in AUDIT_TRUTH.items() if action == "would_enable")
# No credentials anywhere: not in the environment, not in a config file of the user running the tests.
NO_CREDENTIALS = {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_CONFIG_FILE": "/nonexistent/config"}


def one_target(**host_vars):
    """An inventory of one target: the caller's account in us-east-1, swept with the controller's credentials."""
    host_vars = dict({"tracing_sweep_region": "us-east-1"}, **host_vars)
    return {"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                    "hosts": {"tooling_us-east-1": host_vars}}}


def stats_of(run):
    """The data the run published with set_stats (AWX artifacts), from the task's registered result."""
    # The report task, or the rescue's when every target failed (it writes the report then).
    names = ("Write the report of every target, once, on the controller", "Write the report when no target was left to write it, and publish it")
    entries = [entry for entry in run.entries if entry["task"].endswith(names)]
    assert entries, "no set_stats task ran; %s" % run.describe()
    return entries[-1]["result"]["ansible_stats"]["data"]


def failure_messages(run):
    return [entry["result"].get("msg", "") for entry in run.entries if entry["status"] == "failed"]


@pytest.fixture
def sweep(run_playbook, tmp_path, estate):
    """sweep(playbook, extra=None, inventory=None, check=False, diff=False, args=(), env=None, aws_env=True, report_dir=None) -> Sweep"""
    counter = iter(range(1, 100))

    def run(playbook, extra=None, inventory=None, check=False, diff=False, args=(), env=None, aws_env=True, report_dir=None, policy=None):
        report_dir = Path(report_dir) if report_dir else tmp_path / ("reports%d" % next(counter))
        extra_vars = copy.deepcopy(POLICY if policy is None else policy)
        extra_vars["tracing_sweep_report_dir"] = str(report_dir)
        extra_vars.update(extra or {})
        if inventory is None:
            inventory = write_yaml(tmp_path / "hosts.yml", static_inventory())
        result = run_playbook(playbook, extra_vars, check=check, diff=diff, inventory=inventory, args=args, env=env, aws_env=aws_env)
        return Sweep(result, report_dir)

    return run


# ==== 1. A run that sweeps nothing must not pass ====================================================

BROKEN_INVENTORIES = {
    # name: (file name, content)
    "unquoted_account_id": ("accounts.yml", "plugin: cloudops.apigw_tracing.accounts\nregions: [us-east-1]\naccounts:\n  - id: 111111111111\n"),
    "octal_account_id": ("accounts.yml", "plugin: cloudops.apigw_tracing.accounts\nregions: [us-east-1]\naccounts:\n  - id: 012345670123\n"),
    "malformed_account_id": ("accounts.yml", "plugin: cloudops.apigw_tracing.accounts\nregions: [us-east-1]\naccounts:\n  - id: \"1111-2222-3333\"\n"),
    "region_typo": ("accounts.yml", "plugin: cloudops.apigw_tracing.accounts\nregions: [us-east1]\naccounts:\n  - id: \"111111111111\"\n"),
    "no_accounts": ("accounts.yml", "plugin: cloudops.apigw_tracing.accounts\nregions: [us-east-1]\naccounts: []\n"),
    "file_named_wrong": ("prod-accounts.yml", "plugin: cloudops.apigw_tracing.accounts\nregions: [us-east-1]\naccounts:\n  - id: \"111111111111\"\n"),
}


def write_inventory(tmp_path, kind):
    name, content = BROKEN_INVENTORIES[kind]
    folder = tmp_path / kind
    folder.mkdir()
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def plant_old_reports(report_dir):
    """A complete, compliant report set from an earlier run, which a failed run must not leave standing."""
    report_dir.mkdir(parents=True)
    for name in REPORT_FILES:
        (report_dir / name).write_text('{"verdict": "compliant"}\n' if name == "report.json" else "old run\n", encoding="utf-8")


@pytest.mark.parametrize("kind", sorted(BROKEN_INVENTORIES))
def test_audit_on_a_rejected_inventory_fails_with_an_error_verdict(sweep, tmp_path, kind, estate):
    report_dir = tmp_path / "reports"
    plant_old_reports(report_dir)
    audit = sweep(AUDIT, inventory=write_inventory(tmp_path, kind), report_dir=report_dir,
                  extra={"tracing_sweep_fail_on_noncompliant": True})

    assert audit.run.rc != 0, audit.run.describe()
    message = " ".join(failure_messages(audit.run))
    assert "no target" in message and "inventory" in message and "--limit" in message, audit.run.describe()
    assert "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED" in message
    report = audit.report
    jsonschema.validate(report, SCHEMA)
    assert report["verdict"] == "error" and report["summary"]["targets"] == 0
    assert stats_of(audit.run)["tracing_sweep_verdict"] == "error"
    # The set is this run's: no file of the earlier run is left beside it.
    assert "old run" not in (report_dir / "report.md").read_text(encoding="utf-8")
    assert ET.parse(report_dir / "report.xml").getroot().get("errors") == "1"
    assert estate.requests == []


@pytest.mark.parametrize("playbook", [ENFORCE, ROLLBACK])
def test_enforce_and_rollback_on_a_rejected_inventory_fail(sweep, tmp_path, playbook, estate):
    before = tracing_state(estate)
    estate.clear()
    run = sweep(playbook, inventory=write_inventory(tmp_path, "region_typo"), extra={"tracing_sweep_rollback_report": str(tmp_path / "none.json")})

    assert run.run.rc != 0, run.run.describe()
    message = " ".join(failure_messages(run.run))
    assert "no host" in message and "--limit" in message, run.run.describe()
    assert estate.requests == []
    assert tracing_state(estate) == before


def test_a_limit_that_matches_no_host_fails(sweep, estate):
    audit = sweep(AUDIT, args=["--limit", "no_such_host"])
    assert audit.run.rc != 0
    assert estate.requests == []


def test_inventory_errors_can_be_made_fatal_as_the_docs_say(sweep, tmp_path):
    inventory_guide = guide("guide_inventory")
    awx = (REPO / "docs" / "awx.md").read_text(encoding="utf-8")
    assert "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true" in inventory_guide and "any_unparsed_is_failed" in awx
    audit = sweep(AUDIT, inventory=write_inventory(tmp_path, "region_typo"), env={"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true"})
    assert audit.run.rc != 0
    assert "us-east1" in audit.run.stdout + audit.run.stderr
    # It stopped at the inventory: no play ran.
    assert audit.run.entries == []


# ==== 2. A failed target is never compliant; 3. one verdict a scheduler can read =====================
# (The AWX verdict gate, docs/awx/project/verdict_gate.yml, reads that verdict: test_awx_docs.py runs it through ansible-runner.)


def test_a_target_without_credentials_is_an_error_in_every_format(sweep, estate, tmp_path):
    audit = sweep(AUDIT, inventory=write_yaml(tmp_path / "one.yml", one_target(tracing_sweep_account_name="tooling")),
                  aws_env=False, env=dict(NO_CREDENTIALS, AWS_ENDPOINT_URL=estate.endpoint_url, AWS_REGION="us-east-1"))

    assert audit.run.rc != 0
    summary = audit.summary
    assert (summary["targets"], summary["targets_failed"], summary["stages"], summary["errors"]) == (1, 1, 0, 1)
    assert summary["compliance_percent"] is None
    assert audit.report["verdict"] == "error"
    assert "Unable to locate credentials" in audit.report["targets"][0]["error"]
    markdown = (audit.report_dir / "report.md").read_text(encoding="utf-8")
    assert "100.0" not in markdown
    assert re.search(r"\| tooling \| us-east-1 \| FAILED: .*Unable to locate credentials.* \| 0 \| 0 \| 0 \| 0 \| 0 \| 1 \| n/a \|", markdown), markdown
    assert "compliance % = compliant / (compliant + non-compliant)" in markdown
    rows = list(csv.DictReader(io.StringIO((audit.report_dir / "report.csv").read_text(encoding="utf-8"))))
    assert [(row["status"], row["region"], row["account_name"]) for row in rows] == [("ERROR", "us-east-1", "tooling")]
    assert "Unable to locate credentials" in rows[0]["reason"]
    junit = ET.parse(audit.report_dir / "report.xml").getroot()
    assert junit.get("errors") == "1" and junit.get("tests") == "1"
    assert "1 target (1 failed)" in audit.run.stdout and "compliance n/a" in audit.run.stdout
    assert stats_of(audit.run)["tracing_sweep_verdict"] == "error"
    assert [r for r in estate.requests if r.service == "apigateway"] == []


@pytest.mark.parametrize("case", ["noncompliant", "compliant", "error"])
def test_the_verdict_is_in_the_report_and_the_artifacts(sweep, estate, case):
    extra = {}
    if case == "compliant":
        extra = {"tracing_sweep_desired": False, "tracing_sweep_rules": [{"match": {"api_name": "*"}, "skip": True}]}
    if case == "error":
        estate.deny("GetRestApis", account="222222222222", region="eu-west-1")
    audit = sweep(AUDIT, extra=extra)

    assert audit.report["verdict"] == case, audit.run.describe()
    assert stats_of(audit.run)["tracing_sweep_verdict"] == case
    assert stats_of(audit.run)["tracing_sweep_summary"] == audit.summary
    assert audit.run.rc == (2 if case == "error" else 0)
    jsonschema.validate(audit.report, SCHEMA)


# The reports guide's CI recipe (it runs the audit, then reads this run's verdict) is run as written in test_ci_recipe.py.


# ==== 4. An enforcement never writes what it cannot record ==========================================


def test_an_unusable_report_dir_stops_the_enforcement_before_any_aws_call(sweep, tmp_path, estate):
    before = tracing_state(estate)
    estate.clear()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n", encoding="utf-8")
    enforce = sweep(ENFORCE, report_dir=blocker / "reports")

    assert enforce.run.rc != 0
    message = " ".join(failure_messages(enforce.run))
    assert str(blocker / "reports") in message and "no AWS call" in message, enforce.run.describe()
    assert estate.requests == []
    assert tracing_state(estate) == before


def test_changes_that_cannot_be_recorded_are_printed_and_saved_elsewhere(sweep, tmp_path, estate, request):
    # The directory is writable (so the run starts), but report.json cannot be replaced: it is a directory.
    report_dir = tmp_path / "reports"
    (report_dir / "report.json").mkdir(parents=True)
    # A short path: ansible-core 2.21 puts its local RPC server's socket under TMPDIR, and a socket path longer than
    # 107 characters stops ansible-playbook before it starts. Under pytest's nested temporary directories the path
    # grew past that once their session number reached three digits.
    fallback_dir = Path(tempfile.mkdtemp(prefix="fb-"))
    request.addfinalizer(lambda: shutil.rmtree(fallback_dir, ignore_errors=True))
    enforce = sweep(ENFORCE, report_dir=report_dir, env={"TMPDIR": str(fallback_dir)})

    assert enforce.run.rc != 0
    message = " ".join(failure_messages(enforce.run))
    state = tracing_state(estate)
    assert all(state[key] for key in WOULD_ENABLE)  # the changes were made...
    for account, region, api, stage in WOULD_ENABLE:  # ...and each one is named
        assert "arn:aws:apigateway:%s::/restapis/%s/stages/%s tracing_enabled false -> true" % (region, api, stage) in message
    # The summary was shown, and report.json saved where the message says.
    assert "Tracing sweep (enforce)" in enforce.run.stdout
    saved = re.search(r"report.json was saved to (\S+) instead", message).group(1)
    assert Path(saved).parent == fallback_dir
    report = json.loads(Path(saved).read_text(encoding="utf-8"))
    assert sorted((r["account_id"], r["region"], r["rest_api_id"], r["stage_name"]) for r in report["stages"] if r["action"] == "enabled") == WOULD_ENABLE

    # The saved file is what the rollback needs.
    rollback = sweep(ROLLBACK, extra={"tracing_sweep_rollback_report": saved})
    assert rollback.run.rc == 0, rollback.run.describe()
    assert not any(tracing_state(estate)[key] for key in WOULD_ENABLE)


# ==== 5. A report set is one run ====================================================================


def test_a_run_writing_fewer_formats_leaves_no_file_of_an_earlier_run(sweep, tmp_path):
    report_dir = tmp_path / "reports"
    first = sweep(AUDIT, report_dir=report_dir)
    assert sorted(path.name for path in report_dir.iterdir()) == sorted(REPORT_FILES), first.run.describe()

    second = sweep(AUDIT, report_dir=report_dir, extra={"tracing_sweep_report_formats": ["json"]})
    assert second.run.rc == 0, second.run.describe()
    assert sorted(path.name for path in report_dir.iterdir()) == ["report.json"]


def test_merge_refuses_to_write_over_one_of_its_inputs(sweep, run_playbook, tmp_path):
    slice1 = sweep(AUDIT, report_dir=tmp_path / "slice1", args=["--limit", "prod_*"])
    slice2 = sweep(AUDIT, report_dir=tmp_path / "slice2", args=["--limit", "all:!prod_*"])
    kept = (tmp_path / "slice1" / "report.json").read_text(encoding="utf-8")
    assert slice1.run.rc == 0 and slice2.run.rc == 0

    merged = run_playbook(MERGE, {"tracing_sweep_merge_reports": [str(tmp_path / "slice1"), str(tmp_path / "slice2")],
                                  "tracing_sweep_report_dir": str(tmp_path / "slice1")})
    assert merged.rc != 0
    assert "tracing_sweep_report_dir" in " ".join(failure_messages(merged)) and "merged reports" in " ".join(failure_messages(merged))
    assert (tmp_path / "slice1" / "report.json").read_text(encoding="utf-8") == kept


# ==== 6. The enforcement's report says what it changed ===============================================


def test_the_enforcement_report_names_its_changes_its_policy_and_who_ran_it(sweep):
    enforce = sweep(ENFORCE)
    assert enforce.run.rc == 0, enforce.run.describe()
    markdown = (enforce.report_dir / "report.md").read_text(encoding="utf-8")
    version = re.search(r"^version: (\S+)", (REPO / "galaxy.yml").read_text(encoding="utf-8"), re.M).group(1)
    assert "- Collection: cloudops.apigw\\_tracing %s" % version in markdown or "- Collection: cloudops.apigw_tracing %s" % version in markdown
    assert "- Mode: enforce" in markdown
    assert "- Policy: tracing on by default; 1 rule; 2 exemptions; exempt tag XrayExempt" in markdown
    assert "111111111111 (prod): arn:aws:sts::111111111111:assumed-role/TracingAudit/cloudops-tracing-sweep" in markdown
    assert "%s (tooling): arn:aws:sts::%s:" % (CALLER_ACCOUNT, CALLER_ACCOUNT) in markdown
    changed = markdown.split("## Stages changed (5)", 1)[1].split("\n## ", 1)[0]
    for account, region, api, stage in WOULD_ENABLE:
        assert re.search(r"\| %s \(\w+\) \| %s \| [\w-]+ \| %s \| %s \| false \| true \|" % (account, region, api, stage), changed), changed

    rows = list(csv.DictReader(io.StringIO((enforce.report_dir / "report.csv").read_text(encoding="utf-8"))))
    assert list(rows[0])[:3] == ["status", "account_id", "account_name"]
    statuses = {(row["account_id"], row["region"], row["rest_api_id"], row["stage_name"]): (row["status"], row["account_name"]) for row in rows}
    assert statuses[("111111111111", "us-east-1", "ord1111use", "staging")] == ("PASS", "prod")
    assert statuses[("111111111111", "eu-west-1", "ord1111euw", "canary")] == ("EXEMPT", "prod")
    assert statuses[("222222222222", "us-east-1", "irp2222use", "dev")] == ("SKIPPED", "staging")


def test_csv_marks_non_compliant_stages_fail_and_errors_error(sweep, estate):
    estate.deny("GetStages", account="222222222222", region="eu-west-1")
    audit = sweep(AUDIT)
    rows = list(csv.DictReader(io.StringIO((audit.report_dir / "report.csv").read_text(encoding="utf-8"))))
    by_api = {(row["rest_api_id"], row["stage_name"]): row["status"] for row in rows}
    assert by_api[("pay1111use", "prod")] == "FAIL"
    assert by_api[("cat2222euw", "*")] == "ERROR"


# ==== 7. region_tracing is as safe as the role =======================================================


@pytest.mark.parametrize("variables", [
    # Any word but true/false, yes/no, 1/0 is refused ("enabled" too: tests/unit/plugins/module_utils/test_rules.py).
    {"apigw_tracing_desired": "ture"},
    {"apigw_tracing_desire": "false"},
    {"apigw_tracing_region": "eu-west1"},
    {"apigw_tracing_region": "us-east-1\n"},
], ids=["ture", "misspelt", "region-typo", "region-newline"])
def test_region_playbook_refuses_careless_input_before_any_aws_call(aws, apigw, run_playbook, tmp_path, variables):
    seed(apigw, [{"name": "orders", "stages": {"prod": {"tracing": True}}}])
    aws.clear()
    run = run_playbook(REGION, dict(variables, tracing_sweep_report_dir=str(tmp_path / "r")))
    assert run.rc != 0
    message = " ".join(failure_messages(run))
    assert list(variables)[0] in message, run.describe()
    assert aws.requests == []


def test_region_playbook_takes_aws_default_region_and_says_so(aws, run_playbook, tmp_path):
    seed(aws.client("apigateway", "eu-west-2"), [{"name": "orders", "stages": {"prod": {}}}])
    aws.clear()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": aws.endpoint_url, "AWS_DEFAULT_REGION": "eu-west-2"}
    run = run_playbook(REGION, {"tracing_sweep_report_dir": str(tmp_path / "r")}, check=True, aws_env=False, env=env)
    assert run.rc == 0, run.describe()
    assert "Region eu-west-2 (from the environment variable AWS_DEFAULT_REGION)" in run.stdout
    assert {r.region for r in aws.requests if r.service == "apigateway"} == {"eu-west-2"}
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["would_change"] == 1 and report["verdict"] == "noncompliant"


def test_region_playbook_without_a_region_refuses(aws, run_playbook, tmp_path):
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": aws.endpoint_url}
    run = run_playbook(REGION, {"tracing_sweep_report_dir": str(tmp_path / "r")}, aws_env=False, env=env)
    assert run.rc != 0
    assert "apigw_tracing_region: is required" in " ".join(failure_messages(run))
    assert aws.requests == []


def test_region_playbook_has_the_role_change_guard(aws, apigw, run_playbook, tmp_path):
    seed(apigw, [{"name": "api%d" % index, "stages": {"prod": {"tracing": True}}} for index in range(4)])
    aws.clear()
    run = run_playbook(REGION, {"apigw_tracing_desired": "false", "tracing_sweep_max_changes": "3", "tracing_sweep_report_dir": str(tmp_path / "r")})
    assert run.rc != 0
    assert "more than tracing_sweep_max_changes=3" in " ".join(failure_messages(run))
    assert aws.calls("UpdateStage") == 0


# ==== 8. Races are not errors =======================================================================


def test_a_stage_deleted_between_read_and_write_is_missing_not_failed(aws, apigw, run_playbook):
    api = seed(apigw, [{"name": "orders", "id": "a1b2c3d4e5", "stages": {"prod": {}, "dev": {}}}])[0]
    aws.after("GetStages", lambda request: apigw.delete_stage(restApiId=api, stageName="dev"), path_contains=api)
    run = run_playbook("tracing.yml", {"stages": [{"rest_api_id": api, "stage_name": "prod"}, {"rest_api_id": api, "stage_name": "dev"}],
                                       "ignore_missing": True})
    assert run.rc == 0, run.describe()
    result = run.result("Tracing")
    assert [(m["rest_api_id"], m["stage_name"]) for m in result["missing"]] == [(api, "dev")]
    assert [(s["stage_name"], s["changed"]) for s in result["stages"]] == [("prod", True)]
    assert aws.calls("UpdateStage") == 2  # both were tried: dev's answered NotFoundException


def test_the_sweep_reports_a_stage_deleted_during_the_enforcement_as_skipped(sweep, estate):
    client = estate.client("apigateway", "us-east-1", account="111111111111")
    # The plan reads every stage (GetStages); the converge reads the one stage it changes (GetStage) right before
    # its UpdateStage: the stage is deleted in between.
    estate.after("GetStage", lambda request: client.delete_stage(restApiId="pay1111use", stageName="prod"), path_contains="pay1111use/stages/prod")
    enforce = sweep(ENFORCE)

    assert enforce.run.rc == 0, enforce.run.describe()
    row = enforce.rows()[("111111111111", "us-east-1", "pay1111use", "prod")]
    assert row["action"] == "skipped" and "no longer exists" in row["reason"]
    assert enforce.summary["errors"] == 0 and enforce.report["verdict"] == "compliant"


# ==== 10. Each stage is counted once ================================================================


def test_two_inventory_sources_naming_one_target_count_its_stages_once(sweep, tmp_path, estate):
    accounts = write_yaml(tmp_path / "accounts.yml", accounts_inventory())
    extra = tmp_path / "extra.yml"
    extra.write_text(yaml.safe_dump({"all": {"hosts": {"prod-again_us-east-1": {
        "tracing_sweep_region": "us-east-1", "tracing_sweep_account_id": "111111111111",
        "tracing_sweep_role_arn": "arn:aws:iam::111111111111:role/TracingAudit", "tracing_sweep_external_id": "xid-7Qm2-prod-4d1e9b",
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}), encoding="utf-8")
    audit = sweep(AUDIT, inventory=accounts, args=["-i", str(extra)])

    rows = audit.report["stages"]
    assert len(rows) == len(AUDIT_TRUTH), audit.run.describe()
    assert len({(r["account_id"], r["region"], r["rest_api_id"], r["stage_name"]) for r in rows}) == len(rows)
    duplicate = audit.targets()["prod_us-east-1"]
    assert duplicate["status"] == "error" and "prod-again_us-east-1" in duplicate["error"] and "duplicate" in duplicate["error"]
    assert audit.targets()["prod-again_us-east-1"]["status"] == "ok"
    assert audit.summary["would_change"] == len(WOULD_ENABLE)
    assert audit.report["verdict"] == "error"


# ==== 11. Errors keep their cause ===================================================================


def test_an_unreachable_sts_endpoint_is_named_as_the_cause(sweep, estate):
    audit = sweep(AUDIT, extra={"tracing_sweep_sts_endpoint_url": "http://127.0.0.1:9"}, args=["--limit", "prod_us-east-1,tooling_us-east-1"])
    targets = audit.targets()
    for host in ("prod_us-east-1", "tooling_us-east-1"):
        assert targets[host]["status"] == "error"
        assert 'Could not connect to the endpoint URL: "http://127.0.0.1:9/"' in targets[host]["error"], targets[host]
    assert "sts:AssumeRole" in targets["prod_us-east-1"]["error"] and "sts:GetCallerIdentity" in targets["tooling_us-east-1"]["error"]


# ==== 12. Reports are safe to print ==================================================================


def test_control_characters_in_api_names_are_escaped_in_every_report(aws, apigw, sweep, tmp_path):
    hostile = "orders\x1b[31mRED\x07\u202e"
    seed(apigw, [{"name": hostile, "id": "h0st11eap1", "stages": {"prod": {}}}])
    inventory = write_yaml(tmp_path / "one.yml", one_target())
    audit = sweep(AUDIT, inventory=inventory, policy={})
    assert audit.run.rc == 0, audit.run.describe()
    for name in ("report.md", "report.csv", "report.xml", "report.json", "report.html"):
        text = (audit.report_dir / name).read_text(encoding="utf-8")
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, name
    assert "orders\\x1b\\[31mRED\\x07\\u202e" in (audit.report_dir / "report.md").read_text(encoding="utf-8").replace("\\\\", "\\")
    assert "orders\\x1b[31mRED\\x07\\u202e" in (audit.report_dir / "report.csv").read_text(encoding="utf-8")
    assert "orders\\x1b[31mRED\\x07\\u202e" in (audit.report_dir / "report.html").read_text(encoding="utf-8")
    [row] = [row for row in audit.report["stages"] if row["rest_api_id"] == "h0st11eap1"]
    assert row["rest_api_name"] == hostile  # report.json keeps the name as stored, JSON-escaped


# ==== 13. Console output scales =====================================================================


def test_a_large_audit_diff_is_one_line_per_stage_under_account_and_region(aws, apigw, sweep, tmp_path):
    seed(apigw, [{"name": "api%03d" % index, "id": "big%07d" % index, "stages": {"prod": {}, "dev": {}}} for index in range(60)])
    inventory = write_yaml(tmp_path / "one.yml", one_target(tracing_sweep_account_name="tooling"))
    audit = sweep(AUDIT, inventory=inventory, policy={}, diff=True)
    assert audit.run.rc == 0, audit.run.describe()
    out = audit.run.stdout
    # The 120 stages seeded here, and the estate's legacy-soap/v1, which no exemption covers in this run.
    assert "%s (tooling) us-east-1: X-Ray tracing of 121 stages would change" % CALLER_ACCOUNT in out
    assert "  leg0000use/v1: tracing_enabled false -> true" in out
    lines = [line for line in out.splitlines() if re.fullmatch(r"  big\d{7}/(prod|dev): tracing_enabled false -> true", line)]
    assert len(lines) == 120
    assert "--- before" not in out and '"tracing_enabled": false' not in out


def test_the_module_list_form_diff_is_compact_too(aws, apigw, run_playbook):
    ids = seed(apigw, [{"name": "api%d" % index, "stages": {"prod": {}}} for index in range(3)])
    run = run_playbook("tracing.yml", {"stages": [{"rest_api_id": api, "stage_name": "prod"} for api in ids]}, check=True, diff=True)
    assert run.rc == 0, run.describe()
    assert "account %s, us-east-1: X-Ray tracing of 3 stages would change" % CALLER_ACCOUNT in run.stdout
    for api in ids:
        assert "  %s/prod: tracing_enabled false -> true" % api in run.stdout
    assert "--- before" not in run.stdout


def test_a_rollback_target_whose_sts_endpoint_is_unreachable_names_the_cause(sweep, tmp_path, estate):
    enforce = sweep(ENFORCE, args=["--limit", "prod_us-east-1"])
    assert enforce.run.rc == 0, enforce.run.describe()
    rollback = sweep(ROLLBACK, args=["--limit", "prod_us-east-1"], extra={
        "tracing_sweep_rollback_report": str(enforce.report_dir / "report.json"), "tracing_sweep_sts_endpoint_url": "http://127.0.0.1:9"})
    assert rollback.run.rc != 0
    message = " ".join(failure_messages(rollback.run))
    assert "prod_us-east-1" in message and 'Could not connect to the endpoint URL: "http://127.0.0.1:9/"' in message, rollback.run.describe()
