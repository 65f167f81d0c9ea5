// A login script that refuses an account for its state, as Auth0's templates do with
// UnauthorizedError (e.g. a user the legacy system has suspended).
function login(email, password, callback) {
  callback(new UnauthorizedError('Your account is suspended. Call the help desk.'));
}
