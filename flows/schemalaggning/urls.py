from django.urls import path

from . import views

app_name = "schemalaggning"

urlpatterns = [
    path("", views.roster_request, name="request"),
    path("cases/<int:case_id>/edit/", views.roster_edit, name="edit"),
    path("cases/<int:case_id>/approve/", views.roster_approve, name="approve"),
    path(
        "cases/<int:case_id>/calendars/<str:staff_id>.ics",
        views.roster_calendar,
        name="calendar",
    ),
]
