"""Schemathesis hooks for `cargo xtask api-fuzz`, loaded through `hooks = "hooks"` in schemathesis.toml."""

import itertools
import re

import schemathesis

# `PUT /api/config` takes the configuration file as `application/toml` text: send generated strings as is.
schemathesis.serializer.alias("application/toml", "text/plain")

# What the document allows for `Idempotency-Key` (construct_core::openapi::IdempotencyKey).
_VALID_KEY = re.compile(r"^[\t ]*[!-~]([\t -~]*[!-~])?[\t ]*$")
_SERIAL = itertools.count()


@schemathesis.hook
def before_call(context, case, **kwargs):
    """Give every request with a valid `Idempotency-Key` a key of its own.

    Generated keys repeat across different requests, which the gateway rightly refuses with 422
    `IDEMPOTENCY_KEY_REUSED`; a real client makes a fresh key per request. Keys the document refuses are
    left alone, so their rejection is still checked. (Reuse and replay are covered by the Rust tests.)
    """
    for name in list(case.headers or {}):
        value = case.headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) and _VALID_KEY.match(value):
            case.headers[name] = f"{value.strip()[:200]}-{next(_SERIAL)}"
