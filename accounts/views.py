from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.forms import SignUpForm


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
