"""The certificate robot's connectors: the HR/payroll system and the funds' delivery service.

Which implementation is used is a setting, read on each call (not at import):

- `ANSTALLNINGSINTYG_HR_CONNECTOR` (dotted path; default the file-backed one) with
  `ANSTALLNINGSINTYG_HR_DATA_DIR` (default `data/anstallningsintyg/`);
- `ANSTALLNINGSINTYG_DELIVERY_CONNECTOR` (default the file-backed stand-in) with
  `ANSTALLNINGSINTYG_DELIVERY_DIR` (default `state/arbetsgivarintyg/`, git-ignored).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from flows.anstallningsintyg.connectors.akassa import ArbetsgivarintygDelivery
from flows.anstallningsintyg.connectors.hr import HRConnector

DEFAULT_HR_CONNECTOR = "flows.anstallningsintyg.connectors.hr.FileHRConnector"
DEFAULT_DELIVERY_CONNECTOR = "flows.anstallningsintyg.connectors.akassa.FileDelivery"


def get_hr_connector() -> HRConnector:
    connector_class = import_string(
        getattr(settings, "ANSTALLNINGSINTYG_HR_CONNECTOR", DEFAULT_HR_CONNECTOR)
    )
    data_dir = getattr(
        settings, "ANSTALLNINGSINTYG_HR_DATA_DIR", settings.BASE_DIR / "data" / "anstallningsintyg"
    )
    return connector_class(data_dir=data_dir)


def get_delivery_connector() -> ArbetsgivarintygDelivery:
    connector_class = import_string(
        getattr(settings, "ANSTALLNINGSINTYG_DELIVERY_CONNECTOR", DEFAULT_DELIVERY_CONNECTOR)
    )
    folder = getattr(
        settings, "ANSTALLNINGSINTYG_DELIVERY_DIR", settings.STATE_DIR / "arbetsgivarintyg"
    )
    return connector_class(folder=folder)
