// DOM, text, time, alert and dialog helpers shared by the room, console, projector and
// on-call pages.
// User text only ever reaches the page through text nodes (textContent), never as HTML.

/** Translate with Django's JavaScript catalog (loaded before the modules), else as is. */
export function gettext(text) {
  return typeof globalThis.gettext === "function" ? globalThis.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (typeof globalThis.ngettext === "function") return globalThis.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

const PLACEHOLDER = /%\((\w+)\)s/g;

/** Fill %(name)s placeholders with strings; for plain text (labels, announcements). */
export function format(template, values) {
  return template.replace(PLACEHOLDER, (_, key) => String(values[key] ?? ""));
}

/** Fill %(name)s placeholders with strings or nodes (names in <bdi>); return a fragment. */
export function fill(template, values) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    fragment.append(template.slice(last, match.index));
    const value = values[match[1]];
    fragment.append(value instanceof Node ? value : String(value ?? ""));
    last = match.index + match[0].length;
  }
  fragment.append(template.slice(last));
  return fragment;
}

/** Make an element: el("button", {className: "x", type: "button", onclick}, "text", node). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child != null && child !== false));
  return node;
}

/** A display name, isolated so right-to-left names cannot reorder the text around them. */
export function bdi(name, className = "name") {
  return el("bdi", { className, text: name });
}

export const $ = (id) => document.getElementById(id);

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

/** Turn message text into text nodes, with http(s) links as links and nothing else. */
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let href = match[0];
    const trailing = href.match(TRAILING);
    if (trailing) href = href.slice(0, -trailing[0].length);
    let url;
    try {
      url = new URL(href);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    fragment.append(text.slice(last, match.index));
    fragment.append(
      el("a", {
        href: url.href,
        rel: "noopener noreferrer nofollow",
        target: "_blank",
        "aria-describedby": "new-tab-note", // "opens in a new tab", in base.html
        text: href,
      }),
    );
    last = match.index + href.length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

// --- time ------------------------------------------------------------------------------

// The page's language, in the reader's regional variant when they share it (en-GB: 24 h).
const pageLang = document.documentElement.lang || "en";
export const lang =
  (navigator.languages || []).find((tag) => tag.split("-")[0] === pageLang.split("-")[0]) || pageLang;
const timeFormat = new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" });
const dayTimeFormat = new Intl.DateTimeFormat(lang, {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "numeric",
  minute: "2-digit",
});
const fullFormat = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short" });

function sameDay(a, b) {
  return a.toDateString() === b.toDateString();
}

/** A time of day, with the day when it is not today. */
export function formatTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return sameDay(date, new Date()) ? timeFormat.format(date) : dayTimeFormat.format(date);
}

export function timeEl(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return el("span");
  return el("time", { datetime: date.toISOString(), title: fullFormat.format(date) }, formatTime(date));
}

// --- announcements ---------------------------------------------------------------------

/** Polite announcements for screen readers; bursts are folded into one sentence. */
export class Announcer {
  /** `summary(count)`: the sentence said instead when more than three come at once. */
  constructor(node, { summary = null } = {}) {
    this.node = node;
    this.summary =
      summary ||
      ((count) => format(ngettext("%(count)s new message.", "%(count)s new messages.", count), { count }));
    this.queue = [];
    this.timer = 0;
    this.muted = false;
  }

  say(text) {
    if (this.muted || !text) return;
    this.queue.push(text);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), 400);
  }

  flush() {
    const items = this.queue.splice(0);
    if (!items.length) return;
    const text = items.length > 3 ? this.summary(items.length) : items.join(" ");
    // Clear first so the same sentence twice is announced twice.
    this.node.textContent = "";
    setTimeout(() => {
      this.node.textContent = text;
    }, 50);
  }
}

// --- alerts (the moderator console and the on-call page) --------------------------------

const TIER_TEXT = {
  concern: () => gettext("Concern"),
  high: () => gettext("High"),
  imminent: () => gettext("Imminent"),
  none: () => gettext("Low"),
};
const FLAG_STATUS_TEXT = {
  open: () => gettext("Open"),
  acknowledged: () => gettext("Someone is on it"),
  resolved: () => gettext("Resolved"),
  dismissed: () => gettext("Dismissed as a false alarm"),
};

/** The translated name of an alert's tier ("imminent" -> "Imminent"). */
export function tierText(tier) {
  return TIER_TEXT[tier]?.() || tier || "";
}

/** The translated status of an alert ("acknowledged" -> "Someone is on it"). */
export function flagStatusText(status) {
  return FLAG_STATUS_TEXT[status]?.() || status || "";
}

/**
 * The text with each matched span (`[start, end, category]`, offsets in code points, as
 * the engine gives them) in a <mark>, its category said to screen readers after it.
 * Spans may overlap; invalid ones are ignored. Text only, never HTML.
 */
export function highlighted(text, spans = []) {
  const chars = Array.from(text); // code points: an emoji is one, as in Python
  const valid = [];
  const cuts = new Set([0, chars.length]);
  for (const span of spans || []) {
    const [rawStart, rawEnd, category] = Array.isArray(span) ? span : [];
    const start = Math.max(0, Number(rawStart));
    const end = Math.min(chars.length, Number(rawEnd));
    if (!Number.isInteger(start) || !Number.isInteger(end) || start >= end) continue;
    valid.push([start, end, String(category)]);
    cuts.add(start).add(end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const nodes = [];
  for (let i = 0; i + 1 < points.length; i += 1) {
    const [start, end] = [points[i], points[i + 1]];
    const piece = chars.slice(start, end).join("");
    const categories = [...new Set(valid.filter(([s, e]) => s <= start && end <= e).map(([, , c]) => c))].sort();
    if (!categories.length) {
      nodes.push(piece);
      continue;
    }
    const label = categories.join(" ");
    nodes.push(el("mark", { dataset: { category: label }, text: piece }), el("span", { className: "visually-hidden", text: ` (${label})` }));
  }
  return nodes;
}

/** Show flagged text as text (its `spans` marked); blurred behind a "Show the text" button when `blur`. */
export function flaggedText(text, { className = "flag-text", blur = false, spans = [] } = {}) {
  const body = el("p", { className, dir: "auto" }, ...highlighted(text, spans));
  if (!blur) return body;
  body.classList.add("blurred");
  body.setAttribute("aria-hidden", "true");
  const reveal = el("button", {
    type: "button",
    className: "quiet reveal",
    text: gettext("Show the text"),
    onclick: () => {
      body.classList.remove("blurred");
      body.removeAttribute("aria-hidden");
      reveal.remove();
    },
  });
  return el("div", { className: "blur-wrap" }, body, reveal);
}

/**
 * The card of one alert (a `flag` frame's `flag`), without its buttons: tier, `label`,
 * time, escalation, count, then `before`, the writer, `about` (categories, norms),
 * `after`, the message and the writer's earlier messages (blurred when `blur`), status.
 */
export function alertCard(flag, { label, blur = false, before = [], about = [], after = [] }) {
  const card = el("li", {
    className: `flag kind-${flag.kind} tier-${flag.tier || "none"} status-${flag.status}`,
    id: `flag-${flag.id}`,
    tabindex: "-1",
    "aria-labelledby": `flag-${flag.id}-head`,
  });
  const head = el(
    "p",
    { className: "flag-head", id: `flag-${flag.id}-head` },
    el("span", { className: `badge tier tier-${flag.tier || "none"}`, text: tierText(flag.tier) }),
    " ",
    el("strong", { text: label }),
    " · ",
    timeEl(flag.created),
  );
  if (flag.escalated) head.append(" ", el("span", { className: "badge escalated", text: gettext("Escalated") }));
  if (flag.count > 1) {
    head.append(" · ", format(ngettext("%(count)s message", "%(count)s messages", flag.count), { count: flag.count }));
  }
  card.append(head, ...before);
  if (flag.author) card.append(el("p", { className: "flag-who" }, fill(gettext("Writer: %(name)s"), { name: bdi(flag.author.name) })));
  if (about.length) card.append(el("p", { className: "muted-text", text: about.join(", ") }));
  card.append(...after);
  if (flag.message) card.append(flaggedText(flag.message.body || "", { blur, spans: flag.spans }));
  if (flag.context?.length) {
    const summary = format(gettext("Earlier messages from this writer (%(count)s)"), { count: flag.context.length });
    const items = flag.context.map((message) =>
      el("li", {}, timeEl(message.created), " ", flaggedText(message.body || "", { className: "context-text", blur })),
    );
    card.append(el("details", { className: "context" }, el("summary", { text: summary }), el("ol", {}, ...items)));
  }
  const status = el("p", { className: "flag-status" }, flagStatusText(flag.status));
  if (flag.by) status.append(" · ", fill(gettext("by %(name)s"), { name: bdi(flag.by.name) }));
  card.append(status);
  return card;
}

/**
 * Ask for the note that closes an alert as `outcome` ("resolved" or "dismissed"); resolve
 * with the `flag.resolve` frame to send, or null when cancelled.
 */
export async function askResolve(flag, outcome) {
  const answer = await ask({
    title: outcome === "resolved" ? gettext("Resolve this alert") : gettext("Dismiss as a false alarm"),
    textLabel: gettext("Note for the review (what you did, what follows)"),
    confirm: outcome === "resolved" ? gettext("Resolve") : gettext("Dismiss"),
  });
  return answer && { type: "flag.resolve", flag_id: flag.id, outcome, note: answer.text };
}

/** Keep a "play a sound" checkbox in the member's preferences under `key`. */
export function soundPreference(box, key) {
  box.checked = Boolean(prefs.get(key, false));
  box.addEventListener("change", () => {
    prefs.set(key, box.checked);
    if (box.checked) beep(); // also unlocks audio: browsers want a click first
  });
  return box;
}

let audio = null;

/** Play a short tone; the first call must follow a click (browsers want one for audio). */
export function beep() {
  try {
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 660;
    gain.gain.setValueAtTime(0.0001, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
  } catch {
    // no audio on this device: the visual alert stands alone
  }
}

// --- dialogs ---------------------------------------------------------------------------

/** Open a <dialog> modally and return focus to where it was when it closes. */
export function openDialog(dialog, focusTarget) {
  const opener = document.activeElement;
  // A live list may be redrawn while the dialog is open, taking the opener away: focus
  // then goes to its twin (the same `data-action` in the element with the same id), or
  // to that element, or to the heading that labels the list.
  const holder = opener?.closest?.("[id]");
  const holderId = holder?.id;
  const action = opener?.dataset?.action;
  const list = holder?.parentElement?.closest?.("section");
  const heading = list?.getAttribute("aria-labelledby") || list?.querySelector("h2, h3")?.id;
  const restore = () => {
    dialog.removeEventListener("close", restore);
    let target = opener;
    if (!opener?.isConnected) {
      const twin = holderId && document.getElementById(holderId);
      target = (twin && action && twin.querySelector(`[data-action="${action}"]`)) || twin || (heading && document.getElementById(heading));
    }
    if (target && typeof target.focus === "function") target.focus();
  };
  dialog.addEventListener("close", restore);
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", ""); // very old browsers: a plain panel
  const first = ["[autofocus]", "input:checked", "input, select, textarea, button"]
    .map((selector) => dialog.querySelector(selector))
    .find(Boolean);
  (focusTarget || first)?.focus();
}

export function closeDialog(dialog, value = "") {
  if (typeof dialog.close === "function") dialog.close(value);
  else {
    dialog.removeAttribute("open");
    dialog.returnValue = value;
    dialog.dispatchEvent(new Event("close"));
  }
}

/**
 * Ask for a reason and/or a duration in the shared dialog (#ask in the template).
 * Resolve with {text, minutes} when confirmed, or null when cancelled.
 */
export function ask({ title, help = "", textLabel = null, textRequired = false, durations = null, confirm }) {
  const dialog = $("ask");
  const form = $("ask-form");
  const text = $("ask-text");
  const duration = $("ask-duration");
  $("ask-title").textContent = title;
  $("ask-help").textContent = help;
  $("ask-help").hidden = !help;
  $("ask-text-row").hidden = !textLabel;
  $("ask-text-label").textContent = textLabel || "";
  text.value = "";
  text.required = Boolean(textLabel && textRequired);
  $("ask-duration-row").hidden = !durations;
  duration.replaceChildren(
    ...(durations || []).map(([value, label]) => el("option", { value: String(value) }, label)),
  );
  $("ask-ok").textContent = confirm;
  $("ask-error").textContent = "";
  return new Promise((resolve) => {
    let answer = null;
    const onSubmit = (event) => {
      event.preventDefault();
      if (text.required && !text.value.trim()) {
        $("ask-error").textContent = gettext("Please write a few words.");
        text.focus();
        return;
      }
      const raw = duration.value;
      answer = { text: text.value.trim(), minutes: raw === "" ? null : Number(raw) };
      closeDialog(dialog, "ok");
    };
    const onCancel = () => closeDialog(dialog, "cancel");
    const onClose = () => {
      form.removeEventListener("submit", onSubmit);
      $("ask-cancel").removeEventListener("click", onCancel);
      dialog.removeEventListener("close", onClose);
      resolve(answer);
    };
    form.addEventListener("submit", onSubmit);
    $("ask-cancel").addEventListener("click", onCancel);
    dialog.addEventListener("close", onClose);
    openDialog(dialog, durations ? duration : textLabel ? text : $("ask-ok"));
  });
}

/** Durations offered for mutes and bans, as [minutes, label] (null: until lifted). */
export function durationChoices(withForever = false) {
  const choices = [
    [5, gettext("5 minutes")],
    [10, gettext("10 minutes")],
    [30, gettext("30 minutes")],
    [60, gettext("1 hour")],
    [1440, gettext("1 day")],
    [10080, gettext("1 week")],
  ];
  if (withForever) choices.push(["", gettext("Until a moderator lifts it")]);
  return choices;
}

/** Read and write small preferences; storage may be off on some phones. */
export const prefs = {
  get(key, fallback = null) {
    try {
      const value = localStorage.getItem(`peerchat:${key}`);
      return value === null ? fallback : JSON.parse(value);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      if (value === null) localStorage.removeItem(`peerchat:${key}`);
      else localStorage.setItem(`peerchat:${key}`, JSON.stringify(value));
    } catch {
      // not kept: fine
    }
  },
};
