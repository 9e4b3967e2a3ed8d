// The fault-injecting TCP proxy (tcp_proxy.js) as a process of its own:
// `node tcp_proxy_child.js TARGET_PORT` forwards a loopback port to
// TARGET_PORT and prints `port N` once it listens. Signals are the faults a
// test (or a drill's kill command) can inject from outside: SIGSTOP freezes
// it (bytes sent to it sit in its kernel buffers, acknowledged at the TCP
// level but never delivered), SIGKILL loses whatever it held.
'use strict';

const { TcpProxy } = require('./tcp_proxy');

const proxy = new TcpProxy({ targetPort: Number(process.argv[2]) });
proxy.start().then((port) => process.stdout.write(`port ${port}\n`));
