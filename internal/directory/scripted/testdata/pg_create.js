// The create script of the PostgreSQL-backed test connection, in the form of Auth0's
// PostgreSQL create template: bcrypt the password, insert the row; a duplicate is
// ValidationError('user_exists').
function create(user, callback) {
  var bcrypt = require('bcrypt');
  var pg = require('pg');

  pg.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
    bcrypt.hash(user.password, 10, function (err, hashed) {
      if (err) {
        done();
        return callback(err);
      }
      var sql = 'INSERT INTO users (nickname, email, password) VALUES ($1, $2, $3)';
      client.query(sql, [user.email.split('@')[0], user.email, hashed], function (err) {
        done();
        if (err && /duplicate key/.test(err.message)) {
          return callback(new ValidationError('user_exists', 'the user already exists'));
        }
        callback(err || null);
      });
    });
  });
}
