'use strict';
// Preloaded into every interop test process (NODE_OPTIONS=--require=.../guard.cjs):
// any TCP connection or DNS look-up for a host other than 127.0.0.1, ::1 or localhost
// throws at once, is printed loudly, and fails the process, so that a client that
// ignores its proxy setting fails the test instead of reaching Microsoft. The network
// namespace scripts/interop.sh runs the tests in is the second guard; this one also
// holds outside it and names the call that tried.
const net = require('node:net');
const dns = require('node:dns');

const loopback = new Set(['127.0.0.1', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']);
const violations = [];

function refuse(what) {
  const err = new Error(`graphhook interop guard: refused ${what}: the interop tests may reach only 127.0.0.1, ::1 and localhost`);
  err.code = 'EGRAPHHOOKGUARD';
  violations.push(err.message);
  process.stderr.write(`\n*** ${err.message}\n${err.stack.split('\n').slice(1, 12).join('\n')}\n`);
  return err;
}

// The host a Socket.prototype.connect call is for, from any of its argument forms:
// (options[, cb]), (port[, host][, cb]), (path[, cb]) and net's internal normalized array.
function target(args) {
  let a = args;
  if (Array.isArray(a[0])) a = a[0];
  const first = a[0];
  if (first !== null && typeof first === 'object') {
    if (first.path) return null; // a Unix socket
    return { host: first.host || 'localhost', port: first.port };
  }
  if (typeof first === 'string' && Number.isNaN(Number(first))) return null; // a Unix socket path
  return { host: typeof a[1] === 'string' ? a[1] : 'localhost', port: first };
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const t = target(args);
  if (t && !loopback.has(String(t.host).toLowerCase())) {
    throw refuse(`a connection to ${t.host}:${t.port}`);
  }
  return connect.apply(this, args);
};

function guardName(fn, name, promised) {
  return function guardedLookup(hostname, ...rest) {
    if (!loopback.has(String(hostname).toLowerCase())) {
      const err = refuse(`a DNS ${name} of ${hostname}`);
      if (promised) return Promise.reject(err);
      throw err;
    }
    return fn.call(this, hostname, ...rest);
  };
}
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCname', 'resolveSrv', 'resolveTxt']) {
  if (typeof dns[name] === 'function') dns[name] = guardName(dns[name], name, false);
  if (typeof dns.promises[name] === 'function') dns.promises[name] = guardName(dns.promises[name], name, true);
}

// A violation fails the process even when a library swallowed the error (MSAL, for
// one, carries on without instance discovery when it fails).
process.on('exit', (code) => {
  if (violations.length > 0) {
    process.stderr.write(`\n*** graphhook interop guard: ${violations.length} refused connection(s) or look-up(s) in this process:\n  ${violations.join('\n  ')}\n`);
    if (code === 0) process.exitCode = 1;
  }
});

// The tests read the violations (and take back the ones they provoked on purpose).
globalThis[Symbol.for('graphhook.interop.guard')] = {
  violations: () => violations.slice(),
  forgive(count) {
    violations.splice(violations.length - count, count);
  },
};
