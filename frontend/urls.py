"""Pages of the web client beyond `/` and `/rooms/<slug>/` (routed in server/urls.py).

Include with ``path("", include("frontend.urls"))``.
"""

from django.urls import path

from frontend import views

urlpatterns = [
    path("rooms/<slug:slug>/console/", views.console, name="room-console"),
    path("rooms/<slug:slug>/projector/", views.projector, name="room-projector"),
    path("jsi18n/<str:lang>/", views.javascript_catalog, name="javascript-catalog"),
]
