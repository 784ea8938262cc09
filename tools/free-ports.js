// Prints N free loopback TCP ports (default 1), separated by spaces: each is bound at the same time,
// so the N are distinct, then released for the caller's servers.
const net = require('net');

const count = Number(process.argv[2] ?? 1);
const held = [];
for (let i = 0; i < count; i += 1) {
  const server = net.createServer();
  server.listen(0, '127.0.0.1', () => {
    held.push(server);
    if (held.length === count) {
      console.log(held.map((s) => s.address().port).join(' '));
      held.forEach((s) => s.close());
    }
  });
}
