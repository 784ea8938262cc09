// The peer `loadgen ws` measures PMR's collaboration socket beside: what a team would otherwise deploy
// for "batched collaboration over WebSockets, several instances, fan-out through Redis", Node.js with
// Socket.IO 4 and @socket.io/redis-adapter (versions pinned in ../package.json).
//
// It does what PMR's socket does for the benchmark's messages, in the same JSON shapes: a connection
// joins its report's room and gets a `welcome` naming its connection; a `presence` is sent to the
// whole room (its sender included, as PMR does) as `{"type":"presence","member":{...}}`; a `save` is
// answered with a `saved` to the whole room, sent at once (force-send), after the batch waiting ahead
// of it. With BATCHING=true the room's messages wait at most 50 ms or until there are 10, then go out as
// one `{"type":"batch","count":N,"timestamp":...,"messages":[...]}` (a batch of one goes out bare): the
// rule PMR applies. With REDIS_URL set, rooms span instances through the Redis adapter; each instance
// batches the messages its own clients sent.
//
// What it leaves out (each makes it cheaper than PMR, never dearer): signing in and rights (the
// room comes from the query string), the revision store (a `saved` is built, not written), rate limits,
// presence metadata shared across instances. Heartbeats are set longer than a run, as PMR's pings are
// idle under load.
//
// Environment: PORT (required), BATCHING (`true`/`false`), REDIS_URL (optional).
// `GET /healthz` answers 200 once the server listens.
import http from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('PORT must be a TCP port');
  process.exit(2);
}
const BATCHING = process.env.BATCHING === 'true';
const MAX_SIZE = 10;
const MAX_WAIT_MS = 50;
const MAX_TEXT = 200;

const httpServer = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return;
  }
  res.writeHead(404);
  res.end();
});

const io = new Server(httpServer, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
  pingInterval: 600_000,
  pingTimeout: 600_000,
});

if (process.env.REDIS_URL) {
  const pub = new Redis(process.env.REDIS_URL);
  const sub = pub.duplicate();
  io.adapter(createAdapter(pub, sub));
}

// Each room's waiting batch; an entry lives only while something waits.
const waiting = new Map();

function flush(room) {
  const batch = waiting.get(room);
  if (!batch) return;
  waiting.delete(room);
  clearTimeout(batch.timer);
  const messages = batch.messages;
  if (messages.length === 1) {
    io.to(room).emit('m', messages[0]);
  } else {
    io.to(room).emit('m', {
      type: 'batch',
      count: messages.length,
      timestamp: new Date().toISOString(),
      messages,
    });
  }
}

function send(room, message, force) {
  if (!BATCHING) {
    io.to(room).emit('m', message);
    return;
  }
  if (force) {
    flush(room);
    io.to(room).emit('m', message);
    return;
  }
  let batch = waiting.get(room);
  if (!batch) {
    batch = { messages: [], timer: setTimeout(() => flush(room), MAX_WAIT_MS) };
    waiting.set(room, batch);
  }
  batch.messages.push(message);
  if (batch.messages.length >= MAX_SIZE) flush(room);
}

const text = (value) => (typeof value === 'string' ? value.slice(0, MAX_TEXT) : null);
const colorOf = (user) => [...user].reduce((h, c) => (h * 31 + c.codePointAt(0)) >>> 0, 7) % 8;
let revisions = 0;

io.on('connection', (socket) => {
  const report = Number(socket.handshake.query.report);
  const user = text(socket.handshake.query.user) ?? 'anonymous';
  if (!Number.isSafeInteger(report) || report <= 0) {
    socket.disconnect(true);
    return;
  }
  const room = `report:${report}`;
  socket.join(room);
  const me = { connection: socket.id, user, name: user, color: colorOf(user), section: null };
  socket.emit('m', {
    type: 'welcome',
    session: room,
    you: me,
    members: [],
    batching: { enabled: BATCHING, max_size: MAX_SIZE, max_wait_ms: MAX_WAIT_MS },
  });
  socket.on('m', (message) => {
    if (typeof message !== 'object' || message === null) return;
    if (message.type === 'presence') {
      me.section = text(message.section);
      send(room, { type: 'presence', member: { ...me } }, false);
    } else if (message.type === 'save') {
      revisions += 1;
      const revision = { number: revisions, name: text(message.name) ?? '', author: user, created_at: new Date().toISOString() };
      send(room, { type: 'saved', revision, by: user, restored: false }, true);
    }
  });
});

httpServer.listen(port, '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
