"""Schemathesis hooks for `cargo xtask api-fuzz`, loaded through `hooks = "hooks"` in schemathesis.toml."""

import schemathesis

# `PUT /api/config` takes the configuration file as `application/toml` text: send generated strings as is.
schemathesis.serializer.alias("application/toml", "text/plain")
