# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.cloudops.apigw_tracing.plugins.modules import apigw_stage_tracing_info as module


@pytest.mark.parametrize(
    "args, fragments",
    [
        ({"rest_api_id": "short"}, ["rest_api_id: must be a REST API id: exactly 10 lowercase letters or digits", "got 'short'"]),
        ({"rest_api_id": "a1b2c3d4e5\n"}, ["rest_api_id: must be a REST API id", "got 'a1b2c3d4e5\\n'"]),
        ({"max_requests_per_second": True}, ["max_requests_per_second: must be a number greater than 0", "got true (boolean)"]),
        ({"max_requests_per_second": "9,5"}, ["max_requests_per_second: must be a number greater than 0", "got '9,5'"]),
        ({"rest_api_id": "a1b2c3d4e5", "stage_name": "x" * 129}, ["stage_name", "1 to 128 characters"]),
        ({"stage_name": "prod"}, ["stage_name", "rest_api_id"]),
    ],
)
def test_bad_input_fails_before_any_aws_client_exists(run_module, args, fragments):
    result = run_module(module, args)

    assert result["failed"] is True
    for fragment in fragments:
        assert fragment in result["msg"]


def test_read_error_is_reported_with_the_permission(run_module, stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_rest_apis", "AccessDeniedException", "User is not authorized", 403)

    result = run_module(module, {}, client=client)

    assert result["failed"] is True
    assert "apigateway:GET" in result["msg"]
    assert "User is not authorized" in result["msg"]


def test_changed_is_always_false(run_module, stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_api", {"id": "a1b2c3d4e5", "name": "orders"})
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}]})

    result = run_module(module, {"rest_api_id": "a1b2c3d4e5"}, client=client)

    assert result["changed"] is False
    assert [(s["rest_api_name"], s["stage_name"], s["tracing_enabled"]) for s in result["stages"]] == [("orders", "prod", False)]


def test_an_unreadable_api_fails_the_task_but_every_stage_read_is_returned(run_module, stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "orders"}, {"id": "aaaaaaaaa2", "name": "billing"}]})
    stubber.add_response("get_stages", {"item": [{"stageName": "prod"}]})
    stubber.add_client_error("get_stages", "AccessDeniedException", "not authorized", 403)

    result = run_module(module, {"concurrency": 1}, client=client)

    assert result["failed"] is True
    assert result["msg"].startswith("The stages of 1 of 2 REST APIs could not be read: ")
    assert [(s["rest_api_id"], s["stage_name"]) for s in result["stages"]] == [("aaaaaaaaa1", "prod")]
    assert [f["rest_api_id"] for f in result["failures"]] == ["aaaaaaaaa2"]
    assert set(result["requests"]) == {"sent", "throttled", "server_errors", "connection_errors"}


def test_bad_pacing_fails_before_any_client(run_module):
    result = run_module(module, {"max_requests_per_second": 0})

    assert result["failed"] is True
    assert result["msg"].startswith("max_requests_per_second: must be a number greater than 0")
    assert result["msg"].endswith(", got 0 (integer)")


def test_a_rate_as_a_decimal_string_is_read_as_a_number(run_module, stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_api", {"id": "a1b2c3d4e5", "name": "orders"})
    stubber.add_response("get_stages", {"item": []})

    result = run_module(module, {"rest_api_id": "a1b2c3d4e5", "max_requests_per_second": "2.5", "concurrency": 3}, client=client)

    assert not result.get("failed")
    assert run_module.client_args == [(2.5, 3)]
