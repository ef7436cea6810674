"""Template filters for text that staff may format (room descriptions)."""

import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

STAFF_TAGS = {"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a"}


@register.filter
def staff_html(value: str) -> SafeString:
    """Clean HTML written by staff down to a few formatting tags and safe links."""
    cleaned = nh3.clean(
        value or "",
        tags=STAFF_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
    )
    # nh3 just cleaned it down to the tags above.
    return mark_safe(cleaned)
