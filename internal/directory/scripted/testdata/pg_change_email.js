// change_email: move the user's row to the new address; true when a row changed.
function changeEmail(email, newEmail, verified, callback) {
  var pg = require('pg');

  pg.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
    client.query('UPDATE users SET email = $1 WHERE email = $2', [newEmail, email], function (err, result) {
      done();
      if (err) return callback(err);
      callback(null, result.rowCount > 0);
    });
  });
}
