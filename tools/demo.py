#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: the collection's main job end to end, against a local AWS stand-in.

Starts moto on 127.0.0.1, seeds a few REST APIs whose stages have tracing on and off, then runs the
playbook cloudops.apigw_tracing.region_tracing three times, as a user would: an audit
(--check --diff, nothing changes), the enforcement, and a second enforcement that finds nothing to do.
After each run it checks the server's state and prints the API calls the run made, and it exits
non-zero if anything is not as it should be.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys

from local_aws import LocalAws
from local_aws import seed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYBOOK = "cloudops.apigw_tracing.region_tracing"

WORLD = [
    {"name": "orders", "id": "a1b2c3d4e5", "stages": {"prod": {"tracing": True, "tags": {"Env": "prod"}}, "staging": {"tags": {"Env": "staging"}}}},
    {"name": "billing", "id": "f6g7h8i9j0", "stages": {"prod": {}, "v1": {"tracing": True}}},
    {"name": "inventory", "stages": {"prod": {}}},
]


def banner(text):
    print("\n" + "=" * 100 + "\n== " + text + "\n" + "=" * 100, flush=True)


def tracing_by_stage(apigw):
    states = {}
    for api in apigw.get_rest_apis(limit=500)["items"]:
        for stage in apigw.get_stages(restApiId=api["id"])["item"]:
            states[f"{api['name']}/{stage['stageName']}"] = bool(stage.get("tracingEnabled", False))
    return states


def run_playbook(aws, *args):
    env = dict(os.environ, **aws.env())
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "collections"))
    env["ANSIBLE_LOCALHOST_WARNING"] = "false"
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "false"
    command = ["ansible-playbook", PLAYBOOK, *args]
    print("$ " + " ".join(command), flush=True)
    aws.clear()
    completed = subprocess.run(command, env=env, check=False)
    calls = collections.Counter(request.operation for request in aws.requests)
    print("API calls made by this run: " + ", ".join(f"{op} {n}" for op, n in sorted(calls.items())), flush=True)
    return completed.returncode, calls


def expect(condition, what):
    print(("ok:     " if condition else "FAILED: ") + what, flush=True)
    return condition


def main():
    # Only the local endpoint's settings count: a profile or real keys in the caller's environment
    # must not mix in, and nothing may fall back to the EC2 metadata service.
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    results = []
    with LocalAws() as aws:
        apigw = aws.client("apigateway")
        seed(apigw, WORLD)
        before = tracing_by_stage(apigw)
        off = sorted(name for name, on in before.items() if not on)

        banner(f"A local AWS (moto) on {aws.endpoint_url}: {len(before)} REST API stages, tracing off on {', '.join(off)}")
        for key, value in aws.env().items():
            print(f"  {key}={value}")

        banner("1. Audit: what would change (check mode, diff). Nothing is written.")
        rc, calls = run_playbook(aws, "--check", "--diff")
        results.append(expect(rc == 0, "the audit run succeeded"))
        results.append(expect(calls["UpdateStage"] == 0, "no UpdateStage call in check mode"))
        results.append(expect(tracing_by_stage(apigw) == before, "the server is unchanged"))

        banner("2. Enforce: turn tracing on where it is off, in one module call")
        rc, calls = run_playbook(aws, "--diff")
        results.append(expect(rc == 0, "the enforcement run succeeded"))
        results.append(expect(calls["UpdateStage"] == len(off), f"one UpdateStage per stage that was off ({len(off)})"))
        results.append(expect(all(tracing_by_stage(apigw).values()), "every stage now has tracing on"))

        banner("3. Enforce again: nothing left to do")
        rc, calls = run_playbook(aws)
        results.append(expect(rc == 0, "the second run succeeded"))
        results.append(expect(calls["UpdateStage"] == 0, "no UpdateStage call: the run changed nothing"))

    banner("Demo " + ("passed" if all(results) else "FAILED"))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
