// The yardstick issue 16 names: Hypercore (the pinned version in
// scripts/install-deps) replicating a log between two processes over an
// encrypted loopback TCP connection (its Noise stream), on this machine,
// in the same run as lernet's catch-up. bench_hypercore.c drives it:
//   node hypercore.js NODE_MODULES fill DIR BLOCKS BYTES   -> prints the key (hex)
//   node hypercore.js NODE_MODULES seed DIR PORT           -> serves DIR until killed
//   node hypercore.js NODE_MODULES clone DIR KEY PORT BLOCKS -> prints {"blocks","secs"}
// A block is as large as one of lernet's signed events. Hypercore signs its
// Merkle tree's roots, not each block: the reader checks hashes per block
// and a signature per batch, where lernet's checks a signature per event.
'use strict';
const path = require('path');
const net = require('net');
const Hypercore = require(path.resolve(process.argv[2], 'hypercore'));

const [mode, dir] = [process.argv[3], process.argv[4]];

function fail(why) {
  process.stderr.write(`hypercore.js: ${why}\n`);
  process.exit(1);
}

async function fill(blocks, bytes) {
  const core = new Hypercore(dir);
  await core.ready();
  const batch = [];
  for (let i = 0; i < blocks; i++) {
    const b = Buffer.alloc(bytes, 0x61 + (i % 26));
    b.writeUInt32BE(i, 0); // no two blocks alike
    batch.push(b);
    if (batch.length === 1000 || i === blocks - 1) {
      await core.append(batch);
      batch.length = 0;
    }
  }
  process.stdout.write(core.key.toString('hex') + '\n');
  await core.close();
}

async function seed(port) {
  const core = new Hypercore(dir);
  await core.ready();
  const server = net.createServer(socket => {
    const s = core.replicate(false);
    socket.pipe(s).pipe(socket);
    s.on('error', () => socket.destroy());
    socket.on('error', () => s.destroy());
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
}

async function clone(keyHex, port, blocks) {
  const core = new Hypercore(dir, Buffer.from(keyHex, 'hex'));
  await core.ready();
  const t0 = process.hrtime.bigint();
  const socket = net.connect(port, '127.0.0.1');
  const s = core.replicate(true);
  socket.pipe(s).pipe(socket);
  s.on('error', e => fail(`stream: ${e.message}`));
  const deadline = setTimeout(() => fail(`not all ${blocks} blocks after 600 s`), 600000);
  await core.download({ start: 0, end: blocks }).done();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  clearTimeout(deadline);
  if (core.contiguousLength < blocks) fail(`only ${core.contiguousLength} of ${blocks} blocks`);
  process.stdout.write(JSON.stringify({ blocks, secs }) + '\n');
  s.destroy();
  socket.destroy();
  await core.close();
}

const run = mode === 'fill' ? fill(+process.argv[5], +process.argv[6])
  : mode === 'seed' ? seed(+process.argv[5])
  : mode === 'clone' ? clone(process.argv[5], +process.argv[6], +process.argv[7])
  : Promise.reject(new Error('mode: fill, seed or clone'));
run.catch(e => fail(e.message));
