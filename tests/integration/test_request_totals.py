# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run's API Gateway request counts ("API Gateway requests: N sent; ... server errors N") count every request
of every target, those of the targets that failed too: real ansible-playbook, through tests/support/aws_proxy.py,
which answers two targets' reads with server errors, retried, then a refusal that is not retried.
"""

from __future__ import annotations

import copy
import re

import aws_proxy as proxy_module
import pytest

from sweep_run import Sweep
from sweep_world import POLICY
from sweep_world import static_inventory
from sweep_world import write_yaml

AUDIT = "cloudops.apigw_tracing.audit"
ENFORCE = "cloudops.apigw_tracing.enforce"
REQUESTS_LINE = re.compile(r"API Gateway requests: (\d+) sent; answers throttled (\d+), server errors (\d+), no answer (\d+)")
# (account, region) of the targets whose reads fail: two server errors (each retried), then AccessDenied.
FAILING = {("111111111111", "eu-west-1"), ("222222222222", "us-east-1")}
SERVER_ERRORS_EACH = 2


def fail_reads_of(proxy, monkeypatch, places, server_errors):
    """Answer every API Gateway request of the targets in ``places`` with ``server_errors`` 500s, then AccessDenied."""
    admit = proxy.admit
    seen = {}

    def failing_admit(record):
        place = (record.account, record.region)
        if record.service != "apigateway" or place not in places:
            return admit(record)
        seen[place] = seen.get(place, 0) + 1
        if seen[place] <= server_errors:
            record.outcome = "500"
            return proxy_module._fault_answer("500"), False, 0  # pylint: disable=protected-access
        record.outcome = "rejected"
        return proxy_module._json_error(403, "AccessDeniedException", "not allowed here"), False, 0  # pylint: disable=protected-access

    monkeypatch.setattr(proxy, "admit", failing_admit)


@pytest.mark.parametrize("playbook", [AUDIT, ENFORCE])
def test_the_request_counts_include_the_targets_that_failed(run_playbook, aws_proxy, estate, monkeypatch, tmp_path, playbook):
    fail_reads_of(aws_proxy, monkeypatch, FAILING, SERVER_ERRORS_EACH)
    aws_proxy.clear()
    extra_vars = copy.deepcopy(POLICY)
    extra_vars["tracing_sweep_report_dir"] = str(tmp_path / "reports")

    run = Sweep(run_playbook(playbook, extra_vars, inventory=write_yaml(tmp_path / "hosts.yml", static_inventory()), env=aws_proxy.env()),
                tmp_path / "reports")

    assert run.run.rc == 2, run.run.describe()
    failed = sorted((target["account_id"], target["region"]) for target in run.report["targets"] if target["status"] == "error")
    assert failed == sorted(FAILING), run.run.describe()
    sent = [request for request in aws_proxy.requests if request.service == "apigateway"]
    mine = [request for request in sent if (request.account, request.region) in FAILING]
    # Each failed target: its server errors, each retried, then the refusal, which is not.
    assert len(mine) == len(FAILING) * (SERVER_ERRORS_EACH + 1)
    found = REQUESTS_LINE.findall(run.run.stdout)
    assert len(found) == 1, run.run.describe()
    assert tuple(int(value) for value in found[0]) == (len(sent), 0, len(FAILING) * SERVER_ERRORS_EACH, 0), run.run.stdout
