"""Verification codes printed on certificates, for `GET /verify/<code>/` without login.

A reader of a certificate (a landlord, a new employer) types the code to see who issued
it, when, and the hash of the document that was issued, and can compare that hash with the
PDF they were given. So the code must be:

- unguessable: 75 random bits from `secrets` (not derived from the employee or the date);
  with a million codes issued, an attacker guessing a thousand times a second needs on
  average about a million years to hit any one of them (2^75 / 10^6 / 10^3 s);
- short and human-typable: 15 characters of Crockford's base32 (digits and letters
  without I, L, O, U), shown in groups of four; typing is forgiving: case, spaces, hyphens
  and the look-alikes O→0, I/L→1 are normalised away;
- self-checking: a 16th character is a Luhn mod 32 check character, so any single
  mistyped character, and any swap of two adjacent characters except 0 ↔ Z, is refused
  before the database is asked.

The code is stored (phase 2) with the document's SHA-256; it proves nothing by itself.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
DATA_LENGTH = 15  # 15 × 5 = 75 random bits
CODE_LENGTH = DATA_LENGTH + 1
GROUP = 4

VERIFICATION_CODE_FORMAT = "VERIFICATION_CODE_FORMAT"
VERIFICATION_CODE_CHECK = "VERIFICATION_CODE_CHECK"


class VerificationCodeError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _luhn_mod_n_check(chars: str) -> str:
    """Luhn mod N (N = 32) check character over `chars`, weights 2, 1, … from the right."""
    n = len(ALPHABET)
    total = 0
    factor = 2
    for char in reversed(chars):
        addend = factor * _VALUE[char]
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def _is_valid(chars: str) -> bool:
    """Luhn mod N validation over the data characters and their check character."""
    n = len(ALPHABET)
    total = 0
    factor = 1
    for char in reversed(chars):
        addend = factor * _VALUE[char]
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return total % n == 0


def format_code(compact: str) -> str:
    """ "ABCD-EFGH-JKMN-PQRS": the form printed and shown."""
    return "-".join(compact[i : i + GROUP] for i in range(0, len(compact), GROUP))


def verification_code_new() -> str:
    """A new random code in its printed form."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_LENGTH))
    return format_code(data + _luhn_mod_n_check(data))


def verification_code_normalise(typed: str) -> str:
    """The canonical compact form (16 characters) of a typed code, or VerificationCodeError.

    The canonical form is what is stored and looked up; never look up what was typed.
    """
    if not isinstance(typed, str):
        raise VerificationCodeError(VERIFICATION_CODE_FORMAT, "A code is text.")
    compact = "".join(typed.split()).replace("-", "").upper().translate(_LOOK_ALIKES)
    if len(compact) != CODE_LENGTH or any(char not in _VALUE for char in compact):
        raise VerificationCodeError(
            VERIFICATION_CODE_FORMAT,
            f"A verification code has {CODE_LENGTH} letters and digits, e.g. ABCD-EFGH-JKMN-PQRS.",
        )
    if not _is_valid(compact):
        raise VerificationCodeError(
            VERIFICATION_CODE_CHECK, "The code is mistyped: its check character does not match."
        )
    return compact


def verify_url(*, site_url: str, code: str) -> str:
    """The address printed on the certificate: `<site>/verify/<compact code>/`."""
    return f"{site_url.rstrip('/')}/verify/{verification_code_normalise(code)}/"
