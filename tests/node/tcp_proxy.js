// A fault-injecting TCP proxy for the replication tests
// (replication_kill.test.js): it listens on a loopback port and forwards
// every connection to a target (host, port), byte for byte, and can break the
// link on command:
//
//   cut()              destroys every current connection at once (both
//                      sides), as a dropped link or a crashed middlebox;
//   pause() / resume() stalls forwarding: bytes are held (nothing is read
//                      from either side, so they sit in the kernel's buffers
//                      and TCP backpressure reaches the sender) until
//                      resume(); connections accepted while paused are held
//                      too and connected to the target on resume();
//   setRefusing(true)  resets every new connection as soon as it is
//                      accepted (current ones are left alone);
//   setTarget(port)    forwards new connections elsewhere (a restarted
//                      server on a new port);
//   pauseAfter(bytes)  pauses by itself once that many more bytes went from
//                      the target to clients (in the data handler, so no
//                      more is forwarded): resolves when it did.
//
// The proxy counts bytes each way (`stats`). Nothing here sleeps: every
// action takes effect synchronously on the sockets.
'use strict';

const net = require('node:net');

class TcpProxy {
  constructor({ targetPort, targetHost = '127.0.0.1', listenHost = '127.0.0.1', listenPort = 0 } = {}) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.listenHost = listenHost;
    this.listenPort = listenPort;
    this.server = null;
    this.port = null;
    this.pairs = new Set();   // {client, upstream, connected}
    this.paused = false;
    this.refusing = false;
    this.stats = { accepted: 0, refused: 0, cuts: 0, connectionsCut: 0, toTarget: 0, fromTarget: 0 };
    this.trigger = null;      // {at: fromTarget count, resolve}
  }

  get endpoint() { return `http://${this.listenHost}:${this.port}`; }

  start() {
    return new Promise((resolve, reject) => {
      this.server = net.createServer((client) => this.accept(client));
      this.server.on('error', reject);
      this.server.listen(this.listenPort, this.listenHost, () => {
        this.port = this.server.address().port;
        resolve(this.port);
      });
    });
  }

  setTarget(port, host = this.targetHost) {
    this.targetPort = port;
    this.targetHost = host;
  }

  setRefusing(refusing) { this.refusing = Boolean(refusing); }

  accept(client) {
    if (this.refusing) {
      this.stats.refused += 1;
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    this.stats.accepted += 1;
    const pair = { client, upstream: null, connected: false };
    this.pairs.add(pair);
    client.setNoDelay(true);
    client.on('error', () => this.close(pair));
    client.on('close', () => this.close(pair));
    client.pause();  // nothing is read until the upstream is connected (and not paused)
    if (!this.paused) this.connect(pair);
  }

  connect(pair) {
    if (pair.upstream || pair.client.destroyed) return;
    const upstream = net.connect(this.targetPort, this.targetHost);
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.pause();
    upstream.on('error', () => this.close(pair));
    upstream.on('close', () => this.close(pair));
    upstream.on('connect', () => {
      pair.connected = true;
      this.forward(pair, pair.client, upstream, 'toTarget');
      this.forward(pair, upstream, pair.client, 'fromTarget');
      if (!this.paused) { pair.client.resume(); upstream.resume(); }
    });
  }

  // Copies `from` to `to`, with backpressure, unless paused.
  forward(pair, from, to, counter) {
    from.on('data', (chunk) => {
      if (to.destroyed) return;
      this.stats[counter] += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => { if (!this.paused) from.resume(); });
      }
      if (counter === 'fromTarget' && this.trigger && this.stats.fromTarget >= this.trigger.at) {
        const { resolve } = this.trigger;
        this.trigger = null;
        this.pause();
        resolve(this.stats.fromTarget);
      }
    });
    from.on('end', () => { if (!to.destroyed) to.end(); });
  }

  close(pair) {
    if (!this.pairs.has(pair)) return;
    this.pairs.delete(pair);
    pair.client.destroy();
    if (pair.upstream) pair.upstream.destroy();
  }

  // Destroys every current connection (both sides); returns how many.
  cut() {
    const n = this.pairs.size;
    for (const pair of [...this.pairs]) {
      this.pairs.delete(pair);
      // A reset, not a FIN: the peers see the link die, not an orderly close.
      pair.client.resetAndDestroy();
      if (pair.upstream) pair.upstream.resetAndDestroy();
    }
    this.stats.cuts += 1;
    this.stats.connectionsCut += n;
    return n;
  }

  pause() {
    this.paused = true;
    for (const pair of this.pairs) {
      pair.client.pause();
      if (pair.upstream) pair.upstream.pause();
    }
  }

  resume() {
    this.paused = false;
    for (const pair of [...this.pairs]) {
      if (!pair.upstream) {
        this.connect(pair);
      } else if (pair.connected) {
        pair.client.resume();
        pair.upstream.resume();
      }
    }
  }

  // Pauses once `bytes` more bytes have gone from the target to the clients;
  // resolves with the count then.
  pauseAfter(bytes) {
    return new Promise((resolve) => { this.trigger = { at: this.stats.fromTarget + bytes, resolve }; });
  }

  // Stops listening and drops every connection.
  stop() {
    if (!this.server) return Promise.resolve();
    const server = this.server;
    this.server = null;
    this.trigger = null;
    for (const pair of [...this.pairs]) this.close(pair);
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

module.exports = { TcpProxy };
