from django.urls import path

from chat.consumers import RoomConsumer
from moderation.consumers import OnCallConsumer

websocket_urlpatterns = [
    path("ws/rooms/<slug:slug>/", RoomConsumer.as_asgi()),
    path("ws/oncall/", OnCallConsumer.as_asgi()),
]
