/**
 * Tenant isolation on a gateway node: what nftables must hold, as text nft reads (`nft -f -`) and
 * as the rule lines `nft list table` prints back, so the supervisor can check the live ruleset.
 * From the tunnel a container reaches the gateway's VPN address on port 80 and its ping, and
 * nothing else: nothing is forwarded to or from the tunnel (container to container, or beyond),
 * and any other local port is dropped. Replies to connections the node opened (nginx to a
 * container's service) pass as established.
 */
export const NFT_TABLE = 'collab_vpn';
export const NFT_FAMILY = 'inet';

export interface IsolationParts {
  device: string;
  gatewayAddress: string;
}

const DEVICE_RE = /^[a-z][a-z0-9]{0,14}$/;
const IPV4_RE = /^(\d{1,3}\.){3}\d{1,3}$/;

export function expectedChains(p: IsolationParts): Record<'input' | 'forward', string[]> {
  if (!DEVICE_RE.test(p.device) || !IPV4_RE.test(p.gatewayAddress)) throw new Error('nft: bad device or address');
  const dev = `iifname "${p.device}"`;
  return {
    input: [
      `${dev} ct state established,related accept`,
      `${dev} ip daddr ${p.gatewayAddress} tcp dport 80 accept`,
      `${dev} ip daddr ${p.gatewayAddress} icmp type echo-request accept`,
      `${dev} drop`,
    ],
    forward: [`${dev} drop`, `oifname "${p.device}" drop`],
  };
}

/** The whole table, replaced atomically (one nft transaction: create, delete, define). */
export function renderRuleset(p: IsolationParts): string {
  const c = expectedChains(p);
  const chain = (name: string, rules: string[]) =>
    [`  chain ${name} {`, `    type filter hook ${name} priority filter; policy accept;`, ...rules.map((r) => `    ${r}`), '  }'].join(
      '\n',
    );
  return [
    `table ${NFT_FAMILY} ${NFT_TABLE}`,
    `delete table ${NFT_FAMILY} ${NFT_TABLE}`,
    `table ${NFT_FAMILY} ${NFT_TABLE} {`,
    chain('input', c.input),
    chain('forward', c.forward),
    '}',
    '',
  ].join('\n');
}

/**
 * What is missing from the live table (`nft list table inet collab_vpn` output), one line per
 * problem; empty when every expected rule is there, in order, in its hooked chain.
 */
export function rulesetProblems(listing: string, p: IsolationParts): string[] {
  const expected = expectedChains(p);
  const problems: string[] = [];
  const chains = new Map<string, { hooked: boolean; rules: string[] }>();
  let current: { hooked: boolean; rules: string[] } | undefined;
  for (const raw of listing.split('\n')) {
    const line = raw.trim();
    const open = /^chain (\S+) \{$/.exec(line);
    if (open) {
      current = { hooked: false, rules: [] };
      chains.set(open[1], current);
    } else if (line === '}') current = undefined;
    else if (current && line.startsWith('type filter hook ')) current.hooked = true;
    else if (current && line) current.rules.push(line.replace(/\s+#.*$/, ''));
  }
  for (const [name, rules] of Object.entries(expected)) {
    const live = chains.get(name);
    if (!live) {
      problems.push(`chain ${NFT_TABLE}/${name} is missing`);
      continue;
    }
    if (!live.hooked) problems.push(`chain ${NFT_TABLE}/${name} is not hooked`);
    const got = live.rules.filter((r) => rules.includes(r));
    if (got.join('\n') !== rules.join('\n')) {
      const missing = rules.filter((r) => !live.rules.includes(r));
      problems.push(
        missing.length ? `chain ${NFT_TABLE}/${name} lacks: ${missing.join('; ')}` : `chain ${NFT_TABLE}/${name}: rules out of order`,
      );
    }
    const extra = live.rules.filter((r) => !rules.includes(r));
    if (extra.length) problems.push(`chain ${NFT_TABLE}/${name} has unexpected rules: ${extra.join('; ')}`);
  }
  return problems;
}
