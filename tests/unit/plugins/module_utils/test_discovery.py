# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.discovery import describe_named_stages
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.discovery import describe_stages


def test_region_sweep_reads_every_page_then_one_get_stages_per_api(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "orders"}], "position": "p2"}, {"limit": 500})
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa2", "name": "billing"}]}, {"limit": 500, "position": "p2"})
    stubber.add_response("get_stages", {"item": [{"stageName": "prod", "tracingEnabled": True}, {"stageName": "dev"}]}, {"restApiId": "aaaaaaaaa1"})
    stubber.add_response("get_stages", {"item": [{"stageName": "v1", "tracingEnabled": False}]}, {"restApiId": "aaaaaaaaa2"})

    found = describe_stages(client)

    assert found.failures == []
    assert found.apis == 2
    assert [(s["rest_api_name"], s["stage_name"], s["tracing_enabled"]) for s in found.stages] == [
        ("orders", "prod", True),
        ("orders", "dev", False),
        ("billing", "v1", False),
    ]


def test_api_deleted_between_listing_and_reading_has_no_stages(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "gone"}]}, {"limit": 500})
    stubber.add_client_error("get_stages", "NotFoundException", "Invalid Rest API Id specified", 404)

    assert describe_stages(client).stages == []


def test_one_stage_is_one_get_stage(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_api", {"id": "a1b2c3d4e5", "name": "orders"}, {"restApiId": "a1b2c3d4e5"})
    stubber.add_response("get_stage", {"stageName": "prod"}, {"restApiId": "a1b2c3d4e5", "stageName": "prod"})

    [stage] = describe_stages(client, "a1b2c3d4e5", "prod").stages
    assert stage["tracing_enabled"] is False
    assert stage["rest_api_name"] == "orders"


def test_missing_api_gives_no_stages_and_no_further_calls(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_rest_api", "NotFoundException", "Invalid Rest API Id specified", 404)

    assert describe_stages(client, "a1b2c3d4e5").stages == []


def test_an_api_whose_stages_cannot_be_read_is_a_failure_and_the_others_are_still_read(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "orders"}, {"id": "aaaaaaaaa2", "name": "billing"}]}, {"limit": 500})
    stubber.add_client_error("get_stages", "AccessDeniedException", "not authorized", 403)
    stubber.add_response("get_stages", {"item": [{"stageName": "v1"}]}, {"restApiId": "aaaaaaaaa2"})

    found = describe_stages(client)

    assert [(s["rest_api_id"], s["stage_name"]) for s in found.stages] == [("aaaaaaaaa2", "v1")]
    [failure] = found.failures
    assert failure["rest_api_id"] == "aaaaaaaaa1"
    assert failure["rest_api_name"] == "orders"
    assert failure["error_code"] == "AccessDeniedException"
    assert failure["arn"] == "arn:aws:apigateway:us-east-1::/restapis/aaaaaaaaa1/stages/*"
    assert "apigateway:GET" in failure["message"]


def test_reads_on_threads_keep_the_order_of_the_apis():
    """With several threads the stages still come in API order; a fake client answers out of order."""
    import threading
    import time

    answered = []

    class FakeMeta:
        partition = "aws"
        region_name = "eu-west-1"

    class FakeClient:
        meta = FakeMeta()
        lock = threading.Lock()

        def get_rest_api(self, restApiId):  # pylint: disable=invalid-name
            return {"id": restApiId, "name": "one"}

        def get_stages(self, restApiId):  # pylint: disable=invalid-name
            # The first API answers last.
            time.sleep(0.05 if restApiId.endswith("0") else 0)
            with self.lock:
                answered.append(restApiId)
            return {"item": [{"stageName": "s" + restApiId[-1]}]}

    ids = ["aaaaaaaaa%d" % i for i in range(4)]
    from ansible_collections.cloudops.apigw_tracing.plugins.module_utils import discovery

    original = discovery.list_rest_apis
    discovery.list_rest_apis = lambda client: [{"id": api_id, "name": api_id} for api_id in ids]
    progress = []
    try:
        found = describe_stages(FakeClient(), concurrency=4, progress=lambda done, total: progress.append((done, total)))
    finally:
        discovery.list_rest_apis = original

    assert answered[-1] == "aaaaaaaaa0"
    assert [s["rest_api_id"] for s in found.stages] == ids
    # Each API read is counted once, whichever thread read it.
    assert sorted(progress) == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_progress_is_told_after_each_api_read_or_failed(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "orders"}, {"id": "aaaaaaaaa2", "name": "billing"}]}, {"limit": 500})
    stubber.add_client_error("get_stages", "AccessDeniedException", "not authorized", 403)
    stubber.add_response("get_stages", {"item": [{"stageName": "v1"}]}, {"restApiId": "aaaaaaaaa2"})
    calls = []

    found = describe_stages(client, progress=lambda done, total: calls.append((done, total)))

    assert calls == [(1, 2), (2, 2)]
    assert (found.apis, len(found.failures), len(found.stages)) == (2, 1, 1)


def test_no_api_no_progress(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": []}, {"limit": 500})
    calls = []
    assert describe_stages(client, progress=lambda done, total: calls.append((done, total))).apis == 0
    assert calls == []


# ---- named stages (a remediation): one GetStage each, never a region-wide read ----------------------------------------


def test_named_stages_are_one_get_stage_each_and_a_missing_one_is_kept_as_missing(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_stage", {"stageName": "prod", "tracingEnabled": True}, {"restApiId": "a1b2c3d4e5", "stageName": "prod"})
    stubber.add_client_error("get_stage", "NotFoundException", "Invalid stage identifier specified", 404)
    stubber.add_client_error("get_stage", "AccessDeniedException", "not authorized", 403)
    named = [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod"}, {"rest_api_id": "a1b2c3d4e5", "stage_name": "gone"},
             {"rest_api_id": "b1b2c3d4e5", "stage_name": "dev"}]

    found = describe_named_stages(client, named)

    stubber.assert_no_pending_responses()
    assert [(s["rest_api_id"], s["stage_name"], s["tracing_enabled"], s["rest_api_name"]) for s in found.stages] == [
        ("a1b2c3d4e5", "prod", True, None)]
    assert found.missing == [{"rest_api_id": "a1b2c3d4e5", "stage_name": "gone",
                              "arn": "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/gone"}]
    [failure] = found.failures
    assert (failure["rest_api_id"], failure["stage_name"], failure["error_code"]) == ("b1b2c3d4e5", "dev", "AccessDeniedException")
    assert found.apis == 2


def test_named_stages_read_each_apis_name_once_only_when_the_policy_needs_it(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_api", {"id": "a1b2c3d4e5", "name": "orders"}, {"restApiId": "a1b2c3d4e5"})
    stubber.add_response("get_stage", {"stageName": "prod"}, {"restApiId": "a1b2c3d4e5", "stageName": "prod"})
    stubber.add_response("get_stage", {"stageName": "dev"}, {"restApiId": "a1b2c3d4e5", "stageName": "dev"})

    found = describe_named_stages(client, [{"rest_api_id": "a1b2c3d4e5", "stage_name": "prod"}, {"rest_api_id": "a1b2c3d4e5", "stage_name": "dev"}],
                                  with_api_names=True)

    stubber.assert_no_pending_responses()
    assert [s["rest_api_name"] for s in found.stages] == ["orders", "orders"]
