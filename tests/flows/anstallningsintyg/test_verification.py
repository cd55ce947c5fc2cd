"""Verification codes: random, short, typable, and refusing typos before any lookup."""

import pytest

from flows.anstallningsintyg import verification
from flows.anstallningsintyg.verification import (
    ALPHABET,
    VERIFICATION_CODE_CHECK,
    VERIFICATION_CODE_FORMAT,
    VerificationCodeError,
    verification_code_new,
    verification_code_normalise,
    verify_url,
)


def test_printed_form_is_four_groups_of_four_crockford_characters():
    """A new code reads like "7K3M-Q9TX-2HBD-RW4C": 16 characters, no I, L, O or U."""
    code = verification_code_new()
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert set("".join(groups)) <= set(ALPHABET)
    assert not set("ILOU") & set(code)


def test_new_codes_validate_and_do_not_repeat():
    """Every new code passes its own check; 2 000 codes are all different."""
    codes = {verification_code_new() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(verification_code_normalise(c) == c.replace("-", "") for c in codes)


def test_codes_come_from_the_secrets_module(monkeypatch):
    """The code's characters are drawn with `secrets`, not a seeded generator."""
    drawn = []

    def choice(alphabet):
        drawn.append(alphabet)
        return "7"

    monkeypatch.setattr(verification.secrets, "choice", choice)
    code = verification_code_new()
    assert len(drawn) == 15
    assert code.startswith("7777-7777-7777-777")


def test_typing_is_forgiving_about_case_spaces_hyphens_and_look_alikes():
    """Lower case, spaces, no hyphens, O for 0 and I/L for 1 all reach the same code."""
    compact = verification_code_new().replace("-", "")
    typed = " ".join(compact[i : i + 4] for i in range(0, 16, 4)).lower()
    assert verification_code_normalise(typed) == compact
    with_look_alikes = compact.replace("0", "o").replace("1", "l")
    assert verification_code_normalise(with_look_alikes) == compact


def test_every_single_mistyped_character_is_refused():
    """Changing any one character to any other is caught by the check character."""
    compact = verification_code_new().replace("-", "")
    for position in range(16):
        for char in ALPHABET:
            if char == compact[position]:
                continue
            typo = compact[:position] + char + compact[position + 1 :]
            with pytest.raises(VerificationCodeError) as raised:
                verification_code_normalise(typo)
            assert raised.value.code == VERIFICATION_CODE_CHECK


def test_swapped_neighbours_are_refused_except_zero_and_z():
    """A swap of two adjacent different characters is caught, except the pair 0 ↔ Z (Luhn mod 32)."""
    base = "7K3MQ9TX2HBDRW4"
    code = base + verification._luhn_mod_n_check(base)
    for i in range(15):
        if code[i] == code[i + 1]:
            continue
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        with pytest.raises(VerificationCodeError):
            verification_code_normalise(swapped)
    blind = "0Z" + "A" * 13
    blind_code = blind + verification._luhn_mod_n_check(blind)
    assert verification_code_normalise("Z0" + blind_code[2:])  # the known blind spot


@pytest.mark.parametrize("typed", ["", "ABCD", "ABCD-EFGH-JKMN-PQRS-T", "ABCD-EFGH-JKMN-PQR!", 42])
def test_wrong_length_or_characters_are_format_errors(typed):
    with pytest.raises(VerificationCodeError) as raised:
        verification_code_normalise(typed)
    assert raised.value.code == VERIFICATION_CODE_FORMAT


def test_verify_url_carries_the_compact_code():
    """The printed address is <site>/verify/<16 characters>/, whatever the site's trailing slash."""
    code = verification_code_new()
    assert verify_url(site_url="https://intyg.example/", code=code) == (
        f"https://intyg.example/verify/{code.replace('-', '')}/"
    )
