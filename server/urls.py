from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import signup
from frontend import views as frontend_views
from server.health import healthz

urlpatterns = [
    path("", frontend_views.room_list, name="rooms"),
    path("rooms/<slug:slug>/", frontend_views.room, name="room"),
    path("", include("frontend.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", signup, name="signup"),
    path("accounts/", include("accounts.urls")),
    path("review/", include("moderation.urls")),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
