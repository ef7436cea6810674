from django.urls import path

from moderation import views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("oncall/", views.oncall, name="oncall"),
    path("sessions/<int:session_id>/", views.session_detail, name="session"),
    path("sessions/<int:session_id>/notes/", views.session_notes, name="notes"),
    path("flags/<int:flag_id>/decide/", views.decide_flag, name="decide"),
    path("stats/", views.statistics, name="stats"),
    path("audit/", views.audit_log, name="audit"),
    path("export/", views.export, name="export"),
]
