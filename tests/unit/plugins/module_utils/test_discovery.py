# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.discovery import describe_stages


def test_region_sweep_reads_every_page_then_one_get_stages_per_api(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "orders"}], "position": "p2"}, {"limit": 500})
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa2", "name": "billing"}]}, {"limit": 500, "position": "p2"})
    stubber.add_response("get_stages", {"item": [{"stageName": "prod", "tracingEnabled": True}, {"stageName": "dev"}]}, {"restApiId": "aaaaaaaaa1"})
    stubber.add_response("get_stages", {"item": [{"stageName": "v1", "tracingEnabled": False}]}, {"restApiId": "aaaaaaaaa2"})

    stages = describe_stages(client)

    assert [(s["rest_api_name"], s["stage_name"], s["tracing_enabled"]) for s in stages] == [
        ("orders", "prod", True),
        ("orders", "dev", False),
        ("billing", "v1", False),
    ]


def test_api_deleted_between_listing_and_reading_has_no_stages(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_apis", {"items": [{"id": "aaaaaaaaa1", "name": "gone"}]}, {"limit": 500})
    stubber.add_client_error("get_stages", "NotFoundException", "Invalid Rest API Id specified", 404)

    assert describe_stages(client) == []


def test_one_stage_is_one_get_stage(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_rest_api", {"id": "a1b2c3d4e5", "name": "orders"}, {"restApiId": "a1b2c3d4e5"})
    stubber.add_response("get_stage", {"stageName": "prod"}, {"restApiId": "a1b2c3d4e5", "stageName": "prod"})

    [stage] = describe_stages(client, "a1b2c3d4e5", "prod")
    assert stage["tracing_enabled"] is False
    assert stage["rest_api_name"] == "orders"


def test_missing_api_gives_no_stages_and_no_further_calls(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("get_rest_api", "NotFoundException", "Invalid Rest API Id specified", 404)

    assert describe_stages(client, "a1b2c3d4e5") == []
