#!/usr/bin/env node
// The ceiling for the ingest path: bare Fastify, the same JWT check as the gateway (the verified-
// token cache, then jsonwebtoken with the KeyObject chosen by kid, algorithm pinned), JSON parse and
// a 202 answer — no validation, no store. Same port convention as the gateway.
'use strict';
const fastify = require('fastify');
const jwt = require('jsonwebtoken');
const { loadConfig } = require('../dist/libs/config/src');
const { tokenKeysFor, headerOf, principalFromClaims, VerifiedTokenCache } = require('../dist/libs/auth/src');

const config = loadConfig();
const keys = tokenKeysFor(config);
const cache = new VerifiedTokenCache();
const port = Number(process.env.BARE_PORT ?? 3100);
const app = fastify({ bodyLimit: 65536 });
app.post('/collab/event', (req, reply) => {
  const h = req.headers.authorization ?? '';
  const token = h.startsWith('Bearer ') ? h.slice(7) : h;
  try {
    let principal = cache.get(token);
    if (!principal) {
      const { kid, alg } = headerOf(token);
      const found = keys.lookup(kid, alg);
      if (!found.key) throw new Error(found.reason);
      const payload = jwt.verify(token, found.key.key, {
        algorithms: keys.algorithms,
        issuer: config.jwt.issuer,
        audience: config.jwt.audience,
      });
      principal = principalFromClaims(payload);
      cache.set(token, principal);
    }
    reply.code(202).send({ status: 'accepted', sub: principal.subject });
  } catch {
    reply.code(401).send({ status: 'unauthenticated' });
  }
});
app.get('/health/live', (_req, reply) => reply.send({ status: 'ok' }));
app.listen({ host: '127.0.0.1', port }).then(() => console.log(`bare endpoint on http://127.0.0.1:${port}`));
