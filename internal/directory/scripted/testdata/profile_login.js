// A login script that knows one user (no legacy database needed).
function login(email, password, callback) {
  if (email !== 'erin@example.com' || password !== 'erin-pw-1') {
    return callback(new WrongUsernameOrPasswordError(email));
  }
  callback(null, { user_id: '42', email: 'erin@example.com', username: 'erin' });
}
