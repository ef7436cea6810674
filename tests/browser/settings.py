"""Settings for the daphne process that browser tests drive: the project's settings, plus
the frontend's middleware and URLs in case server/ does not wire them in yet (each is
added only if missing, so once server/ has them this module changes nothing).
tests/browser/test_pages.py checks that server/ has them."""

from server.settings import *  # noqa: F403
from server.settings import MIDDLEWARE

CSP_MIDDLEWARE = "frontend.middleware.ContentSecurityPolicyMiddleware"

if CSP_MIDDLEWARE not in MIDDLEWARE:
    MIDDLEWARE = [MIDDLEWARE[0], CSP_MIDDLEWARE, *MIDDLEWARE[1:]]

ROOT_URLCONF = "tests.browser.urls"
