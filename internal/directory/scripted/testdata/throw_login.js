// A login script whose legacy database is unreachable: it throws.
function login(email, password, callback) {
  throw new Error('legacy database is down: connect ECONNREFUSED 10.0.0.7:5432');
}
