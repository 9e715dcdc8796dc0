// A render worker in its own process that stops between writing the candidate and renaming it,
// so the test can SIGKILL it exactly there. Loaded with ts-register.js.
import { Pool } from 'pg';
import type { AppConfig } from '@app/config';
import { NginxControl, NginxRenderer } from '@app/nginx';
import { createRedis } from '@app/redis';

const config = JSON.parse(process.env.RENDER_CHILD_CONFIG!) as AppConfig;
const pool = new Pool({ connectionString: config.database.url, max: 1 });
const redis = createRedis(config.redis.url, 'render-child');
const renderer = new NginxRenderer(
  pool,
  redis,
  config.redis.prefix,
  config.nginx,
  process.env.RENDER_CHILD_DOMAIN!,
  new NginxControl(config.nginx),
  async (candidate) => {
    process.send!({ candidate });
    await new Promise(() => undefined); // wait here for the SIGKILL
  },
);
void renderer.render();
