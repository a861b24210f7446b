#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The least an audit of one account and region can do with boto3: the yardstick of `make bench`.

It makes the calls the role's audit makes (GetRestApis 500 a page, then one GetStages per API), one
after another, and prints how many stages have tracing off. Credentials, region and endpoint come
from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL).
"""

from __future__ import annotations

import boto3


def main():
    client = boto3.client("apigateway")
    stages = 0
    off = 0
    for page in client.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": 500}):
        for api in page.get("items", []):
            for stage in client.get_stages(restApiId=api["id"]).get("item", []):
                stages += 1
                off += not stage.get("tracingEnabled", False)
    print("%d stages, %d with tracing off" % (stages, off))


if __name__ == "__main__":
    main()
