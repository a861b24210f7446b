# -*- coding: utf-8 -*-

# Copyright: Contributors to the cloudops.apigw_tracing collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Private to this collection: not an API, may change in any release.

"""The rules for identifiers (account ids, regions, REST API ids, stage names, ARNs, external ids, role names)
and for the values users type (booleans, whole numbers, rates), in one place.

The modules, the accounts inventory and the tracing_sweep role all check their input here, so a rule has
one definition and one wording. Every check is a full match of an ASCII pattern: a trailing newline, a
space or a non-ASCII digit never passes. A region must also be one the installed botocore knows (its endpoint data
lists every partition's regions), unless the caller's opt-out names it. Every message has the shape
``<path>: <rule>, got <value>``, the value shown so that hidden characters are visible (``'a1b2c3d4e5\\n'``);
secrets are never shown.

Values as users type them are accepted when they are unambiguous: ``-e tracing_sweep_max_changes=500``
arrives as the string ``"500"`` and is read as 500. A boolean is never a number, and a number is a boolean
only as 0 or 1.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import math
import re
from collections.abc import Mapping
from collections.abc import Sequence

try:
    import botocore
    import botocore.exceptions
    import botocore.loaders
except ImportError:  # without the SDK a region is only checked for its shape; nothing can call AWS then anyway
    botocore = None

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b")
_PARTITION = "(?:%s)" % "|".join(re.escape(partition) for partition in PARTITIONS)
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]+"

ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}", re.ASCII)
REGION_PATTERN = re.compile(_REGION, re.ASCII)
REST_API_ID_PATTERN = re.compile(r"[a-z0-9]{10}", re.ASCII)
STAGE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}", re.ASCII)
# Group 1: the partition, group 2: the account id.
ROLE_ARN_PATTERN = re.compile(r"arn:(%s):iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}" % _PARTITION, re.ASCII)
STAGE_ARN_PATTERN = re.compile(r"arn:%s:apigateway:%s::/restapis/[a-z0-9]{10}/stages/[A-Za-z0-9_-]{1,128}" % (_PARTITION, _REGION), re.ASCII)
EXTERNAL_ID_PATTERN = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
# An IAM role name (1 to 64 characters) after an optional path of the same characters.
ROLE_NAME_PATTERN = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}", re.ASCII)
DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
WHOLE_NUMBER_PATTERN = re.compile(r"[0-9]+", re.ASCII)
DECIMAL_PATTERN = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+", re.ASCII)

ACCOUNT_ID_RULE = "must be a 12-digit AWS account id, as a string (in quotes)"
REGION_RULE = "must be an AWS region name such as us-east-1"
REST_API_ID_RULE = "must be a REST API id: exactly 10 lowercase letters or digits, the id API Gateway assigns (e.g. a1b2c3d4e5)"
STAGE_NAME_RULE = "must be a stage name: 1 to 128 characters, each a letter, a digit, '-' or '_'"
ROLE_ARN_RULE = (
    "must be an IAM role ARN such as arn:aws:iam::111111111111:role/TracingAudit (partition %s)" % ", ".join(PARTITIONS)
)
STAGE_ARN_RULE = "must be an API Gateway stage ARN such as arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
EXTERNAL_ID_RULE = "must be 2 to 1224 characters, each a letter, a digit or one of _+=,.@:/-"
ROLE_NAME_RULE = "must be an IAM role name, optionally after a path, such as TracingAudit or audit/TracingAudit"
DATE_RULE = "must be a date (YYYY-MM-DD)"
BOOL_RULE = "must be a boolean: true or false (also yes/no, 1/0)"
TEXT_RULE = "must be a non-empty string"

BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


# ---- how values are shown -------------------------------------------------------------------------


def describe(value):
    """A value as a message shows it: strings quoted (hidden characters escaped), other types named."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "%s (boolean)" % str(value).lower()
    if isinstance(value, str):
        return repr(str(value))
    if isinstance(value, int):
        return "%d (integer)" % int(value)
    if isinstance(value, float):
        return "%s (float)" % float(value)
    if isinstance(value, datetime.datetime):
        return "%s (a date and time)" % value.isoformat()
    if isinstance(value, datetime.date):
        return "%s (date)" % value.isoformat()
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return "a list"
    return "a value of type %s" % type(value).__name__


def problem(path, rule, value):
    """The one message shape: '<path>: <rule>, got <value>'."""
    return "%s: %s, got %s" % (path, rule, describe(value))


def is_list(value):
    """A YAML list (any non-string sequence)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def is_text(value):
    return isinstance(value, str) and bool(value.strip())


def matches(pattern, value):
    """Whether ``value`` is a string that ``pattern`` matches in full."""
    return isinstance(value, str) and pattern.fullmatch(value) is not None


# ---- identifiers ----------------------------------------------------------------------------------


def _pattern_problem(pattern, rule, value, path):
    return None if matches(pattern, value) else problem(path, rule, value)


def account_id_problem(value, path="account_id"):
    """A 12-digit account id, given as a string.

    YAML reads an unquoted id as a number, and one that starts with 0 and has only the digits 0-7 as an
    octal number: the number then names another account. The hint never suggests an id computed from it.
    """
    if matches(ACCOUNT_ID_PATTERN, value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if 10 ** 11 <= value < 10 ** 12:
            return '%s: %s, got %s: YAML reads an unquoted id as a number; write it in quotes, "%d"' % (path, ACCOUNT_ID_RULE, describe(value), value)
        return (
            "%s: %s, got %s: YAML reads an unquoted id as a number, and one that starts with 0 as an octal number, which "
            "changes its digits; write the id in quotes, exactly as AWS shows it" % (path, ACCOUNT_ID_RULE, describe(value))
        )
    return problem(path, ACCOUNT_ID_RULE, value)


@functools.lru_cache(maxsize=None)
def partition_regions():
    """{partition: frozenset of its region names} as the installed botocore knows them (its partitions and endpoints
    data, read once per process from its own files: no AWS call), or None without botocore."""
    if botocore is None:
        return None
    loader = botocore.loaders.create_loader()
    regions = {}
    for name in ("partitions", "endpoints"):
        try:
            data = loader.load_data(name)
        except botocore.exceptions.DataNotFoundError:  # an older botocore, without partitions.json
            continue
        for partition in data.get("partitions") or []:
            key = partition.get("id") or partition.get("partition")
            names = {region for region in partition.get("regions") or {} if matches(REGION_PATTERN, region)}
            regions[key] = regions.get(key, frozenset()) | names
    return regions or None


def known_regions():
    """Every region of every partition the installed botocore knows, or None without botocore."""
    partitions = partition_regions()
    return frozenset().union(*partitions.values()) if partitions else None


def botocore_version():
    return getattr(botocore, "__version__", "unknown")


def closest_region(value):
    """The known region closest to ``value`` (a typo, other case, spaces or underscores), or None."""
    regions = known_regions()
    if not regions or not isinstance(value, str):
        return None
    text = value.strip().lower().replace("_", "-")
    scored = [(difflib.SequenceMatcher(None, text, region).ratio(), region) for region in sorted(regions)]
    # The closest, and of regions as close, the first in order (us-east-1 before us-east-2), as difflib's cutoff.
    best = max(scored, key=lambda item: item[0])
    return best[1] if best[0] >= 0.6 else None


def allowed_regions(value):
    """The region names of an opt-out list (a list, or names separated by commas as -e gives them); () for anything else."""
    if isinstance(value, str):
        value = value.split(",")
    if not is_list(value):
        return ()
    return tuple(item.strip() for item in value if isinstance(item, str))


def region_name_problem(value, path="region"):
    """The shape of a region name only: for names AWS itself answered, which may be newer than the installed botocore."""
    return _pattern_problem(REGION_PATTERN, REGION_RULE, value, path)


def region_problem(value, path="region", allowed=(), opt_out=None):
    """A region name that the installed botocore knows in one of its partitions, or that ``allowed`` lists.

    A name of the right shape that no partition has (the typo eu-wset-1) would otherwise reach AWS, whose endpoint does
    not exist: each call retried, then failed with the endpoint's error page. The message suggests the closest known
    region and, for a region newer than the installed botocore, names the opt-out (``opt_out``, the option whose list
    ``allowed`` comes from). Without botocore only the shape is checked.
    """
    if not matches(REGION_PATTERN, value):
        hint = closest_region(value)
        return problem(path, REGION_RULE, value) + (" (did you mean %s?)" % hint if hint else "")
    regions = known_regions()
    if regions is None or value in regions or value in allowed_regions(allowed):
        return None
    hint = closest_region(value)
    return "%s: %s, got %s, a region no partition of the installed botocore (%s) has%s; for a region newer than that botocore, upgrade botocore%s" % (
        path,
        REGION_RULE,
        describe(value),
        botocore_version(),
        " (did you mean %s?)" % hint if hint else "",
        " or list it in %s" % opt_out if opt_out else "",
    )


def rest_api_id_problem(value, path="rest_api_id"):
    return _pattern_problem(REST_API_ID_PATTERN, REST_API_ID_RULE, value, path)


def stage_name_problem(value, path="stage_name"):
    return _pattern_problem(STAGE_NAME_PATTERN, STAGE_NAME_RULE, value, path)


def stage_arn_problem(value, path="arn"):
    return _pattern_problem(STAGE_ARN_PATTERN, STAGE_ARN_RULE, value, path)


def role_name_problem(value, path="role_name"):
    return _pattern_problem(ROLE_NAME_PATTERN, ROLE_NAME_RULE, value, path)


def role_arn_account(value):
    """The account id of a well-formed role ARN, else None."""
    found = ROLE_ARN_PATTERN.fullmatch(value) if isinstance(value, str) else None
    return found.group(2) if found else None


def role_arn_problem(value, path="role_arn", account_id=None, account_path="account_id"):
    """The shape of a role ARN and, when ``account_id`` is a valid id, that the role is in that account."""
    role_account = role_arn_account(value)
    if role_account is None:
        return problem(path, ROLE_ARN_RULE, value)
    if matches(ACCOUNT_ID_PATTERN, account_id) and role_account != account_id:
        return "%s: must be a role in the account it sweeps, %s %s, got a role in account %s" % (path, account_path, account_id, role_account)
    return None


def external_id_problem(value, path="external_id"):
    """An external id; a secret, so the message names its type or length, never its value."""
    if matches(EXTERNAL_ID_PATTERN, value):
        return None
    if isinstance(value, str):
        if not 2 <= len(value) <= 1224:
            shown = "%d character%s" % (len(value), "" if len(value) == 1 else "s")
        else:
            shown = "a value with other characters"
    else:
        shown = "a value of type %s" % type(value).__name__
    return "%s: %s, got %s (not shown: it is secret)" % (path, EXTERNAL_ID_RULE, shown)


def parse_date(value):
    """A datetime.date from a date or a 'YYYY-MM-DD' string; ValueError otherwise (a date and time is not a date)."""
    if isinstance(value, datetime.datetime):
        raise ValueError(value)
    if isinstance(value, datetime.date):
        return datetime.date(value.year, value.month, value.day)
    if matches(DATE_PATTERN, value):
        return datetime.date.fromisoformat(str(value))  # raises ValueError for e.g. 2026-02-30
    raise ValueError(value)


def date_problem(value, path="expires"):
    try:
        parse_date(value)
    except ValueError:
        return problem(path, DATE_RULE, value)
    return None


# ---- values as users type them --------------------------------------------------------------------


def parse_bool(value):
    """True or False from a boolean, 0 or 1, or one of the words true/false/yes/no/1/0 (any case).

    Raises ValueError for anything else: 'ture', 'enabled' or 2 are mistakes, never false.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in BOOL_WORDS:
        return BOOL_WORDS[value.lower()]
    raise ValueError(value)


def bool_problem(value, path):
    try:
        parse_bool(value)
    except ValueError:
        return problem(path, BOOL_RULE, value)
    return None


def parse_whole_number(value):
    """An int from an integer (never a boolean) or a string of decimal digits ('500'); ValueError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if matches(WHOLE_NUMBER_PATTERN, value):
        return int(value, 10)
    raise ValueError(value)


def whole_number_problem(value, path, minimum=None, maximum=None, rule=None):
    """A whole number in [minimum, maximum]; ``rule`` replaces the default wording."""
    if rule is None:
        bounds = []
        if minimum is not None:
            bounds.append(">= %d" % minimum)
        if maximum is not None:
            bounds.append("<= %d" % maximum)
        rule = "must be a whole number%s" % ((" " + " and ".join(bounds)) if bounds else "")
    try:
        number = parse_whole_number(value)
    except ValueError:
        return problem(path, rule, value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        return problem(path, rule, value)
    return None


def parse_positive_number(value):
    """A float > 0 from an int or float (never a boolean) or a decimal string ('9.5'); ValueError otherwise.

    NaN and infinity are refused: they would switch request pacing off without a word.
    """
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        number = float(value)
    elif matches(DECIMAL_PATTERN, value):
        number = float(value)
    else:
        raise ValueError(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(value)
    return number


# ---- the run history's location -----------------------------------------------------------------

S3_URI_PATTERN = re.compile(r"s3://([^/]*)(?:/(.*))?", re.DOTALL)
# S3's rule for a bucket name (general purpose buckets): 3 to 63 characters, lowercase letters, digits, dots and
# hyphens, starting and ending with a letter or a digit, no two dots in a row, not shaped like an IP address.
BUCKET_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]", re.ASCII)
IP_SHAPED = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)
KEY_PREFIX_PATTERN = re.compile(r"[\w!\-.*'()/=+@,;:&$ ]*", re.ASCII)
URI_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/")
HISTORY_LOCATION_RULE = (
    "must be a directory on the controller or an S3 location s3://bucket or s3://bucket/prefix (bucket: 3 to 63 "
    "lowercase letters, digits, dots or hyphens; prefix: letters, digits and !-_.*'()/=+@,;:&$ and spaces), or empty for no history"
)


def history_location_problem(value, path="tracing_sweep_history"):
    """None when ``value`` is empty (no history), a directory, or a well-formed S3 location; else the message."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value != value.strip() or not value.isprintable():
        return f"{path}: {HISTORY_LOCATION_RULE}, got {describe(value)}"
    if value.lower().startswith("s3:"):
        found = S3_URI_PATTERN.fullmatch(value)
        bucket, prefix = (found.group(1), found.group(2) or "") if found else (None, None)
        if (
            found is None
            or not BUCKET_PATTERN.fullmatch(bucket)
            or ".." in bucket
            or IP_SHAPED.fullmatch(bucket)
            or not KEY_PREFIX_PATTERN.fullmatch(prefix)
            or prefix.startswith("/")
            or "//" in prefix
        ):
            return f"{path}: {HISTORY_LOCATION_RULE}, got {describe(value)}"
        return None
    if URI_LIKE.match(value):
        # https://..., file:/..., S3 spelt s4:// ...: a URI that is not an S3 one is never taken for a directory.
        return f"{path}: {HISTORY_LOCATION_RULE}; {describe(value)} is a URI of another kind"
    return None
