#!/usr/bin/env python
# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The least an audit can do with boto3: the yardstick of `make bench`.

For each target (account x region) it makes the calls the role's audit makes: AssumeRole when the target has a
role, GetRestApis 500 a page, then one GetStages per API; targets run on a pool of threads (--threads), as a
hand-written script would. It prints how many stages have tracing off. Credentials, region and endpoint come
from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL); --targets names
a JSON file of [{"region": ..., "role_arn": ... or null}], else the one target is the environment's region.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3


# One session for the whole run, so that botocore loads its service models once, as a careful script would;
# clients are thread-safe, their creation from one session is not: a lock guards it.
SESSION = boto3.session.Session()
CREATING = threading.Lock()


def make_client(service, region, credentials=None):
    keys = {}
    if credentials:
        keys = {"aws_access_key_id": credentials["AccessKeyId"], "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"]}
    with CREATING:
        return SESSION.client(service, region_name=region, **keys)


def audit(target):
    credentials = None
    if target.get("role_arn"):
        credentials = make_client("sts", target["region"]).assume_role(RoleArn=target["role_arn"], RoleSessionName="bench")["Credentials"]
    client = make_client("apigateway", target["region"], credentials)
    stages = off = 0
    for page in client.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": 500}):
        for api in page.get("items", []):
            for stage in client.get_stages(restApiId=api["id"]).get("item", []):
                stages += 1
                off += not stage.get("tracingEnabled", False)
    return stages, off


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--targets", help="JSON file of targets")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.targets:
        with open(args.targets, encoding="utf-8") as handle:
            targets = json.load(handle)
    else:
        targets = [{"region": os.environ.get("AWS_REGION", "us-east-1"), "role_arn": None}]
    with ThreadPoolExecutor(max_workers=max(1, args.threads)) as pool:
        results = list(pool.map(audit, targets))
    print("%d targets, %d stages, %d with tracing off" % (len(targets), sum(r[0] for r in results), sum(r[1] for r in results)))


if __name__ == "__main__":
    main()
