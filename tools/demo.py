#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: the collection's main job end to end, against a local AWS stand-in.

Starts moto on 127.0.0.1 and seeds three accounts x two regions of REST API stages (tracing on, off,
never set, one exempt by tag, one by an exemption, one skipped by a rule; see sweep_world.py). Then,
as a user would with an inventory file of accounts:

1. audits (cloudops.apigw_tracing.audit --diff): shows each stage that would change, changes nothing;
2. enforces (cloudops.apigw_tracing.enforce --diff);
3. audits again, which finds every stage compliant;
4. turns tracing off on one stage behind the collection's back, as a console click or a deploy would;
5. audits again, as the scheduled job would, with tracing_sweep_fail_on_regression: the run compares itself
   with the last one (every run keeps its report set in the history, .build/demo/history/), names the stage
   that regressed, and fails for it, which is what an alert is raised on.

After each run it checks the server and the report, prints the report's summary and the API calls the
run made, and exits non-zero if anything is not as it should be. The reports stay in .build/demo/.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from local_aws import LocalAws
from sweep_world import AUDIT_TRUTH
from sweep_world import POLICY
from sweep_world import accounts_inventory
from sweep_world import seed_estate
from sweep_world import tracing_state
from sweep_world import write_yaml

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / ".build" / "demo"


def banner(text):
    print("\n" + "=" * 100 + "\n== " + text + "\n" + "=" * 100, flush=True)


def expect(condition, what):
    print(("ok:     " if condition else "FAILED: ") + what, flush=True)
    return condition


HISTORY = "history"
# The stage someone turns off between the third and the fifth run: compliant from the start.
DRIFTED = ("111111111111", "us-east-1", "ord1111use", "prod")


def run_playbook(aws, playbook, report_dir, *args):
    env = dict(os.environ, **aws.env())
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "false"
    env["ANSIBLE_RETRY_FILES_ENABLED"] = "false"
    command = ["ansible-playbook", playbook, "-i", "accounts.yml", "-e", "@policy.yml",
               "-e", "tracing_sweep_report_dir=" + report_dir, "-e", "tracing_sweep_history=" + HISTORY, *args]
    print("$ " + " ".join(command), flush=True)
    aws.clear()
    completed = subprocess.run(command, env=env, cwd=str(WORKDIR), check=False)
    calls = collections.Counter(request.operation for request in aws.requests)
    print("API calls made by this run: " + ", ".join(f"{op} {n}" for op, n in sorted(calls.items())), flush=True)
    report_path = WORKDIR / report_dir / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
    return completed.returncode, calls, report


def show_summary(report_dir):
    """The summary table at the top of report.md, as a person would read it."""
    markdown = (WORKDIR / report_dir / "report.md").read_text(encoding="utf-8")
    print("\n--- " + str(WORKDIR / report_dir / "report.md") + " (summary) ---")
    lines = markdown.splitlines()
    # Up to the second section: the title and the summary, not the per-stage tables.
    sections = [number for number, line in enumerate(lines) if line.startswith("## ")] + [len(lines), len(lines)]
    print("\n".join(lines[:sections[1]]).strip(), flush=True)


def show_since_last_run(report):
    """What the run found changed since the one before, from report.json's since_baseline."""
    since = (report or {}).get("since_baseline") or {}
    print(f"\n--- since the last run ({(since.get('baseline') or {}).get('id')}): {json.dumps(since.get('counts'))} ---")
    for item in since.get("regressed") or []:
        print(f"regressed: {item['arn']} in {item['account_id']}: {item['before']} -> {item['after']} ({item['cause']})", flush=True)


def main():
    # Only the local endpoint's settings count: a profile or real keys in the caller's environment
    # must not mix in, and nothing may fall back to the EC2 metadata service.
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    write_yaml(WORKDIR / "accounts.yml", accounts_inventory())
    write_yaml(WORKDIR / "policy.yml", POLICY)
    would_enable = sorted(key for key, (_before, action) in AUDIT_TRUTH.items() if action == "would_enable")

    results = []
    with LocalAws() as aws:
        seed_estate(aws)
        before = tracing_state(aws)
        banner(f"A local AWS (moto) on {aws.endpoint_url}: 3 accounts x 2 regions, {len(before)} REST API stages")
        print(f"Inventory ({WORKDIR / 'accounts.yml'}):\n" + (WORKDIR / "accounts.yml").read_text(encoding="utf-8"))
        print(f"Policy ({WORKDIR / 'policy.yml'}):\n" + yaml.safe_dump(POLICY, sort_keys=False))

        banner("1. Audit: what would change (check mode, diff). Nothing is changed in AWS.")
        rc, calls, report = run_playbook(aws, "cloudops.apigw_tracing.audit", "1-audit", "--diff")
        results.append(expect(rc == 0, "the audit run succeeded"))
        results.append(expect(calls["UpdateStage"] == 0, "no UpdateStage call in the audit"))
        results.append(expect(tracing_state(aws) == before, "the server is unchanged"))
        found = {(r["account_id"], r["region"], r["rest_api_id"], r["stage_name"]): (r["tracing_enabled_before"], r["action"])
                 for r in (report or {}).get("stages", [])}
        results.append(expect(found == AUDIT_TRUTH, f"the report matches the seeded truth stage by stage ({len(AUDIT_TRUTH)} stages)"))
        if report:
            show_summary("1-audit")

        banner("2. Enforce: converge every target, one module call per target")
        rc, calls, report = run_playbook(aws, "cloudops.apigw_tracing.enforce", "2-enforce", "--diff")
        results.append(expect(rc == 0, "the enforcement run succeeded"))
        results.append(expect(calls["UpdateStage"] == len(would_enable), f"one UpdateStage per stage to change ({len(would_enable)})"))
        after = tracing_state(aws)
        results.append(expect(after == {k: (True if k in would_enable else v) for k, v in before.items()},
                              "exactly those stages changed; exempt and skipped stages were left alone"))

        banner("3. Audit again: every stage has its desired state")
        rc, calls, report = run_playbook(aws, "cloudops.apigw_tracing.audit", "3-audit")
        results.append(expect(rc == 0, "the audit run succeeded"))
        summary = (report or {}).get("summary", {})
        results.append(expect(summary.get("compliance_percent") == 100.0 and summary.get("noncompliant") == 0, "100% compliance"))
        if report:
            show_summary("3-audit")
        since = (report or {}).get("since_baseline") or {}
        results.append(expect(since.get("status") == "compared" and since.get("counts", {}).get("regressed") == 0,
                              "compared with the enforcement before it: nothing regressed"))

        account_id, region, api_id, stage = DRIFTED
        banner(f"4. Behind the collection's back: tracing off on {api_id}/{stage} in {account_id} {region} (a console click, a deploy)")
        aws.client("apigateway", region, account=account_id).update_stage(
            restApiId=api_id, stageName=stage, patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": "false"}])
        results.append(expect(tracing_state(aws)[DRIFTED] is False, "the stage's tracing is off"))

        banner("5. The scheduled audit again, alerting on regressions: it fails, naming what got worse since the last run")
        rc, calls, report = run_playbook(aws, "cloudops.apigw_tracing.audit", "5-audit", "-e", "tracing_sweep_fail_on_regression=true")
        since = (report or {}).get("since_baseline") or {}
        drifted_arn = f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{stage}"
        results.append(expect(rc == 2, "the run failed (exit code 2), as tracing_sweep_fail_on_regression asks"))
        results.append(expect([(item["account_id"], item["arn"]) for item in since.get("regressed", [])] == [(account_id, drifted_arn)],
                              f"the one regression is {drifted_arn}, compliant in run 3, non-compliant now"))
        show_since_last_run(report)
    print("\nLocal AWS stopped.")

    banner("Demo " + ("passed" if all(results) else "FAILED") + f"; reports in {WORKDIR}/{{1-audit,2-enforce,3-audit,5-audit}}/, "
           f"every run's in {WORKDIR / HISTORY}/")
    for path in sorted(WORKDIR.glob("*/report.*")):
        print(f"  {path}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
