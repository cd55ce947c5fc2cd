"""One lock order for every writer: the case, then its request, then the trail's head.

Every transaction that changes a case's state takes the locks in this order, so no two
writers ever wait on each other in a circle (three people signing at once deadlocked
when one held the request and the case while another held the trail's head). The
trail (audit.audit_append) locks the case itself before the head; writers lock the
case and the request through `request_lock` before anything else.
"""

from .models import ApprovalRequest, Case


def case_lock(case_id: int) -> None:
    """Lock the case row (FOR NO KEY UPDATE: foreign-key checks of new rows still pass)."""
    list(Case.objects.select_for_update(no_key=True).filter(pk=case_id).values_list("pk"))


def request_lock(request_id: int, *related: str) -> ApprovalRequest:
    """Lock the request's case, then the request alone (never the rows it is joined to)."""
    case_id = ApprovalRequest.objects.filter(pk=request_id).values_list("case_id", flat=True).get()
    case_lock(case_id)
    return (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related(*related)
        .get(pk=request_id)
    )
