"""The test process's flow is never served; the declaration check needs it to exist."""


def core_test(case_id: int) -> dict:
    return {"case_id": case_id}
