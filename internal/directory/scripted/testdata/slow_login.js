// A login script whose query never finishes in time (pg_sleep): the deadline ends it and
// cancels the query.
function login(email, password, callback) {
  var pg = require('pg');
  pg.connect(configuration.PG_URL, function (err, client, done) {
    if (err) return callback(err);
    client.query('SELECT pg_sleep(30)', [], function (err) {
      done();
      callback(err || new Error('unreachable'));
    });
  });
}
