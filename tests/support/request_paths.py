# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seeding the request paths behind stages in the local AWS (tracing_sweep_whole_path, apigw_stage_tracing_info's
whole_path): Lambda functions with their TracingConfig, methods with their integrations, Lambda authorizers.

moto 5.2.5 keeps a function's TracingConfig as created (UpdateFunctionConfiguration does not change it there),
integration URIs (GetResources with embed=methods returns them) and authorizers' authorizerUri: reading is faithful.
"""

from __future__ import annotations

import io
import json
import zipfile

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
ROLE_NAME = "lambda-exec"


def function_arn(name, qualifier=None, account=ACCOUNT):
    return "arn:aws:lambda:%s:%s:function:%s%s" % (REGION, account, name, ":" + qualifier if qualifier else "")


def invocation_uri(function):
    return "arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations" % (REGION, function)


def _zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def seed_functions(aws, functions, xray_write=False):
    """Create Lambda functions {name: {"mode": "Active" | "PassThrough", "aliases": [name, ...], "region": (us-east-1)}}, all running as one
    execution role; with ``xray_write`` that role may write to X-Ray (an inline policy with the actions of
    AWSXRayDaemonWriteAccess, which moto does not load), as a function set up for tracing has it."""
    iam = aws.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if xray_write:
        writes = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"}]}
        iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="xray-write", PolicyDocument=json.dumps(writes))
    for name, spec in functions.items():
        lam = aws.client("lambda", spec.get("region", REGION))
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": _zip()},
                            TracingConfig={"Mode": spec.get("mode", "PassThrough")}, Publish=True)
        for alias in spec.get("aliases", ()):
            lam.create_alias(FunctionName=name, Name=alias, FunctionVersion="1")
    return role


def seed_methods(apigw, rest_api_id, methods, authorizers=()):
    """Add resources and methods to a REST API: methods [(path, http_method, integration_type, uri or None,
    authorizer name or None)], authorizers [(name, function ARN)] (TOKEN authorizers)."""
    authorizer_ids = {}
    for name, function in authorizers:
        authorizer = apigw.create_authorizer(restApiId=rest_api_id, name=name, type="TOKEN", authorizerUri=invocation_uri(function),
                                             identitySource="method.request.header.Authorization")
        authorizer_ids[name] = authorizer["id"]
    resources = {item["path"]: item["id"] for item in apigw.get_resources(restApiId=rest_api_id)["items"]}
    for path, http_method, kind, uri, authorizer in methods:
        if path not in resources:
            resources[path] = apigw.create_resource(restApiId=rest_api_id, parentId=resources["/"], pathPart=path.strip("/"))["id"]
        kwargs = {"authorizationType": "CUSTOM", "authorizerId": authorizer_ids[authorizer]} if authorizer else {"authorizationType": "NONE"}
        apigw.put_method(restApiId=rest_api_id, resourceId=resources[path], httpMethod=http_method, **kwargs)
        integration = {"type": kind}
        if uri:
            integration.update(uri=uri, integrationHttpMethod="POST")
        apigw.put_integration(restApiId=rest_api_id, resourceId=resources[path], httpMethod=http_method, **integration)
