// The on-call page (/review/oncall/): escalated crisis alerts for supervisors, live over
// the on-call socket (docs/protocol.md). The socket sends every open escalated alert when
// it opens, then new alerts, updates and status changes; a supervisor takes an alert on,
// resolves or dismisses it from here, or opens the room's console.
import { LiveSocket, socketUrl } from "./client.js";
import {
  $,
  alertCard,
  askResolve,
  Announcer,
  beep,
  el,
  format,
  gettext,
  ngettext,
  soundPreference,
  tierText,
} from "./ui.js";

const CLOSED = new Set(["resolved", "dismissed"]);
const TIER_RANK = { imminent: 3, high: 2, concern: 1 };

/** The on-call socket: its first frame, the `oncall` snapshot, marks it as open. */
class OnCallSocket extends LiveSocket {
  receive(frame) {
    if (frame.type === "pong") return;
    if (frame.type === "oncall") this.opened();
    this.emit("frame", frame);
  }
}

// --- the page --------------------------------------------------------------------------

const root = $("oncall");
const blur = root.dataset.blur === "true";
const flags = new Map(); // alert id -> FlagInfo, open and acknowledged ones only
const announcer = new Announcer($("announcer"), {
  summary: (count) =>
    format(ngettext("%(count)s escalated alert came in or changed.", "%(count)s escalated alerts came in or changed.", count), { count }),
});
const baseTitle = document.title;
let snapshotSeen = false;

const socket = new OnCallSocket({ url: socketUrl(root.dataset.ws || "/ws/oncall/") });
socket.on("frame", receive);
socket.on("state", ({ state }) => showState(state));

const STATE_TEXT = {
  connecting: () => gettext("Connecting…"),
  reconnecting: () => gettext("Reconnecting…"),
  open: () => gettext("Connected"),
  waiting: () => gettext("Connection lost. Trying again…"),
  offline: () => gettext("You are offline. Alerts will come in when you are back online."),
  closed: () => gettext("Not connected. Reload the page to try again."),
};

function showState(state) {
  const node = $("connection");
  const text = STATE_TEXT[state]?.() || "";
  if (node.textContent !== text) node.textContent = text;
  node.dataset.state = state;
}

function send(frame) {
  $("oncall-error").textContent = "";
  if (socket.send(frame)) return true;
  $("oncall-error").textContent = gettext("Not connected. Try again in a moment.");
  return false;
}

// --- sound ---------------------------------------------------------------------------

const soundBox = soundPreference($("alert-sound"), "oncall-sound");

// --- cards ---------------------------------------------------------------------------

function byUrgency(a, b) {
  const tier = (TIER_RANK[b.tier] || 0) - (TIER_RANK[a.tier] || 0);
  return tier || String(a.created).localeCompare(String(b.created));
}

function flagCard(flag) {
  const card = alertCard(flag, {
    label: format(gettext("In room %(room)s"), { room: flag.room }),
    blur,
    about: flag.categories || [],
  });

  const button = (action, text, onclick, className = "") =>
    el("button", { type: "button", className, text, onclick, dataset: { action } });
  const actions = el("div", { className: "actions" });
  if (flag.status === "open") actions.append(button("ack", gettext("I am on it"), () => send({ type: "flag.ack", flag_id: flag.id })));
  actions.append(
    button("resolve", gettext("Resolve…"), () => resolve(flag, "resolved"), "secondary"),
    button("dismiss", gettext("Dismiss…"), () => resolve(flag, "dismissed"), "secondary"),
    el("a", {
      className: "button secondary",
      href: `/rooms/${encodeURIComponent(flag.room)}/console/`,
      dataset: { action: "console" },
      text: gettext("Open the room console"),
    }),
  );
  card.append(actions);
  return card;
}

async function resolve(flag, outcome) {
  const frame = await askResolve(flag, outcome);
  if (frame) send(frame);
}

function render() {
  // Keep focus where it was: on the same button of the same card, else on the card.
  const active = document.activeElement;
  const focusedCard = active?.closest?.("#flags .flag")?.id;
  const focusedAction = active?.dataset?.action;
  const ordered = [...flags.values()].sort(byUrgency);
  $("flags").replaceChildren(...ordered.map(flagCard));
  $("flags-empty").hidden = ordered.length > 0;
  $("flags-count").textContent = String(ordered.length);
  if (focusedCard) {
    const card = $(focusedCard);
    const target = card?.querySelector(`[data-action="${focusedAction}"]`) || card;
    if (target) target.focus();
    else $("oncall-flags-title").focus(); // its alert left the list
  }
  const open = ordered.filter((flag) => flag.status === "open").length;
  document.title = open ? `⚠ (${open}) ${baseTitle}` : baseTitle;
}

function announceNew(flag, isNew) {
  const values = { tier: tierText(flag.tier), room: flag.room };
  let text = format(
    isNew ? gettext("New escalated alert (%(tier)s) in room %(room)s.") : gettext("Escalated alert updated (%(tier)s) in room %(room)s."),
    values,
  );
  if (flag.author) text += ` ${format(gettext("Writer: %(name)s"), { name: flag.author.name })}`;
  announcer.say(text);
  if (isNew && soundBox.checked) beep();
}

// --- frames --------------------------------------------------------------------------

function take(flag, { announce }) {
  if (!flag || flag.id == null) return;
  const known = flags.get(flag.id);
  if (CLOSED.has(flag.status)) flags.delete(flag.id);
  else flags.set(flag.id, { ...known, ...flag });
  if (announce && !CLOSED.has(flag.status)) announceNew(flag, !known);
}

/** Say how many escalated alerts the snapshot left out (the most urgent 100 come). */
function showMore(count) {
  const note = $("flags-more");
  note.hidden = count === 0;
  note.textContent = count
    ? format(
        ngettext(
          "%(count)s more escalated alert is not shown here; the review queue lists it.",
          "%(count)s more escalated alerts are not shown here; the review queue lists them.",
          count,
        ),
        { count },
      )
    : "";
}

function receive(frame) {
  switch (frame.type) {
    case "oncall": {
      // The whole list on every (re)connect: alerts closed meanwhile leave, new ones are said.
      const before = new Set(flags.keys());
      flags.clear();
      for (const flag of frame.flags || []) {
        take(flag, { announce: false });
        if (snapshotSeen && !before.has(flag.id) && flags.has(flag.id)) announceNew(flag, true);
      }
      snapshotSeen = true;
      showMore(frame.more || 0);
      render();
      return;
    }
    case "flag":
    case "flag.update":
      take(frame.flag, { announce: true });
      render();
      return;
    case "flag.status": {
      const flag = flags.get(frame.flag_id);
      if (!flag) return;
      if (CLOSED.has(frame.status)) flags.delete(frame.flag_id);
      else Object.assign(flag, { status: frame.status, by: frame.by });
      render();
      return;
    }
    case "error":
      $("oncall-error").textContent = frame.detail || frame.code || "";
      return;
    default:
  }
}

render();
socket.start();
