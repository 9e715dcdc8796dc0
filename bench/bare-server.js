#!/usr/bin/env node
// The ceiling for the ingest path: bare Fastify, the same JWT check as the gateway (the verified-
// token cache, then jsonwebtoken with the KeyObject chosen by kid, algorithm pinned), JSON parse and
// a 202 answer — no validation, no store. Same port convention as the gateway.
'use strict';
const fastify = require('fastify');
const { loadConfig } = require('../dist/libs/config/src');
const { tokenCheck } = require('./lib/token-check');

const config = loadConfig();
const check = tokenCheck(config);
const port = Number(process.env.BARE_PORT ?? 3100);
const app = fastify({ bodyLimit: 65536 });
app.post('/collab/event', (req, reply) => {
  try {
    const principal = check(req.headers.authorization);
    reply.code(202).send({ status: 'accepted', sub: principal.subject });
  } catch {
    reply.code(401).send({ status: 'unauthenticated' });
  }
});
app.get('/health/live', (_req, reply) => reply.send({ status: 'ok' }));
app.listen({ host: '127.0.0.1', port }).then(() => console.log(`bare endpoint on http://127.0.0.1:${port}`));
