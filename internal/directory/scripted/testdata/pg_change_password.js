// change_password in the form of Auth0's PostgreSQL template: store a new bcrypt hash and
// call back true when a row changed.
function changePassword(email, newPassword, callback) {
  var bcrypt = require('bcrypt');
  var pg = require('pg');

  pg.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
    bcrypt.hash(newPassword, 10, function (err, hashed) {
      if (err) {
        done();
        return callback(err);
      }
      client.query('UPDATE users SET password = $1 WHERE email = $2', [hashed, email], function (err, result) {
        done();
        if (err) return callback(err);
        callback(null, result.rowCount > 0);
      });
    });
  });
}
