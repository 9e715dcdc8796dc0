import { request as httpRequest } from 'node:http';

export interface Page {
  status: number;
  url: string;
  location?: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  /** The attributes as sent, to check Domain/HttpOnly/SameSite. */
  raw: string;
}

/**
 * A minimal browser for the sign-in tests: a cookie jar per exact host (host-only cookies, the
 * only kind the gateway sets; a cookie with a Domain attribute fails the test), path matching, and
 * one request at a time with redirects left to the caller. Every request goes to 127.0.0.1:
 * service hosts (`*.{domain}`) through the test's nginx, anything else to the port in the URL.
 */
export class Browser {
  readonly jar = new Map<string, StoredCookie[]>();

  constructor(private readonly o: { domain: string; nginxPort: number }) {}

  cookiesFor(host: string): StoredCookie[] {
    return this.jar.get(host) ?? [];
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.send('GET', url, undefined, headers);
  }

  async postForm(url: string, form: Record<string, string>): Promise<Page> {
    return this.send('POST', url, new URLSearchParams(form).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
  }

  /** Follows redirects (GET) until a non-redirect or a URL `stop` accepts; answers every page seen. */
  async follow(url: string, stop: (u: URL) => boolean = () => false, max = 10): Promise<Page[]> {
    const pages: Page[] = [];
    let next: string | undefined = url;
    while (next && pages.length < max) {
      const p = await this.get(next);
      pages.push(p);
      if (!p.location || p.status < 300 || p.status > 399) break;
      next = new URL(p.location, p.url).href;
      if (stop(new URL(next))) {
        pages.push({ status: 0, url: next, headers: {}, body: '' });
        break;
      }
    }
    return pages;
  }

  private send(method: string, url: string, body: string | undefined, headers: Record<string, string>): Promise<Page> {
    const u = new URL(url);
    const viaNginx = u.hostname.endsWith(`.${this.o.domain}`);
    const port = viaNginx ? this.o.nginxPort : Number(u.port);
    const path = u.pathname.replace(/\/+$/, '') === '' ? '/' + u.search : u.pathname + u.search;
    const cookie = this.cookiesFor(u.host.split(':')[0])
      .filter((c) => u.pathname === c.path || u.pathname.startsWith(c.path.endsWith('/') ? c.path : c.path + '/'))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent: false,
          headers: {
            host: u.host,
            connection: 'close',
            ...(cookie ? { cookie } : {}),
            ...(body ? { 'content-length': Buffer.byteLength(body) } : {}),
            ...headers,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            this.store(u, res.headers['set-cookie'] ?? []);
            const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
            resolve({ status: res.statusCode ?? 0, url, location, headers: res.headers, body: text });
          });
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private store(u: URL, setCookies: string[]): void {
    const host = u.hostname;
    for (const raw of setCookies) {
      const [pair, ...attrs] = raw.split(';').map((s) => s.trim());
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      const attr = (n: string) => attrs.find((a) => a.toLowerCase().startsWith(n.toLowerCase() + '='))?.split('=')[1];
      if (attr('domain') !== undefined) throw new Error(`cookie ${name} from ${host} has a Domain attribute: ${raw}`);
      const path = attr('path') ?? '/';
      const expired = attr('max-age') === '0' || /expires=Thu, 01 Jan 1970/i.test(raw);
      const rest = this.cookiesFor(host).filter((c) => !(c.name === name && c.path === path));
      this.jar.set(host, expired ? rest : [...rest, { name, value, path, raw }]);
    }
  }
}
