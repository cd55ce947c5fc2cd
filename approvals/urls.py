from django.urls import path

from . import audit_views, operations_views, views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("start/", views.landing, name="landing"),
    path("search/", views.case_search, name="search"),
    path("team/", views.team, name="team"),
    path("next/", views.next_case, name="next_case"),
    path("cases/<int:case_id>/notes/", views.note_submit, name="note"),
    path("requests/<int:request_id>/decline-cosign/", views.cosign_decline, name="cosign_decline"),
    path("requests/<int:request_id>/hand-over/", views.hand_over, name="hand_over"),
    path("audit/search/", views.audit_case_search, name="audit_case_search"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("material/<int:material_id>/", views.material_html, name="material"),
    path("material/<int:material_id>/pdf/", views.material_pdf, name="material_pdf"),
    path("documents/<int:document_id>/pdf/", views.document_pdf, name="document_pdf"),
    path("requests/<int:request_id>/decide/", views.decision_submit, name="decide"),
    path("requests/claim/", views.request_claim, name="claim_from_queue"),
    path("requests/<int:request_id>/claim/", views.request_claim, name="claim"),
    path("requests/<int:request_id>/unclaim/", views.request_unclaim, name="unclaim"),
    path("requests/<int:request_id>/reassign/", views.request_reassign, name="reassign"),
    path("audit/", audit_views.audit_search, name="audit_search"),
    path("audit/cases/<int:case_id>/", audit_views.audit_case, name="audit_case"),
    path(
        "audit/cases/<int:case_id>/export.json",
        audit_views.audit_export_json,
        name="audit_export_json",
    ),
    path(
        "audit/cases/<int:case_id>/export.pdf",
        audit_views.audit_export_pdf,
        name="audit_export_pdf",
    ),
    path(
        "audit/material/<int:material_id>/<str:fmt>/",
        audit_views.audit_material,
        name="audit_material",
    ),
    path("audit/documents/<int:document_id>/", audit_views.audit_document, name="audit_document"),
    path("audit/access-log/", audit_views.audit_access_log, name="audit_access_log"),
    path("audit/statistics/", audit_views.audit_statistics, name="audit_statistics"),
    path("operations/", operations_views.catalogue, name="operations"),
    path("operations.json", operations_views.catalogue_json, name="operations_json"),
]
