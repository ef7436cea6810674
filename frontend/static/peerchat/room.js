// The room page: norms, messages, the composer and the state of each own message,
// presence, typing, hands, reports, pinned message, mutes, breaks and help lines.
// Moderators' tools live in console.js, loaded only on the console page.
import { RoomClient } from "./client.js";
import {
  $,
  Announcer,
  ask,
  bdi,
  closeDialog,
  el,
  fill,
  format,
  formatTime,
  gettext,
  linkify,
  ngettext,
  openDialog,
  prefs,
  timeEl,
} from "./ui.js";

const root = $("room");
const me = { id: Number(root.dataset.user), role: root.dataset.role };
const moderates = me.role === "moderator" || me.role === "supervisor";
const client = new RoomClient({ slug: root.dataset.slug, userId: me.id });
const announcer = new Announcer($("announcer"));
const list = $("messages");
const outboxList = $("outbox");
const body = $("body");

const view = {
  nodes: new Map(), // message id -> <li>
  pending: new Map(), // client_id -> <li> of an own message not in the room stream yet
  roles: new Map(), // user id -> role, from presence
  room: null,
  norms: null,
  members: [],
  queue: [],
  speaking: null,
  mutedUntil: null,
  muteReason: "",
  breakUntil: 0,
  unread: 0,
  title: document.title,
};

// Set by console.js on the console page: called as the room changes.
const moderatorHooks = {};

const BREAK_KEY = `break:${root.dataset.slug}:${me.id}`;
const SUGGEST_BREAK_AFTER_MS = 45 * 60 * 1000;

// --- connection state ------------------------------------------------------------------

const STATE_TEXT = {
  connecting: () => gettext("Connecting…"),
  reconnecting: () => gettext("Reconnecting…"),
  open: () => gettext("Connected"),
  waiting: () =>
    client.outbox.size
      ? gettext("Connection lost. Trying again; your messages will be sent when it is back.")
      : gettext("Connection lost. Trying again…"),
  offline: () => gettext("You are offline. Your messages will be sent when you are back online."),
  closed: () => gettext("Not connected."),
};

client.on("state", ({ state, code, notice }) => {
  const node = $("connection");
  const text = STATE_TEXT[state]();
  // Say "connected" once it matters (after a loss), not on every first load.
  if (node.textContent !== text) node.textContent = text;
  node.dataset.state = state;
  if (state === "closed") showClosed(code, notice);
  updateComposer();
});

// --- hello, norms ----------------------------------------------------------------------

client.on("hello", (hello) => {
  view.room = hello.room;
  view.norms = hello.norms;
  me.role = hello.you.role;
  $("room-name").textContent = hello.room.name;
  setMuted(hello.you.muted_until, "");
  renderMembers(hello.members);
  renderHands(hello.hands, null);
  renderRoomState(hello.room);
  showNormsOrChat();
  resumeBreak();
});

function showNormsOrChat() {
  const needsNorms = !moderates && view.norms && !view.norms.accepted;
  $("norms").hidden = !needsNorms;
  $("chat").hidden = needsNorms;
  if (needsNorms) {
    $("norms-text").textContent = view.norms.text;
    $("norms-title").focus();
  }
}

$("accept-norms").addEventListener("click", () => {
  if (!view.norms) return;
  if (!client.send({ type: "norms.accept", version: view.norms.version })) {
    $("norms-error").textContent = gettext("Not connected. Try again in a moment.");
  }
});

client.on("norms.accepted", ({ version }) => {
  view.norms = { ...view.norms, version, accepted: true };
  showNormsOrChat();
  scrollToEnd();
  body.focus();
});

// --- messages --------------------------------------------------------------------------

function authorLabel(author) {
  const wrap = el("span", { className: "who" }, bdi(author.name, "author"));
  if (view.roles.get(author.id) === "moderator" || view.roles.get(author.id) === "supervisor") {
    wrap.append(" ", el("span", { className: "badge role", text: gettext("moderator") }));
  }
  return wrap;
}

function renderMessage(message) {
  const own = message.author && message.author.id === me.id;
  const item = el("li", {
    className: own ? "msg own" : "msg",
    id: `m-${message.id}`,
    dataset: { id: message.id, seq: message.seq ?? "" },
  });
  const meta = el("div", { className: "meta" }, authorLabel(message.author), " ", timeEl(message.created));
  const text = el("p", { className: "body", dir: "auto" }, linkify(message.body));
  item.append(meta, text);
  const actions = el("div", { className: "actions" });
  if (!own && !moderates) {
    actions.append(
      el("button", {
        type: "button",
        className: "quiet",
        "aria-label": format(gettext("Report the message from %(name)s"), { name: message.author.name }),
        text: gettext("Report"),
        onclick: () => reportMessage(message),
      }),
    );
  }
  if (moderates) {
    actions.append(
      el("button", {
        type: "button",
        className: "quiet",
        text: gettext("Pin"),
        "aria-label": format(gettext("Pin the message from %(name)s"), { name: message.author.name }),
        onclick: () => client.send({ type: "mod.pin", message_id: message.id }),
      }),
      el("button", {
        type: "button",
        className: "quiet",
        text: gettext("Hide"),
        "aria-label": format(gettext("Hide the message from %(name)s"), { name: message.author.name }),
        onclick: () => hideMessage(message),
      }),
    );
  }
  if (actions.childElementCount) item.append(actions);
  if (own) item.append(el("p", { className: "state sent", text: gettext("Sent") }));
  return item;
}

function nearBottom() {
  const scroller = document.scrollingElement;
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 160;
}

function scrollToEnd() {
  // Not scrollIntoView on the composer: it is sticky, so it always counts as in view.
  const scroller = document.scrollingElement;
  scroller.scrollTop = scroller.scrollHeight;
  $("jump").hidden = true;
}

function insertMessage(message) {
  const node = renderMessage(message);
  // Before the first later message already on the page (a batch arrives oldest first).
  let next = client.store.after(message);
  while (next && !view.nodes.has(next.id)) next = client.store.after(next);
  list.insertBefore(node, next ? view.nodes.get(next.id) : null);
  view.nodes.set(message.id, node);
  return node;
}

client.on("message", ({ message, source }) => {
  const pending = view.pending.get(message.client_id);
  if (pending && message.author.id === me.id) {
    pending.remove();
    view.pending.delete(message.client_id);
  }
  const atEnd = nearBottom();
  insertMessage(message);
  moderatorHooks.message?.(message);
  if (source === "history") return;
  const own = message.author.id === me.id;
  if (source === "live" && !own) {
    announcer.say(format(gettext("%(name)s: %(text)s"), { name: message.author.name, text: message.body }));
    countUnread();
  }
  if (own || source === "hello" || atEnd) scrollToEnd();
  else if (!own) $("jump").hidden = false;
});

client.on("resumed", () => {
  const node = $("connection");
  if (node.dataset.state === "open") node.textContent = gettext("Connected. You are up to date.");
});

client.on("message.hidden", ({ id }) => {
  view.nodes.get(id)?.remove();
  view.nodes.delete(id);
  for (const [clientId, node] of view.pending) {
    if (Number(node.dataset.id) === id) {
      setPendingState(node, "hidden", gettext("A moderator did not let this message through."));
      view.pending.delete(clientId);
    }
  }
  moderatorHooks.hidden?.(id);
});

// History: a button, also pressed for you when it scrolls into view.
function renderEarlier() {
  $("earlier").hidden = !client.hasMore;
}

$("earlier").addEventListener("click", () => {
  if (client.loadEarlier()) $("earlier").textContent = gettext("Loading earlier messages…");
});

if ("IntersectionObserver" in window) {
  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting) && !$("chat").hidden) {
      if (client.loadEarlier()) $("earlier").textContent = gettext("Loading earlier messages…");
    }
  }).observe($("earlier"));
}

client.on("history", ({ messages, hasMore }) => {
  const scroller = document.scrollingElement;
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  for (const message of messages) insertMessage(message);
  scroller.scrollTop = scroller.scrollHeight - fromBottom; // keep the reader's place
  $("earlier").textContent = gettext("Show earlier messages");
  $("earlier").hidden = !hasMore;
  announcer.say(
    messages.length
      ? format(ngettext("%(count)s earlier message loaded.", "%(count)s earlier messages loaded.", messages.length), {
          count: messages.length,
        })
      : gettext("There are no earlier messages."),
  );
});

client.on("hello", renderEarlier);

$("jump").addEventListener("click", () => {
  scrollToEnd();
  body.focus();
});

addEventListener(
  "scroll",
  () => {
    if (nearBottom()) $("jump").hidden = true;
  },
  { passive: true },
);

// --- the composer and own messages -----------------------------------------------------

const PENDING_TEXT = {
  sending: () => gettext("Sending…"),
  sent: () => gettext("Sent"),
  held: () => gettext("Held for a moderator to review."),
};

function setPendingState(node, state, detail) {
  node.dataset.state = state;
  const status = node.querySelector(".state");
  status.className = `state ${state}`;
  status.textContent = detail;
}

function pendingNode(entry) {
  let node = view.pending.get(entry.client_id);
  if (node) return node;
  node = el(
    "li",
    { className: "msg own pending", dataset: { clientId: entry.client_id } },
    el("div", { className: "meta" }, bdi(client.you?.name || root.dataset.name, "author"), " ", timeEl(entry.created)),
    el("p", { className: "body", dir: "auto" }, entry.body),
    el("p", { className: "state" }),
    el("div", { className: "actions" }),
  );
  view.pending.set(entry.client_id, node);
  outboxList.append(node);
  return node;
}

function waitText(entry) {
  const seconds = Math.max(1, Math.ceil((entry.waitUntil - Date.now()) / 1000));
  if (entry.error?.code === "slow_mode") {
    return format(gettext("Slow mode: it goes out in %(seconds)s s."), { seconds });
  }
  return format(gettext("Waiting %(seconds)s s, then sending again."), { seconds });
}

client.on("outbox", (entry) => {
  if (entry.state === "discarded") {
    view.pending.get(entry.client_id)?.remove();
    view.pending.delete(entry.client_id);
    return;
  }
  if (entry.state === "sent" && !view.pending.has(entry.client_id)) return;
  const node = pendingNode(entry);
  if (entry.id) node.dataset.id = entry.id;
  const actions = node.querySelector(".actions");
  actions.replaceChildren();
  if (entry.state === "sending") {
    let text = PENDING_TEXT.sending();
    if (entry.waitUntil > Date.now()) text = waitText(entry);
    else if (client.state !== "open") text = gettext("Waiting for the connection…");
    setPendingState(node, "sending", text);
  } else if (entry.state === "sent") {
    setPendingState(node, "sent", PENDING_TEXT.sent());
  } else if (entry.state === "held") {
    setPendingState(node, "held", `${entry.detail || PENDING_TEXT.held()} ${gettext("Only you can see it for now.")}`);
    announcer.say(PENDING_TEXT.held());
  } else if (entry.state === "failed") {
    const detail = entry.error?.detail || gettext("The server did not accept it.");
    setPendingState(node, "failed", format(gettext("Not sent: %(reason)s"), { reason: detail }));
    announcer.say(format(gettext("Your message was not sent: %(reason)s"), { reason: detail }));
    const transient = ["locked", "room_closed", "muted", "norms_required", "banned", "forbidden"];
    if (transient.includes(entry.error?.code)) {
      actions.append(el("button", { type: "button", className: "quiet", text: gettext("Try again"), onclick: () => client.retry(entry.client_id) }));
    }
    actions.append(
      el("button", {
        type: "button",
        className: "quiet",
        text: gettext("Edit"),
        onclick: () => {
          body.value = entry.body;
          client.discard(entry.client_id);
          body.focus();
        },
      }),
      el("button", { type: "button", className: "quiet", text: gettext("Discard"), onclick: () => client.discard(entry.client_id) }),
    );
    if (entry.error?.code === "norms_required") {
      view.norms = { ...view.norms, accepted: false };
      showNormsOrChat();
    }
  }
});

// Show messages kept from an earlier visit that still wait to be sent.
for (const entry of client.outbox.values()) client.emit("outbox", entry);

// Refresh countdowns ("goes out in 12 s") and the waiting text.
setInterval(() => {
  for (const entry of client.outbox.values()) {
    if (entry.state === "sending" && view.pending.has(entry.client_id)) client.emit("outbox", entry);
  }
  if (view.mutedUntil && view.mutedUntil <= Date.now()) setMuted(null, "");
  checkBreak();
}, 1000);

client.on("state", () => {
  for (const entry of client.outbox.values()) if (entry.state === "sending") client.emit("outbox", entry);
});

function send() {
  const text = body.value.trim();
  if (!text) return;
  if (text.length > 4000) {
    $("composer-state").textContent = gettext("A message may have at most 4,000 characters.");
    return;
  }
  client.sendMessage(text);
  body.value = "";
  updateCount();
  scrollToEnd();
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});

const coarse = matchMedia("(pointer: coarse)");
body.addEventListener("keydown", (event) => {
  // Enter sends on a keyboard; on a touch screen it starts a new line (the button sends).
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !coarse.matches) {
    event.preventDefault();
    send();
  }
});

function updateCount() {
  const left = 4000 - body.value.length;
  $("count").textContent =
    left < 500 ? format(ngettext("%(count)s character left", "%(count)s characters left", left), { count: left }) : "";
}

body.addEventListener("input", () => {
  updateCount();
  if (body.value.trim()) client.typing();
});

function updateComposer() {
  const peer = !moderates;
  const room = view.room || {};
  let reason = "";
  let disabled = false;
  if (peer && view.mutedUntil) {
    disabled = true;
    reason = format(gettext("You are muted until %(time)s."), { time: formatTime(view.mutedUntil) });
    if (view.muteReason) reason += " " + view.muteReason;
    reason += " " + gettext("You can still read along.");
  } else if (peer && room.locked) {
    disabled = true;
    reason = gettext("The room is locked: only moderators can post now.");
  } else if (peer && room.kind === "scheduled" && !room.session) {
    disabled = true;
    reason = gettext("This room meets at set times. You can post once a moderator opens the session.");
  } else if (peer && room.slow_mode_seconds) {
    reason = format(gettext("Slow mode: one message every %(seconds)s seconds."), { seconds: room.slow_mode_seconds });
  }
  body.disabled = disabled;
  $("send").disabled = disabled;
  $("composer").dataset.disabled = disabled ? "true" : "false";
  $("composer-state").textContent = reason;
}

function setMuted(until, reason) {
  view.mutedUntil = until ? new Date(until).getTime() : null;
  view.muteReason = reason || "";
  updateComposer();
}

// --- typing ----------------------------------------------------------------------------

const typists = new Map(); // user id -> {name, until}

client.on("typing", ({ user }) => {
  if (!user || user.id === me.id) return;
  typists.set(user.id, { name: user.name, until: Date.now() + 5000 });
  renderTyping();
});

function renderTyping() {
  const now = Date.now();
  for (const [id, typist] of typists) if (typist.until <= now) typists.delete(id);
  const names = [...typists.values()].map((typist) => typist.name);
  const node = $("typing");
  if (names.length === 0) node.replaceChildren();
  else if (names.length === 1) node.replaceChildren(fill(gettext("%(name)s is typing…"), { name: bdi(names[0]) }));
  else if (names.length === 2) {
    node.replaceChildren(fill(gettext("%(first)s and %(second)s are typing…"), { first: bdi(names[0]), second: bdi(names[1]) }));
  } else node.replaceChildren(gettext("Several people are typing…"));
}

setInterval(renderTyping, 1000);
client.on("message", ({ message }) => {
  if (typists.delete(message.author.id)) renderTyping();
});

// --- presence and hands ----------------------------------------------------------------

function memberState(member) {
  if (member.state === "break") {
    return member.until
      ? format(gettext("on a break until %(time)s"), { time: formatTime(member.until) })
      : gettext("on a break");
  }
  return "";
}

function renderMembers(members) {
  view.members = members;
  for (const member of members) view.roles.set(member.id, member.role);
  $("people-count").textContent = String(members.length);
  $("members").replaceChildren(
    ...members.map((member) => {
      const item = el("li", { className: `member ${member.state}` }, bdi(member.name));
      if (member.id === me.id) item.append(" ", el("span", { className: "muted-text", text: gettext("(you)") }));
      if (member.role !== "peer") item.append(" ", el("span", { className: "badge role", text: gettext("moderator") }));
      const state = memberState(member);
      if (state) item.append(el("span", { className: "state-text", text: state }));
      return item;
    }),
  );
  moderatorHooks.members?.(members);
}

client.on("presence", ({ members }) => renderMembers(members || []));

function renderHands(queue, speaking) {
  view.queue = queue || [];
  view.speaking = speaking || null;
  const raised = view.queue.some((member) => member.id === me.id);
  const button = $("hand-button");
  button.setAttribute("aria-pressed", String(raised));
  button.textContent = raised ? gettext("Lower hand") : gettext("Raise hand");
  $("hands-queue").replaceChildren(...view.queue.map((member) => el("li", {}, bdi(member.name))));
  $("hands-empty").hidden = view.queue.length > 0;
  $("speaking").replaceChildren(
    view.speaking ? fill(gettext("Speaking now: %(name)s"), { name: bdi(view.speaking.name) }) : "",
  );
  moderatorHooks.hands?.(view.queue, view.speaking);
}

client.on("hands", ({ queue, speaking }) => {
  const before = view.speaking?.id;
  renderHands(queue, speaking);
  if (speaking && speaking.id === me.id && before !== me.id) {
    announcer.say(gettext("It is your turn to speak."));
    showNotice({ kind: "turn", text: gettext("It is your turn to speak.") });
  }
});

$("hand-button").addEventListener("click", () => {
  const raised = $("hand-button").getAttribute("aria-pressed") === "true";
  client.send({ type: raised ? "hand.lower" : "hand.raise" });
});

// --- room state: pinned message, lock, slow mode, session ------------------------------

function renderRoomState(state) {
  view.room = { ...view.room, ...state };
  // Fields left out of a frame are null: no pinned message, no session.
  view.room.pinned = state.pinned || null;
  view.room.session = state.session || null;
  const pinned = view.room.pinned;
  $("pinned").hidden = !pinned;
  if (pinned) {
    $("pinned-body").replaceChildren(linkify(pinned.body));
    $("pinned-author").replaceChildren(bdi(pinned.author.name));
  }
  const hybrid = view.room.session?.mode === "hybrid";
  $("hand-button").hidden = !hybrid;
  $("hands").hidden = !hybrid;
  const parts = [];
  if (view.room.locked) parts.push(gettext("Locked"));
  if (view.room.slow_mode_seconds) {
    parts.push(format(gettext("Slow mode %(seconds)s s"), { seconds: view.room.slow_mode_seconds }));
  }
  if (view.room.session) {
    parts.push(
      hybrid
        ? format(gettext("Hybrid session, %(count)s in the room"), { count: view.room.session.in_person_count || 0 })
        : gettext("Session open"),
    );
  }
  $("room-flags").textContent = parts.join(" · ");
  updateComposer();
  moderatorHooks.room?.(view.room);
}

client.on("room.state", (state) => {
  const wasLocked = view.room?.locked;
  renderRoomState(state);
  if (!moderates && wasLocked !== view.room.locked) {
    announcer.say(view.room.locked ? gettext("The room is locked: only moderators can post now.") : gettext("The room is open again."));
  }
});

// --- notices, errors, closing ----------------------------------------------------------

function showNotice({ kind, text, until }) {
  const card = el(
    "div",
    { className: `notice ${kind.replace(".", "-")}`, role: kind === "warn" ? "alert" : "status" },
    el("p", {}, text || ""),
  );
  if (until) card.append(el("p", { className: "muted-text" }, format(gettext("Until %(time)s"), { time: formatTime(until) })));
  card.append(el("button", { type: "button", className: "quiet", text: gettext("Dismiss"), onclick: () => card.remove() }));
  $("notices").append(card);
  return card;
}

client.on("notice", (notice) => {
  if (notice.kind === "mute" && !moderates) {
    // The composer says it all: why, and until when.
    setMuted(notice.until || new Date(Date.now() + 365 * 864e5).toISOString(), notice.text);
    announcer.say($("composer-state").textContent);
    return;
  }
  if (notice.kind === "unmute") setMuted(null, "");
  if (notice.kind === "kick" || notice.kind === "ban") return; // shown with the close
  showNotice(notice);
});

client.on("error", (error) => {
  if (error.code === "muted") setMuted(error.until || new Date(Date.now() + 365 * 864e5).toISOString(), error.detail);
  if (error.code === "locked") renderRoomState({ ...view.room, locked: true });
  if (error.ref) return; // shown on the message it belongs to
  if (error.code === "norms_outdated") {
    $("norms-error").textContent = error.detail;
    return;
  }
  showNotice({ kind: "error", text: error.detail });
});

function showClosed(code, notice) {
  const titles = {
    4001: gettext("You have left the room"),
    4403: gettext("This room is not open to you"),
    4429: gettext("This room is open in too many places"),
  };
  const texts = {
    4001: gettext("A moderator asked you to step out for now. You can come back when you are ready."),
    4403: notice
      ? gettext("A moderator has closed this room to you.")
      : gettext("You may not be a member of this room, or your login has ended."),
    4429: gettext("Close the room in another tab or device, then try again."),
  };
  $("closed-title").textContent = titles[code] || gettext("Not connected");
  $("closed-text").textContent = texts[code] || "";
  const reason = notice?.text || "";
  $("closed-reason").textContent = reason;
  $("closed-reason").hidden = !reason;
  $("closed-until").textContent = notice?.until ? format(gettext("Until %(time)s"), { time: formatTime(notice.until) }) : "";
  $("rejoin").hidden = code === 4403;
  $("chat").hidden = true;
  $("norms").hidden = true;
  $("closed").hidden = false;
  $("closed").focus();
}

$("rejoin").addEventListener("click", () => {
  $("closed").hidden = true;
  client.rejoin();
});

// --- reporting -------------------------------------------------------------------------

async function reportMessage(message) {
  const answer = await ask({
    title: gettext("Report a message"),
    help: gettext("A moderator will look at it. The writer is not told who reported it."),
    textLabel: gettext("What worries you about it?"),
    textRequired: true,
    confirm: gettext("Send report"),
  });
  if (!answer) return;
  if (!client.send({ type: "report", message_id: message.id, reason: answer.text.slice(0, 500) })) {
    showNotice({ kind: "error", text: gettext("Not connected. Try again in a moment.") });
  }
}

async function hideMessage(message) {
  const answer = await ask({
    title: gettext("Hide this message"),
    help: gettext("It disappears for everyone and is kept for review."),
    textLabel: gettext("Reason (for the audit log)"),
    confirm: gettext("Hide message"),
  });
  if (answer) client.send({ type: "mod.hide", message_id: message.id, reason: answer.text });
}

// --- help lines (support) --------------------------------------------------------------

function openSupport(focus = true) {
  $("support").hidden = false;
  $("help-lines-button").setAttribute("aria-expanded", "true");
  if (focus) $("support-title").focus();
}

$("help-lines-button").addEventListener("click", () => {
  if ($("support").hidden) openSupport();
  else closeSupport();
});

function closeSupport() {
  $("support").hidden = true;
  $("help-lines-button").setAttribute("aria-expanded", "false");
  $("help-lines-button").focus();
}

$("support-close").addEventListener("click", closeSupport);

function lineItem(line) {
  const item = el("li", { className: `line kind-${line.kind || "other"}` }, el("strong", { dir: "auto" }, line.name));
  if (line.phone) {
    item.append(
      " ",
      el("a", {
        className: "call",
        href: `tel:${line.phone.replace(/[^0-9+]/g, "")}`,
        text: format(gettext("Call %(phone)s"), { phone: line.phone }),
      }),
    );
  }
  if (line.hours) item.append(el("span", { className: "hours", text: line.hours }));
  if (line.url && /^https?:\/\//i.test(line.url)) {
    item.append(el("a", { href: line.url, rel: "noopener noreferrer nofollow", target: "_blank", text: gettext("Website") }));
  }
  return item;
}

client.on("support", (support) => {
  if (support.text) $("support-text").textContent = support.text;
  const lines = support.resources || [];
  if (lines.length) $("support-lines").replaceChildren(...lines.map(lineItem));
  $("support").dataset.tier = support.tier || "";
  openSupport();
});

// --- breaks ----------------------------------------------------------------------------

const openedAt = Date.now();
let suggestedAt = openedAt;

function setBreak(until) {
  view.breakUntil = until;
  prefs.set(BREAK_KEY, until || null);
  const on = Boolean(until);
  announcer.muted = on;
  root.classList.toggle("on-break", on);
  $("break-banner").hidden = !on;
  $("break-button").hidden = on;
  if (on) $("break-until").textContent = formatTime(until);
}

$("break-button").addEventListener("click", () => openDialog($("break-dialog")));
$("break-cancel").addEventListener("click", () => closeDialog($("break-dialog")));
$("break-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const minutes = Number(new FormData(event.target).get("minutes")) || 15;
  closeDialog($("break-dialog"));
  startBreak(minutes);
});

function startBreak(minutes) {
  client.send({ type: "break.start", minutes });
  setBreak(Date.now() + minutes * 60000);
  $("break-back").focus();
}

function endBreak() {
  client.send({ type: "break.end" });
  setBreak(0);
  suggestedAt = Date.now();
  $("break-button").focus();
}

$("break-back").addEventListener("click", endBreak);

function resumeBreak() {
  // A reconnect makes a new presence entry: say again that this member is away.
  const until = Number(prefs.get(BREAK_KEY, 0)) || 0;
  if (until > Date.now() + 30000) {
    client.send({ type: "break.start", minutes: Math.max(1, Math.round((until - Date.now()) / 60000)) });
    setBreak(until);
  } else if (until) setBreak(0);
}

function checkBreak() {
  if (view.breakUntil && view.breakUntil <= Date.now()) {
    setBreak(0);
    suggestedAt = Date.now();
    client.send({ type: "break.end" });
    showNotice({ kind: "break", text: gettext("Welcome back. Your break has ended.") });
  }
  const suggest = $("break-suggest");
  if (!view.breakUntil && suggest.hidden && Date.now() - suggestedAt > SUGGEST_BREAK_AFTER_MS && !$("chat").hidden) {
    suggest.hidden = false;
  }
}

$("break-suggest-yes").addEventListener("click", () => {
  $("break-suggest").hidden = true;
  openDialog($("break-dialog"));
});
$("break-suggest-no").addEventListener("click", () => {
  $("break-suggest").hidden = true;
  suggestedAt = Date.now();
  body.focus();
});

// --- unread count in the title (not during a break) ------------------------------------

function countUnread() {
  if (document.visibilityState === "visible" || view.breakUntil) return;
  view.unread += 1;
  document.title = `(${view.unread}) ${view.title}`;
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    view.unread = 0;
    document.title = view.title;
  }
});

// --- moderators ------------------------------------------------------------------------

if (moderates && root.dataset.console === "true") {
  import("./console.js").then((module) =>
    module.startConsole({ client, view, hooks: moderatorHooks, announcer, showNotice, me }),
  );
}

client.start();
