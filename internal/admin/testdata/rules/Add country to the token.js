function addCountryToTheToken(user, context, callback) {
  const country = context.request.geoip && context.request.geoip.country_name;
  if (country) {
    context.idToken['https://example.com/country'] = country;
  }
  callback(null, user, context);
}
