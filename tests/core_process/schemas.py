from pydantic import Field, StrictInt

from approvals.schemas import Person, Strict


class TestApplication(Strict):
    """A test application: one person, one sum asked for."""

    process: str = Field(pattern=r"^core-test(-[a-z]+)?$")
    external_ref: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    applicant: Person
    amount: StrictInt = Field(ge=0, le=1_000_000)
