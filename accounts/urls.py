from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("me/", views.my_data, name="me"),
    path("me/data.json", views.my_data_json, name="data"),
    path("me/delete/", views.delete_account, name="delete"),
    path("me/deleted/", views.account_deleted, name="deleted"),
]
