'use strict';
// The Auth0 Node SDK's ManagementClient (npm "auth0"): CRUD on clients, resource servers,
// client grants, connections and users; user search and paging through the users the Go test
// imported; user blocks; logs; and the 403 a token lacking a scope gets. The client gets its
// own token with the client credentials grant for https://DOMAIN/api/v2/, as against Auth0.

const { ManagementClient } = require('auth0');
const { config, run } = require('./lib.cjs');

const cfg = config();
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
};
const pagingDomain = env('SESAME_PAGING_DOMAIN'); // the imported users' e-mail domain
const pagingCount = Number(env('SESAME_PAGING_COUNT'));

const mgmt = new ManagementClient({
  domain: cfg.domain,
  clientId: env('SESAME_MGMT_CLIENT_ID'),
  clientSecret: env('SESAME_MGMT_CLIENT_SECRET'),
});
// A client whose grant holds read:clients only.
const reader = new ManagementClient({
  domain: cfg.domain,
  clientId: env('SESAME_MGMT_RO_CLIENT_ID'),
  clientSecret: env('SESAME_MGMT_RO_CLIENT_SECRET'),
});

// collect walks every page of a list the SDK pages through (for await fetches the next page).
const collect = async (page) => {
  const items = [];
  for await (const item of page) items.push(item);
  return items;
};

// errorFacts keeps what a caller reads off the SDK's error: its class, status and the body.
const errorFacts = (e) => ({ name: e && e.constructor && e.constructor.name, statusCode: e && e.statusCode, body: e && e.body });

// expectError runs fn, which must throw, and reports the error's facts.
const expectError = async (fn) => {
  try {
    await fn();
  } catch (e) {
    return errorFacts(e);
  }
  throw new Error('the call succeeded, want an error');
};

const email = 'node.mgmt@example.com';
const steps = [
  ['clients/create', async (ctx) => {
    const c = await mgmt.clients.create({ name: 'Node Mgmt App', app_type: 'non_interactive', grant_types: ['client_credentials'] });
    ctx.clientId = c.client_id;
    return { has_id: !!c.client_id, has_secret: !!c.client_secret, name: c.name, app_type: c.app_type };
  }],
  ['clients/get', async (ctx) => {
    const c = await mgmt.clients.get(ctx.clientId);
    return { name: c.name, has_secret: !!c.client_secret };
  }],
  ['clients/update', async (ctx) => {
    const c = await mgmt.clients.update(ctx.clientId, { description: 'from node-auth0' });
    return { name: c.name, description: c.description };
  }],
  ['clients/rotate_secret', async (ctx) => {
    const c = await mgmt.clients.rotateSecret(ctx.clientId);
    return { has_secret: !!c.client_secret };
  }],
  ['clients/list_by_twos', async () => {
    const all = await collect(await mgmt.clients.list({ per_page: 2, include_totals: true }));
    const names = all.map((c) => c.name);
    return { count: all.length, distinct: new Set(all.map((c) => c.client_id)).size, has_node_app: names.includes('Node Mgmt App'), has_compat_app: names.includes('Compat App') };
  }],

  ['resource_servers/create', async (ctx) => {
    const rs = await mgmt.resourceServers.create({ name: 'Node Mgmt API', identifier: 'https://node-mgmt.compat.test/', scopes: [{ value: 'read:node' }] });
    ctx.rsId = rs.id;
    return { has_id: !!rs.id, identifier: rs.identifier, scopes: rs.scopes.map((s) => s.value) };
  }],
  ['resource_servers/get', async (ctx) => {
    const rs = await mgmt.resourceServers.get(ctx.rsId);
    return { name: rs.name };
  }],
  ['resource_servers/update', async (ctx) => {
    const rs = await mgmt.resourceServers.update(ctx.rsId, { token_lifetime: 900 });
    return { token_lifetime: rs.token_lifetime, name: rs.name };
  }],
  ['resource_servers/list', async () => {
    const all = await collect(await mgmt.resourceServers.list({ per_page: 3, include_totals: true }));
    return { has_node_api: all.some((rs) => rs.identifier === 'https://node-mgmt.compat.test/') };
  }],

  ['client_grants/create', async (ctx) => {
    const g = await mgmt.clientGrants.create({ client_id: ctx.clientId, audience: 'https://node-mgmt.compat.test/', scope: ['read:node'] });
    ctx.grantId = g.id;
    return { has_id: !!g.id, client_id_matches: g.client_id === ctx.clientId, scope: g.scope };
  }],
  ['client_grants/update', async (ctx) => {
    const g = await mgmt.clientGrants.update(ctx.grantId, { scope: [] });
    return { scope: g.scope };
  }],
  ['client_grants/list_checkpoint', async (ctx) => {
    // take (no page) is checkpoint paging: the SDK follows "next".
    const all = await collect(await mgmt.clientGrants.list({ take: 1 }));
    return { count: all.length, distinct: new Set(all.map((g) => g.id)).size, mine: all.filter((g) => g.id === ctx.grantId).length };
  }],
  ['client_grants/delete', async (ctx) => {
    await mgmt.clientGrants.delete(ctx.grantId);
    return {};
  }],

  ['connections/create', async (ctx) => {
    const c = await mgmt.connections.create({ name: 'node-mgmt-users', strategy: 'auth0', enabled_clients: [ctx.clientId] });
    ctx.connId = c.id;
    return { has_id: !!c.id, name: c.name, strategy: c.strategy };
  }],
  ['connections/list_by_name', async (ctx) => {
    const page = await mgmt.connections.list({ name: 'node-mgmt-users' });
    return { ids_match: page.data.length === 1 && page.data[0].id === ctx.connId };
  }],
  ['connections/get', async (ctx) => {
    const c = await mgmt.connections.get(ctx.connId);
    return { name: c.name, strategy: c.strategy };
  }],
  ['connections/update', async (ctx) => {
    const c = await mgmt.connections.update(ctx.connId, { options: { passwordPolicy: 'good' } });
    return { password_policy: c.options && c.options.passwordPolicy };
  }],
  ['connections/delete', async (ctx) => {
    await mgmt.connections.delete(ctx.connId);
    return {};
  }],

  ['users/create', async (ctx) => {
    const u = await mgmt.users.create({ connection: cfg.realm, email: 'Node.Mgmt@Example.com', password: cfg.password, user_metadata: { plan: 'gold', lang: 'en' } });
    ctx.userId = u.user_id;
    return { user_id: u.user_id, email: u.email };
  }],
  ['users/get', async (ctx) => {
    const u = await mgmt.users.get(ctx.userId);
    return { email: u.email };
  }],
  ['users/update_metadata', async (ctx) => {
    // Auth0 merges user_metadata one level deep; null removes a key.
    const u = await mgmt.users.update(ctx.userId, { user_metadata: { plan: null, team: 'a' } });
    return { user_metadata: u.user_metadata };
  }],
  ['users/by_email', async (ctx) => {
    const list = await mgmt.users.listUsersByEmail({ email: 'NODE.MGMT@example.com' });
    return { count: list.length, id_matches: list.length === 1 && list[0].user_id === ctx.userId };
  }],
  ['users/search', async (ctx) => {
    const page = await mgmt.users.list({ q: `email:"${email}"`, search_engine: 'v3' });
    return { count: page.data.length, id_matches: page.data.length === 1 && page.data[0].user_id === ctx.userId };
  }],
  ['user_blocks/by_identifier', async () => {
    const b = await mgmt.userBlocks.listByIdentifier({ identifier: email });
    return { blocked_for: b.blocked_for };
  }],
  ['user_blocks/by_id', async (ctx) => {
    const b = await mgmt.userBlocks.list(ctx.userId);
    return { blocked_for: b.blocked_for };
  }],
  ['user_blocks/unblock', async (ctx) => {
    await mgmt.userBlocks.deleteByIdentifier({ identifier: email });
    await mgmt.userBlocks.delete(ctx.userId);
    return {};
  }],
  ['users/delete', async (ctx) => {
    await mgmt.users.delete(ctx.userId);
    return {};
  }],
  ['users/get_deleted', async (ctx) => expectError(() => mgmt.users.get(ctx.userId))],

  ['users/paging', async () => {
    // Offset paging through every imported user, 100 a page, sorted by e-mail.
    const all = await collect(await mgmt.users.list({ q: `email:*@${pagingDomain}`, per_page: 100, sort: 'email:1', include_totals: true }));
    const emails = all.map((u) => u.email);
    const inOrder = emails.every((e, i) => e === `bulk${String(i).padStart(4, '0')}@${pagingDomain}`);
    return { count: all.length, in_order: inOrder, want: pagingCount };
  }],

  ['logs/list', async (ctx) => {
    // Every write above is a sapi event; the log writer batches them, so wait for it.
    for (let i = 0; i < 200; i++) {
      const page = await mgmt.logs.list({ q: 'type:sapi', per_page: 5, page: 0 });
      if (page.data.length > 0) {
        ctx.logId = page.data[0].log_id;
        return { type: page.data[0].type, has_id: !!page.data[0].log_id };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no sapi log event after 10 s');
  }],
  ['logs/get', async (ctx) => {
    const l = await mgmt.logs.get(ctx.logId);
    return { type: l.type, id_matches: l.log_id === ctx.logId };
  }],

  ['clients/delete', async (ctx) => {
    await mgmt.resourceServers.delete(ctx.rsId);
    await mgmt.clients.delete(ctx.clientId);
    return {};
  }],
  ['clients/get_deleted', async (ctx) => expectError(() => mgmt.clients.get(ctx.clientId))],

  ['scope/reader_lists_clients', async () => {
    const page = await reader.clients.list();
    return { count: page.data.length };
  }],
  ['scope/reader_creates_client', async () => expectError(() => reader.clients.create({ name: 'Not Allowed' }))],
];

run(steps);
