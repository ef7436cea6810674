"""The project's URLs, plus the frontend's pages if server/urls.py does not include them."""

from django.urls import include, path

import frontend.urls
from server.urls import urlpatterns as project_urlpatterns


def includes_frontend() -> bool:
    return any(
        getattr(pattern, "urlconf_name", None) in (frontend.urls, "frontend.urls")
        for pattern in project_urlpatterns
    )


urlpatterns = list(project_urlpatterns)
if not includes_frontend():
    urlpatterns.append(path("", include("frontend.urls")))
