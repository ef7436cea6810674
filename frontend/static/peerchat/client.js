// The room protocol client (docs/protocol.md): one socket, reconnects with jittered
// exponential backoff, resumes after the highest seq seen, and keeps unacked sends in an
// outbox (memory and localStorage) that is re-sent with the same client_id, so a message
// is stored once however often the network drops. Pages subscribe with `on(type, fn)`.

const PING_EVERY_MS = 30000;
const PONG_GRACE_MS = 10000;
const CONNECT_TIMEOUT_MS = 15000;
const ACK_TIMEOUT_MS = 20000;
const TICK_MS = 2500;
// A live message whose seq skips ahead means frames may have been lost between server
// processes (the channel layer delivers at most once); frames from two processes can
// also arrive out of order. A gap still open after this long is filled with `resume`.
const GAP_WAIT_MS = 2000;
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30000;
// Close codes after which reconnecting cannot help (docs/protocol.md, "Close codes").
export const FINAL_CLOSES = new Set([4001, 4403, 4429]);
// Send errors worth retrying with the same client_id; every other one is final.
const RETRY_LATER = new Set(["rate_limited", "slow_mode", "unavailable"]);

/** Return the wait before reconnect attempt `attempt` (0, 1, ...): "equal jitter". */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

function newClientId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  // Old browsers: a version 4 UUID from getRandomValues.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function localStore() {
  try {
    const probe = "peerchat:probe";
    localStorage.setItem(probe, "1");
    localStorage.removeItem(probe);
    return localStorage;
  } catch {
    return null; // private mode or storage off: the outbox lives in memory only
  }
}

/** The room's visible messages, ordered by seq and unique by id. */
export class MessageStore {
  constructor() {
    this.list = [];
    this.byId = new Map();
  }

  /** Insert a message; return its index, or -1 if it is known or has no seq. */
  add(message) {
    if (message.seq == null || this.byId.has(message.id)) return -1;
    let low = 0;
    let high = this.list.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.list[middle].seq < message.seq) low = middle + 1;
      else high = middle;
    }
    this.list.splice(low, 0, message);
    this.byId.set(message.id, message);
    return low;
  }

  remove(id) {
    const message = this.byId.get(id);
    if (!message) return null;
    this.byId.delete(id);
    this.list.splice(this.list.indexOf(message), 1);
    return message;
  }

  after(message) {
    return this.list[this.list.indexOf(message) + 1] || null;
  }

  get highestSeq() {
    return this.list.length ? this.list[this.list.length - 1].seq : 0;
  }

  get lowestSeq() {
    return this.list.length ? this.list[0].seq : 0;
  }
}

/** Return the ws(s):// URL of a socket path on this site. */
export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

/**
 * One websocket that stays open: reconnects with jittered exponential backoff, pings
 * every 30 s and drops a socket that stays silent after a ping (weak networks leave
 * half-open ones that never close). Subclasses handle frames in `receive(frame)`, call
 * `opened()` when the server's first frame says the socket is ready, and may do more
 * work on every tick of an open socket in `onTick(now)`. Pages subscribe with `on`.
 */
export class LiveSocket {
  constructor({ url, WebSocket: Socket = globalThis.WebSocket }) {
    this.url = url;
    this.Socket = Socket;
    this.listeners = new Map();
    this.socket = null;
    this.generation = 0; // bumps with every socket, so stale timers and sends are ignored
    this.state = "idle";
    this.attempt = 0;
    this.everOpened = false;
    this.lastHeard = 0;
    this.lastPing = 0;
    this.retryTimer = 0;
    this.finalClose = null;
    this.lastNotice = null;
    this.connectStarted = 0;
    this.ticker = 0;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.drop("offline");
    this.onVisible = () => {
      if (document.visibilityState !== "visible") return;
      if (this.state === "open") this.ping();
      else this.reconnectNow();
    };
  }

  /** The server said the socket is ready (its first frame). */
  opened() {
    this.everOpened = true;
    this.attempt = 0;
    this.setState("open");
  }

  receive(_frame) {}

  onTick(_now) {}

  // --- events ------------------------------------------------------------------------

  /** Call fn(detail) for every event of `type`; return a function that unsubscribes. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, detail) {
    for (const fn of this.listeners.get(type) || []) {
      try {
        fn(detail);
      } catch (error) {
        console.error(error); // one broken subscriber must not stop the others
      }
    }
  }

  setState(state, extra = {}) {
    this.state = state;
    this.emit("state", { state, ...extra });
  }

  // --- connection --------------------------------------------------------------------

  start() {
    addEventListener("online", this.onOnline);
    addEventListener("offline", this.onOffline);
    document.addEventListener("visibilitychange", this.onVisible);
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.connect();
  }

  stop() {
    removeEventListener("online", this.onOnline);
    removeEventListener("offline", this.onOffline);
    document.removeEventListener("visibilitychange", this.onVisible);
    clearInterval(this.ticker);
    clearTimeout(this.retryTimer);
    this.detach();
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.finalClose) return;
    if (navigator.onLine === false) {
      this.setState("offline");
      return;
    }
    this.detach();
    const generation = ++this.generation;
    let socket;
    try {
      socket = new this.Socket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.connectStarted = Date.now();
    this.setState(this.everOpened ? "reconnecting" : "connecting");
    socket.onmessage = (event) => {
      if (generation !== this.generation) return;
      this.lastHeard = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string") this.receive(frame);
    };
    socket.onclose = (event) => {
      if (generation !== this.generation) return;
      this.socket = null;
      this.closed(event.code);
    };
  }

  /** Forget the current socket without waiting for its close handshake. */
  detach() {
    const socket = this.socket;
    this.socket = null;
    this.generation += 1;
    if (socket) {
      socket.onmessage = socket.onclose = null;
      try {
        socket.close(1000);
      } catch {
        // already closed
      }
    }
  }

  drop(reason) {
    if (this.finalClose) return;
    this.detach();
    if (reason === "offline") this.setState("offline");
    else this.scheduleReconnect();
  }

  closed(code) {
    if (FINAL_CLOSES.has(code)) {
      this.finalClose = { code, notice: this.lastNotice };
      clearInterval(this.ticker);
      this.setState("closed", this.finalClose);
      return;
    }
    if (navigator.onLine === false) this.setState("offline");
    else this.scheduleReconnect();
  }

  scheduleReconnect() {
    clearTimeout(this.retryTimer);
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.setState("waiting", { retryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.finalClose || this.state === "open" || this.state === "connecting") return;
    if (this.state === "reconnecting") return;
    this.attempt = 0;
    this.connect();
  }

  /** Try again after a final close (for example to rejoin after a kick). */
  rejoin() {
    this.finalClose = null;
    this.lastNotice = null;
    this.attempt = 0;
    clearInterval(this.ticker);
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.connect();
  }

  /** Send a frame now if the socket is open; return whether it went out. */
  send(frame) {
    if (!this.socket || this.state !== "open") return false;
    try {
      this.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  ping() {
    this.lastPing = Date.now();
    this.send({ type: "ping" });
  }

  tick() {
    const now = Date.now();
    const opening = this.state === "connecting" || this.state === "reconnecting";
    if (opening && now - this.connectStarted > CONNECT_TIMEOUT_MS) {
      this.drop("timeout"); // a handshake that hangs on a weak network
      return;
    }
    if (this.state !== "open") return;
    // A weak network can leave a socket half-open: no close event ever comes. A socket
    // that stays silent after a ping is treated as gone.
    if (this.lastPing > this.lastHeard && now - this.lastPing > PONG_GRACE_MS) {
      this.drop("silent");
      return;
    }
    if (now - Math.max(this.lastPing, this.lastHeard) >= PING_EVERY_MS) this.ping();
    this.onTick(now);
  }
}

/** The room protocol client: a live socket to one room, with resume and the outbox. */
export class RoomClient extends LiveSocket {
  /**
   * @param {{slug: string, userId: number, url?: string, readOnly?: boolean,
   *          WebSocket?: typeof WebSocket}} options  readOnly: never sends messages
   *          (the projector), so it leaves the outbox of the member's room page alone.
   */
  constructor({ slug, userId, url, readOnly = false, WebSocket: Socket = globalThis.WebSocket }) {
    super({ url: url || socketUrl(`/ws/rooms/${encodeURIComponent(slug)}/`), WebSocket: Socket });
    this.storageKey = `peerchat:outbox:${slug}:${userId}`;
    this.storage = localStore();
    this.store = new MessageStore();
    // client_id -> entry, in the order they were made
    this.readOnly = readOnly;
    this.outbox = readOnly ? new Map() : this.loadOutbox();
    this.hello = null;
    this.hasMore = false;
    this.historyPending = false;
    this.lastTyping = 0;
    this.resuming = false;
    this.settledSeq = 0; // every seq up to here is in the store, or was hidden
    this.aheadSeqs = new Set(); // seqs seen beyond a gap
    this.gapSince = 0;
    this.pumpTimer = 0;
  }

  onTick(now) {
    this.fillGap(now);
    this.pump();
  }

  // --- frames from the server --------------------------------------------------------

  receive(frame) {
    switch (frame.type) {
      case "hello":
        this.welcome(frame);
        return;
      case "message":
        this.settleOwn(frame.client_id, frame.author && frame.author.id === this.you?.id);
        this.addMessages([frame], this.resuming ? "resume" : "live");
        this.noteSeq(frame.seq);
        return;
      case "resumed":
        this.resuming = false;
        this.settleSeq(frame.last_seq);
        this.emit("resumed", frame);
        return;
      case "history": {
        this.historyPending = false;
        this.hasMore = Boolean(frame.has_more);
        const added = this.addMessages(frame.messages || [], "history", false);
        this.emit("history", { messages: added, hasMore: this.hasMore });
        return;
      }
      case "message.hidden": {
        const message = this.store.remove(frame.id);
        this.emit("message.hidden", { ...frame, message });
        return;
      }
      case "ack":
        this.acked(frame);
        return;
      case "held":
        this.heldOwn(frame);
        return;
      case "error":
        this.failed(frame);
        return;
      case "notice":
        if (frame.kind === "kick" || frame.kind === "ban") this.lastNotice = frame;
        this.emit("notice", frame);
        return;
      default:
        this.emit(frame.type, frame);
    }
  }

  welcome(hello) {
    const resumeAfter = this.store.highestSeq; // before hello's recent messages fill in
    const reconnected = Boolean(this.hello);
    this.hello = hello;
    this.you = hello.you;
    const messages = hello.messages || [];
    if (!reconnected) this.hasMore = messages.length >= 50 && messages[0].seq > 1;
    this.opened();
    this.emit("hello", { ...hello, reconnected });
    const added = this.addMessages(hello.messages || [], reconnected ? "resume" : "hello");
    if (resumeAfter > 0) this.resuming = this.send({ type: "resume", after_seq: resumeAfter });
    else {
      this.settleSeq(hello.last_seq); // hello's recent messages, and history below them
      if (reconnected) this.emit("resumed", { last_seq: hello.last_seq, added: added.length });
    }
    // Re-send what was not acknowledged, in the order it was written, with the same ids.
    for (const entry of this.outbox.values()) entry.sentOn = 0;
    this.ping();
    this.pump();
  }

  /** Track the seq of a live or resumed message; a gap before it starts the gap clock. */
  noteSeq(seq) {
    if (seq == null || seq <= this.settledSeq) return;
    this.aheadSeqs.add(seq);
    this.settleSeq(this.settledSeq);
    if (this.aheadSeqs.size && !this.gapSince) this.gapSince = Date.now();
  }

  /** Mark every seq up to `seq` as settled, then move past the seqs already seen. */
  settleSeq(seq) {
    this.settledSeq = Math.max(this.settledSeq, seq || 0);
    while (this.aheadSeqs.delete(this.settledSeq + 1)) this.settledSeq += 1;
    for (const ahead of this.aheadSeqs) if (ahead <= this.settledSeq) this.aheadSeqs.delete(ahead);
    if (!this.aheadSeqs.size) this.gapSince = 0;
  }

  /** Ask for what a gap is missing once it has stayed open for GAP_WAIT_MS. */
  fillGap(now) {
    if (!this.gapSince || this.resuming || now - this.gapSince < GAP_WAIT_MS) return;
    this.gapSince = now; // ask again later if the answer does not close it
    this.resuming = this.send({ type: "resume", after_seq: this.settledSeq });
  }

  addMessages(messages, source, emitEach = true) {
    const added = [];
    for (const message of messages) {
      const index = this.store.add(message);
      if (index < 0) continue;
      added.push(message);
      if (emitEach) this.emit("message", { message, index, source });
    }
    return added;
  }

  /** Ask for older messages; the answer comes as a `history` event. */
  loadEarlier(limit = 50) {
    if (this.historyPending || !this.hasMore || !this.store.lowestSeq) return false;
    if (!this.send({ type: "history", before_seq: this.store.lowestSeq, limit })) return false;
    this.historyPending = true;
    return true;
  }

  // --- the outbox --------------------------------------------------------------------

  loadOutbox() {
    const outbox = new Map();
    try {
      const saved = JSON.parse(this.storage?.getItem(this.storageKey) || "[]");
      for (const item of saved) {
        if (item && typeof item.client_id === "string" && typeof item.body === "string") {
          outbox.set(item.client_id, { ...item, state: "sending", sentOn: 0, sentAt: 0 });
        }
      }
    } catch {
      // unreadable: start empty
    }
    return outbox;
  }

  saveOutbox() {
    if (!this.storage || this.readOnly) return;
    const waiting = [...this.outbox.values()]
      .filter((entry) => entry.state === "sending")
      .map(({ client_id, body, created }) => ({ client_id, body, created }));
    try {
      if (waiting.length) this.storage.setItem(this.storageKey, JSON.stringify(waiting));
      else this.storage.removeItem(this.storageKey);
    } catch {
      // quota or storage off: the memory outbox still works for this page
    }
  }

  /** Queue a message; it is sent now or as soon as the room is open again. */
  sendMessage(body) {
    const entry = {
      client_id: newClientId(),
      body,
      created: new Date().toISOString(),
      state: "sending",
      sentOn: 0,
      sentAt: 0,
      waitUntil: 0,
    };
    this.outbox.set(entry.client_id, entry);
    this.saveOutbox();
    this.emit("outbox", entry);
    this.pump();
    return entry;
  }

  /** Put a message that was not sent back in the queue, with its first client_id. */
  retry(clientId) {
    const entry = this.outbox.get(clientId);
    if (!entry || entry.state !== "failed") return;
    Object.assign(entry, { state: "sending", error: null, sentOn: 0, waitUntil: 0 });
    this.saveOutbox();
    this.emit("outbox", entry);
    this.pump();
  }

  discard(clientId) {
    const entry = this.outbox.get(clientId);
    if (!entry) return;
    this.outbox.delete(clientId);
    this.saveOutbox();
    this.emit("outbox", { ...entry, state: "discarded" });
  }

  /** Send what is due, in order; a message that must wait holds back the later ones. */
  pump() {
    if (this.state !== "open") return;
    const now = Date.now();
    for (const entry of this.outbox.values()) {
      if (entry.state !== "sending") continue;
      if (entry.waitUntil > now) {
        clearTimeout(this.pumpTimer);
        this.pumpTimer = setTimeout(() => this.pump(), entry.waitUntil - now + 50);
        return;
      }
      const stale = entry.sentOn !== this.generation || now - entry.sentAt > ACK_TIMEOUT_MS;
      if (!stale) continue;
      const frame = { type: "message.send", client_id: entry.client_id, body: entry.body };
      if (!this.send(frame)) return;
      entry.sentOn = this.generation;
      entry.sentAt = now;
    }
  }

  settle(entry, state, extra = {}) {
    Object.assign(entry, { state, waitUntil: 0 }, extra);
    if (state !== "sending" && state !== "failed") this.outbox.delete(entry.client_id);
    this.saveOutbox();
    this.emit("outbox", entry);
  }

  settleOwn(clientId, mine) {
    const entry = clientId && mine ? this.outbox.get(clientId) : null;
    if (entry && entry.state === "sending") this.settle(entry, "sent");
  }

  acked(ack) {
    const entry = this.outbox.get(ack.client_id);
    const held = ack.status === "held";
    if (entry) this.settle(entry, held ? "held" : "sent", { id: ack.id, seq: ack.seq });
    else this.emit("ack", ack);
  }

  heldOwn(frame) {
    const message = frame.message || {};
    const entry = this.outbox.get(message.client_id) || {
      client_id: message.client_id,
      body: message.body,
      created: message.created,
    };
    this.settle(entry, "held", { id: message.id, norm: frame.norm, detail: frame.detail });
    this.emit("held", frame);
  }

  failed(error) {
    const entry = error.ref ? this.outbox.get(error.ref) : null;
    if (!entry) {
      this.emit("error", error);
      return;
    }
    if (RETRY_LATER.has(error.code)) {
      const seconds = Number(error.retry_after) || backoffDelay(entry.tries || 0) / 1000;
      entry.tries = (entry.tries || 0) + 1;
      Object.assign(entry, { sentOn: 0, waitUntil: Date.now() + seconds * 1000, error });
      this.emit("outbox", entry);
      this.pump();
      return;
    }
    this.settle(entry, "failed", { error });
    this.emit("error", error);
  }

  // --- small frames ------------------------------------------------------------------

  /** Tell the room this member is typing, at most once every 3 seconds. */
  typing() {
    const now = Date.now();
    if (now - this.lastTyping < 3000) return;
    if (this.send({ type: "typing" })) this.lastTyping = now;
  }
}
