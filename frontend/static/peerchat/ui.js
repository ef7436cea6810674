// DOM, text, time and dialog helpers shared by the room, console and projector pages.
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
  constructor(node) {
    this.node = node;
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
    const text =
      items.length > 3
        ? format(ngettext("%(count)s new message.", "%(count)s new messages.", items.length), {
            count: items.length,
          })
        : items.join(" ");
    // Clear first so the same sentence twice is announced twice.
    this.node.textContent = "";
    setTimeout(() => {
      this.node.textContent = text;
    }, 50);
  }
}

// --- dialogs ---------------------------------------------------------------------------

/** Open a <dialog> modally and return focus to where it was when it closes. */
export function openDialog(dialog, focusTarget) {
  const opener = document.activeElement;
  const restore = () => {
    dialog.removeEventListener("close", restore);
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
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
