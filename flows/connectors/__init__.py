"""Register connectors: the flows' only way to external registers."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from flows.connectors.base import RegisterConnector


def get_connector() -> RegisterConnector:
    """Build the connector named by `settings.REGISTER_CONNECTOR`.

    Settings are read on each call, not at import, so tests and deployments can switch
    the connector without reloading modules.
    """
    connector_class = import_string(settings.REGISTER_CONNECTOR)
    return connector_class(data_dir=settings.REGISTER_DATA_DIR)
