"""newsroom: build newsletters out of plugins.

Plugin authors import everything they need from here::

    from newsroom import Item, Source, SourceError, hookimpl
"""

from newsroom import _moved
from newsroom.__about__ import __version__
from newsroom.core.components import (
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
from newsroom.core.errors import (
    BuildError,
    ConfigError,
    FetchError,
    NewsroomError,
    PluginError,
    SourceError,
    StateError,
)
from newsroom.core.feedback import (
    Event,
    Feedback,
    FeedbackReceiver,
    FeedbackRequest,
    Refused,
)
from newsroom.core.hookspecs import API_VERSION, hookimpl
from newsroom.core.model import (
    BuildWarning,
    Edition,
    Item,
    ItemSource,
    Newsletter,
    Section,
    SourceReport,
)
from newsroom.core.transport import (
    Channel,
    DeliveryFailure,
    Envelope,
    OutgoingMessage,
    PermanentFailure,
    SendingQuota,
    TemporaryFailure,
    Transport,
    TransportContext,
    UncertainDelivery,
)

# `import newsroom.feeds` and the other paths of the flat layout keep working (warning once).
_moved.install()

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
    "Event",
    "Feedback",
    "FeedbackReceiver",
    "FeedbackRequest",
    "FetchContext",
    "FetchError",
    "Filter",
    "FilterContext",
    "Item",
    "ItemSource",
    "Newsletter",
    "NewsroomError",
    "Options",
    "OutgoingMessage",
    "PermanentFailure",
    "PluginError",
    "Refused",
    "RenderContext",
    "Renderer",
    "Section",
    "SectionLayout",
    "SendingQuota",
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
