// Minimal room client: connect, accept norms, show and send messages.
const root = document.getElementById("room");
const list = document.getElementById("messages");
const status = document.getElementById("connection");
const notice = document.getElementById("notice");
const seen = new Set();
let socket;

function show(message) {
  if (seen.has(message.id)) return;
  seen.add(message.id);
  const item = document.createElement("li");
  const who = document.createElement("bdi");
  who.className = "author";
  who.textContent = message.author.name;
  const text = document.createElement("span");
  text.textContent = ": " + message.body;
  item.append(who, text);
  list.append(item);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/rooms/${root.dataset.slug}/`);
  socket.addEventListener("open", () => { status.textContent = "Connected"; });
  socket.addEventListener("close", () => { status.textContent = "Disconnected"; });
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "hello") {
      frame.messages.forEach(show);
      const norms = document.getElementById("norms");
      document.getElementById("norms-text").textContent = frame.norms.text;
      norms.hidden = frame.norms.accepted;
      document.getElementById("accept-norms").onclick = () =>
        socket.send(JSON.stringify({ type: "norms.accept", version: frame.norms.version }));
    } else if (frame.type === "norms.accepted") {
      document.getElementById("norms").hidden = true;
    } else if (frame.type === "message") {
      show(frame);
    } else if (frame.type === "error") {
      notice.textContent = frame.detail;
    }
  });
}

document.getElementById("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = document.getElementById("body");
  if (!body.value.trim()) return;
  socket.send(JSON.stringify({ type: "message.send", client_id: crypto.randomUUID(), body: body.value }));
  body.value = "";
});

connect();
