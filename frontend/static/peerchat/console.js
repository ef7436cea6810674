// The moderator console (loaded by room.js on /rooms/<slug>/console/ only): participants
// and sanctions, the live flag stream, held messages, slow mode, lock, pin, sessions and
// the raised-hands queue. Every action is one `mod.*` or `flag.*` frame.
import {
  $,
  alertCard,
  askResolve,
  ask,
  bdi,
  beep,
  durationChoices,
  el,
  fill,
  flaggedText as shownFlaggedText,
  format,
  formatTime,
  gettext,
  soundPreference,
  tierText,
  timeEl,
} from "./ui.js";

const KIND_TEXT = {
  crisis: () => gettext("Crisis language"),
  norm: () => gettext("Room norm"),
  report: () => gettext("Peer report"),
};
const NORM_TEXT = {
  contact_info: () => gettext("contact details"),
  abuse: () => gettext("abuse"),
  link: () => gettext("link"),
  shouting: () => gettext("shouting"),
  too_long: () => gettext("too long"),
  method_detail: () => gettext("method details"),
};
const ACTION_TEXT = {
  warn: () => gettext("%(who)s warned %(target)s"),
  mute: () => gettext("%(who)s muted %(target)s"),
  unmute: () => gettext("%(who)s unmuted %(target)s"),
  kick: () => gettext("%(who)s removed %(target)s from the room"),
  ban: () => gettext("%(who)s banned %(target)s"),
  unban: () => gettext("%(who)s lifted the ban on %(target)s"),
  hide: () => gettext("%(who)s hid a message"),
  release: () => gettext("%(who)s released a held message"),
  slow: () => gettext("%(who)s changed slow mode"),
  lock: () => gettext("%(who)s locked the room"),
  unlock: () => gettext("%(who)s unlocked the room"),
  pin: () => gettext("%(who)s pinned a message"),
  unpin: () => gettext("%(who)s unpinned the message"),
  start: () => gettext("%(who)s started a session"),
  end: () => gettext("%(who)s ended the session"),
};
const CLOSED = new Set(["resolved", "dismissed"]);

export function startConsole({ client, view, hooks, showNotice, me }) {
  const root = $("room");
  const slug = root.dataset.slug;
  const blur = root.dataset.blur === "true";
  const flags = new Map(); // alert id -> flag
  const flaggedMessages = new Set();
  const muted = new Map(); // user id -> muted until (ISO) or true

  function send(frame) {
    if (client.send(frame)) return true;
    showNotice({ kind: "error", text: gettext("Not connected. Try again in a moment.") });
    return false;
  }

  // --- flagged text, blurred for moderators who asked for it -----------------------------

  function flaggedText(text, className = "flag-text") {
    return shownFlaggedText(text, { className, blur });
  }

  function markFlagged(messageId) {
    flaggedMessages.add(messageId);
    const node = view.nodes.get(messageId);
    if (!node || node.classList.contains("flagged")) return;
    node.classList.add("flagged");
    const text = node.querySelector(".body");
    if (blur && text) text.replaceWith(flaggedText(text.textContent, "body"));
  }

  hooks.message = (message) => {
    if (flaggedMessages.has(message.id)) markFlagged(message.id);
  };

  // --- the alert banner and sound ---------------------------------------------------------

  const soundBox = soundPreference($("alert-sound"), "alert-sound");

  function alertFor(flag, isNew) {
    const banner = $("alert");
    const text = format(
      isNew ? gettext("New alert: %(kind)s (%(tier)s) from %(name)s.") : gettext("Alert updated: %(kind)s (%(tier)s) from %(name)s."),
      { kind: KIND_TEXT[flag.kind]?.() || flag.kind, tier: tierText(flag.tier), name: flag.author?.name || "?" },
    );
    $("alert-text").textContent = text;
    banner.hidden = false;
    banner.dataset.tier = flag.tier || "none";
    if (soundBox.checked && !view.breakUntil) beep();
    updateTitle();
  }

  $("alert-show").addEventListener("click", () => {
    $("alert").hidden = true;
    const first = [...flags.values()].find((flag) => flag.status === "open");
    const card = first && $(`flag-${first.id}`);
    if (card) {
      card.scrollIntoView({ block: "center" });
      card.focus();
    }
  });

  function updateTitle() {
    const open = [...flags.values()].filter((flag) => flag.status === "open").length;
    const base = view.title;
    document.title = open ? `⚠ (${open}) ${base}` : base;
  }

  // --- flags ---------------------------------------------------------------------------

  function isHeld(flag) {
    return flag.kind === "norm" && flag.message?.status === "held";
  }

  function flagCard(flag) {
    const held = isHeld(flag);
    const card = alertCard(flag, {
      label: held ? gettext("Held message") : KIND_TEXT[flag.kind]?.() || flag.kind,
      blur,
      before:
        flag.room && flag.room !== slug
          ? [el("p", { className: "muted-text" }, format(gettext("In room %(room)s"), { room: flag.room }))]
          : [],
      about: [...(flag.categories || []), ...(flag.norms || []).map((norm) => NORM_TEXT[norm]?.() || norm)],
      after: flag.reason
        ? [el("p", { className: "flag-reason" }, fill(gettext("Reported because: %(reason)s"), { reason: el("q", { dir: "auto", text: flag.reason }) }))]
        : [],
    });
    const actions = el("div", { className: "actions" });
    const button = (action, text, onclick, className = "") =>
      el("button", { type: "button", className, text, onclick, dataset: { action } });
    if (held && !flag.released) {
      actions.append(
        button("release", gettext("Release to the room"), () => {
          if (send({ type: "mod.release", message_id: flag.message.id })) {
            flag.released = true;
            renderFlags();
          }
        }),
        button("hide", gettext("Hide…"), () => hideFlagged(flag), "secondary"),
      );
    }
    if (flag.status === "open") actions.append(button("ack", gettext("I am on it"), () => send({ type: "flag.ack", flag_id: flag.id })));
    if (!CLOSED.has(flag.status)) {
      actions.append(
        button("resolve", gettext("Resolve…"), () => resolve(flag, "resolved"), "secondary"),
        button("dismiss", gettext("Dismiss…"), () => resolve(flag, "dismissed"), "secondary"),
      );
      if (!held && flag.message?.status !== "hidden" && flag.message) actions.append(button("hide", gettext("Hide message…"), () => hideFlagged(flag), "secondary"));
      if (flag.kind !== "crisis" && flag.author) actions.append(button("mute", gettext("Mute writer…"), () => mute(flag.author), "secondary"));
    }
    card.append(actions);
    return card;
  }

  async function resolve(flag, outcome) {
    const frame = await askResolve(flag, outcome);
    if (frame) send(frame);
  }

  async function hideFlagged(flag) {
    const answer = await ask({
      title: gettext("Hide this message"),
      help: gettext("It disappears for everyone and is kept for review."),
      textLabel: gettext("Reason (for the audit log)"),
      confirm: gettext("Hide message"),
    });
    if (answer && send({ type: "mod.hide", message_id: flag.message.id, reason: answer.text })) {
      flag.message = { ...flag.message, status: "hidden" };
      renderFlags();
    }
  }

  function renderFlags() {
    const ordered = [...flags.values()].sort((a, b) => {
      const closed = Number(CLOSED.has(a.status)) - Number(CLOSED.has(b.status));
      return closed || String(b.created).localeCompare(String(a.created));
    });
    const focused = document.activeElement?.closest?.(".flag")?.id;
    const alerts = ordered.filter((flag) => !isHeld(flag) || flag.released || CLOSED.has(flag.status));
    const held = ordered.filter((flag) => isHeld(flag) && !flag.released && !CLOSED.has(flag.status));
    $("flags").replaceChildren(...alerts.map(flagCard));
    $("held").replaceChildren(...held.map(flagCard));
    $("flags-empty").hidden = alerts.length > 0;
    $("held-empty").hidden = held.length > 0;
    $("flags-count").textContent = String(alerts.filter((flag) => !CLOSED.has(flag.status)).length);
    $("held-count").textContent = String(held.length);
    if (focused) $(focused)?.focus();
    updateTitle();
  }

  function takeFlag(frame, isNew) {
    const flag = frame.flag || frame;
    if (!flag || flag.id == null) return;
    const known = flags.get(flag.id);
    flags.set(flag.id, { ...known, ...flag });
    if (flag.message?.id) markFlagged(flag.message.id);
    for (const message of flag.context || []) if (message.id) markFlagged(message.id);
    renderFlags();
    alertFor(flags.get(flag.id), isNew && !known);
  }

  client.on("flag", (frame) => takeFlag(frame, true));
  client.on("flag.update", (frame) => takeFlag(frame, false));
  client.on("flag.status", ({ flag_id: id, status, by }) => {
    const flag = flags.get(id);
    if (!flag) return;
    Object.assign(flag, { status, by });
    renderFlags();
    if (![...flags.values()].some((item) => item.status === "open")) $("alert").hidden = true;
  });
  hooks.hidden = (id) => {
    for (const flag of flags.values()) {
      if (flag.message?.id === id) flag.message = { ...flag.message, status: "hidden" };
    }
    renderFlags();
  };

  // --- participants --------------------------------------------------------------------

  async function warn(member) {
    const answer = await ask({
      title: format(gettext("Warn %(name)s"), { name: member.name }),
      help: gettext("Only they see the warning."),
      textLabel: gettext("What they should know"),
      textRequired: true,
      confirm: gettext("Send warning"),
    });
    if (answer) send({ type: "mod.warn", user: member.id, reason: answer.text });
  }

  async function mute(member) {
    const answer = await ask({
      title: format(gettext("Mute %(name)s"), { name: member.name }),
      help: gettext("They can still read the room, but not post."),
      durations: durationChoices(),
      textLabel: gettext("Reason (they will see it)"),
      confirm: gettext("Mute"),
    });
    if (answer) send({ type: "mod.mute", user: member.id, minutes: answer.minutes, reason: answer.text });
  }

  async function kick(member) {
    const answer = await ask({
      title: format(gettext("Ask %(name)s to leave"), { name: member.name }),
      help: gettext("Their connection closes. They may come back."),
      textLabel: gettext("Reason (they will see it)"),
      confirm: gettext("Remove from the room"),
    });
    if (answer) send({ type: "mod.kick", user: member.id, reason: answer.text });
  }

  async function ban(member) {
    const answer = await ask({
      title: format(gettext("Ban %(name)s"), { name: member.name }),
      help: gettext("Their connection closes and they cannot come back until the ban ends."),
      durations: durationChoices(true),
      textLabel: gettext("Reason (they will see it)"),
      textRequired: true,
      confirm: gettext("Ban"),
    });
    if (answer) send({ type: "mod.ban", user: member.id, minutes: answer.minutes, reason: answer.text });
  }

  function memberRow(member) {
    const item = el("li", { className: "participant" }, bdi(member.name));
    if (member.role !== "peer") item.append(" ", el("span", { className: "badge role", text: gettext("moderator") }));
    if (member.state === "break") item.append(" ", el("span", { className: "badge break", text: gettext("on a break") }));
    const mutedUntil = muted.get(member.id);
    if (mutedUntil) item.append(" ", el("span", { className: "badge muted", text: gettext("muted") }));
    if (member.id === me.id || member.role !== "peer") return item;
    const label = (text) => format(text, { name: member.name });
    const actions = el(
      "div",
      { className: "actions" },
      el("button", { type: "button", className: "quiet", text: gettext("Warn"), "aria-label": label(gettext("Warn %(name)s")), onclick: () => warn(member) }),
      mutedUntil
        ? el("button", { type: "button", className: "quiet", text: gettext("Unmute"), "aria-label": label(gettext("Unmute %(name)s")), onclick: () => send({ type: "mod.unmute", user: member.id }) })
        : el("button", { type: "button", className: "quiet", text: gettext("Mute"), "aria-label": label(gettext("Mute %(name)s")), onclick: () => mute(member) }),
      el("button", { type: "button", className: "quiet", text: gettext("Remove"), "aria-label": label(gettext("Remove %(name)s from the room")), onclick: () => kick(member) }),
      el("button", { type: "button", className: "quiet danger", text: gettext("Ban"), "aria-label": label(gettext("Ban %(name)s")), onclick: () => ban(member) }),
    );
    item.append(actions);
    return item;
  }

  function renderParticipants() {
    $("participants").replaceChildren(...view.members.map(memberRow));
  }

  hooks.members = renderParticipants;

  client.on("member.state", (frame) => {
    const member = frame.member || frame;
    const id = member.id ?? member.user;
    if (id == null) return;
    const until = member.muted_until ?? frame.muted_until;
    if (until) muted.set(id, until);
    else muted.delete(id);
    renderParticipants();
  });
  // Every moderation action, by anyone or automatic, as one line in the activity log.
  client.on("moderation", (frame) => {
    const target = frame.target;
    const verb = String(frame.action || "").split(".").pop();
    if (target && verb === "mute") muted.set(target.id, frame.until || true);
    if (target && verb === "unmute") muted.delete(target.id);
    renderParticipants();
    const line = el("li", {}, timeEl(new Date().toISOString()), " ");
    const who = frame.by ? bdi(frame.by.name) : gettext("Automatic");
    const what = ACTION_TEXT[verb]?.() || frame.action;
    line.append(fill(what, { who, target: target ? bdi(target.name) : "" }));
    if (frame.until) line.append(" ", format(gettext("until %(time)s"), { time: formatTime(frame.until) }));
    if (frame.reason) line.append(" ", el("q", { dir: "auto", text: frame.reason }));
    const log = $("activity");
    log.prepend(line);
    while (log.childElementCount > 30) log.lastElementChild.remove();
    $("activity-empty").hidden = true;
  });

  client.on("notice", (notice) => {
    // Moderators get the norm ladder's automatic mutes as notices too.
    if (notice.kind === "mute" && notice.user) muted.set(notice.user.id ?? notice.user, notice.until || true);
  });

  // --- room controls -------------------------------------------------------------------

  hooks.room = (room) => {
    const session = room.session;
    $("session-open").hidden = !session;
    $("session-closed").hidden = Boolean(session);
    if (session) {
      $("session-text").textContent = format(
        session.mode === "hybrid" ? gettext("Hybrid session open since %(time)s.") : gettext("Online session open since %(time)s."),
        { time: formatTime(session.opened_at) },
      );
      $("count-row").hidden = session.mode !== "hybrid";
      if (document.activeElement !== $("in-person-count")) $("in-person-count").value = String(session.in_person_count || 0);
    }
    $("lock").setAttribute("aria-pressed", String(Boolean(room.locked)));
    $("lock").textContent = room.locked ? gettext("Unlock the room") : gettext("Lock the room");
    $("slow").value = String(room.slow_mode_seconds || 0);
    if (![...$("slow").options].some((option) => option.selected)) $("slow").value = "0";
    $("unpin").hidden = !room.pinned;
    $("hands-panel").hidden = session?.mode !== "hybrid";
  };

  $("session-mode").addEventListener("change", () => {
    $("start-count-row").hidden = $("session-mode").value !== "hybrid";
  });

  $("session-start").addEventListener("submit", (event) => {
    event.preventDefault();
    const mode = $("session-mode").value;
    const frame = { type: "mod.session.start", mode };
    if (mode === "hybrid") frame.in_person_count = Math.max(0, Number($("start-count").value) || 0);
    send(frame);
  });

  $("session-end").addEventListener("click", async () => {
    const answer = await ask({
      title: gettext("End the session?"),
      help: gettext("The session closes for everyone and the raised hands are cleared."),
      confirm: gettext("End session"),
    });
    if (answer) send({ type: "mod.session.end" });
  });

  $("count-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send({ type: "mod.session.count", in_person_count: Math.max(0, Number($("in-person-count").value) || 0) });
  });

  $("slow-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send({ type: "mod.slow", seconds: Number($("slow").value) || 0 });
  });

  $("lock").addEventListener("click", () => {
    const locked = $("lock").getAttribute("aria-pressed") === "true";
    send({ type: locked ? "mod.unlock" : "mod.lock" });
  });

  $("unpin").addEventListener("click", () => send({ type: "mod.unpin" }));

  // --- hands ---------------------------------------------------------------------------

  hooks.hands = (queue, speaking) => {
    $("mod-hands").replaceChildren(...queue.map((member) => el("li", {}, bdi(member.name))));
    $("mod-hands-empty").hidden = queue.length > 0;
    $("hand-next").disabled = queue.length === 0;
    $("mod-speaking").replaceChildren(speaking ? fill(gettext("Speaking now: %(name)s"), { name: bdi(speaking.name) }) : "");
  };

  $("hand-next").addEventListener("click", () => send({ type: "mod.hand.next" }));

  // The page may have rendered before this module arrived.
  if (view.room) hooks.room(view.room);
  renderParticipants();
  hooks.hands(view.queue, view.speaking);
  renderFlags();
}
