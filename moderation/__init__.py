"""Moderation for peerchat: the pure-Python engine lives in ``moderation.engine``.

Keep this module free of Django imports: the engine is imported by tools and
tests that run without Django settings.
"""
