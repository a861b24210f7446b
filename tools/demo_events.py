#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo-events`: continuous remediation end to end, against a local AWS stand-in.

Starts moto on 127.0.0.1 with the estate of `make demo` (sweep_world.py), behind tests/support/aws_proxy.py (which
throttles API Gateway like AWS and counts the calls), and sets up what docs/eda.md has a user deploy and run: the
EventBridge rule with the templates' exact pattern delivering to an SQS queue, the accounts inventory directory with
the policy in its group_vars, and the shipped rulebook cloudops.apigw_tracing.remediate_stages under the real
ansible-rulebook (.build/eda-venv, `make eda-deps`; it needs a Java 17 runtime). Then a deployment "ships" a stage
without tracing (CreateStage), and the CreateStage record CloudTrail would make is put on the bus. The demo waits
until the stage is traced, reading it with its own client (not through the proxy, so not in the counts), prints
the stage, the event, the remediation's report directory and verdict, the API calls it made, and the seconds from
the event to the fix; then it stops ansible-rulebook. It exits non-zero when something is not as it should be, and
at once, with the reason, where ansible-rulebook cannot run (no Java 17, no venv). The files stay in .build/demo-events/.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from eda_world import EventBus
from eda_world import Rulebook
from eda_world import cloudtrail
from eda_world import reports
from eda_world import rulebook_problem
from eda_world import write_inventory
from local_aws import LocalAws
from sweep_world import POLICY
from sweep_world import accounts_inventory
from sweep_world import seed_estate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from aws_proxy import AwsProxy  # noqa: E402  pylint: disable=wrong-import-position

WORKDIR = ROOT / ".build" / "demo-events"
ACCOUNT = "111111111111"
REGION = "us-east-1"
API_ID = "ord1111use"
API_NAME = "orders"
STAGE = "release-42"
# Only stops a hung run; the demo reports the time, it does not judge it.
GUARD_SECONDS = 180


def expect(condition, what):
    print(("ok:     " if condition else "FAILED: ") + what, flush=True)
    return condition


def tracing(client):
    return bool(client.get_stage(restApiId=API_ID, stageName=STAGE).get("tracingEnabled", False))


def main():
    problem = rulebook_problem()
    if problem:
        print("make demo-events: cannot run ansible-rulebook here: %s" % problem, file=sys.stderr, flush=True)
        return 2
    # Only the local endpoint's settings count (as in `make demo`).
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    inventory = write_inventory(WORKDIR / "inventory", accounts_inventory(), POLICY)
    remediations = WORKDIR / "remediations"

    results = []
    with LocalAws() as aws, AwsProxy(aws.endpoint_url) as proxy:
        seed_estate(aws)
        bus = EventBus(aws, REGION)
        print("A local AWS (moto) on %s, API Gateway behind a proxy that throttles like AWS on %s" % (aws.endpoint_url, proxy.endpoint_url))
        print("EventBridge rule %s (pattern: %s) -> SQS %s" % (
            "apigw-tracing-stage-events", ", ".join(bus.pattern["detail"]["eventName"]), bus.queue_url))
        print("Inventory %s (the policy in group_vars/all.yml); reports under %s" % (inventory, remediations))
        started = time.monotonic()
        rulebook = Rulebook(WORKDIR, bus, inventory, proxy.endpoint_url, aws.endpoint_url, remediations)
        try:
            print("$ " + " ".join(rulebook.command[:1] + [Path(part).name if part.startswith("/") else part for part in rulebook.command[1:]]),
                  flush=True)
            rulebook.wait_for("the event source's first poll of the queue",
                              lambda: any(request.operation == "ReceiveMessage" for request in aws.requests), GUARD_SECONDS)
            print("ansible-rulebook is polling the queue (%.1f s after it started: the JVM, the rulebook, the source)" % (
                time.monotonic() - started), flush=True)

            client = aws.client("apigateway", REGION, account=ACCOUNT)
            deployment = "dep-release-42"
            client.create_stage(restApiId=API_ID, stageName=STAGE, deploymentId=deployment)
            results.append(expect(not tracing(client), "a deployment shipped stage %s/%s (API %s) in %s %s without tracing" % (
                API_ID, STAGE, API_NAME, ACCOUNT, REGION)))

            proxy.clear()
            sent = bus.put(cloudtrail("CreateStage", ACCOUNT, REGION, API_ID, STAGE, deployment_id=deployment))
            print("Event: CreateStage of %s/%s by arn:aws:sts::%s:assumed-role/Deployer/deploy-pipeline, put on the bus (put_events)" % (
                API_ID, STAGE, ACCOUNT), flush=True)
            rulebook.wait_for("tracing on %s/%s" % (API_ID, STAGE), lambda: tracing(client), GUARD_SECONDS, interval=0.1)
            fixed = time.monotonic()
            updates = [request.received_at for request in proxy.requests if request.operation == "UpdateStage"]
            results.append(expect(True, "the stage is traced (GetStage: tracingEnabled true)"))
            found = rulebook.wait_for("the remediation's report.json", lambda: reports(remediations), GUARD_SECONDS)
            calls = proxy.counts(None)
        finally:
            rc = rulebook.stop()
        print("ansible-rulebook stopped (rc %s); its output: %s" % (rc, rulebook.log_path))

    [(report_dir, report)] = found[:1] or [(None, {})]
    rows = [(row.get("rest_api_id"), row.get("stage_name"), row.get("action")) for row in report.get("stages", [])]
    results.append(expect(len(found) == 1, "one remediation run: %s" % report_dir))
    results.append(expect(rows == [(API_ID, STAGE, "enabled")], "its report.json names the stage, action enabled: %s" % rows))
    print("Verdict: %s (%s)" % (report.get("verdict"), report.get("verdict_reason")))
    print("API calls the remediation made: " + ", ".join("%s %d" % item for item in sorted(calls.items())))
    results.append(expect(calls.get("GetStage") == 1 and calls.get("UpdateStage") == 1 and calls.get("AssumeRole") == 1
                          and not calls.get("GetStages") and not calls.get("GetRestApis"),
                          "one AssumeRole, one GetStage, one UpdateStage; no region-wide read"))
    print()
    print("Event to UpdateStage: %.1f s" % (updates[0] - sent) if updates else "Event to UpdateStage: no UpdateStage seen")
    print("Event to fix (put_events to tracingEnabled true): %.1f s" % (fixed - sent))
    print("\nDemo " + ("passed" if all(results) else "FAILED") + "; files in %s" % WORKDIR)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
