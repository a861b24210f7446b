# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harness itself: a real ansible-playbook, through amazon.aws, reaches the local AWS and the result log sees it.

The local AWS's own parts (operation names, seeding, paging, accounts) are checked in tests/static/test_local_aws.py.
"""

from __future__ import annotations


def test_amazon_aws_module_reaches_local_aws(aws, run_playbook):
    run = run_playbook("caller_info.yml")
    assert run.rc == 0, run.describe()
    assert run.status("Caller") == "ok"
    assert run.result("Caller")["account"] == "123456789012"
    sts_calls = [r for r in aws.requests if r.operation == "GetCallerIdentity"]
    assert len(sts_calls) == 1
    assert sts_calls[0].region == "us-east-1"
    assert sts_calls[0].account == "123456789012"
