"""``newsroom.toml``: its tables and their validation (:mod:`.loading`, :mod:`.mail`),
opening a newsletter with the plugins it asks for (:mod:`.newsletter`), where its outputs
live (:mod:`.outputs`), and the JSON Schema and reference generated from the option models
(:mod:`.schema`, :mod:`.reference`, :mod:`.fielddocs`).

The names below were importable from ``newsroom.config`` when it was one module, and still
are.
"""

from newsroom.config.loading import (
    CONFIG_NAME,
    DEFAULT_RENDERERS,
    ComponentConfig,
    Config,
    HttpConfig,
    NewsletterConfig,
    PluginsConfig,
    PublishConfig,
    StateConfig,
    find_config,
    load_config,
    parse_config,
    read_toml,
)

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_RENDERERS",
    "ComponentConfig",
    "Config",
    "HttpConfig",
    "NewsletterConfig",
    "PluginsConfig",
    "PublishConfig",
    "StateConfig",
    "find_config",
    "load_config",
    "parse_config",
    "read_toml",
]
