// A login script in the style of node-postgres 8 and async/await (what scripts written for
// Auth0's Node 18 runtime look like): Client with promises, bcryptjs's promise API.
async function login(email, password, callback) {
  const { Client } = require('pg@8.7.1');
  const bcrypt = require('bcryptjs');
  const client = new Client({ connectionString: configuration.PG_URL });
  try {
    await client.connect();
    const { rows } = await client.query({ text: 'SELECT id, nickname, email, password FROM users WHERE email = $1', values: [email] });
    if (rows.length === 0) return callback(new WrongUsernameOrPasswordError());
    const ok = await bcrypt.compare(password, rows[0].password);
    if (!ok) return callback(new WrongUsernameOrPasswordError(email));
    return callback(null, { user_id: 'pg8-' + rows[0].id, email: rows[0].email, nickname: rows[0].nickname,
      metadata: { plan: 'legacy' }, user_metadata: { lang: 'fr' }, email_verified: true });
  } catch (err) {
    return callback(err);
  } finally {
    await client.end();
  }
}
