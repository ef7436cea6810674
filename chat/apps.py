from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        # Close the sockets of people whose access changes (chat/access.py).
        from chat import access  # noqa: F401
