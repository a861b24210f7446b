# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release (the modules that use it are the API).

"""How this collection names and describes a REST API stage."""

from __future__ import annotations

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

# User-chosen keys (tag names, stage variable names) are returned as they are, like amazon.aws does for tags.
_KEEP_KEYS = ["tags", "variables"]


def stage_arn(partition, region, rest_api_id, stage_name):
    """ARN of a REST API stage, as IAM policies and AWS Config name it."""
    return f"arn:{partition}:apigateway:{region}::/restapis/{rest_api_id}/stages/{stage_name}"


def api_arn(partition, region, rest_api_id=None, suffix=""):
    """ARN of the REST APIs of a region, of one API, or of a path under it (suffix such as "/stages").

    IAM authorises each call on its request path: GetRestApis on /restapis, GetStages on
    /restapis/<id>/stages; a permission error names exactly that resource.
    """
    path = "/restapis" if rest_api_id is None else f"/restapis/{rest_api_id}{suffix}"
    return f"arn:{partition}:apigateway:{region}::{path}"


def tracing_enabled(stage):
    """The stage's X-Ray active tracing flag; API Gateway omits the key when tracing was never turned on."""
    return bool(stage.get("tracingEnabled", False))


def access_logging_enabled(stage):
    return bool((stage.get("accessLogSettings") or {}).get("destinationArn"))


def _method_settings(settings):
    # methodSettings is keyed by resource path and method ("~1orders/GET"); only its values are AWS fields.
    return {path: camel_dict_to_snake_dict(values) for path, values in (settings or {}).items()}


def normalize_stage(stage, rest_api_id, rest_api_name, partition, region):
    """A GetStage/GetStages item as the modules return it: snake_case, with identity and tracing made explicit."""
    raw = {key: value for key, value in stage.items() if key != "ResponseMetadata"}
    # amazon.aws's transformation: snake_case keys, dates as ISO 8601 strings; tags and stage variables keep their
    # user-chosen keys, as amazon.aws does for tags.
    result = boto3_resource_to_ansible_dict(
        raw, transform_tags=False, force_tags=False, ignore_list=_KEEP_KEYS, nested_transforms={"methodSettings": _method_settings}
    )
    result.setdefault("method_settings", {})
    result.update(
        rest_api_id=rest_api_id,
        rest_api_name=rest_api_name,
        stage_name=stage["stageName"],
        arn=stage_arn(partition, region, rest_api_id, stage["stageName"]),
        tracing_enabled=tracing_enabled(stage),
        access_logging_enabled=access_logging_enabled(stage),
        deployment_id=stage.get("deploymentId"),
        tags=stage.get("tags") or {},
        variables=stage.get("variables") or {},
        created_date=result.get("created_date"),
        last_updated_date=result.get("last_updated_date"),
    )
    return result
