// delete in the form of Auth0's PostgreSQL template: remove the row with the user's id.
function remove(id, callback) {
  var pg = require('pg');

  pg.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
    client.query('DELETE FROM users WHERE id = $1', [id], function (err) {
      done();
      return callback(err || null);
    });
  });
}
