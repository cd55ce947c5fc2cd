"""Pages of the certificate robot, mounted at /p/anstallningsintyg/ (municipality/urls.py)."""

from django.urls import path

from . import views

app_name = "anstallningsintyg"

urlpatterns = [
    path("", views.self_service, name="self_service"),
    path("certificates/<int:document_id>/pdf/", views.own_certificate_pdf, name="own_pdf"),
    path("hr/", views.hr_request, name="hr_request"),
    path("exceptions/<int:request_id>/settle/", views.exception_settle, name="settle"),
    path("verify/", views.verify_form, name="verify_form"),
    path("verify/<str:code>/", views.verify, name="verify"),
]


# The address printed on every certificate, at the site's root (municipality/urls.py).
root_urlpatterns = [path("verify/<str:code>/", views.verify, name="anstallningsintyg_verify")]
