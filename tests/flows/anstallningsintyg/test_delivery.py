"""The arbetsgivarintyg delivery stand-in: one JSON file per delivery, idempotent by id."""

import json

import pytest

from flows.anstallningsintyg.connectors import get_delivery_connector
from flows.anstallningsintyg.connectors.akassa import (
    ArbetsgivarintygDelivery,
    DeliveryConflict,
    DeliveryInvalid,
    DeliveryUnavailable,
    FileDelivery,
    payload_sha256,
)

PAYLOAD = {"kind": "arbetsgivarintyg", "employee": {"id": "E1004"}, "employments": [{"x": 1}]}


def test_delivery_writes_one_file_with_payload_and_hash(tmp_path):
    """A delivery is `<id>.json` holding the payload, its SHA-256 and the time."""
    receipt = FileDelivery(folder=tmp_path).deliver(delivery_id="agi-2026-0001", payload=PAYLOAD)
    assert receipt.already_delivered is False
    assert [p.name for p in tmp_path.iterdir()] == ["agi-2026-0001.json"]
    record = json.loads((tmp_path / "agi-2026-0001.json").read_text(encoding="utf-8"))
    assert record["payload"] == PAYLOAD
    assert record["payload_sha256"] == receipt.payload_sha256 == payload_sha256(PAYLOAD)
    assert record["delivered_at"] == receipt.delivered_at


def test_repeating_a_delivery_returns_the_first_receipt(tmp_path):
    """The same id and payload again (a retried task) writes nothing and answers as before."""
    first = FileDelivery(folder=tmp_path).deliver(delivery_id="agi-1", payload=PAYLOAD)
    again = FileDelivery(folder=tmp_path).deliver(delivery_id="agi-1", payload=dict(PAYLOAD))
    assert again.already_delivered is True
    assert (again.delivered_at, again.payload_sha256) == (first.delivered_at, first.payload_sha256)
    assert len(list(tmp_path.iterdir())) == 1


def test_same_id_with_other_content_is_refused_and_the_first_kept(tmp_path):
    """A different payload under a used id is a conflict; the delivered file is not replaced."""
    delivery = FileDelivery(folder=tmp_path)
    delivery.deliver(delivery_id="agi-1", payload=PAYLOAD)
    with pytest.raises(DeliveryConflict):
        delivery.deliver(delivery_id="agi-1", payload={**PAYLOAD, "employments": []})
    record = json.loads((tmp_path / "agi-1.json").read_text(encoding="utf-8"))
    assert record["payload"] == PAYLOAD


@pytest.mark.parametrize("delivery_id", ["", "../escape", "a/b", ".hidden", "x" * 81, None])
def test_ids_that_could_leave_the_folder_are_refused(tmp_path, delivery_id):
    with pytest.raises(DeliveryInvalid):
        FileDelivery(folder=tmp_path).deliver(delivery_id=delivery_id, payload=PAYLOAD)
    assert list(tmp_path.iterdir()) == []


def test_payload_that_is_not_json_is_refused(tmp_path):
    with pytest.raises(DeliveryInvalid):
        FileDelivery(folder=tmp_path).deliver(delivery_id="a", payload={"when": object()})


def test_unwritable_folder_is_unavailable(tmp_path):
    """A folder that cannot be created raises DeliveryUnavailable, for the flow to retry."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DeliveryUnavailable):
        FileDelivery(folder=blocker / "deliveries").deliver(delivery_id="a", payload=PAYLOAD)


def test_no_temporary_files_are_left_behind(tmp_path):
    delivery = FileDelivery(folder=tmp_path)
    delivery.deliver(delivery_id="a", payload=PAYLOAD)
    delivery.deliver(delivery_id="a", payload=PAYLOAD)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_setting_chooses_the_folder(settings, tmp_path):
    settings.ANSTALLNINGSINTYG_DELIVERY_DIR = tmp_path / "out"
    connector = get_delivery_connector()
    assert isinstance(connector, ArbetsgivarintygDelivery)
    connector.deliver(delivery_id="z", payload=PAYLOAD)
    assert (tmp_path / "out" / "z.json").exists()
