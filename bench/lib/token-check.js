// The gateway's token check, for the bench's ceiling servers (bare-server.js, durable-server.js):
// the verified-token cache, then jsonwebtoken with the KeyObject chosen by kid, algorithm pinned.
'use strict';
const jwt = require('jsonwebtoken');
const { tokenKeysFor, headerOf, principalFromClaims, VerifiedTokenCache } = require('../../dist/libs/auth/src');

/** `(authorization header) => principal`; throws when the token is refused. */
function tokenCheck(config) {
  const keys = tokenKeysFor(config);
  const cache = new VerifiedTokenCache();
  return (header = '') => {
    const token = header.startsWith('Bearer ') ? header.slice(7) : header;
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
    return principal;
  };
}

module.exports = { tokenCheck };
