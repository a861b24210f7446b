# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Turning AWS errors into messages that tell the user what to do about them."""

from __future__ import annotations

ACCESS_DENIED_CODES = ("AccessDeniedException", "AccessDenied", "UnauthorizedException")
# AWS refuses the credentials themselves with these (API Gateway's JSON codes, and STS's).
EXPIRED_CREDENTIAL_CODES = ("ExpiredTokenException", "ExpiredToken", "RequestExpired")
INVALID_CREDENTIAL_CODES = ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch")


def error_code(exception):
    """The AWS error code of a botocore exception; the exception's class name when it has none."""
    response = getattr(exception, "response", None) or {}
    return response.get("Error", {}).get("Code") or type(exception).__name__


def error_message(exception):
    response = getattr(exception, "response", None) or {}
    return response.get("Error", {}).get("Message") or str(exception)


def credentials_hint(code):
    """What to do when AWS refused the credentials themselves (not a permission): empty for other codes."""
    if code in EXPIRED_CREDENTIAL_CODES:
        return ". The credentials have expired: renew the session (or the assumed role's) and run again"
    if code in INVALID_CREDENTIAL_CODES:
        return ". AWS does not recognise the credentials: check the access key, secret key and session token"
    return ""


def read_error_hint(code, arn):
    """The permission to grant, or what to do about the credentials, for a failed read of `arn`."""
    if code in ACCESS_DENIED_CODES:
        return f". The caller needs apigateway:GET on {arn}"
    return credentials_hint(code)


def describe_read_error(exception, what, arn):
    """(code, message) for a failed read of `what` (e.g. "the stages of API x"), whose resource is `arn`."""
    code = error_code(exception)
    message = f"Reading {what} failed: {code}: {error_message(exception)}{read_error_hint(code, arn)}"
    return code, message


def describe_update_error(exception, stage_label, arn, enable):
    """(code, message) for a failed UpdateStage of the stage's tracing flag."""
    code = error_code(exception)
    message = f"Turning tracing {'on' if enable else 'off'} for stage {stage_label} failed: {code}: {error_message(exception)}"
    if code in ACCESS_DENIED_CODES:
        message += f". The caller needs apigateway:PATCH on {arn}"
        if enable:
            message += (
                "; the first enablement of tracing in an account also needs iam:CreateServiceLinkedRole,"
                " because API Gateway then creates the service-linked role AWSServiceRoleForAPIGateway"
            )
    return code, message + credentials_hint(code)


# A task's message names this many failures; all of them are in its failures return value.
MESSAGE_FAILURES_SHOWN = 10


def failures_summary(failures):
    """The messages of the first failures, and how many more there are, for a task's msg."""
    details = "; ".join(failure["message"] for failure in failures[:MESSAGE_FAILURES_SHOWN])
    if len(failures) > MESSAGE_FAILURES_SHOWN:
        details += f"; and {len(failures) - MESSAGE_FAILURES_SHOWN} more, listed in failures"
    return details
