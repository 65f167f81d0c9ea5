// A login script in the form of Auth0's "Request with Basic Auth" login template: the user's
// own credentials go to a profile endpoint of the legacy system as HTTP Basic auth; a 401 is
// callback() (wrong credentials, logged as an unknown user), a 200 carries the profile as
// JSON. The URL comes from `configuration`.
function login(email, password, callback) {
  var request = require('request');
  var options = {
    url: configuration.PROFILE_URL,
    auth: { username: email, password: password }
  };
  request.get(options, function (err, response, body) {
    if (err) {
      return callback(err);
    }
    if (response.statusCode === 401) {
      return callback();
    }
    var profile = JSON.parse(body);
    return callback(null, {
      user_id: profile.user_id.toString(),
      nickname: profile.nickname,
      email: profile.email
    });
  });
}
