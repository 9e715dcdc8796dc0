import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Onboarding, gateway pool and per-container VPN credentials (issue 5).
 *
 * onboarded_containers and gateway_nodes are inline projections: a trigger on `events` fills them
 * in the same transaction as the registration, token, deletion and pool events, and NOTIFYs
 * `container_tokens`, so a revoked token is revoked the moment its event commits (every gateway
 * process keeps the versions in memory; see libs/auth token-versions.ts).
 *
 * vpn_addresses is the allocation table: one row per (node, address), so the primary key is the
 * guard that no address is ever held twice; released rows keep the address in quarantine until
 * they are reused. vpn_ca holds the one CA (created once, never replaced); vpn_client_certs the
 * one client certificate per container and its revocation.
 */
export class OnboardingTables implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE onboarded_containers (
        container_id  uuid PRIMARY KEY,
        org_id        uuid NOT NULL,
        project_id    uuid NOT NULL,
        image_id      text NOT NULL,
        display_name  text NOT NULL,
        gateway_node  text NOT NULL,
        token_version integer NOT NULL DEFAULT 0,
        registered_at timestamptz NOT NULL,
        deleted_at    timestamptz
      )`);
    await q.query(`CREATE INDEX onboarded_containers_node_idx ON onboarded_containers (gateway_node) WHERE deleted_at IS NULL`);
    await q.query(`
      CREATE TABLE gateway_nodes (
        node_id       text PRIMARY KEY,
        fqdn          text NOT NULL,
        vpn_endpoint  text NOT NULL,
        capacity      integer NOT NULL CHECK (capacity > 0),
        registered_at timestamptz NOT NULL,
        drained_at    timestamptz
      )`);
    await q.query(`CREATE TABLE vpn_pool_locks (gateway_node text PRIMARY KEY)`);
    await q.query(`
      CREATE TABLE vpn_addresses (
        gateway_node text NOT NULL,
        host_index   integer NOT NULL CHECK (host_index >= 2),
        address      inet NOT NULL,
        container_id uuid NOT NULL,
        assigned_at  timestamptz NOT NULL DEFAULT now(),
        released_at  timestamptz,
        PRIMARY KEY (gateway_node, host_index),
        CONSTRAINT vpn_addresses_address_uq UNIQUE (gateway_node, address)
      )`);
    // One live address per container (its later calls get the same one).
    await q.query(`CREATE UNIQUE INDEX vpn_addresses_live_container_uq ON vpn_addresses (container_id) WHERE released_at IS NULL`);
    await q.query(`
      CREATE TABLE vpn_ca (
        id         smallint PRIMARY KEY CHECK (id = 1),
        cert_pem   text NOT NULL,
        key_pkcs8  text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE vpn_client_certs (
        container_id uuid PRIMARY KEY,
        serial       text NOT NULL UNIQUE,
        cert_pem     text NOT NULL,
        key_pkcs8    text NOT NULL,
        not_after    timestamptz NOT NULL,
        issued_at    timestamptz NOT NULL DEFAULT now(),
        revoked_at   timestamptz
      )`);
    // Each node's OpenVPN server certificate (CN = node FQDN, serverAuth), written by the worker.
    await q.query(`
      CREATE TABLE vpn_server_certs (
        gateway_node text PRIMARY KEY,
        fqdn         text NOT NULL,
        serial       text NOT NULL UNIQUE,
        cert_pem     text NOT NULL,
        key_pkcs8    text NOT NULL,
        not_after    timestamptz NOT NULL,
        issued_at    timestamptz NOT NULL DEFAULT now()
      )`);
    // Defensive on purpose: an event this function cannot read (a test's or a future producer's
    // data) is skipped, never allowed to fail the append that carries it (and its batch).
    await q.query(`
      CREATE FUNCTION onboarding_apply_event() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        uuid_re constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
        d jsonb := NEW.data;
        c uuid;
        v integer;
      BEGIN
        IF NEW.event_type LIKE 'user-container:%' THEN
          IF jsonb_typeof(d) <> 'object' OR coalesce(d->>'container_id', '') !~ uuid_re THEN RETURN NULL; END IF;
          c := (d->>'container_id')::uuid;
        END IF;
        IF NEW.event_type = 'user-container:registered' THEN
          IF coalesce(d->>'org_id', '') !~ uuid_re OR coalesce(d->>'project_id', '') !~ uuid_re
             OR d->>'gateway_node' IS NULL OR d->>'image_id' IS NULL OR d->>'display_name' IS NULL THEN
            RETURN NULL;
          END IF;
          INSERT INTO onboarded_containers (container_id, org_id, project_id, image_id, display_name, gateway_node, registered_at)
          VALUES (c, (d->>'org_id')::uuid, (d->>'project_id')::uuid, d->>'image_id', d->>'display_name', d->>'gateway_node', NEW.recorded_at)
          ON CONFLICT (container_id) DO NOTHING;
          PERFORM pg_notify('container_tokens', c::text || ':0:0');
        ELSIF NEW.event_type = 'user-container:token-issued' THEN
          IF coalesce(jsonb_typeof(d->'token_version'), '') <> 'number' OR coalesce(d->>'token_version', '') !~ '^[0-9]{1,9}$' THEN RETURN NULL; END IF;
          UPDATE onboarded_containers SET token_version = GREATEST(token_version, (d->>'token_version')::integer)
          WHERE container_id = c RETURNING token_version INTO v;
          IF FOUND THEN PERFORM pg_notify('container_tokens', c::text || ':' || v || ':0'); END IF;
        ELSIF NEW.event_type = 'user-container:deleted' THEN
          UPDATE onboarded_containers SET deleted_at = coalesce(deleted_at, NEW.recorded_at)
          WHERE container_id = c RETURNING token_version INTO v;
          UPDATE vpn_addresses SET released_at = now() WHERE container_id = c AND released_at IS NULL;
          UPDATE vpn_client_certs SET revoked_at = now() WHERE container_id = c AND revoked_at IS NULL;
          PERFORM pg_notify('container_tokens', c::text || ':' || coalesce(v, 0) || ':1');
        ELSIF NEW.event_type = 'gateway-node:registered' THEN
          IF jsonb_typeof(d) <> 'object' OR d->>'node_id' IS NULL OR d->>'fqdn' IS NULL OR d->>'vpn_endpoint' IS NULL
             OR coalesce(d->>'capacity', '') !~ '^[1-9][0-9]{0,8}$' THEN
            RETURN NULL;
          END IF;
          INSERT INTO gateway_nodes (node_id, fqdn, vpn_endpoint, capacity, registered_at)
          VALUES (d->>'node_id', d->>'fqdn', d->>'vpn_endpoint', (d->>'capacity')::integer, NEW.recorded_at)
          ON CONFLICT (node_id) DO NOTHING;
        ELSIF NEW.event_type = 'gateway-node:drained' THEN
          UPDATE gateway_nodes SET drained_at = coalesce(drained_at, NEW.recorded_at) WHERE node_id = d->>'node_id';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER events_onboarding AFTER INSERT ON events FOR EACH ROW
      WHEN (NEW.event_type IN ('user-container:registered', 'user-container:token-issued', 'user-container:deleted',
                               'gateway-node:registered', 'gateway-node:drained'))
      EXECUTE FUNCTION onboarding_apply_event()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER events_onboarding ON events`);
    await q.query(`DROP FUNCTION onboarding_apply_event()`);
    await q.query(
      `DROP TABLE vpn_server_certs, vpn_client_certs, vpn_ca, vpn_addresses, vpn_pool_locks, gateway_nodes, onboarded_containers`,
    );
  }
}
