// The collaboration socket driven by the reference Yjs client (npm `yjs` over npm `ws`, none of PMR's
// own code) against the scale-out pair A and B (two release instances sharing a database and a Redis):
// editors append numbered markers to a section's narrative as fast as the socket takes them, never
// waiting for an `ack` before the next edit. Every acknowledged marker is then in what a fresh client
// syncs, on either instance, during the session and after it ends (when the log is folded), and each
// editor's own copy keeps all it typed. These are the runs that found edits lost at the fold and
// across instances.
import { test, expect } from '@playwright/test';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { PASSWORDS, type User } from './fixtures';
import { INSTANCE_A, INSTANCE_B, instanceURL } from './instances';

const A = instanceURL(INSTANCE_A);
const B = instanceURL(INSTANCE_B);
const TEXT = 'narrative:risks';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
const marker = (tag: string, i: number) => ` ${tag}${i}.`;

/** Signs `user` in on `base`; answers the session cookie. */
async function cookieFor(base: string, user: User): Promise<string> {
  const response = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { Origin: base, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user, password: PASSWORDS[user] }),
  });
  expect(response.status).toBe(200);
  const cookie = response.headers.getSetCookie().find((c) => c.includes('pmr_session'));
  expect(cookie).toBeTruthy();
  return (cookie as string).split(';')[0];
}

/** A draft report of `code` (the latest), as the editor sees the portfolio. */
async function draftOf(base: string, cookie: string, code: string): Promise<number> {
  const response = await fetch(`${base}/api/list_portfolio`, {
    method: 'POST',
    headers: { Origin: base, Cookie: cookie },
  });
  const portfolio = await response.json();
  return portfolio.projects.find((p: { code: string }) => p.code === code).reports[0].id;
}

/** One connection of the reference client, with its own Yjs document. */
class YClient {
  readonly doc = new Y.Doc();
  readonly acked = new Set<number>();
  private readonly waiting = new Map<number, number | null>();
  private nextRef = 1;
  private me = '';
  private synced!: Promise<void>;
  private ws!: WebSocket;
  errors: string[] = [];

  constructor(private readonly tag: string) {}

  /** Connects to `base` and syncs (both ways); the same document may connect again. */
  async connect(base: string, cookie: string, report: number): Promise<void> {
    const url = `${base.replace('http', 'ws')}/ws/reports/${report}`;
    this.ws = new WebSocket(url, { headers: { Cookie: cookie, Origin: base } });
    this.waiting.clear();
    let done: () => void = () => {};
    this.synced = new Promise((resolve) => (done = resolve));
    this.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      const messages = frame.type === 'batch' ? frame.messages : [frame];
      for (const m of messages) this.handle(m, done);
    });
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    await this.synced;
  }

  private handle(m: { type: string; [k: string]: unknown }, synced: () => void) {
    switch (m.type) {
      case 'welcome':
        this.me = (m.you as { connection: string }).connection;
        this.sendSync();
        break;
      case 'sync': {
        Y.applyUpdate(this.doc, bytes(m.update as string), 'server');
        const missing = Y.encodeStateAsUpdate(this.doc, bytes(m.state_vector as string));
        // An update with nothing in it is two zero bytes.
        if (missing.length > 2) this.send(missing, null);
        synced();
        break;
      }
      case 'update':
        if (m.connection !== this.me) Y.applyUpdate(this.doc, bytes(m.update as string), 'server');
        break;
      case 'ack': {
        const marker = this.waiting.get(m.ref as number);
        if (marker !== undefined && marker !== null) this.acked.add(marker);
        this.waiting.delete(m.ref as number);
        break;
      }
      case 'resync':
        this.sendSync();
        break;
      case 'error':
        this.errors.push(JSON.stringify(m));
        break;
    }
  }

  private sendSync() {
    this.ws.send(JSON.stringify({ type: 'sync', state_vector: b64(Y.encodeStateVector(this.doc)) }));
  }

  private send(update: Uint8Array, marker: number | null) {
    const ref = this.nextRef++;
    this.waiting.set(ref, marker);
    this.ws.send(JSON.stringify({ type: 'update', update: b64(update), ref }));
  }

  /** Appends markers `from`..`to` to the text, each sent at once, then waits for every ack. */
  async type(from: number, to: number): Promise<void> {
    const text = this.doc.getText(TEXT);
    for (let i = from; i < to; i += 1) {
      const before = Y.encodeStateVector(this.doc);
      text.insert(text.length, marker(this.tag, i));
      this.send(Y.encodeStateAsUpdate(this.doc, before), i);
      // Let what has arrived in the meantime be read, without waiting for anything.
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await expect.poll(() => this.waiting.size, { timeout: 30_000 }).toBe(0);
    expect(this.errors).toEqual([]);
  }

  text(): string {
    return this.doc.getText(TEXT).toString();
  }

  async close(): Promise<void> {
    const closed = new Promise((resolve) => this.ws.once('close', resolve));
    this.ws.close();
    await closed;
  }
}

/** Markers of `tag` among `numbers` that `text` lacks. */
function missing(text: string, tag: string, numbers: Iterable<number>): number[] {
  return [...numbers].filter((i) => !text.includes(marker(tag, i)));
}

/** What a client that syncs from nothing on `base` reads. */
async function freshText(base: string, cookie: string, report: number): Promise<string> {
  const reader = new YClient('reader');
  await reader.connect(base, cookie, report);
  const text = reader.text();
  await reader.close();
  return text;
}

/** Waits until no instance has a session of `report` (the last one out folds the log). */
async function sessionsEnded(cookie: string, report: number) {
  for (const base of [A, B]) {
    await expect
      .poll(
        async () => {
          const stats = await fetch(`${base}/api/reports/pmr/performance/websocket/stats`, {
            headers: { Cookie: cookie },
          }).then((r) => r.json());
          return stats.sessions.some((s: { session_id: string }) => s.session_id === `report-${report}`);
        },
        { timeout: 10_000 },
      )
      .toBe(false);
  }
}

test.describe.configure({ timeout: 120_000 });

test('one editor, 500 edits: all are there during the session and after it ends, on both instances', async () => {
  const cookie = await cookieFor(A, 'eddie');
  const admin = await cookieFor(A, 'admin');
  const report = await draftOf(A, cookie, 'CDW');
  const editor = new YClient('k');
  await editor.connect(A, cookie, report);
  await editor.type(0, 500);
  expect(editor.acked.size).toBe(500);
  for (const base of [A, B]) {
    expect(missing(await freshText(base, cookie, report), 'k', editor.acked), `during, on ${base}`).toEqual([]);
  }
  await editor.close();
  await sessionsEnded(admin, report);
  for (const base of [A, B]) {
    expect(missing(await freshText(base, cookie, report), 'k', editor.acked), `after, on ${base}`).toEqual([]);
  }
});

test('two editors, one on each instance, 150 edits each: every edit survives, each keeps its own', async () => {
  const cookie = await cookieFor(A, 'eddie');
  const admin = await cookieFor(A, 'admin');
  const report = await draftOf(A, cookie, 'ERP');
  const onA = new YClient('x');
  const onB = new YClient('y');
  await onA.connect(A, cookie, report);
  await onB.connect(B, admin, report);
  await Promise.all([onA.type(0, 150), onB.type(0, 150)]);
  const all = (text: string) => missing(text, 'x', onA.acked).length + missing(text, 'y', onB.acked).length === 0;
  // Both copies converge on every edit, through the relay.
  await expect.poll(() => all(onA.text()) && all(onB.text()), { timeout: 30_000 }).toBe(true);
  await onA.close();
  await onB.close();
  await sessionsEnded(admin, report);
  for (const base of [A, B]) expect(all(await freshText(base, cookie, report)), base).toBe(true);
});

test('two editors on one instance: the server never takes an editor its own text away', async () => {
  const cookie = await cookieFor(A, 'eddie');
  const admin = await cookieFor(A, 'admin');
  const report = await draftOf(A, cookie, 'CPR');
  const first = new YClient('p');
  const second = new YClient('q');
  await first.connect(B, cookie, report);
  await second.connect(B, admin, report);
  await Promise.all([first.type(0, 150), second.type(0, 150)]);
  const range = [...Array(150).keys()];
  expect(missing(first.text(), 'p', range), 'the first editor keeps its own').toEqual([]);
  expect(missing(second.text(), 'q', range), 'the second editor keeps its own').toEqual([]);
  await first.close();
  await second.close();
  await sessionsEnded(admin, report);
  const stored = await freshText(A, cookie, report);
  expect(missing(stored, 'p', range)).toEqual([]);
  expect(missing(stored, 'q', range)).toEqual([]);
});
