"""The Channels tutorial chat, as the baseline that bench/load.py compares peerchat with."""
