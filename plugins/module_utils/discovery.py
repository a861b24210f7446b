# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release (the modules that use it are the API).

"""Reading stages for apigw_stage_tracing_info with the fewest calls that answer the question.

The stages of the APIs are read on a few threads at once (one GetStages per API). An API whose stages
cannot be read, even after retries, is kept as a failure with its cause: it is never dropped, so a
report built from the result cannot count it as compliant or forget it.
"""

from __future__ import annotations

import threading

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_rest_api
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stage
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import get_stages
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import list_rest_apis
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.apigateway import partition_and_region
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.errors import describe_read_error
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.parallel import ordered_map
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import api_arn
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import normalize_stage
from ansible_collections.cloudops.apigw_tracing.plugins.module_utils.stage import stage_arn


class Discovery:
    """Stages found (normalized, in API order) and the APIs whose stages could not be read."""

    def __init__(self, stages, failures, apis, missing=None):
        self.stages = stages
        self.failures = failures  # {rest_api_id, rest_api_name, arn, error_code, message} per API
        self.apis = apis  # how many REST APIs were looked at
        self.missing = missing or []  # named stages that do not exist: {rest_api_id, stage_name, arn}


def describe_stages(client, rest_api_id=None, stage_name=None, concurrency=1, progress=None, each_api=None):
    """Stages of the region (no id), of one API, or one stage. A missing API or stage has no stages.

    Listing the APIs (or reading the one asked for) must succeed, else the botocore error is raised;
    reading the stages of an API may fail per API and is recorded in Discovery.failures.
    progress: None, or a callable(apis read, apis in all) called after each API's stages are read.
    each_api: None, or a callable(the API's stages, normalized) called on the reading thread right after an API's
    stages are read (the whole-path read of module_utils/request_path.py starts there).
    """
    partition, region = partition_and_region(client)

    if rest_api_id is None:
        apis = list_rest_apis(client)
    else:
        api = get_rest_api(client, rest_api_id)
        apis = [api] if api else []

    def read(api):
        try:
            if stage_name is None:
                found = get_stages(client, api["id"])
            else:
                stage = get_stage(client, api["id"], stage_name)
                found = [stage] if stage else []
        except (BotoCoreError, ClientError) as e:
            arn = stage_arn(partition, region, api["id"], stage_name or "*")
            # GetStages is authorised on .../stages itself, GetStage on the stage's ARN.
            resource = arn if stage_name else api_arn(partition, region, api["id"], "/stages")
            code, message = describe_read_error(e, f"the stages of REST API {api['id']}", resource)
            return None, {"rest_api_id": api["id"], "rest_api_name": api.get("name"), "arn": arn, "error_code": code, "message": message}
        # None: the API was deleted between listing and reading; it has no stages to report.
        normalized = [normalize_stage(stage, api["id"], api.get("name"), partition, region) for stage in found or []]
        if each_api is not None and normalized:
            each_api(normalized)
        return normalized, None

    reader = read
    if progress is not None:
        done = [0]
        lock = threading.Lock()

        def counted(api):
            outcome = read(api)
            with lock:
                done[0] += 1
                count = done[0]
            progress(count, len(apis))
            return outcome

        reader = counted

    stages = []
    failures = []
    for api_stages, failure in ordered_map(reader, apis, concurrency):
        if failure is not None:
            failures.append(failure)
        stages.extend(api_stages or [])
    return Discovery(stages, failures, len(apis))


def describe_named_stages(client, named, with_api_names=False, concurrency=1):
    """The stages ``named`` ([{rest_api_id, stage_name}]), each read with one GetStage, on a few threads; never a
    region-wide read. A stage (or API) that does not exist is in Discovery.missing; one that cannot be read is a
    failure naming that stage. with_api_names: also read each distinct API once (GetRestApi), for its name (a
    policy that selects by api_name needs it); otherwise the stages have no API name.
    """
    partition, region = partition_and_region(client)
    names = {}
    if with_api_names:
        api_ids = list(dict.fromkeys(entry["rest_api_id"] for entry in named))

        def api_name(rest_api_id):
            try:
                api = get_rest_api(client, rest_api_id)
            except (BotoCoreError, ClientError):
                return None  # the stage's own read says what is wrong with the API, or reads it anyway
            return api.get("name") if api else None

        names = dict(zip(api_ids, ordered_map(api_name, api_ids, concurrency)))

    def read(entry):
        rest_api_id, stage_name = entry["rest_api_id"], entry["stage_name"]
        try:
            return get_stage(client, rest_api_id, stage_name), None
        except (BotoCoreError, ClientError) as e:
            arn = stage_arn(partition, region, rest_api_id, stage_name)
            code, message = describe_read_error(e, f"the stage {stage_name} of REST API {rest_api_id}", arn)
            return None, {"rest_api_id": rest_api_id, "rest_api_name": names.get(rest_api_id), "stage_name": stage_name, "arn": arn,
                          "error_code": code, "message": message}

    stages, failures, missing = [], [], []
    for entry, (stage, failure) in zip(named, ordered_map(read, named, concurrency)):
        if failure is not None:
            failures.append(failure)
        elif stage is None:
            missing.append({"rest_api_id": entry["rest_api_id"], "stage_name": entry["stage_name"],
                            "arn": stage_arn(partition, region, entry["rest_api_id"], entry["stage_name"])})
        else:
            stages.append(normalize_stage(stage, entry["rest_api_id"], names.get(entry["rest_api_id"]), partition, region))
    return Discovery(stages, failures, len({entry["rest_api_id"] for entry in named}), missing=missing)
