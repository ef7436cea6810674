import json

from django import forms
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.data import DELETE, deleted_member_messages, do_delete_account, member_data
from accounts.forms import SignUpForm
from accounts.models import User


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account with a pseudonym and log it in."""
    if request.method == "POST":
        form = SignUpForm(request.POST)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("rooms")
    else:
        form = SignUpForm()
    return render(request, "registration/signup.html", {"form": form})


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """Show what the member can do with their data: download it, delete the account."""
    return render(
        request,
        "accounts/my_data.html",
        {"deletes_messages": deleted_member_messages() == DELETE},
    )


@never_cache
@login_required
def my_data_json(request: HttpRequest) -> HttpResponse:
    """Send the member a copy of their data as a JSON file."""
    user: User = request.user  # type: ignore[assignment]
    body = json.dumps(member_data(user), cls=DjangoJSONEncoder, ensure_ascii=False, indent=1)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="peerchat-my-data.json"'
    return response


class ConfirmPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.user = user

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."), code="password_wrong")
        return password


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    """Ask for the password, then delete the account and log out."""
    user: User = request.user  # type: ignore[assignment]
    form = ConfirmPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        do_delete_account(user)
        logout(request)
        return redirect("accounts:deleted")
    return render(
        request,
        "accounts/delete_account.html",
        {"form": form, "deletes_messages": deleted_member_messages() == DELETE},
    )


def account_deleted(request: HttpRequest) -> HttpResponse:
    """Confirm that the account is gone."""
    return render(request, "accounts/account_deleted.html")
