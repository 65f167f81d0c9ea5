// The login script of a custom-database connection backed by PostgreSQL, in the form of
// Auth0's "PostgreSQL" login template (auth0.com/docs, Custom Database Script Templates:
// Login): node-postgres's pg.connect(conString, function (err, client, done)), a
// parameterised client.query, bcrypt.compare against the stored hash, and
// WrongUsernameOrPasswordError. The connection string comes from `configuration`.
function login(email, password, callback) {
  var bcrypt = require('bcrypt@0.8.5');
  var pg = require('pg');

  pg.connect(configuration.PG_URL, function (err, client, done) {
    if (err) {
      return callback(err);
    }
    var sql = 'SELECT id, nickname, email, password FROM users WHERE email = $1';
    client.query(sql, [email], function (err, result) {
      done(); // hand the connection back to the pool
      if (err) {
        return callback(err);
      }
      if (result.rows.length === 0) {
        // No first argument: Auth0 logs an unknown user (fu), not a wrong password (fp).
        return callback(new WrongUsernameOrPasswordError());
      }
      var user = result.rows[0];
      bcrypt.compare(password, user.password, function (err, isValid) {
        if (err) {
          return callback(err);
        }
        if (!isValid) {
          return callback(new WrongUsernameOrPasswordError(email));
        }
        callback(null, {
          user_id: user.id,
          nickname: user.nickname,
          email: user.email
        });
      });
    });
  });
}
