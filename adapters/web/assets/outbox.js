// The page's SENDs that change a room's messages (post, reply, edit, delete), kept
// until the server answers them. Each asks for a RECEIPT, and posts and replies carry a
// `client-msg-id`, so a retry is never stored twice. A SEND refused `overloaded` (the
// server is busy delivering its room; nothing was stored) is sent again, the same frame,
// after a back-off of 500 ms doubling to 8 s with jitter, for at most GIVE_UP_MS; while
// any such SEND is unanswered the page shows that the server is busy.

const FIRST_RETRY_MS = 500;
const LAST_RETRY_MS = 8000;
const GIVE_UP_MS = 3 * 60 * 1000;

// A random key for a post or a reply (crypto.randomUUID needs a secure context).
const newKey = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

export class Outbox {
  // transmit(destination, json, headers) sends a SEND or throws when not connected;
  // onBusy(busy) is told whether a refused SEND is waiting for its retry's answer;
  // onGiveUp(error) when one was refused for longer than GIVE_UP_MS.
  constructor({ transmit, onBusy, onGiveUp }) {
    Object.assign(this, { transmit, onBusy, onGiveUp });
    this.pending = new Map(); // receipt -> { destination, json, headers, since, attempts, busy, timer }
    this.next = 1;
  }

  // Sends a SEND that asks for a RECEIPT; `idempotent` adds a client-msg-id.
  send(destination, json, { idempotent }) {
    const receipt = `send-${this.next++}`;
    const headers = idempotent ? { receipt, 'client-msg-id': newKey() } : { receipt };
    this.transmit(destination, json, headers);
    this.pending.set(receipt, {
      destination, json, headers, since: Date.now(), attempts: 0, busy: false, timer: null,
    });
  }

  // The server stored what `receipt` asked for.
  receipted(receipt) {
    if (this.pending.delete(receipt)) this.showBusy();
  }

  // A refusal from /user/queue/errors. True when the outbox handles it (an `overloaded`
  // SEND to retry); other refusals end their SEND and are the caller's to show.
  refused(error) {
    const receipt = error['receipt-id'];
    const entry = this.pending.get(receipt);
    if (!entry) return false;
    if (error.code !== 'overloaded') {
      this.forget(receipt);
      return false;
    }
    entry.busy = true;
    this.retryLater(receipt, entry, error);
    return true;
  }

  retryLater(receipt, entry, error) {
    if (Date.now() - entry.since > GIVE_UP_MS) {
      this.forget(receipt);
      this.onGiveUp(error);
      return;
    }
    const backoff = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** entry.attempts);
    entry.attempts += 1;
    entry.timer = setTimeout(() => this.retry(receipt), backoff * (0.5 + Math.random() / 2));
    this.showBusy();
  }

  retry(receipt) {
    const entry = this.pending.get(receipt);
    if (!entry) return;
    entry.timer = null;
    try {
      this.transmit(entry.destination, entry.json, entry.headers);
    } catch (error) {
      // Not connected: try again later, as for another refusal.
      this.retryLater(receipt, entry, { code: 'unavailable', message: error.message });
    }
  }

  // The connection is gone and with it the answers of the SENDs in flight: those never
  // refused are forgotten (as any frame sent before a lost connection); the refused ones
  // were not stored, and are sent again once connected.
  connectionLost() {
    for (const [receipt, entry] of this.pending) {
      if (!entry.busy) this.pending.delete(receipt);
      else if (!entry.timer) this.retryLater(receipt, entry, { code: 'unavailable', message: 'connection lost' });
    }
    this.showBusy();
  }

  clear() {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
    this.showBusy();
  }

  forget(receipt) {
    clearTimeout(this.pending.get(receipt)?.timer);
    this.pending.delete(receipt);
    this.showBusy();
  }

  showBusy() {
    this.onBusy([...this.pending.values()].some((entry) => entry.busy));
  }
}
