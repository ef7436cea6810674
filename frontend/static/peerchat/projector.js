// The projector view: the room's messages in large text for a physical room. Read-only,
// no member list; flags and held messages never show here.
import { RoomClient } from "./client.js";
import { $, bdi, el, fill, format, gettext, linkify, timeEl } from "./ui.js";

const root = $("projector");
const client = new RoomClient({
  slug: root.dataset.slug,
  userId: Number(root.dataset.user),
  readOnly: true,
});
const list = $("messages");
const nodes = new Map();
const KEEP = 30; // a projector shows the latest messages; older ones scroll away

function render(message) {
  return el(
    "li",
    { className: "msg" },
    el("p", { className: "meta" }, bdi(message.author.name, "author"), " ", timeEl(message.created)),
    el("p", { className: "body", dir: "auto" }, linkify(message.body)),
  );
}

client.on("message", ({ message }) => {
  const node = render(message);
  let next = client.store.after(message);
  while (next && !nodes.has(next.id)) next = client.store.after(next);
  list.insertBefore(node, next ? nodes.get(next.id) : null);
  nodes.set(message.id, node);
  while (client.store.list.length > KEEP) {
    const oldest = client.store.list[0];
    nodes.get(oldest.id)?.remove();
    nodes.delete(oldest.id);
    client.store.remove(oldest.id);
  }
  $("end").scrollIntoView({ block: "end" });
});

client.on("message.hidden", ({ id }) => {
  nodes.get(id)?.remove();
  nodes.delete(id);
});

function renderState(room) {
  const pinned = room.pinned;
  $("pinned").hidden = !pinned;
  if (pinned) $("pinned-body").replaceChildren(linkify(pinned.body));
  const session = room.session;
  $("session").textContent = !session
    ? ""
    : session.mode === "hybrid"
      ? format(gettext("Hybrid session, %(count)s in the room"), { count: session.in_person_count || 0 })
      : gettext("Session open");
}

client.on("hello", (hello) => {
  $("room-name").textContent = hello.room.name;
  renderState(hello.room);
});
client.on("room.state", (state) => renderState(state));
client.on("hands", ({ speaking }) => {
  $("speaking").replaceChildren(speaking ? fill(gettext("Speaking now: %(name)s"), { name: bdi(speaking.name) }) : "");
});
client.on("state", ({ state }) => {
  $("connection").hidden = state === "open";
  $("connection").textContent = state === "open" ? "" : gettext("Reconnecting…");
});

client.start();
