"""Services: every rule about cases, material, decisions and documents, one module per job.

Views, the API, flows, management commands and the admin call these functions;
none of them holds a rule of its own. A newcomer finds each job by name:

* intake        — a payload becomes a case (API intake, robots' own scans)
* robot         — what robot steps record: start, failure, steps, snapshots, material
* signing       — the gate: first and second signatures (the only way a Decision exists)
* verification  — after resume: the claim re-checked against the signed decision
* execution     — a verified decision carried out; a robot's own completion
* exceptions    — service processes' exceptions settled by a person
* supplements   — completion after a return
* documents     — letters, certificates and other documents written and hashed
* assignment    — claims, releases, reassignments in the inbox

Who may see, hold, sign or settle what is approvals.access; event kinds are
approvals.audit.Kind.
"""

from ..access import audit_page_record, case_access_record, holds_object_perm  # noqa: F401
from ..audit import actor_label_for  # noqa: F401
from ..workdays import working_days_after  # noqa: F401
from .documents import document_create  # noqa: F401
from .errors import (  # noqa: F401
    APPLICATION_DUPLICATE_DIFFERS,
    APPLICATION_NOT_INTEGRATION,
    APPLICATION_UNKNOWN_PROCESS,
    CASE_MODE_FORBIDS,
    EXCEPTION_ACTION_INVALID,
    EXCEPTION_NO_ACCESS,
    EXCEPTION_NOT_OPEN,
    EXCEPTION_REASON_MISSING,
    INTAKE_SATURATED,
    SUPPLEMENT_NOT_EXPECTED,
    SUPPLEMENT_UNKNOWN,
    GateRefused,
    IntakeSaturated,
    ServiceError,
)
from .exceptions import exception_settle  # noqa: F401
from .execution import case_complete_by_robot, decision_execute  # noqa: F401
from .intake import (  # noqa: F401
    application_receive,
    case_open,
    intake_backlog,
    intake_saturation,
    parties_of,
    parties_store,
)
from .robot import (  # noqa: F401
    OpenedRequest,
    case_flow_failed,
    case_flow_started,
    material_compile,
    register_snapshot_for,
    register_snapshot_store,
    robot_step_record,
)
from .signing import (  # noqa: F401
    decision_run_input,
    decision_sign,
    decision_sign_refusal_record,
    party_personnummer,
)
from .supplements import (  # noqa: F401
    completion_deadline_verify,
    completion_deadlines_check,
    completion_flags,
    material_preparer,
    payload_current,
    supplement_receive,
    supplement_verify,
)
from .verification import VerifiedDecision, decision_verify_for_execution  # noqa: F401
