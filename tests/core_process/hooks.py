"""Hooks of the test process."""


def parties(*, payload: dict) -> list[tuple[str, str, str]]:
    return [(payload["applicant"]["personnummer"], "applicant", payload["applicant"]["name"])]


def case_data(*, payload: dict) -> dict:
    return {"asked": payload["amount"]}


def exception_actions() -> list[str]:
    return ["done_by_hand", "let_lapse"]
