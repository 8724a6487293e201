"""newsroom: build newsletters out of plugins.

Plugin authors import everything they need from here::

    from newsroom import Item, Source, SourceError, hookimpl
"""

from newsroom.__about__ import __version__
from newsroom.components import (
    Component,
    Context,
    FetchContext,
    Filter,
    FilterContext,
    Options,
    RenderContext,
    Renderer,
    SectionLayout,
    Source,
    secret_value,
)
from newsroom.errors import (
    BuildError,
    ConfigError,
    FetchError,
    NewsroomError,
    PluginError,
    SourceError,
    StateError,
)
from newsroom.hookspecs import API_VERSION, hookimpl
from newsroom.model import BuildWarning, Edition, Item, Newsletter, Section, SourceReport
from newsroom.transport import (
    Channel,
    DeliveryFailure,
    Envelope,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    Transport,
    TransportContext,
    UncertainDelivery,
)

__all__ = [
    "API_VERSION",
    "BuildError",
    "BuildWarning",
    "Channel",
    "Component",
    "ConfigError",
    "Context",
    "DeliveryFailure",
    "Edition",
    "Envelope",
    "FetchContext",
    "FetchError",
    "Filter",
    "FilterContext",
    "Item",
    "Newsletter",
    "NewsroomError",
    "Options",
    "OutgoingMessage",
    "PermanentFailure",
    "PluginError",
    "RenderContext",
    "Renderer",
    "Section",
    "SectionLayout",
    "Source",
    "SourceError",
    "SourceReport",
    "StateError",
    "TemporaryFailure",
    "Transport",
    "TransportContext",
    "UncertainDelivery",
    "__version__",
    "hookimpl",
    "secret_value",
]
