from django.urls import path

from . import views

app_name = "bibliotek_aterlan"

urlpatterns = [
    path("requests/<int:request_id>/settle/", views.settle, name="settle"),
]
