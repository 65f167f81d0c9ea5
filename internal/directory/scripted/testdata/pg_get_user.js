// The get_user script of the same connection, in the form of Auth0's PostgreSQL get_user
// template: look the user up by email without a password; callback(null) when there is none.
function getByEmail(email, callback) {
  var pg = require('pg');

  pg.connect(configuration.PG_URL, function (err, client, done) {
    if (err) {
      return callback(err);
    }
    client.query('SELECT id, nickname, email FROM users WHERE email = $1', [email], function (err, result) {
      done();
      if (err || result.rows.length === 0) {
        return callback(err || null);
      }
      var user = result.rows[0];
      callback(null, {
        user_id: user.id,
        nickname: user.nickname,
        email: user.email
      });
    });
  });
}
