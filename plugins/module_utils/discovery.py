# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading stages for apigw_stage_tracing_info with the fewest calls that answer the question."""

from __future__ import annotations

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_rest_api
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stage
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stages
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import list_rest_apis
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import partition_and_region
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import normalize_stage


def describe_stages(client, rest_api_id=None, stage_name=None):
    """Normalized stages: of the region (no id), of one API, or one stage. Missing API or stage: []."""
    partition, region = partition_and_region(client)

    if rest_api_id is None:
        apis = list_rest_apis(client)
    else:
        api = get_rest_api(client, rest_api_id)
        apis = [api] if api else []

    described = []
    for api in apis:
        if stage_name is None:
            stages = get_stages(client, api["id"])
        else:
            stage = get_stage(client, api["id"], stage_name)
            stages = [stage] if stage else []
        # None: the API was deleted between listing and reading; it has no stages to report.
        for stage in stages or []:
            described.append(normalize_stage(stage, api["id"], api.get("name"), partition, region))
    return described
