from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("material/<int:material_id>/", views.material_html, name="material"),
    path("material/<int:material_id>/pdf/", views.material_pdf, name="material_pdf"),
    path("letters/<int:letter_id>/pdf/", views.letter_pdf, name="letter_pdf"),
    path("requests/<int:request_id>/decide/", views.decision_submit, name="decide"),
    path("audit/", views.audit_search, name="audit_search"),
    path("audit/cases/<int:case_id>/", views.audit_case, name="audit_case"),
]
