"""Publish server frames to channel-layer groups. Only actions call these."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat.protocol import ServerFrame


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def moderators_group(room_id: int) -> str:
    return f"room.{room_id}.mod"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def frame_event(frame: ServerFrame) -> dict[str, str]:
    """Wrap a frame, encoded once, as a layer event every receiving socket relays as is."""
    return {"type": "chat.frame", "text": frame.to_text()}


async def apublish(group: str, frame: ServerFrame) -> None:
    """Send a frame to every socket in a group (from async code)."""
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send(group, frame_event(frame))


def publish(group: str, frame: ServerFrame) -> None:
    """Send a frame to every socket in a group (from sync code; call it after commit)."""
    async_to_sync(apublish)(group, frame)
