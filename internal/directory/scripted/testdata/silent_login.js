// A login script that never calls back.
function login(email, password, callback) {
  var bcrypt = require('bcrypt');
  bcrypt.hashSync(password, 4);
}
