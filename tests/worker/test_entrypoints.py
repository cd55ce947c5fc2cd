"""Flow entrypoints: the registry's "module:attribute" becomes Prefect's module path."""

import pytest

from flows.worker.deployments import load_flow, module_path


def test_module_attribute_becomes_a_dotted_module_path():
    """A module path lets the engine import the flow (cached in a warm child), not re-read a file."""
    assert module_path("flows.ekonomiskt_bistand.flow:ekonomiskt_bistand") == (
        "flows.ekonomiskt_bistand.flow.ekonomiskt_bistand"
    )


@pytest.mark.parametrize(
    "bad", ["flows/ekonomiskt_bistand.py:flow", "flows.ekonomiskt_bistand", "a:b.c", ":flow", "m:"]
)
def test_other_forms_are_refused_with_a_clear_error(bad):
    """File paths, missing or nested attributes are refused before anything is deployed."""
    with pytest.raises(ValueError, match="module:attribute"):
        module_path(bad)


def test_load_flow_returns_the_flow_object():
    """The test flow loads by its entrypoint, as the deployment child loads every flow."""
    flow = load_flow("tests.worker.warm_flow:warm_demo")
    assert flow.name == "warm-demo"
